package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteDocument(t *testing.T) {
	doc := struct {
		Kind  string `json:"kind"`
		Count int    `json:"count"`
	}{"Thing", 2}
	tests := []struct {
		format, want, wantErr string
	}{
		{format: FormatJSON, want: "{\n  \"kind\": \"Thing\",\n  \"count\": 2\n}\n"},
		{format: FormatYAML, want: "count: 2\nkind: Thing\n"},
		{format: "table", wantErr: `encode thing: unknown document format "table"`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteDocument(&b, doc, tt.format, "thing")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if b.Len() != 0 {
					t.Fatalf("wrote %q on error", b.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Fatalf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}
