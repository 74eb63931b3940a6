// Package vap renders the rule model as the built-in
// ValidatingAdmissionPolicy: one policy holding every converted PSP as the
// core's CEL program (translate.PolicySet.CEL), and one binding.
package vap

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// The versions the vap engine targets, pinned here and only here so that a
// bump is one reviewed change (and shows in `kubectl psp-migrate version`).
const (
	// APIVersion is the API version of the ValidatingAdmissionPolicy and
	// ValidatingAdmissionPolicyBinding objects written by the vap engine.
	APIVersion = "admissionregistration.k8s.io/v1"
	// MinKubernetes is the oldest Kubernetes release that serves
	// APIVersion and the CEL features the rendering uses (optional types,
	// the strings extension's split/replace/indexOf, HomogeneousAggregateLiterals).
	MinKubernetes = "v1.30"
)

// Engine writes one ValidatingAdmissionPolicy holding every converted PSP
// (see translate.PolicySet.CEL for why one) and one binding that selects
// the namespaces and the validation actions.
type Engine struct{}

// Name implements translate.Engine.
func (Engine) Name() string { return translate.EngineVAP }

// Component implements translate.Engine.
func (Engine) Component() string { return APIVersion + " (Kubernetes >= " + MinKubernetes + ")" }

// NeedsPolicySet implements translate.Engine.
func (Engine) NeedsPolicySet() bool { return true }

// Prediction implements translate.Engine: the policy is the rule model's
// CEL, so the model's evaluation is the prediction.
func (Engine) Prediction() *translate.Prediction { return &translate.Prediction{} }

// modeActions maps --mode to validationActions.
var modeActions = map[translate.Mode][]admissionregistrationv1.ValidationAction{
	translate.ModeEnforce: {admissionregistrationv1.Deny},
	translate.ModeAudit:   {admissionregistrationv1.Audit},
	translate.ModeWarn:    {admissionregistrationv1.Warn},
}

// ValidationActions returns the validationActions of a --mode, and false
// for a mode this engine does not know. kyverno-cel's ValidatingPolicy
// takes the same field, with the same meaning.
func ValidationActions(m translate.Mode) ([]admissionregistrationv1.ValidationAction, bool) {
	a, ok := modeActions[m]
	return slices.Clone(a), ok
}

// Render implements translate.Engine.
func (Engine) Render(in translate.Input) (translate.Output, error) {
	set := in.Set
	if set == nil {
		return translate.Output{}, errors.New("vap: no policies to render")
	}
	actions, ok := modeActions[set.Options.Mode]
	if !ok {
		return translate.Output{}, fmt.Errorf("vap: invalid mode %q", set.Options.Mode)
	}
	name := translate.ObjectName(set)
	prog := set.CEL()
	labels, annotations := translate.Provenance(translate.EngineVAP, set.PSPNames(), set.Options)
	annotations[translate.AnnotationScope] = string(set.Options.Scope)
	annotations[translate.AnnotationMode] = string(set.Options.Mode)
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Labels: maps.Clone(labels), Annotations: maps.Clone(annotations)}
	}

	// PSP admission answered 403 Forbidden; keep that for clients that
	// branch on it.
	reason := metav1.StatusReasonForbidden
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: meta(),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			// A CEL error must not let a pod through that the PSP stopped.
			FailurePolicy: new(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: PodRules(),
			},
			Variables: Variables(prog),
			Validations: []admissionregistrationv1.Validation{{
				Expression:        prog.Expression,
				Message:           prog.Message,
				MessageExpression: prog.MessageExpression,
				Reason:            &reason,
			}},
		},
	}

	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: meta(),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: actions,
		},
	}
	if sel := translate.ExcludedNamespacesSelector(set.Options.ExcludeNamespaces); sel != nil {
		binding.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: sel}
	}

	out := translate.Output{Objects: []translate.Object{
		{Engine: translate.EngineVAP, Object: policy, FileName: translate.FileName(translate.EngineVAP, "ValidatingAdmissionPolicy", name)},
		{Engine: translate.EngineVAP, Object: binding, FileName: translate.FileName(translate.EngineVAP, "ValidatingAdmissionPolicyBinding", name)},
	}}
	out.Warnings = append(out.Warnings, translate.RequesterWarnings(set)...)
	out.Warnings = append(out.Warnings, translate.SkippedWarnings(set)...)
	return out, nil
}

// PodRules are what the CEL engines match (vap and kyverno-cel): PSP checked pods on create;
// ephemeral containers arrive later through their subresource. Plain
// updates are left alone: the security fields are immutable, and checking
// them would block label changes on pods admitted before the policy
// existed.
func PodRules() []admissionregistrationv1.NamedRuleWithOperations {
	return []admissionregistrationv1.NamedRuleWithOperations{
		podRule("pods", admissionregistrationv1.Create),
		podRule("pods/ephemeralcontainers", admissionregistrationv1.Update),
	}
}

// Variables are the program's variables as admission API types.
func Variables(prog translate.CELProgram) []admissionregistrationv1.Variable {
	out := make([]admissionregistrationv1.Variable, len(prog.Variables))
	for i, v := range prog.Variables {
		out[i] = admissionregistrationv1.Variable{Name: v.Name, Expression: v.Expression}
	}
	return out
}

func podRule(resource string, op admissionregistrationv1.OperationType) admissionregistrationv1.NamedRuleWithOperations {
	scope := admissionregistrationv1.NamespacedScope
	return admissionregistrationv1.NamedRuleWithOperations{
		RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{op},
			Rule: admissionregistrationv1.Rule{
				APIGroups:   []string{""},
				APIVersions: []string{"v1"},
				Resources:   []string{resource},
				Scope:       &scope,
			},
		},
	}
}
