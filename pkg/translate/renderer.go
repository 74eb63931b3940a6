package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object is one rendered manifest.
type Object struct {
	// Engine that produced it.
	Engine string
	// Object is the typed object with its TypeMeta set.
	Object runtime.Object
	// FileName is the object's file under --output-dir.
	FileName string
}

// Input is what engines render from. Policy engines read Set; the psa
// engine reads Namespaces.
type Input struct {
	Set        *PolicySet
	Namespaces []NamespacePlan
	Options    Options
}

// NamespacePlan is the audit's Pod Security Admission recommendation for
// one namespace (report.Namespace, without importing the report package,
// which will itself carry this package's verdicts).
type NamespacePlan struct {
	Name string
	// Labels are the recommended pod-security.kubernetes.io/* labels.
	Labels map[string]string
	// Conflicts are current labels that differ from Labels, one line each
	// ("key: current → recommended: effect").
	Conflicts map[string]string
	// Found is false when no Namespace object was read.
	Found bool
	// PSPs admit the namespace's pods today; they name the object's source.
	PSPs []string
	// ProtectionLost are the audit's protection-lost messages: what the
	// labels allow that every PSP usable here forbids today. Each becomes
	// a warning when the labels are written.
	ProtectionLost []string
	// NotCounted names the workloads the recommendation ignores because
	// PSP admission rejects them today and they run no pod.
	NotCounted []string
}

// Output is an engine's rendering.
type Output struct {
	Objects []Object
	// Warnings are for the user (written to stderr as "Warning: …").
	Warnings []string
}

// Engine is one target of `convert -e`, implemented by a package under
// pkg/translate (vap, kyverno, ...). pkg/translate/engines lists them: the
// core knows none of them, so that each can be built, tested and read on
// its own.
type Engine interface {
	// Name is the -e value, e.g. "vap".
	Name() string
	// Component is what `kubectl psp-migrate version` lists for the
	// engine: the API versions and releases its output targets.
	Component() string
	// NeedsPolicySet is true for engines that convert PSPs (as opposed to
	// psa, which works from the audit's namespace recommendations).
	NeedsPolicySet() bool
	// Render produces the objects. It must not write anywhere.
	Render(in Input) (Output, error)
	// Prediction says how the engine's output decides, for the per-pod
	// prediction of `audit -e`; nil for an engine without one (psa: the
	// audit's pss verdicts already are its prediction).
	Prediction() *Prediction
}

// Prediction tells the Predictor where an engine's output departs from
// the rule model's OR over the PSPs a pod may use. The zero value departs
// in nothing: the prediction is PolicySet.Evaluate.
type Prediction struct {
	// RequesterBlind is set for engines that cannot select pods by who
	// creates them (their renderer warns): the prediction ignores
	// requester grants, as their output does. Engines with AppliedPSPs
	// ignore them through it.
	RequesterBlind bool
	// EnginePolicy is set for engines whose output enforces some rules
	// differently from the rule model, because the engine cannot express
	// them exactly (the renderer warns about each): it returns policy i of
	// set as the output enforces it, the same PSP with the rules the
	// engine could not express replaced by what it renders instead. The
	// prediction evaluates what is rendered, not what the PSP meant.
	EnginePolicy func(set *PolicySet, i int) Policy
	// AppliedPSPs is set for engines that cannot OR the converted PSPs the
	// way PSP admission did: their per-PSP policies each apply to the pods
	// they match and all must pass (Gatekeeper constraints). It returns
	// the indexes into set.Policies of the PSPs whose policies check a pod
	// of service account sa in namespace. The prediction then follows the
	// engine, not PSP admission, so that the audit shows what this
	// engine's output would really do.
	AppliedPSPs func(set *PolicySet, namespace, sa string) []int
}

// Engine names, the -e values. They are the vocabulary shared by the
// report, readiness and the engine packages, whose Name returns them.
const (
	EngineVAP        = "vap"
	EnginePSA        = "psa"
	EngineKyverno    = "kyverno"
	EngineKyvernoCEL = "kyverno-cel"
	EngineKubewarden = "kubewarden"
	EngineGatekeeper = "gatekeeper"
)

// Labels and annotations on every rendered object, so that a cluster
// operator can tell what produced a policy, from which PSPs, with which
// tool version.
const (
	LabelManagedBy        = "app.kubernetes.io/managed-by"
	ManagedByValue        = "kubectl-psp-migrate"
	LabelEngine           = "psp-migrate.io/engine"
	LabelToolVersion      = "psp-migrate.io/version"
	LabelPSP              = "psp-migrate.io/psp"
	AnnotationSourcePSPs  = "psp-migrate.io/source-psps"
	AnnotationToolVersion = "psp-migrate.io/tool-version"
	AnnotationScope       = "psp-migrate.io/scope"
	AnnotationMode        = "psp-migrate.io/mode"
)

var labelValueRE = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

// labelValue returns v if it is a valid label value, else "" (the
// annotation then carries the exact value).
func labelValue(v string) (string, bool) {
	if len(v) > 63 || !labelValueRE.MatchString(v) {
		return "", false
	}
	return v, true
}

// Provenance returns the labels and annotations naming the engine, the
// source PSPs and the tool version.
func Provenance(engine string, psps []string, opts Options) (labels, annotations map[string]string) {
	version := opts.ToolVersion
	if version == "" {
		version = "dev"
	}
	labels = map[string]string{LabelManagedBy: ManagedByValue, LabelEngine: engine}
	if v, ok := labelValue(version); ok {
		labels[LabelToolVersion] = v
	}
	if len(psps) == 1 {
		if v, ok := labelValue(psps[0]); ok {
			labels[LabelPSP] = v
		}
	}
	annotations = map[string]string{AnnotationToolVersion: version}
	if len(psps) > 0 {
		annotations[AnnotationSourcePSPs] = strings.Join(psps, ",")
	}
	return labels, annotations
}

// ObjectName is the name of a policy object converted from psps: all of
// them gives "psp-migrate", a selection "psp-migrate-<names>", shortened
// with a hash when too long for a resource name.
func ObjectName(set *PolicySet) string {
	if len(set.Options.PSPs) == 0 {
		return "psp-migrate"
	}
	name := "psp-migrate-" + strings.Join(set.PSPNames(), "-")
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:50], "-.") + "-" + hex.EncodeToString(sum[:])[:10]
}

// FileName builds "<engine>-<kind>-<name>.yaml".
func FileName(engine, kind, name string) string {
	return fmt.Sprintf("%s-%s-%s.yaml", engine, strings.ToLower(kind), name)
}

// toUnstructured converts a typed object for printing, without the fields
// a freshly built object only has by accident (a null creationTimestamp, an
// empty spec or status).
func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	if ts, found, _ := unstructured.NestedFieldNoCopy(m, "metadata", "creationTimestamp"); found && ts == nil {
		unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	}
	for _, f := range []string{"spec", "status"} {
		if st, found, _ := unstructured.NestedMap(m, f); found && len(st) == 0 {
			delete(m, f)
		}
	}
	return u, nil
}

// SkippedWarnings tell, for every engine, which PSPs were not converted.
func SkippedWarnings(set *PolicySet) []string {
	var out []string
	for _, s := range set.Skipped {
		out = append(out, fmt.Sprintf("PodSecurityPolicy %q not converted: admission never used it (%v)", s.Name, s.Errors))
	}
	return out
}

// ExcludedNamespacesSelector selects every namespace but the excluded ones,
// by the name label the API server sets on every namespace since 1.21; nil
// when none is excluded.
func ExcludedNamespacesSelector(excluded []string) *metav1.LabelSelector {
	if len(excluded) == 0 {
		return nil
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key:      "kubernetes.io/metadata.name",
		Operator: metav1.LabelSelectorOpNotIn,
		Values:   slices.Clone(excluded),
	}}}
}
