package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The faults a real kube-apiserver produces on demand, run through the
// plugin with a deadline the test enforces. The forbidden resource type and
// the cluster without the PSP API are in audit_test.go
// (TestAuditAgainstRealAPIServer, TestAuditWithoutPSPAPI); the faults only
// a misbehaving server produces (410 on a continue token, 429, a server
// that dies mid-list) are in pkg/cmd/faults_test.go.

// brokenAPIService registers an aggregated API whose service does not
// exist: the API server lists the group in discovery and fails its
// discovery document with 503, as when metrics-server is down.
const brokenAPIService = `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: {namespace: kube-system, name: no-such-metrics-server}
`

// auditBounded runs audit and fails the test if it has not returned in
// deadline.
func auditBounded(t *testing.T, deadline time.Duration, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	streams, _, _, errOut := genericiooptions.NewTestIOStreams()
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
	root.SetArgs(append([]string{"audit", "-o", "json"}, args...))
	root.SetContext(ctx)
	done := make(chan int, 1)
	go func() { done <- cmd.Execute(root, streams) }()
	select {
	case code = <-done:
		return code, errOut.String()
	case <-ctx.Done():
		t.Fatalf("audit %v did not return within %s", args, deadline)
		return 0, ""
	}
}

func TestLiveFaultsAgainstRealAPIServer(t *testing.T) {
	c := framework.Start(t, framework.Options{Version: "v1.30"})
	admin := c.Kubeconfig(framework.AdminUser)

	t.Run("an aggregated API that fails discovery", func(t *testing.T) {
		c.ApplyYAML(t, []byte(brokenAPIService))
		// The group's discovery document fails on the server (503), as
		// when metrics-server is down: prove the fault is real before
		// proving the audit does not care. (kubectl api-resources omits
		// such a group silently with aggregated discovery.)
		_, stderr, err := c.Kubectl(t, framework.AdminUser, "get", "--raw", "/apis/metrics.k8s.io/v1beta1")
		if err == nil || !strings.Contains(stderr, "ServiceUnavailable") {
			t.Fatalf("discovery of metrics.k8s.io/v1beta1: want 503, got err=%v stderr=%s", err, stderr)
		}
		code, stderr := auditBounded(t, 2*time.Minute, "--kubeconfig", admin)
		if code != cmd.ExitOK || strings.Contains(stderr, "metrics.k8s.io") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})

	t.Run("requests past --request-timeout", func(t *testing.T) {
		code, stderr := auditBounded(t, 2*time.Minute, "--kubeconfig", admin, "--request-timeout", "1ms")
		if code != cmd.ExitError || !strings.Contains(stderr, "read cluster: list ") || !strings.Contains(stderr, "timed out") {
			t.Fatalf("exit %d, want %d with a timeout; stderr: %s", code, cmd.ExitError, stderr)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
			t.Errorf("want one line, got %d:\n%s", n+1, stderr)
		}
	})

	t.Run("TLS: the server's CA is not trusted", func(t *testing.T) {
		cfg, err := clientcmd.LoadFromFile(admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range cfg.Clusters {
			cl.CertificateAuthorityData, cl.CertificateAuthority = nil, ""
		}
		untrusted := filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, untrusted); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(untrusted); err != nil {
			t.Fatal(err)
		}
		code, stderr := auditBounded(t, 2*time.Minute, "--kubeconfig", untrusted)
		if code != cmd.ExitError || !strings.Contains(stderr, "x509: certificate signed by unknown authority") {
			t.Fatalf("exit %d, want %d with an x509 error; stderr: %s", code, cmd.ExitError, stderr)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
			t.Errorf("want one line, got %d:\n%s", n+1, stderr)
		}
	})
}
