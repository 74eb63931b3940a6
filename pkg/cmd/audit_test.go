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
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// runCLI runs the root command as main would and returns the exit code.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	root := NewCmdPSPMigrate(streams, buildinfo.Info{Version: "v0.0.0-test"})
	root.SetArgs(args)
	code = Execute(root, streams)
	return code, out.String(), errOut.String()
}

func TestAuditExitCodes(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "clean", args: []string{"audit", "-f", "testdata/restricted.yaml"}, wantCode: ExitOK, wantStdout: "Pod/good"},
		{name: "fail-on restricted, all restricted", args: []string{"audit", "-f", "testdata/restricted.yaml", "--fail-on", "restricted"}, wantCode: ExitOK},
		{name: "fail-on restricted matches", args: []string{"audit", "-f", "testdata/baseline.yaml", "--fail-on", "restricted"}, wantCode: ExitFindings},
		{name: "fail-on baseline ignores system namespaces", args: []string{"audit", "-f", "testdata/baseline.yaml", "--fail-on", "baseline"}, wantCode: ExitOK},
		{name: "fail-on baseline with system namespaces emptied", args: []string{"audit", "-f", "testdata/baseline.yaml", "--fail-on", "baseline", "--system-namespaces", ""}, wantCode: ExitFindings},
		{name: "fail-on mutated", args: []string{"audit", "-f", "../../examples/cluster.yaml", "--fail-on", "mutated"}, wantCode: ExitFindings},
		{name: "fail-on mutated, nothing relies", args: []string{"audit", "-f", "testdata/restricted.yaml", "--fail-on", "mutated"}, wantCode: ExitOK},
		{name: "bad controller identity", args: []string{"audit", "-f", "testdata/restricted.yaml", "--controller-identity", "kubelet"}, wantCode: ExitError, wantStderr: `invalid argument "kubelet" for "--controller-identity" flag: want one of service-accounts, controller-manager`},
		{name: "fail-on engine", args: []string{"audit", "-f", "../../examples/cluster.yaml", "-e", "vap", "--fail-on", "engine"}, wantCode: ExitFindings},
		{name: "engine column", args: []string{"audit", "-f", "../../examples/cluster.yaml", "-e", "vap"}, wantCode: ExitOK, wantStdout: "DENIED"},
		{name: "engine without prediction", args: []string{"audit", "-f", "testdata/restricted.yaml", "-e", "psa"}, wantCode: ExitError, wantStderr: `invalid argument "psa" for "-e, --engine" flag: want one of gatekeeper, kubewarden, kyverno, kyverno-cel, vap`},
		{name: "psp without engine", args: []string{"audit", "-f", "testdata/restricted.yaml", "--psp", "x"}, wantCode: ExitError, wantStderr: "--psp needs --engine"},
		{name: "fail-on engine without engine", args: []string{"audit", "-f", "testdata/restricted.yaml", "--fail-on", "engine"}, wantCode: ExitError, wantStderr: "--fail-on engine needs --engine"},
		{name: "bad scope", args: []string{"audit", "-f", "testdata/restricted.yaml", "-e", "vap", "--scope", "world"}, wantCode: ExitError, wantStderr: `invalid argument "world" for "--scope" flag: want one of`},
		{name: "unknown psp focus", args: []string{"audit", "-f", "../../examples/cluster.yaml", "-e", "vap", "--psp", "nope"}, wantCode: ExitError, wantStderr: "nope"},
		{name: "stdin", args: []string{"audit", "-f", "-", "-o", "json"}, stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: s, namespace: x}\n", wantCode: ExitOK, wantStdout: `"kind": "AuditReport"`},
		{name: "bad output format", args: []string{"audit", "-f", "testdata/restricted.yaml", "-o", "xml"}, wantCode: ExitError, wantStderr: `invalid argument "xml" for "-o, --output" flag: want one of table, wide, json, yaml`},
		{name: "bad pss version", args: []string{"audit", "-f", "testdata/restricted.yaml", "--pss-version", "1.25"}, wantCode: ExitError, wantStderr: `invalid argument "1.25" for "--pss-version" flag: want one of latest, v1.0 … v1.`},
		{name: "pss version newer than this build", args: []string{"audit", "-f", "testdata/restricted.yaml", "--pss-version", "v1.99"}, wantCode: ExitError, wantStderr: `invalid argument "v1.99" for "--pss-version" flag`},
		{name: "bad fail-on", args: []string{"audit", "-f", "testdata/restricted.yaml", "--fail-on", "strict"}, wantCode: ExitError, wantStderr: `invalid argument "strict" for "--fail-on" flag: want one of baseline, restricted, mutated, engine`},
		{name: "empty file", args: []string{"audit", "-f", empty}, wantCode: ExitError, wantStderr: empty + ": file is empty"},
		{name: "missing file", args: []string{"audit", "-f", filepath.Join(dir, "nope.yaml")}, wantCode: ExitError, wantStderr: "nope.yaml"},
		{name: "live without files", args: []string{"audit", "--live"}, wantCode: ExitError, wantStderr: "--live only makes sense with -f"},
		{name: "-A with -n", args: []string{"audit", "-f", "testdata/restricted.yaml", "-A", "-n", "x"}, wantCode: ExitError, wantStderr: "cannot be used together"},
		{name: "unknown kind warns once", args: []string{"audit", "-f", "-"}, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n", wantCode: ExitOK, wantStderr: "Warning: skipped 2 object(s) of kind v1 ConfigMap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, stdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
			if tt.wantCode == ExitError && stdout != "" {
				t.Errorf("an error must print nothing on stdout, got:\n%s", stdout)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr:\n%s", stderr)
			}
		})
	}
}

func TestAuditOutputFormats(t *testing.T) {
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "audit", "-f", "testdata/baseline.yaml", "-o", format)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			switch format {
			case report.FormatJSON:
				var rep report.AuditReport
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				if rep.APIVersion != report.APIVersion || len(rep.Pods) != 2 || rep.Metadata.ToolVersion != "v0.0.0-test" {
					t.Errorf("report = %+v", rep)
				}
			case report.FormatYAML:
				if !strings.Contains(stdout, "apiVersion: psp-migrate/v1alpha1") {
					t.Errorf("not the YAML report:\n%s", stdout)
				}
			case report.FormatWide:
				if !strings.Contains(stdout, "SERVICE ACCOUNT") || !strings.Contains(stdout, "RESTRICTED VIOLATIONS") {
					t.Errorf("wide table lacks its columns:\n%s", stdout)
				}
			case report.FormatTable:
				for _, s := range []string{"NAMESPACE", "Pod/rooty", "baseline", "kube-system (system)", "RECOMMENDED"} {
					if !strings.Contains(stdout, s) {
						t.Errorf("table lacks %q:\n%s", s, stdout)
					}
				}
			}
		})
	}
}

// TestAuditIncomplete drives the live path with fake clients: a resource the
// user may not list makes the report partial (exit 3), unless a --fail-on
// condition matched (exit 2).
func TestAuditIncomplete(t *testing.T) {
	newClients := func() (kubernetes.Interface, dynamic.Interface, error) {
		kube := fake.NewClientset(
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "c"}}}},
		)
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
			map[schema.GroupVersionResource]string{psp.GroupVersionResource: "PodSecurityPolicyList"})
		dyn.PrependReactor("list", "podsecuritypolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "policy", Resource: "podsecuritypolicies"}, "", nil)
		})
		return kube, dyn, nil
	}
	tests := []struct {
		name     string
		failOn   []string
		wantCode int
	}{
		{name: "incomplete", wantCode: ExitIncomplete},
		{name: "findings win over incomplete", failOn: []string{"restricted"}, wantCode: ExitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := NewAuditOptions(streams)
			o.newClients = newClients
			o.FailOn = tt.failOn
			o.Output = report.FormatJSON
			cmd := NewCmdAudit(streams, buildinfo.Info{})
			if err := o.Complete(cmd, nil); err != nil {
				t.Fatal(err)
			}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			code := ExitCode(o.Run(t.Context()))
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut.String(), "Warning: report incomplete: podsecuritypolicies.policy: permission denied") {
				t.Errorf("stderr lacks the incomplete warning: %s", errOut)
			}
			var rep report.AuditReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Incomplete) != 1 || rep.Incomplete[0].Verb != "list" || len(rep.Pods) != 1 {
				t.Errorf("report incomplete=%+v pods=%d", rep.Incomplete, len(rep.Pods))
			}
		})
	}
}

// TestAuditSystemAuthenticatedGrant: on EKS every pod may use
// eks.privileged, whoever created it, because every requester is in
// system:authenticated; the pod's service account alone is not.
func TestAuditSystemAuthenticatedGrant(t *testing.T) {
	for _, tt := range []struct {
		file, want string
	}{
		{"testdata/convert/eks.yaml", "eks.privileged"},
		{"testdata/convert/eks-unbound.yaml", ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "audit", "-f", tt.file, "-o", "json")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep struct {
				Pods []struct {
					PSP struct {
						AdmittedBy *string `json:"admittedBy"`
					} `json:"psp"`
				} `json:"pods"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Pods) != 1 {
				t.Fatalf("%d pods", len(rep.Pods))
			}
			got := ""
			if rep.Pods[0].PSP.AdmittedBy != nil {
				got = *rep.Pods[0].PSP.AdmittedBy
			}
			if got != tt.want {
				t.Errorf("admitted by %q, want %q", got, tt.want)
			}
		})
	}
}

// Manifests rendered by Helm or kept in Git often leave the namespace to
// `kubectl apply -n`: -n places them there, and without it they stay
// unplaced (never silently dropped).
func TestAuditNamespacelessManifests(t *testing.T) {
	const manifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, securityContext: {privileged: true}}]
`
	for _, tt := range []struct {
		name   string
		args   []string
		wantNS string
	}{
		{"with -n", []string{"-n", "default"}, "default"},
		{"with -n elsewhere", []string{"-n", "web"}, "web"},
		{"without -n", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"audit", "-f", "../../examples/cluster.yaml", "-f", "-", "-o", "json"}, tt.args...)
			code, stdout, stderr := runCLI(t, manifests, args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep struct {
				Workloads []struct{ Namespace, Kind, Name string } `json:"workloads"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range rep.Workloads {
				if w.Kind == "Deployment" && w.Name == "web" && w.Namespace == tt.wantNS {
					found = true
				}
			}
			if !found {
				t.Errorf("no Deployment/web in namespace %q; workloads %+v", tt.wantNS, rep.Workloads)
			}
		})
	}
}
