package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// writeJSON prints rep exactly as json.MarshalIndent(rep, "", "  ") would,
// but encodes list elements one at a time: on a 10,000-pod cluster the
// report is tens of megabytes, and indenting it whole costs more time and
// memory than the audit itself.
func writeJSON(w io.Writer, rep *AuditReport) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	v := reflect.ValueOf(rep).Elem()
	t := v.Type()
	bw.WriteString("{")
	first := true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if strings.Contains(opts, "omitempty") && fv.IsZero() || strings.Contains(opts, "omitempty") && fv.Kind() == reflect.Slice && fv.Len() == 0 {
			continue
		}
		if !first {
			bw.WriteString(",")
		}
		first = false
		key, _ := json.Marshal(name)
		fmt.Fprintf(bw, "\n  %s: ", key)
		if err := writeValue(bw, fv); err != nil {
			return fmt.Errorf("encode report field %s: %w", name, err)
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func writeValue(bw *bufio.Writer, fv reflect.Value) error {
	if fv.Kind() != reflect.Slice || fv.IsNil() || fv.Len() == 0 {
		return writeIndented(bw, fv.Interface(), "  ")
	}
	bw.WriteString("[")
	if err := writeElements(bw, fv); err != nil {
		return err
	}
	bw.WriteString("\n  ]")
	return nil
}

// elementsPerChunk is how many list elements one goroutine encodes at a
// time: a few hundred kilobytes of a pod list.
const elementsPerChunk = 256

// writeElements writes the elements of the slice fv, each on its lines,
// comma-separated. Chunks of elements are encoded on all CPUs, a few
// chunks ahead of the writer, and written in order: the pods of a large
// cluster are most of the report, and encoding them is the last thing an
// audit does before it exits.
func writeElements(bw *bufio.Writer, fv reflect.Value) error {
	n := fv.Len()
	chunks := (n + elementsPerChunk - 1) / elementsPerChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		e := encoders.Get().(*elementEncoder)
		defer encoders.Put(e)
		if err := e.encode(fv, 0, n); err != nil {
			return err
		}
		_, err := bw.Write(e.out)
		return err
	}
	type chunk struct {
		e   *elementEncoder
		err error
	}
	results := make([]chan chunk, chunks)
	for i := range results {
		results[i] = make(chan chunk, 1)
	}
	// At most 2×workers chunks encoded and not yet written; their
	// encoders, buffers included, go round rather than become garbage,
	// and back to the pool for the report's next list.
	free := make(chan *elementEncoder, 2*workers)
	for range cap(free) {
		free <- encoders.Get().(*elementEncoder)
	}
	done := make(chan struct{})
	defer func() {
		close(done)
		for range cap(free) {
			select {
			case e := <-free:
				encoders.Put(e)
			default:
				return
			}
		}
	}()
	go func() {
		for i := range chunks {
			var e *elementEncoder
			select {
			case e = <-free:
			case <-done:
				return
			}
			go func() {
				lo := i * elementsPerChunk
				err := e.encode(fv, lo, min(lo+elementsPerChunk, n))
				results[i] <- chunk{e, err}
			}()
		}
	}()
	for i := range chunks {
		c := <-results[i]
		if c.err != nil {
			return c.err
		}
		_, err := bw.Write(c.e.out)
		free <- c.e
		if err != nil {
			return err
		}
	}
	return nil
}

// elementEncoder encodes list elements as writeElements writes them.
type elementEncoder struct {
	buf bytes.Buffer
	// enc writes compact JSON, HTML-escaped as Marshal's; appendIndented
	// indents it.
	enc *json.Encoder
	// out holds the elements encoded by the last call to encode.
	out []byte
	// verdicts are the pods' verdicts encoded last (see encodePod).
	verdicts verdictCache
}

// encoders keeps element encoders, their grown buffers with them, from
// one list of the report to the next: the pods' chunks are megabytes.
var encoders = sync.Pool{New: func() any {
	e := &elementEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// encode sets out to elements lo to hi of fv: a comma before each but the
// list's first, then a new line, then the element indented as
// json.MarshalIndent would under "    ".
func (e *elementEncoder) encode(fv reflect.Value, lo, hi int) error {
	e.out = e.out[:0]
	// The verdicts remembered are those of this report's pods only: a
	// pointer of another report's could be reused.
	e.verdicts.forget()
	pods, _ := fv.Interface().([]Pod)
	for j := lo; j < hi; j++ {
		if j > 0 {
			e.out = append(e.out, ',')
		}
		// Grown by doubling ahead of need, not by append's quarter steps
		// (a chunk of pods is a megabyte).
		if cap(e.out)-len(e.out) < 16<<10 {
			e.out = slices.Grow(e.out, max(cap(e.out), 64<<10))
		}
		e.out = append(e.out, "\n    "...)
		if pods != nil {
			if err := e.encodePod(&pods[j]); err != nil {
				return err
			}
			continue
		}
		e.buf.Reset()
		// A pointer to the element, not a copy of it boxed in an
		// interface: the same JSON, one allocation less per element.
		if err := e.enc.Encode(fv.Index(j).Addr().Interface()); err != nil {
			return err
		}
		// Encode ends each value with a new line that Marshal does not.
		e.out = appendIndented(e.out, bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), "    ", "  ")
	}
	return nil
}

func writeIndented(bw *bufio.Writer, v any, prefix string) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = bw.Write(appendIndented(nil, raw, prefix, "  "))
	return err
}
