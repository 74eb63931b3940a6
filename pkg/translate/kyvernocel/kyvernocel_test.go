package kyvernocel

import (
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

// policyDoc is the whole rendered document, for a strict decode: a
// field the renderer writes but this type (and so the review of the spec
// against Kyverno's CRD) does not know fails the test.
type policyDoc struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              validatingPolicySpec `json:"spec"`
}

func TestRenderKyvernoCEL(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	tests := []struct {
		name    string
		opts    translate.Options
		golden  string
		actions []admissionregistrationv1.ValidationAction
		exclude []string
	}{
		{"rbac scope, enforce, default exclusions", translate.Options{Scope: translate.ScopeRBAC, ToolVersion: "1.2.3"},
			"kyverno-cel-rbac.yaml", []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}, translate.DefaultExcludedNamespaces},
		{"cluster scope, warn, no exclusions", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn, ExcludeNamespaces: []string{}, ToolVersion: "1.2.3"},
			"kyverno-cel-cluster-warn.yaml", []admissionregistrationv1.ValidationAction{admissionregistrationv1.Warn}, nil},
		{"one PSP, audit", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeAudit, PSPs: []string{"agents.host"}, ExcludeNamespaces: []string{"ops"}, ToolVersion: "1.2.3+dirty"},
			"kyverno-cel-one-psp-audit.yaml", []admissionregistrationv1.ValidationAction{admissionregistrationv1.Audit}, []string{"ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := translate.Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, data := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options})
			translatetest.CheckGolden(t, tt.golden, data)
			if len(out.Objects) != 1 {
				t.Fatalf("rendered %d objects, want one ValidatingPolicy", len(out.Objects))
			}
			ms, err := translate.Marshal(out.Objects)
			if err != nil {
				t.Fatal(err)
			}
			m := ms[0]
			if want := "kyverno-cel-validatingpolicy-" + translate.ObjectName(set) + ".yaml"; m.FileName != want {
				t.Errorf("file name %s, want %s", m.FileName, want)
			}
			var doc policyDoc
			if err := yaml.UnmarshalStrict(m.YAML, &doc); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			if doc.APIVersion != APIVersion || doc.Kind != "ValidatingPolicy" || doc.Name != translate.ObjectName(set) {
				t.Errorf("object is %s %s %s", doc.APIVersion, doc.Kind, doc.Name)
			}
			if doc.Labels[translate.LabelManagedBy] != translate.ManagedByValue || doc.Labels[translate.LabelEngine] != translate.EngineKyvernoCEL ||
				doc.Annotations[translate.AnnotationSourcePSPs] != strings.Join(set.PSPNames(), ",") ||
				doc.Annotations[translate.AnnotationToolVersion] != tt.opts.ToolVersion ||
				doc.Annotations[translate.AnnotationScope] != string(set.Options.Scope) || doc.Annotations[translate.AnnotationMode] != string(set.Options.Mode) {
				t.Errorf("provenance: labels %v annotations %v", doc.Labels, doc.Annotations)
			}
			spec := doc.Spec
			if !slices.Equal(spec.ValidationActions, tt.actions) {
				t.Errorf("validationActions = %v, want %v", spec.ValidationActions, tt.actions)
			}
			if spec.FailurePolicy == nil || *spec.FailurePolicy != admissionregistrationv1.Fail {
				t.Errorf("failurePolicy = %v, want Fail", spec.FailurePolicy)
			}
			sel := spec.MatchConstraints.NamespaceSelector
			if tt.exclude == nil {
				if sel != nil {
					t.Errorf("namespaceSelector = %+v, want none", sel)
				}
			} else if sel == nil || len(sel.MatchExpressions) != 1 || sel.MatchExpressions[0].Key != "kubernetes.io/metadata.name" ||
				sel.MatchExpressions[0].Operator != metav1.LabelSelectorOpNotIn || !slices.Equal(sel.MatchExpressions[0].Values, tt.exclude) {
				t.Errorf("namespaceSelector = %+v, want kubernetes.io/metadata.name NotIn %v", sel, tt.exclude)
			}
			var resources []string
			for _, r := range spec.MatchConstraints.ResourceRules {
				resources = append(resources, strings.Join(r.Resources, ",")+":"+string(r.Operations[0]))
			}
			if want := []string{"pods:CREATE", "pods/ephemeralcontainers:UPDATE"}; !slices.Equal(resources, want) {
				t.Errorf("resource rules %v, want %v", resources, want)
			}

			// The CEL is the vap engine's, expression for expression.
			prog := set.CEL()
			if len(spec.Variables) != len(prog.Variables) {
				t.Fatalf("%d variables, want %d", len(spec.Variables), len(prog.Variables))
			}
			for i, v := range prog.Variables {
				if spec.Variables[i].Name != v.Name || spec.Variables[i].Expression != v.Expression {
					t.Errorf("variable %d = %s, want %s", i, spec.Variables[i].Name, v.Name)
				}
			}
			if len(spec.Validations) != 1 || spec.Validations[0].Expression != prog.Expression ||
				spec.Validations[0].MessageExpression != prog.MessageExpression || spec.Validations[0].Message != prog.Message {
				t.Errorf("validations differ from PolicySet.CEL: %+v", spec.Validations)
			}

			// Pod-controller autogen is off, and said so in the output: an
			// absent list would mean every controller.
			if spec.Autogen == nil || spec.Autogen.PodControllers == nil || spec.Autogen.PodControllers.Controllers == nil ||
				len(spec.Autogen.PodControllers.Controllers) != 0 {
				t.Errorf("autogen = %+v, want podControllers.controllers: []", spec.Autogen)
			}
			if !strings.Contains(string(m.YAML), "controllers: []") {
				t.Errorf("rendered YAML lacks an explicit empty controllers list:\n%s", m.YAML)
			}
			if spec.Autogen.ValidatingAdmissionPolicy == nil || spec.Autogen.ValidatingAdmissionPolicy.Enabled {
				t.Errorf("autogen.validatingAdmissionPolicy = %+v, want enabled: false", spec.Autogen.ValidatingAdmissionPolicy)
			}
			if spec.Evaluation == nil || spec.Evaluation.Background == nil || !spec.Evaluation.Background.Enabled {
				t.Errorf("evaluation = %+v, want background enabled", spec.Evaluation)
			}
			if len(out.Warnings) != len(set.Skipped) {
				t.Errorf("warnings %q, want one per skipped PSP (%d)", out.Warnings, len(set.Skipped))
			}
		})
	}
}

func TestRenderKyvernoCELErrors(t *testing.T) {
	r := Engine{}
	if !r.NeedsPolicySet() {
		t.Error("kyverno-cel does not ask for a policy set")
	}
	if _, err := r.Render(translate.Input{}); err == nil {
		t.Error("rendering without a policy set succeeded")
	}
	set, err := translate.Compile(translatetest.LoadInput(t, translatetest.Input), translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set.Options.Mode = "loud"
	if _, err := r.Render(translate.Input{Set: set}); err == nil || !strings.Contains(err.Error(), `invalid mode "loud"`) {
		t.Errorf("bad mode: err = %v", err)
	}
}

func TestKyvernoCELComponent(t *testing.T) {
	if c := (Engine{}).Component(); !strings.Contains(c, APIVersion) || !strings.Contains(c, MinVersion) {
		t.Errorf("component = %q", c)
	}
}
