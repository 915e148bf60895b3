package watch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/yaml"

	"github.com/mosc-dev/mosc/internal/kube"
	"github.com/mosc-dev/mosc/internal/lazyre"
)

// What the MCO creates for a build, per MachineOSBuild M
// (openshift/machine-config-operator, release-4.18 … release-4.22,
// pkg/controller/build/utils/helpers.go and buildrequest/buildrequest.go):
// the Job build-M (backoffLimit 3: up to four pods, each an attempt, named
// build-M-xxxxx and labelled job-name=build-M by the Job controller; the Job's
// pod template has no labels of its own), ConfigMaps containerfile-M, mc-M
// (the rendered MachineConfig, gzipped and base64-encoded under
// machineconfig.json.gz), additionaltrustbundle-M, etc-policy-M,
// etc-registries-M and, after a successful build, digest-M, all labelled
// machineconfiguration.openshift.io/machine-os-build=M; and Secrets base-M and
// final-M (the canonicalized pull and push secrets), which mosc never reads.
// A failed build's objects stay "in place for inspection"
// (reconciler.go updateMachineOSBuild) until the MachineOSBuild is deleted —
// by a rebuild, a new spec or the MachineOSConfig's removal — and the
// cleaner (imagebuilder/cleaner.go) and the Job's foreground deletion take
// the pods, and with them their logs.
const (
	LabelMachineOSBuild = "machineconfiguration.openshift.io/machine-os-build"
	mcConfigMapKey      = "machineconfig.json.gz"
)

// BuildConfigMapNames are the ConfigMaps the MCO creates for build M.
func BuildConfigMapNames(mosb string) []string {
	return []string{"containerfile-" + mosb, "mc-" + mosb, "additionaltrustbundle-" + mosb,
		"etc-policy-" + mosb, "etc-registries-" + mosb, "digest-" + mosb}
}

// BuildJobName is the MCO's Job for build M.
func BuildJobName(mosb string) string { return "build-" + mosb }

// DefaultFailureDir is where mosc watch saves a failed build's evidence.
func DefaultFailureDir(mosb string) string { return "mosc-failure-" + mosb }

// Evidence is what SaveFailure wrote.
type Evidence struct {
	Dir      string   `json:"dir"`
	Files    []string `json:"files"`
	Attempts int      `json:"attempts"`
	// Missing says what could not be read (forbidden, already deleted).
	Missing []string `json:"missing,omitempty"`
	Cause   Cause    `json:"cause"`
}

// buildPods are the attempts of build M, oldest first.
func buildPods(ctx context.Context, kube kube.Interface, mosb, podHint string) ([]corev1.Pod, error) {
	list, err := kube.CoreV1().Pods(MCONamespace).List(ctx, metav1.ListOptions{LabelSelector: LabelJobName + "=" + BuildJobName(mosb)})
	if err != nil {
		return nil, err
	}
	pods := list.Items
	if len(pods) == 0 && podHint != "" {
		// v1alpha1 (4.16, 4.17): a bare pod, no Job.
		if p, err := kube.CoreV1().Pods(MCONamespace).Get(ctx, podHint, metav1.GetOptions{}); err == nil {
			pods = append(pods, *p)
		}
	}
	sort.Slice(pods, func(i, j int) bool {
		ti, tj := pods[i].CreationTimestamp, pods[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return pods[i].Name < pods[j].Name
	})
	return pods, nil
}

// buildContainers of a pod, in the order they run.
func buildContainers(p *corev1.Pod) []string {
	var out []string
	for _, c := range p.Spec.InitContainers {
		out = append(out, c.Name)
	}
	for _, c := range p.Spec.Containers {
		out = append(out, c.Name)
	}
	if len(out) == 0 { // a slimmed pod
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			out = append(out, cs.Name)
		}
	}
	return out
}

func containerStarted(p *corev1.Pod, name string) bool {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if cs.Name == name {
			return cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil
		}
	}
	return false
}

func terminations(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if t := cs.State.Terminated; t != nil && t.ExitCode != 0 && t.Message != "" {
				out = append(out, t.Message)
			}
		}
	}
	return out
}

// maxLogBytes bounds one container log read: a buildah --log-level=DEBUG
// build of the full stack logs a few MB.
const maxLogBytes = 32 << 20

func readLog(ctx context.Context, kube kube.Interface, pod, container string) (string, error) {
	limit := int64(maxLogBytes)
	raw, err := kube.CoreV1().Pods(MCONamespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, LimitBytes: &limit}).DoRaw(ctx)
	return string(raw), err
}

// ClassifyBuild reads what a failed build left on the cluster (the last
// attempt's build log, else the pods' termination messages) and classifies it.
func ClassifyBuild(ctx context.Context, kube kube.Interface, b BuildStatus, pool string) Cause {
	in := ClassifyInput{State: b.State, Message: b.Message, Pool: pool}
	pods, err := buildPods(ctx, kube, b.MOSB, b.Pod)
	if err == nil {
		in.Terminations = terminations(pods)
		for i := len(pods) - 1; i >= 0; i-- {
			if log, err := readLog(ctx, kube, pods[i].Name, BuildContainer); err == nil && log != "" {
				in.Log = strings.Split(Scrub(log), "\n")
				break
			}
		}
	}
	return Classify(in)
}

// SaveFailure writes what the MCO keeps of a failed or interrupted build,
// before it is deleted, to dir: the MachineOSBuild and MachineOSConfig, the
// full log of every container of every attempt, the build's ConfigMaps (the
// Containerfile and the rendered MachineConfig, decoded), the Job's and pods'
// statuses and their events, and the classified cause. It never reads a
// Secret; the MachineConfig's secret files (the pull secret in
// /var/lib/kubelet/config.json, keys, tokens) and anything in a log that
// looks like a credential are redacted. What cannot be read is listed in
// README.txt and Evidence.Missing; an error is returned only when nothing
// could be written.
func SaveFailure(ctx context.Context, kube kube.Interface, mc kube.MachineConfigInterface, dir string, b BuildStatus, mosc, pool string) (*Evidence, error) {
	api := mc.MachineconfigurationV1()
	mosbObj, mosbErr := api.MachineOSBuilds().Get(ctx, b.MOSB, metav1.GetOptions{})
	uid := ""
	if mosbErr == nil {
		uid = string(mosbObj.UID)
	}
	dir, err := prepareDir(dir, b.MOSB, uid)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{Dir: dir}
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			ev.Missing = append(ev.Missing, name+": "+err.Error())
			return
		}
		// 0600: nothing secret is meant to be here, but a log may hold
		// what no pattern knows.
		if err := os.WriteFile(p, data, 0o600); err != nil {
			ev.Missing = append(ev.Missing, name+": "+err.Error())
			return
		}
		ev.Files = append(ev.Files, name)
	}
	missing := func(what string, err error) {
		ev.Missing = append(ev.Missing, fmt.Sprintf("%s: %v", what, err))
	}
	// README.txt first: it marks the directory as this build's.
	write("README.txt", []byte(readmeHead(b.MOSB, uid)+"(being written)\n"))

	if mosbErr == nil {
		m := mosbObj
		m.ManagedFields = nil
		m.APIVersion, m.Kind = "machineconfiguration.openshift.io/v1", "MachineOSBuild"
		write("machineosbuild.yaml", toYAML(m))
	} else {
		missing("machineosbuild/"+b.MOSB, mosbErr)
	}
	if m, err := api.MachineOSConfigs().Get(ctx, mosc, metav1.GetOptions{}); err == nil {
		m.ManagedFields = nil
		m.APIVersion, m.Kind = "machineconfiguration.openshift.io/v1", "MachineOSConfig"
		write("machineosconfig.yaml", toYAML(m))
	} else {
		missing("machineosconfig/"+mosc, err)
	}

	// ConfigMaps: by label, and by name for releases that label otherwise.
	cms := map[string]corev1.ConfigMap{}
	if list, err := kube.CoreV1().ConfigMaps(MCONamespace).List(ctx, metav1.ListOptions{LabelSelector: LabelMachineOSBuild + "=" + b.MOSB}); err == nil {
		for _, cm := range list.Items {
			cms[cm.Name] = cm
		}
	} else {
		missing("configmaps labelled "+LabelMachineOSBuild+"="+b.MOSB, err)
	}
	for _, n := range BuildConfigMapNames(b.MOSB)[:2] { // the two every build has
		if _, ok := cms[n]; ok {
			continue
		}
		if cm, err := kube.CoreV1().ConfigMaps(MCONamespace).Get(ctx, n, metav1.GetOptions{}); err == nil {
			cms[n] = *cm
		} else {
			missing("configmap/"+n, err)
		}
	}
	names := make([]string, 0, len(cms))
	for n := range cms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cm := cms[n]
		cm.ManagedFields = nil
		cm.APIVersion, cm.Kind = "v1", "ConfigMap"
		if n == "containerfile-"+b.MOSB {
			write("Containerfile", []byte(Scrub(cm.Data["Containerfile"])))
		}
		if raw, ok := cm.Data[mcConfigMapKey]; ok {
			decoded, err := decodeMachineConfig(raw)
			if err != nil {
				missing("configmap/"+n+" "+mcConfigMapKey, err)
			} else {
				write("machineconfig.json", decoded)
			}
			cm.Data = map[string]string{mcConfigMapKey: "(not saved: it holds the cluster pull secret; see machineconfig.json, decoded with secrets redacted)"}
		}
		for k, v := range cm.Data {
			cm.Data[k] = Scrub(v)
		}
		write(filepath.Join("configmaps", n+".yaml"), toYAML(&cm))
	}

	job, err := kube.BatchV1().Jobs(MCONamespace).Get(ctx, BuildJobName(b.MOSB), metav1.GetOptions{})
	if err == nil {
		write("job.yaml", toYAML(statusOnlyJob(job)))
	} else if !apierrors.IsNotFound(err) || b.Job != "" {
		missing("job/"+BuildJobName(b.MOSB), err)
	}
	pods, err := buildPods(ctx, kube, b.MOSB, b.Pod)
	if err != nil {
		missing("build pods", err)
	}
	ev.Attempts = len(pods)
	var lastLog []string
	for i, p := range pods {
		write(filepath.Join("pods", p.Name+".yaml"), toYAML(statusOnlyPod(&p)))
		for _, c := range buildContainers(&p) {
			if !containerStarted(&p, c) {
				continue // an init container failed: it never ran, so has no log
			}
			log, err := readLog(ctx, kube, p.Name, c)
			if err != nil {
				missing(fmt.Sprintf("log of pod %s container %s", p.Name, c), err)
				continue
			}
			log = Scrub(log)
			write(filepath.Join("logs", fmt.Sprintf("attempt-%d-%s-%s.log", i+1, p.Name, c)), []byte(log))
			if c == BuildContainer && log != "" {
				lastLog = strings.Split(log, "\n")
			}
		}
	}
	if len(pods) == 0 {
		ev.Missing = append(ev.Missing, "build pods: none left (the MCO deletes them with the MachineOSBuild)")
	}

	// Events: the Job's and pods' in the MCO namespace, the MOSB's (cluster
	// scoped, so recorded in default) anywhere.
	var events []corev1.Event
	objs := []string{BuildJobName(b.MOSB)}
	for _, p := range pods {
		objs = append(objs, p.Name)
	}
	for _, o := range objs {
		list, err := kube.CoreV1().Events(MCONamespace).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", o).String()})
		if err != nil {
			missing("events of "+o, err)
			continue
		}
		events = append(events, list.Items...)
	}
	if list, err := kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: fields.SelectorFromSet(fields.Set{
		"involvedObject.kind": "MachineOSBuild", "involvedObject.name": b.MOSB}).String()}); err == nil {
		events = append(events, list.Items...)
	} else {
		missing("events of machineosbuild/"+b.MOSB, err)
	}
	write("events.txt", []byte(formatEvents(events)))

	ev.Cause = Classify(ClassifyInput{State: b.State, Message: b.Message, Log: lastLog, Terminations: terminations(pods), Pool: pool})
	cj, _ := json.MarshalIndent(ev.Cause, "", "  ")
	write("cause.json", append(cj, '\n'))
	ev.Files = slices.DeleteFunc(ev.Files, func(f string) bool { return f == "README.txt" })
	write("README.txt", []byte(readme(b, uid, ev)))
	if len(ev.Files) == 0 {
		return ev, fmt.Errorf("could not save anything to %s: %s", dir, strings.Join(ev.Missing, "; "))
	}
	return ev, nil
}

const readmeMarker = "mosc failed-build evidence for MachineOSBuild "

func readmeHead(mosb, uid string) string {
	return fmt.Sprintf("%s%s (uid %s)\n", readmeMarker, mosb, uid)
}

// prepareDir returns where to write: dir when it is new, empty, or holds
// mosc's evidence of this very MachineOSBuild (same uid: a second watch of
// the same failure); otherwise dir-2, dir-3 … — a rebuild reuses the
// MachineOSBuild's name, and nothing the user had, nor an earlier build's
// evidence, is overwritten.
func prepareDir(dir, mosb, uid string) (string, error) {
	for n := 1; n < 100; n++ {
		d := dir
		if n > 1 {
			d = fmt.Sprintf("%s-%d", strings.TrimRight(dir, "/"), n)
		}
		entries, err := os.ReadDir(d)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return d, os.MkdirAll(d, 0o700)
		case err != nil:
			return "", fmt.Errorf("--save-failure %s: %w", d, err)
		case len(entries) == 0:
			return d, nil
		}
		b, err := os.ReadFile(filepath.Join(d, "README.txt"))
		if err == nil && uid != "" && strings.HasPrefix(string(b), readmeHead(mosb, uid)) {
			return d, nil
		}
	}
	return "", fmt.Errorf("--save-failure %s: it and %s-2 … -99 all exist", dir, dir)
}

func readme(b BuildStatus, uid string, ev *Evidence) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s\n", readmeHead(b.MOSB, uid))
	fmt.Fprintf(&s, "state:   %s\n", b.State)
	if b.Message != "" {
		fmt.Fprintf(&s, "message: %s\n", b.Message)
	}
	fmt.Fprintf(&s, "cause:   %s: %s\n", ev.Cause.ID, ev.Cause.Summary)
	fmt.Fprintf(&s, "remedy:  %s\n", ev.Cause.Remedy)
	for _, e := range ev.Cause.Evidence {
		fmt.Fprintf(&s, "  | %s\n", e)
	}
	fmt.Fprintf(&s, "attempts: %d build pod(s)\n\nfiles (no Secret was read; credentials in the MachineConfig and logs are redacted):\n", ev.Attempts)
	for _, f := range ev.Files {
		fmt.Fprintf(&s, "  %s\n", f)
	}
	if len(ev.Missing) > 0 {
		s.WriteString("\nnot saved:\n")
		for _, m := range ev.Missing {
			fmt.Fprintf(&s, "  %s\n", m)
		}
	}
	return s.String()
}

func toYAML(obj any) []byte {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return []byte("# " + err.Error() + "\n")
	}
	return b
}

// statusOnlyJob keeps a Job's metadata and status (its pod template only
// repeats the MCO's build script and volume names).
func statusOnlyJob(j *batchv1.Job) *batchv1.Job {
	out := &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: j.ObjectMeta, Status: j.Status}
	out.ManagedFields = nil
	out.Spec.BackoffLimit = j.Spec.BackoffLimit
	return out
}

func statusOnlyPod(p *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: p.ObjectMeta, Status: *p.Status.DeepCopy()}
	out.ManagedFields = nil
	out.Spec.NodeName = p.Spec.NodeName
	for _, l := range [][]corev1.ContainerStatus{out.Status.InitContainerStatuses, out.Status.ContainerStatuses} {
		for i := range l {
			if t := l[i].State.Terminated; t != nil {
				t.Message = Scrub(t.Message)
			}
			if t := l[i].LastTerminationState.Terminated; t != nil {
				t.Message = Scrub(t.Message)
			}
		}
	}
	return out
}

func formatEvents(evs []corev1.Event) string {
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTYPE\tREASON\tOBJECT\tCOUNT\tMESSAGE")
	for _, e := range evs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%d\t%s\n", eventTime(e).UTC().Format(time.RFC3339), e.Type, e.Reason,
			strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, max(e.Count, 1), Scrub(e.Message))
	}
	_ = tw.Flush()
	if len(evs) == 0 {
		b.WriteString("(no events: the API server keeps them for an hour by default)\n")
	}
	return b.String()
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// Scrub redacts what looks like a credential in text that mosc saves or
// shows: auth fields of registry configs, bearer/basic headers, user:password
// in URLs, JWTs (service-account tokens), and key=value secrets.
func Scrub(s string) string {
	for _, r := range scrubbers {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

var scrubbers = []struct {
	re   *lazyre.Regexp
	with string
}{
	{lazyre.New(`("(?:auth|password|identitytoken|registrytoken|token)"\s*:\s*")[^"]*(")`), "${1}<redacted>${2}"},
	{lazyre.New(`(?i)(authorization:\s*(?:bearer|basic)\s+)\S+`), "${1}<redacted>"},
	{lazyre.New(`(?i)(://)[^/\s:@"]+:[^/\s@"]+@`), "${1}<redacted>@"},
	{lazyre.New(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+`), "<redacted-token>"},
	{lazyre.New(`(?i)((?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s"',;]+`), "${1}<redacted>"},
	{lazyre.New(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`), "<redacted private key>"},
}

// secretFile says whether an ignition file of the rendered MachineConfig
// carries credentials: the cluster pull secret, kubeconfigs, keys, tokens.
var secretFile = lazyre.New(`(?i)(/var/lib/kubelet/config\.json|auth\.json|\.dockercfg|dockerconfigjson|kubeconfig|\.key$|\.pem$|token|secret|password|/etc/pki/entitlement|/etc/rhsm|credentials)`)

// decodeMachineConfig turns the mc-M ConfigMap's machineconfig.json.gz
// (base64 of gzip of the MachineConfig's JSON; buildrequest.go
// machineconfigToConfigMap) into indented JSON with every secret file's
// contents replaced by a note.
func decodeMachineConfig(raw string) ([]byte, error) {
	gz, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	js, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	var mc map[string]any
	if err := json.Unmarshal(js, &mc); err != nil {
		return nil, fmt.Errorf("MachineConfig JSON: %w", err)
	}
	delete(dig(mc, "metadata"), "managedFields")
	files, _ := dig(dig(dig(mc, "spec"), "config"), "storage")["files"].([]any)
	for _, f := range files {
		fm, ok := f.(map[string]any)
		if !ok {
			continue
		}
		path, _ := fm["path"].(string)
		contents := dig(fm, "contents")
		src, _ := contents["source"].(string)
		if src == "" {
			continue
		}
		data, derr := decodeDataURL(src, contents["compression"])
		switch {
		case derr != nil:
			contents["source"] = fmt.Sprintf("(redacted: %d bytes mosc could not decode: %v)", len(src), derr)
		case secretFile.MatchString(path) || looksSecret(data):
			contents["source"] = fmt.Sprintf("(redacted: %d bytes; secret file)", len(data))
		}
	}
	return json.MarshalIndent(mc, "", "  ")
}

func dig(m map[string]any, k string) map[string]any {
	if m == nil {
		return nil
	}
	v, _ := m[k].(map[string]any)
	return v
}

var secretContent = lazyre.New(`"auths"\s*:|PRIVATE KEY-----|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.|(?i)password\s*[=:]`)

func looksSecret(b []byte) bool { return secretContent.Match(b) }

// decodeDataURL reads an ignition data: URL (RFC 2397), gunzipping when the
// file says compression: gzip. Other URLs (http, s3) hold no inline data.
func decodeDataURL(src string, compression any) ([]byte, error) {
	if !strings.HasPrefix(src, "data:") {
		return nil, nil
	}
	head, payload, ok := strings.Cut(src[len("data:"):], ",")
	if !ok {
		return nil, errors.New("data URL without a comma")
	}
	var data []byte
	if strings.HasSuffix(head, ";base64") {
		d, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, err
		}
		data = d
	} else {
		d, err := url.PathUnescape(payload)
		if err != nil {
			return nil, err
		}
		data = []byte(d)
	}
	if c, _ := compression.(string); c == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(io.LimitReader(zr, 16<<20))
	}
	return data, nil
}
