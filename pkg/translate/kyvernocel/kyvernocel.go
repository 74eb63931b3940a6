// Package kyvernocel renders the rule model as a Kyverno ValidatingPolicy
// (policies.kyverno.io), which evaluates the same CEL program as the vap
// engine.
package kyvernocel

import (
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/vap"
)

// The Kyverno release the kyverno-cel engine targets, pinned here and only
// here.
const (
	// APIVersion is the API version of the ValidatingPolicy the
	// kyverno-cel engine writes.
	APIVersion = "policies.kyverno.io/v1"
	// MinVersion is the oldest Kyverno release that serves APIVersion
	// (ValidatingPolicy became stable, as v1, in 1.17).
	MinVersion = "v1.17"
	// Kind is the kind of the policy.
	Kind = "ValidatingPolicy"
)

// Engine writes one Kyverno ValidatingPolicy holding every converted PSP as
// the CEL program the vap engine uses (translate.PolicySet.CEL): Kyverno
// evaluates the same expressions, with the same variables, as
// ValidatingAdmissionPolicy does, so the OR over PSPs carries over intact
// and no rule of the model needs a warning.
type Engine struct{}

// Name implements translate.Engine.
func (Engine) Name() string { return translate.EngineKyvernoCEL }

// Component implements translate.Engine.
func (Engine) Component() string {
	return APIVersion + " " + Kind + " (Kyverno >= " + MinVersion + ")"
}

// NeedsPolicySet implements translate.Engine.
func (Engine) NeedsPolicySet() bool { return true }

// Prediction implements translate.Engine: the policy is the rule model's
// CEL, so the model's evaluation is the prediction.
func (Engine) Prediction() *translate.Prediction { return &translate.Prediction{} }

// The spec of a policies.kyverno.io/v1 ValidatingPolicy, limited to the
// fields this engine writes. The plugin does not import Kyverno's module
// (hundreds of dependencies for a handful of fields); the end-to-end tests
// hold these field names to the CRD of the pinned release. The fields
// Kyverno shares with ValidatingAdmissionPolicy reuse the Kubernetes types.
type validatingPolicySpec struct {
	FailurePolicy     *admissionregistrationv1.FailurePolicyType `json:"failurePolicy,omitempty"`
	ValidationActions []admissionregistrationv1.ValidationAction `json:"validationActions"`
	MatchConstraints  *admissionregistrationv1.MatchResources    `json:"matchConstraints"`
	Variables         []admissionregistrationv1.Variable         `json:"variables,omitempty"`
	Validations       []validation                               `json:"validations"`
	Evaluation        *evaluation                                `json:"evaluation,omitempty"`
	Autogen           *autogen                                   `json:"autogen,omitempty"`
}

// validation is admissionregistration/v1 Validation without reason:
// Kyverno accepts the field but never reports it, and a field that does
// nothing would only mislead the reader.
type validation struct {
	Expression        string `json:"expression"`
	Message           string `json:"message,omitempty"`
	MessageExpression string `json:"messageExpression,omitempty"`
}

type evaluation struct {
	Background *enabled `json:"background,omitempty"`
}

type enabled struct {
	Enabled bool `json:"enabled"`
}

type autogen struct {
	PodControllers            *podControllers `json:"podControllers,omitempty"`
	ValidatingAdmissionPolicy *enabled        `json:"validatingAdmissionPolicy,omitempty"`
}

type podControllers struct {
	// Controllers must be written even when empty: Kyverno reads an absent
	// list as "every pod controller".
	Controllers []string `json:"controllers"`
}

// Render implements translate.Engine.
func (Engine) Render(in translate.Input) (translate.Output, error) {
	set := in.Set
	if set == nil {
		return translate.Output{}, errors.New("kyverno-cel: no policies to render")
	}
	// --mode maps to validationActions as for vap; Audit records the
	// violation in Kyverno's policy reports rather than the API server's
	// audit log: that is where Kyverno users look.
	actions, ok := vap.ValidationActions(set.Options.Mode)
	if !ok {
		return translate.Output{}, fmt.Errorf("kyverno-cel: invalid mode %q", set.Options.Mode)
	}
	name := translate.ObjectName(set)
	prog := set.CEL()
	labels, annotations := translate.Provenance(translate.EngineKyvernoCEL, set.PSPNames(), set.Options)
	annotations[translate.AnnotationScope] = string(set.Options.Scope)
	annotations[translate.AnnotationMode] = string(set.Options.Mode)

	match := &admissionregistrationv1.MatchResources{
		// As for vap.
		ResourceRules:     vap.PodRules(),
		NamespaceSelector: translate.ExcludedNamespacesSelector(set.Options.ExcludeNamespaces),
	}
	spec := validatingPolicySpec{
		// A CEL error must not let a pod through that the PSP stopped.
		FailurePolicy:     new(admissionregistrationv1.Fail),
		ValidationActions: actions,
		MatchConstraints:  match,
		Variables:         vap.Variables(prog),
		Validations: []validation{{
			Expression:        prog.Expression,
			Message:           prog.Message,
			MessageExpression: prog.MessageExpression,
		}},
		// Background scans report the running pods the policy would reject,
		// which is what `audit -e kyverno-cel` predicts. They are sound here:
		// the program reads only the pod and request.namespace, and Kyverno
		// scans a pod as a CREATE request in the pod's namespace.
		Evaluation: &evaluation{Background: &enabled{Enabled: true}},
		Autogen: &autogen{
			// PSP checked pods, never their controllers: a Deployment whose
			// pods it rejected was still stored. Rules generated for
			// controllers would also judge the template as written, not the
			// pod as admission sees it (no API defaults, no service account
			// token volume), and so disagree with the pod rule. The pods a
			// controller creates are checked as pods all the same.
			PodControllers: &podControllers{Controllers: []string{}},
			// The vap engine writes that policy, with its binding, when
			// wanted; two engines' copies would double every denial.
			ValidatingAdmissionPolicy: &enabled{Enabled: false},
		},
	}
	specMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		return translate.Output{}, fmt.Errorf("kyverno-cel: ValidatingPolicy %s: %w", name, err)
	}
	policy := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	policy.SetAPIVersion(APIVersion)
	policy.SetKind(Kind)
	policy.SetName(name)
	policy.SetLabels(labels)
	policy.SetAnnotations(annotations)

	out := translate.Output{Objects: []translate.Object{
		{Engine: translate.EngineKyvernoCEL, Object: policy, FileName: translate.FileName(translate.EngineKyvernoCEL, Kind, name)},
	}}
	out.Warnings = append(out.Warnings, translate.RequesterWarnings(set)...)
	out.Warnings = append(out.Warnings, translate.SkippedWarnings(set)...)
	return out, nil
}
