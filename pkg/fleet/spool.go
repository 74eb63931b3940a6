package fleet

import (
	"bytes"
	"io"
	"slices"
)

// spoolChunk is the size of a Spool's chunks: the 256 KiB a report's
// bufio.Writer hands over at a time.
const spoolChunk = 256 << 10

// Spool is an io.Writer that holds what it is given in chunks it never
// copies again. A cluster's single-context report, megabytes of JSON held
// until the fleet's is printed, then costs its size once; a growing
// bytes.Buffer would allocate, clear and copy about three times as much,
// which on a fleet of large clusters is CPU the clusters' reads compete for.
type Spool struct {
	chunks [][]byte
	n      int
}

// Write implements io.Writer; it never fails.
func (s *Spool) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(s.chunks) - 1
		if last < 0 || len(s.chunks[last]) == cap(s.chunks[last]) {
			s.chunks = append(s.chunks, make([]byte, 0, spoolChunk))
			last++
		}
		c := s.chunks[last]
		k := copy(c[len(c):cap(c)], p)
		s.chunks[last] = c[:len(c)+k]
		p = p[k:]
	}
	s.n += n
	return n, nil
}

// Len is how many bytes were written; a nil Spool holds none.
func (s *Spool) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Bytes returns a copy of everything written, in one slice of exactly
// that size (nil when nothing was).
func (s *Spool) Bytes() []byte {
	if s.Len() == 0 {
		return nil
	}
	out := make([]byte, 0, s.n)
	for _, c := range s.chunks {
		out = append(out, c...)
	}
	return out
}

// Reader reads what was written so far; a nil Spool reads as empty.
func (s *Spool) Reader() io.Reader {
	if s == nil {
		return bytes.NewReader(nil)
	}
	rs := make([]io.Reader, len(s.chunks))
	for i, c := range s.chunks {
		rs[i] = bytes.NewReader(c)
	}
	return io.MultiReader(rs...)
}

// trimmed is what was written without leading and trailing white space,
// as chunks.
func (s *Spool) trimmed() [][]byte {
	chunks := slices.Clone(s.chunks)
	for len(chunks) > 0 {
		chunks[0] = bytes.TrimLeft(chunks[0], " \t\r\n")
		if len(chunks[0]) > 0 {
			break
		}
		chunks = chunks[1:]
	}
	for len(chunks) > 0 {
		last := len(chunks) - 1
		chunks[last] = bytes.TrimRight(chunks[last], " \t\r\n")
		if len(chunks[last]) > 0 {
			break
		}
		chunks = chunks[:last]
	}
	return chunks
}
