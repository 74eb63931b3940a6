package audit

import (
	"fmt"
	"sort"
	"strings"

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

// namespaces builds the per-namespace verdicts from the workloads.
func (a *auditor) namespaces(wls []report.Workload) []report.Namespace {
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
		if pss.Compare(w.PSS.Level, n.RecommendedLevel) < 0 {
			n.RecommendedLevel = w.PSS.Level
		}
	}
	out := make([]report.Namespace, 0, len(byName))
	for _, n := range byName {
		n.Labels = recommendedLabels(n.RecommendedLevel, a.eval.Version())
		n.Conflicts = conflicts(n.CurrentLabels, n.Labels)
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
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
