package report

import "bytes"

// appendIndented appends the compact JSON src to dst as json.Indent(dst,
// src, prefix, indent) would, byte for byte. src must be what
// encoding/json's Marshal or Encoder writes: valid, without insignificant
// white space. That lets it skip json.Indent's validating state machine,
// which steps through every byte: on a 10,000-pod cluster the report is
// tens of megabytes, and that scanner was a tenth of a live audit's CPU.
// Strings are copied a run at a time up to their closing quote. A trailing
// newline (as Encoder.Encode ends a value) is kept, as json.Indent keeps
// trailing white space.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '"':
			end := stringEnd(src, i+1)
			dst = append(dst, src[i:end]...)
			i = end
			continue
		case '{', '[':
			dst = append(dst, c)
			// An empty object or array stays on its line: {} and [].
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i += 2
				continue
			}
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		case '}', ']':
			depth--
			dst = appendNewline(dst, prefix, indent, depth)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, prefix, indent, depth)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			// A number, true, false or null (or the trailing newline):
			// copied up to the next punctuation.
			j := i + 1
			for j < len(src) && !isPunct(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		i++
	}
	return dst
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}

// stringEnd returns the index just past the closing quote of the string
// whose contents start at src[i].
func stringEnd(src []byte, i int) int {
	for {
		j := bytes.IndexByte(src[i:], '"')
		if j < 0 {
			return len(src)
		}
		q := i + j
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := q - 1; k >= i && src[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

func isPunct(c byte) bool {
	switch c {
	case '"', '{', '[', '}', ']', ',', ':':
		return true
	}
	return false
}
