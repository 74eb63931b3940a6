package cmd

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterErrors: every way of having no cluster to read ends in one
// line that names what was tried and how to fix it, exit 1; the texts are
// golden files (paths and ports replaced by $DIR and $SERVER).
func TestClusterErrors(t *testing.T) {
	dir := t.TempDir()
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
	}))
	defer unauthorized.Close()
	api := httptest.NewServer(&fakeAPI{calls: map[string]int{}})
	defer api.Close()

	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	refusedCfg := writeKubeconfig(t, refusedURL, nil, "")
	expiredCfg := writeKubeconfig(t, unauthorized.URL, nil, "")
	apiCfg := writeKubeconfig(t, api.URL, nil, "")
	tests := []struct {
		name string
		args []string
		// golden is the file under testdata/errors; "" checks want instead.
		golden string
		want   string
		code   int
	}{
		{name: "no kubeconfig", args: []string{"audit", "--kubeconfig", empty}, golden: "no-kubeconfig.txt", code: ExitError},
		{name: "connection refused", args: []string{"audit", "--kubeconfig", refusedCfg}, golden: "refused.txt", code: ExitError},
		{name: "refused, convert", args: []string{"convert", "-e", "vap", "--kubeconfig", refusedCfg}, golden: "refused.txt", code: ExitError},
		{name: "refused, readiness", args: []string{"readiness", "--kubeconfig", refusedCfg}, golden: "refused.txt", code: ExitError},
		{name: "unknown context", args: []string{"audit", "--kubeconfig", refusedCfg, "--context", "prod"}, golden: "unknown-context.txt", code: ExitError},
		{name: "unknown cluster", args: []string{"audit", "--kubeconfig", refusedCfg, "--cluster", "prod"}, golden: "unknown-cluster.txt", code: ExitError},
		{name: "expired credentials", args: []string{"audit", "--kubeconfig", expiredCfg}, golden: "unauthorized.txt", code: ExitError},
		{name: "namespace that does not exist", args: []string{"audit", "--kubeconfig", apiCfg, "-n", "nope"}, golden: "namespace-not-found.txt", code: ExitError},
		{name: "cluster flags with -f alone", args: []string{"audit", "--kubeconfig", refusedCfg, "--context", "c", "-f", "testdata/restricted.yaml", "-o", "json"},
			want: "Warning: --context, --kubeconfig ignored: -f reads only the files (add --live to read the cluster too)\n", code: ExitOK},
		{name: "-n with -f alone is no cluster flag", args: []string{"audit", "-n", "app", "-f", "testdata/restricted.yaml", "-o", "json"}, want: "", code: ExitOK},
		{name: "-n naming nothing in the files", args: []string{"audit", "-n", "nope", "-f", "testdata/restricted.yaml", "-o", "json"},
			want: "Warning: namespace \"nope\": nothing in it in the files read (check the name, or drop -n)\n", code: ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBounded(t, time.Minute, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			got := strings.NewReplacer(dir, "$DIR", refusedURL, "$SERVER", unauthorized.URL, "$SERVER", api.URL, "$SERVER",
				filepath.Dir(refusedCfg), "$DIR", filepath.Dir(expiredCfg), "$DIR", filepath.Dir(apiCfg), "$DIR").Replace(stderr)
			if tt.golden == "" {
				if got != tt.want {
					t.Errorf("stderr = %q, want %q", got, tt.want)
				}
				return
			}
			if n := strings.Count(got, "\n"); n != 1 {
				t.Errorf("want one line, got %d:\n%s", n, got)
			}
			checkGoldenText(t, filepath.Join("errors", tt.golden), got)
		})
	}
}

// TestTidyMessage: one prefix, never doubled.
func TestTidyMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kyverno: kyverno: rule x", "kyverno: rule x"},
		{"Warning: Warning: psa: x", "psa: x"},
		{"psa: psa: psa: x", "psa: x"},
		{`PodSecurityPolicy "a": PodSecurityPolicy "a": x`, `PodSecurityPolicy "a": PodSecurityPolicy "a": x`},
		{"list pods: timed out", "list pods: timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := tidyMessage(tt.in, prefixWarning); got != tt.want {
				t.Errorf("tidyMessage(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
