package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

const exampleCluster = "../../examples/cluster.yaml"

// pspDir writes every PSP of the example dump into its own file, as a
// repository of PSP manifests next to a dump would hold them.
func pspDir(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(exampleCluster)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data, exampleCluster)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "psps")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range objs {
		if o.Object.GetKind() != "PodSecurityPolicy" {
			continue
		}
		b, err := yaml.Marshal(o.Object.Object)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, o.Object.GetName()+".yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("the example dump holds no PSP")
	}
	return dir
}

func auditJSON(t *testing.T, args ...string) (report.AuditReport, string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, "", append([]string{"audit", "-o", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("audit %v: exit %d: %s", args, code, stderr)
	}
	var rep report.AuditReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return rep, stderr
}

// TestOverlappingInputs: the README's `-f dump.yaml -f psps/` and the same
// file given twice audit exactly as the dump alone, with a warning naming
// both sources; convert gives the same output as for the dump alone.
func TestOverlappingInputs(t *testing.T) {
	dir := pspDir(t)
	want, _ := auditJSON(t, "-f", exampleCluster)
	tests := []struct {
		name        string
		args        []string
		wantSources []string
		wantWarning string
	}{
		{name: "same file twice", args: []string{"-f", exampleCluster, "-f", exampleCluster},
			wantSources: []string{exampleCluster}, wantWarning: "Warning: " + exampleCluster + " was read more than once; its 97 object(s) are counted once"},
		{name: "dump plus a directory overlapping it", args: []string{"-f", exampleCluster, "-f", dir},
			wantSources: []string{exampleCluster}, wantWarning: "read from both " + exampleCluster + " and " + dir + string(filepath.Separator)},
		{name: "directory then dump", args: []string{"-f", dir, "-f", exampleCluster},
			wantSources: []string{exampleCluster}, wantWarning: "the copy from " + exampleCluster + " wins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stderr := auditJSON(t, tt.args...)
			if !strings.Contains(stderr, tt.wantWarning) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantWarning, stderr)
			}
			if got.Summary.Pods != want.Summary.Pods || len(got.Pods) != len(want.Pods) || len(got.Workloads) != len(want.Workloads) {
				t.Errorf("pods %d/%d workloads %d, want %d/%d %d", got.Summary.Pods, len(got.Pods), len(got.Workloads), want.Summary.Pods, len(want.Pods), len(want.Workloads))
			}
			if !reflect.DeepEqual(got.PSPs, want.PSPs) {
				t.Errorf("psps %+v\nwant %+v", got.PSPs, want.PSPs)
			}
			for _, p := range got.PSPs {
				if !p.Valid {
					t.Errorf("PSP %s reported invalid: %v", p.Name, p.Errors)
				}
			}
			if !reflect.DeepEqual(got.Namespaces, want.Namespaces) || !reflect.DeepEqual(got.Workloads, want.Workloads) {
				t.Errorf("verdicts differ from the dump alone")
			}
			for _, s := range tt.wantSources {
				found := false
				for _, g := range got.Metadata.Sources {
					found = found || g == s
				}
				if !found {
					t.Errorf("sources %v lack %s", got.Metadata.Sources, s)
				}
			}
			if len(got.Metadata.Sources) != len(uniq(got.Metadata.Sources)) {
				t.Errorf("sources repeat: %v", got.Metadata.Sources)
			}
		})
	}

	t.Run("convert", func(t *testing.T) {
		for _, engines := range []string{"vap", "kyverno", "gatekeeper", "psa"} {
			// --allow-deny-all: the example's PSP grants deny some
			// namespaces' pods under some engines; this test is about the
			// input, not that guard.
			common := []string{"convert", "-e", engines, "--pss-version", "v1.30", "--allow-deny-all"}
			code, alone, stderr := runCLI(t, "", append(common, "-f", exampleCluster)...)
			if code != ExitOK {
				t.Fatalf("%s alone: exit %d: %s", engines, code, stderr)
			}
			for _, args := range [][]string{{"-f", exampleCluster, "-f", exampleCluster}, {"-f", exampleCluster, "-f", dir}} {
				code, got, stderr := runCLI(t, "", append(append([]string{}, common...), args...)...)
				if code != ExitOK {
					t.Fatalf("%s %v: exit %d: %s", engines, args, code, stderr)
				}
				if !reflect.DeepEqual(yamlDocs(t, []byte(got)), yamlDocs(t, []byte(alone))) {
					t.Errorf("%s %v: output differs from the dump alone", engines, args)
				}
			}
		}
	})
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// TestLiveKeepsClusterCopy: with --live, an object both in the cluster and
// in a file is the cluster's, and the warning names the cluster and the file.
func TestLiveKeepsClusterCopy(t *testing.T) {
	file := filepath.Join(t.TempDir(), "web.yaml")
	// The file's copy is privileged; the cluster's is not.
	if err := os.WriteFile(file, []byte(`apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app}
spec:
  containers:
  - {name: c, image: c, securityContext: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: only-in-git, namespace: app}
spec:
  containers:
  - {name: c, image: c}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	newClients := func() (kubernetes.Interface, dynamic.Interface, error) {
		kube := fake.NewClientset(
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "c"}}}},
		)
		dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
			map[schema.GroupVersionResource]string{psp.GroupVersionResource: "PodSecurityPolicyList"})
		return kube, dyn, nil
	}
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewAuditOptions(streams)
	o.newClients = newClients
	o.Filenames = []string{file}
	o.Live = true
	o.Output = report.FormatJSON
	cmd := NewCmdAudit(streams, buildinfo.Info{})
	if err := o.Complete(cmd, nil); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(t.Context()); err != nil {
		t.Fatalf("run: %v; stderr: %s", err, errOut)
	}
	var rep report.AuditReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Pods) != 2 {
		t.Fatalf("pods %+v", rep.Pods)
	}
	for _, p := range rep.Pods {
		if p.Name == "web" && p.PSS.Level == "privileged" {
			t.Errorf("the file's copy of app/web won over the cluster's")
		}
	}
	want := `Warning: 1 object(s) read from both cluster and ` + file + ` (e.g. Pod "app/web"); each is counted once, the copy from cluster wins`
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if strings.Join(rep.Metadata.Sources, ",") != "cluster,"+file {
		t.Errorf("sources %v", rep.Metadata.Sources)
	}
}
