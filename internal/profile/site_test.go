package profile

import (
	"io"
	"strings"
	"testing"
)

// site builds a site file from lines, so line numbers in expectations are
// easy to count: line 1 is apiVersion, line 2 kind, line 3 spec.
func siteDoc(lines ...string) string {
	return "apiVersion: mosc.dev/v1alpha1\nkind: Site\n" + strings.Join(lines, "\n") + "\n"
}

func TestDecodeSiteErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // every error line, exactly
	}{
		{"unknown field with typo hint", siteDoc("spec:", "  pools: worker"),
			[]string{`mosc.yaml:4:3: spec.pools: unknown field "pools"; did you mean "pool"?`}},
		{"unknown field lists known", siteDoc("spec:", "  registry:", "    zzzzzzzz: 1"),
			[]string{`mosc.yaml:5:5: spec.registry.zzzzzzzz: unknown field "zzzzzzzz"; known: internal, pushSpec, size, storageClass`}},
		{"case slip", siteDoc("spec:", "  repos:", "    gpgcheck: false"),
			[]string{`mosc.yaml:5:5: spec.repos.gpgcheck: unknown field "gpgcheck"; did you mean "gpgCheck"?`}},
		{"wrong type string", siteDoc("spec:", "  pool: [a, b]"),
			[]string{`mosc.yaml:4:9: spec.pool: expected a string, got a list`}},
		{"wrong type bool", siteDoc("spec:", "  registry:", "    internal: yes"),
			[]string{`mosc.yaml:5:15: spec.registry.internal: expected true or false, got "yes"`}},
		{"wrong type int", siteDoc("spec:", "  node:", "    hugepages:", "      size: 1G", "      count: many"),
			[]string{`mosc.yaml:7:14: spec.node.hugepages.count: expected an integer, got "many"`}},
		{"wrong type mapping", siteDoc("spec: [1]"),
			[]string{`mosc.yaml:3:7: spec: expected a mapping, got a list`}},
		{"bool into string", siteDoc("spec:", "  pool: true"),
			[]string{`mosc.yaml:4:9: spec.pool: expected a string, got "true" (quote it)`}},
		{"missing required", siteDoc("spec:", "  stacks:", "  - variant: ovs"),
			[]string{`mosc.yaml:5:5: spec.stacks[0].name: missing required field "name"`}},
		{"required but empty", siteDoc("spec:", "  stacks:", "  - name: \"\""),
			[]string{`mosc.yaml:5:11: spec.stacks[0].name: must not be empty`}},
		{"bad duration", siteDoc("spec:", "  secrets:", "    tokenTTL: 3 days"),
			[]string{`mosc.yaml:5:15: spec.secrets.tokenTTL: invalid duration "3 days": want e.g. 720h or 90m`}},
		{"duplicate key", siteDoc("spec:", "  pool: a", "  pool: b"),
			[]string{`mosc.yaml:5:3: spec.pool: duplicate key "pool"`}},
		{"alias", siteDoc("metadata: &m", "  name: x", "spec:", "  pool: *m"),
			[]string{`mosc.yaml:6:9: spec.pool: YAML aliases are not supported`}},
		{"merge key", siteDoc("spec:", "  <<: {pool: a}"),
			[]string{`mosc.yaml:4:3: spec: YAML merge keys (<<) are not supported`}},
		{"several at once", siteDoc("spec:", "  pool: [x]", "  platfrom: rhel9-x86_64", "  extraPackages: vim"),
			[]string{
				`mosc.yaml:4:9: spec.pool: expected a string, got a list`,
				`mosc.yaml:5:3: spec.platfrom: unknown field "platfrom"; did you mean "platform"?`,
				`mosc.yaml:6:18: spec.extraPackages: expected a list, got "vim"`,
			}},
		{"wrong apiVersion", "apiVersion: mosc.dev/v2\nkind: Site\n",
			[]string{`mosc.yaml:1:13: apiVersion: unsupported apiVersion "mosc.dev/v2"; supported: mosc.dev/v1alpha1`}},
		{"missing apiVersion", "kind: Site\n",
			[]string{`mosc.yaml:1:1: apiVersion: missing required field "apiVersion" (want mosc.dev/v1alpha1)`}},
		{"wrong kind", "apiVersion: mosc.dev/v1alpha1\nkind: Stack\n",
			[]string{`mosc.yaml:2:7: kind: unknown kind "Stack"; known: Site`}},
		{"missing kind", "apiVersion: mosc.dev/v1alpha1\n",
			[]string{`mosc.yaml:1:1: kind: missing required field "kind" (one of Site)`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`mosc.yaml:1:1: expected a mapping with apiVersion and kind, got a list`}},
		{"empty", "", []string{`mosc.yaml:1:1: empty document`}},
		{"only comments", "# nothing\n", []string{`mosc.yaml:1:1: empty document`}},
		{"two documents", siteDoc() + "---\napiVersion: mosc.dev/v1alpha1\n",
			[]string{`mosc.yaml:4:1: more than one YAML document; expected exactly one`}},
		{"syntax error has the line", siteDoc("spec:", "  pool: a", " bad: [", ""),
			[]string{`mosc.yaml:5: invalid YAML: did not find expected key (check the indentation)`}},
		// yaml.v3 alone said line 3 (the 0-based start of spec's mapping).
		{"mis-indented nested key", siteDoc("spec:", "  pool: a", "  registry:", "    internal: true", "    size: 100Gi", "   pushSpec: x"),
			[]string{`mosc.yaml:8: invalid YAML: did not find expected key (inside the block that starts at line 4; check the indentation)`}},
		{"unclosed flow list", siteDoc("spec:", "  extraPackages: [a, b", "  pool: a"),
			[]string{`mosc.yaml:5: invalid YAML: did not find expected ',' or ']' (the [ opened on line 4 is not closed)`}},
		{"unclosed flow mapping", siteDoc("spec: {pool: a", "x: y"),
			[]string{`mosc.yaml:4: invalid YAML: did not find expected ',' or '}' (the { opened on line 3 is not closed)`}},
		{"tab indentation", "apiVersion: mosc.dev/v1alpha1\nkind: Site\nspec:\n\tpool: a\n",
			[]string{`mosc.yaml:4: invalid YAML: found character that cannot start any token (a tab: YAML indents with spaces only)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeSite("mosc.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDecodeSiteFull(t *testing.T) {
	doc := siteDoc(
		"metadata:",
		"  name: lab-1",
		"spec:",
		"  openshift: 4.20", // unquoted: must stay "4.20", not 4.2
		"  platform: rhel9-x86_64",
		"  pool: master",
		"  stacks:",
		"  - doca-3.3:ovs", // short form
		"  - name: doca-3.2",
		"    variant: full",
		"    version: 3.2.1",
		"  registry:",
		"    internal: true",
		"    storageClass: lvms-vg1",
		"    size: 50Gi",
		"    pushSpec: quay.example.com/ocp/os-image:doca",
		"  secrets:",
		"    mode: placeholder",
		"    pushAuthFile: auth.json",
		"    tokenTTL: 720h",
		"  repos:",
		"    gpgCheck: false",
		"    mirrors:",
		"      doca: https://mirror.example.com/doca/",
		"  extraPackages: [tcpdump]",
		"  node:",
		"    docaInit: true",
		"    hwOffload: true",
		"    hugepages: {defaultSize: 1G, size: 1G, count: 16}",
		"    otherConfig:",
		"      hw-offload-ct-size: \"0\"",
	)
	s, err := DecodeSite("mosc.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sp := s.Spec
	if s.Metadata.Name != "lab-1" || sp.OpenShift != "4.20" || sp.Platform != "rhel9-x86_64" || sp.Pool != "master" {
		t.Errorf("scalars: %+v %+v", s.Metadata, sp)
	}
	if len(sp.Stacks) != 2 || sp.Stacks[0] != (StackRef{Name: "doca-3.3", Variant: "ovs"}) || sp.Stacks[1] != (StackRef{Name: "doca-3.2", Variant: "full", Version: "3.2.1"}) {
		t.Errorf("stacks: %+v", sp.Stacks)
	}
	if sp.Registry.Internal == nil || !*sp.Registry.Internal || sp.Registry.StorageClass != "lvms-vg1" || sp.Registry.Size != "50Gi" {
		t.Errorf("registry: %+v", sp.Registry)
	}
	if sp.Secrets.Mode != "placeholder" || sp.Secrets.TokenTTL.String() != "720h0m0s" {
		t.Errorf("secrets: %+v", sp.Secrets)
	}
	if sp.Repos.GPGCheck == nil || *sp.Repos.GPGCheck || sp.Repos.Mirrors["doca"] != "https://mirror.example.com/doca/" {
		t.Errorf("repos: %+v", sp.Repos)
	}
	if sp.Node.Hugepages == nil || *sp.Node.Hugepages != (SiteHugepages{DefaultSize: "1G", Size: "1G", Count: 16}) || sp.Node.OtherConfig["hw-offload-ct-size"] != "0" {
		t.Errorf("node: %+v", sp.Node)
	}
	if p, _ := s.Pos("spec.stacks[1].version"); p.String() != "mosc.yaml:13:14" {
		t.Errorf("position of spec.stacks[1].version = %s", p)
	}
}

func TestOverrideRemembersFlags(t *testing.T) {
	s, err := DecodeSite("mosc.yaml", []byte(siteDoc("spec:", "  pool: worker", "  openshift: \"4.19\"")))
	if err != nil {
		t.Fatal(err)
	}
	internal := true
	s.Override(Overrides{Pool: "infra", Stacks: []string{"doca-3.2:ovs", "doca-2.9"}, InternalRegistry: &internal})
	if s.Spec.Pool != "infra" || s.Spec.OpenShift != "4.19" {
		t.Errorf("pool %q openshift %q", s.Spec.Pool, s.Spec.OpenShift)
	}
	if got := s.SetBy("spec.pool"); got != "--pool" {
		t.Errorf("SetBy(spec.pool) = %q", got)
	}
	if got := s.SetBy("spec.stacks[1].variant"); got != "--stack" {
		t.Errorf("SetBy(spec.stacks[1].variant) = %q", got)
	}
	if got := s.SetBy("spec.openshift"); got != "" {
		t.Errorf("SetBy(spec.openshift) = %q, want file", got)
	}
	if len(s.Spec.Stacks) != 2 || s.Spec.Stacks[0] != (StackRef{Name: "doca-3.2", Variant: "ovs"}) {
		t.Errorf("stacks %+v", s.Spec.Stacks)
	}
	s.DefaultOpenShift("4.21.3", "cluster version")
	if s.Spec.OpenShift != "4.19" {
		t.Errorf("cluster version replaced the file's release: %q", s.Spec.OpenShift)
	}
	n := NewSite()
	n.DefaultOpenShift("4.21.3", "cluster version")
	if n.Spec.OpenShift != "4.21.3" || n.SetBy("spec.openshift") != "cluster version" {
		t.Errorf("DefaultOpenShift on an empty site: %q %q", n.Spec.OpenShift, n.SetBy("spec.openshift"))
	}
}

// -f - reads the site file from standard input; errors name <stdin>.
func TestLoadSiteStdin(t *testing.T) {
	defer func(r io.Reader) { siteStdin = r }(siteStdin)
	siteStdin = strings.NewReader(siteDoc("spec:", "  openshift: \"4.20\"", "  pool: master"))
	s, err := LoadSite("-")
	if err != nil || s.Spec.Pool != "master" || s.File != StdinName {
		t.Fatalf("LoadSite(-): %v %+v", err, s)
	}
	siteStdin = strings.NewReader(siteDoc("spec:", "  pools: master"))
	if _, err := LoadSite("-"); err == nil || !strings.HasPrefix(err.Error(), `<stdin>:4:3: spec.pools: unknown field "pools"`) {
		t.Errorf("error: %v", err)
	}
}
