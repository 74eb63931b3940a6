package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The v1.30 API server runs with the proc mount gates on: without them it
// forces every procMount to Default before admission, and the
// allowedProcMountTypes rule could not be seen at work. Unmasked needs
// hostUsers: false, hence user namespaces.
var trAPIServerArgs = []string{"--feature-gates=ProcMountType=true,UserNamespacesSupport=true"}

const trWorkers = 4

// trCase is one pod sent to the server under one set of policies.
type trCase struct {
	pod       *corev1.Pod // as written (namespace overridden by the test)
	namespace string
	policy    string // what was bound there, for the table
	want      translate.Verdict
	// from the server
	allowed  bool
	message  string
	warnings []string
	err      error
}

func (tc *trCase) ephemeral() bool { return len(tc.pod.Spec.EphemeralContainers) > 0 }

// renderVAP renders a policy set for the vap engine and checks the output
// the way a careful user would: every object decodes strictly into the
// admissionregistration/v1 types (no unknown or misspelt field).
func renderVAP(t *testing.T, set *translate.PolicySet) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	r, err := engines.ByName(translate.EngineVAP)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(translate.Input{Set: set, Options: set.Options})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	ms, err := translate.Marshal(out.Objects)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if len(ms) != 2 {
		t.Fatalf("vap rendered %d objects, want a policy and a binding", len(ms))
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := yaml.UnmarshalStrict(ms[0].YAML, policy); err != nil {
		t.Fatalf("%s does not decode strictly as a ValidatingAdmissionPolicy: %v", ms[0].FileName, err)
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	if err := yaml.UnmarshalStrict(ms[1].YAML, binding); err != nil {
		t.Fatalf("%s does not decode strictly as a ValidatingAdmissionPolicyBinding: %v", ms[1].FileName, err)
	}
	return policy, binding
}

// createPolicy creates a policy and its binding: first as a server-side dry
// run, which is where the API server compiles the CEL and rejects what does
// not compile, then for real.
func createPolicy(t *testing.T, ctx context.Context, cs kubernetes.Interface, policy *admissionregistrationv1.ValidatingAdmissionPolicy, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	api := cs.AdmissionregistrationV1()
	for _, dry := range []bool{true, false} {
		opts := metav1.CreateOptions{}
		if dry {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		if _, err := api.ValidatingAdmissionPolicies().Create(ctx, policy, opts); err != nil {
			t.Fatalf("create ValidatingAdmissionPolicy %s (dry run %t): %v", policy.Name, dry, err)
		}
		if dry {
			continue
		}
		if _, err := api.ValidatingAdmissionPolicyBindings().Create(ctx, binding, opts); err != nil {
			t.Fatalf("create ValidatingAdmissionPolicyBinding %s: %v", binding.Name, err)
		}
	}
}

// applyClusterObjects creates the corpus' namespaces, service accounts,
// runtime classes and RBAC (RBAC only matters for --scope rbac, but costs
// nothing), and kube-system's default account, which no controller-manager
// creates here.
func applyClusterObjects(t *testing.T, c *framework.Cluster, corpus *trCorpus) {
	t.Helper()
	c.ApplyYAML(t, corpus.clusterYAML)
	if _, err := c.CreateYAML(t.Context(), c.AdminConfig(), []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: kube-system}\n")); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create kube-system/default: %v", err)
	}
}

// stripEphemeral is the pod created before its ephemeral containers are
// added.
func stripEphemeral(p *corev1.Pod) *corev1.Pod {
	out := p.DeepCopy()
	out.Spec.EphemeralContainers = nil
	return out
}

// clean is the pod as sent: no resourceVersion or server fields.
func clean(p *corev1.Pod, namespace string) *corev1.Pod {
	out := p.DeepCopy()
	out.Namespace = namespace
	out.ResourceVersion = ""
	return out
}

// createEphemeralBases creates, before any policy exists, the pods that
// later receive ephemeral containers.
func createEphemeralBases(t *testing.T, ctx context.Context, cs kubernetes.Interface, cases []*trCase) {
	t.Helper()
	done := map[string]bool{}
	for _, tc := range cases {
		key := tc.namespace + "/" + tc.pod.Name
		if !tc.ephemeral() || done[key] {
			continue
		}
		done[key] = true
		if _, err := cs.CoreV1().Pods(tc.namespace).Create(ctx, clean(stripEphemeral(tc.pod), tc.namespace), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create base pod %s: %v", key, err)
		}
	}
}

// send submits a case as a server-side dry run: a pod create, or for pods
// with ephemeral containers an update of the ephemeralcontainers
// subresource of the base pod.
func send(ctx context.Context, cs kubernetes.Interface, tc *trCase) error {
	dry := []string{metav1.DryRunAll}
	var err error
	if tc.ephemeral() {
		var base *corev1.Pod
		base, err = cs.CoreV1().Pods(tc.namespace).Get(ctx, tc.pod.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get base pod: %w", err)
		}
		base.Spec.EphemeralContainers = tc.pod.Spec.EphemeralContainers
		_, err = cs.CoreV1().Pods(tc.namespace).UpdateEphemeralContainers(ctx, tc.pod.Name, base, metav1.UpdateOptions{DryRun: dry})
	} else {
		_, err = cs.CoreV1().Pods(tc.namespace).Create(ctx, clean(tc.pod, tc.namespace), metav1.CreateOptions{DryRun: dry})
	}
	return err
}

const vapDenied = "denied request: "

// record turns the server's answer into allowed/message, or an error when
// something other than a ValidatingAdmissionPolicy refused the pod.
func record(tc *trCase, err error) {
	if err == nil {
		tc.allowed = true
		return
	}
	msg := err.Error()
	if i := strings.Index(msg, vapDenied); i >= 0 && apierrors.IsForbidden(err) {
		tc.message = msg[i+len(vapDenied):]
		return
	}
	tc.err = err
}

// runCases sends every case with a few workers, collecting warnings per
// case.
func runCases(t *testing.T, ctx context.Context, c *framework.Cluster, cases []*trCase) {
	t.Helper()
	work := make(chan *trCase)
	var wg sync.WaitGroup
	for range trWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tc := range work {
				// A client per case: warnings are collected per request.
				h := &warningCollector{}
				cfg := c.AdminConfig()
				cfg.WarningHandler = h
				cs, err := kubernetes.NewForConfig(cfg)
				if err != nil {
					tc.err = err
					continue
				}
				record(tc, send(ctx, cs, tc))
				tc.warnings = h.list()
			}
		}()
	}
	for _, tc := range cases {
		work <- tc
	}
	close(work)
	wg.Wait()
}

type warningCollector struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningCollector) HandleWarningHeader(code int, agent, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

func (w *warningCollector) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.warnings...)
}

var _ rest.WarningHandler = &warningCollector{}

// quietClient is an admin client that drops warnings: the corpus uses the
// deprecated annotations on purpose.
func quietClient(t *testing.T, c *framework.Cluster) kubernetes.Interface {
	t.Helper()
	cfg := c.AdminConfig()
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// waitActive waits until the policies bound in each namespace are enforced:
// a case the model says is denied gets denied. Namespaces where nothing is
// denied need no wait (an early answer is "allowed" either way).
func waitActive(t *testing.T, ctx context.Context, cs kubernetes.Interface, cases []*trCase) {
	t.Helper()
	probes := map[string]*trCase{}
	for _, tc := range cases {
		if !tc.want.Allowed && !tc.ephemeral() && probes[tc.namespace] == nil {
			probes[tc.namespace] = tc
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for ns, tc := range probes {
		for {
			err := send(ctx, cs, tc)
			if err != nil && strings.Contains(err.Error(), vapDenied) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("policies bound in %s not enforced after 60s: %s/%s still answers %v", ns, ns, tc.pod.Name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// compare checks every case against the prediction and prints the
// disagreements as a table; it returns the number of agreements.
func compare(t *testing.T, title string, cases []*trCase, warnMode bool) int {
	t.Helper()
	var rows []string
	agree := 0
	for _, tc := range cases {
		var problem string
		switch {
		case tc.err != nil:
			problem = "server error: " + tc.err.Error()
		case warnMode && !tc.allowed:
			problem = "rejected in warn mode: " + tc.message
		case warnMode:
			got := trPolicyWarning(tc.warnings)
			switch {
			case tc.want.Allowed && got != "":
				problem = "unexpected warning: " + got
			case !tc.want.Allowed && got != tc.want.Message:
				problem = fmt.Sprintf("warning %q, want %q", got, tc.want.Message)
			}
		case tc.allowed != tc.want.Allowed:
			problem = fmt.Sprintf("server allowed=%t (%s), model allowed=%t (%s)", tc.allowed, tc.message, tc.want.Allowed, tc.want.Message)
		case !tc.allowed && tc.message != tc.want.Message:
			problem = "message differs: " + messageDiff(tc.message, tc.want.Message)
		}
		if problem == "" {
			agree++
			continue
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s", tc.policy, tc.namespace, tc.pod.Name, problem))
	}
	t.Logf("%s: server and model agree on %d of %d pods", title, agree, len(cases))
	if len(rows) > 0 {
		var buf bytes.Buffer
		tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "POLICY\tNAMESPACE\tPOD\tDISAGREEMENT")
		for _, r := range rows {
			fmt.Fprintln(tw, r)
		}
		_ = tw.Flush()
		t.Errorf("%s: %d disagreement(s):\n%s", title, len(rows), buf.String())
	}
	return agree
}

// messageDiff names the reasons only one of two denial messages has.
func messageDiff(server, model string) string {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == '(' || r == ')' })
	}
	only := func(a, b []string) []string {
		var out []string
		for _, x := range a {
			if x = strings.TrimSpace(x); x != "" && !slices.ContainsFunc(b, func(y string) bool { return strings.TrimSpace(y) == x }) {
				out = append(out, x)
			}
		}
		return out
	}
	s, m := split(server), split(model)
	return fmt.Sprintf("server only %q; model only %q", only(s, m), only(m, s))
}

// trPolicyWarning returns the text of the converted policy's warning, "" if
// none.
func trPolicyWarning(warnings []string) string {
	const prefix = "Validation failed for ValidatingAdmissionPolicy '"
	for _, w := range warnings {
		if !strings.HasPrefix(w, prefix) {
			continue
		}
		if i := strings.Index(w, "': "); i >= 0 {
			return w[i+3:]
		}
	}
	return ""
}

// TestTranslateVAPPerPSP converts each PSP of the corpus on its own (scope
// cluster) and binds it to a namespace of its own; every corpus pod is then
// sent into every such namespace. For every (PSP, pod) the API server's
// verdict and message must equal the Go evaluator's: this is what proves
// each rule's CEL right, both ways.
func TestTranslateVAPPerPSP(t *testing.T) {
	corpus := loadTranslateCorpus(t)
	c := framework.Start(t, framework.Options{Version: "v1.30", ExtraAPIServerArgs: trAPIServerArgs})
	ctx := t.Context()
	cs := quietClient(t, c)
	applyClusterObjects(t, c, corpus)

	all, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	// A pod far larger than usual, to show the rules stay within the API
	// server's CEL cost budget (the read-only host path rule is volumes ×
	// containers × mounts).
	pods := append(slices.Clone(corpus.pods), largePod(40, 10, 40))
	var cases []*trCase
	type bound struct {
		policy  *admissionregistrationv1.ValidatingAdmissionPolicy
		binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	}
	var policies []bound
	for _, name := range all.PSPNames() {
		set, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster, PSPs: []string{name}, ExcludeNamespaces: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		ns := "m-" + name
		c.CreateNamespace(t, ns)
		for key, sa := range corpus.serviceAccounts {
			_, n, _ := strings.Cut(key, "/")
			copySA := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns}, AutomountServiceAccountToken: sa.AutomountServiceAccountToken}
			if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, copySA, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("create service account %s/%s: %v", ns, n, err)
			}
		}
		policy, binding := renderVAP(t, set)
		// Bound to this PSP's namespace only, so that all PSPs are
		// checked side by side.
		binding.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}}
		policies = append(policies, bound{policy, binding})
		for _, pod := range pods {
			cases = append(cases, &trCase{pod: pod, namespace: ns, policy: policy.Name, want: set.Evaluate(corpus.prepared(pod, ns), nil)})
		}
	}

	t.Run("the model sees pods as the server stores them", func(t *testing.T) {
		// Before any policy: the server's own view of each pod (defaults,
		// token volume) must get the same verdict as the model's Prepare.
		ns := "m-" + all.PSPNames()[0]
		for _, pod := range corpus.pods {
			if len(pod.Spec.EphemeralContainers) > 0 {
				continue
			}
			stored, err := cs.CoreV1().Pods(ns).Create(ctx, clean(pod, ns), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				t.Errorf("%s: dry run without policies: %v", pod.Name, err)
				continue
			}
			for i := range all.Policies {
				want := all.Policies[i].Evaluate(corpus.prepared(pod, ns))
				if got := all.Policies[i].Evaluate(stored); !slices.Equal(got.Reasons, want.Reasons) {
					t.Errorf("%s under %s: stored pod fails %v, prepared pod fails %v", pod.Name, all.Policies[i].Name, got.Reasons, want.Reasons)
				}
			}
		}
	})

	// One PSP with --scope rbac, bound to the corpus' own namespaces: most
	// service accounts may not use it, which is the other denial message.
	hostaccess, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeRBAC, PSPs: []string{"hostaccess"}})
	if err != nil {
		t.Fatal(err)
	}
	policy, binding := renderVAP(t, hostaccess)
	// The per-PSP policy above already has the name.
	policy.Name, binding.Name, binding.Spec.PolicyName = "rbac-hostaccess", "rbac-hostaccess", "rbac-hostaccess"
	binding.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn,
			Values: []string{"team-a", "team-b", "team-c", "ops", "plain"}}}}}
	policies = append(policies, bound{policy, binding})
	var rbacCases []*trCase
	for _, pod := range corpus.pods {
		if pod.Namespace == "kube-system" {
			continue
		}
		rbacCases = append(rbacCases, &trCase{pod: pod, namespace: pod.Namespace, policy: policy.Name, want: hostaccess.Evaluate(corpus.prepared(pod, pod.Namespace), nil)})
	}

	createEphemeralBases(t, ctx, cs, cases)
	createEphemeralBases(t, ctx, cs, rbacCases)
	for _, b := range policies {
		createPolicy(t, ctx, cs, b.policy, b.binding)
	}
	waitActive(t, ctx, cs, append(slices.Clone(cases), rbacCases...))
	runCases(t, ctx, c, cases)
	runCases(t, ctx, c, rbacCases)
	agree := compare(t, "per-PSP policies", cases, false)
	compare(t, "hostaccess alone, --scope rbac", rbacCases, false)
	notUsable := 0
	for _, tc := range rbacCases {
		if strings.HasPrefix(tc.want.Message, "no converted PodSecurityPolicy may be used") {
			notUsable++
		}
	}
	if notUsable == 0 {
		t.Error("no pod was denied for lack of a usable PSP")
	}
	denied := 0
	for _, tc := range cases {
		if !tc.want.Allowed {
			denied++
		}
	}
	t.Logf("per-PSP policies: %d (PSP, pod) pairs denied, %d admitted", denied, len(cases)-denied)

	// Coverage on the server: every rule denied some pod there and was
	// passed by another.
	failedOnServer := map[string]bool{}
	for _, tc := range cases {
		if tc.allowed || tc.err != nil {
			continue
		}
		for _, pv := range tc.want.PSPs {
			for _, r := range pv.Reasons {
				failedOnServer[r] = true
			}
		}
	}
	var never []string
	for _, p := range all.Policies {
		for _, r := range p.Rules {
			if !failedOnServer[r.Message()] {
				never = append(never, p.Name+"/"+r.ID())
			}
		}
	}
	sort.Strings(never)
	t.Logf("per-PSP policies: %d agreements; rules never denying a pod on the server: %v", agree, never)

	t.Run("the server rejects a policy whose CEL does not compile", func(t *testing.T) {
		bad := policies[0].policy.DeepCopy()
		bad.Name = "broken-cel"
		bad.Spec.Validations[0].Expression = "object.spec.containers.all(c, "
		_, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, bad, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "compilation failed") {
			t.Fatalf("policy with broken CEL: want Invalid with a compilation error, got %v", err)
		}
	})
}

// largePod has containers+initContainers containers, each mounting every
// one of volumes read-only host paths and publishing two host ports.
func largePod(containers, initContainers, volumes int) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "x-large", Namespace: "team-a"},
		Spec: corev1.PodSpec{
			ServiceAccountName: "web",
			RuntimeClassName:   new("gvisor"),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser:       new(int64(1000)),
				SELinuxOptions:  &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c456,c123"},
				AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault},
				Sysctls:         []corev1.Sysctl{{Name: "kernel.msgmax", Value: "1"}, {Name: "net.core.somaxconn", Value: "1"}},
			},
		},
	}
	var mounts []corev1.VolumeMount
	for i := range volumes {
		name := fmt.Sprintf("logs-%d", i)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: fmt.Sprintf("/var/log/pods/%d", i)}}})
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: fmt.Sprintf("/logs/%d", i), ReadOnly: true})
	}
	ctr := func(prefix string, i int) corev1.Container {
		return corev1.Container{
			Name: fmt.Sprintf("%s-%d", prefix, i), Image: "registry.example/app:1",
			Ports: []corev1.ContainerPort{{ContainerPort: int32(9000 + i), HostPort: int32(8000 + i)}, {ContainerPort: int32(10000 + i)}},
			SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: new(true), AllowPrivilegeEscalation: new(false),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "NET_RAW"}, Drop: []corev1.Capability{"ALL"}}},
			VolumeMounts: mounts,
		}
	}
	for i := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, ctr("app", i))
	}
	for i := range initContainers {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, ctr("init", i))
	}
	return pod
}

// TestTranslateVAPScopeRBAC converts every PSP with --scope rbac and the
// default exclusions, applies the output unchanged, and sends every corpus
// pod into its own namespace as its own service account: a pod passes when
// a PSP its service account may use admits it.
func TestTranslateVAPScopeRBAC(t *testing.T) {
	corpus := loadTranslateCorpus(t)
	c := framework.Start(t, framework.Options{Version: "v1.30", ExtraAPIServerArgs: trAPIServerArgs})
	ctx := t.Context()
	cs := quietClient(t, c)
	applyClusterObjects(t, c, corpus)

	set, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeRBAC})
	if err != nil {
		t.Fatal(err)
	}
	policy, binding := renderVAP(t, set)
	var cases []*trCase
	for _, pod := range corpus.pods {
		cases = append(cases, &trCase{pod: pod, namespace: pod.Namespace, policy: policy.Name, want: set.Evaluate(corpus.prepared(pod, pod.Namespace), nil)})
	}
	createEphemeralBases(t, ctx, cs, cases)
	createPolicy(t, ctx, cs, policy, binding)
	waitActive(t, ctx, cs, cases)
	runCases(t, ctx, c, cases)
	compare(t, "--scope rbac", cases, false)

	denied := 0
	for _, tc := range cases {
		if !tc.want.Allowed {
			denied++
		}
	}
	t.Logf("--scope rbac: %d pods denied, %d admitted", denied, len(cases)-denied)
}

// TestTranslateVAPWarnMode converts every PSP with --scope cluster and
// --mode warn: nothing is rejected, and exactly the pods the model denies
// get the policy's warning, word for word.
func TestTranslateVAPWarnMode(t *testing.T) {
	corpus := loadTranslateCorpus(t)
	c := framework.Start(t, framework.Options{Version: "v1.30", ExtraAPIServerArgs: trAPIServerArgs})
	ctx := t.Context()
	cs := quietClient(t, c)
	applyClusterObjects(t, c, corpus)

	set, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn})
	if err != nil {
		t.Fatal(err)
	}
	policy, binding := renderVAP(t, set)
	if got := binding.Spec.ValidationActions; !slices.Equal(got, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}) {
		t.Fatalf("validationActions = %v, want [Warn]", got)
	}
	var cases []*trCase
	for _, pod := range corpus.pods {
		cases = append(cases, &trCase{pod: pod, namespace: pod.Namespace, policy: policy.Name, want: set.Evaluate(corpus.prepared(pod, pod.Namespace), nil)})
	}
	createEphemeralBases(t, ctx, cs, cases)
	createPolicy(t, ctx, cs, policy, binding)
	// Wait for the first warning.
	var probe *trCase
	for _, tc := range cases {
		if !tc.want.Allowed && !tc.ephemeral() {
			probe = tc
			break
		}
	}
	if probe != nil {
		deadline := time.Now().Add(60 * time.Second)
		for {
			runCases(t, ctx, c, []*trCase{probe})
			if trPolicyWarning(probe.warnings) != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	runCases(t, ctx, c, cases)
	compare(t, "--mode warn", cases, true)

	t.Run("convert reads PSPs from files and RBAC from the cluster; kubectl applies its output", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		streams, _, out, errOut := genericiooptions.NewTestIOStreams()
		root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
		root.SetArgs([]string{"convert", "-e", "vap,psa", "--pss-version", "v1.30", "--output-dir", dir,
			"--kubeconfig", c.Kubeconfig(framework.AdminUser), "--live", "-f", filepath.Join(trCorpusDir, "psps.yaml")})
		if code := cmd.Execute(root, streams); code != cmd.ExitOK {
			t.Fatalf("convert: exit %d\n%s%s", code, out, errOut)
		}
		// The live RBAC must give the same usability table as the files.
		live, err := os.ReadFile(filepath.Join(dir, "vap-validatingadmissionpolicy-psp-migrate.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		set, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeRBAC})
		if err != nil {
			t.Fatal(err)
		}
		fromFiles, _ := renderVAP(t, set)
		fromLive := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		if err := yaml.UnmarshalStrict(live, fromLive); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromLive.Spec, fromFiles.Spec) {
			t.Errorf("policy converted with the live RBAC differs from the one converted from the corpus files")
		}
		stdout, stderr, err := c.Kubectl(t, framework.AdminUser, "apply", "--dry-run=server", "-f", dir)
		if err != nil {
			t.Fatalf("kubectl apply --dry-run=server: %v\n%s%s", err, stdout, stderr)
		}
		for _, want := range []string{"validatingadmissionpolicy.admissionregistration.k8s.io/psp-migrate", "namespace/team-a"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("kubectl apply output lacks %q:\n%s", want, stdout)
			}
		}
	})
}
