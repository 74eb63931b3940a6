package schematest

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

type inner struct {
	Key  string `json:"key"`
	Skip string `json:"-"`
}

type own struct {
	Name   string            `json:"name"`
	Count  int               `json:"count,omitempty"`
	Ref    *inner            `json:"ref"`
	Items  []inner           `json:"items"`
	ByName map[string]inner  `json:"byName,omitempty"`
	Raw    []byte            `json:"raw"`
	Labels map[string]string `json:"labels"`
	//lint:ignore U1000 present so that the test proves the walk skips unexported fields
	private string
}

type borrowing struct {
	When time.Time `json:"when"`
	Own  own       `json:"own"`
}

func TestLines(t *testing.T) {
	for _, tt := range []struct {
		name        string
		root        reflect.Type
		lines       []string
		foreignPath []string
	}{
		{
			name: "own types",
			root: reflect.TypeFor[own](),
			lines: []string{
				"name string", "count int,omitempty",
				"ref object|null", "ref.key string",
				"items []object", "items[].key string",
				"byName map[string]object,omitempty", "byName{}.key string",
				"raw base64", "labels map[string]string",
			},
		},
		{
			name:        "a struct from another package",
			root:        reflect.TypeFor[borrowing](),
			lines:       []string{"when object", "own object", "own.name string", "own.count int,omitempty", "own.ref object|null", "own.ref.key string", "own.items []object", "own.items[].key string", "own.byName map[string]object,omitempty", "own.byName{}.key string", "own.raw base64", "own.labels map[string]string"},
			foreignPath: []string{"when: time.Time"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lines, foreign := Lines(tt.root)
			if !slices.Equal(lines, tt.lines) {
				t.Errorf("lines:\n got %q\nwant %q", lines, tt.lines)
			}
			if !slices.Equal(foreign, tt.foreignPath) {
				t.Errorf("foreign = %q, want %q", foreign, tt.foreignPath)
			}
		})
	}
}
