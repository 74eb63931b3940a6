// Package kyverno renders the rule model as a classic Kyverno ClusterPolicy
// whose deny condition is a JMESPath expression (jmespath.go), and with
// --mutate the PSPs' defaults as a mutate ClusterPolicy (mutate.go).
package kyverno

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// The Kyverno releases the kyverno engine targets, pinned here and only
// here.
const (
	// APIVersion is the API version of the ClusterPolicy the kyverno
	// engine writes.
	APIVersion = "kyverno.io/v1"
	// Kind is the kind of the policy.
	Kind = "ClusterPolicy"
	// MinVersion is the oldest Kyverno release that evaluates the
	// policy: the capitalised Enforce/Audit actions, match/exclude any
	// blocks and the JMESPath function items (v1.7), on the Kubernetes
	// releases that still serve PodSecurityPolicy (1.24 and 1.25).
	MinVersion = "v1.8"
	// EphemeralMinVersion is the first release whose webhook sends
	// the pods/ephemeralcontainers subresource to policies matching Pod
	// (an older one without the fix never sees ephemeral containers).
	EphemeralMinVersion = "v1.9"
	// WarnMinVersion is the first release that knows
	// spec.emitWarning, which --mode warn sets.
	WarnMinVersion = "v1.13"
)

// Engine writes one classic Kyverno ClusterPolicy with one rule whose deny
// condition is a single JMESPath expression: the pod is denied when no PSP
// it may use admits it (denyExpression).
// Kyverno ANDs rules and policies, so the OR over PSPs must live inside one
// condition. The policy uses nothing newer than MinVersion (no
// validate.cel, no per-rule failureAction), so that clusters still on
// Kubernetes 1.24 or 1.25 can run it with the Kyverno they have.
type Engine struct{}

// Name implements translate.Engine.
func (Engine) Name() string { return translate.EngineKyverno }

// Component implements translate.Engine.
func (Engine) Component() string {
	return APIVersion + " " + Kind + ", JMESPath deny conditions (Kyverno >= " + MinVersion +
		"; ephemeral containers >= " + EphemeralMinVersion + "; --mode warn >= " + WarnMinVersion + ")"
}

// NeedsPolicySet implements translate.Engine.
func (Engine) NeedsPolicySet() bool { return true }

// Prediction implements translate.Engine: the deny condition is the rule
// model's, rule for rule (jmespath_test.go holds them to each other).
func (Engine) Prediction() *translate.Prediction { return &translate.Prediction{} }

// ruleName is the name of the policy's only rule.
const ruleName = "pod-security-policies"

// operations is true for a pod CREATE and for an UPDATE of the
// pods/ephemeralcontainers subresource. Absent request fields read as null
// (no substitution error), and the result is always a boolean.
const operations = "{{ (request.operation == 'CREATE' && !(request.subResource)) || (request.operation == 'UPDATE' && request.subResource == 'ephemeralcontainers') }}"

// autogenAnnotation turns off Kyverno's rules for pod controllers:
// PSP checked pods, never their controllers (a Deployment whose pods it
// rejected was still stored), and a generated rule would judge the
// template as written, without the API defaults and the service account
// token volume the pod gets, so it would disagree with the pod rule. Pods
// made by controllers are checked as pods all the same.
const autogenAnnotation = "pod-policies.kyverno.io/autogen-controllers"

// The spec of a kyverno.io/v1 ClusterPolicy, limited to the fields this
// engine writes and to fields that Kyverno v1.8 already had: an unknown
// field is refused by `kubectl apply` (strict field validation) or
// silently dropped. The plugin does not import Kyverno's module; the
// end-to-end tests hold these names to the CRD of the pinned release.
type clusterPolicySpec struct {
	ValidationFailureAction string `json:"validationFailureAction"`
	// Background is false: PSP never re-checked stored pods, and the
	// condition reads request.operation and request.namespace, which a
	// background scan does not have.
	Background    bool   `json:"background"`
	FailurePolicy string `json:"failurePolicy"`
	// EmitWarning is only written for --mode warn (Kyverno >= v1.13).
	EmitWarning *bool               `json:"emitWarning,omitempty"`
	Rules       []clusterPolicyRule `json:"rules"`
}

type clusterPolicyRule struct {
	Name          string                   `json:"name"`
	Match         clusterPolicyMatch       `json:"match"`
	Exclude       *clusterPolicyMatch      `json:"exclude,omitempty"`
	Preconditions *clusterPolicyConditions `json:"preconditions,omitempty"`
	Validate      clusterPolicyValidate    `json:"validate"`
}

type clusterPolicyMatch struct {
	Any []clusterPolicyFilter `json:"any"`
}

type clusterPolicyFilter struct {
	Resources clusterPolicyResources `json:"resources"`
}

type clusterPolicyResources struct {
	Kinds      []string `json:"kinds,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}

type clusterPolicyConditions struct {
	Any []clusterPolicyCondition `json:"any,omitempty"`
	All []clusterPolicyCondition `json:"all,omitempty"`
}

type clusterPolicyCondition struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

type clusterPolicyValidate struct {
	Message string            `json:"message"`
	Deny    clusterPolicyDeny `json:"deny"`
}

type clusterPolicyDeny struct {
	Conditions clusterPolicyConditions `json:"conditions"`
}

// modeActions maps --mode to validationFailureAction. Kyverno has no
// warn action: warn audits (policy reports) and asks for warnings with
// emitWarning.
var modeActions = map[translate.Mode]string{
	translate.ModeEnforce: "Enforce",
	translate.ModeAudit:   "Audit",
	translate.ModeWarn:    "Audit",
}

// Render implements translate.Engine.
func (Engine) Render(in translate.Input) (translate.Output, error) {
	set := in.Set
	if set == nil {
		return translate.Output{}, errors.New("kyverno: no policies to render")
	}
	action, ok := modeActions[set.Options.Mode]
	if !ok {
		return translate.Output{}, fmt.Errorf("kyverno: invalid mode %q", set.Options.Mode)
	}
	name := translate.ObjectName(set)
	deny, warnings := denyExpression(set)
	labels, annotations := translate.Provenance(translate.EngineKyverno, set.PSPNames(), set.Options)
	annotations[translate.AnnotationScope] = string(set.Options.Scope)
	annotations[translate.AnnotationMode] = string(set.Options.Mode)
	annotations[autogenAnnotation] = "none"

	rule := clusterPolicyRule{
		Name:  ruleName,
		Match: clusterPolicyMatch{Any: []clusterPolicyFilter{{Resources: clusterPolicyResources{Kinds: []string{"Pod"}}}}},
		// PSP checked pods on create; ephemeral containers arrive later
		// through their subresource, which Kyverno sends to Pod rules.
		// Plain updates are left alone, as with vap: the checked fields are
		// immutable, and checking them would block label changes on pods
		// admitted before the policy existed. Kyverno v1.8 has no
		// operations in match, hence a precondition. It also leaves out the
		// CREATE of the old pod that Kyverno >= v1.13 evaluates on an
		// update (allowExistingViolations, a field v1.8 does not know):
		// that the pod already failed must not let a failing ephemeral
		// container through.
		Preconditions: &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: operations, Operator: "Equals", Value: true}}},
		Validate: clusterPolicyValidate{
			Message: message(set),
			Deny: clusterPolicyDeny{Conditions: clusterPolicyConditions{All: []clusterPolicyCondition{
				{Key: "{{ " + deny + " }}", Operator: "Equals", Value: true},
			}}},
		},
	}
	if ex := set.Options.ExcludeNamespaces; len(ex) > 0 {
		rule.Exclude = &clusterPolicyMatch{Any: []clusterPolicyFilter{{Resources: clusterPolicyResources{Namespaces: append([]string(nil), ex...)}}}}
	}
	spec := clusterPolicySpec{
		ValidationFailureAction: action,
		Background:              false,
		// An error (a JMESPath that cannot be evaluated) must not let a pod
		// through that the PSP stopped.
		FailurePolicy: "Fail",
		Rules:         []clusterPolicyRule{rule},
	}
	if set.Options.Mode == translate.ModeWarn {
		spec.EmitWarning = new(true)
		warnings = append(warnings, fmt.Sprintf("kyverno: --mode warn writes an Audit policy with spec.emitWarning, which Kyverno before %s does not know: there it only writes policy reports, and `kubectl apply` with strict field validation refuses the field (remove it for such releases)", WarnMinVersion))
	}
	specMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		return translate.Output{}, fmt.Errorf("kyverno: ClusterPolicy %s: %w", name, err)
	}
	policy := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	policy.SetAPIVersion(APIVersion)
	policy.SetKind(Kind)
	policy.SetName(name)
	policy.SetLabels(labels)
	policy.SetAnnotations(annotations)

	out := translate.Output{Objects: []translate.Object{
		{Engine: translate.EngineKyverno, Object: policy, FileName: translate.FileName(translate.EngineKyverno, Kind, name)},
	}}
	if set.Options.Mutate {
		mutate, w, err := mutatePolicy(set, mutateName(name))
		if err != nil {
			return translate.Output{}, fmt.Errorf("--mutate: %w", err)
		}
		if mutate != nil {
			out.Objects = append(out.Objects, translate.Object{Engine: translate.EngineKyverno, Object: mutate, FileName: translate.FileName(translate.EngineKyverno, Kind, mutate.GetName())})
		}
		warnings = append(warnings, w...)
	}
	out.Warnings = append(out.Warnings, translate.RequesterWarnings(set)...)
	out.Warnings = append(out.Warnings, translate.SkippedWarnings(set)...)
	out.Warnings = append(out.Warnings, warnings...)
	return out, nil
}

// message names the converted PSPs. It is constant: Kyverno
// substitutes variables in messages too, and a message that failed to
// substitute would hide the denial's reason.
func message(set *translate.PolicySet) string {
	return "the pod satisfies no PodSecurityPolicy it may use (converted by kubectl psp-migrate from " + strings.Join(set.PSPNames(), ", ") + ")"
}
