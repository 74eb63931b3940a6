package e2e

import (
	"encoding/json"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	auditpkg "github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/live"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// TestStreamedAuditEqualsWholeAudit: the live audit evaluates pods page by
// page as they are listed and keeps only their verdicts (audit.Stream as
// the read's live.PodSink); against a real API server, in pages of two, its
// report is the one audit.Run makes from the whole inventory, pods kept,
// and the one the command prints.
func TestStreamedAuditEqualsWholeAudit(t *testing.T) {
	c := framework.Start(t, framework.Options{Version: "v1.24"})
	loadFixture(t, c)
	cfg := c.AdminConfig()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts := auditpkg.Options{PSSVersion: serverPSSVersion, ToolVersion: "e2e"}
	read := live.Options{PageSize: 2}

	inv, err := live.Read(t.Context(), kube, dyn, read)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Pods) < 15 {
		t.Fatalf("fixture too thin to prove anything: %d pods", len(inv.Pods))
	}
	whole, err := auditpkg.Run(inv, opts)
	if err != nil {
		t.Fatal(err)
	}

	stream := auditpkg.NewStream(opts)
	defer stream.Close()
	read.Pods = stream
	rest, err := live.Read(t.Context(), kube, dyn, read)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Pods) != 0 || !stream.Started() {
		t.Fatalf("pods not streamed: %d kept, started=%v", len(rest.Pods), stream.Started())
	}
	streamed, err := stream.Finish(rest)
	if err != nil {
		t.Fatal(err)
	}
	code, printed, stderr := audit(t, "--kubeconfig", c.Kubeconfig(framework.AdminUser))
	if code != cmd.ExitOK {
		t.Fatalf("audit exit %d: %s", code, stderr)
	}

	want := mustJSON(t, whole)
	if got := mustJSON(t, streamed); got != want {
		t.Errorf("streamed report differs from the whole audit's:\nstreamed:\n%s\nwhole:\n%s", got, want)
	}
	if got := mustJSON(t, printed); got != want {
		t.Errorf("the command's report differs from the whole audit's:\ncommand:\n%s\nwhole:\n%s", got, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
