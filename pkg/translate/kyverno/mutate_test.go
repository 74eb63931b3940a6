package kyverno

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

// mutatePSPs are two PSPs with defaults, for a hand-made --scope rbac set
// whose usability does not overlap.
var mutatePSPs = translatetest.DefaultingPSPs

func TestRenderKyvernoMutate(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	psps := mutatePSPs()
	rbacSet := &translate.PolicySet{
		Options: translate.Options{Scope: translate.ScopeRBAC, Mode: translate.ModeEnforce, ExcludeNamespaces: []string{"kube-system"}, ToolVersion: "1.2.3", Mutate: true},
		// Sorted by name, as Compile sorts them.
		Policies: []translate.Policy{translate.CompilePolicy(&psps[1]), translate.CompilePolicy(&psps[0])},
		Usability: rbac.UseTable{
			"team":   {Namespaces: []string{"apps"}},
			"agents": {ServiceAccounts: []string{"monitoring/node-exporter"}},
		},
	}
	oneSet, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeRBAC, PSPs: []string{"restricted"}, ToolVersion: "1.2.3", Mutate: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		set    *translate.PolicySet
		golden string
		rules  []string
	}{
		{"one PSP", oneSet, "kyverno-mutate-one-psp.yaml", []string{"seccomp-default", "container-defaults"}},
		{"rbac, usability apart", rbacSet, "kyverno-mutate-rbac.yaml", []string{"psp0-container-defaults", "psp1-pod-defaults", "psp1-seccomp-default", "psp1-container-defaults"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, data := enginetest.Render(t, Engine{}, translate.Input{Set: tt.set, Options: tt.set.Options})
			translatetest.CheckGolden(t, tt.golden, data)
			if len(out.Objects) != 2 {
				t.Fatalf("rendered %d objects, want the validate and the mutate ClusterPolicy", len(out.Objects))
			}
			u := out.Objects[1].Object.(*unstructured.Unstructured)
			if u.GetName() != translate.ObjectName(tt.set)+"-defaults" || out.Objects[1].FileName != "kyverno-clusterpolicy-"+u.GetName()+".yaml" {
				t.Errorf("name %s, file %s", u.GetName(), out.Objects[1].FileName)
			}
			if u.GetLabels()[translate.LabelManagedBy] != translate.ManagedByValue || u.GetAnnotations()[translate.AnnotationSourcePSPs] == "" || u.GetAnnotations()[autogenAnnotation] != "none" {
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
				if len(pre) == 0 || pre[0].(map[string]any)["key"] != createOnly {
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
					t.Errorf("policy uses %s, unknown to Kyverno %s", newer, MinVersion)
				}
			}
		})
	}
}

func TestRenderKyvernoMutateAmbiguous(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	tests := []struct {
		name string
		opts translate.Options
		want []string
	}{
		{"cluster scope, two PSPs", translate.Options{Scope: translate.ScopeCluster, Mutate: true}, []string{"--scope cluster", "agents.host, restricted", "--psp"}},
		{"rbac scope, overlapping users", translate.Options{Scope: translate.ScopeRBAC, Mutate: true}, []string{"agents.host and restricted (everywhere)", "--psp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := translate.Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := Engine{}
			_, err = r.Render(translate.Input{Set: set, Options: set.Options})
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
	set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options}); len(out.Objects) != 1 {
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

func TestRenderKyvernoMutateVariableInDefault(t *testing.T) {
	p := mutatePSPs()[0]
	p.Annotations[psp.AppArmorDefaultProfileAnnotation] = "localhost/{{request.object.metadata.name}}"
	set := &translate.PolicySet{Options: translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeEnforce, ExcludeNamespaces: []string{}, Mutate: true}, Policies: []translate.Policy{translate.CompilePolicy(&p)}}
	r := Engine{}
	if _, err := r.Render(translate.Input{Set: set, Options: set.Options}); err == nil || !strings.Contains(err.Error(), "variable") {
		t.Errorf("error %v, want one about a Kyverno variable", err)
	}
}

// TestSeccompField: the patch value carries exactly the field
// psp.SeccompProfileForAnnotation gives.
func TestSeccompField(t *testing.T) {
	for _, tt := range []struct {
		annotation string
		want       map[string]any
	}{
		{"runtime/default", map[string]any{"type": "RuntimeDefault"}},
		{"docker/default", map[string]any{"type": "RuntimeDefault"}},
		{"unconfined", map[string]any{"type": "Unconfined"}},
		{"localhost/a.json", map[string]any{"type": "Localhost", "localhostProfile": "a.json"}},
		{"localhost/", nil},
		{"other", nil},
	} {
		t.Run(tt.annotation, func(t *testing.T) {
			if got := seccompField(tt.annotation); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("seccompField(%q) = %v, want %v", tt.annotation, got, tt.want)
			}
		})
	}
}
