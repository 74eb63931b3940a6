package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendIndentedMatchesIndent pins appendIndented to json.Indent on
// compact JSON, the only input it is given.
func TestAppendIndentedMatchesIndent(t *testing.T) {
	tests := []struct {
		name, src string
	}{
		{name: "scalar", src: `42`},
		{name: "string", src: `"a"`},
		{name: "trailing newline", src: "{\"a\":1}\n"},
		{name: "empty object and array", src: `{"a":{},"b":[],"c":[{}],"d":[[]]}`},
		{name: "nested", src: `{"a":[1,2,{"b":null,"c":[true,false]}],"d":{"e":"f"}}`},
		{name: "punctuation in strings", src: `{"{[:,]}":"x,y:z{}[]","q":"say \"hi\", [ok]"}`},
		{name: "escaped backslashes", src: `["a\\","b\\\\","c\\\"d\\",""]`},
		{name: "unicode and HTML escapes", src: `{"h":"\u003cb\u003e \u0026","u":"héllo ☃","n":-1.5e+10}`},
		{name: "deep", src: `[[[[[[[[[[1]]]]]]]]]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkIndented(t, []byte(tt.src))
		})
	}
	t.Run("report", func(t *testing.T) {
		raw, err := json.Marshal(&AuditReport{
			APIVersion: APIVersion, Kind: Kind,
			Pods: []Pod{{Name: "p<1>", PSS: PSSResult{Restricted: PSSLevel{Reasons: []PSSReason{{Reason: "x", Detail: `"c" & \ more`}}}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkIndented(t, raw)
	})
}

// FuzzAppendIndented checks appendIndented against json.Indent on any
// valid JSON, compacted first as encoding/json's output is.
func FuzzAppendIndented(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"]"}],"d":{}}`, `[]`, `"\\"`, "1\n", `{"":[[],{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if !json.Valid(src) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, src); err != nil {
			t.Fatalf("compact valid JSON: %v", err)
		}
		checkIndented(t, compact.Bytes())
	})
}

func checkIndented(t *testing.T, src []byte) {
	t.Helper()
	for _, p := range [][2]string{{"", "  "}, {"    ", "  "}, {">", "\t"}} {
		var want bytes.Buffer
		if err := json.Indent(&want, src, p[0], p[1]); err != nil {
			t.Fatalf("json.Indent(%q): %v", src, err)
		}
		got := appendIndented([]byte("keep:"), src, p[0], p[1])
		if !bytes.Equal(got, append([]byte("keep:"), want.Bytes()...)) {
			t.Errorf("appendIndented(%q, %q, %q):\ngot  %q\nwant %q", src, p[0], p[1], got[len("keep:"):], want.Bytes())
		}
	}
}
