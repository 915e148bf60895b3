package cluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mosc-dev/mosc/internal/lazyre"
	"github.com/mosc-dev/mosc/internal/profile"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
var disabledRE = lazyre.New(`(?m)^\s*enabled\s*=\s*(0|false|no)\s*$`)

// Why this file (issue 10, finding 8, apply side): the MCO mounts ConfigMap
// etc-yum-repos-d at /etc/yum.repos.d and Secret etc-pki-rpm-gpg at
// /etc/pki/rpm-gpg into the build of every MachineOSConfig whenever they
// exist in its namespace (openshift/machine-config-operator, release-4.18 …
// release-4.22, pkg/controller/build/buildrequest/buildrequestopts.go:
// getOptionalConfigMap/getOptionalSecret by those fixed names;
// buildrequest.go mounts them when HasEtcYumReposDConfigs /
// HasEtcPkiRpmGpgKeys; envvolumemount.go names the mount points). They are
// one per cluster, shared by every layered pool. So apply says what its
// inputs do to the other pools' builds, and refuses to change or drop a
// repo file or key another MachineOSConfig's build uses.

// OverwriteSharedFlag lets apply change shared build inputs other pools use.
const OverwriteSharedFlag = "--overwrite-shared-inputs"

// SharedInput is a build input the MCO mounts into every pool's build.
type SharedInput struct {
	Kind, Name, Mount string
}

// SharedInputs are the names the MCO looks for (pkg/controller/build/constants).
var SharedInputs = []SharedInput{
	{Kind: "ConfigMap", Name: "etc-yum-repos-d", Mount: "/etc/yum.repos.d"},
	{Kind: "Secret", Name: "etc-pki-rpm-gpg", Mount: "/etc/pki/rpm-gpg"},
}

// SharedInputsCheck is what checkSharedInputs found.
type SharedInputsCheck struct {
	Warnings []string
	// Refuse, when set, is the whole error: nothing is written.
	Refuse string
}

// otherMOSC is another MachineOSConfig on the cluster.
type otherMOSC struct {
	Name, Pool string
	// spec is its spec as JSON, searched for the repo ids it enables.
	spec string
}

// checkSharedInputs compares the shared inputs in the plan with the live
// ones, for the MachineOSConfigs other than the plan's.
func (a *Applier) checkSharedInputs(ctx context.Context, p *Prepared, overwrite bool) (SharedInputsCheck, error) {
	var out SharedInputsCheck
	var mine *preparedObject
	for i := range p.objects {
		if p.objects[i].obj.GetKind() == "MachineOSConfig" {
			mine = &p.objects[i]
		}
	}
	if mine == nil {
		return out, nil
	}
	list, err := a.c.Dynamic.Resource(mine.gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsForbidden(err) {
			out.Warnings = append(out.Warnings, fmt.Sprintf("cannot list machineosconfigs (%v): not checked whether other pools share the build inputs", err))
			return out, nil
		}
		return out, fmt.Errorf("listing machineosconfigs: %w", err)
	}
	var others []otherMOSC
	for _, m := range list.Items {
		if m.GetName() == mine.obj.GetName() || m.GetDeletionTimestamp() != nil {
			continue
		}
		pool, _, _ := unstructured.NestedString(m.Object, "spec", "machineConfigPool", "name")
		spec, _ := json.Marshal(m.Object["spec"])
		others = append(others, otherMOSC{Name: m.GetName(), Pool: pool, spec: string(spec)})
	}
	sort.Slice(others, func(i, j int) bool { return others[i].Name < others[j].Name })
	for _, o := range others {
		if o.Pool == p.Plan.Pool {
			out.Refuse = fmt.Sprintf("machineosconfig %s already targets pool %s: the MCO builds a pool only when exactly one MachineOSConfig names it "+
				"(machine-config-operator pkg/controller/build/utils/lookups.go GetMachineOSConfigForMachineConfigPoolStrict), so neither would build; "+
				"delete machineosconfig %s first (mosc never deletes what it did not create)", o.Name, o.Pool, o.Name)
			return out, nil
		}
	}
	if len(others) == 0 {
		return out, nil
	}
	names := make([]string, len(others))
	for i, o := range others {
		names[i] = fmt.Sprintf("%s (pool %s)", o.Name, o.Pool)
	}
	who := "machineosconfig " + strings.Join(names, ", ")
	liveRepos := map[string][]byte{}
	var refuse []string
	for _, in := range SharedInputs {
		var want *preparedObject
		for i := range p.objects {
			o := p.objects[i].obj
			if o.GetKind() == in.Kind && o.GetName() == in.Name && o.GetNamespace() == profile.MCONamespace {
				want = &p.objects[i]
			}
		}
		if want == nil && in.Kind != "ConfigMap" {
			continue // only the repo files are read for what they refer to
		}
		live, err := a.resource(gvrFor(in.Kind), profile.MCONamespace).Get(ctx, in.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsForbidden(err):
			out.Warnings = append(out.Warnings, fmt.Sprintf("cannot read %s/%s (%v): not checked whether other pools' builds use it", strings.ToLower(in.Kind), in.Name, err))
			continue
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			return out, fmt.Errorf("%s/%s: %w", strings.ToLower(in.Kind), in.Name, err)
		}
		liveData := dataOf(live)
		if in.Kind == "ConfigMap" {
			liveRepos = liveData
		}
		if want == nil {
			continue
		}
		wantData := dataOf(want.obj)
		if live == nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s also exists: the MCO mounts %s/%s at %s in the build of every MachineOSConfig, "+
				"so creating it puts mosc's %s there in their next builds too, in place of what their images have at %s%s",
				who, strings.ToLower(in.Kind), in.Name, in.Mount, keyList(wantData), in.Mount, sharedNote(in)))
			continue
		}
		var changed []string
		for k, v := range liveData {
			w, ok := wantData[k]
			if ok && bytes.Equal(w, v) {
				continue
			}
			if !ok && !ownedBy(live, k, FieldManager) {
				continue // someone else's key: apply leaves it alone
			}
			users := usersOf(in, k, v, liveRepos, others)
			if len(users) == 0 {
				continue
			}
			what := "changes"
			if !ok {
				what = "drops"
			}
			changed = append(changed, fmt.Sprintf("%s %s %s, which the build of %s uses", what, in.Name, k, strings.Join(users, ", ")))
		}
		sort.Strings(changed)
		if len(changed) > 0 {
			refuse = append(refuse, changed...)
		}
		var added []string
		for k := range wantData {
			if _, ok := liveData[k]; !ok {
				added = append(added, k)
			}
		}
		if len(added) > 0 {
			sort.Strings(added)
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s also exists: %s/%s is mounted at %s in their builds too, and gains %s%s",
				who, strings.ToLower(in.Kind), in.Name, in.Mount, strings.Join(added, ", "), sharedNote(in)))
		}
	}
	if len(refuse) == 0 {
		if len(out.Warnings) == 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s also exists: the MCO mounts configmap/etc-yum-repos-d and secret/etc-pki-rpm-gpg into every pool's build; this apply leaves the repo files and keys they use as they are", who))
		}
		return out, nil
	}
	msg := fmt.Sprintf("apply %s: the MCO mounts these inputs into every pool's build, so the next build of those pools would use mosc's version instead", strings.Join(refuse, "; "))
	if overwrite {
		out.Warnings = append(out.Warnings, msg+" ("+OverwriteSharedFlag+")")
		return out, nil
	}
	out.Refuse = msg + "; re-run with " + OverwriteSharedFlag + " if that is what you want, or give those pools the same inputs first"
	return out, nil
}

func sharedNote(in SharedInput) string {
	if in.Kind == "ConfigMap" {
		return " (mosc's repos are enabled=0 and only mosc's own dnf commands enable them, but the image's own repo files are hidden while the build runs)"
	}
	return " (the image's own keys, RHEL's included, are hidden while the build runs)"
}

func gvrFor(kind string) schema.GroupVersionResource {
	if kind == "Secret" {
		return secretGVR
	}
	return configMapGVR
}

func keyList(m map[string][]byte) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// dataOf returns the object's data (Secrets base64-decoded, stringData and
// binaryData folded in).
func dataOf(u *unstructured.Unstructured) map[string][]byte {
	out := map[string][]byte{}
	if u == nil {
		return out
	}
	secret := u.GetKind() == "Secret"
	for _, field := range []string{"data", "binaryData", "stringData"} {
		m, _, _ := unstructured.NestedMap(u.Object, field)
		for k, v := range m {
			s, _ := v.(string)
			if (secret && field == "data") || field == "binaryData" {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					out[k] = b
					continue
				}
			}
			out[k] = []byte(s)
		}
	}
	return out
}

// ownedBy reports whether manager set data key k (managedFields).
func ownedBy(u *unstructured.Unstructured, k, manager string) bool {
	for _, mf := range u.GetManagedFields() {
		if mf.Manager != manager || mf.FieldsV1 == nil {
			continue
		}
		if bytes.Contains(mf.FieldsV1.Raw, []byte(`"f:`+k+`"`)) {
			return true
		}
	}
	return false
}

var sectionRE = lazyre.New(`(?m)^\s*\[([^\]]+)\]\s*$`)

// repoIDs lists the repo ids of a .repo file and whether any is enabled
// (dnf's default is enabled=1 when the line is absent).
func repoIDs(content []byte) ([]string, bool) {
	var ids []string
	enabled := false
	locs := sectionRE.FindAllSubmatchIndex(content, -1)
	for i, l := range locs {
		ids = append(ids, string(content[l[2]:l[3]]))
		end := len(content)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := string(content[l[1]:end])
		if !disabledRE.MatchString(body) {
			enabled = true
		}
	}
	return ids, enabled
}

// usersOf names the other MachineOSConfigs whose build uses key k of a
// shared input: a repo file whose repos are enabled (every dnf call reads
// them) or whose ids the other's Containerfile names; a gpg key a used repo
// file refers to.
func usersOf(in SharedInput, k string, v []byte, repos map[string][]byte, others []otherMOSC) []string {
	uses := func(o otherMOSC, file []byte) bool {
		ids, enabled := repoIDs(file)
		if enabled {
			return true
		}
		for _, id := range ids {
			if regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(id) + `($|[^A-Za-z0-9_.-])`).MatchString(o.spec) {
				return true
			}
		}
		return false
	}
	var users []string
	for _, o := range others {
		used := false
		if in.Kind == "ConfigMap" {
			used = uses(o, v)
		} else {
			for _, file := range repos {
				if bytes.Contains(file, []byte(in.Mount+"/"+k)) && uses(o, file) {
					used = true
				}
			}
		}
		if used {
			users = append(users, o.Name)
		}
	}
	return users
}
