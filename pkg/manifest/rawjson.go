package manifest

import (
	"bytes"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rawHeader is what expand reads of an object, found by scanJSON without
// building the object: the spans of its top-level apiVersion, kind,
// metadata and items values, and of metadata's name and namespace. A span
// is [start, end) in the scanned bytes; end is 0 when the key is absent.
type rawHeader struct {
	apiVersion, kind, metadata, items, name, namespace span
}

// maxRawDepth bounds the nesting scanJSON follows: deeper input is left to
// the decoder that reports it (encoding/json stops at 10,000), and no
// Kubernetes object comes near it.
const maxRawDepth = 1000

// jsonScanner checks that data is one JSON value that
// sigs.k8s.io/json.UnmarshalStrict (PreserveInts, DisallowDuplicateFields)
// decodes into interface{} without error or strict error: valid syntax, no
// key repeated within an object, every number an int64 or a finite
// float64. It reports false for anything it is not sure of (an escaped
// key, very deep nesting): the caller then decodes the value the slow way,
// whose verdict stands. It allocates only for objects with many keys.
type jsonScanner struct {
	data []byte
	pos  int
	hdr  rawHeader
	// onItem, when set, is called with the span and header of each
	// element of the top-level object's "items" array, which must be
	// objects.
	onItem func(span, rawHeader) bool
}

// scanJSONObject checks data as jsonScanner does, requires it to be an
// object, and returns its header.
func scanJSONObject(data []byte) (rawHeader, bool) {
	s := jsonScanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return rawHeader{}, false
	}
	if !s.value(0, 1) {
		return rawHeader{}, false
	}
	s.skipSpace()
	return s.hdr, s.pos == len(data)
}

func (s *jsonScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// where says which header field a value belongs to: 0 none, 1 the
// top-level object, 2 its metadata object.
func (s *jsonScanner) value(depth, where int) bool {
	if depth > maxRawDepth {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth, where)
	case c == '[':
		return s.array(func() bool { return s.value(depth+1, 0) })
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

func (s *jsonScanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return false
	}
	s.pos += len(lit)
	return true
}

// str scans a string and returns its content's span; false for invalid
// escapes or control characters, which the decoder refuses.
func (s *jsonScanner) str() (span, bool) {
	s.pos++ // the opening quote
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return span{start, s.pos - 1}, true
		case c < 0x20:
			return span{}, false
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				return span{}, false
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) {
					return span{}, false
				}
				for _, h := range s.data[s.pos+2 : s.pos+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return span{}, false
					}
				}
				s.pos += 6
			default:
				return span{}, false
			}
		default:
			s.pos++
		}
	}
	return span{}, false
}

// number scans a number with JSON's grammar and the decoder's conversion:
// an int64 when it has no fraction and fits, else a finite float64.
func (s *jsonScanner) number() bool {
	start := s.pos
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.pos < len(d) && d[s.pos] == '0' {
		s.pos++
	} else if digits() == 0 {
		return false
	}
	integer := true
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		integer = false
		if digits() == 0 {
			return false
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	lit := string(d[start:s.pos])
	if integer && len(lit) < 19 && !bytes.ContainsAny(d[start:s.pos], "eE") {
		return true // fits an int64
	}
	if integer && !bytes.ContainsAny(d[start:s.pos], "eE") {
		if _, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return true
		}
	}
	_, err := strconv.ParseFloat(lit, 64)
	return err == nil
}

// object scans an object, refusing repeated keys, and records the header
// spans when where says it is the top-level object or its metadata.
func (s *jsonScanner) object(depth, where int) bool {
	s.pos++ // {
	var keys []span
	var seen map[string]bool
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false
		}
		k, ok := s.str()
		if !ok {
			return false
		}
		key := s.data[k.start:k.end]
		if bytes.IndexByte(key, '\\') >= 0 {
			// An escaped key may equal another once unescaped.
			return false
		}
		// Duplicates: a linear search for the few keys of most objects.
		if seen != nil {
			if seen[string(key)] {
				return false
			}
			seen[string(key)] = true
		} else {
			for _, o := range keys {
				if bytes.Equal(s.data[o.start:o.end], key) {
					return false
				}
			}
			keys = append(keys, k)
			if len(keys) > 16 {
				seen = make(map[string]bool, 32)
				for _, o := range keys {
					seen[string(s.data[o.start:o.end])] = true
				}
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		s.skipSpace()
		start := s.pos
		var field *span
		next := 0
		switch where {
		case 1:
			switch string(key) {
			case "apiVersion":
				field = &s.hdr.apiVersion
			case "kind":
				field = &s.hdr.kind
			case "metadata":
				field, next = &s.hdr.metadata, 2
			case "items":
				field = &s.hdr.items
			}
		case 2:
			switch string(key) {
			case "name":
				field = &s.hdr.name
			case "namespace":
				field = &s.hdr.namespace
			}
		}
		if field == &s.hdr.items && s.onItem != nil && s.pos < len(s.data) && s.data[s.pos] == '[' {
			if !s.items(depth + 1) {
				return false
			}
		} else if !s.value(depth+1, next) {
			return false
		}
		if field != nil {
			*field = span{start, s.pos}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return false
		}
		if s.data[s.pos] == '}' {
			s.pos++
			return true
		}
		if s.data[s.pos] != ',' {
			return false
		}
		s.pos++
	}
}

// array scans an array whose '[' is at s.pos, calling elem at the start
// of each element (spaces skipped) to scan it.
func (s *jsonScanner) array(elem func() bool) bool {
	s.pos++ // [
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		s.skipSpace()
		if !elem() {
			return false
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return false
		}
		if s.data[s.pos] == ']' {
			s.pos++
			return true
		}
		if s.data[s.pos] != ',' {
			return false
		}
		s.pos++
	}
}

// items scans the top-level "items" array, handing each element's span and
// header to onItem once scanned.
func (s *jsonScanner) items(depth int) bool {
	return s.array(func() bool {
		start := s.pos
		if start >= len(s.data) || s.data[start] != '{' {
			return false
		}
		item := jsonScanner{data: s.data, pos: start}
		if !item.value(depth+1, 1) {
			return false
		}
		s.pos = item.pos
		return s.onItem(span{start, s.pos}, item.hdr)
	})
}

// headerObject builds from a header the part of the object that expand and
// checkObject read — apiVersion, kind, metadata.name and
// metadata.namespace, each a plain string — or false when any of them is
// something else (not a string, escaped, metadata not an object), which
// the slow path words as the error it is.
func headerObject(data []byte, h rawHeader) (map[string]interface{}, bool) {
	str := func(sp span) (string, bool) {
		if sp.end-sp.start < 2 || data[sp.start] != '"' || data[sp.end-1] != '"' {
			return "", false
		}
		v := data[sp.start+1 : sp.end-1]
		if bytes.IndexByte(v, '\\') >= 0 {
			return "", false
		}
		return string(v), true
	}
	m := map[string]interface{}{}
	for _, f := range []struct {
		name string
		sp   span
	}{{"apiVersion", h.apiVersion}, {"kind", h.kind}} {
		if f.sp.end == 0 {
			continue
		}
		v, ok := str(f.sp)
		if !ok {
			return nil, false
		}
		m[f.name] = v
	}
	if h.metadata.end != 0 {
		if data[h.metadata.start] != '{' {
			return nil, false
		}
		md := map[string]interface{}{}
		for _, f := range []struct {
			name string
			sp   span
		}{{"name", h.name}, {"namespace", h.namespace}} {
			if f.sp.end == 0 {
				continue
			}
			v, ok := str(f.sp)
			if !ok {
				return nil, false
			}
			md[f.name] = v
		}
		m["metadata"] = md
	}
	return m, true
}

// decodeJSONListItems decodes a JSON List one item at a time, as
// decodeListItems does a YAML one: the document is checked in one pass
// (jsonScanner) that finds each item and its header, and every item is
// then decoded on its own — or, with wantRaw, handed on as Object.Raw
// without being decoded at all. It returns -1 when the document is not an
// object with an "items" array, or when the pass finds anything the whole
// decode might word differently (nothing was sent then); errNotItemWise
// and the number sent when an item fails a check of expand's.
func decodeJSONListItems(data []byte, source string, doc int, wantRaw bool, mem *mapping, fn func(Object) error) (int, error) {
	type item struct {
		sp  span
		hdr rawHeader
	}
	var items []item
	s := jsonScanner{data: data, onItem: func(sp span, h rawHeader) bool {
		items = append(items, item{sp, h})
		return true
	}}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' || !s.value(0, 1) {
		return -1, nil
	}
	s.skipSpace()
	if s.pos != len(data) || s.hdr.items.end == 0 || data[s.hdr.items.start] != '[' {
		return -1, nil
	}
	mem.done(data)
	wrapper, ok := headerObject(data, s.hdr)
	if !ok || checkObject(&unstructured.Unstructured{Object: wrapper}) != nil {
		return -1, nil
	}
	sent := 0
	released := 0
	for i, it := range items {
		// The items read so far go back, a megabyte at a time.
		if it.sp.start-released >= 1<<20 {
			mem.done(data[released:it.sp.start])
			released = it.sp.start
		}
		o, ok := rawObject(data, it.sp, it.hdr, source, doc, i)
		if !ok {
			return sent, errNotItemWise
		}
		if wantRaw {
			// The callee's to keep, and the file may be unmapped after.
			o.Raw = bytes.Clone(o.Raw)
		} else {
			v, err := parseJSON(o.Raw)
			m, isMap := v.(map[string]interface{})
			if err != nil || !isMap {
				return sent, errNotItemWise
			}
			o.Object, o.Raw = &unstructured.Unstructured{Object: m}, nil
		}
		if err := fn(o); err != nil {
			return sent, callerError{err}
		}
		sent++
	}
	return sent, nil
}

// rawObject is the Object of the scanned JSON object data[sp] with header
// h (whose spans index data), when it passes every check expand makes of
// an item: a plain object (no "items" of its own), apiVersion and kind
// set, a valid name and namespace. false leaves the wording of any error
// to the slow path.
func rawObject(data []byte, sp span, h rawHeader, source string, doc, item int) (Object, bool) {
	if h.items.end != 0 {
		return Object{}, false
	}
	m, ok := headerObject(data, h)
	if !ok {
		return Object{}, false
	}
	u := &unstructured.Unstructured{Object: m}
	if checkObject(u) != nil || u.GetName() == "" {
		return Object{}, false
	}
	return Object{Source: source, Document: doc, Item: item, Object: u, Raw: data[sp.start:sp.end]}, true
}

// rawYAMLItem is rawObject for one item of a YAML List, converted to JSON.
func rawYAMLItem(buf []byte, source string, doc, item int) (Object, bool) {
	if isBlankYAML(buf) {
		return Object{}, false
	}
	jsonData, err := yamlToJSON(buf, false)
	if err != nil {
		return Object{}, false
	}
	h, ok := scanJSONObject(jsonData)
	if !ok {
		return Object{}, false
	}
	return rawObject(jsonData, span{0, len(jsonData)}, h, source, doc, item)
}
