package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The readiness plan, proven end to end. On a real v1.24 cluster holding
// a workload that relies on PSP mutation, one PSP rejects, one that needs
// privileged, grants through system:authenticated and a PSA label that
// differs from the recommendation, `readiness` must say NOT READY for those
// reasons. Its plan's steps 1, 2 and 4 are then applied with kubectl,
// exactly as written (--output-dir), the workloads roll out again, and
// `readiness` must say READY. Finally, on a real v1.30 server without PSP,
// holding the same objects, a pod from every workload's template must be
// admitted, while pods that break a protection the plan keeps are not:
// with the Pod Security Admission labels (--engine psa), and with the
// ValidatingAdmissionPolicy of `readiness -f DUMP --to v1.30 --engine vap`.

// controllerConfig acts as the controller that creates kind's pods.
func controllerConfig(c *framework.Cluster, kind string) *rest.Config {
	u := rbac.WorkloadCreator(kind, rbac.ControllerServiceAccounts)
	cfg := c.AdminConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: u.Name, Groups: slices.Clone(u.Groups)}
	cfg.WarningHandler = rest.NoWarnings{}
	return cfg
}

// rollout does what the controller-manager would (there is none): for
// every Deployment a ReplicaSet and one pod, for every DaemonSet one pod,
// each pod created by its controller's identity, so that PSP admission
// decides and mutates it as it would. Earlier rounds are deleted first.
// It returns the pods PSP admission refused.
func rollout(t *testing.T, c *framework.Cluster, round int) []string {
	t.Helper()
	ctx := t.Context()
	admin := clientFor(t, c.AdminConfig())
	var refused []string
	deps, err := admin.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"apps", "infra", "legacy"} {
		if err := admin.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := admin.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(kind string, owner metav1.OwnerReference, ns, name string, tpl corev1.PodTemplateSpec) {
		pod := &corev1.Pod{ObjectMeta: *tpl.ObjectMeta.DeepCopy(), Spec: *tpl.Spec.DeepCopy()}
		pod.Namespace, pod.Name = ns, name
		pod.OwnerReferences = []metav1.OwnerReference{owner}
		_, err := clientFor(t, controllerConfig(c, kind)).CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		switch {
		case err == nil:
		case strings.Contains(err.Error(), "PodSecurityPolicy"):
			refused = append(refused, ns+"/"+name)
		default:
			t.Fatalf("create pod %s/%s: %v", ns, name, err)
		}
	}
	for i := range deps.Items {
		d := &deps.Items[i]
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: fmt.Sprintf("%s-r%d", d.Name, round),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: new(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template},
		}
		rs, err := admin.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
			continue
		}
		create("ReplicaSet", metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: new(true)},
			d.Namespace, rs.Name+"-x", d.Spec.Template)
	}
	dss, err := admin.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range dss.Items {
		d := &dss.Items[i]
		create("DaemonSet", metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: d.Name, UID: d.UID, Controller: new(true)},
			d.Namespace, fmt.Sprintf("%s-r%d", d.Name, round), d.Spec.Template)
	}
	return refused
}

// runReadiness runs the plugin in-process, as main would, and decodes its
// JSON report.
func runReadiness(t *testing.T, kubeconfig string, args ...string) (int, *readiness.Report) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
	full := append([]string{"readiness", "-o", "json"}, args...)
	if kubeconfig != "" {
		full = append(full, "--kubeconfig", kubeconfig)
	}
	root.SetArgs(full)
	code := cmd.Execute(root, streams)
	if code == cmd.ExitError {
		t.Fatalf("readiness %v: %s", args, errOut)
	}
	var rep readiness.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("readiness %v: decode: %v\n%s", args, err, out)
	}
	return code, &rep
}

func readinessCheck(rep *readiness.Report, id string) readiness.Check {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	return readiness.Check{}
}

func itemNames(c readiness.Check) []string {
	var out []string
	for _, it := range c.Items {
		out = append(out, it.String())
	}
	return out
}

// applySteps runs the kubectl commands of the plan's steps as written, with
// the file paths resolved in dir.
func applySteps(t *testing.T, c *framework.Cluster, rep *readiness.Report, dir string, steps ...int) int {
	t.Helper()
	ran := 0
	for _, s := range rep.Plan {
		if !slices.Contains(steps, s.Number) {
			continue
		}
		for _, line := range s.Commands {
			if strings.HasPrefix(line, "#") {
				continue
			}
			args := strings.Fields(line)
			if args[0] != "kubectl" {
				t.Fatalf("step %d: not a kubectl command: %s", s.Number, line)
			}
			args = args[1:]
			for i := range args {
				if i > 0 && (args[i-1] == "--patch-file" || args[i-1] == "-f") {
					args[i] = filepath.Join(dir, args[i])
				}
			}
			if _, stderr, err := c.Kubectl(t, framework.AdminUser, args...); err != nil {
				t.Fatalf("step %d: %s: %v\n%s", s.Number, line, err, stderr)
			}
			ran++
		}
	}
	return ran
}

// copyWorkloads creates on dst the namespaces (with their labels, less the
// pod-security ones unless keepPSA), default service accounts, Deployments
// and DaemonSets of src.
func copyWorkloads(t *testing.T, src, dst *framework.Cluster, keepPSA bool) {
	t.Helper()
	ctx := t.Context()
	from, to := clientFor(t, src.AdminConfig()), clientFor(t, dst.AdminConfig())
	for _, name := range []string{"apps", "infra", "legacy"} {
		ns, err := from.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{}
		for k, v := range ns.Labels {
			if keepPSA || !strings.HasPrefix(k, "pod-security.kubernetes.io/") {
				labels[k] = v
			}
		}
		if _, err := to.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := to.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	deps, err := from.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		out := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name}, Spec: d.Spec}
		if _, err := to.AppsV1().Deployments(d.Namespace).Create(ctx, out, metav1.CreateOptions{}); err != nil {
			t.Fatalf("copy deployment %s/%s: %v", d.Namespace, d.Name, err)
		}
	}
	dss, err := from.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dss.Items {
		out := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name}, Spec: d.Spec}
		if _, err := to.AppsV1().DaemonSets(d.Namespace).Create(ctx, out, metav1.CreateOptions{}); err != nil {
			t.Fatalf("copy daemonset %s/%s: %v", d.Namespace, d.Name, err)
		}
	}
}

// templatesAdmitted creates (dry run) a pod from every workload template of
// c as its controller, except skip, and fails on any rejection.
func templatesAdmitted(t *testing.T, c *framework.Cluster, skip []string) int {
	t.Helper()
	ctx := t.Context()
	admin := clientFor(t, c.AdminConfig())
	n := 0
	try := func(kind, ns, name string, tpl corev1.PodTemplateSpec) {
		if slices.Contains(skip, ns+"/"+kindOf(kind)+"/"+name) {
			return
		}
		pod := &corev1.Pod{ObjectMeta: *tpl.ObjectMeta.DeepCopy(), Spec: *tpl.Spec.DeepCopy()}
		pod.Namespace, pod.Name = ns, name+"-probe"
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID("00000000-0000-4000-8000-000000000001"), Controller: new(true)}}
		if _, err := clientFor(t, controllerConfig(c, kind)).CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("%s %s/%s: a pod from its template is rejected after the plan: %v", kind, ns, name, err)
		}
		n++
	}
	deps, err := admin.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		try("ReplicaSet", d.Namespace, d.Name, d.Spec.Template)
	}
	dss, err := admin.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dss.Items {
		try("DaemonSet", d.Namespace, d.Name, d.Spec.Template)
	}
	return n
}

// kindOf is the workload kind readiness names for a controller kind.
func kindOf(kind string) string {
	if kind == "ReplicaSet" {
		return "Deployment"
	}
	return kind
}

// protectionsHold sends pods that break what the plan keeps forbidden and
// fails on any that is admitted.
func protectionsHold(t *testing.T, cs kubernetes.Interface, probes map[string]*corev1.Pod) {
	t.Helper()
	for what, pod := range probes {
		if _, err := cs.CoreV1().Pods(pod.Namespace).Create(t.Context(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil {
			t.Errorf("%s: admitted in %s after the plan, though PSP forbade it", what, pod.Namespace)
		}
	}
}

func probePod(ns string, mod func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "p", Image: "registry.example/p:1"}}}}
	mod(p)
	return p
}

func TestReadinessPlanEndToEnd(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "readiness", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	old := framework.Start(t, framework.Options{Version: "v1.24"})
	old.ApplyYAML(t, data)
	for _, ns := range []string{"apps", "infra", "legacy", "kube-system"} {
		if _, err := old.CreateYAML(t.Context(), old.AdminConfig(), []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: "+ns+"}\n")); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	waitForLayoutPSPs(t, t.Context(), clientFor(t, old.AdminConfig()), 2)
	if refused := rollout(t, old, 1); len(refused) > 0 {
		t.Fatalf("PSP refused pods the scenario needs running: %v", refused)
	}
	kubeconfig := old.Kubeconfig(framework.AdminUser)

	// ---- before: NOT READY, for the reasons the scenario holds
	dir := t.TempDir()
	code, rep := runReadiness(t, kubeconfig, "--output-dir", dir)
	if code != cmd.ExitFindings || rep.Verdict != readiness.NotReady {
		t.Fatalf("before the plan: exit %d, verdict %s; want 2, NOT READY", code, rep.Verdict)
	}
	if rep.Metadata.ClusterVersion != "v1.24" || rep.Metadata.Target != "v1.25" {
		t.Errorf("versions: cluster %q, target %q; want v1.24 and v1.25", rep.Metadata.ClusterVersion, rep.Metadata.Target)
	}
	want := map[string]struct {
		status string
		item   string
	}{
		readiness.CheckMutation:        {readiness.Block, "apps/Deployment/web"},
		readiness.CheckRejectedToday:   {readiness.Info, "apps/Deployment/broken"},
		readiness.CheckAdmissionPlugin: {readiness.Manual, ""},
		readiness.CheckInstalled:       {readiness.Pass, ""},
		readiness.CheckIncomplete:      {readiness.Pass, ""},
	}
	for id, w := range want {
		c := readinessCheck(rep, id)
		if c.Status != w.status || (w.item != "" && !slices.Contains(itemNames(c), w.item)) {
			t.Errorf("before: check %s = %s %v, want %s naming %q", id, c.Status, itemNames(c), w.status, w.item)
		}
	}

	// ---- steps 1, 2 and 4 as written, then the workloads roll out anew
	if n := applySteps(t, old, rep, dir, 1, 2, 4); n == 0 {
		t.Fatal("the plan has no command for steps 1, 2 and 4")
	}
	if refused := rollout(t, old, 2); len(refused) > 0 {
		t.Fatalf("after the plan, PSP refused %v", refused)
	}
	code, after := runReadiness(t, kubeconfig)
	if after.Verdict == readiness.NotReady {
		var blocks []string
		for _, c := range after.Checks {
			if c.Status == readiness.Block {
				blocks = append(blocks, c.ID+" "+strings.Join(itemNames(c), ","))
			}
		}
		t.Fatalf("after steps 1, 2 and 4: exit %d, NOT READY: %v", code, blocks)
	}
	t.Logf("after steps 1, 2 and 4: %s", after.Verdict)
	skip := itemNames(readinessCheck(after, readiness.CheckRejectedToday))

	// A dump of the fixed cluster, for the vap run.
	dump, stderr, err := old.Kubectl(t, framework.AdminUser, "get", "namespaces,podsecuritypolicies,clusterroles,clusterrolebindings,roles,rolebindings,serviceaccounts,pods,replicasets,deployments,daemonsets", "-A", "-o", "yaml")
	if err != nil {
		t.Fatalf("dump: %v\n%s", err, stderr)
	}
	dumpFile := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(dumpFile, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}

	// ---- v1.30 without PSP, with the labels the plan set
	t.Run("psa on v1.30", func(t *testing.T) {
		c := framework.Start(t, framework.Options{Version: "v1.30"})
		copyWorkloads(t, old, c, true)
		n := templatesAdmitted(t, c, skip)
		t.Logf("%d workload templates admitted under the plan's labels", n)
		// Every protection the report does not say is lost must hold.
		lost := lostProtections(t, kubeconfig, "apps")
		probes := map[string]*corev1.Pod{}
		for dim, pod := range map[string]*corev1.Pod{
			"privileged": probePod("apps", func(p *corev1.Pod) {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
			}),
			"hostPath": probePod("apps", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
			}),
			"runAsRoot":   probePod("apps", func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: new(int64(0))} }),
			"hostNetwork": probePod("apps", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		} {
			if lost[dim] {
				t.Logf("%s: the report says it is lost in apps; not probed", dim)
				continue
			}
			probes[dim] = pod
		}
		if len(probes) == 0 {
			t.Fatal("every protection is reported lost: nothing to prove")
		}
		protectionsHold(t, clientFor(t, c.AdminConfig()), probes)
	})

	// ---- the same with ValidatingAdmissionPolicy, from the dump
	t.Run("vap on v1.30 from a dump", func(t *testing.T) {
		dir := t.TempDir()
		code, rep := runReadiness(t, "", "-f", dumpFile, "--to", "v1.30", "--engine", "vap", "--output-dir", dir)
		if rep.Verdict == readiness.NotReady {
			t.Fatalf("vap: exit %d, NOT READY: %+v", code, rep.Checks)
		}
		c := framework.Start(t, framework.Options{Version: "v1.30"})
		copyWorkloads(t, old, c, false)
		if n := applySteps(t, c, rep, dir, 2, 4); n == 0 {
			t.Fatal("no command in steps 2 and 4")
		}
		admin := clientFor(t, c.AdminConfig())
		probes := map[string]*corev1.Pod{
			"a privileged container": probePod("apps", func(p *corev1.Pod) {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
			}),
			"host networking": probePod("apps", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		}
		// The policy takes effect a moment after it is created.
		waitDenied(t, admin, probes["a privileged container"])
		n := templatesAdmitted(t, c, skip)
		t.Logf("%d workload templates admitted under the converted policy", n)
		protectionsHold(t, admin, probes)
	})

	// ---- the same with Kyverno, through its CLI
	t.Run("kyverno CLI from a dump", func(t *testing.T) {
		dir := t.TempDir()
		code, rep := runReadiness(t, "", "-f", dumpFile, "--engine", "kyverno", "--output-dir", dir)
		if rep.Verdict == readiness.NotReady {
			t.Fatalf("kyverno: exit %d, NOT READY: %+v", code, rep.Checks)
		}
		checkPlanWithKyverno(t, old, dir, skip, map[string]*corev1.Pod{
			"a privileged container": probePod("apps", func(p *corev1.Pod) {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
			}),
			"host networking": probePod("apps", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
			"a hostPath volume": probePod("apps", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
			}),
		})
	})
}

// checkPlanWithKyverno runs the enforce-mode ClusterPolicy of a kyverno
// plan through the Kyverno CLI: a pod from every workload template of old
// (as admission sees it) must pass, every probe must fail.
func checkPlanWithKyverno(t *testing.T, old *framework.Cluster, planDir string, skip []string, probes map[string]*corev1.Pod) {
	t.Helper()
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI; hack/ensure-kyverno.sh")
	ctx := t.Context()
	admin := clientFor(t, old.AdminConfig())
	suite := t.TempDir()
	entries, err := os.ReadDir(filepath.Join(planDir, "04-enforce"))
	if err != nil {
		t.Fatal(err)
	}
	test := kyTestFile{APIVersion: "cli.kyverno.io/v1alpha1", Kind: "Test", Metadata: map[string]string{"name": "readiness"},
		Resources: []string{"pods.yaml"}, Values: &kyValues{}}
	var policies []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".yaml" {
			continue // the step's README.md
		}
		b, err := os.ReadFile(filepath.Join(planDir, "04-enforce", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(b, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Kind != "ClusterPolicy" {
			t.Fatalf("%s: kind %s in a kyverno plan", e.Name(), meta.Kind)
		}
		if err := os.WriteFile(filepath.Join(suite, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		test.Policies = append(test.Policies, e.Name())
		policies = append(policies, meta.Metadata.Name)
	}
	if len(policies) == 0 {
		t.Fatal("no policy in step 4")
	}
	var pods []*corev1.Pod
	want := map[string]string{}
	add := func(p *corev1.Pod, result string) {
		p = pspadmission.Prepare(p, nil)
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		pods = append(pods, p)
		want[p.Namespace+"/"+p.Name] = result
	}
	deps, err := admin.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		if slices.Contains(skip, d.Namespace+"/Deployment/"+d.Name) {
			continue
		}
		add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-x", Labels: d.Spec.Template.Labels}, Spec: *d.Spec.Template.Spec.DeepCopy()}, kyResultPass)
	}
	dss, err := admin.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dss.Items {
		add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-x", Labels: d.Spec.Template.Labels}, Spec: *d.Spec.Template.Spec.DeepCopy()}, kyResultPass)
	}
	i := 0
	for _, what := range slices.Sorted(maps.Keys(probes)) {
		p := probes[what].DeepCopy()
		i++
		p.Name = fmt.Sprintf("probe-%d", i)
		add(p, kyResultFail)
	}
	var buf strings.Builder
	namespaces := map[string]bool{}
	for i, p := range pods {
		b, err := yaml.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
		namespaces[p.Namespace] = true
		for _, pol := range policies {
			test.Results = append(test.Results, kyTestResult{Policy: pol, Resources: []string{p.Namespace + "/" + p.Name}, Kind: "Pod", Result: want[p.Namespace+"/"+p.Name]})
		}
	}
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		test.Values.Namespaces = append(test.Values.Namespaces, map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": ns, "labels": map[string]any{"kubernetes.io/metadata.name": ns}}})
	}
	if err := os.WriteFile(filepath.Join(suite, "pods.yaml"), []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := yaml.Marshal(test)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(suite, "kyverno-test.yaml"), tb, 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := runKyvernoSuite(ctx, cli, suite)
	if err != nil {
		t.Fatalf("%v\n%s", err, run.output)
	}
	n := len(test.Results)
	if run.exitErr != nil || !strings.Contains(run.output, fmt.Sprintf("Test Summary: %d tests passed and 0 tests failed", n)) || len(run.rows) != n {
		t.Fatalf("kyverno test: %d rows for %d expectations, %v\n%s", len(run.rows), n, run.exitErr, run.output)
	}
	t.Logf("Kyverno CLI: %d workload templates pass the enforce-mode ClusterPolicy, %d probes fail it", len(pods)-len(probes), len(probes))
}

// lostProtections runs the audit at the readiness target (v1.25) and
// returns the protection dimensions it reports lost in namespace (a lost
// hostPath volume type counts as "hostPath").
func lostProtections(t *testing.T, kubeconfig, namespace string) map[string]bool {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
	root.SetArgs([]string{"audit", "-o", "json", "--pss-version", "v1.25", "--kubeconfig", kubeconfig})
	if code := cmd.Execute(root, streams); code == cmd.ExitError {
		t.Fatalf("audit: %s", errOut)
	}
	var rep report.AuditReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	lost := map[string]bool{}
	for _, ns := range rep.Namespaces {
		if ns.Name != namespace {
			continue
		}
		for _, l := range ns.ProtectionLost {
			lost[l.Dimension] = true
			if l.Dimension == "volumes" && slices.Contains(l.Items, "hostPath") {
				lost["hostPath"] = true
			}
		}
	}
	return lost
}

// waitDenied waits until pod is refused (a policy just created is in force).
func waitDenied(t *testing.T, cs kubernetes.Interface, pod *corev1.Pod) {
	t.Helper()
	for range 300 {
		if _, err := cs.CoreV1().Pods(pod.Namespace).Create(t.Context(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			return
		}
		select {
		case <-t.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("%s/%s is still admitted: the policy is not in force", pod.Namespace, pod.Name)
}
