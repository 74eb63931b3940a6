package report

import (
	"flag"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/schematest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestSchema pins every JSON path of the audit report, with its type and
// options, to testdata/schema.golden, and checks that every type in it is
// the report's own. Keys may be added within an apiVersion (update the
// golden file and docs/report.md); nothing else may change.
func TestSchema(t *testing.T) {
	schematest.Check(t, reflect.TypeFor[AuditReport](), filepath.Join("testdata", "schema.golden"), *update)
}

// TestConvertersCopyEveryField fills every field of the model packages'
// types and checks that the report's copy has every field set: a field
// added to the report but not to its converter fails here.
func TestConvertersCopyEveryField(t *testing.T) {
	var (
		verdict  pspadmission.Result
		result   pss.Result
		policies = make([]translate.PolicyVerdict, 1)
		grants   = make([]rbac.Finding, 1)
		issues   = make([]inventory.Issue, 1)
	)
	for _, v := range []any{&verdict, &result, &policies[0], &grants[0], &issues[0]} {
		fill(reflect.ValueOf(v).Elem())
	}
	for _, tt := range []struct {
		name string
		v    any
	}{
		{"PSPVerdict", NewPSPVerdict(&verdict)},
		{"PSSResult", NewPSSResult(result)},
		{"PSSResult pointer", NewPSSResultPtr(&result)},
		{"PolicyVerdict", NewPolicyVerdicts(policies)},
		{"DangerousGrant", NewDangerousGrants(grants)},
		{"ReadIssue", NewReadIssues(issues)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range zeroFields(reflect.ValueOf(tt.v), tt.name) {
				t.Errorf("%s is not copied", p)
			}
		})
	}
	t.Run("nil stays nil, empty stays empty", func(t *testing.T) {
		if NewPSPVerdict(nil) != nil || NewPSSResultPtr(nil) != nil || NewFieldChanges(nil) != nil ||
			NewPolicyVerdicts(nil) != nil || NewDangerousGrants(nil) != nil || NewReadIssues(nil) != nil {
			t.Error("a nil input gave a non-nil copy (the JSON would say [] or {} instead of null)")
		}
		if NewFieldChanges([]pspadmission.FieldChange{}) == nil || NewPolicyVerdicts([]translate.PolicyVerdict{}) == nil ||
			NewDangerousGrants([]rbac.Finding{}) == nil || NewReadIssues([]inventory.Issue{}) == nil {
			t.Error("an empty input gave a nil copy (the JSON would say null instead of [])")
		}
		if r := NewPSSResult(pss.Result{Baseline: pss.LevelResult{Reasons: []pss.Reason{}}}); r.Baseline.Reasons == nil || r.Restricted.Reasons != nil {
			t.Error("PSS reasons lost the difference between nil and empty")
		}
	})
}

// fill sets every settable field of v to a non-zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

// zeroFields lists the paths under v that hold a zero value.
func zeroFields(v reflect.Value, path string) []string {
	if v.IsZero() {
		return []string{path}
	}
	var out []string
	switch v.Kind() {
	case reflect.Pointer:
		out = zeroFields(v.Elem(), path)
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, zeroFields(v.Index(i), path+"[]")...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out = append(out, zeroFields(v.Field(i), path+"."+f.Name)...)
			}
		}
	}
	return out
}
