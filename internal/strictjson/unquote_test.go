package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
)

// unquoteBytes gives encoding/json's string for every quoted string, long
// runs of plain bytes between escapes, invalid UTF-8 (which grows the
// output) and surrogates included.
func TestUnquoteBytes(t *testing.T) {
	long := strings.Repeat("RUN dnf install -y doca-all; ", 40)
	cases := []string{``, `a`, `\n`, `a\nb`, long, long + `\n` + long, `\"` + long + `\"`, `é` + long + `\t`,
		strings.Repeat("\xff", 50) + `\n` + long, long + strings.Repeat("\xff", 50), `\u00e9\ud83d\ude00` + long,
		`\ud800` + long, strings.Repeat(`a\n`, 300), strings.Repeat("\xffa", 100) + `\/`, "a\x01b", `a"b`, `\x`, `\`}
	for _, c := range cases {
		q := []byte(`"` + c + `"`)
		var want string
		wantErr := json.Unmarshal(q, &want)
		got, ok := unquoteBytes(q)
		if ok != (wantErr == nil) || ok && string(got) != want {
			t.Errorf("%.40q: %.40q %v, encoding/json %.40q %v", c, got, ok, want, wantErr)
		}
	}
}
