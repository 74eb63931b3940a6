//go:build js && wasm

package main

import (
	"encoding/json"
	"strings"
	"syscall/js"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/web/bridge"
)

// These run under Go's own wasm_exec runner (Node.js):
//
//	GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./web/...

const psp = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: p
spec:
  privileged: false
  volumes: [configMap]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

func call(t *testing.T, name string, args ...any) js.Value {
	t.Helper()
	obj := exports()
	f := obj.Get(name)
	if f.Type() != js.TypeFunction {
		t.Fatalf("pspMigrate.%s is %s, not a function", name, f.Type())
	}
	return obj.Call(name, args...)
}

func requestJSON(t *testing.T, req map[string]any) string {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExports(t *testing.T) {
	tests := []struct {
		name  string
		fn    string
		args  []any
		check func(t *testing.T, v js.Value)
	}{
		{name: "version", fn: "version", check: func(t *testing.T, v js.Value) {
			if v.String() != version {
				t.Errorf("version %q, want %q", v.String(), version)
			}
		}},
		{name: "engines", fn: "engines", check: func(t *testing.T, v js.Value) {
			var got []string
			if err := json.Unmarshal([]byte(v.String()), &got); err != nil || strings.Join(got, ",") != strings.Join(bridge.Engines(), ",") {
				t.Errorf("engines %s (%v), want %v", v.String(), err, bridge.Engines())
			}
		}},
		{name: "examples", fn: "examples", check: func(t *testing.T, v js.Value) {
			var got []bridge.Example
			if err := json.Unmarshal([]byte(v.String()), &got); err != nil || len(got) == 0 {
				t.Errorf("examples: %d (%v)", len(got), err)
			}
		}},
		{name: "convert", fn: "convert", args: []any{requestJSON(t, map[string]any{"input": psp, "engines": []string{"vap", "kyverno"}, "mode": "warn"})}, check: func(t *testing.T, v js.Value) {
			var r bridge.Response
			if err := json.Unmarshal([]byte(v.String()), &r); err != nil {
				t.Fatal(err)
			}
			if r.Error != nil || len(r.Engines) != 2 || r.Version != version {
				t.Fatalf("response %+v", r)
			}
			for _, e := range r.Engines {
				if e.Error != "" || e.Output == "" || !strings.Contains(e.Command, "--mode warn") {
					t.Errorf("%s: error %q, %d bytes, command %q", e.Engine, e.Error, len(e.Output), e.Command)
				}
			}
		}},
		{name: "convert: bad YAML", fn: "convert", args: []any{requestJSON(t, map[string]any{"input": "a: [\n"})}, check: func(t *testing.T, v js.Value) {
			var r bridge.Response
			if err := json.Unmarshal([]byte(v.String()), &r); err != nil {
				t.Fatal(err)
			}
			if r.Error == nil || r.Error.Line != 1 || !strings.Contains(r.Error.Message, "invalid YAML") {
				t.Errorf("error %+v, want invalid YAML on line 1", r.Error)
			}
		}},
		{name: "convert: not JSON", fn: "convert", args: []any{"{"}, check: func(t *testing.T, v js.Value) {
			if !strings.Contains(v.String(), "bad request") {
				t.Errorf("got %s", v.String())
			}
		}},
		{name: "convert: no argument", fn: "convert", check: func(t *testing.T, v js.Value) {
			if !strings.Contains(v.String(), "want one JSON string argument") {
				t.Errorf("got %s", v.String())
			}
		}},
		{name: "zip", fn: "zip", args: []any{requestJSON(t, map[string]any{"input": psp})}, check: func(t *testing.T, v js.Value) {
			if !v.InstanceOf(js.Global().Get("Uint8Array")) {
				t.Fatalf("zip returned %s", v.Type())
			}
			b := make([]byte, v.Length())
			js.CopyBytesToGo(b, v)
			if string(b[:2]) != "PK" {
				t.Errorf("not a zip: % x", b[:4])
			}
		}},
		{name: "zip: bad input is a message", fn: "zip", args: []any{requestJSON(t, map[string]any{"input": "a: [\n"})}, check: func(t *testing.T, v js.Value) {
			if v.Type() != js.TypeString || !strings.Contains(v.String(), "invalid YAML") {
				t.Errorf("got %s %v", v.Type(), v)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, call(t, tt.fn, tt.args...))
		})
	}
}
