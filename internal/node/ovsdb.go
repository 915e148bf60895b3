package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// OVSDB JSON as printed by `ovs-vsctl --format=json list <table>` (RFC 7047
// §5.1 notation): an atom is a JSON string, number or boolean, or a 2-element
// array ["uuid", "..."] / ["named-uuid", "..."]; a set is ["set", [atoms]] or,
// with exactly one element, the bare atom; a map is ["map", [[key, value]...]].

// OVSTable is one decoded table listing: one Row per record.
type OVSTable struct {
	Headings []string
	Rows     []OVSRow
}

// OVSRow maps a column heading to its decoded value.
type OVSRow map[string]OVSValue

// OVSValueKind says which OVSDB encoding a value had.
type OVSValueKind int

const (
	OVSAtom OVSValueKind = iota
	OVSSet
	OVSMap
)

// OVSValue is one decoded column value. Atoms are kept as Go strings, bools and
// json.Number; UUIDs as OVSUUID.
type OVSValue struct {
	Kind OVSValueKind
	Atom any
	Set  []any
	Map  []OVSPair
}

// OVSPair is one key/value of an OVSDB map, in the order printed.
type OVSPair struct {
	Key, Value any
}

// OVSUUID is a ["uuid", "..."] or ["named-uuid", "..."] atom.
type OVSUUID struct {
	Named bool
	ID    string
}

// DecodeOVSTable decodes the output of `ovs-vsctl --format=json list TABLE`.
// It never panics; malformed input is an error naming the row and column.
func DecodeOVSTable(data []byte) (*OVSTable, error) {
	var raw struct {
		Data     []json.RawMessage `json:"data"`
		Headings []string          `json:"headings"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("ovsdb json: %w", err)
	}
	if raw.Headings == nil {
		return nil, errors.New(`ovsdb json: no "headings"`)
	}
	t := &OVSTable{Headings: raw.Headings}
	for i, rowRaw := range raw.Data {
		var cells []json.RawMessage
		if err := json.Unmarshal(rowRaw, &cells); err != nil {
			return nil, fmt.Errorf("ovsdb json: data[%d]: %w", i, err)
		}
		if len(cells) != len(raw.Headings) {
			return nil, fmt.Errorf("ovsdb json: data[%d]: %d values for %d headings", i, len(cells), len(raw.Headings))
		}
		row := OVSRow{}
		for j, cell := range cells {
			v, err := decodeOVSValue(cell)
			if err != nil {
				return nil, fmt.Errorf("ovsdb json: data[%d].%s: %w", i, raw.Headings[j], err)
			}
			row[raw.Headings[j]] = v
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func decodeJSON(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func decodeOVSValue(raw json.RawMessage) (OVSValue, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return OVSValue{}, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		a, err := toAtom(v)
		return OVSValue{Kind: OVSAtom, Atom: a}, err
	}
	tag, _ := arr[0].(string)
	switch tag {
	case "set":
		elems, ok := arr[1].([]any)
		if !ok {
			return OVSValue{}, errors.New(`"set" without an element array`)
		}
		out := OVSValue{Kind: OVSSet, Set: make([]any, 0, len(elems))}
		for k, e := range elems {
			a, err := toAtom(e)
			if err != nil {
				return OVSValue{}, fmt.Errorf("set[%d]: %w", k, err)
			}
			out.Set = append(out.Set, a)
		}
		return out, nil
	case "map":
		pairs, ok := arr[1].([]any)
		if !ok {
			return OVSValue{}, errors.New(`"map" without a pair array`)
		}
		out := OVSValue{Kind: OVSMap, Map: make([]OVSPair, 0, len(pairs))}
		for k, p := range pairs {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return OVSValue{}, fmt.Errorf("map[%d]: not a [key, value] pair", k)
			}
			key, err := toAtom(kv[0])
			if err != nil {
				return OVSValue{}, fmt.Errorf("map[%d] key: %w", k, err)
			}
			val, err := toAtom(kv[1])
			if err != nil {
				return OVSValue{}, fmt.Errorf("map[%d] value: %w", k, err)
			}
			out.Map = append(out.Map, OVSPair{Key: key, Value: val})
		}
		return out, nil
	default:
		a, err := toAtom(v)
		return OVSValue{Kind: OVSAtom, Atom: a}, err
	}
}

func toAtom(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, json.Number:
		return x, nil
	case []any:
		if len(x) == 2 {
			tag, _ := x[0].(string)
			id, idOK := x[1].(string)
			if idOK && (tag == "uuid" || tag == "named-uuid") {
				return OVSUUID{Named: tag == "named-uuid", ID: id}, nil
			}
		}
		return nil, fmt.Errorf("not an OVSDB atom: %s", compactJSON(x))
	case nil:
		return nil, errors.New("null is not an OVSDB atom")
	default:
		return nil, fmt.Errorf("not an OVSDB atom: %s", compactJSON(x))
	}
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// atomString renders an atom the way ovs-vsctl's text format shows it (without
// quotes).
func atomString(a any) string {
	switch x := a.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case json.Number:
		return x.String()
	case OVSUUID:
		return x.ID
	default:
		return fmt.Sprintf("%v", x)
	}
}

// String returns a scalar column as a string; an empty set (column unset) is "".
func (v OVSValue) String() (string, error) {
	switch v.Kind {
	case OVSAtom:
		return atomString(v.Atom), nil
	case OVSSet:
		switch len(v.Set) {
		case 0:
			return "", nil
		case 1:
			return atomString(v.Set[0]), nil
		}
		return "", fmt.Errorf("set of %d values where one was expected", len(v.Set))
	default:
		return "", errors.New("map where a single value was expected")
	}
}

// Bool returns a boolean column; an empty set (unset optional column) is false.
func (v OVSValue) Bool() (bool, error) {
	var a any
	switch v.Kind {
	case OVSAtom:
		a = v.Atom
	case OVSSet:
		if len(v.Set) == 0 {
			return false, nil
		}
		if len(v.Set) != 1 {
			return false, fmt.Errorf("set of %d values where a boolean was expected", len(v.Set))
		}
		a = v.Set[0]
	default:
		return false, errors.New("map where a boolean was expected")
	}
	switch x := a.(type) {
	case bool:
		return x, nil
	case string: // tolerate "true"/"false" strings from older ovs-vsctl
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s is not a boolean", atomString(a))
}

// Strings returns a set column as strings (a bare atom is a one-element set),
// sorted as ovs-vsctl prints them.
func (v OVSValue) Strings() ([]string, error) {
	var out []string
	switch v.Kind {
	case OVSAtom:
		out = []string{atomString(v.Atom)}
	case OVSSet:
		out = make([]string, 0, len(v.Set))
		for _, a := range v.Set {
			out = append(out, atomString(a))
		}
	default:
		return nil, errors.New("map where a set was expected")
	}
	sort.Strings(out)
	return out, nil
}

// StringMap returns a map column as Go map.
func (v OVSValue) StringMap() (map[string]string, error) {
	out := map[string]string{}
	switch v.Kind {
	case OVSMap:
		for _, p := range v.Map {
			out[atomString(p.Key)] = atomString(p.Value)
		}
		return out, nil
	case OVSSet:
		if len(v.Set) == 0 { // an empty map prints as an empty set in some versions
			return out, nil
		}
	}
	return nil, errors.New("not a map")
}
