package translate

import (
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
)

// The Kyverno release the kyverno-cel engine targets, pinned here and only
// here.
const (
	// KyvernoCELAPIVersion is the API version of the ValidatingPolicy the
	// kyverno-cel engine writes.
	KyvernoCELAPIVersion = "policies.kyverno.io/v1"
	// KyvernoCELMinVersion is the oldest Kyverno release that serves
	// KyvernoCELAPIVersion (ValidatingPolicy became stable, as v1, in 1.17).
	KyvernoCELMinVersion = "v1.17"
	// KyvernoCELKind is the kind of the policy.
	KyvernoCELKind = "ValidatingPolicy"
)

func init() {
	register(kyvernoCELRenderer{})
	buildinfo.RegisterComponent(EngineKyvernoCEL, KyvernoCELAPIVersion+" "+KyvernoCELKind+" (Kyverno >= "+KyvernoCELMinVersion+")")
}

// kyvernoCELRenderer writes one Kyverno ValidatingPolicy holding every
// converted PSP as the CEL program the vap engine uses (PolicySet.CEL):
// Kyverno evaluates the same expressions, with the same variables, as
// ValidatingAdmissionPolicy does, so the OR over PSPs carries over intact
// and no rule of the model needs a warning.
type kyvernoCELRenderer struct{}

func (kyvernoCELRenderer) Engine() string       { return EngineKyvernoCEL }
func (kyvernoCELRenderer) NeedsPolicySet() bool { return true }

// kyvernoCELActions maps --mode to validationActions. Audit records the
// violation in Kyverno's policy reports rather than the API server's audit
// log: that is where Kyverno users look.
var kyvernoCELActions = map[Mode][]admissionregistrationv1.ValidationAction{
	ModeEnforce: {admissionregistrationv1.Deny},
	ModeAudit:   {admissionregistrationv1.Audit},
	ModeWarn:    {admissionregistrationv1.Warn},
}

// The spec of a policies.kyverno.io/v1 ValidatingPolicy, limited to the
// fields this engine writes. The plugin does not import Kyverno's module
// (hundreds of dependencies for a handful of fields); the end-to-end tests
// hold these field names to the CRD of the pinned release. The fields
// Kyverno shares with ValidatingAdmissionPolicy reuse the Kubernetes types.
type kyvernoValidatingPolicySpec struct {
	FailurePolicy     *admissionregistrationv1.FailurePolicyType `json:"failurePolicy,omitempty"`
	ValidationActions []admissionregistrationv1.ValidationAction `json:"validationActions"`
	MatchConstraints  *admissionregistrationv1.MatchResources    `json:"matchConstraints"`
	Variables         []admissionregistrationv1.Variable         `json:"variables,omitempty"`
	Validations       []kyvernoValidation                        `json:"validations"`
	Evaluation        *kyvernoEvaluation                         `json:"evaluation,omitempty"`
	Autogen           *kyvernoAutogen                            `json:"autogen,omitempty"`
}

// kyvernoValidation is admissionregistration/v1 Validation without reason:
// Kyverno accepts the field but never reports it, and a field that does
// nothing would only mislead the reader.
type kyvernoValidation struct {
	Expression        string `json:"expression"`
	Message           string `json:"message,omitempty"`
	MessageExpression string `json:"messageExpression,omitempty"`
}

type kyvernoEvaluation struct {
	Background *kyvernoEnabled `json:"background,omitempty"`
}

type kyvernoEnabled struct {
	Enabled bool `json:"enabled"`
}

type kyvernoAutogen struct {
	PodControllers            *kyvernoPodControllers `json:"podControllers,omitempty"`
	ValidatingAdmissionPolicy *kyvernoEnabled        `json:"validatingAdmissionPolicy,omitempty"`
}

type kyvernoPodControllers struct {
	// Controllers must be written even when empty: Kyverno reads an absent
	// list as "every pod controller".
	Controllers []string `json:"controllers"`
}

func (kyvernoCELRenderer) Render(in Input) (Output, error) {
	set := in.Set
	if set == nil {
		return Output{}, errors.New("kyverno-cel: no policies to render")
	}
	actions, ok := kyvernoCELActions[set.Options.Mode]
	if !ok {
		return Output{}, fmt.Errorf("kyverno-cel: invalid mode %q", set.Options.Mode)
	}
	name := objectName(set)
	prog := set.CEL()
	labels, annotations := provenance(EngineKyvernoCEL, set.PSPNames(), set.Options)
	annotations[AnnotationScope] = string(set.Options.Scope)
	annotations[AnnotationMode] = string(set.Options.Mode)

	match := &admissionregistrationv1.MatchResources{
		// As for vap.
		ResourceRules:     podRules(),
		NamespaceSelector: excludedNamespacesSelector(set.Options.ExcludeNamespaces),
	}
	spec := kyvernoValidatingPolicySpec{
		// A CEL error must not let a pod through that the PSP stopped.
		FailurePolicy:     new(admissionregistrationv1.Fail),
		ValidationActions: actions,
		MatchConstraints:  match,
		Variables:         prog.admissionVariables(),
		Validations: []kyvernoValidation{{
			Expression:        prog.Expression,
			Message:           prog.Message,
			MessageExpression: prog.MessageExpression,
		}},
		// Background scans report the running pods the policy would reject,
		// which is what `audit -e kyverno-cel` predicts. They are sound here:
		// the program reads only the pod and request.namespace, and Kyverno
		// scans a pod as a CREATE request in the pod's namespace.
		Evaluation: &kyvernoEvaluation{Background: &kyvernoEnabled{Enabled: true}},
		Autogen: &kyvernoAutogen{
			// PSP checked pods, never their controllers: a Deployment whose
			// pods it rejected was still stored. Rules generated for
			// controllers would also judge the template as written, not the
			// pod as admission sees it (no API defaults, no service account
			// token volume), and so disagree with the pod rule. The pods a
			// controller creates are checked as pods all the same.
			PodControllers: &kyvernoPodControllers{Controllers: []string{}},
			// The vap engine writes that policy, with its binding, when
			// wanted; two engines' copies would double every denial.
			ValidatingAdmissionPolicy: &kyvernoEnabled{Enabled: false},
		},
	}
	specMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		return Output{}, fmt.Errorf("kyverno-cel: ValidatingPolicy %s: %w", name, err)
	}
	policy := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	policy.SetAPIVersion(KyvernoCELAPIVersion)
	policy.SetKind(KyvernoCELKind)
	policy.SetName(name)
	policy.SetLabels(labels)
	policy.SetAnnotations(annotations)

	out := Output{Objects: []Object{
		{Engine: EngineKyvernoCEL, Object: policy, FileName: fileName(EngineKyvernoCEL, KyvernoCELKind, name)},
	}}
	out.Warnings = append(out.Warnings, requesterWarnings(set)...)
	out.Warnings = append(out.Warnings, skippedWarnings(set)...)
	return out, nil
}
