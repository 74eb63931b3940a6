package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
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

// Input is what renderers work from. Policy engines read Set; the psa
// engine reads Namespaces.
type Input struct {
	Set        *PolicySet
	Namespaces []NamespacePlan
	Options    Options
}

// Output is a renderer's result.
type Output struct {
	Objects []Object
	// Warnings are for the user (written to stderr as "Warning: …").
	Warnings []string
}

// Renderer turns the rule model into one engine's objects. Every engine
// that converts PSPs implements it; register it in renderers.
type Renderer interface {
	// Engine is the -e value, e.g. "vap".
	Engine() string
	// NeedsPolicySet is true for engines that convert PSPs (as opposed to
	// psa, which works from the audit's namespace recommendations).
	NeedsPolicySet() bool
	// Render produces the objects. It must not write anywhere.
	Render(in Input) (Output, error)
}

// renderers are the engines `convert -e` accepts; each engine's file
// registers its renderer from init.
var renderers = map[string]Renderer{}

// register adds an engine. Two renderers for one engine is a programming
// error caught by the package's tests (TestEnginesRegistered), not at run
// time: the later one wins.
func register(r Renderer) {
	renderers[r.Engine()] = r
}

// Engine names.
const (
	EngineVAP        = "vap"
	EnginePSA        = "psa"
	EngineKyverno    = "kyverno"
	EngineKyvernoCEL = "kyverno-cel"
	EngineKubewarden = "kubewarden"
	EngineGatekeeper = "gatekeeper"
)

// Engines lists the engines with a renderer, sorted.
func Engines() []string {
	out := make([]string, 0, len(renderers))
	for e := range renderers {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// RendererFor returns the renderer of an engine.
func RendererFor(engine string) (Renderer, error) {
	if r, ok := renderers[engine]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("unknown engine %q: want one of %s", engine, strings.Join(Engines(), ", "))
}

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

// provenance returns the labels and annotations naming the engine, the
// source PSPs and the tool version.
func provenance(engine string, psps []string, opts Options) (labels, annotations map[string]string) {
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

// objectName is the name of a policy object converted from psps: all of
// them gives "psp-migrate", a selection "psp-migrate-<names>", shortened
// with a hash when too long for a resource name.
func objectName(set *PolicySet) string {
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

// fileName builds "<engine>-<kind>-<name>.yaml".
func fileName(engine, kind, name string) string {
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

// skippedWarnings tell, for every renderer, which PSPs were not converted.
func skippedWarnings(set *PolicySet) []string {
	var out []string
	for _, s := range set.Skipped {
		out = append(out, fmt.Sprintf("PodSecurityPolicy %q not converted: admission never used it (%v)", s.Name, s.Errors))
	}
	return out
}

// excludedNamespacesSelector selects every namespace but the excluded ones,
// by the name label the API server sets on every namespace since 1.21; nil
// when none is excluded.
func excludedNamespacesSelector(excluded []string) *metav1.LabelSelector {
	if len(excluded) == 0 {
		return nil
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key:      "kubernetes.io/metadata.name",
		Operator: metav1.LabelSelectorOpNotIn,
		Values:   slices.Clone(excluded),
	}}}
}
