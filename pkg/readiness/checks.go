package readiness

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// Check IDs, in report order.
const (
	CheckIncomplete      = "incomplete-read"
	CheckInstalled       = "replacement-installed"
	CheckMutation        = "mutation-reliance"
	CheckRejects         = "replacement-rejects"
	CheckLoosened        = "protection-loosened"
	CheckSeccomp         = "seccomp-annotation"
	CheckAppArmor        = "apparmor-annotation"
	CheckDangerous       = "dangerous-grants"
	CheckRejectedToday   = "rejected-today"
	CheckAdmissionPlugin = "admission-plugin"
	CheckPSPRBAC         = "psp-rbac"
)

// Version is a Kubernetes minor release, v1.<Minor>.
type Version struct{ Minor int }

// ParseVersion reads "v1.25", "1.25" or "v1.25.3".
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "1" {
		return Version{}, fmt.Errorf("invalid Kubernetes version %q: want v1.MINOR", s)
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil || minor < 0 || minor > 99 {
		return Version{}, fmt.Errorf("invalid Kubernetes version %q: want v1.MINOR", s)
	}
	return Version{Minor: minor}, nil
}

// String renders "v1.<Minor>".
func (v Version) String() string { return "v1." + strconv.Itoa(v.Minor) }

// Milestones the checks know.
var (
	// PSPRemoved is the first release without PodSecurityPolicy.
	PSPRemoved = Version{25}
	// SeccompAnnotationIgnored is the first release where the seccomp
	// annotations no longer set the seccompProfile field (checked on a real
	// v1.30.14: no field is set, the server warns, PodSecurity restricted
	// rejects the pod).
	SeccompAnnotationIgnored = Version{27}
	// AppArmorField is the release that added securityContext.appArmorProfile
	// and deprecated the AppArmor annotations.
	AppArmorField = Version{30}
	// VAPGA is the first release serving admissionregistration.k8s.io/v1
	// ValidatingAdmissionPolicy, on by default.
	VAPGA = Version{30}
	// PSAGA is the first release with PodSecurity admission on by default.
	PSAGA = Version{23}
)

// Cluster is what the live server says about itself; nil offline.
type Cluster struct {
	Version Version
	// Served holds "group/version/resource" of every resource served, for
	// the installed-replacement check.
	Served map[string]bool
}

// engineResources is what a replacement needs the server to serve.
var engineResources = map[string][]string{
	translate.EngineVAP:        {"admissionregistration.k8s.io/v1/validatingadmissionpolicies", "admissionregistration.k8s.io/v1/validatingadmissionpolicybindings"},
	translate.EngineKyverno:    {"kyverno.io/v1/clusterpolicies"},
	translate.EngineKyvernoCEL: {"policies.kyverno.io/v1/validatingpolicies"},
	translate.EngineGatekeeper: {"templates.gatekeeper.sh/v1/constrainttemplates"},
	translate.EngineKubewarden: {"policies.kubewarden.io/v1/clusteradmissionpolicies", "policies.kubewarden.io/v1/clusteradmissionpolicygroups"},
}

// EngineResources lists what engine needs served, for discovery.
func EngineResources(engine string) []string { return slices.Clone(engineResources[engine]) }

// Input is everything a readiness run reads.
type Input struct {
	// Audit is the audit of the cluster at the target's Pod Security
	// Standards version, with Engine's predictions unless Engine is psa.
	Audit     *report.AuditReport
	Inventory *inventory.Inventory
	Engine    string
	Target    Version
	Cluster   *Cluster
	// Observe and Enforce are the replacement's manifests (engines other
	// than psa) in audit/warn mode and in enforce mode, for steps 2 and 4.
	Observe, Enforce []translate.Manifest
	// ObserveMode is the mode Observe was rendered in (audit or warn).
	ObserveMode string
	// Now dates the admission-plugin evidence.
	Now         time.Time
	ToolVersion string
}

type workloadKey struct{ namespace, kind, name string }

// Evaluate runs every check and builds the plan.
func Evaluate(in Input) (*Report, error) {
	if in.Audit == nil || in.Inventory == nil {
		return nil, fmt.Errorf("readiness: no audit to judge")
	}
	if _, ok := engineResources[in.Engine]; !ok && in.Engine != translate.EnginePSA {
		return nil, fmt.Errorf("readiness: unknown replacement %q", in.Engine)
	}
	rep := &Report{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata: Metadata{
			ToolVersion: in.ToolVersion,
			Sources:     slices.Clone(in.Audit.Metadata.Sources),
			Target:      in.Target.String(),
			Engine:      in.Engine,
			PSSVersion:  in.Audit.Metadata.PSSVersion,
		},
		Checks:     []Check{},
		Incomplete: []string{},
	}
	if in.Cluster != nil {
		rep.Metadata.ClusterVersion = in.Cluster.Version.String()
	}
	for _, i := range in.Audit.Incomplete {
		rep.Incomplete = append(rep.Incomplete, i.String())
	}
	rep.Warnings = slices.Clone(in.Audit.Warnings)

	p := newPlanner(in)
	rep.Checks = append(rep.Checks,
		checkIncomplete(in),
		checkInstalled(in),
		checkMutation(in, p),
		checkRejects(in),
		checkLoosened(in),
		checkSeccomp(in, p),
		checkAppArmor(in),
		checkDangerous(in),
		checkRejectedToday(in),
		checkAdmissionPlugin(in),
		checkPSPRBAC(in, p),
	)
	rep.Plan = p.steps()
	summarize(rep)
	rep.Summary.Workloads = len(in.Audit.Workloads)
	return rep, nil
}

func summarize(rep *Report) {
	blocked := map[string]bool{}
	for _, c := range rep.Checks {
		switch c.Status {
		case Block:
			rep.Summary.Block++
			for _, it := range c.Items {
				if it.Kind != "Namespace" {
					blocked[it.String()] = true
				}
			}
		case Warn:
			rep.Summary.Warn++
		case Manual:
			rep.Summary.Manual++
		case Pass:
			rep.Summary.Pass++
		case Info:
			rep.Summary.Info++
		}
	}
	rep.Summary.BlockedWorkloads = len(blocked)
	switch {
	case rep.Summary.Block > 0:
		rep.Verdict = NotReady
	case rep.Summary.Warn > 0:
		rep.Verdict = ReadyWithWarnings
	default:
		rep.Verdict = Ready
	}
}

// newCheck fills Status from the items: pass when none, else status.
func newCheck(id, title, status string, items []Item, passDetail, failDetail string) Check {
	c := Check{ID: id, Title: title, Status: Pass, Count: len(items), Items: items, Detail: passDetail}
	if c.Items == nil {
		c.Items = []Item{}
	}
	if len(items) > 0 {
		c.Status, c.Detail = status, failDetail
	}
	return c
}

func checkIncomplete(in Input) Check {
	var items []Item
	for _, i := range in.Audit.Incomplete {
		items = append(items, Item{Namespace: i.Namespace, Kind: "Resource", Name: i.Resource, Reason: i.Message})
	}
	return newCheck(CheckIncomplete, "the cluster was read completely", Block, items,
		"every resource type the checks need was listed",
		"some resource types could not be read, so workloads may be missing from every other check: fix the permissions (see the audit's incomplete[]) and run again")
}

func checkInstalled(in Input) Check {
	title := "the replacement is available on the cluster"
	c := Check{ID: CheckInstalled, Title: title, Items: []Item{}}
	switch {
	case in.Engine == translate.EnginePSA:
		if in.Cluster != nil && in.Cluster.Version.Minor < PSAGA.Minor {
			c.Status, c.Detail = Block, fmt.Sprintf("Pod Security Admission is on by default from %s; this cluster runs %s: upgrade to %s first, or enable the PodSecurity feature gate", PSAGA, in.Cluster.Version, PSAGA)
			return c
		}
		c.Status, c.Detail = Pass, "Pod Security Admission is built into the API server (on by default since "+PSAGA.String()+")"
	case in.Cluster == nil:
		c.Status = Manual
		c.Detail = fmt.Sprintf("offline: confirm that the cluster serves %s before step 2", strings.Join(engineResources[in.Engine], ", "))
	default:
		for _, r := range engineResources[in.Engine] {
			if !in.Cluster.Served[r] {
				group, rest, _ := strings.Cut(r, "/")
				version, resource, _ := strings.Cut(rest, "/")
				c.Items = append(c.Items, Item{Kind: "APIResource", Name: resource + "." + group + "/" + version, Reason: "not served"})
			}
		}
		c.Count = len(c.Items)
		if c.Count > 0 {
			c.Status = Block
			c.Detail = fmt.Sprintf("the cluster does not serve what %s needs: install it (its CRDs and admission webhook) before step 2", in.Engine)
			if in.Engine == translate.EngineVAP {
				c.Detail = fmt.Sprintf("ValidatingAdmissionPolicy is served (v1, on by default) from %s", VAPGA)
			}
		} else {
			c.Status, c.Detail = Pass, fmt.Sprintf("the cluster serves %s", strings.Join(engineResources[in.Engine], ", "))
		}
	}
	return c
}

func workloadItem(w *report.Workload, reason string) Item {
	return Item{Namespace: w.Namespace, Kind: w.Kind, Name: w.Name, Reason: reason}
}

// rejectedToday: PSP admission refuses the workload's template (or the
// bare pod), and no pod of it runs: it cannot be running today.
func rejectedToday(w *report.Workload) bool {
	return w.PSP != nil && w.PSP.AdmittedBy == nil && w.Pods == 0
}

func checkMutation(in Input, p *planner) Check {
	var items []Item
	for i := range in.Audit.Workloads {
		w := &in.Audit.Workloads[i]
		if !w.ReliesOnMutation || rejectedToday(w) {
			continue
		}
		var paths []string
		for _, f := range w.FieldsToSet {
			paths = append(paths, f.Path)
		}
		items = append(items, workloadItem(w, "the PSP filled in "+strings.Join(paths, ", ")))
		p.addFields(w)
	}
	return newCheck(CheckMutation, "no workload relies on what a PSP filled in", Block, items,
		"no workload passes only because a PSP mutated it",
		"once PSP is gone their next pods lack these fields and run with weaker settings, or are rejected by the replacement: set them in each template (step 1)").withStep(p.hasFixes(), 1)
}

func (c Check) withStep(ok bool, step int) Check {
	if ok {
		c.Step = step
	}
	return c
}

func checkRejects(in Input) Check {
	var items []Item
	title := "the replacement admits every workload"
	if in.Engine == translate.EnginePSA {
		enforce := enforceLevels(in.Audit)
		fixed := fixedLevels(in.Audit)
		for i := range in.Audit.Workloads {
			w := &in.Audit.Workloads[i]
			if rejectedToday(w) || w.System {
				continue
			}
			level, ok := enforce[w.Namespace]
			meets := fixed[workloadKey{w.Namespace, w.Kind, w.Name}]
			if !ok || pss.Compare(meets, level) >= 0 {
				continue
			}
			items = append(items, workloadItem(w, fmt.Sprintf("meets %s, namespace enforces %s (%s)", meets, level, firstPSSReason(&w.PSS, level))))
		}
		return newCheck(CheckRejects, title, Block, items,
			"every workload meets the Pod Security level its namespace will enforce (current labels kept, the others set as the audit recommends)",
			"these namespaces already carry an enforce label stricter than their workloads meet at "+in.Audit.Metadata.PSSVersion+": their next pods are rejected once PSP no longer admits them differently; fix the workloads or lower the label")
	}
	for i := range in.Audit.Workloads {
		w := &in.Audit.Workloads[i]
		if rejectedToday(w) || !slices.Contains(w.RejectedBy, in.Engine) {
			continue
		}
		items = append(items, workloadItem(w, firstDenial(w, in.Engine)))
	}
	return newCheck(CheckRejects, title, Block, items,
		"the converted "+in.Engine+" policies admit every workload's template and pods",
		"the converted "+in.Engine+" policies would reject these workloads' next pods: fix the templates (step 1 sets what PSPs filled in), or convert with other options")
}

// checkLoosened lists the namespaces whose Pod Security level allows what
// every PSP usable there forbade (the audit's namespaces[].protectionLost).
// The engines' converted policies carry each PSP's own rules, so for them
// nothing is loosened beyond what convert warns about.
func checkLoosened(in Input) Check {
	title := "the replacement keeps what the PSPs forbade"
	if in.Engine != translate.EnginePSA {
		return newCheck(CheckLoosened, title, Warn, nil,
			"the converted "+in.Engine+" policies carry each PSP's own rules (convert's warnings name what an engine can only approximate)", "")
	}
	var items []Item
	for _, ns := range in.Audit.Namespaces {
		if len(ns.ProtectionLost) == 0 {
			continue
		}
		var lost []string
		for _, l := range ns.ProtectionLost {
			lost = append(lost, l.Message)
		}
		items = append(items, Item{Kind: "Namespace", Name: ns.Name, Reason: strings.Join(lost, "; ")})
	}
	return newCheck(CheckLoosened, title, Warn, items,
		"in every namespace, the recommended Pod Security level forbids at least what the PSPs usable there forbade",
		"in these namespaces the recommended Pod Security level allows things every PSP usable there forbade: decide whether that is acceptable, or keep the PSPs' rules with a policy engine (--engine vap, kyverno, ...)")
}

// enforceLevels is the enforce level each namespace will have after step
// 4: the current label where one is set (never overridden), else the level
// the plan sets (planLevels).
func enforceLevels(a *report.AuditReport) map[string]string {
	out := planLevels(a)
	for _, ns := range a.Namespaces {
		if l, ok := ns.CurrentLabels["pod-security.kubernetes.io/enforce"]; ok {
			out[ns.Name] = l
		}
	}
	return out
}

// fixedLevels is the level each workload meets once step 1 has set in its
// template what the PSP filled in: for a workload that relies on mutation,
// the level of its pods, which carry those fields (its template alone is
// judged without them); for the others, their own.
func fixedLevels(a *report.AuditReport) map[workloadKey]string {
	podLevel := map[workloadKey]string{}
	for _, p := range a.Pods {
		k := workloadKey{p.Namespace, p.Workload.Kind, p.Workload.Name}
		if l, ok := podLevel[k]; !ok || pss.Compare(p.PSS.Level, l) < 0 {
			podLevel[k] = p.PSS.Level
		}
	}
	out := map[workloadKey]string{}
	for i := range a.Workloads {
		w := &a.Workloads[i]
		k := workloadKey{w.Namespace, w.Kind, w.Name}
		out[k] = w.PSS.Level
		if l, ok := podLevel[k]; ok && w.ReliesOnMutation {
			out[k] = l
		}
	}
	return out
}

// planLevels is the enforce level the plan sets per namespace: the level
// every workload counted there meets once step 1 is done (workloads PSP
// rejects today are not counted, as in the audit's recommendation), never
// below the audit's recommendation. Recommending from the templates as they
// are would hold a namespace to the level of its unfixed templates for
// good, when step 1 comes first.
func planLevels(a *report.AuditReport) map[string]string {
	fixed := fixedLevels(a)
	lowest := map[string]string{}
	for i := range a.Workloads {
		w := &a.Workloads[i]
		if rejectedToday(w) {
			continue
		}
		l := fixed[workloadKey{w.Namespace, w.Kind, w.Name}]
		if cur, ok := lowest[w.Namespace]; !ok || pss.Compare(l, cur) < 0 {
			lowest[w.Namespace] = l
		}
	}
	out := map[string]string{}
	for _, ns := range a.Namespaces {
		l, ok := ns.Labels["pod-security.kubernetes.io/enforce"]
		if !ok {
			continue
		}
		if f, ok := lowest[ns.Name]; ok && pss.Compare(f, l) > 0 {
			l = f
		}
		out[ns.Name] = l
	}
	return out
}

func firstPSSReason(r *report.PSSResult, level string) string {
	lr := r.Baseline
	if level == pss.Restricted && r.Baseline.Allowed {
		lr = r.Restricted
	}
	if len(lr.Reasons) == 0 {
		return "no reason given"
	}
	return lr.Reasons[0].Reason + ": " + lr.Reasons[0].Detail
}

func firstDenial(w *report.Workload, engine string) string {
	for _, v := range w.Policies {
		if v.Engine == engine && !v.Allowed && len(v.Reasons) > 0 {
			return v.Reasons[0]
		}
	}
	return "denied by a pod of the workload (see audit --engine " + engine + ")"
}

// templates lists every controller template and bare pod of the audit's
// scope, as workload key → pod meta and spec.
func templates(inv *inventory.Inventory) map[workloadKey]*corev1.PodTemplateSpec {
	out := map[workloadKey]*corev1.PodTemplateSpec{}
	owned := map[string]bool{}
	for _, t := range inv.PodTemplates() {
		if t.Template == nil {
			continue
		}
		for _, ref := range t.Meta.OwnerReferences {
			if ref.Controller != nil && *ref.Controller {
				owned[t.Kind+"/"+t.Meta.Namespace+"/"+t.Meta.Name] = true
			}
		}
		out[workloadKey{t.Meta.Namespace, t.Kind, t.Meta.Name}] = t.Template
	}
	// Only top-level owners are workloads: a Deployment's ReplicaSets and
	// a CronJob's Jobs are not listed on their own.
	for k := range out {
		if owned[k.kind+"/"+k.namespace+"/"+k.name] {
			delete(out, k)
		}
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if len(p.OwnerReferences) == 0 {
			out[workloadKey{p.Namespace, "Pod", p.Name}] = &corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
		}
	}
	return out
}

// seccompOnlyByAnnotation lists the seccomp annotations of t that no
// seccompProfile field backs.
func seccompOnlyByAnnotation(t *corev1.PodTemplateSpec) []string {
	var out []string
	if v, ok := t.Annotations[psp.SeccompPodAnnotation]; ok && (t.Spec.SecurityContext == nil || t.Spec.SecurityContext.SeccompProfile == nil) {
		out = append(out, "pod: "+v)
	}
	for _, c := range allContainers(&t.Spec) {
		if v, ok := t.Annotations[psp.SeccompContainerAnnotationPrefix+c.Name]; ok && (c.SecurityContext == nil || c.SecurityContext.SeccompProfile == nil) {
			out = append(out, c.Name+": "+v)
		}
	}
	return out
}

func allContainers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	return out
}

func checkSeccomp(in Input, p *planner) Check {
	var items []Item
	tpls := templates(in.Inventory)
	for _, k := range sortedWorkloadKeys(tpls) {
		if in.Audit.Metadata.Namespace != "" && k.namespace != in.Audit.Metadata.Namespace {
			continue
		}
		if found := seccompOnlyByAnnotation(tpls[k]); len(found) > 0 {
			items = append(items, Item{Namespace: k.namespace, Kind: k.kind, Name: k.name, Reason: "seccomp set only by annotation (" + strings.Join(found, ", ") + ")"})
			p.addSeccomp(k, tpls[k])
		}
	}
	status := Warn
	detail := fmt.Sprintf("the seccomp annotations stop working in %s: set securityContext.seccompProfile (step 1 does) before upgrading past v1.26", SeccompAnnotationIgnored)
	if in.Target.Minor >= SeccompAnnotationIgnored.Minor {
		status = Block
		detail = fmt.Sprintf("from %s the seccomp annotations are ignored: these workloads would silently run unconfined on %s (and fail restricted): set securityContext.seccompProfile (step 1 does)", SeccompAnnotationIgnored, in.Target)
	}
	return newCheck(CheckSeccomp, "seccomp profiles are set by field, not only by annotation", status, items,
		"no workload sets its seccomp profile by annotation alone", detail).withStep(len(items) > 0, 1)
}

func checkAppArmor(in Input) Check {
	var items []Item
	tpls := templates(in.Inventory)
	for _, k := range sortedWorkloadKeys(tpls) {
		if in.Audit.Metadata.Namespace != "" && k.namespace != in.Audit.Metadata.Namespace {
			continue
		}
		var found []string
		for key, v := range tpls[k].Annotations {
			if name, ok := strings.CutPrefix(key, psp.AppArmorContainerAnnotationPrefix); ok {
				found = append(found, name+": "+v)
			}
		}
		if len(found) > 0 {
			sort.Strings(found)
			items = append(items, Item{Namespace: k.namespace, Kind: k.kind, Name: k.name, Reason: "AppArmor set by annotation (" + strings.Join(found, ", ") + ")"})
		}
	}
	if in.Target.Minor < AppArmorField.Minor {
		return newCheck(CheckAppArmor, "AppArmor profiles are set the way the target expects", Pass, items,
			"before "+AppArmorField.String()+" the AppArmor annotations are the only way to set a profile",
			"before "+AppArmorField.String()+" the AppArmor annotations are the only way to set a profile; they keep working on "+in.Target.String())
	}
	return newCheck(CheckAppArmor, "AppArmor profiles are set the way the target expects", Warn, items,
		"no workload sets AppArmor by annotation",
		fmt.Sprintf("the AppArmor annotations are deprecated from %s in favour of securityContext.appArmorProfile: move them when you next change these templates", AppArmorField))
}

func checkDangerous(in Input) Check {
	// One finding per PSP and binding: five controllers reached through
	// one binding are one grant to fix.
	type key struct{ psp, via string }
	var order []key
	subjects := map[key][]string{}
	allows := map[key][]string{}
	for _, f := range in.Audit.DangerousGrants {
		k := key{f.PSP, f.Via}
		if _, ok := subjects[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(subjects[k], f.Subject) {
			subjects[k] = append(subjects[k], f.Subject)
		}
		for _, a := range f.Allows {
			if !slices.Contains(allows[k], a) {
				allows[k] = append(allows[k], a)
			}
		}
	}
	var items []Item
	for _, k := range order {
		items = append(items, Item{Kind: "PodSecurityPolicy", Name: k.psp,
			Reason: fmt.Sprintf("%s lets %s use it (%s)", k.via, strings.Join(subjects[k], ", "), strings.Join(allows[k], ", "))})
	}
	return newCheck(CheckDangerous, "no dangerous PSP grants", Warn, items,
		"no privileged PSP is usable by broad groups or controller identities",
		"these grants let broad groups or every pod of a controller use a privileged PSP; --scope rbac keeps them in the converted policies, so review them before converting")
}

func checkRejectedToday(in Input) Check {
	var items []Item
	for i := range in.Audit.Workloads {
		w := &in.Audit.Workloads[i]
		if rejectedToday(w) {
			items = append(items, workloadItem(w, firstPSPError(w.PSP)))
		}
	}
	return newCheck(CheckRejectedToday, "PSP admits every workload today", Info, items,
		"PSP admission admits every workload's pods today",
		"PSP admission rejects these workloads today, so none of their pods runs; the replacement may admit them once PSP is gone: check that this is what you want")
}

func firstPSPError(v *report.PSPVerdict) string {
	if v == nil {
		return ""
	}
	// By PSP name: Errors is a map, and the report must not change from one
	// run to the next.
	names := make([]string, 0, len(v.Errors))
	for name := range v.Errors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if errs := v.Errors[name]; len(errs) > 0 {
			return errs[0]
		}
	}
	return v.Reason
}

func checkAdmissionPlugin(in Input) Check {
	c := Check{ID: CheckAdmissionPlugin, Title: "the PodSecurityPolicy admission plugin is off before the upgrade", Status: Manual, Items: []Item{}, Step: 5}
	var newest time.Time
	var count int
	for i := range in.Inventory.Pods {
		p := &in.Inventory.Pods[i]
		if _, ok := p.Annotations[psp.PodAnnotation]; ok {
			count++
			if t := p.CreationTimestamp.Time; t.After(newest) {
				newest = t
			}
		}
	}
	evidence := "no pod carries the kubernetes.io/psp annotation"
	if count > 0 {
		evidence = fmt.Sprintf("%d pods carry the kubernetes.io/psp annotation PSP admission writes", count)
		if !newest.IsZero() {
			evidence += fmt.Sprintf(", the newest created %s", newest.UTC().Format(time.RFC3339))
			if !in.Now.IsZero() && in.Now.Sub(newest) < 24*time.Hour {
				evidence += " (within a day: the plugin is on)"
			}
		}
	}
	c.Detail = "a v1.25+ API server refuses to start while PodSecurityPolicy is in --enable-admission-plugins, and this tool cannot read the server's flags: remove it in step 5. Evidence: " + evidence
	c.Count = count
	return c
}

// grantsUse reports whether a rule grants use of PSPs by naming them: a
// wildcard rule (cluster-admin's) grants far more and keeps its purpose
// after the upgrade.
func grantsUse(r *rbacv1.PolicyRule) bool {
	has := func(list []string, want ...string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return slices.Contains(want, s) })
	}
	return has(r.Verbs, "use", "*") && has(r.APIGroups, "policy", "extensions", "*") && has(r.Resources, "podsecuritypolicies")
}

// onlyPSP reports whether every rule of a role is about PSPs: such a role
// can go with them; a role that also grants other things keeps them.
func onlyPSP(rules []rbacv1.PolicyRule) bool {
	for i := range rules {
		if !grantsUse(&rules[i]) || !slices.Equal(rules[i].Resources, []string{"podsecuritypolicies"}) {
			return false
		}
	}
	return len(rules) > 0
}

func checkPSPRBAC(in Input, p *planner) Check {
	var items []Item
	inv := in.Inventory
	for i := range inv.ClusterRoles {
		r := &inv.ClusterRoles[i]
		if slices.ContainsFunc(r.Rules, func(x rbacv1.PolicyRule) bool { return grantsUse(&x) }) {
			items = append(items, Item{Kind: "ClusterRole", Name: r.Name, Reason: roleReason(r.Rules)})
			p.addRole("clusterrole", "", r.Name, onlyPSP(r.Rules))
		}
	}
	for i := range inv.Roles {
		r := &inv.Roles[i]
		if slices.ContainsFunc(r.Rules, func(x rbacv1.PolicyRule) bool { return grantsUse(&x) }) {
			items = append(items, Item{Namespace: r.Namespace, Kind: "Role", Name: r.Name, Reason: roleReason(r.Rules)})
			p.addRole("role", r.Namespace, r.Name, onlyPSP(r.Rules))
		}
	}
	for i := range inv.ClusterRoleBindings {
		b := &inv.ClusterRoleBindings[i]
		if p.roleRemoved("", b.RoleRef.Kind, b.RoleRef.Name) {
			p.addBinding("clusterrolebinding", "", b.Name)
		}
	}
	for i := range inv.RoleBindings {
		b := &inv.RoleBindings[i]
		if p.roleRemoved(b.Namespace, b.RoleRef.Kind, b.RoleRef.Name) {
			p.addBinding("rolebinding", b.Namespace, b.Name)
		}
	}
	for i := range inv.PodSecurityPolicies {
		p.addPSP(inv.PodSecurityPolicies[i].Name)
	}
	c := newCheck(CheckPSPRBAC, "RBAC that grants PSP use", Info, items,
		"no role grants use of PodSecurityPolicies",
		"these roles grant use of PodSecurityPolicies; after the upgrade they grant nothing: step 5 removes the roles that do nothing else, and their bindings, and lists the rules to remove from the others")
	return c.withStep(len(items) > 0, 5)
}

func roleReason(rules []rbacv1.PolicyRule) string {
	if onlyPSP(rules) {
		return "only grants use of PodSecurityPolicies: removed in step 5"
	}
	return "also grants other things: remove only its podsecuritypolicies rule"
}

func sortedWorkloadKeys[V any](m map[workloadKey]V) []workloadKey {
	out := make([]workloadKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.name < b.name
	})
	return out
}
