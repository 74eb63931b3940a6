package translate

import (
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// vapRenderer writes one ValidatingAdmissionPolicy holding every converted
// PSP (see PolicySet.CEL for why one) and one binding that selects the
// namespaces and the validation actions.
type vapRenderer struct{}

func init() { register(vapRenderer{}) }

func (vapRenderer) Engine() string       { return EngineVAP }
func (vapRenderer) NeedsPolicySet() bool { return true }

// vapActions maps --mode to validationActions.
var vapActions = map[Mode][]admissionregistrationv1.ValidationAction{
	ModeEnforce: {admissionregistrationv1.Deny},
	ModeAudit:   {admissionregistrationv1.Audit},
	ModeWarn:    {admissionregistrationv1.Warn},
}

func (vapRenderer) Render(in Input) (Output, error) {
	set := in.Set
	if set == nil {
		return Output{}, errors.New("vap: no policies to render")
	}
	actions, ok := vapActions[set.Options.Mode]
	if !ok {
		return Output{}, fmt.Errorf("vap: invalid mode %q", set.Options.Mode)
	}
	name := objectName(set)
	prog := set.CEL()
	labels, annotations := provenance(EngineVAP, set.PSPNames(), set.Options)
	annotations[AnnotationScope] = string(set.Options.Scope)
	annotations[AnnotationMode] = string(set.Options.Mode)
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Labels: cloneMap(labels), Annotations: cloneMap(annotations)}
	}

	// PSP admission answered 403 Forbidden; keep that for clients that
	// branch on it.
	reason := metav1.StatusReasonForbidden
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: VAPAPIVersion, Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: meta(),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			// A CEL error must not let a pod through that the PSP stopped.
			FailurePolicy: new(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: podRules(),
			},
			Variables: prog.admissionVariables(),
			Validations: []admissionregistrationv1.Validation{{
				Expression:        prog.Expression,
				Message:           prog.Message,
				MessageExpression: prog.MessageExpression,
				Reason:            &reason,
			}},
		},
	}

	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: VAPAPIVersion, Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: meta(),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: actions,
		},
	}
	if sel := excludedNamespacesSelector(set.Options.ExcludeNamespaces); sel != nil {
		binding.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: sel}
	}

	out := Output{Objects: []Object{
		{Engine: EngineVAP, Object: policy, FileName: fileName(EngineVAP, "ValidatingAdmissionPolicy", name)},
		{Engine: EngineVAP, Object: binding, FileName: fileName(EngineVAP, "ValidatingAdmissionPolicyBinding", name)},
	}}
	out.Warnings = append(out.Warnings, requesterWarnings(set)...)
	out.Warnings = append(out.Warnings, skippedWarnings(set)...)
	return out, nil
}

// podRules are what the CEL engines match: PSP checked pods on create;
// ephemeral containers arrive later through their subresource. Plain
// updates are left alone: the security fields are immutable, and checking
// them would block label changes on pods admitted before the policy
// existed.
func podRules() []admissionregistrationv1.NamedRuleWithOperations {
	return []admissionregistrationv1.NamedRuleWithOperations{
		podRule("pods", admissionregistrationv1.Create),
		podRule("pods/ephemeralcontainers", admissionregistrationv1.Update),
	}
}

// admissionVariables are the program's variables as admission API types.
func (prog CELProgram) admissionVariables() []admissionregistrationv1.Variable {
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

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
