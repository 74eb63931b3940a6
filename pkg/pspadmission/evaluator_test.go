package pspadmission

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// usableBy grants the PSPs to the pod's service account (any namespace).
func usableBy(names ...string) func(rbac.User, string, string) bool {
	return func(u rbac.User, _ string, pspName string) bool {
		if !strings.HasPrefix(u.Name, "system:serviceaccount:") {
			return false
		}
		for _, n := range names {
			if n == pspName {
				return true
			}
		}
		return false
	}
}

func mutating(name string) psp.PodSecurityPolicy {
	return permissive(name, func(p *psp.PodSecurityPolicy) {
		p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
	})
}

func rejecting(name string) psp.PodSecurityPolicy {
	return permissive(name, func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.ConfigMap} })
}

func admittedBy(r Result) string {
	if r.AdmittedBy == nil {
		return ""
	}
	return *r.AdmittedBy
}

func TestSelectionOrder(t *testing.T) {
	withHostPath := withVolume(hostPathVolume("h", "/data"), false)
	tests := []struct {
		name       string
		psps       []psp.PodSecurityPolicy
		canUse     func(rbac.User, string, string) bool
		pod        *corev1.Pod
		want       string
		wantReason string
		wantErrs   map[string][]string
	}{{
		name: "a non-mutating PSP beats an earlier mutating one",
		psps: []psp.PodSecurityPolicy{permissive("z-plain"), mutating("a-mutating")},
		pod:  newPod(),
		want: "z-plain",
	}, {
		name: "among non-mutating PSPs the first by name",
		psps: []psp.PodSecurityPolicy{permissive("b"), permissive("a")},
		pod:  newPod(),
		want: "a",
	}, {
		name: "among mutating PSPs the first by name",
		psps: []psp.PodSecurityPolicy{mutating("b"), mutating("a")},
		pod:  newPod(),
		want: "a",
	}, {
		name:     "a rejecting PSP is skipped, its errors kept",
		psps:     []psp.PodSecurityPolicy{rejecting("a"), mutating("b")},
		pod:      newPod(withHostPath),
		want:     "b",
		wantErrs: map[string][]string{"a": {`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`}},
	}, {
		name:       "a PSP that is not usable does not count, nor do its errors",
		psps:       []psp.PodSecurityPolicy{rejecting("a"), permissive("b")},
		canUse:     usableBy("a"),
		pod:        newPod(withHostPath),
		wantReason: `PodSecurityPolicy: unable to admit pod: [spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used]`,
		wantErrs:   map[string][]string{"a": {`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`}},
	}, {
		name:       "nothing usable",
		psps:       []psp.PodSecurityPolicy{permissive("a")},
		canUse:     usableBy(),
		pod:        newPod(),
		wantReason: "PodSecurityPolicy: unable to admit pod: []",
	}, {
		name:       "no PSP at all rejects every pod",
		pod:        newPod(),
		wantReason: "PodSecurityPolicy: no providers available to validate pod request",
	}, {
		name:       "only PSPs admission cannot build: same as none",
		psps:       []psp.PodSecurityPolicy{permissive("a", func(p *psp.PodSecurityPolicy) { p.Spec.RunAsUser.Rule = psp.RunAsUserStrategyMustRunAs })},
		pod:        newPod(),
		wantReason: "PodSecurityPolicy: no providers available to validate pod request",
	}, {
		name: "errors of several PSPs in name order",
		psps: []psp.PodSecurityPolicy{rejecting("b"), permissive("a", func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.Secret} })},
		pod:  newPod(withHostPath),
		wantReason: `PodSecurityPolicy: unable to admit pod: [spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used ` +
			`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used]`,
		wantErrs: map[string][]string{
			"a": {`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`},
			"b": {`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			canUse := tt.canUse
			if canUse == nil {
				canUse = usableBy("a", "b", "z-plain", "a-mutating")
			}
			e, _ := NewEvaluator(tt.psps, userFunc(canUse))
			r := e.Evaluate(Request{Pod: tt.pod})
			if got := admittedBy(r); got != tt.want {
				t.Errorf("admitted by %q, want %q (reason %s)", got, tt.want, r.Reason)
			}
			if r.Reason != tt.wantReason {
				t.Errorf("reason:\n got  %s\n want %s", r.Reason, tt.wantReason)
			}
			if !reflect.DeepEqual(r.Errors, tt.wantErrs) {
				t.Errorf("errors = %q, want %q", r.Errors, tt.wantErrs)
			}
		})
	}
}

// TestAuthorization uses the real RBAC index through its UseTable: the
// pod's service account is checked without system:authenticated, the
// requester with its groups, and a pod whose creator is unknown is created
// by some authenticated user all the same.
func TestAuthorization(t *testing.T) {
	role := rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "use-a"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"a"}}},
	}
	binding := func(kind, name string) rbacv1.ClusterRoleBinding {
		return rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "b"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "use-a"},
			Subjects:   []rbacv1.Subject{{Kind: kind, APIGroup: "rbac.authorization.k8s.io", Name: name}},
		}
	}
	psps := []psp.PodSecurityPolicy{permissive("a")}
	mirror := newPod(func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} })
	ctrl, _ := rbac.ControllerUser("ReplicaSet", rbac.ControllerServiceAccounts)
	alice := &rbac.User{Name: "alice", Groups: []string{"system:authenticated"}}
	node := &rbac.User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	tests := []struct {
		name    string
		binding rbacv1.ClusterRoleBinding
		pod     *corev1.Pod
		who     *rbac.User
		want    bool
	}{
		{"system:authenticated reaches a bare pod of unknown creator", binding("Group", "system:authenticated"), newPod(), nil, true},
		{"system:authenticated reaches a controller's pod", binding("Group", "system:authenticated"), newPod(), &ctrl, true},
		{"system:authenticated reaches a mirror pod (no service account) through the kubelet", binding("Group", "system:authenticated"), mirror, node, true},
		{"a user grant does not reach an unknown creator", binding("User", "alice"), newPod(), nil, false},
		{"a user grant reaches that user's pods", binding("User", "alice"), newPod(), alice, true},
		{"system:serviceaccounts reaches the pod's service account", binding("Group", "system:serviceaccounts"), newPod(), nil, true},
		{"system:serviceaccounts does not reach a pod without one", binding("Group", "system:serviceaccounts"), mirror, node, false},
		{"system:serviceaccounts reaches a controller's pods through the controller too", binding("Group", "system:serviceaccounts"), mirror, &ctrl, true},
		{"system:masters may use every PSP", binding("User", "nobody"), newPod(), &rbac.User{Name: "admin", Groups: []string{"system:masters", "system:authenticated"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := rbac.NewIndex([]rbacv1.ClusterRole{role}, []rbacv1.ClusterRoleBinding{tt.binding}, nil, nil)
			e, _ := NewEvaluator(psps, tableFor(ix, psps))
			r := e.Evaluate(Request{Pod: tt.pod, Requester: tt.who})
			if got := r.AdmittedBy != nil; got != tt.want {
				t.Errorf("admitted = %v (usable %v, %s), want %v", got, r.Usable, r.Reason, tt.want)
			}
		})
	}

	// A RoleBinding in the pod's namespace to its service account.
	rb := rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "sa", Namespace: "ns1"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "use-a"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: "ns1"}},
	}
	ix := rbac.NewIndex([]rbacv1.ClusterRole{role}, nil, nil, []rbacv1.RoleBinding{rb})
	e, _ := NewEvaluator(psps, tableFor(ix, psps))
	if r := e.Evaluate(Request{Pod: newPod()}); admittedBy(r) != "a" {
		t.Errorf("namespaced grant: %s", r.Reason)
	}
	other := newPod(func(p *corev1.Pod) { p.Namespace = "ns2" })
	if r := e.Evaluate(Request{Pod: other}); r.AdmittedBy != nil {
		t.Errorf("grant in ns1 admitted a pod in ns2")
	}
}

func TestInvalidPSPs(t *testing.T) {
	psps := []psp.PodSecurityPolicy{
		permissive("ok"),
		permissive("bad-rule", func(p *psp.PodSecurityPolicy) { p.Spec.FSGroup.Rule = "" }),
		permissive("no-ranges", func(p *psp.PodSecurityPolicy) {
			p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs}
			p.Spec.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs}
		}),
		permissive("ok"),
	}
	e, invalid := NewEvaluator(psps, nil)
	want := []InvalidPSP{
		{Name: "bad-rule", Errors: []string{`spec.fsGroup.rule: Unsupported value: "": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`}},
		{Name: "no-ranges", Errors: []string{"MustRunAs requires SELinuxOptions", "ranges must be supplied for MustRunAs"}},
		{Name: "ok", Errors: []string{`metadata.name: Duplicate value: "ok": another PodSecurityPolicy has this name`}},
	}
	if !reflect.DeepEqual(invalid, want) {
		t.Errorf("invalid = %+v", invalid)
	}
	if len(e.policies) != 1 {
		t.Errorf("%d policies compiled", len(e.policies))
	}
	// The annotation naming an invalid PSP is not "missing": it exists.
	r := e.Evaluate(Request{Pod: newPod(annotate(psp.PodAnnotation, "no-ranges"))})
	if r.Drift != DriftAdmittedByOther {
		t.Errorf("drift = %q", r.Drift)
	}
}

func TestDrift(t *testing.T) {
	e, _ := NewEvaluator([]psp.PodSecurityPolicy{permissive("a"), rejecting("b")}, nil)
	hostPath := withVolume(hostPathVolume("h", "/data"), false)
	onlyB, _ := NewEvaluator([]psp.PodSecurityPolicy{rejecting("b")}, nil)
	tests := []struct {
		name string
		e    *Evaluator
		pod  *corev1.Pod
		want string
	}{
		{"same PSP", e, newPod(annotate(psp.PodAnnotation, "a")), ""},
		{"no annotation, admitted", e, newPod(), ""},
		{"other PSP now", e, newPod(annotate(psp.PodAnnotation, "b")), DriftAdmittedByOther},
		{"rejected now, annotated with an existing PSP", onlyB, newPod(hostPath, annotate(psp.PodAnnotation, "b")), DriftAdmittedByOther},
		{"PSP gone", e, newPod(annotate(psp.PodAnnotation, "gone")), DriftPSPMissing},
		{"PSP gone and rejected", onlyB, newPod(hostPath, annotate(psp.PodAnnotation, "gone")), DriftPSPMissing},
		{"no annotation, rejected", onlyB, newPod(hostPath), DriftRejectedNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.e.Evaluate(Request{Pod: tt.pod, Prepared: true})
			if r.Drift != tt.want {
				t.Errorf("drift = %q, want %q (admitted by %q)", r.Drift, tt.want, admittedBy(r))
			}
			if r.Annotation != tt.pod.Annotations[psp.PodAnnotation] {
				t.Errorf("annotation = %q", r.Annotation)
			}
		})
	}
}

func TestEvaluateDoesNotModifyInput(t *testing.T) {
	e, _ := NewEvaluator([]psp.PodSecurityPolicy{restricted("r")}, nil)
	pod := newPod(withInit, annotate("x", "y"), func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = nil })
	before := pod.DeepCopy()
	for _, prepared := range []bool{false, true} {
		e.Evaluate(Request{Pod: pod, Prepared: prepared})
		if !reflect.DeepEqual(pod, before) {
			t.Fatalf("Evaluate(Prepared=%v) modified the pod", prepared)
		}
	}
}

func TestNilPod(t *testing.T) {
	e, _ := NewEvaluator(nil, nil)
	if r := e.Evaluate(Request{}); r.AdmittedBy != nil || r.Reason == "" {
		t.Errorf("nil pod: %+v", r)
	}
}

func TestResultJSON(t *testing.T) {
	e, _ := NewEvaluator([]psp.PodSecurityPolicy{rejecting("a")}, nil)
	r := e.Evaluate(Request{Pod: newPod(withVolume(hostPathVolume("h", "/x"), false))})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"usable":["a"],"admittedBy":null,"mutated":false,"mutatedFields":[],` +
		`"errors":{"a":["spec.volumes[0]: Invalid value: \"hostPath\": hostPath volumes are not allowed to be used"]},` +
		`"reason":"PodSecurityPolicy: unable to admit pod: [spec.volumes[0]: Invalid value: \"hostPath\": hostPath volumes are not allowed to be used]",` +
		`"drift":"rejected-now"}`
	if string(b) != want {
		t.Errorf("JSON:\n got  %s\n want %s", b, want)
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	e, _ := NewEvaluator([]psp.PodSecurityPolicy{restricted("r"), mutating("m"), permissive("p")}, userFunc(usableBy("r", "m")))
	done := make(chan Result)
	for i := 0; i < 8; i++ {
		go func(i int) {
			pod := newPod(func(p *corev1.Pod) { p.Namespace = []string{"a", "b"}[i%2] })
			var r Result
			for j := 0; j < 50; j++ {
				r = e.Evaluate(Request{Pod: pod})
			}
			done <- r
		}(i)
	}
	for i := 0; i < 8; i++ {
		if r := <-done; admittedBy(r) != "m" {
			t.Errorf("admitted by %q", admittedBy(r))
		}
	}
}

// TestInvalidAfterAdmission covers pods a PSP admits but whose PSP changes
// the API server's pod validation then rejects (texts as kube-apiserver
// v1.24.17 returned them, heap addresses replaced by a placeholder).
func TestInvalidAfterAdmission(t *testing.T) {
	noEscalation := permissive("priv-noesc", func(p *psp.PodSecurityPolicy) {
		p.Spec.Privileged = true
		p.Spec.AllowPrivilegeEscalation = ptr(false)
		p.Spec.AllowedCapabilities = []corev1.Capability{"*"}
	})
	sc := func(mod string) string {
		fields := map[string]string{"Capabilities": "core.Capabilities", "Privileged": "bool", "SELinuxOptions": "core.SELinuxOptions",
			"WindowsOptions": "core.WindowsSecurityContextOptions", "RunAsUser": "int64", "RunAsGroup": "int64", "RunAsNonRoot": "bool",
			"ReadOnlyRootFilesystem": "bool", "AllowPrivilegeEscalation": "bool", "ProcMount": "core.ProcMountType", "SeccompProfile": "core.SeccompProfile"}
		var parts []string
		for _, f := range []string{"Capabilities", "Privileged", "SELinuxOptions", "WindowsOptions", "RunAsUser", "RunAsGroup", "RunAsNonRoot", "ReadOnlyRootFilesystem", "AllowPrivilegeEscalation", "ProcMount", "SeccompProfile"} {
			addr := "nil"
			if f == "AllowPrivilegeEscalation" || f == mod {
				addr = "0xc000000000"
			}
			parts = append(parts, f+":(*"+fields[f]+")("+addr+")")
		}
		return "core.SecurityContext{" + strings.Join(parts, ", ") + "}"
	}
	windows := func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Windows} }
	tests := []struct {
		name string
		psp  psp.PodSecurityPolicy
		pod  *corev1.Pod
		want string
	}{{
		name: "privileged container defaulted to no escalation",
		psp:  noEscalation,
		pod:  newPod(func(p *corev1.Pod) { p.Name = "ne-privileged" }, containerSC(func(sc *corev1.SecurityContext) { sc.Privileged = ptr(true) })),
		want: `Pod "ne-privileged" is invalid: spec.containers[0].securityContext: Invalid value: ` + sc("Privileged") +
			": cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
	}, {
		name: "CAP_SYS_ADMIN defaulted to no escalation",
		psp:  noEscalation,
		pod: newPod(func(p *corev1.Pod) { p.Name = "ne-cap" }, containerSC(func(sc *corev1.SecurityContext) {
			sc.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"CAP_SYS_ADMIN"}}
		})),
		want: `Pod "ne-cap" is invalid: spec.containers[0].securityContext: Invalid value: ` + sc("Capabilities") +
			": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
	}, {
		name: "Linux settings on a Windows pod",
		psp:  restricted("restricted"),
		pod:  newPod(func(p *corev1.Pod) { p.Name = "r-windows" }, windows),
		want: `Pod "r-windows" is invalid: [spec.securityContext.seccompProfile: Forbidden: cannot be set for a windows pod, ` +
			`spec.securityContext.fsGroup: Forbidden: cannot be set for a windows pod, ` +
			`spec.securityContext.supplementalGroups: Forbidden: cannot be set for a windows pod, ` +
			`spec.containers[0].securityContext.capabilities: Forbidden: cannot be set for a windows pod, ` +
			`spec.containers[0].securityContext.allowPrivilegeEscalation: Forbidden: cannot be set for a windows pod]`,
	}, {
		name: "a UID beyond 2^31-1 from the PSP's range",
		psp: permissive("big", func(p *psp.PodSecurityPolicy) {
			p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 3000000000, Max: 3000000000}}}
		}),
		pod:  newPod(),
		want: `Pod "p" is invalid: spec.containers[0].securityContext.runAsUser: Invalid value: 3000000000: must be between 0 and 2147483647, inclusive`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := NewEvaluator([]psp.PodSecurityPolicy{tt.psp}, nil)
			r := e.Evaluate(Request{Pod: tt.pod})
			if r.AdmittedBy != nil || r.RejectedAfter != tt.psp.Name || len(r.ValidationErrors) == 0 {
				t.Fatalf("admitted by %q, rejected after %q", admittedBy(r), r.RejectedAfter)
			}
			if r.Reason != tt.want {
				t.Errorf("reason:\n got  %s\n want %s", r.Reason, tt.want)
			}
		})
	}
	// The same PSP leaves a Windows pod alone when it sets nothing.
	e, _ := NewEvaluator([]psp.PodSecurityPolicy{permissive("p")}, nil)
	if r := e.Evaluate(Request{Pod: newPod(windows)}); admittedBy(r) != "p" {
		t.Errorf("plain Windows pod: %s", r.Reason)
	}
}

func TestRuntimeClassMustExist(t *testing.T) {
	defaulting := permissive("rc", func(p *psp.PodSecurityPolicy) {
		p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}, DefaultRuntimeClassName: ptr("wasm")}
	})
	for _, tt := range []struct {
		name    string
		opts    []Option
		pod     *corev1.Pod
		wantErr string
	}{
		{"unknown classes are not checked", nil, newPod(), ""},
		{"the PSP's default does not exist", []Option{WithRuntimeClasses("gvisor")}, newPod(), `pod rejected: RuntimeClass "wasm" not found`},
		{"no RuntimeClass at all", []Option{WithRuntimeClasses()}, newPod(), `pod rejected: RuntimeClass "wasm" not found`},
		{"the default exists", []Option{WithRuntimeClasses("gvisor", "wasm")}, newPod(), ""},
		{"the pod's own class", []Option{WithRuntimeClasses("wasm")}, newPod(func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr("kata") }), `pod rejected: RuntimeClass "kata" not found`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := NewEvaluator([]psp.PodSecurityPolicy{defaulting}, nil, tt.opts...)
			r := e.Evaluate(Request{Pod: tt.pod})
			if r.Reason != tt.wantErr {
				t.Errorf("reason = %q, want %q", r.Reason, tt.wantErr)
			}
			if (r.AdmittedBy == nil) != (tt.wantErr != "") || (tt.wantErr != "" && r.RejectedAfter != "rc") {
				t.Errorf("admitted by %q, rejected after %q", admittedBy(r), r.RejectedAfter)
			}
		})
	}
}
