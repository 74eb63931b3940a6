package translate

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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

const psaLabelPrefix = "pod-security.kubernetes.io/"

// psaModeKeys are the labels each --mode writes: enforce writes the
// audit's whole recommendation; audit and warn write only their own mode,
// so nothing is rejected.
var psaModeKeys = map[Mode][]string{
	ModeEnforce: {"enforce", "enforce-version", "audit", "audit-version", "warn", "warn-version"},
	ModeAudit:   {"audit", "audit-version"},
	ModeWarn:    {"warn", "warn-version"},
}

// psaRenderer writes a Namespace manifest per namespace carrying the
// labels; `kubectl apply` merges them into the existing namespace. A
// namespace whose current labels disagree with the recommendation is left
// out, with a warning, unless Options.Force.
type psaRenderer struct{}

func init() { register(psaRenderer{}) }

func (psaRenderer) Engine() string       { return EnginePSA }
func (psaRenderer) NeedsPolicySet() bool { return false }

func (psaRenderer) Render(in Input) (Output, error) {
	opts, err := in.Options.withDefaults()
	if err != nil {
		return Output{}, err
	}
	keys := psaModeKeys[opts.Mode]
	var out Output
	plans := append([]NamespacePlan(nil), in.Namespaces...)
	sort.Slice(plans, func(i, j int) bool { return plans[i].Name < plans[j].Name })
	for _, ns := range plans {
		if contains(opts.ExcludeNamespaces, ns.Name) {
			continue
		}
		labels := map[string]string{}
		var conflicts []string
		for _, k := range keys {
			full := psaLabelPrefix + k
			v, ok := ns.Labels[full]
			if !ok {
				continue
			}
			labels[full] = v
			if c, ok := ns.Conflicts[full]; ok {
				conflicts = append(conflicts, c)
			}
		}
		if len(labels) == 0 {
			continue
		}
		if len(conflicts) > 0 {
			if !opts.Force {
				out.Warnings = append(out.Warnings, fmt.Sprintf("namespace %s not written: its current labels differ from the recommendation (%s); review them, or overwrite with --force",
					ns.Name, strings.Join(conflicts, "; ")))
				continue
			}
			out.Warnings = append(out.Warnings, fmt.Sprintf("namespace %s: overwriting current labels (--force): %s", ns.Name, strings.Join(conflicts, "; ")))
		}
		if _, ok := labels[psaLabelPrefix+"enforce"]; ok {
			// Only the enforce label admits or rejects pods: audit and warn
			// loosen nothing.
			for _, l := range ns.ProtectionLost {
				out.Warnings = append(out.Warnings, fmt.Sprintf("namespace %s: protection lost: %s", ns.Name, l))
			}
			if len(ns.NotCounted) > 0 {
				out.Warnings = append(out.Warnings, fmt.Sprintf("namespace %s: not counted in the recommendation, rejected by PodSecurityPolicy today with no pod running: %s",
					ns.Name, strings.Join(ns.NotCounted, ", ")))
			}
		}
		if !ns.Found {
			out.Warnings = append(out.Warnings, fmt.Sprintf("namespace %s was not read (no Namespace object); applying its manifest creates it", ns.Name))
		}
		// Provenance goes into annotations only: the namespace is the
		// user's, and a managed-by label would claim it for the tool.
		_, annotations := provenance(EnginePSA, ns.PSPs, opts)
		annotations[AnnotationMode] = string(opts.Mode)
		obj := &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns.Name, Labels: labels, Annotations: annotations},
		}
		out.Objects = append(out.Objects, Object{Engine: EnginePSA, Object: obj, FileName: fileName(EnginePSA, "Namespace", ns.Name)})
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
