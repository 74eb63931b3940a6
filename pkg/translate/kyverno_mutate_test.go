package translate

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// mutatePSPs are two PSPs with defaults, for a hand-made --scope rbac set
// whose usability does not overlap.
func mutatePSPs() []psp.PodSecurityPolicy {
	return []psp.PodSecurityPolicy{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "team", Annotations: map[string]string{
				psp.AppArmorDefaultProfileAnnotation: "runtime/default",
				psp.SeccompDefaultProfileAnnotation:  "localhost/profiles/audit.json",
			}},
			Spec: psp.PodSecurityPolicySpec{
				DefaultAddCapabilities:          []corev1.Capability{"NET_RAW", "CHOWN", "NET_RAW"},
				RequiredDropCapabilities:        []corev1.Capability{"SYS_ADMIN"},
				ReadOnlyRootFilesystem:          true,
				DefaultAllowPrivilegeEscalation: new(false),
				RunAsUser:                       psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1000, Max: 1999}, {Min: 10, Max: 20}}},
				RunAsGroup:                      &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 100, Max: 199}}},
				SELinux:                         psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1"}},
				FSGroup:                         psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 700, Max: 800}}},
				SupplementalGroups:              psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 5, Max: 6}}},
				RuntimeClass:                    &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}, DefaultRuntimeClassName: new("gvisor")},
				Volumes:                         []psp.FSType{psp.All},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "agents"},
			Spec: psp.PodSecurityPolicySpec{
				AllowPrivilegeEscalation: new(false),
				RunAsUser:                psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot},
				SELinux:                  psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
				FSGroup:                  psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
				SupplementalGroups:       psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
				Volumes:                  []psp.FSType{psp.All},
			},
		},
	}
}

func TestRenderKyvernoMutate(t *testing.T) {
	inv := loadInput(t)
	psps := mutatePSPs()
	rbacSet := &PolicySet{
		Options: Options{Scope: ScopeRBAC, Mode: ModeEnforce, ExcludeNamespaces: []string{"kube-system"}, ToolVersion: "1.2.3", Mutate: true},
		// Sorted by name, as Compile sorts them.
		Policies: []Policy{CompilePolicy(&psps[1]), CompilePolicy(&psps[0])},
		Usability: rbac.UseTable{
			"team":   {Namespaces: []string{"apps"}},
			"agents": {ServiceAccounts: []string{"monitoring/node-exporter"}},
		},
	}
	oneSet, err := Compile(inv, Options{Scope: ScopeRBAC, PSPs: []string{"restricted"}, ToolVersion: "1.2.3", Mutate: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		set    *PolicySet
		golden string
		rules  []string
	}{
		{"one PSP", oneSet, "kyverno-mutate-one-psp.yaml", []string{"seccomp-default", "container-defaults"}},
		{"rbac, usability apart", rbacSet, "kyverno-mutate-rbac.yaml", []string{"psp0-container-defaults", "psp1-pod-defaults", "psp1-seccomp-default", "psp1-container-defaults"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, data := render(t, EngineKyverno, Input{Set: tt.set, Options: tt.set.Options})
			checkGolden(t, tt.golden, data)
			if len(out.Objects) != 2 {
				t.Fatalf("rendered %d objects, want the validate and the mutate ClusterPolicy", len(out.Objects))
			}
			u := out.Objects[1].Object.(*unstructured.Unstructured)
			if u.GetName() != objectName(tt.set)+"-defaults" || out.Objects[1].FileName != "kyverno-clusterpolicy-"+u.GetName()+".yaml" {
				t.Errorf("name %s, file %s", u.GetName(), out.Objects[1].FileName)
			}
			if u.GetLabels()[LabelManagedBy] != ManagedByValue || u.GetAnnotations()[AnnotationSourcePSPs] == "" || u.GetAnnotations()[kyvernoAutogenAnnotation] != "none" {
				t.Errorf("provenance or autogen missing: %v %v", u.GetLabels(), u.GetAnnotations())
			}
			rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
			var names []string
			for _, r := range rules {
				rule := r.(map[string]any)
				names = append(names, rule["name"].(string))
				if _, has := rule["exclude"]; has != (len(tt.set.Options.ExcludeNamespaces) > 0) {
					t.Errorf("rule %s: exclude block present = %t", rule["name"], has)
				}
				pre, _, _ := unstructured.NestedSlice(rule, "preconditions", "all")
				if len(pre) == 0 || pre[0].(map[string]any)["key"] != kyvernoCreate {
					t.Errorf("rule %s does not start with the CREATE precondition: %v", rule["name"], pre)
				}
			}
			if !reflect.DeepEqual(names, tt.rules) {
				t.Errorf("rules %v, want %v", names, tt.rules)
			}
			// Every variable is one {{ }} without braces inside, which
			// Kyverno's variable parser would cut short.
			for _, line := range strings.Split(string(data), "\n") {
				if i := strings.Index(line, "{{"); i >= 0 {
					inner := line[i+2:]
					j := strings.LastIndex(inner, "}}")
					if j >= 0 && strings.ContainsAny(inner[:j], "{}") {
						t.Errorf("braces inside a variable: %s", line)
					}
				}
			}
			for _, newer := range []string{"failureAction:", "cel:", "operations:", "mutateExistingOnPolicyUpdate", "patches:"} {
				if strings.Contains(string(data), newer) {
					t.Errorf("policy uses %s, unknown to Kyverno %s", newer, KyvernoMinVersion)
				}
			}
		})
	}
}

func TestRenderKyvernoMutateAmbiguous(t *testing.T) {
	inv := loadInput(t)
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"cluster scope, two PSPs", Options{Scope: ScopeCluster, Mutate: true}, []string{"--scope cluster", "agents.host, restricted", "--psp"}},
		{"rbac scope, overlapping users", Options{Scope: ScopeRBAC, Mutate: true}, []string{"agents.host and restricted (everywhere)", "--psp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := RendererFor(EngineKyverno)
			_, err = r.Render(Input{Set: set, Options: set.Options})
			if !errors.Is(err, ErrMutateAmbiguous) {
				t.Fatalf("error %v, want ErrMutateAmbiguous", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// Without --mutate the same sets render.
	set, err := Compile(inv, Options{Scope: ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := render(t, EngineKyverno, Input{Set: set, Options: set.Options}); len(out.Objects) != 1 {
		t.Errorf("without --mutate: %d objects", len(out.Objects))
	}
}

func TestUsabilityOverlap(t *testing.T) {
	tests := []struct {
		name string
		a, b *rbac.Usability
		want string
	}{
		{"nobody", &rbac.Usability{}, &rbac.Usability{Everywhere: true}, ""},
		{"everywhere", &rbac.Usability{Everywhere: true}, &rbac.Usability{ServiceAccounts: []string{"a/b"}}, "everywhere"},
		{"same namespace", &rbac.Usability{Namespaces: []string{"a", "b"}}, &rbac.Usability{Namespaces: []string{"b"}}, "namespace b"},
		{"account in namespace", &rbac.Usability{Namespaces: []string{"a"}}, &rbac.Usability{ServiceAccounts: []string{"a/x"}}, "service account a/x"},
		{"same account", &rbac.Usability{ServiceAccounts: []string{"c/x"}}, &rbac.Usability{ServiceAccounts: []string{"c/x"}}, "service account c/x"},
		{"a requester grant overlaps", &rbac.Usability{Requesters: []rbac.RequesterGrant{{Kind: "User", Name: "ci"}}}, &rbac.Usability{Namespaces: []string{"b"}}, "pods created by User ci"},
		{"apart", &rbac.Usability{Namespaces: []string{"a"}, ServiceAccounts: []string{"b/x"}}, &rbac.Usability{Namespaces: []string{"b2"}, ServiceAccounts: []string{"b/y", "c/x"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pair := range [][2]*rbac.Usability{{tt.a, tt.b}, {tt.b, tt.a}} {
				got, ok := usabilityOverlap(pair[0], pair[1])
				if got != tt.want || ok != (tt.want != "") {
					t.Errorf("overlap = %q, %t; want %q", got, ok, tt.want)
				}
			}
		})
	}
}

func TestCompileDefaults(t *testing.T) {
	psps := mutatePSPs()
	team := CompileDefaults(&psps[0])
	want := Defaults{
		RunAsUser: new(int64(1000)), RunAsGroup: new(int64(100)), FSGroup: new(int64(700)), SupplementalGroup: new(int64(5)),
		SELinux:                &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1"},
		ReadOnlyRootFilesystem: true, AllowPrivilegeEscalation: new(false),
		AddCapabilities: []string{"CHOWN", "NET_RAW"}, DropCapabilities: []string{"SYS_ADMIN"},
		SeccompProfile: "localhost/profiles/audit.json", AppArmorProfile: "runtime/default", RuntimeClassName: new("gvisor"),
	}
	if !reflect.DeepEqual(team, want) {
		t.Errorf("team defaults\n got %+v\nwant %+v", team, want)
	}
	agents := CompileDefaults(&psps[1])
	if !reflect.DeepEqual(agents, Defaults{RunAsNonRoot: true, AllowPrivilegeEscalation: new(false)}) {
		t.Errorf("agents defaults %+v", agents)
	}
	none := psp.PodSecurityPolicy{Spec: psp.PodSecurityPolicySpec{RunAsUser: psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny}}}
	if d := CompileDefaults(&none); !d.Empty() {
		t.Errorf("no defaults expected: %+v", d)
	}
	// defaultAllowPrivilegeEscalation wins over the false default.
	esc := psps[1]
	esc.Spec.DefaultAllowPrivilegeEscalation = new(true)
	esc.Spec.AllowPrivilegeEscalation = new(true)
	if d := CompileDefaults(&esc); d.AllowPrivilegeEscalation == nil || !*d.AllowPrivilegeEscalation {
		t.Errorf("allowPrivilegeEscalation default %v", d.AllowPrivilegeEscalation)
	}
}

func TestRenderKyvernoMutateVariableInDefault(t *testing.T) {
	p := mutatePSPs()[0]
	p.Annotations[psp.AppArmorDefaultProfileAnnotation] = "localhost/{{request.object.metadata.name}}"
	set := &PolicySet{Options: Options{Scope: ScopeCluster, Mode: ModeEnforce, ExcludeNamespaces: []string{}, Mutate: true}, Policies: []Policy{CompilePolicy(&p)}}
	r, _ := RendererFor(EngineKyverno)
	if _, err := r.Render(Input{Set: set, Options: set.Options}); err == nil || !strings.Contains(err.Error(), "variable") {
		t.Errorf("error %v, want one about a Kyverno variable", err)
	}
}
