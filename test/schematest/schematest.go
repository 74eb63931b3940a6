// Package schematest pins the JSON shape of a versioned report: one line
// per JSON path with its type and tag options ("pods[].psp object|null"),
// compared with a golden file. A key renamed, removed, retyped or made
// optional then fails the report's tests, whatever package the change
// started in.
package schematest

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Check compares the JSON paths of root with the golden file, rewriting it
// first when update is set. It also fails when a struct reachable from
// root is defined outside root's package: a report must own its wire types,
// or a field renamed elsewhere changes its JSON silently.
func Check(t *testing.T, root reflect.Type, golden string, update bool) {
	t.Helper()
	lines, foreign := Lines(root)
	if len(foreign) > 0 {
		t.Errorf("%s must own its wire types; these come from other packages:\n%s", root, strings.Join(foreign, "\n"))
	}
	got := strings.Join(lines, "\n") + "\n"
	if update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
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
		t.Errorf("the JSON schema of %s changed (%s); keys may only be added, and docs must say so:\n%s", root, golden, lineDiff(string(want), got))
	}
}

// Lines lists one line per JSON path of root, "path type[,options]", in
// field order; slices add "[]" to the path, maps "{}". foreign lists the
// structs reached that are defined outside root's package.
func Lines(root reflect.Type) (lines, foreign []string) {
	w := walker{pkg: root.PkgPath()}
	w.walkStruct(root, "")
	return w.lines, w.foreign
}

type walker struct {
	pkg            string
	lines, foreign []string
}

func (w *walker) walkStruct(t reflect.Type, path string) {
	if t.PkgPath() != w.pkg {
		w.foreign = append(w.foreign, path+": "+t.String())
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
		w.lines = append(w.lines, line)
		w.walkElem(f.Type, p)
	}
}

func (w *walker) walkElem(t reflect.Type, path string) {
	switch t.Kind() {
	case reflect.Pointer:
		w.walkElem(t.Elem(), path)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			w.walkElem(t.Elem(), path+"[]")
		}
	case reflect.Map:
		w.walkElem(t.Elem(), path+"{}")
	case reflect.Struct:
		w.walkStruct(t, path)
	}
}

// typeName describes t in JSON terms.
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
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
