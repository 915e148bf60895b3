package cluster

import (
	"reflect"
	"testing"
)

func TestRepoIDs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		ids     []string
		enabled bool
	}{
		{"[doca]\nbaseurl=x\nenabled=0\n", []string{"doca"}, false},
		{"[baseos]\nenabled=0\n\n[appstream]\nbaseurl=y\n", []string{"baseos", "appstream"}, true}, // no enabled line: dnf's default is 1
		{"[epel]\nenabled = 1\n", []string{"epel"}, true},
		{"# nothing\n", nil, false},
	} {
		ids, en := repoIDs([]byte(tc.in))
		if !reflect.DeepEqual(ids, tc.ids) || en != tc.enabled {
			t.Errorf("repoIDs(%q) = %v, %v; want %v, %v", tc.in, ids, en, tc.ids, tc.enabled)
		}
	}
}

func TestUsersOf(t *testing.T) {
	repos := map[string][]byte{
		"doca.repo":   []byte("[doca]\nenabled=0\ngpgkey=file:///etc/pki/rpm-gpg/GPG-KEY-Mellanox.pub\n"),
		"centos.repo": []byte("[baseos]\nenabled=0\n"),
		"mine.repo":   []byte("[tools]\nbaseurl=z\n"),
	}
	others := []otherMOSC{
		{Name: "infra", spec: `{"containerFile":[{"content":"RUN dnf install -y --enablerepo=doca,baseos doca-ofed"}]}`},
		{Name: "gpu", spec: `{"containerFile":[{"content":"RUN dnf install -y nvidia-driver # doca-free"}]}`},
	}
	cm, sec := SharedInputs[0], SharedInputs[1]
	for _, tc := range []struct {
		in   SharedInput
		key  string
		want []string
	}{
		{cm, "doca.repo", []string{"infra"}},             // enabled by id; "doca-free" is not the id
		{cm, "centos.repo", []string{"infra"}},           // baseos named
		{cm, "mine.repo", []string{"infra", "gpu"}},      // enabled: every dnf call reads it
		{sec, "GPG-KEY-Mellanox.pub", []string{"infra"}}, // referred to by a used repo file
		{sec, "RPM-GPG-KEY-unused", nil},
	} {
		if got := usersOf(tc.in, tc.key, repos[tc.key], repos, others); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("usersOf(%s %s) = %v, want %v", tc.in.Name, tc.key, got, tc.want)
		}
	}
}
