package bundle

import "testing"

// The byte tables against the comparisons they stand for.
func TestJSONPlainASCII(t *testing.T) {
	if len(jsonPlainASCII) != 128 {
		t.Fatal(len(jsonPlainASCII))
	}
	for b := 0; b < 128; b++ {
		want := b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
		if (jsonPlainASCII[b] == '1') != want {
			t.Errorf("%#x", b)
		}
	}
}

func TestYAMLQuotedASCII(t *testing.T) {
	if len(yamlQuotedASCII) != 128 {
		t.Fatal(len(yamlQuotedASCII))
	}
	for b := 0; b < 128; b++ {
		want := b >= ' ' && b != 0x7f && b != '"' && b != '\\'
		if (yamlQuotedASCII[b] == '1') != want {
			t.Errorf("%#x", b)
		}
	}
}
