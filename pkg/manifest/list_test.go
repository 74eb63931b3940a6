package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// decodeWhole is Decode as it was before Lists were decoded item by item:
// every document turned whole into one tree. Decode must give exactly its
// objects and errors.
func decodeWhole(data []byte, source string) ([]Object, error) {
	data, err := toUTF8(data, source)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, fmt.Errorf("%s: file is empty: %w", source, ErrNoObjects)
	}
	var out []Object
	if isJSON(data) {
		out, err = decodeDocument(data, source, 1, true)
		if err != nil {
			return nil, err
		}
	} else {
		doc := 0
		err := splitDocuments(data, func(raw []byte) error {
			doc++
			if n, line := longestLine(raw); n > MaxLineLength {
				return fmt.Errorf("%s: document %d: line %d is %d bytes long, over the limit of %d (no Kubernetes object is that large)", source, doc, line, n, MaxLineLength)
			}
			objs, err := decodeDocument(raw, source, doc, false)
			out = append(out, objs...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w (only comments or empty documents)", source, ErrNoObjects)
	}
	return out, nil
}

// checkSameAsWhole fails t when Decode and decodeWhole disagree on data.
func checkSameAsWhole(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := Decode(data, "src")
	want, wantErr := decodeWhole(data, "src")
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("error:\n got  %v\n want %v", gotErr, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("%d objects, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Location() != want[i].Location() || !reflect.DeepEqual(got[i].Object, want[i].Object) {
			t.Fatalf("object %d: got %s %v, want %s %v", i, got[i].Location(), got[i].Object, want[i].Location(), want[i].Object)
		}
	}
	// Raw objects, once parsed, are the same objects, and their header is
	// the object's.
	var raw []Object
	rawErr := decodeEach(data, "src", true, nil, func(o Object) error {
		if o.Raw != nil {
			hdr := o
			u, err := ParseRaw(o)
			if err != nil {
				t.Fatalf("%s: raw object does not parse: %v", o.Location(), err)
			}
			o.Object, o.Raw = u, nil
			if hdr.Location() != o.Location() {
				t.Fatalf("raw object's header says %s, the object %s", hdr.Location(), o.Location())
			}
		}
		raw = append(raw, o)
		return nil
	})
	if fmt.Sprint(rawErr) != fmt.Sprint(wantErr) {
		t.Fatalf("raw: error:\n got  %v\n want %v", rawErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if len(raw) != len(want) {
		t.Fatalf("raw: %d objects, want %d", len(raw), len(want))
	}
	for i := range raw {
		if raw[i].Location() != want[i].Location() || !reflect.DeepEqual(raw[i].Object, want[i].Object) {
			t.Fatalf("raw: object %d: got %s %v, want %s %v", i, raw[i].Location(), raw[i].Object, want[i].Location(), want[i].Object)
		}
	}
}

func TestItemWiseListMatchesWhole(t *testing.T) {
	pod := func(name string) string {
		return "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: " + name + "\n    namespace: ns\n  spec:\n    containers:\n    - name: c\n      image: x\n"
	}
	list := "apiVersion: v1\nitems:\n" + pod("a") + pod("b") + "kind: List\nmetadata:\n  resourceVersion: \"\"\n"
	tests := []struct {
		name string
		data string
		// itemWise says whether the layout is one decodeListItems takes.
		itemWise bool
	}{
		{name: "kubectl get -o yaml", data: list, itemWise: true},
		{name: "after a separator", data: "---\n" + list, itemWise: true},
		{name: "two List documents", data: list + "---\n" + list},
		{name: "CRLF", data: strings.ReplaceAll(list, "\n", "\r\n"), itemWise: true},
		{name: "items indented", data: "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: b}\n", itemWise: true},
		{name: "lone dash", data: "apiVersion: v1\nkind: List\nitems:\n-\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n", itemWise: true},
		{name: "extra spaces after the dash", data: "apiVersion: v1\nkind: List\nitems:\n-   apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n", itemWise: true},
		{name: "block scalar", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n    f: |\n      - not an item\n      x: y\n\n      z\n" + pod("b"), itemWise: true},
		{name: "anchor and alias within an item", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, labels: &l {x: y}, annotations: *l}\n", itemWise: true},
		{name: "merge key override within an item", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  base: &b {a: 1}\n  over:\n    <<: *b\n    a: 2\n  metadata: {name: a}\n", itemWise: true},
		{name: "alias to another item", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, labels: &l {x: y}}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b, labels: *l}\n"},
		{name: "alias to the wrapper", data: "x: &v v1\napiVersion: *v\nkind: List\nitems:\n- apiVersion: *v\n  kind: Pod\n  metadata: {name: a}\n"},
		{name: "quoted string across an item boundary", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  x: \"one\n- two\"\n" + pod("b")},
		{name: "quoted string ending the sequence", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  x: \"one\nkind: two\"\n"},
		{name: "comment at column 0 between items", data: "apiVersion: v1\nkind: List\nitems:\n" + pod("a") + "# note\n" + pod("b")},
		{name: "duplicate key in an item", data: "apiVersion: v1\nkind: List\nitems:\n" + pod("a") + "- apiVersion: v1\n  kind: Pod\n  kind: Pod\n  metadata: {name: b}\n"},
		{name: "duplicate items key", data: list + "items:\n" + pod("c")},
		{name: "duplicate kind in the wrapper", data: list + "kind: List\n"},
		{name: "invalid item", data: "apiVersion: v1\nkind: List\nitems:\n" + pod("a") + "- 3\n"},
		{name: "null item", data: "apiVersion: v1\nkind: List\nitems:\n" + pod("a") + "-\n" + pod("b")},
		{name: "item without name", data: "apiVersion: v1\nkind: List\nitems:\n" + pod("a") + "- apiVersion: v1\n  kind: Pod\n"},
		{name: "nested list", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n"},
		{name: "wrapper without kind", data: "apiVersion: v1\nitems:\n" + pod("a")},
		{name: "wrapper kind not a List", data: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nitems:\n" + pod("a"), itemWise: true},
		{name: "syntax error after the items", data: list + "metadata: [\n"},
		{name: "items under another key", data: "apiVersion: v1\nkind: List\nspec:\n  items:\n  - a\nitems:\n" + pod("a"), itemWise: true},
		{name: "items then a flow key", data: "apiVersion: v1\nitems:\n" + pod("a") + "{kind: List}\n"},
		{name: "tab-indented line", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n\tkind: Pod\n"},
		{name: "document end marker", data: list + "...\n"},
		{name: "alias bomb spread over items", data: "apiVersion: v1\nkind: List\nitems:\n" + strings.Repeat("- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  s: &s "+strings.Repeat("x", 1<<20)+"\n  l: [*s, *s, *s, *s, *s, *s, *s, *s, *s]\n", 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := findListLayout([]byte(tt.data))
			if ok != tt.itemWise && tt.itemWise {
				t.Errorf("findListLayout = %v, want %v", ok, tt.itemWise)
			}
			checkSameAsWhole(t, []byte(tt.data))
		})
	}
}

// TestItemWiseMatchesWholeOnCorpus holds Decode to the whole decode on
// every input the fuzzer and the tests keep.
func TestItemWiseMatchesWholeOnCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/fuzz/FuzzDecode/*")
	more, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f, "testdata/fuzz/") {
			data = fuzzInput(t, data)
		}
		t.Run(filepath.Base(f), func(t *testing.T) { checkSameAsWhole(t, data) })
	}
}

// fuzzInput reads the []byte of a corpus file written by go test -fuzz.
func fuzzInput(t *testing.T, file []byte) []byte {
	t.Helper()
	lines := strings.SplitN(string(file), "\n", 3)
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("not a corpus file: %q", file)
	}
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
	var s string
	if _, err := fmt.Sscanf(lit, "%q", &s); err != nil {
		t.Fatalf("corpus literal %s: %v", lit, err)
	}
	return []byte(s)
}

// TestRawFastPath checks that the Lists kubectl prints, YAML and JSON, do
// come as Object.Raw: every check above passes just as well when the fast
// path always gives up.
func TestRawFastPath(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"yaml", "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    namespace: ns\n  spec: {}\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: ns\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"},
		{"json", "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\", \"namespace\": \"ns\"}, \"spec\": {\"x\": [1, -2.5e3, true, null]}},\n        {\"kind\": \"Namespace\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"ns\"}}\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\"resourceVersion\": \"\"}\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := decodeEach([]byte(tc.data), "src", true, nil, func(o Object) error {
				if o.Raw == nil {
					t.Errorf("%s: not raw", o.Location())
				}
				got = append(got, o.Location())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{`src: document 1, item 0 (Pod "a")`, `src: document 1, item 1 (Namespace "ns")`}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			checkSameAsWhole(t, []byte(tc.data))
		})
	}
}

// TestScanJSONMatchesDecoder holds jsonScanner to its promise: it accepts
// only what the decoder accepts without error.
func TestScanJSONMatchesDecoder(t *testing.T) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `{"a":[{"b":1},{"b":1}]}`,
		`{"a":1e400}`, `{"a":-1e400}`, `{"a":99999999999999999999}`, `{"a":1.5e3}`, `{"a":01}`,
		`{"a":"\u00e9\n"}`, `{"a":"\x"}`, "{\"a\":\"\t\"}", `{"a\u0062":1,"ab":2}`, `{"a":tru}`,
		`{"a":[1,]}`, `{"a":1,}`, `{"a" 1}`, `{"a":1} x`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`,
		`{"a":[` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `]}`,
	} {
		_, ok := scanJSONObject([]byte(s))
		_, err := parseJSON([]byte(s))
		if ok && err != nil {
			t.Errorf("%.40s: scanner accepts what the decoder refuses: %v", s, err)
		}
	}
}

// TestMappedFileMatchesDecode reads Lists of several megabytes from files,
// which are mapped and whose pages are handed back as items are decoded,
// and holds the result to Decode's on the same bytes.
func TestMappedFileMatchesDecode(t *testing.T) {
	var y, j strings.Builder
	y.WriteString("apiVersion: v1\nitems:\n")
	j.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [")
	for i := range 4000 {
		fmt.Fprintf(&y, "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p%d\n    namespace: ns\n  spec:\n    containers:\n    - image: registry.example/app:%d\n      name: c\n      env:\n      - {name: A, value: %q}\n", i, i, strings.Repeat("v", i%700))
		if i > 0 {
			j.WriteString(",")
		}
		fmt.Fprintf(&j, "\n        {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p%d\", \"namespace\": \"ns\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"x:%d\", \"env\": [{\"name\": \"A\", \"value\": %q}]}]}}", i, i, strings.Repeat("v", i%700))
	}
	y.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	j.WriteString("\n    ],\n    \"kind\": \"List\"\n}\n")
	for name, data := range map[string]string{"dump.yaml": y.String(), "dump.json": j.String()} {
		t.Run(name, func(t *testing.T) {
			if len(data) < 2<<20 {
				t.Fatalf("only %d bytes: too small to hand pages back", len(data))
			}
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := Decode([]byte(data), path)
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range []bool{false, true} {
				var got []Object
				err := WalkPathsWith([]string{path}, false, nil, WalkOptions{Raw: raw}, func(o Object) error {
					if o.Raw != nil {
						u, err := ParseRaw(o)
						if err != nil {
							return err
						}
						o.Object, o.Raw = u, nil
					}
					got = append(got, o)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("raw %v: %d objects, want %d", raw, len(got), len(want))
				}
				for i := range got {
					if got[i].Location() != want[i].Location() || !reflect.DeepEqual(got[i].Object, want[i].Object) {
						t.Fatalf("raw %v: object %d: got %s, want %s", raw, i, got[i].Location(), want[i].Location())
					}
				}
			}
		})
	}
}
