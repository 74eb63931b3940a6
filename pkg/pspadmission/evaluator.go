package pspadmission

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// Drift values of Result.Drift.
const (
	// DriftAdmittedByOther: the pod's kubernetes.io/psp annotation names a
	// PSP that exists, but the model now admits the pod with another PSP or
	// rejects it.
	DriftAdmittedByOther = "admitted-by-other"
	// DriftPSPMissing: the annotation names a PSP that no longer exists.
	DriftPSPMissing = "psp-missing"
	// DriftRejectedNow: the pod has no annotation and the model rejects it.
	DriftRejectedNow = "rejected-now"
)

// Evaluator reproduces the v1.24 PodSecurityPolicy admission decision for
// pod CREATE requests. It is built once per audit: the PSPs are validated,
// sorted by name and their strategies compiled once. An Evaluator is safe
// for concurrent use.
type Evaluator struct {
	policies []*policy       // valid and compilable, sorted by name
	exists   map[string]bool // every PSP name given, valid or not
	use      Authorizer      // nil: every PSP is usable by every pod

	// runtimeClasses are the RuntimeClasses that exist, when known; a nil
	// value is a class known by name only.
	runtimeClasses map[string]*nodev1.RuntimeClass

	mu     sync.RWMutex
	usable map[string][]int // cache: namespace, service account, requester → indexes into policies
}

// Option adjusts an Evaluator.
type Option func(*Evaluator)

// WithRuntimeClasses tells the Evaluator which RuntimeClasses exist. The
// RuntimeClass admission plugin runs after PSP admission and rejects a pod
// whose runtimeClassName (its own or a PSP's default) names none, so a PSP
// defaulting to a missing class makes every pod it admits fail. Without
// this option runtime class names are not checked.
func WithRuntimeClasses(names ...string) Option {
	return func(e *Evaluator) {
		if e.runtimeClasses == nil {
			e.runtimeClasses = make(map[string]*nodev1.RuntimeClass, len(names))
		}
		for _, n := range names {
			if _, ok := e.runtimeClasses[n]; !ok {
				e.runtimeClasses[n] = nil
			}
		}
	}
}

// WithRuntimeClassObjects is WithRuntimeClasses with the classes
// themselves, so the RuntimeClass plugin's own admission is reproduced too:
// it copies the class's overhead and scheduling into the pod after PSP has
// defaulted runtimeClassName, and rejects a pod whose nodeSelector or
// overhead contradicts them.
func WithRuntimeClassObjects(classes ...nodev1.RuntimeClass) Option {
	return func(e *Evaluator) {
		if e.runtimeClasses == nil {
			e.runtimeClasses = make(map[string]*nodev1.RuntimeClass, len(classes))
		}
		for i := range classes {
			e.runtimeClasses[classes[i].Name] = &classes[i]
		}
	}
}

// InvalidPSP is a PSP that is reported, not evaluated: it fails the API
// server's validation, or v1.24 admission could not build its strategies
// (e.g. MustRunAs without ranges) and so silently ignored it.
type InvalidPSP struct {
	Name   string   `json:"name"`
	Errors []string `json:"errors"`
}

// Authorizer answers PSP admission's RBAC question: may a pod with service
// account sa in namespace, created by requester, use the PSP? rbac.UseTable
// implements it, and is the one implementation outside tests: the converted
// policies are rendered from the same table, so the audit and the policies
// cannot disagree about a grant.
type Authorizer interface {
	CanUse(pspName, namespace, sa string, requester *rbac.User) bool
}

// NewEvaluator validates and compiles psps. use says who may `use` each
// PSP; nil means every PSP is usable for every pod (for PSPs audited
// without their RBAC). The slice and its PSPs are not retained.
func NewEvaluator(psps []psp.PodSecurityPolicy, use Authorizer, opts ...Option) (*Evaluator, []InvalidPSP) {
	e := &Evaluator{
		exists: make(map[string]bool, len(psps)),
		use:    use,
		usable: map[string][]int{},
	}
	for _, o := range opts {
		o(e)
	}
	order := make([]int, len(psps))
	for i := range order {
		order[i] = i
	}
	// Admission tries policies in name order (byte-wise string order).
	sort.SliceStable(order, func(a, b int) bool { return psps[order[a]].Name < psps[order[b]].Name })

	var invalid []InvalidPSP
	for _, i := range order {
		p := &psps[i]
		if e.exists[p.Name] {
			invalid = append(invalid, InvalidPSP{Name: p.Name, Errors: []string{
				fmt.Sprintf("metadata.name: Duplicate value: %q: another PodSecurityPolicy has this name", p.Name)}})
			continue
		}
		e.exists[p.Name] = true
		if errs := psp.Validate(p); len(errs) > 0 {
			msgs := make([]string, len(errs))
			for j, err := range errs {
				msgs[j] = err.Error()
			}
			invalid = append(invalid, InvalidPSP{Name: p.Name, Errors: msgs})
			continue
		}
		pol, errs := compilePolicy(p)
		if len(errs) > 0 {
			invalid = append(invalid, InvalidPSP{Name: p.Name, Errors: errs})
			continue
		}
		e.policies = append(e.policies, pol)
	}
	return e, invalid
}

// Request is one pod to decide on.
type Request struct {
	// Pod is the pod as submitted (Prepared=false) or as stored by the API
	// server (Prepared=true). It is not modified.
	Pod *corev1.Pod
	// Prepared is false for controller templates and manifests from files:
	// API defaulting and ServiceAccount admission are applied first (see
	// Prepare). A stored pod is evaluated as if it were created again as
	// it is, including what the admitting PSP already added to it and any
	// ephemeral containers (PSP admission checks those on create too).
	Prepared bool
	// Requester is the user creating the pod (for controller-made pods the
	// controller's identity), or nil when unknown: then rbac.Unknown(), an
	// authenticated user with no grant of its own, so grants to
	// system:authenticated count and grants to particular users do not.
	Requester *rbac.User
	// ServiceAccount is the pod's service account if known; its
	// automountServiceAccountToken decides whether the token volume is
	// injected when the pod does not say.
	ServiceAccount *corev1.ServiceAccount
}

// Result is the decision for one pod.
type Result struct {
	// Usable lists the PSPs the requester or the pod's service account may
	// use in the pod's namespace, sorted by name (never one reported as an
	// InvalidPSP).
	Usable []string `json:"usable"`
	// AdmittedBy is the PSP the pod would be admitted by (the value of its
	// kubernetes.io/psp annotation); null when rejected.
	AdmittedBy *string `json:"admittedBy"`
	// Mutated is true when the admitting PSP changed security-relevant
	// fields beyond what the API server does to every pod anyway.
	Mutated bool `json:"mutated"`
	// MutatedFields lists those changes.
	MutatedFields []FieldChange `json:"mutatedFields"`
	// Errors holds, per usable PSP that failed the pod, its validation
	// errors in the server's wording: all of them when the pod is rejected,
	// the non-chosen ones that failed when it is admitted.
	Errors map[string][]string `json:"errors,omitempty"`
	// Reason is the server's rejection message when the pod is rejected:
	// PSP's own ("PodSecurityPolicy: ...", without the "pods "x" is
	// forbidden: " prefix; upstream lists the errors of several PSPs in
	// random order, here they are in PSP name order) or, see
	// ValidationErrors, the pod validation's ("Pod "x" is invalid: ...").
	Reason string `json:"reason,omitempty"`
	// RejectedAfter names the PSP that admitted the pod when a later step of
	// pod creation rejects it (AdmittedBy is null then): the RuntimeClass
	// admission plugin (see WithRuntimeClasses) or the API server's pod
	// validation, whose errors ValidationErrors lists. Typically the PSP's
	// defaults clash with the pod: allowPrivilegeEscalation=false on a
	// privileged container, Linux settings on a Windows pod, a default
	// runtime class that does not exist. Only the validation rules that
	// concern fields a PSP sets are checked.
	RejectedAfter    string   `json:"rejectedAfter,omitempty"`
	ValidationErrors []string `json:"validationErrors,omitempty"`
	// Annotation is the pod's kubernetes.io/psp annotation, if any.
	Annotation string `json:"annotation,omitempty"`
	// Drift compares Annotation with the decision: "", DriftAdmittedByOther,
	// DriftPSPMissing or DriftRejectedNow.
	Drift string `json:"drift,omitempty"`
}

// Evaluate decides on one pod the way v1.24 PSP admission decides on a pod
// CREATE:
//
//  1. Every PSP the requester or the pod's service account may use in the
//     pod's namespace is tried in name order: the pod is copied, the PSP's
//     defaults are applied to the copy and the copy is validated.
//  2. The first PSP that admits the pod without changing it in any way
//     (semantic equality of the whole pod) wins; failing that, the first
//     that admits it with changes; failing that, the pod is rejected with
//     the errors of the usable PSPs. With no PSP at all every pod is
//     rejected.
//  3. The admitted pod is annotated, the API server syncs its seccomp field
//     and annotations and validates the pod (see Result.RejectedAfter), and
//     PSP admission runs again in its validating phase, where no change is
//     allowed and the annotated PSP is tried first.
//
// The pod's service account is checked with only the groups
// system:serviceaccounts and system:serviceaccounts:<namespace>, as the
// plugin does; a pod without a namespace is evaluated in "default".
//
// A pod that sets spec.securityContext.seccompProfile without the legacy
// annotation is changed by every PSP (the plugin writes the annotation from
// the field), so for such a pod the non-mutating preference never applies:
// the first usable PSP by name that admits it wins. A PSP without
// seccomp.security.alpha.kubernetes.io/allowedProfileNames rejects it
// ("seccomp may not be set"), and so do PSPs whose list lacks the profile.
func (e *Evaluator) Evaluate(req Request) Result {
	res, _ := e.evaluate(req)
	return res
}

// evaluate also returns the pod as the API server would store it (nil when
// rejected), for tests.
func (e *Evaluator) evaluate(req Request) (Result, *corev1.Pod) {
	res := Result{Usable: []string{}, MutatedFields: []FieldChange{}}
	if req.Pod == nil {
		res.Reason = "PodSecurityPolicy: no pod to evaluate"
		return res, nil
	}
	res.Annotation = req.Pod.Annotations[psp.PodAnnotation]
	pod := req.Pod
	if !req.Prepared {
		pod = Prepare(pod, req.ServiceAccount)
	}
	namespace := pod.Namespace
	if namespace == "" {
		namespace = "default"
	}
	usable := e.usableFor(namespace, pod.Spec.ServiceAccountName, req.Requester)
	for _, i := range usable {
		res.Usable = append(res.Usable, e.policies[i].name)
	}
	final := e.decide(pod, usable, &res)
	res.Drift = e.drift(&res)
	return res, final
}

func (e *Evaluator) decide(pod *corev1.Pod, usable []int, res *Result) *corev1.Pod {
	if len(e.policies) == 0 {
		res.Reason = "PodSecurityPolicy: no providers available to validate pod request"
		return nil
	}
	// Every usable policy is tried, also after a winner is found, so that
	// Errors is complete; the winner is the same as upstream's.
	var (
		errs                = map[string][]string{}
		chosen, firstMut    = -1, -1
		chosenPod, firstPod *corev1.Pod
		scratch             = new(corev1.Pod)
	)
	for _, i := range usable {
		out, mutated, verrs := e.policies[i].admitInto(pod, scratch)
		switch {
		case len(verrs) > 0:
			errs[e.policies[i].name] = verrs
		case !mutated && chosen < 0:
			chosen, chosenPod = i, out
			scratch = new(corev1.Pod) // keep this copy
		case mutated && firstMut < 0:
			firstMut, firstPod = i, out
			scratch = new(corev1.Pod)
		}
	}
	chosenMutated := false
	if chosen < 0 && firstMut >= 0 {
		chosen, chosenPod, chosenMutated = firstMut, firstPod, true
	}
	if chosen < 0 {
		res.Errors = nonEmpty(errs)
		res.Reason = "PodSecurityPolicy: unable to admit pod: " + e.errorList(errs)
		return nil
	}

	name := e.policies[chosen].name
	final := securityCopy(chosenPod)
	if final.Annotations == nil {
		final.Annotations = map[string]string{}
	}
	final.Annotations[psp.PodAnnotation] = name
	prepareForCreate(final)
	// The RuntimeClass plugin comes later in the mutating chain; the
	// registry then validates the pod before validating admission runs.
	if reason := e.admitRuntimeClass(final); reason != "" {
		res.RejectedAfter = name
		res.Reason = reason
		return nil
	}
	if verrs := validateAfterAdmission(final); len(verrs) > 0 {
		res.RejectedAfter = name
		res.ValidationErrors = verrs
		res.Reason = invalidPodMessage(final, verrs)
		return nil
	}
	if verrs, ok := e.validatePhase(final, usable, chosen); !ok {
		res.Errors = nonEmpty(verrs)
		res.Reason = "PodSecurityPolicy: unable to validate pod: " + e.errorList(verrs)
		return nil
	}
	res.AdmittedBy = &name
	res.Errors = nonEmpty(errs)
	if chosenMutated {
		// Compare with the pod as it would be stored without any PSP, so that
		// the API server's own seccomp sync does not count.
		before := securityCopy(pod)
		prepareForCreate(before)
		if d := securityDiff(before, final, diffOptions{}); len(d) > 0 {
			res.MutatedFields, res.Mutated = d, true
		}
	}
	return final
}

// validatePhase is the plugin's validating admission: the annotated policy
// first, then the others by name; the pod passes if a usable policy accepts
// it without changing it.
func (e *Evaluator) validatePhase(pod *corev1.Pod, usable []int, hint int) (map[string][]string, bool) {
	errs := map[string][]string{}
	scratch := new(corev1.Pod)
	try := func(i int) bool {
		_, mutated, verrs := e.policies[i].admitInto(pod, scratch)
		if len(verrs) > 0 {
			errs[e.policies[i].name] = verrs
			return false
		}
		return !mutated
	}
	if try(hint) {
		return nil, true
	}
	for _, i := range usable {
		if i != hint && try(i) {
			return nil, true
		}
	}
	return errs, false
}

// errorList renders the plugin's aggregated errors, "[e1 e2 ...]", in
// policy name order.
func (e *Evaluator) errorList(errs map[string][]string) string {
	var all []string
	for _, pol := range e.policies {
		all = append(all, errs[pol.name]...)
	}
	return "[" + strings.Join(all, " ") + "]"
}

func nonEmpty(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func (e *Evaluator) drift(res *Result) string {
	switch {
	case res.Annotation == "":
		if res.AdmittedBy == nil {
			return DriftRejectedNow
		}
		return ""
	case !e.exists[res.Annotation]:
		return DriftPSPMissing
	case res.AdmittedBy == nil || *res.AdmittedBy != res.Annotation:
		return DriftAdmittedByOther
	}
	return ""
}

// usableFor returns the indexes of the policies the pod's service account
// or the requester may use, caching the answer per identity and namespace:
// pods of one workload all ask the same question.
func (e *Evaluator) usableFor(namespace, serviceAccount string, requester *rbac.User) []int {
	if requester == nil {
		requester = rbac.Unknown()
	}
	var key strings.Builder
	key.WriteString(namespace)
	key.WriteByte(0)
	key.WriteString(serviceAccount)
	key.WriteByte(0)
	key.WriteString(requester.Name)
	for _, g := range requester.Groups {
		key.WriteByte(0)
		key.WriteString(g)
	}
	k := key.String()
	e.mu.RLock()
	cached, ok := e.usable[k]
	e.mu.RUnlock()
	if ok {
		return cached
	}

	usable := []int{}
	for i, pol := range e.policies {
		if e.use == nil || e.use.CanUse(pol.name, namespace, serviceAccount, requester) {
			usable = append(usable, i)
		}
	}
	e.mu.Lock()
	e.usable[k] = usable
	e.mu.Unlock()
	return usable
}
