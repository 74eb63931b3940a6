package convert

import (
	"bytes"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

func TestRenderers(t *testing.T) {
	tests := []struct {
		name    string
		engines []string
		want    []string
		wantErr string
	}{
		{name: "in order, repeats dropped, spaces trimmed", engines: []string{"vap", " kyverno", "vap"}, want: []string{"vap", "kyverno"}},
		{name: "none", engines: nil, want: nil},
		{name: "unknown", engines: []string{"vap", "opa"}, wantErr: `unknown engine "opa"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Renderers(tt.engines)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.Name())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

const psp = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: p
spec:
  volumes: [configMap]
  defaultAddCapabilities: [NET_RAW]
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		engines   []string
		mutate    bool
		wantFiles int
		wantDiag  []string
		notDiag   []string
		wantErr   string
	}{
		{name: "notes on the defaults that are dropped", input: psp, engines: []string{"vap"}, wantFiles: 2,
			wantDiag: []string{"Note: PodSecurityPolicy p: defaultAddCapabilities"}},
		{name: "with mutate the defaults are written, not noted", input: psp, engines: []string{"kyverno"}, mutate: true, wantFiles: 2,
			notDiag: []string{"defaultAddCapabilities"}},
		{name: "psa pins latest", input: psp, engines: []string{"psa"}, wantFiles: 0,
			wantDiag: []string{"Warning: psa: pod-security labels pinned to"}},
		{name: "bad input", input: "a: [\n", wantErr: "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := FromYAML([]byte(tt.input), "in.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "in.yaml") {
					t.Fatalf("err %v, want %q naming in.yaml", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rs, err := Renderers(tt.engines)
			if err != nil {
				t.Fatal(err)
			}
			var diag bytes.Buffer
			opts := Options{Options: translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeEnforce, PSSVersion: "latest", Mutate: tt.mutate, ExcludeNamespaces: []string{}}}
			ms, err := Run(inv, rs, opts, &diag)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tt.wantFiles {
				t.Errorf("%d files, want %d", len(ms), tt.wantFiles)
			}
			for _, w := range tt.wantDiag {
				if !strings.Contains(diag.String(), w) {
					t.Errorf("diagnostics %q lack %q", diag.String(), w)
				}
			}
			for _, w := range tt.notDiag {
				if strings.Contains(diag.String(), w) {
					t.Errorf("diagnostics %q have %q", diag.String(), w)
				}
			}
		})
	}
}
