package node

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeOVSTableEncodings(t *testing.T) {
	in := `{"data":[[["uuid","bb0f2e33-856e-49f3-b063-a25084cb7894"],["set",[["uuid","7b6aaed2-2e60-45bf-b98c-90e6806482dc"],["uuid","7d465f8c-2332-4cd8-9115-f5f53161d838"]]],703,["set",[]],"doca",["map",[["system",["uuid","748f4bb7-442e-479a-9923-811ee91408cc"]]]],["map",[]],true]],"headings":["_uuid","bridges","cur_cfg","ssl","datapath_types","datapaths","statistics","doca_initialized"]}`
	tbl, err := DecodeOVSTable([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	row := tbl.Rows[0]
	s, err := row["_uuid"].String()
	if err != nil || s != "bb0f2e33-856e-49f3-b063-a25084cb7894" {
		t.Errorf("_uuid = %q, %v", s, err)
	}
	bridges, err := row["bridges"].Strings()
	if err != nil || len(bridges) != 2 {
		t.Errorf("bridges = %v, %v", bridges, err)
	}
	if n, _ := row["cur_cfg"].String(); n != "703" {
		t.Errorf("cur_cfg = %q", n)
	}
	if s, err := row["ssl"].String(); err != nil || s != "" {
		t.Errorf("empty set as string = %q, %v", s, err)
	}
	// A one-element set is printed as the bare atom.
	if dt, err := row["datapath_types"].Strings(); err != nil || !cmp.Equal(dt, []string{"doca"}) {
		t.Errorf("datapath_types = %v, %v", dt, err)
	}
	if m, err := row["datapaths"].StringMap(); err != nil || m["system"] != "748f4bb7-442e-479a-9923-811ee91408cc" {
		t.Errorf("datapaths = %v, %v", m, err)
	}
	if m, err := row["statistics"].StringMap(); err != nil || len(m) != 0 {
		t.Errorf("statistics = %v, %v", m, err)
	}
	if b, err := row["doca_initialized"].Bool(); err != nil || !b {
		t.Errorf("doca_initialized = %v, %v", b, err)
	}
	if _, err := row["datapaths"].Bool(); err == nil {
		t.Error("map as bool: no error")
	}
	if _, err := row["bridges"].String(); err == nil {
		t.Error("2-element set as string: no error")
	}
}

func TestDecodeOVSTableErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[]`, "ovsdb json"},
		{`{"data":[]}`, `no "headings"`},
		{`{"data":[["a","b"]],"headings":["x"]}`, "data[0]: 2 values for 1 headings"},
		{`{"data":[[null]],"headings":["x"]}`, "data[0].x: null is not an OVSDB atom"},
		{`{"data":[[["set",3]]],"headings":["x"]}`, `data[0].x: "set" without an element array`},
		{`{"data":[[["map",[[1]]]]],"headings":["x"]}`, "data[0].x: map[0]: not a [key, value] pair"},
		{`{"data":[[["map",[[{},1]]]]],"headings":["x"]}`, "data[0].x: map[0] key: not an OVSDB atom"},
		{`{"data":[[{"a":1}]],"headings":["x"]}`, "data[0].x: not an OVSDB atom"},
	}
	for _, tt := range tests {
		_, err := DecodeOVSTable([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeOVSTable(%s) err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// FuzzDecodeOVSTable: the decoder and every accessor must never panic, and a
// decoded table must be self-consistent.
func FuzzDecodeOVSTable(f *testing.F) {
	for _, name := range []string{"walkthrough-before-doca-init.txt", "walkthrough-enable-doca-init.txt"} {
		secs, err := SplitSections(readFixture(f, name))
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range secs {
			if s.Name == SectionOVS {
				f.Add([]byte(s.Output))
			}
		}
	}
	f.Add([]byte(`{"data":[[["uuid","x"],["set",[1,true]],["map",[["k",["named-uuid","y"]]]]]],"headings":["a","b","c"]}`))
	f.Add([]byte(`{"data":[[["set",[["set",[]]]]]],"headings":["a"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := DecodeOVSTable(data)
		if err != nil {
			return
		}
		for _, row := range tbl.Rows {
			if len(row) > len(tbl.Headings) {
				t.Fatalf("row has %d columns for %d headings", len(row), len(tbl.Headings))
			}
			for _, v := range row {
				_, _ = v.String()
				_, _ = v.Bool()
				_, _ = v.Strings()
				_, _ = v.StringMap()
			}
		}
		// The message parser on top of it must not panic either.
		_, _ = ParseMessage("n", "--- mosc:rpm rc=0 ---\n--- mosc:ovs rc=0 ---\n"+string(data))
		if !json.Valid(data) {
			t.Fatalf("decoded invalid JSON %q", data)
		}
	})
}
