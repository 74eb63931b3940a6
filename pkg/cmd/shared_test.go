package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// TestSharedReadFlags: audit, convert and readiness take the read flags
// (-n, -A, -f, -R, --live) with one meaning, and refuse what they cannot
// honour the same way.
func TestSharedReadFlags(t *testing.T) {
	const example = "../../examples/cluster.yaml"
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
		wantOut []string
		notOut  []string
	}{
		{name: "audit -A", args: []string{"audit", "-A", "-f", example, "-o", "json"}, wantOut: []string{`"name": "analytics"`}},
		{name: "convert -A", args: []string{"convert", "-A", "-e", "vap", "-f", example}, wantOut: []string{"ValidatingAdmissionPolicy"}},
		{name: "audit -A with -n", args: []string{"audit", "-A", "-n", "web", "-f", example}, code: ExitError, wantErr: "--all-namespaces and --namespace cannot be used together"},
		{name: "convert -A with -n", args: []string{"convert", "-e", "psa", "-A", "-n", "web", "-f", example}, code: ExitError, wantErr: "--all-namespaces and --namespace cannot be used together"},
		{name: "convert -n limits psa to the namespace", args: []string{"convert", "-e", "psa", "-n", "web", "-f", example},
			wantOut: []string{"name: web"}, notOut: []string{"name: analytics"}},
		{name: "convert -n with a cluster-wide engine", args: []string{"convert", "-e", "vap", "-n", "web", "-f", example}, code: ExitError, wantErr: "-n limits only -e psa"},
		{name: "readiness -n", args: []string{"readiness", "-n", "web", "-f", example}, code: ExitError, wantErr: "readiness judges the whole cluster"},
		{name: "audit --scope without --engine", args: []string{"audit", "--scope", "cluster", "-f", example}, code: ExitError, wantErr: "--scope needs --engine"},
		{name: "audit --psp without --engine", args: []string{"audit", "--psp", "restricted", "-f", example}, code: ExitError, wantErr: "--psp needs --engine"},
		{name: "-R on convert", args: []string{"convert", "-e", "vap", "-R", "-f", "../../examples"}, wantOut: []string{"ValidatingAdmissionPolicy"}},
		{name: "--live without -f, convert", args: []string{"convert", "-e", "vap", "--live"}, code: ExitError, wantErr: "--live only makes sense with -f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runRoot(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q", w)
				}
			}
			for _, w := range tt.notOut {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q", w)
				}
			}
		})
	}
}

// TestPSALabelsAgree: the labels audit recommends and convert -e psa
// writes pin the same *-version, for "latest" and for a named version.
func TestPSALabelsAgree(t *testing.T) {
	for _, version := range []string{"latest", "v1.25"} {
		t.Run(version, func(t *testing.T) {
			code, out, errOut := runRoot(t, "audit", "-f", "../../examples/cluster.yaml", "-o", "json", "--pss-version", version)
			if code != ExitOK {
				t.Fatalf("audit: exit %d: %s", code, errOut)
			}
			var rep report.AuditReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			recommended := map[string]map[string]string{}
			for _, ns := range rep.Namespaces {
				recommended[ns.Name] = ns.Labels
			}
			code, out, errOut = runRoot(t, "convert", "-e", "psa", "-f", "../../examples/cluster.yaml", "--pss-version", version, "--force")
			if code != ExitOK {
				t.Fatalf("convert: exit %d: %s", code, errOut)
			}
			checked := 0
			for _, doc := range strings.Split(out, "\n---\n") {
				var obj struct {
					Metadata struct {
						Name   string            `json:"name"`
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
				}
				if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj.Metadata.Name == "" {
					continue
				}
				for _, k := range []string{"pod-security.kubernetes.io/enforce-version", "pod-security.kubernetes.io/warn-version", "pod-security.kubernetes.io/audit-version"} {
					if got, want := obj.Metadata.Labels[k], recommended[obj.Metadata.Name][k]; got != "" && got != want {
						t.Errorf("%s %s: convert writes %q, audit recommends %q", obj.Metadata.Name, k, got, want)
					}
					if strings.HasSuffix(obj.Metadata.Labels[k], "latest") {
						t.Errorf("%s %s: %q is not pinned", obj.Metadata.Name, k, obj.Metadata.Labels[k])
					}
					checked++
				}
			}
			if checked == 0 {
				t.Fatalf("no namespace labels in convert's output:\n%s", out)
			}
		})
	}
}
