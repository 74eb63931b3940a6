package report

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestSchema pins every JSON path of the audit report, with its type and
// options, to testdata/schema.golden: a key renamed, removed, retyped or
// made optional fails here, whatever package the change started in. Keys
// may be added within an apiVersion (update the golden file and
// docs/report.md); nothing else may change.
func TestSchema(t *testing.T) {
	var lines, foreign []string
	walkSchema(reflect.TypeFor[AuditReport](), "", &lines, &foreign)
	if len(foreign) > 0 {
		t.Errorf("the report must own its wire types; these come from other packages:\n%s", strings.Join(foreign, "\n"))
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "schema.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", golden, err)
	}
	if got != string(want) {
		t.Errorf("the report's JSON schema changed (%s):\n%s", golden, lineDiff(string(want), got))
	}
}

// walkSchema lists one line per JSON path of t: "path type[,omitempty]".
// Slices add "[]" to the path, maps "{}".
func walkSchema(t reflect.Type, path string, lines, foreign *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	if pkg := t.PkgPath(); pkg != reflect.TypeFor[AuditReport]().PkgPath() && pkg != "" {
		*foreign = append(*foreign, path+": "+t.String())
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := name
		if path != "" {
			p = path + "." + name
		}
		line := p + " " + typeName(f.Type)
		if opts != "" {
			line += "," + opts
		}
		*lines = append(*lines, line)
		walkElem(f.Type, p, lines, foreign)
	}
}

func walkElem(t reflect.Type, path string, lines, foreign *[]string) {
	switch t.Kind() {
	case reflect.Pointer:
		walkElem(t.Elem(), path, lines, foreign)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			walkElem(t.Elem(), path+"[]", lines, foreign)
		}
	case reflect.Map:
		walkElem(t.Elem(), path+"{}", lines, foreign)
	case reflect.Struct:
		walkSchema(t, path, lines, foreign)
	}
}

// typeName describes t in JSON terms: object, array of, map of, nullable.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem()) + "|null"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64"
		}
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		return "map[" + typeName(t.Key()) + "]" + typeName(t.Elem())
	case reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "int"
	}
	return t.Kind().String()
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	in := func(list []string, s string) bool {
		for _, l := range list {
			if l == s {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, l := range w {
		if !in(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !in(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
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
