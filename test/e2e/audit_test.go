// Package e2e holds the end-to-end tests that check the plugin against a
// real kube-apiserver and etcd (test/e2e/framework). `make test` provides
// the binaries; without them these tests skip, unless PSP_MIGRATE_E2E=required.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The v1.24 server's PodSecurity admission evaluates "latest" as its own
// release, so the audit is pinned to the same version to compare verdicts.
const serverPSSVersion = "v1.24"

// A permissive PSP so the fixture pods are all admitted unchanged: this
// suite is about Pod Security Standards, not PSP selection.
const permissivePSP = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: zz-permissive
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: '*'
spec:
  privileged: true
  allowPrivilegeEscalation: true
  allowedCapabilities: ['*']
  volumes: ['*']
  hostNetwork: true
  hostPorts: [{min: 0, max: 65535}]
  hostIPC: true
  hostPID: true
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

// A reader that may list everything the audit reads except PSPs.
const partialReaderRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: audit-without-psp}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, serviceaccounts, replicationcontrollers]
  verbs: [get, list]
- apiGroups: [apps]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  verbs: [get, list]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles, clusterrolebindings, roles, rolebindings]
  verbs: [get, list]
- apiGroups: [node.k8s.io]
  resources: [runtimeclasses]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: audit-without-psp}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: audit-without-psp}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: partial-reader}
`

// Pod specs at each level.
func restrictedSpec() corev1.PodSpec {
	return corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app:1",
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
}

func baselineSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}
}

func privilegedSpec() corev1.PodSpec {
	return corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name: "agent", Image: "registry.example/agent:1",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		}},
		Volumes: []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
	}
}

func hostPortSpec() corev1.PodSpec {
	s := restrictedSpec()
	s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}
	return s
}

// fixture builds controllers and their pods by hand (no controller-manager
// runs), with real UIDs in the ownerReferences.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	kube kubernetes.Interface
}

func (f *fixture) must(err error, what string) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

func ownerRef(kind, apiVersion, name string, uid types.UID) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
}

func (f *fixture) pod(ns, name string, spec corev1.PodSpec, owners []metav1.OwnerReference) {
	f.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: owners}, Spec: spec}
	_, err := f.kube.CoreV1().Pods(ns).Create(f.ctx, p, metav1.CreateOptions{})
	f.must(err, "create pod "+ns+"/"+name)
}

func tmpl(app string, spec corev1.PodSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}}, Spec: spec}
}

func sel(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// deployment creates Deployment → ReplicaSet → n pods; podSpecs override the
// template for individual pods (pods that drifted from their template).
func (f *fixture) deployment(ns, name string, spec corev1.PodSpec, n int, podSpecs ...corev1.PodSpec) {
	f.t.Helper()
	d, err := f.kube.AppsV1().Deployments(ns).Create(f.ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(n)), Selector: sel(name), Template: tmpl(name, spec)},
	}, metav1.CreateOptions{})
	f.must(err, "create deployment")
	rsName := name + "-5f7d9c"
	rs, err := f.kube.AppsV1().ReplicaSets(ns).Create(f.ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rsName, OwnerReferences: ownerRef("Deployment", "apps/v1", name, d.UID)},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(n)), Selector: sel(name), Template: tmpl(name, spec)},
	}, metav1.CreateOptions{})
	f.must(err, "create replicaset")
	for i := 0; i < n; i++ {
		s := spec
		if i < len(podSpecs) {
			s = podSpecs[i]
		}
		f.pod(ns, fmt.Sprintf("%s-%c%c%c", rsName, 'a'+i, 'k', 'q'), s, ownerRef("ReplicaSet", "apps/v1", rsName, rs.UID))
	}
}

func (f *fixture) statefulSet(ns, name string, spec corev1.PodSpec, n int) {
	f.t.Helper()
	s, err := f.kube.AppsV1().StatefulSets(ns).Create(f.ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To(int32(n)), Selector: sel(name), Template: tmpl(name, spec), ServiceName: name},
	}, metav1.CreateOptions{})
	f.must(err, "create statefulset")
	for i := 0; i < n; i++ {
		f.pod(ns, fmt.Sprintf("%s-%d", name, i), spec, ownerRef("StatefulSet", "apps/v1", name, s.UID))
	}
}

func (f *fixture) daemonSet(ns, name string, spec corev1.PodSpec, n int) {
	f.t.Helper()
	d, err := f.kube.AppsV1().DaemonSets(ns).Create(f.ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.DaemonSetSpec{Selector: sel(name), Template: tmpl(name, spec)},
	}, metav1.CreateOptions{})
	f.must(err, "create daemonset")
	for i := 0; i < n; i++ {
		f.pod(ns, fmt.Sprintf("%s-node%d", name, i), spec, ownerRef("DaemonSet", "apps/v1", name, d.UID))
	}
}

func (f *fixture) cronJob(ns, name string, spec corev1.PodSpec) {
	f.t.Helper()
	spec.RestartPolicy = corev1.RestartPolicyOnFailure
	cj, err := f.kube.BatchV1().CronJobs(ns).Create(f.ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
		}},
	}, metav1.CreateOptions{})
	f.must(err, "create cronjob")
	jobName := name + "-28000000"
	job, err := f.kube.BatchV1().Jobs(ns).Create(f.ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: jobName, OwnerReferences: ownerRef("CronJob", "batch/v1", name, cj.UID)},
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
	}, metav1.CreateOptions{})
	f.must(err, "create job")
	// The server labels the Job's template with a generated selector; the
	// pod carries the same labels as a Job controller would give it.
	f.pod(ns, jobName+"-x7k2p", spec, ownerRef("Job", "batch/v1", jobName, job.UID))
}

// loadFixture creates a cluster with every workload shape across several
// namespaces and all three levels.
func loadFixture(t *testing.T, c *framework.Cluster) {
	c.ApplyYAML(t, []byte(permissivePSP))
	for _, ns := range []string{"payments", "web", "monitoring", "batch", "legacy", "empty"} {
		c.CreateNamespace(t, ns)
	}
	f := &fixture{t: t, ctx: t.Context(), kube: c.AdminClient(t)}
	f.deployment("payments", "checkout", restrictedSpec(), 2)
	f.statefulSet("payments", "ledger", restrictedSpec(), 2)
	f.deployment("web", "frontend", baselineSpec(), 3)
	f.deployment("web", "api", restrictedSpec(), 2, restrictedSpec(), hostPortSpec()) // one pod drifted
	f.deployment("web", "scaled-to-zero", privilegedSpec(), 0)
	f.daemonSet("monitoring", "node-exporter", privilegedSpec(), 2)
	f.deployment("monitoring", "grafana", baselineSpec(), 1)
	f.cronJob("batch", "nightly", restrictedSpec())
	f.cronJob("batch", "cleanup", baselineSpec())
	f.pod("legacy", "debug-shell", privilegedSpec(), nil)
	f.pod("legacy", "toolbox", baselineSpec(), nil)
	rc, err := f.kube.CoreV1().ReplicationControllers("legacy").Create(f.ctx, &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Namespace: "legacy", Name: "old-app"},
		Spec:       corev1.ReplicationControllerSpec{Replicas: ptr.To(int32(1)), Selector: map[string]string{"app": "old-app"}, Template: ptr.To(tmpl("old-app", baselineSpec()))},
	}, metav1.CreateOptions{})
	f.must(err, "create replicationcontroller")
	f.pod("legacy", "old-app-q8z4w", baselineSpec(), ownerRef("ReplicationController", "v1", "old-app", rc.UID))
}

// audit runs the plugin in-process, as main would, and decodes its JSON.
func audit(t *testing.T, args ...string) (int, *report.AuditReport, string) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
	root.SetArgs(append([]string{"audit", "-o", "json", "--pss-version", serverPSSVersion}, args...))
	code := cmd.Execute(root, streams)
	if code == cmd.ExitError {
		t.Fatalf("audit %v failed: %s", args, errOut)
	}
	var rep report.AuditReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("audit %v: decode report: %v\n%s", args, err, out)
	}
	return code, &rep, errOut.String()
}

// dumpTypes is what a user would dump for an offline audit.
const dumpTypes = "namespaces,podsecuritypolicies,clusterroles,clusterrolebindings,roles,rolebindings,serviceaccounts,pods,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs,replicationcontrollers,runtimeclasses"

func TestAuditAgainstRealAPIServer(t *testing.T) {
	c := framework.Start(t, framework.Options{Version: "v1.24", Users: map[string][]string{"partial-reader": nil}})
	loadFixture(t, c)
	c.ApplyYAML(t, []byte(partialReaderRBAC))
	admin := c.Kubeconfig(framework.AdminUser)

	code, live, stderr := audit(t, "--kubeconfig", admin)
	if code != cmd.ExitOK {
		t.Fatalf("live audit exit %d: %s", code, stderr)
	}
	if !live.Metadata.PSPAPIServed || len(live.Incomplete) != 0 {
		t.Fatalf("live audit: pspAPIServed=%v incomplete=%v", live.Metadata.PSPAPIServed, live.Incomplete)
	}

	t.Run("live audit equals the audit of a kubectl dump", func(t *testing.T) {
		stdout, stderr, err := c.Kubectl(t, framework.AdminUser, "get", dumpTypes, "-A", "-o", "yaml")
		if err != nil {
			t.Fatalf("kubectl get: %v: %s", err, stderr)
		}
		dump := filepath.Join(t.TempDir(), "dump.yaml")
		if err := os.WriteFile(dump, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		code, offline, stderr := audit(t, "-f", dump)
		if code != cmd.ExitOK {
			t.Fatalf("offline audit exit %d: %s", code, stderr)
		}
		// Only where the objects came from may differ.
		for _, r := range []*report.AuditReport{live, offline} {
			r.Metadata.Sources, r.Metadata.PSPAPIServed = nil, false
		}
		if !reflect.DeepEqual(live, offline) {
			a, _ := json.MarshalIndent(live, "", " ")
			b, _ := json.MarshalIndent(offline, "", " ")
			t.Fatalf("live and offline reports differ:\nlive:\n%s\noffline:\n%s", a, b)
		}
		if live.Summary.Pods < 15 || live.Summary.WorkloadsByLevel[pss.Privileged] == 0 || live.Summary.WorkloadsByLevel[pss.Baseline] == 0 || live.Summary.WorkloadsByLevel[pss.Restricted] == 0 {
			t.Fatalf("fixture too thin to prove anything: %+v", live.Summary)
		}
	})

	for _, level := range []string{pss.Restricted, pss.Baseline} {
		t.Run("pods below "+level+" are those PodSecurity admission warns about", func(t *testing.T) {
			namespaces := map[string]bool{}
			for _, p := range live.Pods {
				namespaces[p.Namespace] = true
			}
			warned := 0
			defer func() {
				// A check that never saw a warning would prove nothing.
				if warned == 0 {
					t.Errorf("no namespace produced %s warnings: the fixture does not exercise the check", level)
				}
			}()
			for ns := range namespaces {
				_, stderr, err := c.Kubectl(t, framework.AdminUser, "label", "--dry-run=server", "--overwrite", "ns", ns,
					"pod-security.kubernetes.io/enforce="+level, "pod-security.kubernetes.io/enforce-version="+serverPSSVersion)
				if err != nil {
					t.Fatalf("kubectl label ns %s: %v: %s", ns, err, stderr)
				}
				got := podWarnings(stderr)
				want := expectedWarnings(live, ns, level)
				warned += len(got)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("namespace %s at %s:\nserver warned:\n  %s\naudit predicts:\n  %s", ns, level,
						strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			}
		})
	}

	t.Run("a user who may not list PSPs gets an incomplete report", func(t *testing.T) {
		code, rep, stderr := audit(t, "--kubeconfig", c.Kubeconfig("partial-reader"))
		if code != cmd.ExitIncomplete {
			t.Fatalf("exit %d, want %d (incomplete); stderr: %s", code, cmd.ExitIncomplete, stderr)
		}
		if len(rep.Incomplete) != 1 || rep.Incomplete[0].Resource != "podsecuritypolicies.policy" || rep.Incomplete[0].Verb != "list" {
			t.Fatalf("incomplete = %+v", rep.Incomplete)
		}
		if !strings.Contains(stderr, "Warning: report incomplete: podsecuritypolicies.policy") {
			t.Errorf("stderr lacks the warning: %s", stderr)
		}
		if len(rep.Pods) != len(live.Pods) {
			t.Errorf("the rest must still be audited: %d pods, want %d", len(rep.Pods), len(live.Pods))
		}
		if code, _, _ := audit(t, "--kubeconfig", c.Kubeconfig("partial-reader"), "--fail-on", "restricted"); code != cmd.ExitFindings {
			t.Errorf("with findings: exit %d, want %d", code, cmd.ExitFindings)
		}
	})

	t.Run("one namespace with -n", func(t *testing.T) {
		code, rep, stderr := audit(t, "--kubeconfig", admin, "-n", "web")
		if code != cmd.ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, p := range rep.Pods {
			if p.Namespace != "web" {
				t.Errorf("pod %s/%s outside -n web", p.Namespace, p.Name)
			}
		}
		if len(rep.Namespaces) != 1 || rep.Namespaces[0].Name != "web" || !rep.Namespaces[0].Found {
			t.Errorf("namespaces = %+v", rep.Namespaces)
		}
	})
}

// podWarnings extracts the per-pod warnings PodSecurity admission prints
// when a namespace label is tightened ("pod (and N other pods): reasons").
func podWarnings(stderr string) []string {
	out := []string{}
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "Warning: ")
		if line == "" || strings.HasPrefix(line, "existing pods in namespace") || strings.HasPrefix(line, "namespace/") {
			continue
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// expectedWarnings predicts those warnings from the report: pods grouped by
// their joined failure reasons, named by the lexically first pod.
func expectedWarnings(rep *report.AuditReport, ns, level string) []string {
	type group struct {
		first string
		n     int
	}
	groups := map[string]*group{}
	for _, p := range rep.Pods {
		if p.Namespace != ns {
			continue
		}
		lr := p.PSS.Restricted
		if level == pss.Baseline {
			lr = p.PSS.Baseline
		}
		if lr.Allowed {
			continue
		}
		reasons := make([]string, len(lr.Reasons))
		for i, r := range lr.Reasons {
			reasons[i] = r.Reason
		}
		key := strings.Join(reasons, ", ")
		g, ok := groups[key]
		if !ok {
			g = &group{first: p.Name}
			groups[key] = g
		}
		if p.Name < g.first {
			g.first = p.Name
		}
		g.n++
	}
	out := []string{}
	for reasons, g := range groups {
		switch g.n {
		case 1:
			out = append(out, fmt.Sprintf("%s: %s", g.first, reasons))
		case 2:
			out = append(out, fmt.Sprintf("%s (and 1 other pod): %s", g.first, reasons))
		default:
			out = append(out, fmt.Sprintf("%s (and %d other pods): %s", g.first, g.n-1, reasons))
		}
	}
	sort.Strings(out)
	return out
}

// TestAuditWithoutPSPAPI checks the 1.25+ path: the server no longer serves
// policy/v1beta1, which is said once and is not an error, and PSPs kept in
// Git can still be given with -f next to the live read.
func TestAuditWithoutPSPAPI(t *testing.T) {
	c := framework.Start(t, framework.Options{Version: "v1.30"})
	c.CreateNamespace(t, "web")
	f := &fixture{t: t, ctx: t.Context(), kube: c.AdminClient(t)}
	f.deployment("web", "frontend", baselineSpec(), 1)
	admin := c.Kubeconfig(framework.AdminUser)

	code, rep, stderr := audit(t, "--kubeconfig", admin)
	if code != cmd.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if rep.Metadata.PSPAPIServed || len(rep.Incomplete) != 0 || len(rep.Pods) != 1 {
		t.Fatalf("pspAPIServed=%v incomplete=%v pods=%d", rep.Metadata.PSPAPIServed, rep.Incomplete, len(rep.Pods))
	}
	if n := strings.Count(stderr, "does not serve policy/v1beta1"); n != 1 {
		t.Errorf("want the missing PSP API said exactly once on stderr, got %d times:\n%s", n, stderr)
	}

	psps := filepath.Join(t.TempDir(), "psps.yaml")
	if err := os.WriteFile(psps, []byte(permissivePSP), 0o644); err != nil {
		t.Fatal(err)
	}
	code, rep, stderr = audit(t, "--kubeconfig", admin, "--live", "-f", psps)
	if code != cmd.ExitOK {
		t.Fatalf("with -f: exit %d: %s", code, stderr)
	}
	if len(rep.Pods) != 1 || len(rep.Metadata.Sources) != 2 {
		t.Fatalf("with -f: pods=%d sources=%v", len(rep.Pods), rep.Metadata.Sources)
	}
}
