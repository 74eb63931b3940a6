package translate

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// PolicyVerdict is what one engine's converted policy says about one pod
// for one PSP: the JSON shape of `pods[].policies[]` in the audit report.
type PolicyVerdict struct {
	// Engine is the -e value, e.g. "vap".
	Engine string `json:"engine"`
	// PSP names the PodSecurityPolicy whose converted rules were checked;
	// "" for the verdict of a pod that may use no converted PSP at all.
	PSP string `json:"psp"`
	// Allowed is true when the converted policy admits the pod through
	// this PSP: the pod may use it and passes all its rules.
	Allowed bool `json:"allowed"`
	// Reasons are the rules the pod fails, or why it may not use the PSP.
	Reasons []string `json:"reasons"`
}

// PodKey identifies a pod of the inventory.
type PodKey struct {
	Namespace string
	Name      string
}

// Predicts reports whether e has a per-pod prediction: every engine that
// converts PSPs does. psa does not: the audit's pss verdicts already are
// its prediction.
func Predicts(e Engine) bool { return e.Prediction() != nil }

// Predictor answers, pod by pod, what the converted policies would do. Build
// it once per audit; it is safe for concurrent use.
type Predictor struct {
	set *PolicySet
	// engineSets holds, for the engines with a Prediction.EnginePolicy,
	// the set as that engine's output enforces it.
	engineSets map[string]*PolicySet
	engines    []Engine
	focus      string
	sas        map[string]*corev1.ServiceAccount // namespace/name
	// minor is the Kubernetes release whose admission prepares the pods
	// not yet created (Options.PSSVersion: the target's).
	minor int
}

// NewPredictor compiles inv's PSPs for engines (each one that Predicts).
// pspFilter, when not empty, limits the verdicts to that PSP (which must
// exist and be valid); opts are those of `convert` (scope, excluded
// namespaces).
func NewPredictor(inv *inventory.Inventory, engines []Engine, pspFilter string, opts Options) (*Predictor, error) {
	if err := checkPredicts(engines); err != nil {
		return nil, err
	}
	opts.PSPs = nil // usability is decided among all PSPs, as in the cluster
	set, err := Compile(inv, opts)
	if err != nil {
		return nil, err
	}
	if pspFilter != "" && !slices.Contains(set.PSPNames(), pspFilter) {
		for _, s := range set.Skipped {
			if s.Name == pspFilter {
				return nil, fmt.Errorf("--psp %s: PodSecurityPolicy is invalid and was not converted: %v", pspFilter, s.Errors)
			}
		}
		return nil, fmt.Errorf("--psp %s: PodSecurityPolicy not found", pspFilter)
	}
	p, err := newPredictor(inv, set, engines)
	if err != nil {
		return nil, err
	}
	p.focus = pspFilter
	return p, nil
}

// NewSetPredictor predicts what exactly set, as rendered by `convert`, does
// for engines (each one that Predicts): the PSPs of the set, and no
// others, are what the engines' output knows.
func NewSetPredictor(inv *inventory.Inventory, set *PolicySet, engines []Engine) (*Predictor, error) {
	if err := checkPredicts(engines); err != nil {
		return nil, err
	}
	return newPredictor(inv, set, engines)
}

func checkPredicts(engines []Engine) error {
	for _, e := range engines {
		if !Predicts(e) {
			return fmt.Errorf("engine %q has no per-pod prediction", e.Name())
		}
	}
	return nil
}

func newPredictor(inv *inventory.Inventory, set *PolicySet, engines []Engine) (*Predictor, error) {
	p := &Predictor{set: set, engines: engines, sas: map[string]*corev1.ServiceAccount{}, engineSets: map[string]*PolicySet{}}
	var err error
	if p.minor, err = pss.Minor(set.Options.PSSVersion); err != nil {
		return nil, err
	}
	for _, e := range engines {
		if ep := e.Prediction().EnginePolicy; ep != nil {
			es := *set
			es.Policies = make([]Policy, len(set.Policies))
			for i := range set.Policies {
				es.Policies[i] = ep(set, i)
			}
			p.engineSets[e.Name()] = &es
		}
	}
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		p.sas[sa.Namespace+"/"+sa.Name] = sa
	}
	return p, nil
}

// Pod predicts for a pod created by requester (nil: an unknown
// authenticated user; see rbac.Requester). A stored pod
// (pspadmission.Stored) is checked as it is; a pod not yet created (a
// manifest) as the engine's validating webhook or CEL admission will see it
// on the target release (Options.PSSVersion): with the API defaults, the
// ServiceAccount token volume and the pod registry's changes
// (pspadmission.ValidatingView). The verdicts are nil when the pod's
// namespace is excluded (nothing would check it).
func (p *Predictor) Pod(pod *corev1.Pod, requester *rbac.User) []PolicyVerdict {
	if pspadmission.Stored(pod) {
		return p.verdicts(pod, requester)
	}
	return p.verdicts(pspadmission.ValidatingView(pod, p.account(pod.Namespace, &pod.Spec), p.minor), requester)
}

// Template predicts for the pods a controller in namespace creates from
// template, as requester (the controller's identity), as the engine's
// admission sees them on the target release (Options.PSSVersion): see Pod.
func (p *Predictor) Template(namespace string, template *corev1.PodTemplateSpec, requester *rbac.User) []PolicyVerdict {
	// Shallow: ValidatingView copies before it changes anything.
	pod := &corev1.Pod{ObjectMeta: template.ObjectMeta, Spec: template.Spec}
	pod.Namespace = namespace
	pod.UID = ""
	return p.verdicts(pspadmission.ValidatingView(pod, p.account(namespace, &pod.Spec), p.minor), requester)
}

// account is the service account a pod in namespace runs as, if known.
func (p *Predictor) account(namespace string, spec *corev1.PodSpec) *corev1.ServiceAccount {
	if namespace == "" {
		namespace = "default"
	}
	return p.sas[namespace+"/"+rbac.PodServiceAccountName(spec)]
}

// setFor is the set as engine enforces it.
func (p *Predictor) setFor(engine string) *PolicySet {
	if es, ok := p.engineSets[engine]; ok {
		return es
	}
	return p.set
}

func (p *Predictor) verdicts(pod *corev1.Pod, requester *rbac.User) []PolicyVerdict {
	ns := pod.Namespace
	if ns == "" {
		ns = "default"
	}
	if p.set.Excluded(ns) {
		return nil
	}
	var out []PolicyVerdict
	var shared *Verdict // p.set's verdict, for the engines without their own set
	for _, e := range p.engines {
		engine, pred := e.Name(), e.Prediction()
		set := p.setFor(engine)
		if pred.AppliedPSPs != nil {
			out = append(out, p.everyVerdicts(engine, pred.AppliedPSPs, set, pod)...)
			continue
		}
		var v Verdict
		if pred.RequesterBlind {
			v = set.Evaluate(pod, nil)
		} else if set != p.set {
			v = set.Evaluate(pod, requester)
		} else {
			if shared == nil {
				sv := p.set.Evaluate(pod, requester)
				shared = &sv
			}
			v = *shared
		}
		found := false
		for _, pv := range v.PSPs {
			if p.focus != "" && pv.PSP != p.focus {
				continue
			}
			found = true
			out = append(out, PolicyVerdict{Engine: engine, PSP: pv.PSP, Allowed: pv.Allowed, Reasons: slices.Clone(pv.Reasons)})
		}
		if found {
			continue
		}
		who := ns + "/" + rbac.PodServiceAccountName(&pod.Spec)
		if p.focus != "" {
			out = append(out, PolicyVerdict{Engine: engine, PSP: p.focus, Reasons: []string{
				fmt.Sprintf("service account %s may not use PodSecurityPolicy %s (scope %s)", who, p.focus, p.set.Options.Scope)}})
		} else {
			out = append(out, PolicyVerdict{Engine: engine, Reasons: []string{noUsablePrefix + who}})
		}
	}
	return out
}

// everyVerdicts is the prediction of an engine that ANDs its per-PSP
// policies: one verdict per PSP whose policies check the pod. A pod no
// policy checks gets none, and is admitted.
func (p *Predictor) everyVerdicts(engine string, applied func(set *PolicySet, namespace, sa string) []int, set *PolicySet, pod *corev1.Pod) []PolicyVerdict {
	ns := pod.Namespace
	if ns == "" {
		ns = "default"
	}
	var out []PolicyVerdict
	for _, i := range applied(p.set, ns, rbac.PodServiceAccountName(&pod.Spec)) {
		if p.focus != "" && p.set.Policies[i].Name != p.focus {
			continue
		}
		pv := set.Policies[i].Evaluate(pod)
		out = append(out, PolicyVerdict{Engine: engine, PSP: pv.PSP, Allowed: pv.Allowed, Reasons: pv.Reasons})
	}
	return out
}

// Admitted reports whether the converted policies of e admit a pod, given
// its verdicts. For most engines a pod is admitted when any verdict of that
// engine allows it (PSPs OR together, as in PSP admission); for an engine
// that ANDs its per-PSP policies (gatekeeper), when every verdict does. A
// pod without verdicts (excluded namespace, or no policy applies to it) is
// admitted.
func Admitted(verdicts []PolicyVerdict, e Engine) bool {
	every := e.Prediction() != nil && e.Prediction().AppliedPSPs != nil
	seen := false
	for _, v := range verdicts {
		if v.Engine != e.Name() {
			continue
		}
		seen = true
		if v.Allowed != every {
			return v.Allowed
		}
	}
	return every || !seen
}

// Admitted is the package's Admitted for the engine of p named engine; a
// name p does not predict has no verdicts, so the pod is admitted.
func (p *Predictor) Admitted(verdicts []PolicyVerdict, engine string) bool {
	for _, e := range p.engines {
		if e.Name() == engine {
			return Admitted(verdicts, e)
		}
	}
	return true
}

// VerdictFor returns engine's verdict for one PSP, e.g. the PSP that admits
// the pod today (report pods[].psp.admittedBy); ok is false when the
// converted policy does not consider that PSP for the pod (its service
// account may not use it, or the namespace is excluded).
func VerdictFor(verdicts []PolicyVerdict, engine, psp string) (v PolicyVerdict, ok bool) {
	for _, v := range verdicts {
		if v.Engine == engine && v.PSP == psp {
			return v, true
		}
	}
	return PolicyVerdict{}, false
}

// Predict is NewPredictor plus Pod for every pod of inv, each created by
// an unknown authenticated user.
func Predict(inv *inventory.Inventory, engines []Engine, pspFilter string, opts Options) (map[PodKey][]PolicyVerdict, error) {
	p, err := NewPredictor(inv, engines, pspFilter, opts)
	if err != nil {
		return nil, err
	}
	out := make(map[PodKey][]PolicyVerdict, len(inv.Pods))
	for i := range inv.Pods {
		pod := &inv.Pods[i]
		if v := p.Pod(pod, nil); v != nil {
			out[PodKey{Namespace: pod.Namespace, Name: pod.Name}] = v
		}
	}
	return out, nil
}

// Warnings are what `convert` would warn about for the predicted engines
// (what an engine cannot express, where Gatekeeper ANDs PSPs, ...), each
// prefixed with the engine: they explain the verdicts. PSPs that were not
// converted are left out; the audit reports invalid PSPs itself.
func (p *Predictor) Warnings() ([]string, error) {
	set := *p.set
	set.Skipped = nil
	var out []string
	for _, e := range p.engines {
		o, err := e.Render(Input{Set: &set, Options: set.Options})
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", e.Name(), err)
		}
		for _, w := range o.Warnings {
			out = append(out, e.Name()+": "+w)
		}
	}
	return out, nil
}
