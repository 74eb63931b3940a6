// Package psa writes the audit's Pod Security Admission recommendation as
// namespace labels: the one engine that works from namespaces, not from the
// rule model.
package psa

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

const labelPrefix = "pod-security.kubernetes.io/"

// modeKeys are the labels each --mode writes: enforce writes the
// audit's whole recommendation; audit and warn write only their own mode,
// so nothing is rejected.
var modeKeys = map[translate.Mode][]string{
	translate.ModeEnforce: {"enforce", "enforce-version", "audit", "audit-version", "warn", "warn-version"},
	translate.ModeAudit:   {"audit", "audit-version"},
	translate.ModeWarn:    {"warn", "warn-version"},
}

// MinKubernetes is the oldest release whose PodSecurity admission is on by
// default (GA in 1.25).
const MinKubernetes = "v1.25"

// Engine writes a Namespace manifest per namespace carrying the labels;
// `kubectl apply` merges them into the existing namespace. A namespace
// whose current labels disagree with the recommendation is left out, with
// a warning, unless Options.Force.
type Engine struct{}

// Name implements translate.Engine.
func (Engine) Name() string { return translate.EnginePSA }

// Component implements translate.Engine.
func (Engine) Component() string {
	return "pod-security.kubernetes.io labels (Kubernetes >= " + MinKubernetes + ")"
}

// NeedsPolicySet implements translate.Engine: psa reads Input.Namespaces.
func (Engine) NeedsPolicySet() bool { return false }

// Prediction implements translate.Engine: none, the audit's pss verdicts
// already are the prediction.
func (Engine) Prediction() *translate.Prediction { return nil }

// Render implements translate.Engine.
func (Engine) Render(in translate.Input) (translate.Output, error) {
	opts, err := in.Options.WithDefaults()
	if err != nil {
		return translate.Output{}, err
	}
	keys := modeKeys[opts.Mode]
	var out translate.Output
	plans := append([]translate.NamespacePlan(nil), in.Namespaces...)
	sort.Slice(plans, func(i, j int) bool { return plans[i].Name < plans[j].Name })
	for _, ns := range plans {
		if slices.Contains(opts.ExcludeNamespaces, ns.Name) {
			continue
		}
		labels := map[string]string{}
		var conflicts []string
		for _, k := range keys {
			full := labelPrefix + k
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
		if _, ok := labels[labelPrefix+"enforce"]; ok {
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
		_, annotations := translate.Provenance(translate.EnginePSA, ns.PSPs, opts)
		annotations[translate.AnnotationMode] = string(opts.Mode)
		obj := &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns.Name, Labels: labels, Annotations: annotations},
		}
		out.Objects = append(out.Objects, translate.Object{Engine: translate.EnginePSA, Object: obj, FileName: translate.FileName(translate.EnginePSA, "Namespace", ns.Name)})
	}
	return out, nil
}
