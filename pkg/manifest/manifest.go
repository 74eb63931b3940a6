// Package manifest decodes user-supplied Kubernetes manifests — multi-document
// YAML, JSON, and `kind: List` dumps as printed by `kubectl get -o yaml` — into
// unstructured objects that remember the file and document they came from.
package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Object is one decoded object and where it was found.
type Object struct {
	// Source is the file path, or "-" for standard input.
	Source string
	// Document is the 1-based index of the YAML document in Source.
	Document int
	// Item is the 0-based index inside a List document, or -1.
	Item int
	// Object is the decoded object.
	Object *unstructured.Unstructured
}

// Location names the object's place for error messages, e.g.
// `cluster.yaml: document 2, item 14 (Pod "web-0")`.
func (o Object) Location() string {
	var b strings.Builder
	b.WriteString(location(o.Source, o.Document, o.Item))
	if o.Object != nil {
		fmt.Fprintf(&b, " (%s", o.Object.GetKind())
		if n := o.Object.GetName(); n != "" {
			fmt.Fprintf(&b, " %q", n)
		}
		b.WriteString(")")
	}
	return b.String()
}

func location(source string, doc, item int) string {
	if item >= 0 {
		return fmt.Sprintf("%s: document %d, item %d", source, doc, item)
	}
	return fmt.Sprintf("%s: document %d", source, doc)
}

// ErrNoObjects is wrapped by Decode when a source holds no object at all.
var ErrNoObjects = errors.New("no Kubernetes objects found")

// maxDocumentSize bounds one YAML document; a `kubectl get -A -o yaml` dump
// of a large cluster is one document, so this is generous.
const maxDocumentSize = 1 << 30

// Decode parses every object in data. source is used in errors only.
// It never panics on malformed input: every failure is an error naming the
// source and the document.
func Decode(data []byte, source string) ([]Object, error) {
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not a text manifest (binary data)", source)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: file is empty: %w", source, ErrNoObjects)
	}
	var out []Object
	if isJSON(data) {
		// JSON is decoded directly: it is valid YAML, but the YAML path is
		// several times slower on the large dumps this tool is fed.
		objs, err := decodeDocument(data, source, 1, true)
		if err != nil {
			return nil, err
		}
		out = objs
	} else {
		r := utilyaml.NewYAMLReader(bufio.NewReaderSize(bytes.NewReader(data), 64*1024))
		for doc := 1; ; doc++ {
			raw, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
			}
			if len(raw) > maxDocumentSize {
				return nil, fmt.Errorf("%s: document %d: larger than %d bytes", source, doc, maxDocumentSize)
			}
			objs, err := decodeDocument(raw, source, doc, false)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w (only comments or empty documents)", source, ErrNoObjects)
	}
	return out, nil
}

func isJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// decodeDocument turns one document into objects, expanding Lists.
func decodeDocument(raw []byte, source string, doc int, isJSON bool) ([]Object, error) {
	if isBlankYAML(raw) {
		return nil, nil
	}
	jsonData := raw
	if !isJSON {
		var err error
		jsonData, err = yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid YAML: %w", location(source, doc, -1), err)
		}
	}
	var v interface{}
	// utiljson keeps integers as int64, which unstructured objects require.
	if err := utiljson.Unmarshal(jsonData, &v); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", location(source, doc, -1), err)
	}
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: expected a Kubernetes object, found %s", location(source, doc, -1), describe(v))
	}
	return expand(m, source, doc, -1)
}

func expand(m map[string]interface{}, source string, doc, item int) ([]Object, error) {
	u := &unstructured.Unstructured{Object: m}
	if err := checkObject(u); err != nil {
		return nil, fmt.Errorf("%s: %w", location(source, doc, item), err)
	}
	_, hasItems := m["items"]
	isList := u.IsList() || (hasItems && strings.HasSuffix(u.GetKind(), "List"))
	if !isList {
		if u.GetName() == "" {
			return nil, fmt.Errorf("%s (%s): metadata.name is missing", location(source, doc, item), u.GetKind())
		}
		return []Object{{Source: source, Document: doc, Item: item, Object: u}}, nil
	}
	if item >= 0 {
		return nil, fmt.Errorf("%s: a %s nested inside a List is not supported", location(source, doc, item), u.GetKind())
	}
	items, ok := m["items"].([]interface{})
	if !ok && m["items"] != nil {
		return nil, fmt.Errorf("%s: %s items must be a list, found %s", location(source, doc, -1), u.GetKind(), describe(m["items"]))
	}
	out := make([]Object, 0, len(items))
	for i, it := range items {
		im, ok := it.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("%s: expected a Kubernetes object, found %s", location(source, doc, i), describe(it))
		}
		objs, err := expand(im, source, doc, i)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		// Drop the list's reference so each item can be freed on its own.
		items[i] = nil
	}
	return out, nil
}

func checkObject(u *unstructured.Unstructured) error {
	for _, f := range []string{"apiVersion", "kind"} {
		v, found := u.Object[f]
		if !found {
			return fmt.Errorf("%s is missing", f)
		}
		if s, ok := v.(string); !ok || s == "" {
			return fmt.Errorf("%s must be a non-empty string, found %s", f, describe(v))
		}
	}
	if md, found := u.Object["metadata"]; found && md != nil {
		mm, ok := md.(map[string]interface{})
		if !ok {
			return fmt.Errorf("%s: metadata must be an object, found %s", u.GetKind(), describe(md))
		}
		for _, f := range []string{"name", "namespace"} {
			if v, found := mm[f]; found && v != nil {
				if _, ok := v.(string); !ok {
					return fmt.Errorf("%s: metadata.%s must be a string, found %s", u.GetKind(), f, describe(v))
				}
			}
		}
	}
	return nil
}

func isBlankYAML(raw []byte) bool {
	for _, line := range bytes.Split(raw, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) {
			continue
		}
		return false
	}
	return true
}

func describe(v interface{}) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]interface{}:
		return "an object"
	case []interface{}:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	default:
		return fmt.Sprintf("%T", v)
	}
}
