package e2e

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// TestCLIAgainstRealAPIServer checks the one-line errors and the cluster
// completions against what a real kube-apiserver answers: 404 for a
// namespace that does not exist, 401 for a token it does not know, and
// the namespaces it lists.
func TestCLIAgainstRealAPIServer(t *testing.T) {
	c := framework.Start(t, framework.Options{Version: "v1.30"})
	admin := c.Kubeconfig(framework.AdminUser)

	t.Run("-n naming a namespace that does not exist", func(t *testing.T) {
		code, stderr := auditBounded(t, 2*time.Minute, "--kubeconfig", admin, "-n", "no-such-namespace")
		if code != cmd.ExitError || !strings.Contains(stderr, `namespace "no-such-namespace" does not exist in the cluster at `+c.Host()) {
			t.Fatalf("exit %d; stderr: %s", code, stderr)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
			t.Errorf("want one line, got %d:\n%s", n+1, stderr)
		}
	})

	t.Run("credentials the server refuses", func(t *testing.T) {
		cfg, err := clientcmd.LoadFromFile(admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range cfg.AuthInfos {
			u.Token = "expired-token"
		}
		expired := filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, expired); err != nil {
			t.Fatal(err)
		}
		code, stderr := auditBounded(t, 2*time.Minute, "--kubeconfig", expired)
		if code != cmd.ExitError || !strings.Contains(stderr, "refused the credentials (401 Unauthorized") || !strings.Contains(stderr, "-f FILE") {
			t.Fatalf("exit %d; stderr: %s", code, stderr)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
			t.Errorf("want one line, got %d:\n%s", n+1, stderr)
		}
	})

	t.Run("-n completes the server's namespaces", func(t *testing.T) {
		c.CreateNamespace(t, "team-completion")
		streams, _, out, errOut := genericiooptions.NewTestIOStreams()
		root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
		root.SetArgs([]string{cobra.ShellCompRequestCmd, "audit", "--kubeconfig", admin, "-n", ""})
		root.SetOut(out)
		root.SetErr(&bytes.Buffer{})
		if code := cmd.Execute(root, streams); code != cmd.ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if !strings.HasPrefix(line, ":") {
				got = append(got, line)
			}
		}
		for _, want := range []string{"default", "kube-system", "team-completion"} {
			if !slices.Contains(got, want) {
				t.Errorf("candidates %q lack %q", got, want)
			}
		}
	})
}
