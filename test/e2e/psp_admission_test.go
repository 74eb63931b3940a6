package e2e

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	auditrun "github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The proof against the real thing: the corpus in testdata/psp-corpus is
// created through PodSecurityPolicy admission of a real kube-apiserver
// v1.24, every pod as its own service account (a few as a person, the
// controller-owned ones as their controller), and what the server did to
// each pod is the expectation the audit model (pkg/pspadmission over
// pkg/rbac, given the same YAML) has to predict:
//
//   - admitted or rejected, and by what: PSP itself, or a later step that
//     PSP's changes upset (pod validation, the RuntimeClass plugin);
//   - the PSP that admitted it (the stored kubernetes.io/psp annotation);
//   - the security fields that PSP changed. The server's own changes to
//     every pod (the seccomp field/annotation sync, host network port
//     defaulting, ...) are not PSP mutations: each pod is first created
//     dry-run as system:masters, which the corpus' first PSP, the
//     non-mutating 00-privileged, admits unchanged; the PSP's changes are
//     the difference between that stored object and the one stored for the
//     requester;
//   - for PSP rejections, the per-PSP error messages (the server lists the
//     PSPs in random order, so they are compared as a set of groups);
//   - which PSPs the pod's identities may use (SubjectAccessReviews, in
//     both API groups the plugin asks, against rbac.Index.CanUse);
//   - for controller-owned pods, pspadmission.TemplateReliance: exactly the
//     fields the PSP changed;
//   - for the live audit (Prepared: true), every stored pod created again.
//
// Every disagreement is a bug in the model: the test stays red until the
// model is fixed, and prints a table of pod, server and model.

var (
	pspPodsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	pspDryRun      = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	pspCreate      = metav1.CreateOptions{}
	pspSyncTimeout = 30 * time.Second
)

// pspIdentity is who creates a pod: a user name and its groups, passed
// explicitly when impersonating.
type pspIdentity struct {
	name   string
	groups []string
}

func pspServiceAccountIdentity(ns, sa string) pspIdentity {
	return pspIdentity{
		name:   "system:serviceaccount:" + ns + ":" + sa,
		groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
}

// pspPodServiceAccountIdentity is the pod's service account as the PSP plugin
// checks it (serviceaccount.UserInfo: no system:authenticated).
func pspPodServiceAccountIdentity(ns, sa string) pspIdentity {
	return pspIdentity{
		name:   "system:serviceaccount:" + ns + ":" + sa,
		groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns},
	}
}

func (id pspIdentity) user() rbac.User {
	return rbac.User{Name: id.name, Groups: slices.Clone(id.groups)}
}

func (id pspIdentity) config(c *framework.Cluster) *rest.Config {
	cfg := c.AdminConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: id.name, Groups: slices.Clone(id.groups)}
	return cfg
}

// pspCase is one pod created through admission and what happened to it.
type pspCase struct {
	name, namespace, serviceAccount string
	requester                       pspIdentity
	human                           bool   // requester is one of pspUsers
	owner                           string // "ReplicaSet/web" for controller-owned pods
	mode                            rbac.ControllerIdentityMode
	template                        *corev1.PodTemplateSpec // the owner's template

	submitted *unstructured.Unstructured // as sent

	baseline    *corev1.Pod // dry-run as system:masters (00-privileged, unchanged)
	baselineErr error

	stored    *corev1.Pod // as stored when created by requester
	createErr error
}

func (pc *pspCase) key() string { return pc.namespace + "/" + pc.name }

func pspToPod(u *unstructured.Unstructured) (*corev1.Pod, error) {
	p := &corev1.Pod{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
		return nil, err
	}
	return p, nil
}

// pspCreatePodCase creates pc.submitted dry-run as the admin, then for real as
// pc.requester.
func pspCreatePodCase(ctx context.Context, admin, as dynamic.Interface, pc *pspCase) error {
	out, err := admin.Resource(pspPodsGVR).Namespace(pc.namespace).Create(ctx, pc.submitted.DeepCopy(), pspDryRun)
	if err != nil {
		pc.baselineErr = err
	} else if pc.baseline, err = pspToPod(out); err != nil {
		return err
	}
	out, err = as.Resource(pspPodsGVR).Namespace(pc.namespace).Create(ctx, pc.submitted.DeepCopy(), pspCreate)
	if err != nil {
		pc.createErr = err
		return nil
	}
	pc.stored, err = pspToPod(out)
	return err
}

func TestPSPAdmissionAgainstRealAPIServer(t *testing.T) {
	corpus, err := loadPSPCorpus()
	if err != nil {
		t.Fatalf("load corpus: %v", err)
	}
	c := framework.Start(t, framework.Options{Version: "v1.24"})
	ctx := t.Context()
	kube := c.AdminClient(t)
	adminDyn, err := dynamic.NewForConfig(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}

	for _, f := range []string{"psps.yaml", "runtimeclasses.yaml", "rbac.yaml"} {
		c.ApplyYAML(t, corpus.files[f])
	}
	waitForPSPCaches(t, ctx, kube, adminDyn, len(corpus.inv.PodSecurityPolicies)-len(pspBrokenNames))

	// ---- the server's decisions
	var cases []*pspCase
	clients := map[string]dynamic.Interface{}
	clientFor := func(id pspIdentity) dynamic.Interface {
		key := id.name + "\x00" + strings.Join(id.groups, "\x00")
		if cl, ok := clients[key]; ok {
			return cl
		}
		cl, err := dynamic.NewForConfig(id.config(c))
		if err != nil {
			t.Fatal(err)
		}
		clients[key] = cl
		return cl
	}
	for _, obj := range corpus.podObjs {
		sa := pspPodServiceAccount(obj)
		pc := &pspCase{
			name: obj.GetName(), namespace: obj.GetNamespace(), serviceAccount: sa,
			requester: pspServiceAccountIdentity(obj.GetNamespace(), sa),
			submitted: obj,
		}
		if user := obj.GetAnnotations()[pspRequesterAnnotation]; user != "" {
			groups, ok := pspUsers[user]
			if !ok {
				t.Fatalf("pod %s: unknown requester %q", pc.key(), user)
			}
			pc.requester, pc.human = pspIdentity{user, groups}, true
		}
		if err := pspCreatePodCase(ctx, adminDyn, clientFor(pc.requester), pc); err != nil {
			t.Fatalf("pod %s: %v", pc.key(), err)
		}
		cases = append(cases, pc)
	}
	ctrlCases := pspCreateControllerPods(t, ctx, c, adminDyn, corpus, clientFor)
	cases = append(cases, ctrlCases...)
	pspAddDebugContainers(t, ctx, c, cases)

	// A pod the API server rejects for anything but PSP is a corpus mistake
	// (an invalid pod, a missing RBAC grant to create pods), unless PSP
	// caused it: the same pod unchanged by 00-privileged is accepted, so the
	// admitting PSP's changes made it invalid or named a missing runtime
	// class, and rejected is the expectation.
	for _, pc := range cases {
		if pc.createErr != nil && !strings.Contains(pc.createErr.Error(), "PodSecurityPolicy: ") &&
			(pc.baseline == nil || strings.Contains(pc.createErr.Error(), "cannot create resource")) {
			t.Errorf("pod %s: rejected by something other than PSP admission (fix the corpus): %v", pc.key(), pc.createErr)
		}
		if pc.stored != nil && pc.baselineErr != nil {
			t.Errorf("pod %s: admitted, but the system:masters dry-run failed (fix the corpus): %v", pc.key(), pc.baselineErr)
		}
		if pc.baseline != nil && pc.baseline.Annotations[psp.PodAnnotation] != "00-privileged" {
			t.Errorf("pod %s: the system:masters dry-run was admitted by %q, not by the non-mutating 00-privileged (fix the corpus)",
				pc.key(), pc.baseline.Annotations[psp.PodAnnotation])
		}
	}

	// ---- the model, from the same YAML and the cluster's RBAC
	idx := pspLiveRBACIndex(t, ctx, kube)
	var pspNames []string
	for i := range corpus.inv.PodSecurityPolicies {
		pspNames = append(pspNames, corpus.inv.PodSecurityPolicies[i].Name)
	}
	ev, invalid := pspadmission.NewEvaluator(corpus.inv.PodSecurityPolicies, corpus.inv.UseTable(idx, pspNames),
		pspadmission.WithRuntimeClassObjects(corpus.inv.RuntimeClasses...))
	var invalidNames []string
	for _, p := range invalid {
		invalidNames = append(invalidNames, p.Name)
	}
	if !reflect.DeepEqual(invalidNames, pspBrokenNames) {
		t.Errorf("model: PSPs it cannot use = %v (%+v), want exactly %v, the ones the server cannot build either", invalidNames, invalid, pspBrokenNames)
	}
	serviceAccounts := map[string]*corev1.ServiceAccount{}
	for i := range corpus.inv.ServiceAccounts {
		sa := &corpus.inv.ServiceAccounts[i]
		serviceAccounts[sa.Namespace+"/"+sa.Name] = sa
	}
	typedPods := map[string]*corev1.Pod{}
	for i := range corpus.inv.Pods {
		p := &corpus.inv.Pods[i]
		typedPods[p.Namespace+"/"+p.Name] = p
	}

	questions, pspNames := pspSARQuestions(cases), pspCorpusNames(corpus)
	answers := pspAskSARs(t, ctx, kube, questions, pspNames)
	t.Run("rbac: CanUse equals SubjectAccessReview for every identity and PSP", func(t *testing.T) {
		pspCheckRBACMatrix(t, idx, questions, pspNames, answers, cases)
	})

	var rows []pspRow
	agree := 0
	for _, pc := range cases {
		pod := typedPods[pc.key()]
		if pc.owner != "" {
			if pod, err = pspToPod(pc.submitted); err != nil {
				t.Fatal(err)
			}
		}
		req := pspModelRequest(t, pc, pod, false, serviceAccounts)
		res := ev.Evaluate(req)
		row := comparePSPCase(pc, res, pspSARUsable(pc, answers))
		if pc.template != nil && pc.stored != nil && pc.baseline != nil {
			row.problems = append(row.problems, pspCheckTemplateReliance(pc)...)
		}
		if len(row.problems) == 0 {
			agree++
		}
		rows = append(rows, row)
	}

	admitted, mutated := 0, 0
	for _, pc := range cases {
		if pc.stored != nil {
			admitted++
			if pc.baseline != nil && len(pspFieldDiff(pc.baseline, pc.stored)) > 0 {
				mutated++
			}
		}
	}
	t.Logf("PSP corpus: %d PSPs, %d pods (%d controller-owned): %d admitted (%d of them changed by their PSP), %d rejected",
		len(corpus.inv.PodSecurityPolicies), len(cases), len(ctrlCases), admitted, mutated, len(cases)-admitted)
	t.Logf("model agrees with the server on %d/%d pods", agree, len(cases))
	if len(corpus.inv.PodSecurityPolicies) < pspMinCorpusPSPs || len(corpus.podObjs) < pspMinCorpusPods || len(ctrlCases) == 0 {
		t.Errorf("corpus too small to prove anything: %d PSPs (want >= %d), %d pods (want >= %d), %d controller-owned pods (want > 0)",
			len(corpus.inv.PodSecurityPolicies), pspMinCorpusPSPs, len(corpus.podObjs), pspMinCorpusPods, len(ctrlCases))
	}
	if admitted == 0 || admitted == len(cases) || mutated == 0 {
		t.Errorf("corpus does not exercise admission: %d of %d admitted, %d mutated", admitted, len(cases), mutated)
	}
	if agree != len(cases) {
		t.Errorf("the model disagrees with kube-apiserver v1.24 on %d of %d pods:\n%s", len(cases)-agree, len(cases), renderPSPTable(rows, false))
		t.Logf("every pod:\n%s", renderPSPTable(rows, true))
	}

	t.Run("stored pods created again (Prepared: true, the live audit)", func(t *testing.T) {
		pspCheckStoredPodsAgain(t, ctx, ev, cases, serviceAccounts, clientFor)
	})

	t.Run("the audit of the corpus files: pods never stored", func(t *testing.T) {
		pspCheckAuditOfFiles(t, corpus, cases)
	})
}

// pspCheckAuditOfFiles is `audit -f` on the corpus files: their pods carry
// no metadata.uid, so the audit must evaluate each as the server saw it on
// create (defaults and the ServiceAccount token volume first; a PSP whose
// volumes lack projected and secret rejects the token). For every bare pod
// its own service account created (the audit does not know who creates a
// bare pod, and assumes an authenticated user, which that account is), the
// report's PSP verdict must be the server's decision.
func pspCheckAuditOfFiles(t *testing.T, corpus *pspCorpus, cases []*pspCase) {
	rep, err := auditrun.Run(corpus.inv, auditrun.Options{PSSVersion: "v1.24"})
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]*report.PSPVerdict{}
	for _, p := range rep.Pods {
		verdicts[p.Namespace+"/"+p.Name] = p.PSP
	}
	checked, agree, rejected := 0, 0, 0
	for _, pc := range cases {
		if _, mirror := pc.submitted.GetAnnotations()[corev1.MirrorPodAnnotationKey]; pc.owner != "" || pc.human || mirror {
			// The audit's requester of a mirror pod is its node's kubelet.
			continue
		}
		v := verdicts[pc.key()]
		if v == nil {
			t.Errorf("pod %s: no PSP verdict in the report", pc.key())
			continue
		}
		checked++
		server := "rejected"
		if pc.stored != nil {
			server = "admitted by " + pc.stored.Annotations[psp.PodAnnotation]
		} else {
			rejected++
		}
		model := "rejected"
		if v.AdmittedBy != nil {
			model = "admitted by " + *v.AdmittedBy
		}
		if pc.stored == nil && v.AdmittedBy == nil && v.RejectedAfter == "" && !strings.Contains(pc.createErr.Error(), "PodSecurityPolicy: ") {
			model = "rejected by PSP, server: " + pc.createErr.Error()
		}
		if model != server {
			t.Errorf("pod %s: server %s, audit %s (%s)", pc.key(), server, model, v.Reason)
			continue
		}
		agree++
	}
	t.Logf("audit of the corpus files: %d/%d bare pods as the server decided (%d rejected)", agree, checked, rejected)
	if checked == 0 || rejected == 0 {
		t.Errorf("checked %d bare pods, %d rejected: the corpus must show both", checked, rejected)
	}
}

// pspModelRequest is the model's question for a pod of the corpus: the same
// requester the pod was created by (for controller-owned pods the model's
// own controller identity, which must be that one).
func pspModelRequest(t *testing.T, pc *pspCase, pod *corev1.Pod, prepared bool, serviceAccounts map[string]*corev1.ServiceAccount) pspadmission.Request {
	t.Helper()
	req := pspadmission.Request{
		Pod:            pod,
		Prepared:       prepared,
		ServiceAccount: serviceAccounts[pc.namespace+"/"+pc.serviceAccount],
	}
	var u rbac.User
	switch {
	case pc.owner != "":
		kind, _, _ := strings.Cut(pc.owner, "/")
		var ok bool
		if u, ok = rbac.ControllerUser(kind, pc.mode); !ok {
			t.Fatalf("rbac.ControllerUser(%q, %q) not ok", kind, pc.mode)
		}
	case pc.human:
		u = pc.requester.user()
	default:
		u = rbac.ServiceAccountUser(pc.namespace, pc.serviceAccount)
	}
	req.Requester = &u
	if got := (pspIdentity{u.Name, u.Groups}); !pspSameIdentity(got, pc.requester) {
		t.Errorf("pod %s: model requester %v, but the pod was created as %v", pc.key(), got, pc.requester)
	}
	return req
}

// pspCheckStoredPodsAgain is the live audit's path: every admitted pod, as the
// server stored it (PSP's changes, the token volume, the kubernetes.io/psp
// annotation and all), is created again under another name by the same
// requester, dry-run; the model evaluates the stored pod with Prepared:
// true. The decision, the PSP's further changes and the drift verdict must
// match the server.
func pspCheckStoredPodsAgain(t *testing.T, ctx context.Context, ev *pspadmission.Evaluator, cases []*pspCase,
	serviceAccounts map[string]*corev1.ServiceAccount, clientFor func(pspIdentity) dynamic.Interface) {
	checked, agree := 0, 0
	var rows []pspRow
	var drifted []string
	for _, pc := range cases {
		if pc.stored == nil {
			continue
		}
		checked++
		again := pc.stored.DeepCopy()
		again.Name += "-again"
		again.ResourceVersion, again.UID, again.CreationTimestamp, again.ManagedFields = "", "", metav1.Time{}, nil
		again.Status = corev1.PodStatus{}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(again)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: obj}
		u.SetAPIVersion("v1")
		u.SetKind("Pod")
		rc := &pspCase{name: again.Name, namespace: pc.namespace, serviceAccount: pc.serviceAccount,
			requester: pc.requester, human: pc.human, owner: pc.owner, mode: pc.mode, submitted: u, baseline: pc.stored}
		out, err := clientFor(pc.requester).Resource(pspPodsGVR).Namespace(pc.namespace).Create(ctx, u, pspDryRun)
		if err != nil {
			rc.createErr = err
		} else if rc.stored, err = pspToPod(out); err != nil {
			t.Fatal(err)
		}

		res := ev.Evaluate(pspModelRequest(t, rc, again, true, serviceAccounts))
		row := pspRow{pod: rc.key(), server: pspDescribeServer(rc), model: pspDescribeModel(res)}
		add := func(format string, args ...any) { row.problems = append(row.problems, fmt.Sprintf(format, args...)) }
		original := pc.stored.Annotations[psp.PodAnnotation]
		switch {
		case rc.stored == nil && res.AdmittedBy != nil:
			add("server rejects the stored pod created again (%v), model admits it with %s", rc.createErr, *res.AdmittedBy)
		case rc.stored != nil && res.AdmittedBy == nil:
			add("server admits the stored pod created again with %s, model rejects it: %s", rc.stored.Annotations[psp.PodAnnotation], res.Reason)
		case rc.stored != nil:
			if got, want := *res.AdmittedBy, rc.stored.Annotations[psp.PodAnnotation]; got != want {
				add("kubernetes.io/psp: server %q, model %q", want, got)
			}
			missing, extra := pspCompareChanges(pspFieldDiff(pc.stored, rc.stored), res.MutatedFields)
			for _, m := range missing {
				add("server changed %s; model does not predict it", m)
			}
			for _, e := range extra {
				add("model predicts change %s; server did not make it", e)
			}
		}
		wantDrift := ""
		if rc.stored == nil || rc.stored.Annotations[psp.PodAnnotation] != original {
			wantDrift = pspadmission.DriftAdmittedByOther
		}
		if wantDrift != "" {
			drifted = append(drifted, rc.key()+" ("+row.server+")")
		}
		if res.Annotation != original || res.Drift != wantDrift {
			add("drift: model annotation %q drift %q; the pod carries %q and the server now says %s", res.Annotation, res.Drift, original, row.server)
		}
		if len(row.problems) == 0 {
			agree++
		}
		rows = append(rows, row)
	}
	t.Logf("stored pods created again: model agrees with the server on %d/%d pods; drift (admitted by another PSP or rejected now): %v", agree, checked, drifted)
	if agree != checked {
		t.Errorf("the model disagrees with kube-apiserver v1.24 on %d of %d stored pods created again:\n%s", checked-agree, checked, renderPSPTable(rows, false))
	}
}

func pspSameIdentity(a, b pspIdentity) bool {
	ga, gb := slices.Clone(a.groups), slices.Clone(b.groups)
	sort.Strings(ga)
	sort.Strings(gb)
	return a.name == b.name && slices.Equal(ga, gb)
}

// waitForPSPCaches waits until the API server's PSP lister and RBAC
// authorizer have seen the corpus: admission reads both from informers.
// wantPolicies is the number of PSPs admission can build: a dry-run pod
// that every policy rejects gets one procMount error per policy.
func waitForPSPCaches(t *testing.T, ctx context.Context, kube kubernetes.Interface, admin dynamic.Interface, wantPolicies int) {
	t.Helper()
	probe := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "sync-probe", "namespace": "psp-wild"},
		"spec": map[string]any{
			"automountServiceAccountToken": false,
			"containers": []any{map[string]any{
				"name": "probe", "image": "registry.example/probe:1",
				"securityContext": map[string]any{"procMount": "Unmasked"},
			}},
		},
	}}
	// The sentinel grants at the end of rbac.yaml: the last ClusterRole,
	// ClusterRoleBinding, Role and RoleBinding created (each kind's
	// informer sees objects in creation order).
	grants := []struct {
		ns  string
		id  pspIdentity
		psp string
	}{
		{"psp-wild", pspIdentity{"e2e-sync-sentinel-cluster", []string{"system:authenticated"}}, "00-privileged"},
		{"psp-wild", pspIdentity{"e2e-sync-sentinel-namespace", []string{"system:authenticated"}}, "00-privileged"},
	}
	deadline := time.Now().Add(pspSyncTimeout)
	for {
		var problems []string
		_, err := admin.Resource(pspPodsGVR).Namespace("psp-wild").Create(ctx, probe.DeepCopy(), pspDryRun)
		if n := strings.Count(fmt.Sprint(err), "ProcMountType is not allowed"); n != wantPolicies {
			problems = append(problems, fmt.Sprintf("admission sees %d of %d PSPs (%v)", n, wantPolicies, err))
		}
		for _, g := range grants {
			if ok, err := pspSARAllowed(ctx, kube, g.id, g.ns, g.psp, "policy"); err != nil || !ok {
				problems = append(problems, fmt.Sprintf("%s may not use %s in %s yet (%v)", g.id.name, g.psp, g.ns, err))
			}
		}
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PSP admission caches not in sync after %s: %s", pspSyncTimeout, strings.Join(problems, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pspCreateControllerPods creates the corpus controllers as the admin and
// their pods from the stored templates, with real owner UIDs, as the
// controller's identity.
func pspCreateControllerPods(t *testing.T, ctx context.Context, c *framework.Cluster, admin dynamic.Interface, corpus *pspCorpus,
	clientFor func(pspIdentity) dynamic.Interface) []*pspCase {
	t.Helper()
	controllerSA := map[string]string{"ReplicaSet": "replicaset-controller", "Job": "job-controller", "DaemonSet": "daemon-set-controller"}
	var cases []*pspCase
	for _, stored := range c.ApplyYAML(t, corpus.files["controllers.yaml"]) {
		kind := stored.GetKind()
		var template corev1.PodTemplateSpec
		switch kind {
		case "ReplicaSet":
			var rs appsv1.ReplicaSet
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, &rs); err != nil {
				t.Fatal(err)
			}
			template = rs.Spec.Template
		case "DaemonSet":
			var ds appsv1.DaemonSet
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, &ds); err != nil {
				t.Fatal(err)
			}
			template = ds.Spec.Template
		case "Job":
			var job batchv1.Job
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(stored.Object, &job); err != nil {
				t.Fatal(err)
			}
			template = job.Spec.Template
		default:
			t.Fatalf("controllers.yaml: unexpected kind %s", kind)
		}
		replicas, err := strconv.Atoi(stored.GetAnnotations()[pspReplicasAnnotation])
		if err != nil || replicas < 1 {
			t.Fatalf("controller %s/%s: annotation %s: want a positive number", kind, stored.GetName(), pspReplicasAnnotation)
		}
		rawTemplate, _, _ := unstructured.NestedMap(stored.Object, "spec", "template")
		requester, mode := pspServiceAccountIdentity("kube-system", controllerSA[kind]), rbac.ControllerServiceAccounts
		if stored.GetAnnotations()[pspControllerIdentityAnnotation] == string(rbac.ControllerManager) {
			requester, mode = pspIdentity{"system:kube-controller-manager", []string{"system:authenticated"}}, rbac.ControllerManager
		}
		for i := 0; i < replicas; i++ {
			// Controllers name their pods with generateName; the server
			// adds a random suffix after admission.
			generateName := stored.GetName() + "-"
			meta, _, _ := unstructured.NestedMap(rawTemplate, "metadata")
			if meta == nil {
				meta = map[string]any{}
			}
			meta["generateName"] = generateName
			meta["namespace"] = stored.GetNamespace()
			meta["ownerReferences"] = []any{map[string]any{
				"apiVersion": stored.GetAPIVersion(), "kind": kind, "name": stored.GetName(), "uid": string(stored.GetUID()),
				"controller": true, "blockOwnerDeletion": true,
			}}
			spec, _, _ := unstructured.NestedMap(rawTemplate, "spec")
			pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}}
			pc := &pspCase{
				name: generateName, namespace: stored.GetNamespace(), serviceAccount: pspPodServiceAccount(pod),
				requester: requester, owner: kind + "/" + stored.GetName(), mode: mode, template: template.DeepCopy(),
				submitted: pod,
			}
			if err := pspCreatePodCase(ctx, admin, clientFor(requester), pc); err != nil {
				t.Fatalf("pod %s: %v", pc.key(), err)
			}
			if pc.stored != nil {
				pc.name = pc.stored.Name
			} else {
				pc.name = fmt.Sprintf("%s<rejected %d>", generateName, i)
			}
			cases = append(cases, pc)
		}
	}
	return cases
}

// pspAddDebugContainers adds, through the pods/ephemeralcontainers
// subresource and as the pod's own requester, a privileged debug container
// to every admitted pod annotated psp-migrate.test/debug-container. PSP
// admission ignores subresources, so the server accepts it whatever the
// pod's PSP says; the stored pod then carries it (and the live audit, which
// evaluates stored pods, must notice).
func pspAddDebugContainers(t *testing.T, ctx context.Context, c *framework.Cluster, cases []*pspCase) {
	t.Helper()
	for _, pc := range cases {
		if pc.stored == nil || pc.submitted.GetAnnotations()[pspDebugContainerAnnotation] == "" {
			continue
		}
		kube, err := kubernetes.NewForConfig(pc.requester.config(c))
		if err != nil {
			t.Fatal(err)
		}
		pod := pc.stored.DeepCopy()
		yes := true
		pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debugger", Image: "registry.example/debug:1",
				SecurityContext: &corev1.SecurityContext{Privileged: &yes},
			},
			TargetContainerName: pod.Spec.Containers[0].Name,
		})
		out, err := kube.CoreV1().Pods(pc.namespace).UpdateEphemeralContainers(ctx, pc.name, pod, metav1.UpdateOptions{})
		if err != nil {
			t.Errorf("pod %s: adding a privileged debug container as %s: %v (the corpus expects PSP to ignore the subresource)", pc.key(), pc.requester.name, err)
			continue
		}
		pc.stored = out
	}
}

// pspLiveRBACIndex reads the cluster's RBAC (the corpus' and the bootstrap
// policy's) into the model's index.
func pspLiveRBACIndex(t *testing.T, ctx context.Context, kube kubernetes.Interface) *rbac.Index {
	t.Helper()
	crs, err := kube.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	crbs, err := kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roles, err := kube.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := kube.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rbac.NewIndex(crs.Items, crbs.Items, roles.Items, rbs.Items)
}

func pspSARAllowed(ctx context.Context, kube kubernetes.Interface, id pspIdentity, ns, pspName, group string) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   id.name,
		Groups: id.groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: "use", Group: group, Version: "*", Resource: "podsecuritypolicies", Name: pspName,
		},
	}}
	out, err := kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return out.Status.Allowed, nil
}

// pspSARUse asks the server what the PSP plugin asks: may id use pspName in
// ns, in API group policy or (legacy) extensions.
func pspSARUse(ctx context.Context, kube kubernetes.Interface, id pspIdentity, ns, pspName string) (policy, extensions bool, err error) {
	if policy, err = pspSARAllowed(ctx, kube, id, ns, pspName, "policy"); err != nil {
		return
	}
	extensions, err = pspSARAllowed(ctx, kube, id, ns, pspName, "extensions")
	return
}

type pspSARQuestion struct {
	label string // for messages
	id    pspIdentity
	ns    string
}

func (q pspSARQuestion) key() string {
	return q.label + "|" + q.id.name + "|" + strings.Join(q.id.groups, ",") + "|" + q.ns
}

// pspSARQuestions lists the identities whose `use` grants decide the corpus:
// per pod, its requester and its service account as the plugin checks it.
func pspSARQuestions(cases []*pspCase) []pspSARQuestion {
	seen := map[string]bool{}
	var out []pspSARQuestion
	add := func(q pspSARQuestion) {
		if !seen[q.key()] {
			seen[q.key()] = true
			out = append(out, q)
		}
	}
	for _, pc := range cases {
		add(pspRequesterQuestion(pc))
		add(pspPodSAQuestion(pc))
	}
	return out
}

func pspRequesterQuestion(pc *pspCase) pspSARQuestion {
	return pspSARQuestion{"requester", pc.requester, pc.namespace}
}

func pspPodSAQuestion(pc *pspCase) pspSARQuestion {
	return pspSARQuestion{"pod service account", pspPodServiceAccountIdentity(pc.namespace, pc.serviceAccount), pc.namespace}
}

// pspSARAnswer is the server's answer to "may q use the PSP", in both API
// groups the plugin asks.
type pspSARAnswer struct{ policy, extensions bool }

func (a pspSARAnswer) allowed() bool { return a.policy || a.extensions }

// pspAskSARs asks the server every (question, PSP), with a few workers.
// Answers are keyed by question key, then PSP name.
func pspAskSARs(t *testing.T, ctx context.Context, kube kubernetes.Interface, qs []pspSARQuestion, psps []string) map[string]map[string]pspSARAnswer {
	t.Helper()
	type job struct {
		q   pspSARQuestion
		psp string
	}
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		answers  = map[string]map[string]pspSARAnswer{}
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				pol, ext, err := pspSARUse(ctx, kube, j.q.id, j.q.ns, j.psp)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%s %s in %s, PSP %s: %w", j.q.label, j.q.id.name, j.q.ns, j.psp, err)
				}
				if answers[j.q.key()] == nil {
					answers[j.q.key()] = map[string]pspSARAnswer{}
				}
				answers[j.q.key()][j.psp] = pspSARAnswer{pol, ext}
				mu.Unlock()
			}
		}()
	}
	for _, q := range qs {
		for _, p := range psps {
			jobs <- job{q, p}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("SubjectAccessReview: %v", firstErr)
	}
	return answers
}

func pspCorpusNames(corpus *pspCorpus) []string {
	var names []string
	for _, p := range corpus.inv.PodSecurityPolicies {
		names = append(names, p.Name)
	}
	return names
}

// pspCheckRBACMatrix compares rbac.Index.CanUse with the server's
// SubjectAccessReviews for every identity of the corpus and every PSP.
func pspCheckRBACMatrix(t *testing.T, idx *rbac.Index, qs []pspSARQuestion, psps []string, answers map[string]map[string]pspSARAnswer, cases []*pspCase) {
	checked, viaExtensionsOnly := 0, 0
	for _, q := range qs {
		for _, pspName := range psps {
			a := answers[q.key()][pspName]
			checked++
			if a.extensions && !a.policy {
				viaExtensionsOnly++
			}
			if model := idx.CanUse(q.id.user(), q.ns, pspName); a.allowed() != model {
				t.Errorf("%s %s %v in namespace %s, PSP %s: server allows use: %v (policy %v, extensions %v), model CanUse: %v",
					q.label, q.id.name, q.id.groups, q.ns, pspName, a.allowed(), a.policy, a.extensions, model)
			}
		}
	}
	t.Logf("checked %d (identity, namespace, PSP) questions; %d granted only through the extensions API group", checked, viaExtensionsOnly)
	// The model's identities must be the ones the plugin uses.
	for _, pc := range cases {
		if pc.owner != "" || pc.human {
			continue
		}
		if got, want := rbac.ServiceAccountUser(pc.namespace, pc.serviceAccount), pc.requester.user(); !reflect.DeepEqual(got, want) {
			t.Errorf("rbac.ServiceAccountUser(%s, %s) = %+v, want %+v", pc.namespace, pc.serviceAccount, got, want)
		}
		if got, want := rbac.PodServiceAccountUser(pc.namespace, pc.serviceAccount), pspPodServiceAccountIdentity(pc.namespace, pc.serviceAccount).user(); !reflect.DeepEqual(got, want) {
			t.Errorf("rbac.PodServiceAccountUser(%s, %s) = %+v, want %+v", pc.namespace, pc.serviceAccount, got, want)
		}
	}
}

// pspSARUsable is the PSPs the server says a pod's requester or service
// account may use, without the ones admission cannot build. A mirror pod
// has no service account for the plugin.
func pspSARUsable(pc *pspCase, answers map[string]map[string]pspSARAnswer) []string {
	set := map[string]bool{}
	qs := []pspSARQuestion{pspRequesterQuestion(pc)}
	if _, mirror := pc.submitted.GetAnnotations()["kubernetes.io/config.mirror"]; !mirror {
		qs = append(qs, pspPodSAQuestion(pc))
	}
	for _, q := range qs {
		for p, a := range answers[q.key()] {
			if a.allowed() {
				set[p] = true
			}
		}
	}
	for _, name := range pspBrokenNames {
		delete(set, name)
	}
	return pspSortedSet(set)
}

// ------------------------------------------------------------- comparing

type pspRow struct {
	pod, server, model string
	problems           []string
}

func pspDescribeServer(pc *pspCase) string {
	if pc.createErr != nil {
		reason := pspReason(pc.createErr.Error())
		_, list, ok := pspSplitReason(reason)
		if !ok {
			return "rejected after PSP admission"
		}
		return fmt.Sprintf("rejected (%d errors)", len(pspSplitErrorList(list)))
	}
	name := pc.stored.Annotations[psp.PodAnnotation]
	if pc.baseline == nil {
		return "admitted by " + name
	}
	if n := len(pspFieldDiff(pc.baseline, pc.stored)); n > 0 {
		return fmt.Sprintf("admitted by %s, %d fields changed", name, n)
	}
	return "admitted by " + name + ", unchanged"
}

func pspDescribeModel(res pspadmission.Result) string {
	if res.AdmittedBy == nil && !strings.HasPrefix(res.Reason, "PodSecurityPolicy: ") {
		return "rejected after PSP admission"
	}
	if res.AdmittedBy == nil {
		n := 0
		for _, errs := range res.Errors {
			n += len(errs)
		}
		return fmt.Sprintf("rejected (%d errors)", n)
	}
	if len(res.MutatedFields) > 0 {
		return fmt.Sprintf("admitted by %s, %d fields changed", *res.AdmittedBy, len(res.MutatedFields))
	}
	return "admitted by " + *res.AdmittedBy + ", unchanged"
}

// comparePSPCase lists every way the model's result differs from what the
// server did with the pod.
func comparePSPCase(pc *pspCase, res pspadmission.Result, pspSARUsable []string) pspRow {
	row := pspRow{pod: pc.key(), server: pspDescribeServer(pc), model: pspDescribeModel(res)}
	if pc.owner != "" {
		row.pod += " (" + pc.owner + ")"
	}
	add := func(format string, args ...any) { row.problems = append(row.problems, fmt.Sprintf(format, args...)) }

	if !slices.Equal(res.Usable, pspSARUsable) {
		add("usable PSPs: server (SubjectAccessReview) %v, model %v", pspSARUsable, res.Usable)
	}

	serverAdmitted := pc.stored != nil
	modelAdmitted := res.AdmittedBy != nil
	switch {
	case serverAdmitted && !modelAdmitted:
		add("server admitted the pod with %s, model rejects it: %s", pc.stored.Annotations[psp.PodAnnotation], res.Reason)
	case !serverAdmitted && modelAdmitted:
		add("server rejected the pod, model admits it with %s; server: %s", *res.AdmittedBy, pc.createErr)
	case serverAdmitted:
		if got, want := *res.AdmittedBy, pc.stored.Annotations[psp.PodAnnotation]; got != want {
			add("kubernetes.io/psp: server %q, model %q", want, got)
		}
		if pc.baseline == nil {
			add("no baseline to compare mutations with: %v", pc.baselineErr)
			break
		}
		serverDiff := pspFieldDiff(pc.baseline, pc.stored)
		missing, extra := pspCompareChanges(serverDiff, res.MutatedFields)
		for _, m := range missing {
			add("server changed %s; model does not predict it", m)
		}
		for _, e := range extra {
			add("model predicts change %s; server did not make it", e)
		}
		if res.Mutated != (len(serverDiff) > 0) {
			add("Mutated: model %v, server changed %d fields", res.Mutated, len(serverDiff))
		}
	case strings.Contains(pc.createErr.Error(), "PodSecurityPolicy: "):
		comparePSPRejection(pc, res, add)
	default:
		// Rejected after PSP admitted it (by pod validation, the RuntimeClass
		// plugin, ...): the model must give the server's message. Pointers
		// the server prints (%#v of its internal types) are not compared.
		server, model := pspNormalizePointers(pspReason(pc.createErr.Error())), pspNormalizePointers(pspReason(res.Reason))
		if g := pc.submitted.GetGenerateName(); g != "" {
			// The model cannot know the random suffix of a generated name.
			server = regexp.MustCompile(`"`+regexp.QuoteMeta(g)+`[a-z0-9]{5}"`).ReplaceAllString(server, strconv.Quote(g))
		}
		if server != model {
			add("rejected after PSP admission; messages differ:\n      server: %s\n      model:  %s", server, model)
		}
	}
	return row
}

var pspPointerRE = regexp.MustCompile(`0x[0-9a-f]+`)

func pspNormalizePointers(s string) string { return pspPointerRE.ReplaceAllString(s, "0x…") }

func comparePSPRejection(pc *pspCase, res pspadmission.Result, add func(string, ...any)) {
	reason := pspReason(pc.createErr.Error())
	sPrefix, sList, ok := pspSplitReason(reason)
	if !ok {
		add("server rejection is not a PSP error list: %s", reason)
		return
	}
	mPrefix, _, ok := pspSplitReason(res.Reason)
	if !ok {
		add("model reason is not a PSP error list: %s", res.Reason)
		return
	}
	if sPrefix != mPrefix {
		add("rejection phase: server %q, model %q", sPrefix, mPrefix)
	}
	var groups, modelErrs []string
	for _, errs := range res.Errors {
		groups = append(groups, strings.Join(errs, " "))
		modelErrs = append(modelErrs, errs...)
	}
	if pspPartitionErrors(sList, groups) {
		return
	}
	add("the server's errors are not the model's per-PSP errors in some order")
	onlyServer, onlyModel := pspMultisetDiff(pspSplitErrorList(sList), modelErrs)
	for _, e := range onlyServer {
		add("  server only: %s", e)
	}
	for _, e := range onlyModel {
		add("  model only:  %s", e)
	}
	if len(onlyServer) == 0 && len(onlyModel) == 0 {
		add("  server: %s", sList)
		add("  model:  %v", res.Errors)
	}
}

// pspCheckTemplateReliance checks pspadmission.TemplateReliance for a
// controller-owned pod: the fields it says the running pod relies on are
// exactly the ones its PSP changed on the server.
func pspCheckTemplateReliance(pc *pspCase) []string {
	var out []string
	serverDiff := pspFieldDiff(pc.baseline, pc.stored)
	rel := pspadmission.TemplateReliance(pc.stored, pc.template)
	missing, extra := pspCompareChanges(serverDiff, rel)
	for _, m := range missing {
		out = append(out, "TemplateReliance misses "+m+" (the PSP set it; the template does not)")
	}
	for _, e := range extra {
		out = append(out, "TemplateReliance reports "+e+", which the template already produces")
	}
	return out
}

func renderPSPTable(rows []pspRow, all bool) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "POD\tSERVER SAYS\tMODEL SAYS\tAGREE")
	for _, r := range rows {
		if !all && len(r.problems) == 0 {
			continue
		}
		verdict := "yes"
		if len(r.problems) > 0 {
			verdict = "NO"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.pod, r.server, r.model, verdict)
	}
	w.Flush()
	if all {
		return b.String()
	}
	b.WriteString("\ndisagreements:\n")
	for _, r := range rows {
		if len(r.problems) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s\n", r.pod)
		for _, p := range r.problems {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	return b.String()
}

// ------------------------------------------------------------- coverage

// TestPSPCorpusCoversEveryField keeps the corpus honest without a cluster:
// every field of the PSP type is set by some corpus PSP, every strategy
// rule is used, and the corpus has enough PSPs and pods.
func TestPSPCorpusCoversEveryField(t *testing.T) {
	corpus, err := loadPSPCorpus()
	if err != nil {
		t.Fatal(err)
	}
	psps := corpus.inv.PodSecurityPolicies
	if len(psps) < pspMinCorpusPSPs {
		t.Errorf("%d PSPs in the corpus, want >= %d", len(psps), pspMinCorpusPSPs)
	}
	if len(corpus.podObjs) < pspMinCorpusPods || len(corpus.inv.Pods) != len(corpus.podObjs) {
		t.Errorf("%d pods in the corpus (%d in the inventory), want >= %d", len(corpus.podObjs), len(corpus.inv.Pods), pspMinCorpusPods)
	}

	set := map[string]bool{}
	for i := range psps {
		pspMarkSetFields(reflect.ValueOf(&psps[i].Spec), "", set)
	}
	for _, path := range pspFieldPaths(reflect.TypeOf(psp.PodSecurityPolicySpec{}), "") {
		if !set[path] {
			t.Errorf("no corpus PSP sets spec field %s", path)
		}
	}

	has := func(what string, pred func(p *psp.PodSecurityPolicy) bool) {
		t.Helper()
		for i := range psps {
			if pred(&psps[i]) {
				return
			}
		}
		t.Errorf("no corpus PSP has %s", what)
	}
	for _, a := range []string{psp.SeccompAllowedProfilesAnnotation, psp.SeccompDefaultProfileAnnotation,
		psp.AppArmorAllowedProfilesAnnotation, psp.AppArmorDefaultProfileAnnotation} {
		has("annotation "+a, func(p *psp.PodSecurityPolicy) bool { return p.Annotations[a] != "" })
	}
	for _, rule := range []psp.RunAsUserStrategy{psp.RunAsUserStrategyMustRunAs, psp.RunAsUserStrategyMustRunAsNonRoot, psp.RunAsUserStrategyRunAsAny} {
		has("runAsUser "+string(rule), func(p *psp.PodSecurityPolicy) bool { return p.Spec.RunAsUser.Rule == rule })
	}
	for _, rule := range []psp.RunAsGroupStrategy{psp.RunAsGroupStrategyMustRunAs, psp.RunAsGroupStrategyMayRunAs, psp.RunAsGroupStrategyRunAsAny} {
		has("runAsGroup "+string(rule), func(p *psp.PodSecurityPolicy) bool { return p.Spec.RunAsGroup != nil && p.Spec.RunAsGroup.Rule == rule })
	}
	for _, rule := range []string{"MustRunAs", "MayRunAs", "RunAsAny"} {
		has("supplementalGroups "+rule, func(p *psp.PodSecurityPolicy) bool { return string(p.Spec.SupplementalGroups.Rule) == rule })
		has("fsGroup "+rule, func(p *psp.PodSecurityPolicy) bool { return string(p.Spec.FSGroup.Rule) == rule })
	}
	for _, rule := range []psp.SELinuxStrategy{psp.SELinuxStrategyMustRunAs, psp.SELinuxStrategyRunAsAny} {
		has("seLinux "+string(rule), func(p *psp.PodSecurityPolicy) bool { return p.Spec.SELinux.Rule == rule })
	}
	has("runAsUser MustRunAs with several ranges", func(p *psp.PodSecurityPolicy) bool {
		return p.Spec.RunAsUser.Rule == psp.RunAsUserStrategyMustRunAs && len(p.Spec.RunAsUser.Ranges) > 1
	})
	has("allowedCapabilities '*'", func(p *psp.PodSecurityPolicy) bool { return slices.Contains(p.Spec.AllowedCapabilities, "*") })
	has("volumes '*'", func(p *psp.PodSecurityPolicy) bool { return slices.Contains(p.Spec.Volumes, psp.All) })
	has("several hostPorts ranges", func(p *psp.PodSecurityPolicy) bool { return len(p.Spec.HostPorts) > 1 })
	has("allowPrivilegeEscalation false", func(p *psp.PodSecurityPolicy) bool {
		return p.Spec.AllowPrivilegeEscalation != nil && !*p.Spec.AllowPrivilegeEscalation
	})
	has("a read-only allowedHostPath", func(p *psp.PodSecurityPolicy) bool {
		return slices.ContainsFunc(p.Spec.AllowedHostPaths, func(h psp.AllowedHostPath) bool { return h.ReadOnly })
	})
	has("a glob in allowedUnsafeSysctls", func(p *psp.PodSecurityPolicy) bool {
		return slices.ContainsFunc(p.Spec.AllowedUnsafeSysctls, func(s string) bool { return strings.HasSuffix(s, "*") })
	})
	has("a glob in forbiddenSysctls", func(p *psp.PodSecurityPolicy) bool {
		return slices.ContainsFunc(p.Spec.ForbiddenSysctls, func(s string) bool { return strings.HasSuffix(s, "*") })
	})
	has("a runtime class default", func(p *psp.PodSecurityPolicy) bool {
		return p.Spec.RuntimeClass != nil && p.Spec.RuntimeClass.DefaultRuntimeClassName != nil
	})
	if len(corpus.ctrlObjs) == 0 {
		t.Error("no controllers in controllers.yaml")
	}
}
