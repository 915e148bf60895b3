package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/layers"
	"github.com/mosc-dev/mosc/templates"
	imageregistryv1 "github.com/openshift/api/imageregistry/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsjson "sigs.k8s.io/json"
)

var update = flag.Bool("update", false, "rewrite golden files")

func mustRender(t testing.TB, p *profile.Plan) *Result {
	t.Helper()
	r, err := Render(p, Options{})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}

func yamlOf(t testing.TB, b *bundle.Bundle) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.WriteYAML(&buf, b, "test"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs from golden (-want +got; -update rewrites):\n%s", path, d)
	}
}

func TestWalkthroughFixtureGolden(t *testing.T) {
	r := mustRender(t, walkthroughPlan())
	checkGolden(t, "fixture-walkthrough.yaml", yamlOf(t, r.Bundle))
	var names []string
	for _, o := range r.Bundle.Objects {
		names = append(names, o.FileName)
	}
	want := []string{
		"10-persistentvolumeclaim-registry-claim.yaml",
		"11-config-cluster.yaml",
		"20-configmap-etc-yum-repos-d.yaml",
		"41-machineconfig-99-mosc-master-doca-init.yaml",
		"42-machineconfig-99-mosc-master-extensions.yaml",
		"50-machineosconfig-master.yaml",
	}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("bundle order (-want +got):\n%s", d)
	}
}

// Every variation of the fixture that switches on an optional object.
func fullPlan() *profile.Plan {
	p := walkthroughPlan()
	p.Pool, p.MOSC.Name = "worker", "worker"
	p.Secrets.Mode = profile.SecretsPlaceholder
	p.Node.HWOffload = true
	p.Node.OtherConfig = map[string]string{"max-idle": "10000", "hw-offload-ct-size": "0"}
	p.Node.Hugepages = &profile.Hugepages{DefaultSize: "1G", Size: "1G", Count: 16}
	p.GPGKeys = []profile.GPGKey{{FileName: "GPG-KEY-Mellanox.pub", Armored: testKey()}}
	installLayer(p).Params = map[string]any{"extra": []any{"tcpdump", "mstflint"}}
	return p
}

func TestFullFixtureGolden(t *testing.T) {
	r := mustRender(t, fullPlan())
	checkGolden(t, "fixture-full.yaml", yamlOf(t, r.Bundle))
	if len(r.Warnings) != 0 {
		t.Errorf("worker pool with gpgcheck on: unexpected warnings %v", r.Warnings)
	}
	var secrets, modes []string
	for _, o := range r.Bundle.Objects {
		if o.Secret {
			secrets = append(secrets, o.FileName)
			modes = append(modes, bundle.FileMode(o).String())
		}
	}
	if d := cmp.Diff([]string{"30-secret-push-secret.yaml", "31-secret-pull-and-push-secret.yaml"}, secrets); d != "" {
		t.Errorf("placeholder secrets (-want +got):\n%s", d)
	}
	for _, m := range modes {
		if m != "-rw-------" {
			t.Errorf("placeholder secret mode %s, want 0600", m)
		}
	}
}

func TestV1alpha1Golden(t *testing.T) {
	p := walkthroughPlan()
	p.OpenShift.Version, p.OpenShift.RHEL, p.OpenShift.KernelFamily = "4.17", "9.4", "5.14.0-427"
	p.OpenShift.MOSCAPIVersion, p.OpenShift.ImageBuilderType = "machineconfiguration.openshift.io/v1alpha1", "PodImageBuilder"
	p.OpenShift.LintCommand, p.OpenShift.OCLSupport = "ostree container commit", "TechPreviewNoUpgrade"
	p.MOSC.APIVersion, p.MOSC.ImageBuilderType = p.OpenShift.MOSCAPIVersion, "PodImageBuilder"
	p.MOSC.PushSpec = "quay.example.com/org/os-image:latest" // the 4.17 CEL rule rejects a port
	r := mustRender(t, p)
	checkGolden(t, "fixture-v1alpha1.yaml", yamlOf(t, r.Bundle))
	mosc := r.Bundle.Objects[len(r.Bundle.Objects)-1]
	var typed bundle.MachineOSConfigV1alpha1
	j, _ := mosc.Content.MarshalJSON()
	if errs, err := sigsjson.UnmarshalStrict(j, &typed, sigsjson.DisallowUnknownFields); err != nil || len(errs) > 0 {
		t.Fatalf("strict decode: %v %v", err, errs)
	}
	bi := typed.Spec.BuildInputs
	if bi.RenderedImagePushspec != p.MOSC.PushSpec || bi.BaseImagePullSecret.Name != "pull-and-push-secret" ||
		bi.ImageBuilder == nil || bi.ImageBuilder.ImageBuilderType != "PodImageBuilder" ||
		len(bi.Containerfile) != 1 || bi.Containerfile[0].ContainerfileArch != "noarch" ||
		typed.Spec.BuildOutputs.CurrentImagePullSecret.Name != "pull-and-push-secret" {
		t.Errorf("v1alpha1 fields wrong: %+v", typed.Spec)
	}
	if !strings.HasSuffix(strings.TrimSpace(bi.Containerfile[0].Content), "ostree container commit") {
		t.Errorf("4.17 must end with ostree container commit:\n%s", bi.Containerfile[0].Content)
	}
}

func TestDeterministic(t *testing.T) {
	for name, mk := range map[string]func() *profile.Plan{"walkthrough": walkthroughPlan, "full": fullPlan} {
		a, b := mustRender(t, mk()), mustRender(t, mk())
		if !bytes.Equal(yamlOf(t, a.Bundle), yamlOf(t, b.Bundle)) {
			t.Errorf("%s: YAML differs between two renders", name)
		}
		var ja, jb bytes.Buffer
		if err := bundle.WriteJSON(&ja, a.Bundle); err != nil {
			t.Fatal(err)
		}
		if err := bundle.WriteJSON(&jb, b.Bundle); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
			t.Errorf("%s: JSON differs between two renders", name)
		}
	}
}

// Every rendered object decodes strictly into its real Go type, and the
// fields the cluster acts on carry the plan's values.
func TestObjectsDecodeIntoRealTypes(t *testing.T) {
	p := fullPlan()
	r := mustRender(t, p)
	for _, o := range r.Bundle.Objects {
		j, err := o.Content.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		strict := func(v any) {
			t.Helper()
			if errs, err := sigsjson.UnmarshalStrict(j, v, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields); err != nil || len(errs) > 0 {
				t.Fatalf("%s: %v %v", o.FileName, err, errs)
			}
		}
		labels := o.Content.GetLabels()
		switch o.Content.GetKind() {
		case "ConfigMap":
			var cm corev1.ConfigMap
			strict(&cm)
			if cm.Namespace != profile.MCONamespace || !strings.Contains(cm.Data["doca.repo"], "gpgcheck=1\ngpgkey=https://linux.mellanox.com/public/repo/doca/GPG-KEY-Mellanox.pub") {
				t.Errorf("ConfigMap: %+v", cm)
			}
		case "Secret":
			var s corev1.Secret
			strict(&s)
			if s.Name == "etc-pki-rpm-gpg" {
				if !strings.Contains(string(s.Data["GPG-KEY-Mellanox.pub"]), "BEGIN PGP PUBLIC KEY BLOCK") || o.Secret {
					t.Errorf("gpg secret: %+v secret=%v", s, o.Secret)
				}
				break
			}
			if s.Type != corev1.SecretTypeDockerConfigJson || string(s.Data[corev1.DockerConfigJsonKey]) != `{"auths":{}}` || s.Annotations[AnnotationPlaceholder] == "" {
				t.Errorf("placeholder secret: %+v", s)
			}
		case "PersistentVolumeClaim":
			var pvc corev1.PersistentVolumeClaim
			strict(&pvc)
			if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "100Gi" || *pvc.Spec.StorageClassName != "lvms-vg1" {
				t.Errorf("PVC: %+v", pvc.Spec)
			}
		case "Config":
			var c imageregistryv1.Config
			strict(&c)
			if c.Spec.Storage.PVC.Claim != "registry-claim" || c.Spec.Replicas != 1 || !c.Spec.DefaultRoute || o.Mode != bundle.ModeMergePatch || len(labels) != 0 {
				t.Errorf("registry Config: %+v mode %s labels %v", c.Spec, o.Mode, labels)
			}
			continue
		case "MachineConfig":
			var mc mcfgv1.MachineConfig
			strict(&mc)
			if mc.Labels[LabelMCPRole] != "worker" {
				t.Errorf("%s: role label %q", mc.Name, mc.Labels[LabelMCPRole])
			}
			if strings.HasSuffix(mc.Name, "hugepages") {
				if d := cmp.Diff([]string{"default_hugepagesz=1G", "hugepagesz=1G", "hugepages=16"}, mc.Spec.KernelArguments); d != "" {
					t.Errorf("kernel args: %s", d)
				}
			} else if strings.HasSuffix(mc.Name, "extensions") {
				// MCO's kernel-devel extension, not CentOS kernel headers.
				if d := cmp.Diff([]string{"kernel-devel"}, mc.Spec.Extensions); d != "" || len(mc.Spec.Config.Raw) != 0 {
					t.Errorf("extensions: %s (config %s)", d, mc.Spec.Config.Raw)
				}
			} else {
				var ign bundle.Ignition
				if errs, err := sigsjson.UnmarshalStrict(mc.Spec.Config.Raw, &ign, sigsjson.DisallowUnknownFields); err != nil || len(errs) > 0 {
					t.Fatalf("ignition: %v %v", err, errs)
				}
				unit := ign.Systemd.Units[0].Contents
				if !strings.Contains(unit, "ExecStart=/usr/bin/ovs-vsctl --no-wait set Open_vSwitch . other_config:doca-init=true other_config:hw-offload=true other_config:hw-offload-ct-size=0 other_config:max-idle=10000\n") ||
					!strings.Contains(unit, "Before=ovs-vswitchd.service") || !strings.Contains(unit, "After=ovsdb-server.service") {
					t.Errorf("doca-init unit:\n%s", unit)
				}
			}
		case "MachineOSConfig":
			var m mcfgv1.MachineOSConfig
			strict(&m)
			if m.Name != "worker" || m.Spec.MachineConfigPool.Name != "worker" || m.Spec.ImageBuilder.ImageBuilderType != mcfgv1.JobBuilder ||
				string(m.Spec.RenderedImagePushSpec) != p.MOSC.PushSpec || m.Spec.RenderedImagePushSecret.Name != "push-secret" ||
				m.Spec.BaseImagePullSecret.Name != "pull-and-push-secret" || len(m.Spec.Containerfile) != 1 ||
				m.Spec.Containerfile[0].ContainerfileArch != mcfgv1.NoArch || m.Spec.Containerfile[0].Content != r.Containerfile {
				t.Errorf("MOSC: %+v", m.Spec)
			}
		default:
			t.Errorf("unexpected kind %s", o.Content.GetKind())
		}
		if labels[profile.LabelManagedBy] != "mosc" || labels[profile.LabelSite] != "default" {
			t.Errorf("%s: mosc labels missing: %v", o.FileName, labels)
		}
	}
}

func TestContainerfileShape(t *testing.T) {
	r := mustRender(t, walkthroughPlan())
	cf := r.Containerfile
	for _, want := range []string{
		"FROM configs AS final\n" + BuildInputsPrefix,
		"\nRUN set -eux; \\\n",
		"rpm -qa --qf '%{NAME} ' 'openvswitch[0-9]*'", // glob, not openvswitch3.5
		"rpm-ostree override replace libibverbs rdma-core --experimental --from repo=doca",
		"dnf install -y --setopt=install_weak_deps=False --enablerepo=doca,baseos,appstream,crb doca-all",
		// bzip2-devel is not in RHCOS: installed; the rest upgraded only if present.
		"openssl-devel bzip2-devel; \\\n",
		"up=$(rpm -qa --qf '%{NAME} ' unbound-libs unbound bzip2-libs); [ -z \"$up\" ] || dnf upgrade -y --enablerepo=doca,baseos,appstream,crb $up",
		// rpm-ostree has no --enablerepo: the doca section is on for that command only.
		"sed -i '/^\\[doca\\]$/,/^enabled=/s/^enabled=0$/enabled=1/' /etc/yum.repos.d/doca.repo; \\\n  rpm-ostree override replace libibverbs rdma-core --experimental --from repo=doca; \\\n  sed -i '/^\\[doca\\]$/,/^enabled=/s/^enabled=1$/enabled=0/' /etc/yum.repos.d/doca.repo",
		"mkdir -p /var/opt",
		`mv "$d" /usr/lib/opt/; echo "L /opt/$n - - - - ../../usr/lib/opt/$n" >>/usr/lib/tmpfiles.d/mosc-opt.conf`,
		"sed -i 's#^/opt/#/usr/lib/opt/#'",
		"ldd /usr/sbin/ovs-vswitchd >/tmp/mosc-ldd; ! grep 'not found' /tmp/mosc-ldd || exit 1",
		"rm -rf /etc/yum.repos.d/*",
		"; \\\n  bootc container lint\n",
	} {
		if !strings.Contains(cf, want) {
			t.Errorf("Containerfile lacks %q:\n%s", want, cf)
		}
	}
	// Every dnf command enables mosc's repos itself (the files are enabled=0);
	// kernel headers come from the kernel-devel extension, never CentOS.
	for _, line := range strings.Split(cf, "\n") {
		if strings.Contains(line, "dnf install -y --setopt") || strings.Contains(line, "dnf upgrade") {
			if !strings.Contains(line, "--enablerepo=") {
				t.Errorf("dnf command without --enablerepo: %s", line)
			}
		}
		if strings.Contains(line, "kernel-devel") || strings.Contains(line, "kernel-headers") {
			t.Errorf("Containerfile installs kernel packages: %s", line)
		}
	}
	if i, j := strings.Index(cf, "doca-all"), strings.Index(cf, "/usr/lib/opt"); i < 0 || j < i {
		t.Errorf("/opt relocation must follow the install:\n%s", cf)
	}
	if strings.Contains(cf, "openvswitch3.5") || strings.Contains(cf, "/Packages/") {
		t.Errorf("Containerfile names a stock package or a pinned RPM URL:\n%s", cf)
	}
	if errs := CheckContainerfile(cf); len(errs) > 0 {
		t.Errorf("own Containerfile fails its checks: %v", errs)
	}
	sum := len(ContainerfileFrom+"\n") + len(BuildInputsLine(walkthroughPlan())+"\n") + len(runPrefix) - len(cmdJoin) + 1
	for _, l := range r.Layers {
		sum += l.Chars()
	}
	if sum != len([]rune(cf)) {
		t.Errorf("layer breakdown sums to %d, Containerfile is %d", sum, len(cf))
	}
}

func TestFuncMapIsPure(t *testing.T) {
	fm := baseFuncs()
	for _, name := range []string{"env", "expandenv", "now", "date", "dateInZone", "dateModify", "ago", "randAlphaNum",
		"randInt", "uuidv4", "genPrivateKey", "genCA", "htpasswd", "derivePassword", "getHostByName", "shuffle", "bcrypt", "toDate", "unixEpoch"} {
		if _, ok := fm[name]; ok {
			t.Errorf("impure function %q is available to templates", name)
		}
	}
	for _, name := range []string{"toJson", "b64enc", "join", "list", "concat", "default", "shargs", "opt", "required", "include"} {
		if _, ok := fm[name]; !ok && name != "include" {
			t.Errorf("function %q missing", name)
		}
	}
}

func TestShargs(t *testing.T) {
	got, err := shargs("a", []string{"b-1.2", "x y"}, []any{"openvswitch[0-9]*", "it's"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `a b-1.2 'x y' 'openvswitch[0-9]*' 'it'\''s'`; got != want {
		t.Errorf("shargs = %s, want %s", got, want)
	}
	if _, err := shargs(3); err == nil {
		t.Error("shargs(3): want error")
	}
	if _, err := shargs(""); err == nil {
		t.Error(`shargs(""): want error`)
	}
}

func TestPushSpecRulesMatchCRD(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openshift/api").Output()
	if err != nil {
		t.Skipf("go list openshift/api: %v", err)
	}
	crd, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "machineconfiguration/v1/zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{profile.PushSpecRule, pushSpecSvc.String()} {
		cel := "self.matches('" + strings.ReplaceAll(re, `\`, `\\`) + "')"
		if !bytes.Contains(crd, []byte(cel)) {
			t.Errorf("CRD no longer contains %s: copy the new rule into validate.go", cel)
		}
	}
	for _, want := range []string{"maxLength: 447", "maxLength: 4096", "rule: self.metadata.name == self.spec.machineConfigPool.name"} {
		if !bytes.Contains(crd, []byte(want)) {
			t.Errorf("CRD no longer contains %q", want)
		}
	}
}

func TestPushSpec(t *testing.T) {
	v1, v1a := "machineconfiguration.openshift.io/v1", "machineconfiguration.openshift.io/v1alpha1"
	for _, tc := range []struct {
		api, spec, want string // want "" = valid
	}{
		{v1, "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest", ""},
		{v1, "quay.io/org/os-image:4.20", ""},
		{v1, "registry.example.com:8443/a/b/c/os:v1", ""},
		{v1, "quay.io/org/os-image", "no tag"},
		{v1, "quay.io/org/os-image@sha256:" + strings.Repeat("a", 64), "not a digest"},
		{v1, "localhost/os:latest", "does not match the CRD rule"},
		{v1, "quay.io/org/os image:latest", "does not match"},
		{v1, "", "1 to 447"},
		{v1, "quay.io/" + strings.Repeat("a", 440) + ":t", "1 to 447"},
		{v1a, "quay.io/org/os-image:latest", ""},
		{v1a, "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest", ""},
		{v1a, "registry.example.com:8443/org/os:latest", "v1alpha1 CRD rules"},
	} {
		got := PushSpecError(tc.api, tc.spec)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("PushSpecError(%s, %q) = %q, want %q", tc.api, tc.spec, got, tc.want)
		}
	}
}

func TestCheckContainerfile(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"ok", "FROM configs AS final\nRUN true\n", ""},
		{"ok lowercase as, comments", "# c\n\nFROM configs as final\nRUN a \\\n  FROM-not-an-instruction\n", ""},
		{"missing FROM", "RUN true\n", `must start with "FROM configs AS final"`},
		{"wrong stage", "FROM configs AS build\nRUN true\n", "must start with"},
		{"later stage", "FROM configs AS final\nRUN true\nFROM quay.io/x AS other\n", "starts a later stage"},
		{"empty", "", "is empty"},
		{"too long", "FROM configs AS final\nRUN " + strings.Repeat("x", 4100) + "\n", "over the 4096 limit"},
	} {
		errs := CheckContainerfile(tc.content)
		got := strings.Join(errs, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Each validation error, raised from a plan, with where it points.
func TestValidationErrors(t *testing.T) {
	locate := func(s string) string { return "--" + s }
	for _, tc := range []struct {
		name   string
		mutate func(p *profile.Plan)
		want   string
	}{
		{"push spec without tag", func(p *profile.Plan) { p.MOSC.PushSpec = "quay.io/org/os-image" },
			"--push-spec: MachineOSConfig/master: spec.renderedImagePushSpec: \"quay.io/org/os-image\" has no tag"},
		{"push spec pattern", func(p *profile.Plan) { p.MOSC.PushSpec = "localhost:5000/os:latest" },
			"--push-spec: MachineOSConfig/master: spec.renderedImagePushSpec: \"localhost:5000/os:latest\" does not match the CRD rule"},
		{"push spec too long", func(p *profile.Plan) { p.MOSC.PushSpec = "quay.io/" + strings.Repeat("a", 450) + ":t" },
			"must be 1 to 447 characters, got 460"},
		{"mosc name != pool", func(p *profile.Plan) { p.MOSC.Name = "worker" },
			`--pool: MOSC.Name: MachineOSConfig name "worker" must equal the pool "master"`},
		{"bad pool name", func(p *profile.Plan) { p.Pool, p.MOSC.Name = "Worker_1", "Worker_1" },
			"--pool: MachineOSConfig/Worker_1: spec.machineConfigPool.name: pool \"Worker_1\": a lowercase RFC 1123 subdomain"},
		{"no pool", func(p *profile.Plan) { p.Pool, p.MOSC.Name = "", "" }, "--pool: pool: no pool"},
		{"containerfile too long", func(p *profile.Plan) {
			installLayer(p).Params = map[string]any{"extra": strings.Fields(strings.Repeat("some-long-package-name-for-testing ", 120))}
		}, "--stack: Containerfile: the Containerfile is 5792 characters, 1696 over the MachineOSConfig limit of 4096; largest layers: install (4301), opt-relocate (413), build-deps (319)"},
		{"unknown layer", func(p *profile.Plan) { p.Layers[0].Name = "epl" },
			`--stack: layers[0] (epl): unknown layer "epl"; known: build-deps, cleanup, doca-rdma, epel, install, lint, opt-relocate, swap-openvswitch, var-opt`},
		{"lint in plan layers", func(p *profile.Plan) { p.Layers = append(p.Layers, profile.LayerInvocation{Name: "lint"}) },
			`layer "lint" is appended by the renderer`},
		{"missing required param", func(p *profile.Plan) { p.Layers[2].Params = map[string]any{"upgrade": []any{"x"}} },
			`--stack: layers[2] (build-deps): layers/build-deps.tmpl: required parameter "packages" missing`},
		{"unknown param", func(p *profile.Plan) { p.Layers[0].Params = map[string]any{"url": "x"} },
			"--stack: layers[0] (epel): layers/epel.tmpl: unknown parameter(s) url; known: none"},
		{"bad param type", func(p *profile.Plan) { p.Layers[2].Params["packages"] = 7 },
			"layers/build-deps.tmpl:8:51: error calling shargs: shargs: int is not a string or a list of strings (at <shargs (.EnableRepoFlag false) .Params.packages>)"},
		{"no stock OVS glob", func(p *profile.Plan) { p.OpenShift.StockOVSGlob = "" },
			"layers/swap-openvswitch.tmpl:4:41: error calling required: release has no stock OVS glob"},
		{"no lint command", func(p *profile.Plan) { p.OpenShift.LintCommand = "" },
			"--stack: lint: layers/lint.tmpl:3:3: error calling required: release has no lint command"},
		{"no packages", func(p *profile.Plan) { p.Stacks[0].Packages = nil }, "no stack packages to install"},
		{"unknown MOSC API", func(p *profile.Plan) { p.MOSC.APIVersion = "machineconfiguration.openshift.io/v2" },
			`--openshift: MOSC.APIVersion: unsupported MachineOSConfig API version "machineconfiguration.openshift.io/v2"`},
		{"builder mismatch", func(p *profile.Plan) { p.MOSC.ImageBuilderType = "PodImageBuilder" },
			`--openshift: MOSC.ImageBuilderType: image builder "PodImageBuilder" does not go with machineconfiguration.openshift.io/v1`},
		{"registry size", func(p *profile.Plan) { p.Registry.Size = "lots" },
			`--registry-size: Registry.Size: registry size "lots" is not a positive quantity`},
		{"storage class", func(p *profile.Plan) { p.Registry.StorageClass = "LVMS VG" }, `--storage-class: Registry.StorageClass: storage class "LVMS VG"`},
		{"secret mode", func(p *profile.Plan) { p.Secrets.Mode = "inline" }, `--secrets: Secrets.Mode: unknown secret mode "inline"; known: none, placeholder`},
		{"secret name", func(p *profile.Plan) { p.MOSC.PushSecretName = "Push Secret" }, `--secrets: MOSC.PushSecretName: secret name "Push Secret"`},
		{"site label", func(p *profile.Plan) { p.Site = "my site!" }, `--site: site: site name "my site!" is not a valid label value`},
		{"other_config injection", func(p *profile.Plan) { p.Node.OtherConfig = map[string]string{"x": "1 other_config:y=2"} },
			"--stack: Node.OtherConfig[x]: other_config x=1 other_config:y=2: keys and values must match"},
		{"hugepages size", func(p *profile.Plan) { p.Node.Hugepages = &profile.Hugepages{Size: "3M", Count: 4} }, `hugepage size "3M"; want 2M or 1G`},
		{"repo newline", func(p *profile.Plan) { p.RepoFiles[0].Repos[0].BaseURL = "https://x/\ngpgcheck=0" },
			"--repos: RepoFiles[0].Repos[0]: repo values must be single lines"},
		{"gpgcheck without key", func(p *profile.Plan) { p.RepoFiles[0].Repos[0].GPGKey = "" }, "repo doca has gpgcheck=1 but no gpgkey"},
		{"repo file name", func(p *profile.Plan) { p.RepoFiles[0].FileName = "doca" }, `repo file name "doca" must match`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := walkthroughPlan()
			tc.mutate(p)
			_, err := Render(p, Options{Locate: locate})
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
		})
	}
}

// Bundle-level checks that only manifests edited by hand can trip.
func TestValidateBundleEditedManifests(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		warn       bool
		edit       func(b *bundle.Bundle)
	}{
		{"repo ConfigMap elsewhere", `ConfigMap/etc-yum-repos-d: metadata.namespace: namespace "default": MCO mounts build inputs only from openshift-machine-config-operator`, false,
			func(b *bundle.Bundle) { b.Objects[2].Content.SetNamespace("default") }},
		{"gpg Secret elsewhere", `Secret/etc-pki-rpm-gpg: metadata.namespace: namespace "openshift-config"`, false,
			func(b *bundle.Bundle) { b.Objects[3].Content.SetNamespace("openshift-config") }},
		{"registry Config name", "Config/registry: metadata.name: the image registry operator reads only the Config named cluster", false,
			func(b *bundle.Bundle) { b.Objects[1].Content.SetName("registry") }},
		{"two MOSCs for one pool", "MachineOSConfig/worker: metadata.name: two MachineOSConfigs for the same pool", false,
			func(b *bundle.Bundle) { b.Objects = append(b.Objects, b.Objects[len(b.Objects)-1]) }},
		{"MachineConfig without role", "MachineConfig/99-mosc-worker-hugepages: metadata.labels: no machineconfiguration.openshift.io/role label", true,
			func(b *bundle.Bundle) { b.Objects[6].Content.SetLabels(nil) }},
		{"arch entry ignored", "spec.containerFile[1]: containerfileArch AMD64 is ignored: MCO builds only the NoArch entry", true,
			func(b *bundle.Bundle) {
				u := b.Objects[len(b.Objects)-1].Content
				cfs, _, _ := unstructured.NestedSlice(u.Object, "spec", "containerFile")
				cfs = append(cfs, map[string]any{"containerfileArch": "AMD64", "content": "FROM configs AS final\n"})
				unstructured.SetNestedSlice(u.Object, cfs, "spec", "containerFile")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustRender(t, fullPlan()).Bundle
			tc.edit(b)
			errs, warns := ValidateBundle(b)
			got := errs
			if tc.warn {
				got = warns
			}
			var msgs []string
			for _, f := range got {
				msgs = append(msgs, f.Error())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("got %q, want %q", msgs, tc.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	p := walkthroughPlan()
	p.RepoFiles[1].Repos[0].GPGCheck = false
	p.Platform.Name, p.Platform.ContainerfileArch = "rhel9-aarch64", "ARM64"
	p.Warnings = []profile.Warning{{Where: "mosc.yaml:3:9", Field: "spec.pool", Message: "the master pool: single-node OpenShift is not supported by OCL docs"}}
	r, err := Render(p, Options{Locate: func(s string) string { return "--" + s }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range r.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		"mosc.yaml:3:9: spec.pool: the master pool: single-node OpenShift is not supported by OCL docs",
		"--repos: ConfigMap/etc-yum-repos-d data[centos.repo][baseos]: gpgcheck=0: packages from this repository are installed without signature checks",
		"--platform: platform: platform rhel9-aarch64 is ARM64: On-Cluster Layering is documented for AMD64 only",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

func TestTemplateErrorsNameFileLineCol(t *testing.T) {
	ls, err := parseLayers(fstest.MapFS{
		"bad.tmpl": {Data: []byte("{{- /* mosc:params */ -}}\nrun {{ .Platform.Nope }}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ls.render(newLayerData(walkthroughPlan()), profile.LayerInvocation{Name: "bad"})
	if err == nil || !strings.HasPrefix(err.Error(), "layers/bad.tmpl:2:16: can't evaluate field Nope") {
		t.Errorf("got %v", err)
	}
	_, err = parseLayers(fstest.MapFS{"syntax.tmpl": {Data: []byte("{{- /* mosc:params */ -}}\n{{ if }}\n")}})
	if err == nil || !strings.HasPrefix(err.Error(), "layers/syntax.tmpl:2: missing value for if") {
		t.Errorf("got %v", err)
	}
	_, err = parseLayers(fstest.MapFS{"nohdr.tmpl": {Data: []byte("run x\n")}})
	if err == nil || !strings.Contains(err.Error(), "layers/nohdr.tmpl:1:1: fragment must start with") {
		t.Errorf("got %v", err)
	}
	_, err = parseTemplates(fstest.MapFS{"x.yaml.tmpl": {Data: []byte("a: {{ .Foo }\n")}})
	if err == nil || !strings.HasPrefix(err.Error(), "templates/x.yaml.tmpl:1: ") {
		t.Errorf("got %v", err)
	}
}

// A typo in a template is caught by the strict decode, with the template's name.
func TestStrictDecodeRejectsTemplateTypos(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineOSConfig","metadata":{"name":"w"},"spec":{"renderedImagePushspec":"x"}}`, `unknown field "spec.renderedImagePushspec"`},
		{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w"},"data":{"a":1}}`, "ConfigMap"},
		{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w","name":"v"}}`, "duplicate field"},
		{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"}}`, "not a kind mosc renders"},
		{`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfig","metadata":{"name":"w"},"spec":{"config":{"ignition":{"version":"3.2.0"},"systemd":{"unit":[]}}}}`, `spec.config: unknown field "systemd.unit"`},
		{`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfig","metadata":{"name":"w"},"spec":{"config":{"ignition":{"version":"2.2.0"}}}}`, "want 3.0.0 to 3.4.0"},
	} {
		_, err := bundle.DecodeStrict([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestErrorsAreFindings(t *testing.T) {
	p := walkthroughPlan()
	p.MOSC.PushSpec = "x"
	p.Registry.Size = "-1Gi"
	_, err := Render(p, Options{})
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Setting != SettingRegistrySize {
		t.Fatalf("plan errors first, all of them: %#v", err)
	}
	p.Registry.Size = "1Gi"
	_, err = Render(p, Options{})
	if !errors.As(err, &errs) || errs[0].Setting != SettingPushSpec {
		t.Fatalf("got %#v", err)
	}
}

func TestWriteJSONIsAList(t *testing.T) {
	r := mustRender(t, walkthroughPlan())
	var buf bytes.Buffer
	if err := bundle.WriteJSON(&buf, r.Bundle); err != nil {
		t.Fatal(err)
	}
	var list struct {
		APIVersion, Kind string
		Items            []map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.APIVersion != "v1" || list.Kind != "List" || len(list.Items) != len(r.Bundle.Objects) {
		t.Errorf("JSON list: %s %s %d items", list.APIVersion, list.Kind, len(list.Items))
	}
}

func BenchmarkRenderOne(b *testing.B) {
	p := walkthroughPlan()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A change to the mounted repo files alone must change the MachineOSConfig
// spec, or MCO would not build again (see BuildInputsPrefix).
func TestBuildInputsFingerprint(t *testing.T) {
	base := walkthroughPlanForFingerprint(t)
	cf1, _, err := Containerfile(base)
	if err != nil {
		t.Fatal(err)
	}
	again, _, _ := Containerfile(walkthroughPlanForFingerprint(t))
	if cf1 != again {
		t.Fatalf("fingerprint not deterministic:\n%s\n%s", cf1, again)
	}
	changed := walkthroughPlanForFingerprint(t)
	changed.RepoFiles[0].Repos[0].BaseURL = "https://mirror.example.com/doca/3.3.0/rhel9/x86_64/"
	cf2, _, err := Containerfile(changed)
	if err != nil {
		t.Fatal(err)
	}
	if cf1 == cf2 {
		t.Fatal("a repo baseurl change left the Containerfile unchanged: MCO would not rebuild")
	}
	keyed := walkthroughPlanForFingerprint(t)
	keyed.GPGKeys = append(keyed.GPGKeys, profile.GPGKey{FileName: "RPM-GPG-KEY-mirror", Armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n-----END PGP PUBLIC KEY BLOCK-----\n"})
	if cf3, _, _ := Containerfile(keyed); cf3 == cf1 {
		t.Fatal("a new GPG key left the Containerfile unchanged")
	}
	lines := strings.Split(cf1, "\n")
	if lines[0] != ContainerfileFrom || !strings.HasPrefix(lines[1], BuildInputsPrefix) {
		t.Fatalf("fingerprint must follow the FROM line:\n%s", cf1)
	}
}

func walkthroughPlanForFingerprint(t *testing.T) *profile.Plan {
	t.Helper()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	s := profile.NewSite()
	s.Override(profile.Overrides{OpenShift: "4.20", Stacks: []string{"doca-3.3"}})
	p, err := cat.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.RepoFiles) == 0 || len(p.RepoFiles[0].Repos) == 0 {
		t.Fatal("plan has no repo files")
	}
	return p
}

// installLayer is the plan's install layer (where extra packages go).
func installLayer(p *profile.Plan) *profile.LayerInvocation {
	for i := range p.Layers {
		if p.Layers[i].Name == profile.InstallLayer {
			return &p.Layers[i]
		}
	}
	panic("plan has no install layer")
}

// testKey is a real armored public key (render parses every key).
func testKey() string {
	b, err := os.ReadFile(filepath.Join("..", "profile", "testdata", "keys", "test-1.asc"))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// What a process pays once to load the embedded templates and layers
// (loadTemplates, loadLayers): the generated trees, no parsing.
func BenchmarkLoadTemplates(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseTemplates(templates.FS); err != nil {
			b.Fatal(err)
		}
		if _, err := parseLayers(layers.FS); err != nil {
			b.Fatal(err)
		}
	}
}
