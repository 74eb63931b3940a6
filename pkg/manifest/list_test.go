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
