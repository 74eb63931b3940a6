package audit

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Pod Security Admission namespace labels.
const (
	labelPrefix         = "pod-security.kubernetes.io/"
	LabelEnforce        = labelPrefix + "enforce"
	LabelEnforceVersion = labelPrefix + "enforce-version"
	LabelAudit          = labelPrefix + "audit"
	LabelAuditVersion   = labelPrefix + "audit-version"
	LabelWarn           = labelPrefix + "warn"
	LabelWarnVersion    = labelPrefix + "warn-version"
)

// namespaces builds the per-namespace verdicts from the workloads and pods
// of rep.
func (a *auditor) namespaces(rep *report.AuditReport) []report.Namespace {
	wls := rep.Workloads
	byName := map[string]*report.Namespace{}
	ensure := func(name string) *report.Namespace {
		n, ok := byName[name]
		if !ok {
			n = &report.Namespace{Name: name, System: a.system[name], RecommendedLevel: pss.Restricted}
			byName[name] = n
		}
		return n
	}
	for i := range a.inv.Namespaces {
		ns := &a.inv.Namespaces[i]
		if !a.inScope(ns.Name) {
			continue
		}
		n := ensure(ns.Name)
		n.Found = true
		for k, v := range ns.Labels {
			if strings.HasPrefix(k, labelPrefix) {
				if n.CurrentLabels == nil {
					n.CurrentLabels = map[string]string{}
				}
				n.CurrentLabels[k] = v
			}
		}
	}
	for _, w := range wls {
		n := ensure(w.Namespace)
		n.Workloads++
		n.Pods += w.Pods
		if rejectedToday(&w) {
			// It cannot be running: holding the namespace to its level
			// would loosen the namespace for nothing.
			n.RejectedToday = append(n.RejectedToday, report.RejectedWorkload{Kind: w.Kind, Name: w.Name, Level: w.PSS.Level, Reason: rejectionReason(w.PSP)})
			continue
		}
		if pss.Compare(w.PSS.Level, n.RecommendedLevel) < 0 {
			n.RecommendedLevel = w.PSS.Level
		}
	}
	usable := a.usablePSPs(rep)
	var checker *protectionChecker
	if a.psp != nil {
		checker = newProtectionChecker(a.eval, a.inv.PodSecurityPolicies)
	}
	out := make([]report.Namespace, 0, len(byName))
	for _, n := range byName {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	// What each namespace would lose is the report's last serial step
	// after a live read: the namespaces are independent, so all CPUs
	// share them.
	parallelFor(len(out), func(i int) {
		n := &out[i]
		n.Labels = recommendedLabels(n.RecommendedLevel, a.eval.Version())
		n.Conflicts = conflicts(n.CurrentLabels, n.Labels)
		if u, ok := usable[n.Name]; ok && checker != nil {
			n.UsablePSPs = u
			if len(u) == 0 {
				n.ProtectionLost = []report.ProtectionLoss{noUsablePSP(n.RecommendedLevel)}
			} else {
				n.ProtectionLost = checker.lost(n.RecommendedLevel, u)
			}
		}
	})
	return out
}

// recommendedLabels enforces the level every workload meets today and
// audits/warns at restricted, so teams see what stands between them and
// the strictest level without anything being rejected.
func recommendedLabels(level, version string) map[string]string {
	return map[string]string{
		LabelEnforce:        level,
		LabelEnforceVersion: version,
		LabelAudit:          pss.Restricted,
		LabelAuditVersion:   version,
		LabelWarn:           pss.Restricted,
		LabelWarnVersion:    version,
	}
}

func conflicts(current, recommended map[string]string) []report.LabelConflict {
	var out []report.LabelConflict
	keys := make([]string, 0, len(recommended))
	for k := range recommended {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cur, ok := current[k]
		if !ok || cur == recommended[k] {
			continue
		}
		out = append(out, report.LabelConflict{Key: k, Current: cur, Recommended: recommended[k], Effect: conflictEffect(k, cur, recommended[k])})
	}
	return out
}

func conflictEffect(key, cur, rec string) string {
	switch key {
	case LabelEnforce, LabelAudit, LabelWarn:
		mode := strings.TrimPrefix(key, labelPrefix)
		switch c := pss.Compare(cur, rec); {
		case !isLevel(cur):
			return fmt.Sprintf("current value %q is not a Pod Security level; PodSecurity admission treats it as restricted", cur)
		case c > 0 && mode == "enforce":
			return fmt.Sprintf("%s=%s is stricter than some workloads here meet: their new pods would be rejected", mode, cur)
		case c > 0:
			return fmt.Sprintf("%s=%s is stricter than some workloads here meet: they will be reported", mode, cur)
		case mode == "enforce":
			return fmt.Sprintf("%s=%s is looser than every workload here needs: it can be raised to %s", mode, cur, rec)
		default:
			return fmt.Sprintf("%s=%s hides what stands between these workloads and %s", mode, cur, rec)
		}
	default:
		return fmt.Sprintf("pinned to %s; the audit evaluated %s", cur, rec)
	}
}

func isLevel(s string) bool {
	return s == pss.Privileged || s == pss.Baseline || s == pss.Restricted
}

// rejectedToday is a workload PSP admission rejects today and that runs no
// pod.
func rejectedToday(w *report.Workload) bool {
	return w.PSP != nil && w.PSP.AdmittedBy == nil && w.Pods == 0
}

func rejectionReason(v *report.PSPVerdict) string {
	if v.Reason != "" {
		return v.Reason
	}
	if v.RejectedAfter != "" {
		return "admitted by " + v.RejectedAfter + ", then rejected: " + strings.Join(v.ValidationErrors, "; ")
	}
	return "rejected by PodSecurityPolicy admission"
}

// usablePSPs is, per namespace, the union of what the PSP model found
// usable there: by its pods, by its templates (as their controllers submit
// them), and by a bare pod of each of its service accounts. It follows the
// model's idea of who may use which PSP, whatever that becomes. A
// namespace the model said nothing about is absent; one where it found no
// usable PSP maps to an empty list.
func (a *auditor) usablePSPs(rep *report.AuditReport) map[string][]string {
	if a.psp == nil {
		return nil
	}
	sets := map[string]map[string]bool{}
	add := func(ns string, v *report.PSPVerdict) {
		if v == nil {
			return
		}
		s := sets[ns]
		if s == nil {
			s = map[string]bool{}
			sets[ns] = s
		}
		for _, n := range v.Usable {
			s[n] = true
		}
	}
	// A pod's usable list already holds what its service account may use,
	// so only service accounts no pod or template runs as are evaluated.
	covered := map[string]bool{}
	for i := range rep.Pods {
		p := &rep.Pods[i]
		add(p.Namespace, p.PSP)
		if p.PSP != nil && !p.Static {
			covered[p.Namespace+"/"+p.ServiceAccount] = true
		}
	}
	for i := range rep.Workloads {
		w := &rep.Workloads[i]
		add(w.Namespace, w.PSP)
		if w.PSP != nil {
			covered[w.Namespace+"/"+w.ServiceAccount] = true
		}
	}
	var accounts []*corev1.ServiceAccount
	for i := range a.inv.ServiceAccounts {
		sa := &a.inv.ServiceAccounts[i]
		if a.inScope(sa.Namespace) && !covered[sa.Namespace+"/"+sa.Name] {
			accounts = append(accounts, sa)
		}
	}
	verdicts := make([]pspadmission.Result, len(accounts))
	parallelFor(len(accounts), func(i int) {
		sa := accounts[i]
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: sa.Namespace},
			Spec:       corev1.PodSpec{ServiceAccountName: sa.Name, Containers: []corev1.Container{{Name: "probe", Image: "probe"}}},
		}
		verdicts[i] = a.psp.eval.Evaluate(pspadmission.Request{Pod: pod, ServiceAccount: sa})
	})
	for i, sa := range accounts {
		add(sa.Namespace, report.NewPSPVerdict(&verdicts[i]))
	}
	out := make(map[string][]string, len(sets))
	for ns, s := range sets {
		list := make([]string, 0, len(s))
		for n := range s {
			list = append(list, n)
		}
		sort.Strings(list)
		out[ns] = list
	}
	return out
}
