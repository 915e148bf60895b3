package sim

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/mosc-dev/mosc/internal/node"
)

// The node agent's answers must parse with mosc's own parser and mean what a
// real node's would.
func TestNodeAnswersParse(t *testing.T) {
	tests := []struct {
		name           string
		doca, docaInit bool
		wantInstalled  bool
		wantStock      int
		wantOVSErr     bool
		wantInit       bool
	}{
		{"stock node", false, false, false, 1, true, false},
		{"stock node with doca-init set", false, true, false, 1, true, false},
		{"layered, before doca-init", true, false, true, 0, false, false},
		{"layered, after doca-init", true, true, true, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			installed := stockPackages
			if tc.doca {
				installed = docaPackages
			}
			var msg strings.Builder
			out, rc := rpmQ(installed, []string{"doca-openvswitch"})
			msg.WriteString(sectionText(node.SectionRPM, rc, out))
			msg.WriteString(sectionText(node.SectionRPMAbsent, 0, rpmQA(installed, "openvswitch[0-9]*")))
			out, rc = ovsVsctl(tc.doca, tc.docaInit, false, strings.Split(node.OVSColumns, ","))
			msg.WriteString(sectionText(node.SectionOVS, rc, out))
			r, err := node.ParseMessage("n", msg.String())
			if err != nil {
				t.Fatalf("%v\n%s", err, msg.String())
			}
			if r.Packages["doca-openvswitch"].Installed != tc.wantInstalled || len(r.StockPresent) != tc.wantStock ||
				(r.OVSError != "") != tc.wantOVSErr || r.DocaInitialized != tc.wantInit {
				t.Errorf("result %+v\nfrom\n%s", r, msg.String())
			}
			if tc.doca {
				if r.DocaVersion != "3.3.0109" || r.DPDKVersion != "DPDK 25.11.0+doca2601" || strings.Join(r.DatapathTypes, ",") != "doca,netdev,system" {
					t.Errorf("layered OVS: %+v", r)
				}
				hasDoca := strings.Contains(","+strings.Join(r.IfaceTypes, ",")+",", ",docavdpa,")
				if hasDoca != tc.docaInit {
					t.Errorf("iface_types %v with doca-init=%v", r.IfaceTypes, tc.docaInit)
				}
			}
		})
	}
}

func sectionText(name string, rc int, out string) string {
	return fmt.Sprintf("--- mosc:%s rc=%d ---\n%s", name, rc, out)
}

func TestRPMQueries(t *testing.T) {
	out, rc := rpmQ(stockPackages, []string{"doca-openvswitch", "openvswitch3.5"})
	if rc != 1 || out != "package doca-openvswitch is not installed\nopenvswitch3.5-3.5.0-19.el9fdp.x86_64\n" {
		t.Errorf("rpm -q: rc=%d out=%q", rc, out)
	}
	if got := rpmQA(docaPackages, "openvswitch[0-9]*"); got != "" {
		t.Errorf("rpm -qa on a DOCA node = %q, want nothing", got)
	}
	if got := rpmQA(stockPackages, "openvswitch*"); !strings.Contains(got, "openvswitch-selinux-extra-policy") || !strings.Contains(got, "openvswitch3.5-") {
		t.Errorf("rpm -qa openvswitch* = %q", got)
	}
	if n := nvraName("doca-openvswitch-3.3.0040-1.el9.x86_64"); n != "doca-openvswitch" {
		t.Errorf("nvraName = %q", n)
	}
}

func TestCredentialsFor(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte("builder:tok:en"))
	tests := []struct {
		name, key, data, host string
		wantUser, wantPass    string
		wantOK                bool
	}{
		{"dockerconfigjson auth", corev1.DockerConfigJsonKey, `{"auths":{"reg:5000":{"auth":"` + auth + `"}}}`, "reg:5000", "builder", "tok:en", true},
		{"https prefix and slash", corev1.DockerConfigJsonKey, `{"auths":{"https://reg:5000/":{"auth":"` + auth + `"}}}`, "reg:5000", "builder", "tok:en", true},
		{"username/password", corev1.DockerConfigJsonKey, `{"auths":{"reg":{"username":"u","password":"p"}}}`, "reg", "u", "p", true},
		{"dockercfg", corev1.DockerConfigKey, `{"reg":{"auth":"` + auth + `"}}`, "reg", "builder", "tok:en", true},
		{"other host", corev1.DockerConfigJsonKey, `{"auths":{"quay.io":{"auth":"` + auth + `"}}}`, "reg", "", "", false},
		{"bad base64", corev1.DockerConfigJsonKey, `{"auths":{"reg":{"auth":"%%%"}}}`, "reg", "", "", false},
		{"not json", corev1.DockerConfigJsonKey, `{`, "reg", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sec := &corev1.Secret{Data: map[string][]byte{tc.key: []byte(tc.data)}}
			u, p, ok := credentialsFor(sec, tc.host)
			if u != tc.wantUser || p != tc.wantPass || ok != tc.wantOK {
				t.Errorf("credentialsFor = %q %q %v", u, p, ok)
			}
		})
	}
}

func FuzzCredentialsFor(f *testing.F) {
	f.Add([]byte(`{"auths":{"reg":{"auth":"dTpw"}}}`), "reg")
	f.Add([]byte(`{"reg":{"username":"u"}}`), "reg")
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		for _, k := range []string{corev1.DockerConfigJsonKey, corev1.DockerConfigKey} {
			credentialsFor(&corev1.Secret{Data: map[string][]byte{k: data}}, host) // must not panic
		}
	})
}

func TestIgnitionMentionsDocaInit(t *testing.T) {
	unit := "ExecStartPre=/usr/bin/ovs-vsctl --no-wait set Open_vSwitch . other_config:doca-init=true"
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{"systemd unit contents", `{"systemd":{"units":[{"name":"x.service","contents":"` + unit + `"}]}}`, true},
		{"file, base64 data URL", `{"storage":{"files":[{"contents":{"source":"data:text/plain;charset=utf-8;base64,` + base64.StdEncoding.EncodeToString([]byte(unit)) + `"}}]}}`, true},
		{"file, percent-encoded data URL", `{"storage":{"files":[{"contents":{"source":"data:,` + url.PathEscape(unit) + `"}}]}}`, true},
		{"doca-init false", `{"systemd":{"units":[{"contents":"other_config:doca-init=false"}]}}`, false},
		{"unrelated", `{"ignition":{"version":"3.5.0"}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ignitionMentions([]byte(tc.raw), docaInitRe); got != tc.want {
				t.Errorf("ignitionMentions = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRenderedConfigNameIsContentBased(t *testing.T) {
	mc := func(name, ign string) *mcfgv1.MachineConfig {
		return &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: name, UID: "random"}, Spec: mcfgv1.MachineConfigSpec{Config: runtime.RawExtension{Raw: []byte(ign)}}}
	}
	a := RenderedConfigName("worker", []*mcfgv1.MachineConfig{mc("00-worker", `{"a":1}`), mc("50-x", `{"b":2}`)})
	b := RenderedConfigName("worker", []*mcfgv1.MachineConfig{mc("50-x", `{"b":2}`), mc("00-worker", `{"a":1}`)})
	c := RenderedConfigName("worker", []*mcfgv1.MachineConfig{mc("00-worker", `{"a":1}`), mc("50-x", `{"b":3}`)})
	d := RenderedConfigName("master", []*mcfgv1.MachineConfig{mc("00-worker", `{"a":1}`), mc("50-x", `{"b":2}`)})
	if a != b {
		t.Errorf("order changes the name: %s vs %s", a, b)
	}
	if a == c || a == d {
		t.Errorf("content or pool change keeps the name %s", a)
	}
	if !regexp.MustCompile(`^rendered-worker-[0-9a-f]{32}$`).MatchString(a) {
		t.Errorf("name %s not rendered-<pool>-<md5>", a)
	}
}

func TestBuildLogSteps(t *testing.T) {
	cf := "# comment\nFROM base AS configs\n\nFROM configs AS final\nRUN dnf install -y \\\n    doca-openvswitch && \\\n    dnf clean all\nLABEL a=b\n"
	steps := buildLogSteps(cf)
	if len(steps) != 4 {
		t.Fatalf("steps = %d: %q", len(steps), steps)
	}
	if !strings.HasPrefix(steps[2], "STEP 3/4: RUN dnf install -y doca-openvswitch && dnf clean all\n") || !strings.Contains(steps[2], "Installing: doca-openvswitch-") {
		t.Errorf("RUN step = %q", steps[2])
	}
	if !strings.HasSuffix(steps[3], "COMMIT\n") {
		t.Errorf("last step = %q", steps[3])
	}
}

func TestNodeLess(t *testing.T) {
	if !nodeLess("worker-2", "worker-10") || nodeLess("worker-10", "worker-2") || !nodeLess("master-0", "worker-0") {
		t.Error("node order is not natural")
	}
}

func TestBuildConditionsInvariant(t *testing.T) {
	for _, stage := range []string{"Prepared", "Building", "Succeeded", "Failed", "Interrupted"} {
		conds := buildConditions(stage, "", "m", metav1.Now())
		trues := 0
		for _, c := range conds {
			if c.Status == metav1.ConditionTrue {
				trues++
				if c.Type != stage {
					t.Errorf("stage %s: %s is True", stage, c.Type)
				}
			}
			if c.Reason == "" || c.Message == "" {
				t.Errorf("stage %s: condition %s lacks reason or message", stage, c.Type)
			}
		}
		if len(conds) != 5 || trues != 1 {
			t.Errorf("stage %s: %d conditions, %d True", stage, len(conds), trues)
		}
	}
}
