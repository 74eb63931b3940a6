package manifest

import (
	"bytes"
	"errors"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// errNotItemWise says the item-wise decode of a List gave up; the document
// is decoded whole, and that decode's verdict, error or not, stands.
var errNotItemWise = errors.New("decode the document whole")

// listLayout is where a List document's items are: the document without
// them (its items replaced by an empty list), and each item's lines.
type listLayout struct {
	wrapper []byte
	// indent is the column of the items' dashes.
	indent int
	items  []span
}

type span struct{ start, end int }

// decodeListItems decodes a YAML document that is a List printed the way
// `kubectl get -o yaml` and the API server print one (a top-level `items:`
// block sequence) one item at a time, handing each object to fn as soon as
// it is decoded, instead of turning the whole document into one tree of
// maps first: a dump of a large cluster is one document of tens of
// megabytes, and that tree is many times its size.
//
// It returns -1 when the document is not laid out that way (nothing was
// sent), or the number of objects sent and errNotItemWise when it met
// anything it is not sure to read the way the whole decode would: a line
// outside the layout, an item that does not parse on its own (an alias to
// an anchor in another item, a quoted string running across what looked
// like an item boundary), aliases expanding past the document's limit, or
// any invalid item. The caller then decodes the document whole, which gives
// the errors and results the whole decode always gave; the objects already
// sent are its first ones, since each came from one complete item that the
// whole decode reads the same way. An error from fn is returned as a
// callerError.
func decodeListItems(raw []byte, source string, doc int, wantRaw bool, mem *mapping, fn func(Object) error) (int, error) {
	l, ok := findListLayout(raw)
	mem.done(raw)
	if !ok {
		return -1, nil
	}
	v, err := parseDocument(l.wrapper, false, true)
	if err != nil {
		return 0, errNotItemWise
	}
	m, ok := v.(map[string]interface{})
	if !ok || checkObject(&unstructured.Unstructured{Object: m}) != nil {
		return 0, errNotItemWise
	}
	sent := 0
	var aliased int64
	buf := make([]byte, 0, 64<<10)
	released := 0
	for i, it := range l.items {
		// The items read so far go back, a megabyte at a time.
		if it.start-released >= 1<<20 {
			mem.done(raw[released:it.start])
			released = it.start
		}
		buf, ok = deindent(buf[:0], raw[it.start:it.end], l.indent+2)
		if !ok {
			return sent, errNotItemWise
		}
		// The document's limit on alias expansion, not each item's.
		if aliased += aliasExpansion(buf); aliased > maxAliasExpansion {
			return sent, errNotItemWise
		}
		if wantRaw {
			// The item's JSON is all the caller decodes: no tree of maps.
			if o, ok := rawYAMLItem(buf, source, doc, i); ok {
				if err := fn(o); err != nil {
					return sent, callerError{err}
				}
				sent++
				continue
			}
		}
		v, err := parseDocument(buf, false, false)
		if err != nil {
			return sent, errNotItemWise
		}
		im, ok := v.(map[string]interface{})
		if !ok {
			return sent, errNotItemWise
		}
		objs, err := expand(im, source, doc, i)
		if err != nil || len(objs) != 1 {
			return sent, errNotItemWise
		}
		if err := fn(objs[0]); err != nil {
			return sent, callerError{err}
		}
		sent++
	}
	return sent, nil
}

// findListLayout finds the items of a document whose top level is a
// mapping of plain keys at column 0, one of them `items:` alone on its
// line, followed by a block sequence whose dashes all sit at one column.
func findListLayout(raw []byte) (listLayout, bool) {
	const (
		before = iota
		inItems
		after
	)
	var l listLayout
	if !bytes.HasPrefix(raw, []byte("items:")) && !bytes.Contains(raw, []byte("\nitems:")) {
		return l, false
	}
	state := before
	l.indent = -1
	cur := -1 // start of the current item, or -1
	wrapper := make([]byte, 0, 1024)
	firstContent := true
	// wrapperLine takes a line outside the items; false when it is not
	// one of a plain top-level mapping.
	wrapperLine := func(line, content []byte, ind int) bool {
		blank := ind == len(content)
		switch {
		case blank || content[ind] == '#' || ind > 0:
		case firstContent && isSeparator(content):
		case bytes.Equal(content, []byte("items:")):
			return false
		case !isPlainKeyLine(content):
			return false
		}
		if !blank && content[ind] != '#' {
			firstContent = false
		}
		wrapper = append(wrapper, line...)
		return true
	}
	for pos := 0; pos < len(raw); {
		end, next := len(raw), len(raw)
		if i := bytes.IndexByte(raw[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		}
		line := raw[pos:next]
		content := bytes.TrimRight(raw[pos:end], " \r")
		ind := 0
		for ind < len(content) && content[ind] == ' ' {
			ind++
		}
		blank := ind == len(content)
		switch state {
		case before:
			if ind == 0 && !blank && bytes.Equal(content, []byte("items:")) {
				state = inItems
				firstContent = false
				wrapper = append(wrapper, "items: []\n"...)
				break
			}
			if !wrapperLine(line, content, ind) {
				return l, false
			}
		case inItems:
			if blank || content[ind] == '#' {
				if cur < 0 && ind < len(content) {
					// A comment before the first item: the whole decode
					// would skip it too, but keep to the plain layout.
					return l, false
				}
				break
			}
			dash := content[ind] == '-' && (len(content) == ind+1 || content[ind+1] == ' ')
			if l.indent < 0 {
				if !dash {
					return l, false
				}
				l.indent = ind
			}
			switch {
			case ind == l.indent && dash:
				if cur >= 0 {
					l.items = append(l.items, span{cur, pos})
				}
				cur = pos
			case ind > l.indent:
			case ind == 0:
				if cur >= 0 {
					l.items = append(l.items, span{cur, pos})
					cur = -1
				}
				state = after
				if !wrapperLine(line, content, ind) {
					return l, false
				}
			default:
				return l, false
			}
		case after:
			if !wrapperLine(line, content, ind) {
				return l, false
			}
		}
		pos = next
	}
	if cur >= 0 {
		l.items = append(l.items, span{cur, len(raw)})
	}
	if len(l.items) == 0 {
		return l, false
	}
	l.wrapper = wrapper
	return l, true
}

// isPlainKeyLine reports a line that starts a top-level mapping entry with
// a plain key: `kind: List`, `metadata:`.
func isPlainKeyLine(content []byte) bool {
	i := 0
	for i < len(content) {
		c := content[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || (i > 0 && (c == '-' || c == '.' || c == '/')) {
			i++
			continue
		}
		break
	}
	return i > 0 && i < len(content) && content[i] == ':' && (i+1 == len(content) || content[i+1] == ' ')
}

// deindent appends item to dst with its first cut columns removed from
// every line, the dash of its first line included, so that it parses as a
// document of its own. A non-blank line indented less than that is not
// part of a plain block item (a quoted string's continuation, say): false.
func deindent(dst, item []byte, cut int) ([]byte, bool) {
	first := true
	for len(item) > 0 {
		line := item
		rest := []byte(nil)
		if i := bytes.IndexByte(item, '\n'); i >= 0 {
			line, rest = item[:i+1], item[i+1:]
		}
		item = rest
		if first {
			// "- x" or a lone "-".
			first = false
			if len(bytes.TrimRight(line, " \r\n")) <= cut-1 {
				dst = append(dst, '\n')
				continue
			}
			dst = append(dst, line[cut:]...)
			continue
		}
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		if len(bytes.TrimRight(line[ind:], " \r\n")) == 0 {
			dst = append(dst, '\n')
			continue
		}
		if ind < cut {
			return dst, false
		}
		dst = append(dst, line[cut:]...)
	}
	return dst, true
}
