package dnfrepo

import (
	"strings"
	"testing"
)

func TestPackageValidate(t *testing.T) {
	ok := Package{Name: "doca-openvswitch", Version: "3.3.0040", Release: "1.el9", Arch: "x86_64"}
	tests := []struct {
		name    string
		mut     func(*Package)
		wantErr string
	}{
		{"valid", func(*Package) {}, ""},
		{"space in name", func(p *Package) { p.Name = "doca ovs" }, "Name"},
		{"dash in version", func(p *Package) { p.Version = "3.3-1" }, "cannot contain '-'"},
		{"macro in requires", func(p *Package) { p.Requires = []string{"%{evil}"} }, "'%'"},
		{"newline in provides", func(p *Package) { p.Provides = []string{"a\nb"} }, "newline"},
		{"empty arch", func(p *Package) { p.Arch = "" }, "Arch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.mut(&p)
			err := p.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestServeRejectsNonRepo(t *testing.T) {
	if _, _, err := Serve(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a repository") {
		t.Fatalf("Serve(empty dir) error = %v", err)
	}
}
