package gate

import (
	"errors"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/repo"
)

func TestCheckRepoSignatures(t *testing.T) {
	tgt := plan(t, "4.21")
	pkg := func(name, status string) repo.PackageSignature {
		return repo.PackageSignature{Package: repo.Package{Name: name, Arch: "x86_64", Version: "1", Release: "1.el9"}, Status: status, KeyID: "00000000DEADBEEF"}
	}
	outcome := func(unsigned []string, gpg bool, err error, pkgs ...repo.PackageSignature) SignatureOutcome {
		o := SignatureOutcome{SignatureTarget: SignatureTarget{Stack: "doca-3.3", RepoID: "doca", GPGCheck: gpg, Unsigned: unsigned, KeyURLs: []string{"file:///etc/pki/rpm-gpg/k"},
			Query: repo.SignatureQuery{BaseURL: "http://mirror/doca/", Roots: []string{"doca-all"}}}, Keys: []string{"0123456789ABCDEF0123456789ABCDEF01234567"}, Err: err}
		if err == nil && gpg {
			o.Result = &repo.SignatureResult{BaseURL: "http://mirror/doca/", Packages: pkgs}
		}
		return o
	}
	tests := []struct {
		name   string
		outs   []SignatureOutcome
		status Status
		want   []string
	}{
		{"all signed", []SignatureOutcome{outcome(nil, true, nil, pkg("doca-all", repo.SigSigned), pkg("doca-sdk", repo.SigSigned))}, Pass,
			[]string{"2 packages (the closure of doca-all), header signatures verified with key 89ABCDEF01234567"}},
		{"unsigned, not excepted", []SignatureOutcome{outcome(nil, true, nil, pkg("doca-all", repo.SigSigned), pkg("doca-extra", repo.SigUnsigned))}, Fail,
			[]string{"unsigned, and gpgcheck=1 refuses them: doca-extra-1-1.el9.x86_64", "spec.repo.unsigned"}},
		{"unsigned, excepted", []SignatureOutcome{outcome([]string{"doca-extra"}, true, nil, pkg("doca-all", repo.SigSigned), pkg("doca-extra", repo.SigUnsigned))}, Pass,
			[]string{"unsigned as the stack profile records, from the named exception: doca-extra-1-1.el9.x86_64"}},
		{"excepted but signed", []SignatureOutcome{outcome([]string{"doca-extra"}, true, nil, pkg("doca-extra", repo.SigSigned))}, Warn,
			[]string{"records as unsigned, but signed now: doca-extra", "drop them from stack doca-3.3's spec.repo.unsigned"}},
		{"unknown key", []SignatureOutcome{outcome(nil, true, nil, pkg("doca-all", repo.SigUnknownKey))}, Fail,
			[]string{"signed by a key that repo doca's gpgkey does not hold (file:///etc/pki/rpm-gpg/k): doca-all-1-1.el9.x86_64 (key ID 00000000DEADBEEF)"}},
		{"bad signature", []SignatureOutcome{outcome(nil, true, nil, repo.PackageSignature{Package: repo.Package{Name: "x", Arch: "x86_64", Version: "1", Release: "1"}, Status: repo.SigBad, Error: "SHA-256 mismatch"})}, Fail,
			[]string{"bad header or signature: x-1-1.x86_64: SHA-256 mismatch", "tampered"}},
		{"gpgcheck off", []SignatureOutcome{outcome(nil, false, nil)}, Warn, []string{"repo doca has gpgcheck=0: nothing it serves is verified"}},
		{"unreadable", []SignatureOutcome{outcome(nil, true, errors.New("gpgkey https://x/key: no such host"))}, Fail, []string{"doca-3.3: gpgkey https://x/key: no such host", "--offline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckRepoSignatures(tt.outs, tgt)
			if c.ID != IDRepoSignatures || c.Status != tt.status {
				t.Errorf("%s %s, want %s: %s", c.ID, c.Status, tt.status, c.Message)
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Message+"\n"+c.Remedy, w) {
					t.Errorf("lacks %q:\n%s\n%s", w, c.Message, c.Remedy)
				}
			}
		})
	}
	if c := CheckRepoSignatures(nil, nil); c.Status != Skip {
		t.Errorf("no target: %s", c.Status)
	}
}

func TestSignatureTargets(t *testing.T) {
	p := plan(t, "4.21")
	ts := SignatureTargets(p)
	if len(ts) != 1 || ts[0].RepoID != "doca" || !ts[0].GPGCheck || len(ts[0].KeyURLs) != 1 || !strings.Contains(strings.Join(ts[0].Query.Roots, ","), "doca-openvswitch") {
		t.Errorf("targets %+v", ts)
	}
}
