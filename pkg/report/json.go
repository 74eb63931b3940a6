package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
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
	for j := 0; j < fv.Len(); j++ {
		if j > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		if err := writeIndented(bw, fv.Index(j).Interface(), "    "); err != nil {
			return err
		}
	}
	bw.WriteString("\n  ]")
	return nil
}

func writeIndented(bw *bufio.Writer, v any, prefix string) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, prefix, "  "); err != nil {
		return err
	}
	_, err = bw.Write(buf.Bytes())
	return err
}
