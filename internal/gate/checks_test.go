package gate

import (
	"errors"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/bundle"
	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/release"
	"github.com/mosc-dev/mosc/internal/render"
	"github.com/mosc-dev/mosc/internal/repo"
)

func catalog(t testing.TB) *profile.Catalog {
	t.Helper()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// plan resolves the embedded catalog at a release with the given stacks.
func plan(t testing.TB, version string, stacks ...string) *profile.Plan {
	t.Helper()
	s := profile.NewSite()
	s.Override(profile.Overrides{OpenShift: version, Stacks: stacks})
	p, err := catalog(t).Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rendered(t testing.TB, p *profile.Plan) *bundle.Bundle {
	t.Helper()
	r, err := render.Render(p, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Bundle
}

func expect(t *testing.T, c Check, status Status, msg ...string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("%s: status %s, want %s; message: %s", c.ID, c.Status, status, c.Message)
	}
	for _, m := range msg {
		if !strings.Contains(c.Message+"\n"+c.Remedy, m) {
			t.Errorf("%s: message/remedy lacks %q:\n%s\n→ %s", c.ID, m, c.Message, c.Remedy)
		}
	}
	if (status == Fail || status == Warn) && c.Remedy == "" {
		t.Errorf("%s: %s without a remedy", c.ID, status)
	}
}

func TestCheckTargetProfile(t *testing.T) {
	cat := catalog(t)
	tests := []struct {
		cur, tgt string
		status   Status
		msg      []string
	}{
		{"4.20.15", "4.21.11", Pass, []string{"profile 4.21 found: RHEL 9.6", "MachineOSConfig v1"}},
		{"4.21", "4.22", Pass, []string{"RHEL 9.8", "5.14.0-687"}},
		{"4.21.3", "4.21.11", Pass, nil},
		{"4.20.15", "4.22.1", Warn, []string{"skips 1 minor", "--to 4.21"}},
		{"4.21.11", "4.20.15", Fail, []string{"does not downgrade"}},
		{"4.21.11", "4.21.3", Fail, []string{"older than"}},
		{"4.22", "4.30.1", Fail, []string{`unknown OpenShift release "4.30.1"`, "--profiles"}},
		{"four", "4.21", Fail, []string{"cannot compare"}},
	}
	for _, tt := range tests {
		t.Run(tt.cur+"→"+tt.tgt, func(t *testing.T) {
			expect(t, CheckTargetProfile(cat, tt.cur, tt.tgt), tt.status, tt.msg...)
		})
	}
}

func TestCheckStackSupport(t *testing.T) {
	cat := catalog(t)
	tests := []struct {
		name       string
		cur        *profile.Plan
		target     string
		resolveErr error
		status     Status
		msg        []string
	}{
		{"doca-3.3 to 4.21", plan(t, "4.20", "doca-3.3"), "4.21", nil, Pass, []string{"doca-3.3 supports OpenShift 4.21 (RHEL 9.6, repo rhel9/x86_64)"}},
		{"doca-3.3 to 4.22 (RHEL 9.8)", plan(t, "4.21", "doca-3.3"), "4.22", nil, Pass, []string{"RHEL 9.8"}},
		{"doca-2.9 per-minor repos lack RHEL 9.8", plan(t, "4.21", "doca-2.9"), "4.22", errors.New("resolve failed"), Fail, []string{"doca-2.9", "RHEL 9.2, 9.4, 9.6 only, the target is RHEL 9.8"}},
		{"unknown target", plan(t, "4.21"), "4.99", nil, Skip, nil},
		{"resolution error not explained by the stack", plan(t, "4.20"), "4.21", errors.New("spec.pool: bad"), Fail, []string{"does not resolve at the target: spec.pool: bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, CheckStackSupport(cat, tt.cur, tt.target, tt.resolveErr), tt.status, tt.msg...)
		})
	}
}

func TestCheckBundleDiff(t *testing.T) {
	p20, p21, p22 := plan(t, "4.20"), plan(t, "4.21"), plan(t, "4.22")
	p17, p18, p19 := plan(t, "4.17"), plan(t, "4.18"), plan(t, "4.19")
	p21ovs := plan(t, "4.21", "doca-3.3:ovs")
	tests := []struct {
		name     string
		cur, tgt *profile.Plan
		err      error
		status   Status
		msg      []string
		rebuild  bool
	}{
		{"4.21 → 4.22: RHEL 9.8, kernel; only annotations change", p21, p22, nil, Pass, []string{"RHEL: 9.6 → 9.8", "kernel family: 5.14.0-570 → 5.14.0-687", "only metadata changes: re-apply when convenient (mosc apply --openshift 4.22)"}, false},
		{"4.20 → 4.21", p20, p21, nil, Pass, []string{"changed MachineOSConfig worker: metadata.annotations[\"mosc.dev/openshift\"]"}, false},
		{"4.18 → 4.19: lint command", p18, p19, nil, Warn, []string{"lint command: ostree container commit → bootc container lint", "forces a rebuild: MachineOSConfig worker: spec.containerFile[NoArch].content changes", "mosc apply --openshift 4.19"}, true},
		{"4.17 → 4.18: MOSC API moves", p17, p18, nil, Fail, []string{"MachineOSConfig API: machineconfiguration.openshift.io/v1alpha1 → machineconfiguration.openshift.io/v1", "can never be unset", "cannot reach 4.18, with or without the layer", "Install a new cluster at", "forces a rebuild"}, true},
		{"variant change forces a rebuild", p21, p21ovs, nil, Warn, []string{"forces a rebuild: MachineOSConfig worker: spec.containerFile[NoArch].content changes"}, true},
		{"same", p21, p21, nil, Pass, []string{"the bundle is the same at 4.21"}, false},
		{"render error", p21, p22, errors.New("Containerfile too long"), Fail, []string{"does not render at the target: Containerfile too long"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cb, tb *bundle.Bundle
			if tt.err == nil {
				cb, tb = rendered(t, tt.cur), rendered(t, tt.tgt)
			}
			c := CheckBundleDiff(tt.cur, tt.tgt, cb, tb, tt.err)
			expect(t, c, tt.status, tt.msg...)
			if tt.err == nil && c.Details["rebuild"] != tt.rebuild {
				t.Errorf("rebuild = %v, want %v (%v)", c.Details["rebuild"], tt.rebuild, c.Details["rebuildReasons"])
			}
		})
	}
	expect(t, CheckBundleDiff(p21, nil, nil, nil, nil), Skip)
}

func TestCheckReleasePayload(t *testing.T) {
	p21, p22 := plan(t, "4.21"), plan(t, "4.22")
	payload := func(version string, streams ...string) *release.Payload {
		p := &release.Payload{Ref: "quay.io/x/ocp-release:" + version + "-x86_64", Version: version}
		tags := []string{release.TagRHCOS, release.TagRHCOS10}
		for i, s := range streams {
			labels := map[string]string{}
			if s != "" {
				labels = map[string]string{"com.coreos.stream": "rhel-" + s, "org.opencontainers.image.version": s + ".20251110-1"}
			}
			p.CoreOS = append(p.CoreOS, release.NewCoreOS(tags[i], "quay.io/x/art@sha256:1", labels))
		}
		return p
	}
	tests := []struct {
		name   string
		p      *release.Payload
		err    error
		tgt    *profile.Plan
		target string
		status Status
		msg    []string
	}{
		{"4.21 matches", payload("4.21.11", "9.6", "10.2"), nil, p21, "4.21.11", Pass, []string{"rhel-coreos is RHEL 9.6 (9.6.20251110-1), as profile 4.21 says", "rhel-coreos-10 is RHEL 10.2"}},
		{"4.22 profile says 9.8, payload 9.6", payload("4.22.0", "9.6"), nil, p22, "4.22.0", Fail, []string{"is RHEL 9.6", "profile 4.22 says RHEL 9.8", "--profiles"}},
		{"wrong payload", payload("4.20.3", "9.6"), nil, p21, "4.21.11", Fail, []string{"is OpenShift 4.20.3, not 4.21.11"}},
		{"no labels", payload("4.21.11", ""), nil, p21, "4.21.11", Warn, []string{"no com.coreos.stream"}},
		{"no rhel-coreos", &release.Payload{Ref: "r", Version: "4.21.1"}, nil, p21, "4.21.1", Fail, []string{"names no rhel-coreos"}},
		{"unreachable", nil, errors.New("release image q: GET https://q/v2/: dial tcp: no route"), p21, "4.21.11", Fail, []string{"no route", "--offline"}},
		{"no target plan", payload("4.21.11", "9.6"), nil, nil, "4.21.11", Warn, []string{"no target plan"}},
		{"another z of the target", payload("4.21.10", "9.6"), nil, p21, "4.21.11", Fail, []string{"is OpenShift 4.21.10, not 4.21.11"}},
		{"a minor --to takes any z", payload("4.21.10", "9.6"), nil, p21, "4.21", Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, CheckReleasePayload(tt.p, tt.err, tt.tgt, tt.target), tt.status, tt.msg...)
		})
	}
}

func TestRepoQueries(t *testing.T) {
	qs := RepoQueries(plan(t, "4.21"))
	if len(qs) != 1 {
		t.Fatalf("queries = %+v", qs)
	}
	q := qs[0]
	var names []string
	for _, r := range q.Query.Requirements {
		names = append(names, r.String())
	}
	if got := strings.Join(names, ","); got != "doca-all,doca-openvswitch,libibverbs,rdma-core" {
		t.Errorf("requirements = %s", got)
	}
	if q.Query.BaseURL != "https://linux.mellanox.com/public/repo/doca/3.3.0/rhel9/x86_64/" || q.Query.Arches[0] != "x86_64" {
		t.Errorf("query = %+v", q.Query)
	}
	// Site mirrors replace the URL.
	s := profile.NewSite()
	s.Override(profile.Overrides{OpenShift: "4.21", Platform: "rhel9-aarch64"})
	s.Spec.Repos.Mirrors = map[string]string{"doca": "https://mirror.example.com/doca/3.3.0/rhel9/arm64-sbsa/"}
	p, err := catalog(t).Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	q = RepoQueries(p)[0]
	if q.Query.BaseURL != "https://mirror.example.com/doca/3.3.0/rhel9/arm64-sbsa/" || q.Query.Arches[0] != "aarch64" {
		t.Errorf("mirrored query = %+v", q.Query)
	}
	if len(q.Query.Requirements) != 4 {
		t.Errorf("mirrored repo lost the doca-rdma packages: %v", q.Query.Requirements)
	}
}

func TestCheckRepoPreflight(t *testing.T) {
	p := plan(t, "4.21")
	q := RepoQueries(p)[0]
	pkg := func(n string) repo.Package {
		return repo.Package{Name: n, Arch: "x86_64", Version: "3.3.0040", Release: "1.el9"}
	}
	found := func(missing ...string) *repo.Result {
		r := &repo.Result{BaseURL: q.Query.BaseURL, Packages: 120}
		for _, req := range q.Query.Requirements {
			f := repo.Finding{Requirement: req}
			if !contains(missing, req.AnyOf[0]) {
				f.Found = []repo.Package{pkg(req.AnyOf[0])}
			}
			r.Findings = append(r.Findings, f)
		}
		return r
	}
	tests := []struct {
		name   string
		outs   []RepoOutcome
		status Status
		msg    []string
	}{
		{"all there", []RepoOutcome{{RepoQuery: q, Result: found()}}, Pass, []string{"doca-openvswitch-3.3.0040-1.el9.x86_64", "rdma-core-3.3.0040-1.el9.x86_64"}},
		{"doca-openvswitch missing", []RepoOutcome{{RepoQuery: q, Result: found("doca-openvswitch")}}, Fail, []string{"has no doca-openvswitch for x86_64 (of 120 packages)", "spec.repos.mirrors"}},
		{"two missing", []RepoOutcome{{RepoQuery: q, Result: found("libibverbs", "rdma-core")}}, Fail, []string{"has no libibverbs, rdma-core"}},
		{"unreachable", []RepoOutcome{{RepoQuery: q, Err: errors.New("GET https://x/repodata/repomd.xml: 404 Not Found")}}, Fail, []string{"404 Not Found", "could not be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, CheckRepoPreflight(tt.outs, p), tt.status, tt.msg...)
		})
	}
	expect(t, CheckRepoPreflight(nil, nil), Skip)
}

// 4.21+ payloads: OS images grouped by io.openshift.os.streamclass; the
// pool's spec.osImageStream (else the default stream) picks the image whose
// labels count; an extensions image's UBI labels never do.
func TestCheckReleasePayloadStreams(t *testing.T) {
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	site := profile.NewSite()
	site.Override(profile.Overrides{OpenShift: "4.21"})
	p21, err := cat.Resolve(site)
	if err != nil {
		t.Fatal(err)
	}
	withStream := func(l map[string]string, s string) map[string]string {
		l["io.openshift.os.streamclass"] = s
		return l
	}
	p := &release.Payload{Ref: "r", Version: "4.21.11"}
	for _, c := range []struct {
		tag    string
		labels map[string]string
	}{
		{"rhel-coreos", withStream(map[string]string{"com.coreos.stream": "rhel-9.6", "org.opencontainers.image.version": "9.6.20251110-1", "ostree.linux": "true"}, "rhel-9")},
		{"rhel-coreos-extensions", withStream(map[string]string{"name": "ubi9", "version": "9.7"}, "rhel-9")},
		{"rhel-coreos-10", withStream(map[string]string{"com.coreos.stream": "rhel-10.2", "org.opencontainers.image.version": "10.2.20251112-0", "ostree.linux": "true"}, "rhel-10")},
		{"rhel-coreos-10-extensions", withStream(map[string]string{"name": "ubi10"}, "rhel-10")},
	} {
		p.CoreOS = append(p.CoreOS, release.NewCoreOS(c.tag, "quay.io/x/art@sha256:"+c.tag, c.labels))
	}
	if got := p.DefaultStream(); got != "rhel-9" {
		t.Errorf("default stream %q", got)
	}
	expect(t, CheckReleasePayloadStream(p, nil, p21, "4.21.11", "", "worker"), Pass,
		"rhel-coreos (stream rhel-9) is RHEL 9.6", "(rhel-coreos-10 is RHEL 10.2; the default stream is rhel-9)")
	c := CheckReleasePayloadStream(p, nil, p21, "4.21.11", "rhel-10", "worker")
	expect(t, c, Fail, "rhel-coreos-10 (stream rhel-10) is RHEL 10.2", "profile 4.21 says RHEL 9.6", "pool worker's spec.osImageStream is rhel-10")
	if strings.Contains(c.Message, "extensions") {
		t.Errorf("an extensions image's labels were read: %s", c.Message)
	}
	expect(t, CheckReleasePayloadStream(p, nil, p21, "4.21.11", "rhel-11", "worker"), Fail, "has no OS image of stream rhel-11 (streams: rhel-10, rhel-9)", "spec.osImageStream rhel-11 is not in the target release")
	os, ext, ok := p.Stream("rhel-10")
	if !ok || os.Tag != "rhel-coreos-10" || ext.Tag != "rhel-coreos-10-extensions" {
		t.Errorf("stream rhel-10: %s %s %v", os.Tag, ext.Tag, ok)
	}
}
