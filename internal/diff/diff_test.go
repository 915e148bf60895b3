package diff

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/bundle"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"change middle", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nX\n6\n7\n8\n9\n",
			"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n"},
		{"from empty", "", "a\nb\n", "@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"to empty", "a\n", "", "@@ -1 +0,0 @@\n-a\n"},
		{"missing final newline", "a\nb\n", "a\nb", "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of text\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n", "@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n@@ -9,4 +10,3 @@\n 9\n 10\n 11\n-12\n"},
		{"close changes merge", "1\n2\n3\n4\n5\n", "1\nX\n3\nY\n5\n", "@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n-4\n+Y\n 5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unified(tt.a, tt.b, 3); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// applyUnified rebuilds b from a and an edit script, to check myers on
// arbitrary input.
func TestMyersRoundTrip(t *testing.T) {
	cases := [][2]string{
		{"a\nb\nc\n", "c\nb\na\n"},
		{"x\n", "y\n"},
		{"", ""},
		{"a\na\na\nb\n", "b\na\na\na\n"},
		{"FROM configs AS final\nRUN a\nRUN b\nRUN bootc container lint\n", "FROM configs AS final\nRUN a\nRUN c\nRUN b\nRUN ostree container commit\n"},
	}
	for _, c := range cases {
		checkScript(t, c[0], c[1])
	}
}

func checkScript(t testing.TB, a, b string) {
	ops := myers(splitLines(a), splitLines(b))
	var ra, rb strings.Builder
	for _, op := range ops {
		if op.kind != opInsert {
			ra.WriteString(op.line)
		}
		if op.kind != opDelete {
			rb.WriteString(op.line)
		}
	}
	if ra.String() != a || rb.String() != b {
		t.Fatalf("edit script does not rebuild inputs %q %q: %q %q", a, b, ra.String(), rb.String())
	}
}

func FuzzMyers(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 2000 || len(b) > 2000 {
			return
		}
		checkScript(t, a, b)
		if (Unified(a, b, 3) == "") != (a == b) {
			t.Fatal("Unified empty iff equal")
		}
	})
}

func obj(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

const moscA = `{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineOSConfig","metadata":{"name":"worker","labels":{"app.kubernetes.io/managed-by":"mosc"}},
"spec":{"machineConfigPool":{"name":"worker"},"imageBuilder":{"imageBuilderType":"Job"},
"containerFile":[{"containerfileArch":"NoArch","content":"FROM configs AS final\nRUN rpm-ostree override remove openvswitch3.5\nRUN bootc container lint\n"}],
"renderedImagePushSpec":"image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest"}}`

func TestFields(t *testing.T) {
	tests := []struct {
		name   string
		a, b   string
		redact bool
		want   []string // "change path" lines
		text   string   // expected substring of the first unified diff
	}{
		{
			name: "containerfile content by list key",
			a:    moscA,
			b:    strings.Replace(moscA, "openvswitch3.5", "openvswitch3.6", 1),
			want: []string{"changed spec.containerFile[NoArch].content"},
			text: "-RUN rpm-ostree override remove openvswitch3.5\n+RUN rpm-ostree override remove openvswitch3.6\n",
		},
		{
			name: "scalar change, label added",
			a:    moscA,
			b:    strings.Replace(strings.Replace(moscA, `"Job"`, `"PodImageBuilder"`, 1), `"mosc"}`, `"mosc","mosc.dev/site":"lab"}`, 1),
			want: []string{`added metadata.labels["mosc.dev/site"]`, "changed spec.imageBuilder.imageBuilderType"},
		},
		{
			name: "configmap file key",
			a:    `{"data":{"doca.repo":"[doca]\nbaseurl=https://a/3.2.0/rhel9/x86_64/\n"}}`,
			b:    `{"data":{"doca.repo":"[doca]\nbaseurl=https://a/3.3.0/rhel9/x86_64/\n"}}`,
			want: []string{`changed data["doca.repo"]`},
			text: "+baseurl=https://a/3.3.0/rhel9/x86_64/",
		},
		{
			name: "systemd unit by name, unkeyed args by index",
			a:    `{"spec":{"kernelArguments":["a","b"],"config":{"systemd":{"units":[{"name":"doca-init.service","contents":"[Unit]\nBefore=ovs-vswitchd.service\n"},{"name":"x.service","enabled":true}]}}}}`,
			b:    `{"spec":{"kernelArguments":["a","c"],"config":{"systemd":{"units":[{"name":"x.service","enabled":false},{"name":"doca-init.service","contents":"[Unit]\nBefore=ovs-vswitchd.service openvswitch.service\n"}]}}}}`,
			want: []string{"changed spec.config.systemd.units[doca-init.service].contents", "changed spec.config.systemd.units[x.service].enabled", "changed spec.kernelArguments[1]"},
		},
		{
			name: "data url file contents",
			a:    `{"storage":{"files":[{"path":"/etc/x.conf","contents":{"source":"data:,a%0Ab%0A"}}]}}`,
			b:    `{"storage":{"files":[{"path":"/etc/x.conf","contents":{"source":"data:;base64,YQpjCg=="}}]}}`,
			want: []string{"changed storage.files[/etc/x.conf].contents.source"},
			text: "-b\n+c\n",
		},
		{
			name:   "secret redacted",
			a:      `{"data":{".dockerconfigjson":"c2VjcmV0MQ=="}}`,
			b:      `{"data":{".dockerconfigjson":"c2VjcmV0Mg=="}}`,
			redact: true,
			want:   []string{`changed data[".dockerconfigjson"]`},
		},
		{
			name: "list item added",
			a:    `{"spec":{"containerFile":[{"containerfileArch":"NoArch","content":"x"}]}}`,
			b:    `{"spec":{"containerFile":[{"containerfileArch":"NoArch","content":"x"},{"containerfileArch":"AMD64","content":"y"}]}}`,
			want: []string{"added spec.containerFile[AMD64].containerfileArch", "added spec.containerFile[AMD64].content"},
		},
		{
			name: "equal",
			a:    moscA, b: moscA,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Fields(obj(t, tt.a).Object, obj(t, tt.b).Object, tt.redact)
			var got []string
			for _, f := range fs {
				got = append(got, string(f.Change)+" "+f.Path)
				if tt.redact {
					if !f.Redacted || f.From != nil || f.To != nil || f.UnifiedDiff != "" {
						t.Errorf("secret value leaked: %+v", f)
					}
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("fields\n got %q\nwant %q", got, tt.want)
			}
			if tt.text != "" && (len(fs) == 0 || !strings.Contains(fs[0].UnifiedDiff, tt.text)) {
				t.Errorf("unified diff %q does not contain %q", fs[0].UnifiedDiff, tt.text)
			}
		})
	}
}

func TestBundles(t *testing.T) {
	cm := func(name, repo string) bundle.Object {
		return bundle.Object{FileName: "20-" + name + ".yaml", Content: obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`","namespace":"openshift-machine-config-operator"},"data":{"doca.repo":"`+repo+`"}}`)}
	}
	secret := bundle.Object{Secret: true, Content: obj(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"push-secret","namespace":"openshift-machine-config-operator"},"data":{".dockerconfigjson":"dG9rZW4x"}}`)}
	secret2 := bundle.Object{Secret: true, Content: obj(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"push-secret","namespace":"openshift-machine-config-operator"},"data":{".dockerconfigjson":"dG9rZW4y"}}`)}
	alpha := bundle.Object{FileName: "50-mosc.yaml", Content: obj(t, `{"apiVersion":"machineconfiguration.openshift.io/v1alpha1","kind":"MachineOSConfig","metadata":{"name":"worker"},"spec":{"buildInputs":{"containerFile":[{"containerfileArch":"noarch","content":"FROM configs AS final\nRUN ostree container commit\n"}]}}}`)}
	v1 := bundle.Object{FileName: "50-mosc.yaml", Content: obj(t, moscA)}

	a := &bundle.Bundle{Objects: []bundle.Object{cm("etc-yum-repos-d", `[doca]\nbaseurl=a\n`), cm("gone", "x"), secret, alpha}}
	b := &bundle.Bundle{Objects: []bundle.Object{cm("etc-yum-repos-d", `[doca]\nbaseurl=b\n`), cm("new", "y"), secret2, v1}}
	res := Bundles(a, b)
	res.From, res.To = "openshift 4.17", "openshift 4.18"
	if res.Summary != (Summary{Added: 1, Removed: 1, Changed: 3}) {
		t.Errorf("summary = %+v", res.Summary)
	}
	var got []string
	for _, o := range res.Objects {
		got = append(got, string(o.Change)+" "+o.Ref())
	}
	want := []string{
		"changed v1 ConfigMap openshift-machine-config-operator/etc-yum-repos-d",
		"added v1 ConfigMap openshift-machine-config-operator/new",
		"changed v1 Secret openshift-machine-config-operator/push-secret",
		"changed machineconfiguration.openshift.io/v1 MachineOSConfig worker",
		"removed v1 ConfigMap openshift-machine-config-operator/gone",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Objects[3].FromAPIVersion != "machineconfiguration.openshift.io/v1alpha1" {
		t.Errorf("apiVersion change not recorded: %+v", res.Objects[3])
	}
	var text, js bytes.Buffer
	if err := WriteText(&text, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text.String(), js.String()} {
		if strings.Contains(out, "dG9rZW4") {
			t.Fatalf("secret data in output:\n%s", out)
		}
	}
	for _, want := range []string{
		"--- openshift 4.17\n+++ openshift 4.18\n",
		"~ machineconfiguration.openshift.io/v1 MachineOSConfig worker  (50-mosc.yaml)\n    ~ apiVersion: machineconfiguration.openshift.io/v1alpha1 → machineconfiguration.openshift.io/v1\n",
		"    ~ data[\"doca.repo\"]:\n        @@ -1,2 +1,2 @@\n         [doca]\n        -baseurl=a\n        +baseurl=b\n",
		"    ~ data[\".dockerconfigjson\"]: (secret value changed; not shown)\n",
		"+ v1 ConfigMap openshift-machine-config-operator/new  (20-new.yaml)\n",
		"3 changed, 1 added, 1 removed, 0 unchanged\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["schema"] != SchemaVersion {
		t.Errorf("json: %v %v", err, back["schema"])
	}
	if same := Bundles(b, b); !same.Empty() || same.Summary.Unchanged != 4 {
		t.Errorf("self diff: %+v", same)
	}
}

func TestPrune(t *testing.T) {
	rendered := obj(t, moscA)
	live := obj(t, moscA)
	live.SetUID("1234")
	live.SetResourceVersion("99")
	live.SetGeneration(3)
	live.SetAnnotations(map[string]string{"machineconfiguration.openshift.io/current-machine-os-build": "worker-abc"})
	live.Object["status"] = map[string]any{"currentImagePullSpec": "x@sha256:1"}
	spec := live.Object["spec"].(map[string]any)
	spec["baseImagePullSecret"] = map[string]any{"name": "pull-and-push-secret"} // set by an older mosc
	spec["containerFile"] = append(spec["containerFile"].([]any), map[string]any{"containerfileArch": "ARM64", "content": "by hand"})
	live.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: "mosc", Operation: metav1.ManagedFieldsOperationApply, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:baseImagePullSecret":{"f:name":{}},"f:containerFile":{"k:{\"containerfileArch\":\"NoArch\"}":{".":{},"f:content":{}}}}}`)}},
		{Manager: "machine-config-controller", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{}}}`)}},
	})
	p := Prune(live, rendered, "mosc")
	fs := Fields(p.Object, rendered.Object, false)
	var got []string
	for _, f := range fs {
		got = append(got, string(f.Change)+" "+f.Path)
	}
	if strings.Join(got, "|") != "removed spec.baseImagePullSecret.name" {
		t.Errorf("live vs rendered = %q; pruned object %v", got, p.Object)
	}
	if _, ok := p.Object["status"]; ok {
		t.Error("status kept")
	}
	if p.GetUID() != "" || p.GetResourceVersion() != "" || len(p.GetManagedFields()) != 0 || len(p.GetAnnotations()) != 0 {
		t.Errorf("metadata noise kept: %v", p.Object["metadata"])
	}
}

func TestRebuildReasons(t *testing.T) {
	b := func(objs ...string) *bundle.Bundle {
		out := &bundle.Bundle{}
		for _, o := range objs {
			out.Objects = append(out.Objects, bundle.Object{Content: obj(t, o)})
		}
		return out
	}
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"etc-yum-repos-d","namespace":"openshift-machine-config-operator"},"data":{"doca.repo":"a"}}`
	cm2 := strings.Replace(cm, `"a"`, `"b"`, 1)
	mc := `{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfig","metadata":{"name":"50-worker-hugepages"},"spec":{"kernelArguments":["hugepages=16"]}}`
	tests := []struct {
		name string
		a, b *bundle.Bundle
		want string
	}{
		{"repo file only", b(cm, moscA), b(cm2, moscA), ""},
		{"containerfile", b(moscA), b(strings.Replace(moscA, "3.5", "3.6", 1)), "MachineOSConfig worker: spec.containerFile[NoArch].content changes"},
		{"new mosc", b(cm), b(cm, moscA), "MachineOSConfig worker is new"},
		{"machineconfig", b(moscA), b(moscA, mc), "MachineConfig 50-worker-hugepages is added (new rendered config)"},
	}
	for _, tt := range tests {
		if got := strings.Join(Bundles(tt.a, tt.b).RebuildReasons(), "; "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func BenchmarkBundles(b *testing.B) {
	mk := func(variant string) *bundle.Bundle {
		out := &bundle.Bundle{}
		for i := 0; i < 50; i++ {
			cf := "FROM configs AS final\n" + strings.Repeat("RUN dnf install -y pkg"+variant+"\n", 60) + "RUN bootc container lint\n"
			o := obj(b, `{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineOSConfig","metadata":{"name":"pool`+string(rune('a'+i%26))+strings.Repeat("x", i/26)+`"},"spec":{"containerFile":[{"containerfileArch":"NoArch","content":`+compact(cf)+`}]}}`)
			out.Objects = append(out.Objects, bundle.Object{Content: o})
		}
		return out
	}
	a, c := mk("1"), mk("2")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := Bundles(a, c); r.Summary.Changed != 50 {
			b.Fatalf("summary %+v", r.Summary)
		}
	}
}
