package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// TestOverlappingInputs audits a real v1.24 cluster's kubectl dump given
// twice, and with a directory of its PSPs, and the live cluster merged
// with a file that holds a different copy of one of its Deployments: each
// must equal the audit of one copy of every object, the live one winning.
func TestOverlappingInputs(t *testing.T) {
	c := framework.Start(t, framework.Options{Version: "v1.24"})
	loadFixture(t, c)
	admin := c.Kubeconfig(framework.AdminUser)
	dir := t.TempDir()

	stdout, stderr, err := c.Kubectl(t, framework.AdminUser, "get", dumpTypes, "-A", "-o", "yaml")
	if err != nil {
		t.Fatalf("kubectl get: %v: %s", err, stderr)
	}
	dump := filepath.Join(dir, "dump.yaml")
	if err := os.WriteFile(dump, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode([]byte(stdout), dump)
	if err != nil {
		t.Fatal(err)
	}
	psps := filepath.Join(dir, "psps")
	if err := os.Mkdir(psps, 0o755); err != nil {
		t.Fatal(err)
	}
	var frontend *unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.Object.GetKind() == "PodSecurityPolicy":
			writeYAML(t, filepath.Join(psps, o.Object.GetName()+".yaml"), []any{o.Object.Object})
		case o.Object.GetKind() == "Deployment" && o.Object.GetNamespace() == "web" && o.Object.GetName() == "frontend":
			frontend = o.Object
		}
	}
	if frontend == nil {
		t.Fatal("the dump lacks web/frontend")
	}

	_, alone, _ := audit(t, "-f", dump)
	normalize := func(r *report.AuditReport) *report.AuditReport {
		r.Metadata.Sources, r.Metadata.PSPAPIServed, r.Warnings = nil, false, nil
		return r
	}

	for _, tt := range []struct {
		name        string
		args        []string
		wantWarning string
	}{
		{"dump twice", []string{"-f", dump, "-f", dump}, dump + " was read more than once"},
		{"dump and its PSPs", []string{"-f", dump, "-f", psps}, "read from both " + dump + " and " + psps},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, got, stderr := audit(t, tt.args...)
			if code != cmd.ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.wantWarning) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantWarning, stderr)
			}
			if !reflect.DeepEqual(normalize(got), normalize(alone)) {
				a, _ := json.MarshalIndent(alone, "", " ")
				b, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("report differs from the dump alone:\n%s\n---\n%s", a, b)
			}
		})
	}

	t.Run("--live keeps the cluster's copy", func(t *testing.T) {
		// The file's frontend is privileged; the cluster's is baseline.
		edited := frontend.DeepCopy()
		containers, _, _ := unstructured.NestedSlice(edited.Object, "spec", "template", "spec", "containers")
		c0 := containers[0].(map[string]any)
		c0["securityContext"] = map[string]any{"privileged": true}
		if err := unstructured.SetNestedSlice(edited.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "frontend.yaml")
		writeYAML(t, file, []any{edited.Object})

		// Among files the later copy wins: the edit is visible.
		_, files, _ := audit(t, "-f", dump, "-f", file)
		if lvl := workloadLevel(files, "web", "Deployment", "frontend"); lvl != "privileged" {
			t.Fatalf("-f dump -f file: frontend is %q, want the file's privileged copy", lvl)
		}

		_, live, _ := audit(t, "--kubeconfig", admin)
		code, got, stderr := audit(t, "--kubeconfig", admin, "--live", "-f", file)
		if code != cmd.ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		want := `1 object(s) read from both cluster and ` + file + ` (e.g. Deployment "web/frontend"); each is counted once, the copy from cluster wins`
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
		if !reflect.DeepEqual(got.Metadata.Sources, []string{"cluster", file}) {
			t.Errorf("sources %v", got.Metadata.Sources)
		}
		if lvl := workloadLevel(got, "web", "Deployment", "frontend"); lvl != "baseline" {
			t.Errorf("--live: frontend is %q, want the cluster's baseline copy", lvl)
		}
		if !reflect.DeepEqual(normalize(got), normalize(live)) {
			t.Errorf("the file's copy changed the live report")
		}
	})
}

func workloadLevel(r *report.AuditReport, ns, kind, name string) string {
	for _, w := range r.Workloads {
		if w.Namespace == ns && w.Kind == kind && w.Name == name {
			return w.PSS.Level
		}
	}
	return ""
}
