// Package manifest decodes user-supplied Kubernetes manifests — multi-document
// YAML, JSON, and `kind: List` dumps as printed by `kubectl get -o yaml` — into
// unstructured objects that remember the file and document they came from.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
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
	// Object is the decoded object. When Raw is set it holds only the
	// object's apiVersion, kind, metadata.name and metadata.namespace.
	Object *unstructured.Unstructured
	// Raw is set only for a caller that asked for it (WalkOptions.Raw): the
	// whole object as JSON, already checked to be valid JSON without
	// repeated keys, whose apiVersion, kind, name and namespace are in
	// Object and passed every check Decode makes. It is the callee's to
	// keep: no later object shares it. Parse it with ParseRaw.
	Raw []byte
}

// ParseRaw decodes o.Raw into the object Decode would have given for o.
func ParseRaw(o Object) (*unstructured.Unstructured, error) {
	v, err := parseJSON(o.Raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Location(), err)
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: expected a Kubernetes object, found %s", o.Location(), describe(v))
	}
	return &unstructured.Unstructured{Object: m}, nil
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

// Limits on what is decoded, so that a hostile or mistaken input fails with
// an error instead of exhausting memory. They are documented in
// docs/input.md.
const (
	// MaxFileSize bounds one file or standard input. A `kubectl get -A -o
	// yaml` dump of a cluster with 10,000 pods is around 100 MiB.
	MaxFileSize = 1 << 30
	// MaxLineLength bounds one line of YAML. The API server stores no
	// object larger than about 1.5 MiB (etcd's limit) and accepts no
	// request body over 3 MiB, so a longer line cannot be part of an object
	// read from a cluster. Compact JSON files are not split into lines and
	// are bounded by MaxFileSize only.
	MaxLineLength = 16 << 20
)

// Byte-order marks: Windows tools (PowerShell 5's `>` redirection) write
// UTF-16 with a BOM, and some editors prefix UTF-8 with one.
var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Decode parses every object in data. source is used in errors only.
// It never panics on malformed input: every failure is an error naming the
// source and the document. UTF-8 and UTF-16 with a byte-order mark are
// read; YAML aliases are expanded within go-yaml's limits (a document whose
// aliases expand far beyond its size is refused); duplicate keys are an
// error, as in kubectl apply.
func Decode(data []byte, source string) ([]Object, error) {
	var out []Object
	err := DecodeEach(data, source, func(o Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeEach is Decode handing each object to fn as soon as it is decoded,
// so that a caller that keeps less than the whole object (a typed copy)
// never holds every decoded object at once: a `kind: List` dump is decoded
// item by item. The objects fn receives are exactly Decode's, in the same
// order, and so are the errors; an error from fn stops the decode and is
// returned as it is. When DecodeEach fails, fn may have received objects
// before the failure: a caller must drop them.
func DecodeEach(data []byte, source string, fn func(Object) error) error {
	return decodeEach(data, source, false, nil, fn)
}

// decodeEach is DecodeEach; with raw, objects of a List come as
// Object.Raw where they can (see WalkOptions). mem, when not nil, is the
// mapping data lies in: after each pass over the data, and as the items of
// a List are decoded, the pages read are handed back (mapping.done).
func decodeEach(data []byte, source string, raw bool, mem *mapping, fn func(Object) error) error {
	data, err := toUTF8(data, source)
	if err != nil {
		return err
	}
	mem.done(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%s: file is empty: %w", source, ErrNoObjects)
	}
	n := 0
	count := func(o Object) error {
		n++
		return fn(o)
	}
	if isJSON(data) {
		// JSON is decoded directly: it is valid YAML, but the YAML path is
		// several times slower on the large dumps this tool is fed.
		if err := decodeDocumentEach(data, source, 1, true, raw, mem, count); err != nil {
			return err
		}
	} else {
		// Documents are sliced out of data in place, not copied: a file of
		// millions of empty documents costs no memory.
		doc := 0
		err := splitDocuments(data, func(docData []byte) error {
			doc++
			if n, line := longestLine(docData); n > MaxLineLength {
				return fmt.Errorf("%s: document %d: line %d is %d bytes long, over the limit of %d (no Kubernetes object is that large)", source, doc, line, n, MaxLineLength)
			}
			mem.done(docData)
			return decodeDocumentEach(docData, source, doc, false, raw, mem, count)
		})
		if err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: %w (only comments or empty documents)", source, ErrNoObjects)
	}
	return nil
}

// callerError marks an error returned by DecodeEach's fn, which is passed
// through as it is and never makes a list fall back to the whole decode.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }

// decodeDocumentEach decodes one document, item by item when it is a List
// laid out the way kubectl and the API server print one (YAML), or any JSON
// List; any other document, and any List the item-wise decode has trouble
// with, is decoded whole by decodeDocument, whose errors are the ones
// reported. Objects the item-wise decode handed on before the trouble are
// not handed on twice: they are the same as the whole decode's first
// objects (see listItems). With wantRaw, the item-wise decode hands on
// objects as Object.Raw.
func decodeDocumentEach(raw []byte, source string, doc int, isJSON, wantRaw bool, mem *mapping, fn func(Object) error) error {
	var sent int
	var err error
	if isJSON {
		sent, err = decodeJSONListItems(raw, source, doc, wantRaw, mem, fn)
	} else {
		sent, err = decodeListItems(raw, source, doc, wantRaw, mem, fn)
	}
	if err == nil && sent >= 0 {
		return nil
	}
	if ce, ok := err.(callerError); ok {
		return ce.err
	}
	sent = max(sent, 0)
	objs, err := decodeDocument(raw, source, doc, isJSON)
	if err != nil {
		return err
	}
	for i := sent; i < len(objs); i++ {
		if err := fn(objs[i]); err != nil {
			return err
		}
		objs[i] = Object{}
	}
	return nil
}

// toUTF8 strips a UTF-8 byte-order mark, transcodes UTF-16 with one, and
// refuses anything else that is not UTF-8 text.
func toUTF8(data []byte, source string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		data = data[len(bomUTF8):]
	case bytes.HasPrefix(data, bomUTF16LE), bytes.HasPrefix(data, bomUTF16BE):
		if len(data)%2 != 0 {
			return nil, fmt.Errorf("%s: not a text manifest (UTF-16 with an odd number of bytes: truncated?)", source)
		}
		le := bytes.HasPrefix(data, bomUTF16LE)
		units := make([]uint16, 0, len(data)/2-1)
		for i := 2; i < len(data); i += 2 {
			if le {
				units = append(units, uint16(data[i])|uint16(data[i+1])<<8)
			} else {
				units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
			}
		}
		runes := utf16.Decode(units)
		if i := slicesIndexRune(runes, utf8.RuneError); i >= 0 {
			return nil, fmt.Errorf("%s: not a text manifest (invalid UTF-16 at character %d)", source, i+1)
		}
		data = []byte(string(runes))
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		hint := ""
		if i%2 == 1 || (i == 0 && len(data) > 1 && data[1] != 0) {
			hint = "; UTF-16 without a byte-order mark? save it as UTF-8"
		}
		return nil, fmt.Errorf("%s: not a text manifest (binary data: NUL byte at offset %d%s)", source, i, hint)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not a text manifest (binary data: invalid UTF-8 at offset %d)", source, invalidUTF8(data))
	}
	return data, nil
}

func slicesIndexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// longestLine returns the length and 1-based number of the longest line.
func longestLine(raw []byte) (n, line int) {
	for i := 1; len(raw) > 0; i++ {
		l := bytes.IndexByte(raw, '\n')
		if l < 0 {
			l = len(raw)
		}
		if l > n {
			n, line = l, i
		}
		raw = raw[min(l+1, len(raw)):]
	}
	return n, line
}

// maxAliasExpansion bounds what YAML aliases may add to a document: go-yaml
// limits how many aliases it expands, not how large each one is, so a
// 1 MiB string referenced 900 times would become 900 MiB of JSON.
// Kubernetes objects carry no aliases (the API server never writes them);
// a hand-written manifest that uses a few is well within this.
const maxAliasExpansion = 16 << 20

// checkDuplicateKeys fails when a mapping repeats a key of its own; keys a
// merge key brings in may be overridden.
func checkDuplicateKeys(raw []byte) error {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &root); err != nil {
		return err
	}
	var walk func(n *yamlv3.Node, depth int) error
	walk = func(n *yamlv3.Node, depth int) error {
		if n == nil || depth > 10000 {
			return nil
		}
		if n.Kind == yamlv3.MappingNode {
			seen := map[string]int{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Tag == "!!merge" {
					continue
				}
				if line, ok := seen[k.Value]; ok {
					return fmt.Errorf("line %d: key %q already set at line %d", k.Line, k.Value, line)
				}
				seen[k.Value] = k.Line
			}
		}
		for _, c := range n.Content {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(&root, 0)
}

// checkAliases refuses a document whose aliases would expand to more than
// maxAliasExpansion bytes of scalars, before anything is expanded. It
// parses the document into nodes (aliases stay references there) only
// when it has an anchor, which dumps of a cluster do not.
func checkAliases(raw []byte) error {
	if aliasExpansion(raw) > maxAliasExpansion {
		return fmt.Errorf("invalid YAML: aliases expand to more than %d bytes (YAML alias bomb?)", maxAliasExpansion)
	}
	return nil
}

// aliasExpansion returns how many bytes of scalars the aliases of raw
// would add when expanded, counting no further than past
// maxAliasExpansion.
func aliasExpansion(raw []byte) int64 {
	if !bytes.ContainsRune(raw, '&') || !bytes.ContainsRune(raw, '*') {
		return 0
	}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &root); err != nil {
		// YAMLToJSONStrict reports it, in its own words.
		return 0
	}
	memo := map[*yamlv3.Node]int64{}
	var size func(n *yamlv3.Node, depth int) int64
	size = func(n *yamlv3.Node, depth int) int64 {
		if n == nil || depth > 10000 {
			return 0
		}
		if v, ok := memo[n]; ok {
			return v
		}
		memo[n] = 0 // an alias cycle adds nothing
		var total int64
		switch n.Kind {
		case yamlv3.AliasNode:
			total = size(n.Alias, depth+1)
		case yamlv3.ScalarNode:
			total = int64(len(n.Value)) + 2
		default:
			for _, c := range n.Content {
				total += size(c, depth+1)
				if total > 1<<40 {
					break
				}
			}
		}
		memo[n] = total
		return total
	}
	var aliased int64
	var walk func(n *yamlv3.Node, depth int)
	walk = func(n *yamlv3.Node, depth int) {
		if n == nil || depth > 10000 || aliased > maxAliasExpansion {
			return
		}
		if n.Kind == yamlv3.AliasNode {
			aliased += size(n.Alias, 0)
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(&root, 0)
	return aliased
}

func isJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// decodeDocument turns one document into objects, expanding Lists.
func decodeDocument(raw []byte, source string, doc int, isJSON bool) ([]Object, error) {
	v, err := parseDocument(raw, isJSON, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location(source, doc, -1), err)
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

// parseDocument parses one YAML or JSON document into maps, lists and
// scalars; nil for a blank document. checkAliasBomb is false only when the
// caller has bounded alias expansion itself.
func parseDocument(raw []byte, isJSON, checkAliasBomb bool) (interface{}, error) {
	if isBlankYAML(raw) {
		return nil, nil
	}
	jsonData := raw
	if !isJSON {
		var err error
		if jsonData, err = yamlToJSON(raw, checkAliasBomb); err != nil {
			return nil, err
		}
	}
	return parseJSON(jsonData)
}

// yamlToJSON converts one YAML document to JSON, refusing repeated keys.
func yamlToJSON(raw []byte, checkAliasBomb bool) ([]byte, error) {
	if checkAliasBomb {
		if err := checkAliases(raw); err != nil {
			return nil, err
		}
	}
	// Strict: a duplicate key is an error, as in kubectl apply; which
	// of two values a tool would keep is anyone's guess.
	jsonData, err := yaml.YAMLToJSONStrict(raw)
	if err != nil && bytes.Contains(raw, []byte("<<")) {
		// The strict decoder also refuses a key that overrides one a
		// merge key (<<: *anchor) brought in, which YAML allows and
		// kubectl takes: only explicit keys may not repeat.
		if derr := checkDuplicateKeys(raw); derr == nil {
			jsonData, err = yaml.YAMLToJSON(raw)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return jsonData, nil
}

// parseJSON parses one JSON value into maps, lists and scalars.
func parseJSON(jsonData []byte) (interface{}, error) {
	var v interface{}
	// Integers stay int64, which unstructured objects require.
	strict, err := sigsjson.UnmarshalStrict(jsonData, &v, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("invalid JSON: %w", errors.Join(strict...))
	}
	return v, nil
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
		// Names become file names (convert --output-dir) and report keys:
		// hold them to the rules the API server applies to every object.
		if n, _ := mm["name"].(string); n != "" {
			if msgs := content.IsPathSegmentName(n); len(msgs) > 0 {
				return fmt.Errorf("%s: metadata.name %q is not a valid object name: %s", u.GetKind(), n, strings.Join(msgs, "; "))
			}
		}
		if ns, _ := mm["namespace"].(string); ns != "" {
			if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
				return fmt.Errorf("%s: metadata.namespace %q is not a valid namespace name: %s", u.GetKind(), ns, strings.Join(msgs, "; "))
			}
		}
	}
	if av := u.GetAPIVersion(); strings.Count(av, "/") > 1 || strings.HasPrefix(av, "/") || strings.HasSuffix(av, "/") {
		return fmt.Errorf("apiVersion %q is not GROUP/VERSION or VERSION", av)
	}
	return nil
}

func isBlankYAML(raw []byte) bool {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) {
			continue
		}
		return false
	}
	return true
}

// splitDocuments calls fn with each document of a YAML stream, split where
// k8s.io/apimachinery's YAMLReader splits (a line that starts with "---"
// followed by nothing but a comment), so that document numbers match what
// kubectl reports. Documents are sub-slices of data.
func splitDocuments(data []byte, fn func([]byte) error) error {
	start := 0
	for pos := 0; pos < len(data); {
		end := len(data)
		next := len(data)
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		}
		// A separator ends a document that has any line; one that starts a
		// document is part of it, as in YAMLReader (so "---\n---\n" is one
		// blank document).
		if pos > start && isSeparator(data[pos:end]) {
			if err := fn(data[start:pos]); err != nil {
				return err
			}
			start = next
		}
		pos = next
	}
	if start < len(data) {
		return fn(data[start:])
	}
	return nil
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := bytes.TrimSpace(line[3:])
	return len(rest) == 0 || rest[0] == '#'
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

// DocumentLine turns a line number within document doc (1-based, as the
// errors of Decode count them) into a line number of the whole YAML
// stream data, splitting documents exactly as Decode does; it returns 0
// when data has no such document. The browser page uses it to point at
// the line of a pasted stream that an error names.
func DocumentLine(data []byte, doc, line int) int {
	if doc < 1 || line < 1 {
		return 0
	}
	n, found := 0, 0
	_ = splitDocuments(data, func(raw []byte) error {
		n++
		if n == doc {
			// raw is a sub-slice of data, so the difference of their
			// capacities is where it starts.
			off := cap(data) - cap(raw)
			found = bytes.Count(data[:off], []byte("\n")) + line
			return errStop
		}
		return nil
	})
	return found
}

var errStop = errors.New("stop")
