package resolve

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
	"github.com/mosc-dev/mosc/internal/render"
)

func plan(t *testing.T, version string, stacks ...string) *profile.Plan {
	t.Helper()
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	s := profile.NewSite()
	s.Override(profile.Overrides{OpenShift: version, Stacks: stacks})
	p, err := cat.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The walkthrough's plan (4.21, doca-3.3 full): every package operation of
// its Containerfile, in order, read from the rendered layers.
func TestParseStepsWalkthrough(t *testing.T) {
	_, layers, err := render.Containerfile(plan(t, "4.21", "doca-3.3"))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := ParseSteps(layers)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, s.Layer+" "+string(s.Kind)+" "+strings.Join(s.Packages, ",")+" repos="+strings.Join(s.Repos, ","))
	}
	want := []string{
		"epel install-url https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm repos=",
		"build-deps install libyaml-devel,libpcap-devel,libzip-devel,libunwind,jsoncpp,openssl-devel,bzip2-devel repos=doca,baseos,appstream,crb",
		"build-deps upgrade-installed unbound-libs,unbound,bzip2-libs repos=doca,baseos,appstream,crb",
		"swap-openvswitch remove-installed openvswitch[0-9]* repos=",
		"doca-rdma replace libibverbs,rdma-core repos=doca",
		"install install doca-all repos=doca,baseos,appstream,crb",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if steps[len(steps)-1].Options[0] != "--setopt=install_weak_deps=False" {
		t.Errorf("install options: %v", steps[len(steps)-1].Options)
	}
}

// Every catalog combination's Containerfile parses: a layer whose dnf or
// rpm-ostree command the resolver cannot model is caught here, not at a
// customer's gate.
func TestParseStepsEveryCombination(t *testing.T) {
	cat, err := profile.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range render.Combinations(cat) {
		s := profile.NewSite()
		s.Override(c.Overrides(profile.Overrides{}))
		p, err := cat.Resolve(s)
		if err != nil {
			continue // combinations the catalog refuses are render's tests
		}
		_, layers, err := render.Containerfile(p)
		if err != nil {
			continue
		}
		steps, err := ParseSteps(layers)
		if err != nil {
			t.Errorf("%s: %v", c.Name(), err)
			continue
		}
		installs := 0
		for _, s := range steps {
			if s.Kind == Install {
				installs++
			}
		}
		if installs == 0 {
			t.Errorf("%s: no install step", c.Name())
		}
		n++
	}
	if n < 10 {
		t.Errorf("only %d combinations parsed", n)
	}
}

func TestParseCommand(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want *Step // nil: skipped
		err  string
	}{
		{cmd: "mkdir -p /var/opt"},
		{cmd: "dnf clean all"},
		{cmd: "sed -i '/^\\[doca\\]$/,/^enabled=/s/^enabled=0$/enabled=1/' /etc/yum.repos.d/doca.repo"},
		{cmd: "dnf install -y --enablerepo=a,b 'x' \"y\"", want: &Step{Kind: Install, Packages: []string{"x", "y"}, Repos: []string{"a", "b"}}},
		{cmd: "dnf install -y https://example.com/a.rpm", want: &Step{Kind: InstallURL, Packages: []string{"https://example.com/a.rpm"}}},
		{cmd: "up=$(rpm -qa --qf '%{NAME} ' a 'b*'); [ -z \"$up\" ] || dnf upgrade -y --enablerepo=r $up", want: &Step{Kind: UpgradeInstalled, Packages: []string{"a", "b*"}, Repos: []string{"r"}}},
		{cmd: "ovs=$(rpm -qa --qf '%{NAME} ' 'openvswitch[0-9]*'); [ -z \"$ovs\" ] || rpm-ostree override remove $ovs", want: &Step{Kind: RemoveInstalled, Packages: []string{"openvswitch[0-9]*"}}},
		{cmd: "rpm-ostree override replace libibverbs rdma-core --experimental --from repo=doca", want: &Step{Kind: Replace, Packages: []string{"libibverbs", "rdma-core"}, Repos: []string{"doca"}}},
		{cmd: "rpm-ostree override replace a --from=repo=d", want: &Step{Kind: Replace, Packages: []string{"a"}, Repos: []string{"d"}}},
		{cmd: "dnf install -y https://example.com/a.rpm b", err: "mixes URLs"},
		{cmd: "dnf remove -y x", err: "dnf remove is not modelled"},
		{cmd: "dnf install -y --nogpgcheck x", err: "dnf option --nogpgcheck is not modelled"},
		{cmd: "dnf upgrade -y x", err: "unguarded upgrade"},
		{cmd: "rpm-ostree install x", err: "rpm-ostree install x is not modelled"},
		{cmd: "rpm-ostree override replace x", err: "exactly one --from"},
		{cmd: "rpm-ostree override replace x --from url=http://x", err: "only repo=ID"},
		{cmd: "up=$(rpm -qa --qf '%{NAME} ' a); [ -z \"$up\" ] || dnf upgrade -y $other", want: nil, err: ""},
		{cmd: "x=$(rpm -qa --qf '%{NAME} ' a); [ -z \"$y\" ] || dnf upgrade -y $x", err: "guard uses"},
		{cmd: "true && dnf install x", err: "not at the start"},
		{cmd: "dnf install -y 'x", err: "unterminated"},
	} {
		st, ok, err := parseCommand(tt.cmd)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.cmd, err, tt.err)
			}
			continue
		}
		if err != nil && tt.want != nil {
			t.Errorf("%q: %v", tt.cmd, err)
			continue
		}
		if tt.want == nil {
			if ok && tt.cmd != "up=$(rpm -qa --qf '%{NAME} ' a); [ -z \"$up\" ] || dnf upgrade -y $other" {
				t.Errorf("%q: parsed as %+v, want skipped", tt.cmd, st)
			}
			continue
		}
		if !ok || st.Kind != tt.want.Kind || !reflect.DeepEqual(st.Packages, tt.want.Packages) || !reflect.DeepEqual(st.Repos, tt.want.Repos) {
			t.Errorf("%q: %+v (ok %v), want %+v", tt.cmd, st, ok, *tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	for in, want := range map[string][]string{
		`a b  c`:              {"a", "b", "c"},
		`'a b' "c d"`:         {"a b", "c d"},
		`a\ b`:                {"a b"},
		`"x\"y\\z\$"`:         {`x"y\z$`},
		`'%{NAME} ' x`:        {"%{NAME} ", "x"},
		`pre'mid'"post"`:      {"premidpost"},
		``:                    nil,
		`'' x`:                {"", "x"},
		`--enablerepo=a,b p*`: {"--enablerepo=a,b", "p*"},
	} {
		got, err := Words(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Words(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
