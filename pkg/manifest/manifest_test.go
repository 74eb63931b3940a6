package manifest

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		want     []string // kind/name of each object
		wantErr  string   // substring of the error; "" means success
		wantLocs []string // optional Location() prefixes
	}{
		{
			name: "single object",
			data: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n",
			want: []string{"Pod/a"},
		},
		{
			name: "multi-document with comments and empty documents",
			data: "# header\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\n# only a comment\n---\n\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
			want: []string{"Pod/a", "Namespace/b"},
		},
		{
			name:     "kind List",
			data:     "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: x}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n",
			want:     []string{"Pod/a", "Deployment/d"},
			wantLocs: []string{"src: document 1, item 0", "src: document 1, item 1"},
		},
		{
			name: "typed list such as PodList",
			data: `{"apiVersion":"v1","kind":"PodList","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}]}`,
			want: []string{"Pod/p"},
		},
		{
			name: "JSON object",
			data: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]}}`,
			want: []string{"Pod/a"},
		},
		{name: "empty file", data: "", wantErr: "src: file is empty"},
		{name: "whitespace only", data: "  \n\n", wantErr: "src: file is empty"},
		{name: "comments only", data: "# nothing\n---\n# here\n", wantErr: "no Kubernetes objects found"},
		{name: "binary", data: "\x7fELF\x00\x01\x02", wantErr: "src: not a text manifest (binary data"},
		{name: "invalid utf8", data: "kind: \xff\xfe\n", wantErr: "binary data"},
		{name: "malformed YAML", data: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n", wantErr: "src: document 1: invalid YAML"},
		{name: "malformed YAML in second document", data: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: : :\n", wantErr: "src: document 2: invalid YAML"},
		{name: "malformed JSON", data: `{"apiVersion": "v1", "kind": `, wantErr: "src: document 1: invalid JSON"},
		{name: "scalar document", data: "just a string\n", wantErr: "expected a Kubernetes object, found a string"},
		{name: "list document", data: "- a\n- b\n", wantErr: "expected a Kubernetes object, found a list"},
		{name: "missing kind", data: "apiVersion: v1\nmetadata: {name: a}\n", wantErr: "src: document 1: kind is missing"},
		{name: "missing apiVersion", data: "kind: Pod\nmetadata: {name: a}\n", wantErr: "apiVersion is missing"},
		{name: "kind not a string", data: "apiVersion: v1\nkind: 3\nmetadata: {name: a}\n", wantErr: "kind must be a non-empty string, found a number"},
		{name: "missing metadata.name", data: "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n", wantErr: "src: document 1 (Pod): metadata.name is missing"},
		{name: "missing metadata.name in list item", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: ok}\n- apiVersion: v1\n  kind: Pod\n  metadata: {}\n", wantErr: "src: document 1, item 1 (Pod): metadata.name is missing"},
		{name: "metadata not an object", data: "apiVersion: v1\nkind: Pod\nmetadata: [1]\n", wantErr: "metadata must be an object"},
		{name: "name not a string", data: "apiVersion: v1\nkind: Pod\nmetadata: {name: 5}\n", wantErr: "metadata.name must be a string"},
		{name: "list items not a list", data: "apiVersion: v1\nkind: List\nitems: 3\n", wantErr: "items must be a list"},
		{name: "list item not an object", data: "apiVersion: v1\nkind: List\nitems: [3]\n", wantErr: "src: document 1, item 0: expected a Kubernetes object"},
		{name: "nested list", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n", wantErr: "nested inside a List"},
		{name: "empty list", data: "apiVersion: v1\nkind: List\nitems: []\n", wantErr: "no Kubernetes objects found"},
		{name: "null list", data: "apiVersion: v1\nkind: List\nitems: null\n", wantErr: "no Kubernetes objects found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode([]byte(tt.data), "src")
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Decode() = %d objects, want error containing %q", len(objs), tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode() error = %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() unexpected error: %v", err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.Object.GetKind()+"/"+o.Object.GetName())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("Decode() = %v, want %v", got, tt.want)
			}
			for i, loc := range tt.wantLocs {
				if !strings.HasPrefix(objs[i].Location(), loc) {
					t.Errorf("object %d Location() = %q, want prefix %q", i, objs[i].Location(), loc)
				}
			}
		})
	}
}

func TestDecodeKeepsIntegers(t *testing.T) {
	objs, err := Decode([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  securityContext: {runAsUser: 1000}\n"), "src")
	if err != nil {
		t.Fatal(err)
	}
	v := objs[0].Object.Object["spec"].(map[string]interface{})["securityContext"].(map[string]interface{})["runAsUser"]
	if _, ok := v.(int64); !ok {
		t.Fatalf("runAsUser decoded as %T, want int64 (unstructured conversion needs it)", v)
	}
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pod := func(n string) string { return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + n + "}\n" }
	write("flat/a.yaml", pod("a"))
	write("flat/b.json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}`)
	write("flat/notes.txt", "not a manifest")
	write("flat/sub/c.yml", pod("c"))
	write("empty/README.md", "nothing here")
	odd := write("odd.manifest", pod("odd"))
	bad := write("bad/x.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {}\n")

	tests := []struct {
		name      string
		paths     []string
		recursive bool
		stdin     string
		want      int
		wantErr   string
	}{
		{name: "directory, not recursive", paths: []string{filepath.Join(dir, "flat")}, want: 2},
		{name: "directory, recursive", paths: []string{filepath.Join(dir, "flat")}, recursive: true, want: 3},
		{name: "explicit file with any extension", paths: []string{odd}, want: 1},
		{name: "stdin", paths: []string{"-"}, stdin: pod("s"), want: 1},
		{name: "stdin twice", paths: []string{"-", "-"}, stdin: pod("s"), wantErr: "more than once"},
		{name: "directory without manifests", paths: []string{filepath.Join(dir, "empty")}, wantErr: "directory holds no manifest files"},
		{name: "missing path", paths: []string{filepath.Join(dir, "nope.yaml")}, wantErr: "nope.yaml"},
		{name: "bad file named in error", paths: []string{bad}, wantErr: bad + ": document 1 (Pod): metadata.name is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := ReadPaths(tt.paths, tt.recursive, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadPaths() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tt.want {
				t.Fatalf("ReadPaths() = %d objects, want %d", len(objs), tt.want)
			}
		})
	}
}

// TestSplitDocumentsMatchesYAMLReader: document numbers in errors must be
// the ones kubectl (apimachinery's YAMLReader) would give.
func TestSplitDocumentsMatchesYAMLReader(t *testing.T) {
	for _, in := range []string{
		"a: 1\n",
		"---\na: 1\n---\nb: 2",
		"---\n---\n\n---\na: 1\n--- # c\nb: 2\n",
		"a: 1\r\n---\r\nb: 2\r\n",
		"\n\n---\n",
		"--- \n---\t\na\n",
	} {
		var got []string
		if err := splitDocuments([]byte(in), func(b []byte) error { got = append(got, strings.TrimRight(string(b), "\r\n")); return nil }); err != nil {
			t.Fatal(err)
		}
		var want []string
		r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(in)))
		for {
			b, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, strings.TrimRight(string(b), "\r\n"))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: split into %q, YAMLReader into %q", in, got, want)
		}
	}
}

func TestDecodeHostile(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"UTF-8 BOM", append([]byte{0xEF, 0xBB, 0xBF}, pod...), ""},
		{"UTF-16LE BOM", []byte("\xff\xfea\x00p\x00i\x00V\x00e\x00r\x00s\x00i\x00o\x00n\x00:\x00 \x00v\x001\x00\n\x00k\x00i\x00n\x00d\x00:\x00 \x00P\x00o\x00d\x00\n\x00m\x00e\x00t\x00a\x00d\x00a\x00t\x00a\x00:\x00 \x00{\x00n\x00a\x00m\x00e\x00:\x00 \x00a\x00}\x00"), ""},
		{"UTF-16 odd", []byte("\xff\xfea"), "odd number of bytes"},
		{"UTF-16 lone surrogate", []byte("\xff\xfe\x00\xd8a\x00"), "invalid UTF-16"},
		{"duplicate YAML key", []byte(pod + "kind: Pod\n"), "already set"},
		{"duplicate JSON key", []byte(`{"apiVersion":"v1","kind":"Pod","kind":"Pod","metadata":{"name":"a"}}`), `duplicate field "kind"`},
		{"name with slash", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a/b}\n"), "not a valid object name"},
		{"name with percent", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a%2fb}\n"), "not a valid object name"},
		{"bad namespace", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: A_B}\n"), "not a valid namespace name"},
		{"long line", []byte(pod + "x: " + strings.Repeat("y", MaxLineLength) + "\n"), "document 1: line 4 is"},
		{"alias bomb", []byte(pod + "a: &a [" + strings.Repeat("x", 1<<20) + "]\nb: [" + strings.Repeat("*a,", 20) + "*a]\n"), "aliases expand to more than"},
		{"a few aliases", []byte(pod + "a: &a {x: 1}\nb: *a\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data, "src")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "src: ") {
				t.Fatalf("Decode error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestMergeKeyOverride: a key that overrides what a merge key brought in
// is YAML, and kubectl takes it; a key repeated outright is not.
func TestMergeKeyOverride(t *testing.T) {
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  base: &b {runAsNonRoot: true, runAsUser: 1000}\n  securityContext: {<<: *b, runAsNonRoot: false}\n"
	objs, err := Decode([]byte(doc), "merge.yaml")
	if err != nil {
		t.Fatalf("merge override refused: %v", err)
	}
	sc := objs[0].Object.Object["spec"].(map[string]any)["securityContext"].(map[string]any)
	if sc["runAsNonRoot"] != false || sc["runAsUser"] != int64(1000) {
		t.Errorf("securityContext = %v", sc)
	}
	dup := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  base: &b {runAsUser: 1}\n  securityContext: {<<: *b, runAsUser: 2, runAsUser: 3}\n"
	if _, err := Decode([]byte(dup), "dup.yaml"); err == nil || !strings.Contains(err.Error(), "dup.yaml") {
		t.Errorf("a repeated key beside a merge: %v", err)
	}
}

func TestDocumentLine(t *testing.T) {
	stream := []byte("a: 1\n---\nb: 2\nc: [\n--- # next\n\nd: 4\n")
	tests := []struct {
		name      string
		doc, line int
		want      int
	}{
		{"first document", 1, 1, 1},
		{"second document", 2, 2, 4},
		{"third document after a commented separator", 3, 2, 7},
		{"no such document", 4, 1, 0},
		{"no line", 2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DocumentLine(stream, tt.doc, tt.line); got != tt.want {
				t.Errorf("DocumentLine(doc %d, line %d) = %d, want %d", tt.doc, tt.line, got, tt.want)
			}
		})
	}
}

func TestInputSize(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", 10)
	write("b.json", 20)
	write("notes.txt", 40)
	write("sub/c.yml", 80)
	for _, tt := range []struct {
		name      string
		paths     []string
		recursive bool
		want      int64
	}{
		{"a file", []string{filepath.Join(dir, "a.yaml")}, false, 10},
		{"a file named, whatever its extension", []string{filepath.Join(dir, "notes.txt")}, false, 40},
		{"a directory: its manifests", []string{dir}, false, 30},
		{"a directory, recursively", []string{dir}, true, 110},
		{"stdin and a missing file count nothing", []string{Stdin, filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "b.json")}, false, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := InputSize(tt.paths, tt.recursive); got != tt.want {
				t.Errorf("InputSize = %d, want %d", got, tt.want)
			}
		})
	}
}
