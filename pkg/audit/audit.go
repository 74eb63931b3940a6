// Package audit turns an inventory into a report: every pod and every
// controller template evaluated against the Pod Security Standards, pods
// grouped under their top-level owner, and a label recommendation per
// namespace.
package audit

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// DefaultSystemNamespaces are flagged as system namespaces in reports: the
// same list convert leaves alone by default.
var DefaultSystemNamespaces = psp.SystemNamespaces()

// Options tune an audit.
type Options struct {
	// PSSVersion is "latest" or "v1.x".
	PSSVersion string
	// Namespace limits the audit to one namespace; "" audits all.
	Namespace string
	// SystemNamespaces are flagged as system; nil means DefaultSystemNamespaces.
	SystemNamespaces []string
	// ToolVersion is written into the report metadata.
	ToolVersion string
	// ControllerIdentity says how kube-controller-manager authenticates,
	// which decides the PSPs controller-made pods may use; "" means
	// rbac.ControllerServiceAccounts.
	ControllerIdentity rbac.ControllerIdentityMode
	// Engines are the converted-policy engines to predict, by name
	// (engines.PredictingNames).
	Engines []string
	// PSP focuses the engine verdicts on one PSP.
	PSP string
	// Scope is where each converted PSP applies (translate.ScopeRBAC by default).
	Scope translate.Scope
}

// Run audits inv. It does not modify inv.
func Run(inv *inventory.Inventory, opts Options) (*report.AuditReport, error) {
	a, err := newAuditor(inv, opts)
	if err != nil {
		return nil, err
	}
	return a.report(a.evaluatePods(inv.Pods))
}

// newAuditor prepares everything a pod's evaluation needs from inv, whose
// pods it does not read: a Stream builds it before the pods are all in.
func newAuditor(inv *inventory.Inventory, opts Options) (*auditor, error) {
	if opts.PSSVersion == "" {
		opts.PSSVersion = "latest"
	}
	ev, err := pss.NewEvaluator(opts.PSSVersion)
	if err != nil {
		return nil, err
	}
	system := map[string]bool{}
	sysList := opts.SystemNamespaces
	if sysList == nil {
		sysList = DefaultSystemNamespaces
	}
	for _, ns := range sysList {
		system[ns] = true
	}
	if opts.ControllerIdentity == "" {
		opts.ControllerIdentity = rbac.ControllerServiceAccounts
	}
	a := &auditor{inv: inv, opts: opts, eval: ev, system: system, owners: newOwnerIndex(inv, opts.Namespace),
		accounts: make(map[string]*corev1.ServiceAccount, len(inv.ServiceAccounts))}
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		a.accounts[sa.Namespace+"/"+sa.Name] = sa
	}
	a.psp, a.invalid, a.rbac = newPSPModel(inv, a.accounts)
	a.tops = a.owners.topLevel()
	a.tevals = make([]podEval, len(a.tops))
	if len(opts.Engines) > 0 {
		// Converted policies leave the same namespaces alone that the audit
		// treats as system namespaces. Pods not yet created are prepared
		// for the same release the standards are evaluated at.
		excluded := append([]string{}, sysList...)
		predicted, err := engines.ByNames(opts.Engines)
		if err != nil {
			return nil, fmt.Errorf("predict converted policies: %w", err)
		}
		a.pred, err = translate.NewPredictor(inv, predicted, opts.PSP, translate.Options{Scope: opts.Scope, ExcludeNamespaces: excluded, PSSVersion: opts.PSSVersion})
		if err != nil {
			return nil, fmt.Errorf("predict converted policies: %w", err)
		}
	}
	return a, nil
}

// report builds the report from the evaluated pods, which are in the
// inventory's order (namespace, then name).
func (a *auditor) report(pods []podRecord) (*report.AuditReport, error) {
	rep := a.run(pods)
	a.pspSummary(rep, a.invalid)
	if a.pred != nil {
		// Why an engine's verdicts differ from PSP admission's.
		warnings, err := a.pred.Warnings()
		if err != nil {
			return nil, fmt.Errorf("predict converted policies: %w", err)
		}
		rep.Warnings = append(rep.Warnings, warnings...)
	}
	return rep, nil
}

type auditor struct {
	inv    *inventory.Inventory
	opts   Options
	eval   *pss.Evaluator
	system map[string]bool
	owners *ownerIndex
	psp    *pspModel            // nil when no PSP is in play
	rbac   *rbac.Index          // nil likewise
	pred   *translate.Predictor // nil without --engine
	// invalid are the PSPs admission would not use.
	invalid []pspadmission.InvalidPSP
	// accounts are the service accounts by namespace/name: whether a pod
	// not yet created gets the token volume depends on its account.
	accounts map[string]*corev1.ServiceAccount
	// shapes are the verdicts of the pod shapes evaluated so far.
	shapes shapes
	// tops are the top-level controllers and tevals their templates'
	// verdicts, filled in by claims (see templates).
	tops         []*controller
	tevals       []podEval
	nextTemplate atomic.Int64
}

func (a *auditor) serviceAccount(namespace string, spec *corev1.PodSpec) *corev1.ServiceAccount {
	return a.accounts[namespace+"/"+rbac.PodServiceAccountName(spec)]
}

// evaluateTemplate evaluates the pods a controller in namespace submits
// from template: PSP admission (v1.24) sees them after API defaulting and
// ServiceAccount admission; the Pod Security Standards are evaluated as
// PodSecurity admission on the --pss-version release sees them, after the
// pod registry's changes too.
func (a *auditor) evaluateTemplate(namespace string, template *corev1.PodTemplateSpec, requester *rbac.User) (pss.Result, *pspadmission.Result) {
	// Shallow: Prepare copies deeply before changing anything.
	pod := &corev1.Pod{ObjectMeta: template.ObjectMeta, Spec: template.Spec}
	pod.Namespace = namespace
	prepared := pspadmission.Prepare(pod, a.serviceAccount(namespace, &template.Spec))
	view := pspadmission.AtValidation(prepared, a.eval.Minor())
	res := a.eval.Evaluate(&view.ObjectMeta, &view.Spec)
	if a.psp == nil {
		return res, nil
	}
	return res, a.psp.template(prepared, requester)
}

// evaluatePod evaluates one pod of the inventory. A stored pod
// (pspadmission.Stored) is evaluated as it is: admission already prepared
// it. A pod not yet created (a manifest) is evaluated as the API server
// would see it on create, like a template (see evaluateTemplate).
func (a *auditor) evaluatePod(p *corev1.Pod, requester *rbac.User) (pss.Result, *pspadmission.Result) {
	if pspadmission.Stored(p) {
		res := a.eval.Evaluate(&p.ObjectMeta, &p.Spec)
		if a.psp == nil {
			return res, nil
		}
		return res, a.psp.pod(p, nil, a.owners.baselineOf(p), requester)
	}
	prepared := pspadmission.Prepare(p, a.serviceAccount(p.Namespace, &p.Spec))
	view := pspadmission.AtValidation(prepared, a.eval.Minor())
	res := a.eval.Evaluate(&view.ObjectMeta, &view.Spec)
	if a.psp == nil {
		return res, nil
	}
	return res, a.psp.pod(p, prepared, nil, requester)
}

func (a *auditor) inScope(ns string) bool {
	return a.opts.Namespace == "" || ns == a.opts.Namespace
}

func (a *auditor) run(pods []podRecord) *report.AuditReport {
	rep := &report.AuditReport{
		APIVersion: report.APIVersion,
		Kind:       report.Kind,
		Metadata: report.Metadata{
			ToolVersion:  a.opts.ToolVersion,
			PSSVersion:   a.eval.Version(),
			Sources:      append([]string{}, a.inv.Sources...),
			PSPAPIServed: a.inv.PSPAPIServed,
			Namespace:    a.opts.Namespace,
			Engines:      a.opts.Engines,
		},
		Pods:            []report.Pod{},
		Workloads:       []report.Workload{},
		Namespaces:      []report.Namespace{},
		PSPs:            []report.PSP{},
		DangerousGrants: []report.DangerousGrant{},
		Incomplete:      append([]report.ReadIssue{}, report.NewReadIssues(a.inv.Incomplete)...),
		Warnings:        append([]string{}, a.inv.Warnings...),
	}

	// Workloads keyed by namespace/kind/name, filled from templates first
	// so controllers without pods (scaled to zero, CronJobs) still appear.
	wls := map[workloadKey]*workloadAcc{}
	var order []workloadKey
	get := func(k workloadKey) *workloadAcc {
		w, ok := wls[k]
		if !ok {
			w = &workloadAcc{key: k}
			wls[k] = w
			order = append(order, k)
		}
		return w
	}
	tops, tevals := a.templates()
	for i, c := range tops {
		w := get(c.key)
		w.templateFound = true
		w.serviceAccount = rbac.PodServiceAccountName(&c.template.Spec)
		w.template = &tevals[i].pss
		if w.psp = tevals[i].psp; w.psp != nil {
			w.addFields(pspadmission.FieldsToSet(w.psp.MutatedFields, &c.template.Spec))
		}
		if a.pred != nil {
			w.policies = tevals[i].policies
			w.addRejections(a.pred, a.opts.Engines, w.policies)
		}
	}

	rep.Pods = make([]report.Pod, 0, len(pods))
	for i := range pods {
		rec := &pods[i]
		v := rec.verdict
		rp := rec.pod
		rp.PSS = v.reportPSS
		rp.PSP = v.reportPSP
		rp.Policies = report.NewPolicyVerdicts(rec.policies)
		top := rec.top
		w := get(top)
		if v.psp != nil {
			if top.kind == "Pod" {
				w.psp = v.psp
			} else {
				w.relies = w.relies || v.psp.Mutated
			}
			w.addFields(v.fields)
		}
		if top.kind == "Pod" {
			w.serviceAccount = rp.ServiceAccount
			w.policies = rec.policies
		}
		w.addRejections(a.pred, a.opts.Engines, rec.policies)
		w.pods = append(w.pods, &v.pss)
		rep.Pods = append(rep.Pods, rp)
	}

	sort.Slice(order, func(i, j int) bool { return order[i].less(order[j]) })
	for _, k := range order {
		w := wls[k]
		rw := report.Workload{
			Namespace:      k.namespace,
			Kind:           k.kind,
			Name:           k.name,
			ServiceAccount: w.serviceAccount,
			Pods:           len(w.pods),
			TemplateFound:  w.templateFound || k.kind == "Pod",
			System:         a.system[k.namespace],
			TemplatePSS:    report.NewPSSResultPtr(w.template),
			PSS:            report.NewPSSResult(combine(a.eval.Version(), w.template, w.pods)),
			PSP:            report.NewPSPVerdict(w.psp),
			FieldsToSet:    report.NewFieldChanges(w.fields),
			Policies:       report.NewPolicyVerdicts(w.policies),
			RejectedBy:     w.rejectedBy,
		}
		if rw.FieldsToSet == nil {
			rw.FieldsToSet = []report.FieldChange{}
		}
		rw.ReliesOnMutation = w.relies || (w.psp != nil && w.psp.Mutated)
		rep.Workloads = append(rep.Workloads, rw)
	}
	rep.Namespaces = a.namespaces(rep)
	rep.Summary = summarize(rep)
	return rep
}

// templates returns the top-level controllers and their templates'
// verdicts, evaluating on all CPUs those no one claimed yet (a Stream
// claims them while the pods are still being read). No other claim may be
// under way.
func (a *auditor) templates() ([]*controller, []podEval) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for a.evaluateTemplates(templateChunk) {
			}
		})
	}
	wg.Wait()
	return a.tops, a.tevals
}

// templateChunk is how many templates one claim evaluates.
const templateChunk = 32

// evaluateTemplates claims up to n templates not yet claimed and
// evaluates them; false when none was left.
func (a *auditor) evaluateTemplates(n int) bool {
	start := int(a.nextTemplate.Add(int64(n))) - n
	if start >= len(a.tops) {
		return false
	}
	for i := start; i < min(start+n, len(a.tops)); i++ {
		c := a.tops[i]
		who := rbac.WorkloadCreator(c.key.kind, a.opts.ControllerIdentity)
		e := &a.tevals[i]
		e.pss, e.psp = a.evaluateTemplate(c.key.namespace, c.template, who)
		if a.pred != nil {
			e.policies = a.pred.Template(c.key.namespace, c.template, who)
		}
	}
	return true
}

type podEval struct {
	pss      pss.Result
	psp      *pspadmission.Result
	policies []translate.PolicyVerdict
}

// podRecord is what the report needs of one evaluated pod: once it is
// made, the pod itself can go.
type podRecord struct {
	// verdict is shared with the pods of the same shape.
	verdict *verdict
	// policies are the converted policies' verdicts (--engine).
	policies []translate.PolicyVerdict
	// pod is the pod's line of the report but its verdicts, which run
	// takes from verdict and policies.
	pod report.Pod
	// top is the workload the pod belongs to.
	top workloadKey
}

// evaluatePods evaluates every in-scope pod of pods, which are in the
// inventory's order, into records in the same order.
func (a *auditor) evaluatePods(pods []corev1.Pod) []podRecord {
	out := make([]podRecord, len(pods))
	in := make([]bool, len(pods))
	parallelFor(len(pods), func(i int) {
		p := &pods[i]
		if !a.inScope(p.Namespace) {
			return
		}
		in[i] = true
		out[i] = a.record(p)
	})
	kept := out[:0]
	for i := range out {
		if in[i] {
			kept = append(kept, out[i])
		}
	}
	return kept
}

// record runs the PSS checks and the PSP model on one pod and keeps what
// the report needs of it.
func (a *auditor) record(p *corev1.Pod) podRecord {
	who := rbac.PodCreator(p, a.opts.ControllerIdentity)
	v := a.shapes.verdictOf(p, who, func() *verdict {
		v := &verdict{}
		v.pss, v.psp = a.evaluatePod(p, who)
		if v.psp != nil {
			v.fields = pspadmission.FieldsToSet(v.psp.MutatedFields, &p.Spec)
		}
		v.reportPSS = report.NewPSSResult(v.pss)
		v.reportPSP = report.NewPSPVerdict(v.psp)
		return v
	})
	var policies []translate.PolicyVerdict
	if a.pred != nil {
		policies = a.pred.Pod(p, who)
	}
	rp := report.Pod{
		Namespace:      p.Namespace,
		Name:           p.Name,
		ServiceAccount: rbac.PodServiceAccountName(&p.Spec),
	}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		rp.Owner = &report.ObjectRef{Kind: ref.Kind, Name: ref.Name}
	}
	rp.Static = isStatic(p)
	if rp.Static {
		// The kubelet creates mirror pods from files; no service account
		// is involved.
		rp.ServiceAccount = ""
	}
	top := a.owners.top(p)
	rp.Workload = report.ObjectRef{Kind: top.kind, Name: top.name}
	return podRecord{verdict: v, policies: policies, pod: rp, top: top}
}

// parallelFor calls fn for 0..n-1 spread over all CPUs: pods and templates
// are independent, the evaluators are safe for concurrent use, and on a
// large cluster evaluation is most of the audit's CPU.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	const chunk = 32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				for i := start; i < min(start+chunk, n); i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

type workloadAcc struct {
	key            workloadKey
	serviceAccount string
	templateFound  bool
	template       *pss.Result
	pods           []*pss.Result
	psp            *pspadmission.Result
	relies         bool
	fields         []pspadmission.FieldChange
	seenFields     map[pspadmission.FieldChange]bool
	policies       []translate.PolicyVerdict
	rejectedBy     []string
}

// addRejections records the engines whose converted policies reject the
// template or a pod, given its verdicts.
func (w *workloadAcc) addRejections(pred *translate.Predictor, engines []string, verdicts []translate.PolicyVerdict) {
	for _, e := range engines {
		if !pred.Admitted(verdicts, e) && !slices.Contains(w.rejectedBy, e) {
			w.rejectedBy = append(w.rejectedBy, e)
		}
	}
}

// addFields collects the distinct fields a PSP supplied to the template or
// its pods: each is a line the template must gain.
func (w *workloadAcc) addFields(fs []pspadmission.FieldChange) {
	for _, f := range fs {
		if w.seenFields[f] {
			continue
		}
		if w.seenFields == nil {
			w.seenFields = map[pspadmission.FieldChange]bool{}
		}
		w.seenFields[f] = true
		w.fields = append(w.fields, f)
	}
}

// combine folds a template verdict and pod verdicts into one: the strictest
// level all of them meet, and the union of the checks any of them failed.
func combine(version string, template *pss.Result, pods []*pss.Result) pss.Result {
	all := make([]*pss.Result, 0, len(pods)+1)
	if template != nil {
		all = append(all, template)
	}
	all = append(all, pods...)
	out := pss.Result{
		Version:    version,
		Level:      pss.Restricted,
		Baseline:   pss.LevelResult{Allowed: true, Reasons: []pss.Reason{}},
		Restricted: pss.LevelResult{Allowed: true, Reasons: []pss.Reason{}},
	}
	seenB, seenR := map[pss.Reason]bool{}, map[pss.Reason]bool{}
	for _, r := range all {
		if pss.Compare(r.Level, out.Level) < 0 {
			out.Level = r.Level
		}
		out.Baseline.Allowed = out.Baseline.Allowed && r.Baseline.Allowed
		out.Restricted.Allowed = out.Restricted.Allowed && r.Restricted.Allowed
		for _, rs := range r.Baseline.Reasons {
			if !seenB[rs] {
				seenB[rs] = true
				out.Baseline.Reasons = append(out.Baseline.Reasons, rs)
			}
		}
		for _, rs := range r.Restricted.Reasons {
			if !seenR[rs] {
				seenR[rs] = true
				out.Restricted.Reasons = append(out.Restricted.Reasons, rs)
			}
		}
	}
	return out
}

// isStatic reports mirror pods: the kubelet marks them with the mirror
// annotation and the Node as owner.
func isStatic(p *corev1.Pod) bool {
	if _, ok := p.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return true
	}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.Kind == "Node" {
		return true
	}
	return false
}

func summarize(rep *report.AuditReport) report.Summary {
	s := report.Summary{
		Pods:             len(rep.Pods),
		Workloads:        len(rep.Workloads),
		Namespaces:       len(rep.Namespaces),
		WorkloadsByLevel: map[string]int{pss.Privileged: 0, pss.Baseline: 0, pss.Restricted: 0},
	}
	for _, w := range rep.Workloads {
		s.WorkloadsByLevel[w.PSS.Level]++
	}
	return s
}

// String renders a workload key for messages.
func (k workloadKey) String() string {
	return fmt.Sprintf("%s/%s/%s", k.namespace, k.kind, k.name)
}

// pspSummary lists every PSP with its validity and the pods it admits, and
// the dangerous grants.
func (a *auditor) pspSummary(rep *report.AuditReport, invalid []pspadmission.InvalidPSP) {
	if a.psp == nil {
		return
	}
	bad := map[string][]string{}
	for _, i := range invalid {
		bad[i.Name] = append(bad[i.Name], i.Errors...)
	}
	admits := map[string]int{}
	for _, p := range rep.Pods {
		if p.PSP != nil && p.PSP.AdmittedBy != nil {
			admits[*p.PSP.AdmittedBy]++
		}
	}
	for i := range a.inv.PodSecurityPolicies {
		name := a.inv.PodSecurityPolicies[i].Name
		errs, isBad := bad[name]
		rp := report.PSP{Name: name, Valid: !isBad, Errors: errs, Pods: admits[name]}
		if u := a.psp.use[name]; u != nil {
			rp.UsableEverywhere = u.Everywhere
			rp.AuthenticatedIn = u.Authenticated
			var people []string
			for _, g := range u.Requesters {
				rp.RequesterGrants = append(rp.RequesterGrants, g.String())
				if !strings.HasPrefix(g.Name, "system:") {
					people = append(people, g.String())
				}
			}
			if len(people) > 0 && !u.Everywhere && !isBad {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("PodSecurityPolicy %q is also granted to %s: pods they create may use it too; bare pods are evaluated as created by an unknown authenticated user, whom these grants do not reach", name, strings.Join(people, ", ")))
			}
		}
		rep.PSPs = append(rep.PSPs, rp)
		if isBad {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("PodSecurityPolicy %q is invalid and was not evaluated: %s", name, strings.Join(errs, "; ")))
		}
	}
	if f := a.rbac.DangerousGrants(a.inv.PodSecurityPolicies); f != nil {
		rep.DangerousGrants = report.NewDangerousGrants(f)
	}
}
