package cmd

import (
	"strings"
	"testing"
)

// TestRecommendationsNeverLoosenSilently: on the example cluster, the
// workload PSP rejects today does not drag web down to privileged, and the
// protection each namespace loses is in the table and, as warnings, in
// convert -e psa.
func TestRecommendationsNeverLoosenSilently(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStdout []string
		wantStderr []string
	}{
		{name: "audit table", args: []string{"audit", "-f", exampleCluster, "--pss-version", "v1.30"},
			wantStdout: []string{
				"1 rejected today; not counted",
				"REJECTED TODAY (no pod runs; PSP rejects the template; not in RECOMMENDED):\n  - web: Deployment/ab-test-proxy (privileged): PodSecurityPolicy: unable to admit pod",
				"PROTECTION LOST (the recommended level allows what every usable PSP forbids):",
				"  - monitoring: privileged containers: forbidden today by every usable PSP (host-network, restricted); privileged allows it",
				"  - payments: running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it",
			}},
		{name: "convert -e psa", args: []string{"convert", "-e", "psa", "--pss-version", "v1.30", "-f", exampleCluster},
			wantStderr: []string{
				"Warning: psa: namespace web: not counted in the recommendation, rejected by PodSecurityPolicy today with no pod running: Deployment/ab-test-proxy\n",
				"Warning: psa: namespace monitoring: protection lost: privileged containers: forbidden today by every usable PSP (host-network, restricted); privileged allows it\n",
				"Warning: psa: namespace payments: protection lost: running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it\n",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if tt.args[0] == "convert" {
				found := false
				for _, d := range yamlDocs(t, []byte(stdout)) {
					md, _ := d["metadata"].(map[string]any)
					if md["name"] != "web" {
						continue
					}
					found = true
					if l, _ := md["labels"].(map[string]any); l["pod-security.kubernetes.io/enforce"] != "baseline" {
						t.Errorf("web labels %v, want enforce baseline", l)
					}
				}
				if !found {
					t.Errorf("no Namespace web written:\n%s", stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}
