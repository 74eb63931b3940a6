package translate

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
)

// The Kyverno releases the kyverno engine targets, pinned here and only
// here.
const (
	// KyvernoAPIVersion is the API version of the ClusterPolicy the kyverno
	// engine writes.
	KyvernoAPIVersion = "kyverno.io/v1"
	// KyvernoKind is the kind of the policy.
	KyvernoKind = "ClusterPolicy"
	// KyvernoMinVersion is the oldest Kyverno release that evaluates the
	// policy: the capitalised Enforce/Audit actions, match/exclude any
	// blocks and the JMESPath function items (v1.7), on the Kubernetes
	// releases that still serve PodSecurityPolicy (1.24 and 1.25).
	KyvernoMinVersion = "v1.8"
	// KyvernoEphemeralMinVersion is the first release whose webhook sends
	// the pods/ephemeralcontainers subresource to policies matching Pod
	// (an older one without the fix never sees ephemeral containers).
	KyvernoEphemeralMinVersion = "v1.9"
	// KyvernoWarnMinVersion is the first release that knows
	// spec.emitWarning, which --mode warn sets.
	KyvernoWarnMinVersion = "v1.13"
)

func init() {
	register(kyvernoRenderer{})
	buildinfo.RegisterComponent(EngineKyverno, KyvernoAPIVersion+" "+KyvernoKind+", JMESPath deny conditions (Kyverno >= "+KyvernoMinVersion+
		"; ephemeral containers >= "+KyvernoEphemeralMinVersion+"; --mode warn >= "+KyvernoWarnMinVersion+")")
}

// kyvernoRenderer writes one classic Kyverno ClusterPolicy with one rule
// whose deny condition is a single JMESPath expression: the pod is denied
// when no PSP it may use admits it (PolicySet.kyvernoDenyExpression).
// Kyverno ANDs rules and policies, so the OR over PSPs must live inside one
// condition. The policy uses nothing newer than KyvernoMinVersion (no
// validate.cel, no per-rule failureAction), so that clusters still on
// Kubernetes 1.24 or 1.25 can run it with the Kyverno they have.
type kyvernoRenderer struct{}

func (kyvernoRenderer) Engine() string       { return EngineKyverno }
func (kyvernoRenderer) NeedsPolicySet() bool { return true }

// kyvernoRuleName is the name of the policy's only rule.
const kyvernoRuleName = "pod-security-policies"

// kyvernoOperations is true for a pod CREATE and for an UPDATE of the
// pods/ephemeralcontainers subresource. Absent request fields read as null
// (no substitution error), and the result is always a boolean.
const kyvernoOperations = "{{ (request.operation == 'CREATE' && !(request.subResource)) || (request.operation == 'UPDATE' && request.subResource == 'ephemeralcontainers') }}"

// kyvernoAutogenAnnotation turns off Kyverno's rules for pod controllers:
// PSP checked pods, never their controllers (a Deployment whose pods it
// rejected was still stored), and a generated rule would judge the
// template as written, without the API defaults and the service account
// token volume the pod gets, so it would disagree with the pod rule. Pods
// made by controllers are checked as pods all the same.
const kyvernoAutogenAnnotation = "pod-policies.kyverno.io/autogen-controllers"

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

// kyvernoActions maps --mode to validationFailureAction. Kyverno has no
// warn action: warn audits (policy reports) and asks for warnings with
// emitWarning.
var kyvernoActions = map[Mode]string{
	ModeEnforce: "Enforce",
	ModeAudit:   "Audit",
	ModeWarn:    "Audit",
}

func (kyvernoRenderer) Render(in Input) (Output, error) {
	set := in.Set
	if set == nil {
		return Output{}, errors.New("kyverno: no policies to render")
	}
	action, ok := kyvernoActions[set.Options.Mode]
	if !ok {
		return Output{}, fmt.Errorf("kyverno: invalid mode %q", set.Options.Mode)
	}
	name := objectName(set)
	deny, warnings := set.kyvernoDenyExpression()
	labels, annotations := provenance(EngineKyverno, set.PSPNames(), set.Options)
	annotations[AnnotationScope] = string(set.Options.Scope)
	annotations[AnnotationMode] = string(set.Options.Mode)
	annotations[kyvernoAutogenAnnotation] = "none"

	rule := clusterPolicyRule{
		Name:  kyvernoRuleName,
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
		Preconditions: &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: kyvernoOperations, Operator: "Equals", Value: true}}},
		Validate: clusterPolicyValidate{
			Message: kyvernoMessage(set),
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
	if set.Options.Mode == ModeWarn {
		spec.EmitWarning = new(true)
		warnings = append(warnings, fmt.Sprintf("kyverno: --mode warn writes an Audit policy with spec.emitWarning, which Kyverno before %s does not know: there it only writes policy reports, and `kubectl apply` with strict field validation refuses the field (remove it for such releases)", KyvernoWarnMinVersion))
	}
	specMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		return Output{}, fmt.Errorf("kyverno: ClusterPolicy %s: %w", name, err)
	}
	policy := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	policy.SetAPIVersion(KyvernoAPIVersion)
	policy.SetKind(KyvernoKind)
	policy.SetName(name)
	policy.SetLabels(labels)
	policy.SetAnnotations(annotations)

	out := Output{Objects: []Object{
		{Engine: EngineKyverno, Object: policy, FileName: fileName(EngineKyverno, KyvernoKind, name)},
	}}
	if set.Options.Mutate {
		mutate, w, err := set.kyvernoMutatePolicy(mutateName(name))
		if err != nil {
			return Output{}, fmt.Errorf("--mutate: %w", err)
		}
		if mutate != nil {
			out.Objects = append(out.Objects, Object{Engine: EngineKyverno, Object: mutate, FileName: fileName(EngineKyverno, KyvernoKind, mutate.GetName())})
		}
		warnings = append(warnings, w...)
	}
	out.Warnings = append(out.Warnings, requesterWarnings(set)...)
	out.Warnings = append(out.Warnings, skippedWarnings(set)...)
	out.Warnings = append(out.Warnings, warnings...)
	return out, nil
}

// kyvernoMessage names the converted PSPs. It is constant: Kyverno
// substitutes variables in messages too, and a message that failed to
// substitute would hide the denial's reason.
func kyvernoMessage(set *PolicySet) string {
	return "the pod satisfies no PodSecurityPolicy it may use (converted by kubectl psp-migrate from " + strings.Join(set.PSPNames(), ", ") + ")"
}
