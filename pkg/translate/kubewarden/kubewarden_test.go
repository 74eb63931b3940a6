package kubewarden

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/vap"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func TestRenderKubewarden(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	tests := []struct {
		name   string
		opts   translate.Options
		golden string
		kinds  []string
	}{
		{"rbac scope, enforce, default exclusions", translate.Options{Scope: translate.ScopeRBAC, ToolVersion: "1.2.3"}, "kubewarden-rbac.yaml",
			[]string{"ClusterAdmissionPolicyGroup", "ClusterAdmissionPolicyGroup"}},
		{"cluster scope, warn, no exclusions", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn, ExcludeNamespaces: []string{}, ToolVersion: "1.2.3"}, "kubewarden-cluster-warn.yaml",
			[]string{"ClusterAdmissionPolicyGroup"}},
		{"one PSP, audit", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeAudit, PSPs: []string{"agents.host"}, ToolVersion: "1.2.3+dirty"}, "kubewarden-one-psp-audit.yaml",
			slices.Repeat([]string{"ClusterAdmissionPolicy"}, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := translate.Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, data := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options})
			translatetest.CheckGolden(t, tt.golden, data)
			var kinds []string
			for _, o := range out.Objects {
				u := o.Object.(*unstructured.Unstructured)
				kinds = append(kinds, u.GetKind())
				if u.GetAPIVersion() != APIVersion {
					t.Errorf("%s: apiVersion %s", o.FileName, u.GetAPIVersion())
				}
				if u.GetLabels()[translate.LabelManagedBy] != translate.ManagedByValue || u.GetAnnotations()[translate.AnnotationSourcePSPs] == "" ||
					u.GetAnnotations()[translate.AnnotationToolVersion] != tt.opts.ToolVersion {
					t.Errorf("%s lacks provenance: labels %v annotations %v", o.FileName, u.GetLabels(), u.GetAnnotations())
				}
				wantMode := modes[set.Options.Mode]
				if m, _, _ := unstructured.NestedString(u.Object, "spec", "mode"); m != wantMode {
					t.Errorf("%s: mode %q, want %q", o.FileName, m, wantMode)
				}
				if !strings.HasPrefix(o.FileName, "kubewarden-") {
					t.Errorf("file name %s does not start with the engine", o.FileName)
				}
				_, excluded, _ := unstructured.NestedSlice(u.Object, "spec", "namespaceSelector", "matchExpressions")
				if excluded != (len(set.Options.ExcludeNamespaces) > 0) {
					t.Errorf("%s: namespaceSelector present %t, want %t", o.FileName, excluded, len(set.Options.ExcludeNamespaces) > 0)
				}
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

// TestKubewardenModulesCoverEveryRule checks that every rule of every PSP
// goes to exactly one module, and that every module referenced is pinned.
func TestKubewardenModulesCoverEveryRule(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	extra := []translate.Policy{{Name: "every-rule", Rules: []translate.Rule{
		translate.ForbidPrivileged{}, translate.ForbidHostNamespace{Namespace: "hostPID"}, translate.HostPorts{Ranges: []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 9000}}},
		translate.VolumeTypes{Allowed: []psp.FSType{psp.CephFS, psp.ConfigMap}}, translate.HostPathPrefixes{}, translate.HostPathReadOnly{}, translate.FlexVolumeDrivers{Drivers: []string{"x"}},
		translate.CSIDrivers{Drivers: []string{"y"}}, translate.RunAsUser{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 2}}},
		translate.GroupRule{Kind: "runAsGroup", Must: true, Ranges: []psp.IDRange{{Min: 1, Max: 2}}}, translate.GroupRule{Kind: "fsGroup", Ranges: []psp.IDRange{{Min: 1, Max: 2}}},
		translate.GroupRule{Kind: "supplementalGroups", Ranges: []psp.IDRange{{Min: 1, Max: 2}}}, translate.SELinux{}, translate.AllowedCapabilities{Allowed: []string{"CHOWN"}},
		translate.RequiredDropCapabilities{Required: []string{"ALL"}}, translate.ReadOnlyRootFilesystem{}, translate.ForbidPrivilegeEscalation{}, translate.PrivilegeEscalationSet{},
		translate.ForbiddenSysctls{Patterns: []string{"kernel.*"}}, translate.UnsafeSysctls{Safe: psp.SafeSysctls(), Allowed: []string{"net.core.somaxconn"}, Forbidden: []string{"kernel.*"}},
		translate.ProcMountTypes{Allowed: []string{"Default"}}, translate.RuntimeClassNames{Allowed: []string{"gvisor"}}, translate.SeccompProfiles{Unset: true}, translate.AppArmorProfiles{Required: true},
	}}}
	ident := regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*$`)
	for _, p := range append(set.Policies, extra...) {
		t.Run(p.Name, func(t *testing.T) {
			var got []translate.Rule
			for _, u := range moduleUses(&p) {
				if Modules[u.module] == "" {
					t.Errorf("module %s is not pinned", u.module)
				}
				if !ident.MatchString(memberName(p.Name, u.module, map[string]bool{})) {
					t.Errorf("member name of %s is not a CEL identifier", u.module)
				}
				got = append(got, u.rules...)
			}
			if len(got) != len(p.Rules) {
				t.Fatalf("%d rules rendered, want %d", len(got), len(p.Rules))
			}
			for _, r := range p.Rules {
				if !slices.ContainsFunc(got, func(g translate.Rule) bool { return g.ID() == r.ID() && g.Message() == r.Message() }) {
					t.Errorf("rule %s not rendered", r.ID())
				}
			}
		})
	}
	// The sysctl-psp settings keep PSP's v1.24 safe list.
	s, ok := sysctlSettings(translate.UnsafeSysctls{Safe: psp.SafeSysctls()})
	if !ok || !slices.Contains(s["allowedUnsafeSysctls"].([]any), any("net.ipv4.ip_unprivileged_port_start")) {
		t.Errorf("sysctl-psp settings %v lack the safe sysctls the module does not know", s)
	}
	if _, ok := sysctlSettings(translate.UnsafeSysctls{Allowed: []string{"net.*"}}); ok {
		t.Error("sysctl-psp accepted an allowed glob it cannot express")
	}
	if got := volumeFields([]psp.FSType{psp.CephFS, psp.ConfigMap}); !slices.Equal(got, []string{"cephfs", "configMap"}) {
		t.Errorf("volumeFields = %v", got)
	}
}

// TestKubewardenClasses checks that the matchConditions partition the pods
// the way the usability table does: each candidate service account falls in
// exactly the class holding the PSPs it may use.
func TestKubewardenClasses(t *testing.T) {
	set := &translate.PolicySet{
		Options:  translate.Options{Scope: translate.ScopeRBAC},
		Policies: []translate.Policy{{Name: "a"}, {Name: "b"}, {Name: "c"}},
		Usability: rbac.UseTable{
			"a": {Everywhere: true},
			"b": {Namespaces: []string{"apps", "web"}, ServiceAccounts: []string{"ops/deployer"}},
			"c": {ServiceAccounts: []string{"apps/admin", "web/default"}},
		},
	}
	classes := classes(set)
	// A tiny evaluator of the conditions this renderer writes.
	inList := func(expr, x string) bool {
		return strings.Contains(expr, `"`+x+`"`)
	}
	cases := []struct{ ns, sa string }{
		{"apps", "default"}, {"apps", "admin"}, {"web", "default"}, {"web", "other"}, {"ops", "deployer"}, {"ops", "default"}, {"elsewhere", "x"},
	}
	for _, c := range cases {
		var want []int
		for i := range set.Policies {
			if set.Usable(i, c.ns, c.sa, nil) {
				want = append(want, i)
			}
		}
		found := 0
		for _, cl := range classes {
			if !slices.Equal(cl.psps, want) {
				continue
			}
			found++
			saKey := c.ns + "/" + c.sa
			// The class holds the account by name, or by namespace.
			if !inList(cl.condition, saKey) && !inList(cl.condition, c.ns) && !strings.Contains(cl.condition, "!(request.namespace in") {
				t.Errorf("%s: class %v, condition %s does not name it", saKey, want, cl.condition)
			}
		}
		if found != 1 {
			t.Errorf("%s/%s: %d classes with PSPs %v, want 1 (classes %+v)", c.ns, c.sa, found, want, classes)
		}
	}
}

// TestKubewardenPredictsWhatModulesCheck: a module that skips ephemeral
// containers admits a debug container the PSP would have rejected, and the
// kubewarden prediction says so where the vap one (which checks them)
// rejects it.
func TestKubewardenPredictsWhatModulesCheck(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeCluster, PSPs: []string{"restricted"}})
	if err != nil {
		t.Fatal(err)
	}
	var base *corev1.Pod
	for i := range inv.Pods {
		if inv.Pods[i].Name == "web" {
			base = &inv.Pods[i]
		}
	}
	if base == nil || !set.Evaluate(base, nil).Allowed {
		t.Fatal("test input: apps/web must exist and be admitted by restricted")
	}
	escalating := true
	for _, tc := range []struct {
		name    string
		sc      *corev1.SecurityContext
		wantKW  bool
		wantVAP bool
	}{
		// allowPrivilegeEscalation goes to allow-privilege-escalation-psp,
		// which skips ephemeral containers.
		{"escalation in a debug container", &corev1.SecurityContext{AllowPrivilegeEscalation: &escalating}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := base.DeepCopy()
			ec := corev1.EphemeralContainer{}
			ec.Name, ec.Image = "debug", "busybox"
			ec.SecurityContext = pod.Spec.Containers[0].SecurityContext.DeepCopy()
			if ec.SecurityContext == nil {
				ec.SecurityContext = &corev1.SecurityContext{}
			}
			ec.SecurityContext.AllowPrivilegeEscalation = tc.sc.AllowPrivilegeEscalation
			pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{ec}
			p, err := translate.NewPredictor(inv, []translate.Engine{vap.Engine{}, Engine{}}, "restricted", translate.Options{Scope: translate.ScopeCluster})
			if err != nil {
				t.Fatal(err)
			}
			v := p.Pod(pod, nil)
			if got := p.Admitted(v, translate.EngineKubewarden); got != tc.wantKW {
				t.Errorf("kubewarden admitted = %v, want %v (%+v)", got, tc.wantKW, v)
			}
			if got := p.Admitted(v, translate.EngineVAP); got != tc.wantVAP {
				t.Errorf("vap admitted = %v, want %v (%+v)", got, tc.wantVAP, v)
			}
		})
	}
}
