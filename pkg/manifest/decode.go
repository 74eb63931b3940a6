package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	kjson "sigs.k8s.io/json"
)

// DecodeObject converts a decoded manifest object into its typed form v, the way
// the API server decodes a request body: case-sensitive field names, and an
// error that names the field and the value ("spec.privileged: want a
// boolean, got \"yes\""). Fields v does not know are returned, with their
// paths, rather than refused: the caller decides whether a misspelling is
// fatal (a PSP) or a warning (a Pod, which a newer cluster may extend).
func DecodeObject(obj map[string]interface{}, v interface{}) (unknown []string, err error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	strict, err := kjson.UnmarshalStrict(data, v, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, describeDecodeError(obj, err)
	}
	for _, s := range strict {
		unknown = append(unknown, strings.TrimPrefix(s.Error(), "json: "))
	}
	return unknown, nil
}

// describeDecodeError words a type mismatch with the field's full path,
// list indices included, and the offending value.
func describeDecodeError(obj map[string]interface{}, err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return err
	}
	// "number 1.5" for a fraction where an integer belongs.
	kind, _, _ := strings.Cut(te.Value, " ")
	path, got, found := locate(obj, strings.Split(te.Field, "."), kind, "")
	if !found {
		path, got = te.Field, te.Value
	}
	return fmt.Errorf("%s: want %s, got %s", path, goTypeName(te.Type), got)
}

// locate finds the value at the dotted path whose JSON kind is kind,
// descending into every list on the way (the decoder's path has no
// indices), and returns its indexed path and a short rendering of it.
func locate(node interface{}, segs []string, kind, prefix string) (string, string, bool) {
	if list, ok := node.([]interface{}); ok {
		for i, item := range list {
			if p, v, ok := locate(item, segs, kind, fmt.Sprintf("%s[%d]", prefix, i)); ok {
				return p, v, true
			}
		}
		return "", "", false
	}
	if len(segs) == 0 {
		if jsonKind(node) != kind {
			return "", "", false
		}
		return prefix, render(node), true
	}
	m, ok := node.(map[string]interface{})
	if !ok {
		return "", "", false
	}
	child, ok := m[segs[0]]
	if !ok {
		return "", "", false
	}
	next := segs[0]
	if prefix != "" {
		next = prefix + "." + segs[0]
	}
	// A list at the end of the path is itself the bad value (a list
	// where a string belongs).
	if len(segs) == 1 && jsonKind(child) == kind {
		return next, render(child), true
	}
	return locate(child, segs[1:], kind, next)
}

// jsonKind is the word encoding/json uses for a value's kind in
// UnmarshalTypeError.Value.
func jsonKind(v interface{}) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case map[string]interface{}:
		return "object"
	case []interface{}:
		return "array"
	case nil:
		return "null"
	default:
		return "number"
	}
}

// render shows a scalar as YAML would ("yes", 3, true) and a compound value
// by its kind.
func render(v interface{}) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case map[string]interface{}:
		return "an object"
	case []interface{}:
		return "a list"
	default:
		return fmt.Sprint(x)
	}
}

// goTypeName is what a field of type t holds, in a manifest author's words.
func goTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}
