package report

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// WriteDocument writes v to w as indented JSON (with a final newline) or
// as YAML, the two machine-readable forms every -o flag offers; what names
// the document in the error ("readiness report"). Any other format is an
// error: callers print their tables themselves.
func WriteDocument(w io.Writer, v any, format, what string) error {
	var b []byte
	var err error
	switch format {
	case FormatJSON:
		if b, err = json.MarshalIndent(v, "", "  "); err == nil {
			b = append(b, '\n')
		}
	case FormatYAML:
		b, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("encode %s: unknown document format %q (want %s or %s)", what, format, FormatJSON, FormatYAML)
	}
	if err != nil {
		return fmt.Errorf("encode %s as %s: %w", what, format, err)
	}
	_, err = w.Write(b)
	return err
}
