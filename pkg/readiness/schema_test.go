package readiness

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/test/schematest"
)

// TestSchema pins every JSON path of the readiness report, with its type
// and options, to testdata/schema.golden, and checks that the report embeds
// no other package's type. Keys may be added within an apiVersion (update
// the golden file and docs/readiness.md); nothing else may change.
func TestSchema(t *testing.T) {
	schematest.Check(t, reflect.TypeFor[Report](), filepath.Join("testdata", "schema.golden"), *update)
}
