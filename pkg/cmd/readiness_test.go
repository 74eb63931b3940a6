package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
)

func TestReadiness(t *testing.T) {
	const example = "../../examples/cluster.yaml"
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "the example is not ready", args: []string{"-f", example}, wantCode: ExitFindings,
			wantStdout: []string{"NOT READY for v1.25 with psa", "BLOCK    no workload relies on what a PSP filled in", "Plan:"}},
		{name: "markdown", args: []string{"-f", example, "-o", "markdown"}, wantCode: ExitFindings,
			wantStdout: []string{"# PodSecurityPolicy migration readiness: NOT READY", "## Plan", "<details>"}},
		{name: "json", args: []string{"-f", example, "-o", "json"}, wantCode: ExitFindings,
			wantStdout: []string{`"kind": "ReadinessReport"`, `"verdict": "NOT READY"`}},
		{name: "a cluster without PSP problems is ready", args: []string{"-f", "testdata/convert/eks.yaml"}, wantCode: ExitOK,
			wantStdout: []string{"READY"}},
		{name: "vap below v1.30 is refused", args: []string{"-f", example, "--engine", "vap"}, wantCode: ExitError,
			wantStderr: []string{"--engine vap", "use --engine psa"}},
		{name: "vap offline to v1.30 is taken at its word", args: []string{"-f", example, "--engine", "vap", "--to", "v1.30"}, wantCode: ExitFindings,
			wantStderr: []string{"Warning: --engine vap offline"}, wantStdout: []string{"NOT READY for v1.30 with vap"}},
		{name: "a target with PSP still in it", args: []string{"-f", example, "--to", "v1.24"}, wantCode: ExitError,
			wantStderr: []string{"PodSecurityPolicy is still served"}},
		{name: "bad --to", args: []string{"-f", example, "--to", "2.0"}, wantCode: ExitError, wantStderr: []string{"--to: invalid Kubernetes version"}},
		{name: "bad engine", args: []string{"-f", example, "--engine", "opa"}, wantCode: ExitError, wantStderr: []string{`invalid argument "opa" for "-e, --engine" flag: want one of psa,`}},
		{name: "bad output", args: []string{"-f", example, "-o", "wide"}, wantCode: ExitError, wantStderr: []string{`invalid argument "wide" for "-o, --output" flag: want one of table, json, yaml, markdown`}},
		{name: "bad fail-on", args: []string{"-f", example, "--fail-on", "block"}, wantCode: ExitError, wantStderr: []string{`invalid argument "block" for "--fail-on" flag: want one of warn`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", append([]string{"readiness"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
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

func TestReadinessOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	args := []string{"readiness", "-f", "../../examples/cluster.yaml", "--output-dir", dir}
	if code, _, stderr := runCLI(t, "", args...); code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"plan.md", "01-fix-templates/payments-statefulset-ledger.yaml", "02-observe/namespace-payments.yaml", "04-enforce/namespace-payments.yaml",
		"03-watch/README.md", "05-remove-psp/README.md", "06-upgrade/README.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	code, _, stderr := runCLI(t, "", args...)
	if code != ExitError || !strings.Contains(stderr, "--force") {
		t.Errorf("second run without --force: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "", append(args, "--force")...); code != ExitFindings {
		t.Errorf("--force: exit %d, %s", code, stderr)
	}
}

// TestReadinessIncomplete: a live read the user may not finish is exit 3,
// whatever else the checks find.
func TestReadinessIncomplete(t *testing.T) {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewReadinessOptions(streams)
	o.Output = readiness.FormatJSON
	o.newClients = func() (kubernetes.Interface, dynamic.Interface, error) {
		kube := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}})
		kube.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.24.17", Major: "1", Minor: "24"}
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
			map[schema.GroupVersionResource]string{psp.GroupVersionResource: "PodSecurityPolicyList"})
		dyn.PrependReactor("list", "podsecuritypolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "policy", Resource: "podsecuritypolicies"}, "", nil)
		})
		return kube, dyn, nil
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if code := ExitCode(o.Run(t.Context())); code != ExitIncomplete {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitIncomplete, errOut)
	}
	var rep readiness.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != readiness.NotReady || rep.Metadata.ClusterVersion != "v1.24" || rep.Metadata.Target != "v1.25" {
		t.Errorf("verdict %s, cluster %s, target %s", rep.Verdict, rep.Metadata.ClusterVersion, rep.Metadata.Target)
	}
}
