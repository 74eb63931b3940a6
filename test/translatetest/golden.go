package translatetest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Input is the inventory every engine's golden files are rendered from,
// relative to an engine package's directory.
var Input = filepath.Join("..", "testdata", "input.yaml")

// LoadInput decodes the manifests in path into an inventory.
func LoadInput(t testing.TB, path string) *inventory.Inventory {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// CheckGolden compares YAML streams semantically (document by document, as
// decoded maps) with testdata/name, and rewrites the golden file with
// -update.
func CheckGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	g, w := DecodeDocs(got), DecodeDocs(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

// DecodeDocs decodes a YAML or JSON stream into its documents, leaving out
// empty ones.
func DecodeDocs(stream []byte) []map[string]any {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			break
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}
