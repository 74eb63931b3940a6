package translate

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func manifests(names ...string) []Manifest {
	out := make([]Manifest, len(names))
	for i, n := range names {
		out[i] = Manifest{FileName: n, YAML: []byte("name: " + n + "\n")}
	}
	return out
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteDir(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		write    []Manifest
		force    bool
		errPart  string
		want     []string // files afterwards
	}{
		{name: "fresh directory", write: manifests("a.yaml", "b.yaml"), want: []string{ManifestListFile, "a.yaml", "b.yaml"}},
		{name: "existing file refused, nothing written", existing: []string{"b.yaml"}, write: manifests("a.yaml", "b.yaml"),
			errPart: "already exist", want: []string{"b.yaml"}},
		{name: "existing file overwritten with --force", existing: []string{"b.yaml"}, write: manifests("a.yaml", "b.yaml"), force: true,
			want: []string{ManifestListFile, "a.yaml", "b.yaml"}},
		{name: "path separators refused", write: manifests("../x.yaml"), errPart: "not a plain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if len(tt.existing) > 0 {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, f := range tt.existing {
					if err := os.WriteFile(filepath.Join(dir, f), []byte("old\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := WriteDir(dir, tt.write, WriteOptions{Force: tt.force})
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("err = %v, want %q", err, tt.errPart)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				return
			}
			if got := listDir(t, dir); !slices.Equal(got, tt.want) {
				t.Errorf("files = %v, want %v (no temporary file may remain)", got, tt.want)
			}
			if err == nil {
				for _, m := range tt.write {
					b, _ := os.ReadFile(filepath.Join(dir, m.FileName))
					if !bytes.Equal(b, m.YAML) {
						t.Errorf("%s = %q, want %q", m.FileName, b, m.YAML)
					}
				}
			} else {
				b, _ := os.ReadFile(filepath.Join(dir, "b.yaml"))
				if string(b) != "old\n" {
					t.Errorf("existing file changed to %q", b)
				}
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	ns := func(name string) Object {
		return Object{Engine: "psa", FileName: "psa-namespace-" + name + ".yaml", Object: &corev1.Namespace{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: name}}}
	}
	ms, err := Marshal([]Object{ns("a"), ns("b")})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteStream(&buf, ms); err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n"
	if buf.String() != want {
		t.Errorf("stream = %q, want %q", buf.String(), want)
	}
	if _, err := Marshal([]Object{ns("a"), ns("a")}); err == nil || !strings.Contains(err.Error(), "two objects") {
		t.Errorf("duplicate file name: err = %v", err)
	}
}
