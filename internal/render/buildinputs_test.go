package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mosc-dev/mosc/internal/profile"
)

type buildInputs struct {
	Repos []profile.RepoFile
	Keys  []profile.GPGKey
}

func checkBuildInputs(t *testing.T, in buildInputs) {
	t.Helper()
	want, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got := appendBuildInputs(nil, in.Repos, in.Keys)
	if !bytes.Equal(got, want) {
		t.Fatalf("appendBuildInputs:\n%s\njson.Marshal:\n%s", got, want)
	}
}

// appendBuildInputs must write exactly json.Marshal's bytes: the Containerfile
// fingerprint of every bundle depends on them.
func TestBuildInputsJSONMatchesMarshal(t *testing.T) {
	odd := "q\"b\\s/<a>&\x00\x01\x1f\x7f\b\f\n\r\t é \u2028\u2029 \xff\xc3 \xe2\x80 \U0001F600 ~"
	for _, in := range []buildInputs{
		{},
		{Repos: []profile.RepoFile{}, Keys: []profile.GPGKey{}},
		{Repos: []profile.RepoFile{{}}, Keys: []profile.GPGKey{{}}},
		{Repos: []profile.RepoFile{{FileName: "a.repo", Repos: []profile.Repo{}}}},
		{Repos: []profile.RepoFile{{FileName: "a.repo", Repos: []profile.Repo{{Comment: []string{}, Extra: map[string]string{}}}}}},
		{Repos: []profile.RepoFile{{FileName: odd, Repos: []profile.Repo{
			{ID: odd, Name: odd, BaseURL: odd, GPGCheck: true, GPGKey: odd, Comment: []string{odd, ""}, Extra: map[string]string{odd: odd, "b": "1", "a": "", "A": "x"}},
			{ID: "x"},
		}}, {FileName: "b.repo"}}, Keys: []profile.GPGKey{{FileName: odd, Armored: odd}, {FileName: "k"}}},
		{Repos: walkthroughPlan().RepoFiles, Keys: walkthroughPlan().GPGKeys},
	} {
		checkBuildInputs(t, in)
	}
	// Every byte value and every rune class, one at a time.
	for b := 0; b < 256; b++ {
		checkBuildInputs(t, buildInputs{Keys: []profile.GPGKey{{FileName: string([]byte{byte(b)}), Armored: "a" + string([]byte{byte(b)}) + "z"}}})
	}
}

// FuzzBuildInputsJSON fills every field of the two types (found by
// reflection, so a field added to profile.RepoFile, Repo or GPGKey is
// covered, and fails here until appendBuildInputs writes it) from the fuzz
// input and compares with json.Marshal.
func FuzzBuildInputsJSON(f *testing.F) {
	f.Add([]byte("doca\x00https://linux.mellanox.com/\x01<&>\x02"))
	f.Add([]byte("\xff\xfe\u2028\"\\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fill := &filler{data: data}
		var in buildInputs
		fill.value(t, reflect.ValueOf(&in).Elem(), 0)
		checkBuildInputs(t, in)
	})
}

// filler sets values from a byte stream (zero values once it runs out).
type filler struct {
	data []byte
}

func (f *filler) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b
}

func (f *filler) string() string {
	n := int(f.byte() % 24)
	if n > len(f.data) {
		n = len(f.data)
	}
	s := string(f.data[:n])
	f.data = f.data[n:]
	return s
}

func (f *filler) value(t *testing.T, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.string())
	case reflect.Bool:
		v.SetBool(f.byte()&1 == 1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f.value(t, v.Field(i), depth+1)
		}
	case reflect.Slice:
		n := int(f.byte() % 5)
		if n == 4 { // nil and empty both occur
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := 0; i < n; i++ {
			f.value(t, v.Index(i), depth+1)
		}
	case reflect.Map:
		n := int(f.byte() % 5)
		if n == 4 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i < n; i++ {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.value(t, k, depth+1)
			f.value(t, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		t.Fatalf("filler: no case for %s (a new field type in the build inputs: teach appendBuildInputs and this filler)", v.Type())
	}
}
