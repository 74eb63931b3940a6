package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	auditpkg "github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/live"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The layouts real clusters have, proven on real servers: EKS's default
// (eks.privileged granted to system:authenticated), the Kubernetes
// documentation's (restricted for every authenticated user), a kubeadm
// cluster's (privileged for kube-system's service accounts through a
// ClusterRoleBinding, which every controller reaches, and for a CI user),
// and GCE's addon layout (kube-system only; its unprivileged-addon PSP
// lacks the projected volume every pod with a token has).
// In each, pods are created by people and by a controller, not by their own
// service accounts:
//
//   - on v1.24, every pod shape is created (dry run) as every requester in
//     every namespace with every service account; the admission model must
//     pick the PSP the server picks, or reject as it does, with the
//     requester the audit would assume (an unknown authenticated user for
//     people without grants of their own);
//   - the live audit of bare pods created for real by such a user reports
//     the PSP stored on each;
//   - the --scope rbac conversion of each layout is held to its prediction
//     by the real engines for the same requesters: kube-apiserver v1.30
//     (vap), the Kyverno CLI with the requester's userInfo (kyverno,
//     kyverno-cel), and gator (gatekeeper, which sees no requester).

var layoutNames = []string{"eks", "docs", "kubeadm", "gce"}

// layoutPSPCount is the number of PSPs in testdata/layouts/psps.yaml.
const layoutPSPCount = 5

// layoutNamespaces and layoutAccounts are where the pods go and what they
// run as (common.yaml creates them).
var (
	layoutNamespaces = []string{"apps", "build", "team-a", "kube-system"}
	layoutAccounts   = []string{"default", "app"}
)

// layoutUsers are the token users: jane has no grant of her own, ci-bot
// has one in build (kubeadm), amy is in group ops, granted in apps (docs).
var layoutUsers = map[string][]string{"jane": nil, "ci-bot": {"ci"}, "amy": {"ops"}}

// layoutRequester creates pods.
type layoutRequester struct {
	name string
	// model is the requester the audit and the prediction assume.
	model *rbac.User
	// real is the identity on the server (a token user, or the controller
	// through impersonation).
	real func(c *framework.Cluster) *rest.Config
	// owned pods carry a ReplicaSet owner reference (controller-made).
	owned bool
}

func layoutRequesters() []layoutRequester {
	ctrl, _ := rbac.ControllerUser("ReplicaSet", rbac.ControllerServiceAccounts)
	token := func(name string) func(c *framework.Cluster) *rest.Config {
		return func(c *framework.Cluster) *rest.Config { return c.UserConfig(name) }
	}
	user := func(name string, groups ...string) *rbac.User {
		return &rbac.User{Name: name, Groups: append(groups, rbac.AllAuthenticated)}
	}
	return []layoutRequester{
		// A person the model does not know: as the audit sees a bare pod.
		{name: "jane", model: nil, real: token("jane")},
		{name: "ci-bot", model: user("ci-bot", "ci"), real: token("ci-bot")},
		{name: "amy", model: user("amy", "ops"), real: token("amy")},
		{name: "replicaset-controller", model: &ctrl, owned: true, real: func(c *framework.Cluster) *rest.Config {
			cfg := c.AdminConfig()
			cfg.Impersonate = rest.ImpersonationConfig{UserName: ctrl.Name, Groups: slices.Clone(ctrl.Groups)}
			return cfg
		}},
	}
}

// layoutShapes are the pods each requester creates: what the three PSPs
// tell apart.
func layoutShapes() map[string]func(*corev1.Pod) {
	return map[string]func(*corev1.Pod){
		"plain": func(*corev1.Pod) {},
		"privileged": func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
		},
		"hostpath": func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}})
		},
		"nonroot": func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: new(true), RunAsUser: new(int64(1000)), FSGroup: new(int64(1000)), SupplementalGroups: []int64{1000},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: new(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
		},
		"hostnetwork": func(p *corev1.Pod) { p.Spec.HostNetwork = true },
	}
}

// layoutPods are every shape in every namespace with every account, named
// shape-account; owned pods get a ReplicaSet owner.
func layoutPods(owned bool) []*corev1.Pod {
	shapes := layoutShapes()
	var out []*corev1.Pod
	for _, ns := range layoutNamespaces {
		for _, sa := range layoutAccounts {
			for _, shape := range slices.Sorted(func(yield func(string) bool) {
				for k := range shapes {
					if !yield(k) {
						return
					}
				}
			}) {
				p := &corev1.Pod{
					TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
					ObjectMeta: metav1.ObjectMeta{Name: shape + "-" + sa, Namespace: ns},
					Spec: corev1.PodSpec{
						ServiceAccountName: sa,
						Containers:         []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
					},
				}
				if owned {
					p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8f", UID: "00000000-0000-4000-8000-00000000beef", Controller: new(true)}}
				}
				shapes[shape](p)
				out = append(out, p)
			}
		}
	}
	return out
}

func readLayout(t *testing.T, name string) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{"common.yaml", "psps.yaml", name + ".yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "layouts", f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, []byte("\n---\n")...)
		all = append(all, b...)
	}
	return all
}

// startLayout starts a cluster of version holding the layout (on v1.30 the
// PSPs themselves are left out: the API is gone) and waits until its
// grants are in force.
func startLayout(t *testing.T, version, name string) *framework.Cluster {
	t.Helper()
	c := framework.Start(t, framework.Options{Version: version, Users: layoutUsers})
	data := readLayout(t, name)
	if version != "v1.24" {
		data = withoutKind(t, data, "PodSecurityPolicy")
	}
	c.ApplyYAML(t, data)
	for _, ns := range append(slices.Clone(layoutNamespaces), "kube-system") {
		if _, err := c.CreateYAML(t.Context(), c.AdminConfig(), []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: "+ns+"}\n")); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s/default: %v", ns, err)
		}
	}
	var reviews []authorizationv1.SubjectAccessReviewSpec
	for _, r := range layoutRequesters() {
		u := r.model
		if u == nil {
			u = &rbac.User{Name: r.name, Groups: []string{rbac.AllAuthenticated}}
		}
		for _, ns := range layoutNamespaces {
			reviews = append(reviews, authorizationv1.SubjectAccessReviewSpec{User: u.Name, Groups: u.Groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "pods"}})
		}
	}
	c.WaitForAccess(t, reviews...)
	return c
}

// withoutKind drops the documents of one kind from a YAML stream.
func withoutKind(t *testing.T, data []byte, kind string) []byte {
	t.Helper()
	var keep []string
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var m struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if m.Kind != kind {
			keep = append(keep, doc)
		}
	}
	return []byte(strings.Join(keep, "\n---\n"))
}

// waitForLayoutPSPs waits until PSP admission sees all n PSPs (a pod with
// procMount Unmasked is refused by every one of them, and the admin may use
// them all).
func waitForLayoutPSPs(t *testing.T, ctx context.Context, cs kubernetes.Interface, n int) {
	t.Helper()
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "apps"}, Spec: corev1.PodSpec{
		AutomountServiceAccountToken: new(false),
		Containers: []corev1.Container{{Name: "p", Image: "registry.example/p:1",
			SecurityContext: &corev1.SecurityContext{ProcMount: new(corev1.UnmaskedProcMount)}}}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cs.CoreV1().Pods("apps").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if strings.Count(fmt.Sprint(err), "ProcMountType is not allowed") == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PSP admission does not see the %d PSPs: %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// liveInventory reads the cluster as `audit` does.
func liveInventory(t *testing.T, c *framework.Cluster) *inventory.Inventory {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	inv, err := live.Read(t.Context(), c.AdminClient(t), dyn, live.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Incomplete) > 0 {
		t.Fatalf("incomplete read: %v", inv.Incomplete)
	}
	return inv
}

// layoutResult is what one layout's v1.24 run leaves for the engine checks.
type layoutResult struct {
	name string
	inv  *inventory.Inventory
}

func TestLayoutsAgainstRealAPIServer(t *testing.T) {
	var results []layoutResult
	for _, name := range layoutNames {
		t.Run(name+"/psp-admission", func(t *testing.T) {
			results = append(results, layoutResult{name: name, inv: checkLayoutPSP(t, name)})
		})
	}
	if t.Failed() || len(results) != len(layoutNames) {
		return
	}
	t.Run("vap on v1.30", func(t *testing.T) {
		for _, r := range results {
			t.Run(r.name, func(t *testing.T) { checkLayoutVAP(t, r) })
		}
	})
	t.Run("kyverno CLI", func(t *testing.T) { checkLayoutKyverno(t, results) })
	t.Run("gator", func(t *testing.T) { checkLayoutGator(t, results) })
}

// checkLayoutPSP runs the v1.24 part and returns the cluster's inventory.
func checkLayoutPSP(t *testing.T, name string) *inventory.Inventory {
	c := startLayout(t, "v1.24", name)
	ctx := t.Context()
	admin := clientFor(t, c.AdminConfig())
	waitForLayoutPSPs(t, ctx, admin, layoutPSPCount)
	inv := liveInventory(t, c)

	names := make([]string, len(inv.PodSecurityPolicies))
	for i := range inv.PodSecurityPolicies {
		names[i] = inv.PodSecurityPolicies[i].Name
	}
	ev, invalid := pspadmission.NewEvaluator(inv.PodSecurityPolicies, inv.UseTable(inv.RBACIndex(), names))
	if len(invalid) > 0 {
		t.Fatalf("invalid PSPs: %v", invalid)
	}
	sas := map[string]*corev1.ServiceAccount{}
	for i := range inv.ServiceAccounts {
		sas[inv.ServiceAccounts[i].Namespace+"/"+inv.ServiceAccounts[i].Name] = &inv.ServiceAccounts[i]
	}

	agree, admitted, total := 0, 0, 0
	var rows []string
	for _, r := range layoutRequesters() {
		cs := clientFor(t, r.real(c))
		for _, pod := range layoutPods(r.owned) {
			total++
			server, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			serverPSP := ""
			switch {
			case err == nil:
				serverPSP = server.Annotations[psp.PodAnnotation]
				admitted++
			case !strings.Contains(err.Error(), "PodSecurityPolicy: "):
				t.Fatalf("%s creating %s/%s: rejected by something other than PSP admission (fix the test): %v", r.name, pod.Namespace, pod.Name, err)
			}
			res := ev.Evaluate(pspadmission.Request{Pod: pod, Requester: r.model, ServiceAccount: sas[pod.Namespace+"/"+pod.Spec.ServiceAccountName]})
			modelPSP := ""
			if res.AdmittedBy != nil {
				modelPSP = *res.AdmittedBy
			}
			if modelPSP != serverPSP {
				rows = append(rows, fmt.Sprintf("%s\t%s/%s\tserver %q (%v)\tmodel %q (usable %v; %s)", r.name, pod.Namespace, pod.Name, serverPSP, err, modelPSP, res.Usable, res.Reason))
				continue
			}
			agree++
		}
	}
	for _, row := range rows {
		t.Error(row)
	}
	t.Logf("%s: model agrees with the server on %d of %d pods (%d admitted)", name, agree, total, admitted)
	if admitted == 0 {
		t.Errorf("%s: no pod admitted: the layout is broken", name)
	}

	// Bare pods created for real by jane, audited live: the audit assumes
	// an unknown authenticated creator, which jane is.
	jane := clientFor(t, c.UserConfig("jane"))
	created := map[string]string{}
	for _, pod := range layoutPods(false) {
		if !strings.HasPrefix(pod.Name, "plain-") {
			continue
		}
		pod.Name = "stored-" + pod.Name
		out, err := jane.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			continue // rejected: nothing stored to audit
		}
		created[pod.Namespace+"/"+pod.Name] = out.Annotations[psp.PodAnnotation]
	}
	if len(created) == 0 {
		t.Fatalf("%s: jane could create no plain pod", name)
	}
	live := liveInventory(t, c)
	rep, err := auditpkg.Run(live, auditpkg.Options{PSSVersion: "v1.24"})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range rep.Pods {
		want, ok := created[p.Namespace+"/"+p.Name]
		if !ok {
			continue
		}
		seen++
		got := ""
		if p.PSP != nil && p.PSP.AdmittedBy != nil {
			got = *p.PSP.AdmittedBy
		}
		if got != want {
			t.Errorf("%s: audit of stored pod %s/%s: admitted by %q, the server stored %q", name, p.Namespace, p.Name, got, want)
		}
	}
	if seen != len(created) {
		t.Errorf("%s: the audit reported %d of the %d stored pods", name, seen, len(created))
	}
	return inv
}

// layoutSet is the layout's --scope rbac conversion.
func layoutSet(t *testing.T, inv *inventory.Inventory) *translate.PolicySet {
	t.Helper()
	set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeRBAC, ToolVersion: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// preparedFor is the pod as admission sees it on create (defaults and the
// service account token volume).
func preparedFor(inv *inventory.Inventory, pod *corev1.Pod) *corev1.Pod {
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		if sa.Namespace == pod.Namespace && sa.Name == pod.Spec.ServiceAccountName {
			return pspadmission.Prepare(pod, sa)
		}
	}
	return pspadmission.Prepare(pod, nil)
}

func checkLayoutVAP(t *testing.T, r layoutResult) {
	set := layoutSet(t, r.inv)
	pred, err := translate.NewSetPredictor(r.inv, set, predicting(t, translate.EngineVAP))
	if err != nil {
		t.Fatal(err)
	}
	c := startLayout(t, "v1.30", r.name)
	ctx := t.Context()
	admin := clientFor(t, c.AdminConfig())
	policy, binding := renderVAP(t, set)
	createPolicy(t, ctx, admin, policy, binding)

	type vcase struct {
		req     layoutRequester
		pod     *corev1.Pod
		allowed bool
		message string
	}
	var cases []vcase
	for _, req := range layoutRequesters() {
		for _, pod := range layoutPods(req.owned) {
			prepared := preparedFor(r.inv, pod)
			v := set.Evaluate(prepared, req.model)
			allowed := pred.Admitted(pred.Pod(prepared, req.model), translate.EngineVAP)
			if allowed != v.Allowed {
				t.Fatalf("%s %s/%s: predictor %t, PolicySet %t", req.name, pod.Namespace, pod.Name, allowed, v.Allowed)
			}
			cases = append(cases, vcase{req: req, pod: pod, allowed: allowed, message: v.Message})
		}
	}
	// Wait until the policy is in force: a case predicted denied is denied.
	for _, vc := range cases {
		if vc.allowed {
			continue
		}
		cs := clientFor(t, vc.req.real(c))
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, err := cs.CoreV1().Pods(vc.pod.Namespace).Create(ctx, vc.pod.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil && strings.Contains(err.Error(), vapDenied) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("policy not in force after 60s: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		break
	}
	agree, denied := 0, 0
	clients := map[string]kubernetes.Interface{}
	for _, vc := range cases {
		cs := clients[vc.req.name]
		if cs == nil {
			cs = clientFor(t, vc.req.real(c))
			clients[vc.req.name] = cs
		}
		_, err := cs.CoreV1().Pods(vc.pod.Namespace).Create(ctx, vc.pod.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		var got, msg string
		switch {
		case err == nil:
			got = "allowed"
		case strings.Contains(err.Error(), vapDenied) && apierrors.IsForbidden(err):
			got = "denied"
			msg = err.Error()[strings.Index(err.Error(), vapDenied)+len(vapDenied):]
		default:
			t.Fatalf("%s %s/%s: %v", vc.req.name, vc.pod.Namespace, vc.pod.Name, err)
		}
		want := "denied"
		if vc.allowed {
			want = "allowed"
		}
		if got != want || (!vc.allowed && msg != vc.message) {
			t.Errorf("%s\t%s/%s\tserver %s %q\tprediction %s %q", vc.req.name, vc.pod.Namespace, vc.pod.Name, got, msg, want, vc.message)
			continue
		}
		agree++
		if !vc.allowed {
			denied++
		}
	}
	t.Logf("%s: vap on v1.30 agrees with the prediction on %d of %d pods (%d denied)", r.name, agree, len(cases), denied)
}

// checkLayoutKyverno runs, per engine and requester, one `kyverno test`
// suite holding every layout's conversion, with the requester's userInfo.
func checkLayoutKyverno(t *testing.T, results []layoutResult) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI; hack/ensure-kyverno.sh")
	for _, engine := range kyvernoEngines {
		r, err := engines.ByName(engine)
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range layoutRequesters() {
			t.Run(engine+"/"+req.name, func(t *testing.T) {
				dir := t.TempDir()
				s := newKyvernoSuite(dir)
				s.userInfo = req.model
				if s.userInfo == nil {
					s.userInfo = &rbac.User{Name: req.name, Groups: []string{rbac.AllAuthenticated}}
				}
				pods := layoutPods(req.owned)
				var prepared []*corev1.Pod
				for _, res := range results {
					set := layoutSet(t, res.inv)
					pred, err := translate.NewSetPredictor(res.inv, set, predicting(t, engine))
					if err != nil {
						t.Fatal(err)
					}
					out, err := r.Render(translate.Input{Set: set, Options: set.Options})
					if err != nil {
						t.Fatal(err)
					}
					want := map[string]kyWant{}
					prepared = prepared[:0]
					for _, pod := range pods {
						p := preparedFor(res.inv, pod)
						prepared = append(prepared, p)
						v := set.Evaluate(p, req.model)
						w := kyWant{excluded: v.Excluded, allowed: pred.Admitted(pred.Pod(p, req.model), engine)}
						if !w.allowed {
							w.message = v.Message
						}
						want[p.Namespace+"/"+p.Name] = w
					}
					if err := s.addGroup(res.name, res.name, out, want); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.writePods(prepared); err != nil {
					t.Fatal(err)
				}
				run, err := runKyvernoSuite(t.Context(), cli, dir)
				if err != nil {
					t.Fatalf("%v\n%s", err, run.output)
				}
				check := checkKyvernoSuite(s, run, engine == translate.EngineKyvernoCEL)
				for _, p := range check.problems {
					t.Error(p)
				}
				for _, res := range results {
					st := check.stats[res.name]
					t.Logf("%s %s as %s: %d of %d pods agree (%d denied, %d excluded)", engine, res.name, req.name, st.agree, st.pairs, st.denied, st.excluded)
				}
			})
		}
	}
}

// checkLayoutGator checks the gatekeeper conversion of each layout with
// gator, on pods created by an authenticated user (Gatekeeper constraints
// cannot select by requester, so one requester stands for all).
func checkLayoutGator(t *testing.T, results []layoutResult) {
	gator := framework.Tool(t, "PSP_MIGRATE_GATOR", "Gatekeeper's gator CLI; hack/ensure-gator.sh")
	r, err := engines.ByName(translate.EngineGatekeeper)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range results {
		t.Run(res.name, func(t *testing.T) {
			set, err := translate.Compile(res.inv, translate.Options{Scope: translate.ScopeRBAC, GatekeeperTemplates: true, ToolVersion: "e2e"})
			if err != nil {
				t.Fatal(err)
			}
			pred, err := translate.NewSetPredictor(res.inv, set, predicting(t, translate.EngineGatekeeper))
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Render(translate.Input{Set: set, Options: set.Options})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var objs, podObjs []any
			for _, o := range out.Objects {
				objs = append(objs, o.Object.(*unstructured.Unstructured).Object)
			}
			want := map[string]bool{}
			for _, pod := range layoutPods(false) {
				p := preparedFor(res.inv, pod)
				p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
				podObjs = append(podObjs, p)
				want[p.Namespace+"/"+p.Name] = pred.Admitted(pred.Pod(p, nil), translate.EngineGatekeeper)
			}
			policyFile, podFile := filepath.Join(dir, "policies.yaml"), filepath.Join(dir, "pods.yaml")
			if len(objs) == 0 {
				for k, ok := range want {
					if !ok {
						t.Errorf("%s: nothing rendered, but the prediction denies it", k)
					}
				}
				t.Logf("%s: nothing rendered (%q); the prediction admits all %d pods", res.name, out.Warnings, len(want))
				return
			}
			writeYAML(t, policyFile, objs)
			writeYAML(t, podFile, podObjs)
			vs, err := runGator(t, gator, policyFile, podFile)
			if err != nil {
				t.Fatal(err)
			}
			violated := map[string]bool{}
			for _, v := range vs {
				violated[v.ViolatingObject.Metadata.Namespace+"/"+v.ViolatingObject.Metadata.Name] = true
			}
			agree, denied := 0, 0
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
			}) {
				if violated[k] == want[k] {
					t.Errorf("%s %s: gator violated=%t, prediction admitted=%t", res.name, k, violated[k], want[k])
					continue
				}
				agree++
				if violated[k] {
					denied++
				}
			}
			t.Logf("%s: gator agrees with the prediction on %d of %d pods (%d denied)", res.name, agree, len(want), denied)
		})
	}
}
