// Package gatekeeper renders the rule model as Gatekeeper constraints of the
// gatekeeper-library pod-security-policy kinds and, on request, the
// project's own ConstraintTemplates for them (templates.go, with the Rego
// in rego/).
package gatekeeper

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// Engine writes, per converted PSP, one Gatekeeper constraint
// per gatekeeper-library pod-security-policy kind its rules need, and with
// --gatekeeper-templates the project's own ConstraintTemplates for those
// kinds (templates.go).
//
// Gatekeeper ANDs constraints: a pod must satisfy every constraint that
// matches it. PSP admission ORed the PSPs a pod could use. The renderer
// cannot change that, so it scopes each PSP's constraints as narrowly as
// Gatekeeper's match allows, says where the result differs from PSP
// admission, and sets Prediction.AppliedPSPs so that the audit predicts
// what Gatekeeper will do rather than what PSP did.
type Engine struct{}

// API versions of the rendered objects. Constraints use v1beta1, which every
// Gatekeeper release since 3.0 serves; templates v1 (Gatekeeper 3.6+).
const (
	TemplateAPIVersion   = "templates.gatekeeper.sh/v1"
	ConstraintAPIVersion = "constraints.gatekeeper.sh/v1beta1"
	// TemplatesMinVersion is the first Gatekeeper release serving
	// TemplateAPIVersion.
	TemplatesMinVersion = "v3.6"
	target              = "admission.k8s.gatekeeper.sh"
)

// Name implements translate.Engine.
func (Engine) Name() string { return translate.EngineGatekeeper }

// Component implements translate.Engine.
func (Engine) Component() string {
	return ConstraintAPIVersion + " gatekeeper-library pod-security-policy kinds; --gatekeeper-templates " +
		TemplateAPIVersion + " (Gatekeeper >= " + TemplatesMinVersion + ")"
}

// NeedsPolicySet implements translate.Engine.
func (Engine) NeedsPolicySet() bool { return true }

// Prediction implements translate.Engine: constraints are ANDed, and
// select pods by namespace only (appliedPSPs); some kinds enforce a rule
// differently from the PSP (enginePolicy).
func (Engine) Prediction() *translate.Prediction {
	return &translate.Prediction{AppliedPSPs: appliedPSPs, EnginePolicy: enginePolicy}
}

// modeActions maps --mode to spec.enforcementAction.
var modeActions = map[translate.Mode]string{translate.ModeEnforce: "deny", translate.ModeAudit: "dryrun", translate.ModeWarn: "warn"}

// constraint is one constraint of one PSP, before rendering.
type constraint struct {
	kind string
	// params is spec.parameters; nil renders none.
	params map[string]any
}

// pspPlan is what one PSP becomes in Gatekeeper.
type pspPlan struct {
	constraints []constraint
	// rules are what the constraints enforce with the project's own
	// templates, in the rule model: the PSP's rules, except where a kind
	// cannot express one (see warnings), where they hold the stricter (or,
	// for runtimeClass, absent) rule actually rendered.
	rules []translate.Rule
	// warnings name the PSP and field of every such difference.
	warnings []string
}

// planPSP maps one PSP's rules onto the library kinds.
func planPSP(pol *translate.Policy) pspPlan {
	var plan pspPlan
	warn := func(field, format string, args ...any) {
		plan.warnings = append(plan.warnings, fmt.Sprintf("PodSecurityPolicy %q: %s: ", pol.Name, field)+fmt.Sprintf(format, args...))
	}
	params := map[string]map[string]any{}
	use := func(kind string) map[string]any {
		if params[kind] == nil {
			params[kind] = map[string]any{}
		}
		return params[kind]
	}
	keep := func(r translate.Rule) { plan.rules = append(plan.rules, r) }

	var (
		hostPID, hostIPC bool
		volumes          *translate.VolumeTypes
		csi              *translate.CSIDrivers
	)
	for _, r := range pol.Rules {
		switch r := r.(type) {
		case translate.ForbidPrivileged:
			use(kindPrivileged)
			keep(r)
		case translate.ForbidHostNamespace:
			switch r.Namespace {
			case "hostNetwork":
				use(kindHostNetwork)["hostNetwork"] = false
				keep(r)
			case "hostPID":
				hostPID = true
			case "hostIPC":
				hostIPC = true
			}
		case translate.HostPorts:
			p := use(kindHostNetwork)
			ranges := mergePortRanges(r.Ranges)
			switch len(ranges) {
			case 0:
				// No port is in 0-0: hostPort 0 means none.
				p["min"], p["max"] = int64(0), int64(0)
			case 1:
				p["min"], p["max"] = int64(ranges[0].Min), int64(ranges[0].Max)
			default:
				widest := ranges[0]
				for _, pr := range ranges[1:] {
					if pr.Max-pr.Min > widest.Max-widest.Min {
						widest = pr
					}
				}
				p["min"], p["max"] = int64(widest.Min), int64(widest.Max)
				var dropped []string
				for _, pr := range ranges {
					if pr != widest {
						dropped = append(dropped, translate.RangeString(int64(pr.Min), int64(pr.Max)))
					}
				}
				all := make([]string, len(ranges))
				for i, pr := range ranges {
					all[i] = translate.RangeString(int64(pr.Min), int64(pr.Max))
				}
				warn(r.Field(), "the PodSecurityPolicy allows host ports %s, but %s takes one min-max range and constraints cannot be ORed: only the widest, %s, is allowed; host ports %s are rejected",
					strings.Join(all, ", "), kindHostNetwork, translate.RangeString(int64(widest.Min), int64(widest.Max)), strings.Join(dropped, ", "))
				ranges = []psp.HostPortRange{widest}
			}
			keep(translate.HostPorts{Ranges: ranges})
		case translate.VolumeTypes:
			volumes = &r
		case translate.CSIDrivers:
			csi = &r
		case translate.HostPathPrefixes:
			use(kindHostFilesystem)["allowedHostPaths"] = hostPaths(r.Prefixes)
			keep(r)
		case translate.HostPathReadOnly:
			use(kindHostFilesystem)["allowedHostPaths"] = hostPaths(r.Prefixes)
			keep(r)
		case translate.FlexVolumeDrivers:
			drivers := make([]any, len(r.Drivers))
			for i, d := range r.Drivers {
				drivers[i] = map[string]any{"driver": d}
			}
			use(kindFlexVolumes)["allowedFlexVolumes"] = drivers
			keep(r)
		case translate.RunAsUser:
			use(kindUsers)["runAsUser"] = idParams(string(r.Rule), r.Ranges, r.Rule == psp.RunAsUserStrategyMustRunAs)
			keep(r)
		case translate.GroupRule:
			rule := "MayRunAs"
			if r.Must {
				rule = "MustRunAs"
			}
			use(kindUsers)[r.Kind] = idParams(rule, r.Ranges, true)
			keep(r)
		case translate.SELinux:
			o := r.Options
			use(kindSELinux)["allowedSELinuxOptions"] = []any{map[string]any{"user": o.User, "role": o.Role, "type": o.Type, "level": o.Level}}
			keep(r)
		case translate.AllowedCapabilities:
			use(kindCapabilities)["allowedCapabilities"] = translate.AnyStrings(r.Allowed)
			keep(r)
		case translate.RequiredDropCapabilities:
			use(kindCapabilities)["requiredDropCapabilities"] = translate.AnyStrings(r.Required)
			keep(r)
		case translate.ReadOnlyRootFilesystem:
			use(kindReadOnlyFS)
			keep(r)
		case translate.ForbidPrivilegeEscalation:
			use(kindEscalation)
			keep(r)
		case translate.PrivilegeEscalationSet:
			use(kindEscalation)
			keep(translate.ForbidPrivilegeEscalation{})
			warn(r.Field(), "no gatekeeper-library kind requires allowPrivilegeEscalation to be set without fixing its value; %s requires allowPrivilegeEscalation: false instead, so containers asking for true, which the PodSecurityPolicy allowed, are rejected", kindEscalation)
		case translate.ForbiddenSysctls:
			use(kindSysctls)["forbiddenSysctls"] = translate.AnyStrings(r.Patterns)
			keep(r)
		case translate.UnsafeSysctls:
			// The library's allow-list has no implied safe set.
			use(kindSysctls)["allowedSysctls"] = translate.AnyStrings(append(slices.Clone(r.Safe), r.Allowed...))
			keep(r)
		case translate.ProcMountTypes:
			use(kindProcMount)["procMount"] = "Default"
			if !slices.Equal(r.Allowed, []string{"Default"}) {
				warn(r.Field(), "only procMount Default is allowed (%s knows Default and Unmasked only), not %v", kindProcMount, r.Allowed)
			}
			keep(translate.ProcMountTypes{Allowed: []string{"Default"}})
		case translate.RuntimeClassNames:
			warn(r.Field(), "not converted, since no gatekeeper-library kind checks runtimeClassName: nothing enforces what the PodSecurityPolicy required (%s)", strings.TrimPrefix(r.Message(), r.Field()+": "))
		case translate.SeccompProfiles:
			use(kindSeccomp)["allowedProfiles"] = seccompProfiles(r)
			keep(r)
		case translate.AppArmorProfiles:
			allowed := []any{"*"}
			if r.Allowed != nil {
				allowed = translate.AnyStrings(r.Allowed)
			}
			if !r.Required {
				allowed = append(allowed, "")
			}
			use(kindAppArmor)["allowedProfiles"] = allowed
			keep(r)
		default:
			warn(r.Field(), "rule %s is not converted to Gatekeeper", r.ID())
		}
	}

	if hostPID || hostIPC {
		use(kindHostNamespace)
		keep(translate.ForbidHostNamespace{Namespace: "hostPID"})
		keep(translate.ForbidHostNamespace{Namespace: "hostIPC"})
		if hostPID != hostIPC {
			allowed := map[bool]string{true: "hostIPC", false: "hostPID"}[hostPID]
			warn("spec."+allowed, "%s forbids the host PID and IPC namespaces together, so pods using %s, which the PodSecurityPolicy allowed, are rejected", kindHostNamespace, allowed)
		}
	}
	if p := params[kindHostNetwork]; p != nil {
		if _, ok := p["hostNetwork"]; !ok {
			p["hostNetwork"] = true
		}
		if _, ok := p["min"]; !ok {
			// Ports unrestricted: the whole range, stated for templates
			// that read a missing bound as "no port".
			p["min"], p["max"] = int64(0), int64(65535)
		}
	}
	if csi != nil {
		// No library kind reads a CSI volume's driver. Inline CSI volumes
		// go: rejecting them is the side that cannot let a pod through
		// that the PSP stopped.
		v := translate.VolumeTypes{}
		allTypes := volumes == nil
		if !allTypes {
			v.Allowed = slices.DeleteFunc(slices.Clone(volumes.Allowed), func(t psp.FSType) bool { return t == psp.CSI })
		} else {
			for _, s := range translate.VolumeSources() {
				if s.Type != psp.CSI {
					v.Allowed = append(v.Allowed, s.Type)
				}
			}
		}
		v.AllowServiceAccountToken = slices.Contains(v.Allowed, psp.Secret) && !slices.Contains(v.Allowed, psp.Projected)
		volumes = &v
		extra := ""
		if allTypes {
			extra = " (and, since the PodSecurityPolicy allowed every volume type, volume types the list of PodSecurityPolicy volume types does not name, such as image, are rejected too)"
		}
		warn(csi.Field(), "no gatekeeper-library kind checks CSI drivers, so inline CSI volumes are rejected altogether, drivers %s included%s",
			strings.Join(csi.Drivers, ", "), extra)
	}
	if volumes != nil {
		names := make([]string, len(volumes.Allowed))
		for i, t := range volumes.Allowed {
			names[i] = string(t)
		}
		use(kindVolumes)["volumes"] = translate.AnyStrings(names)
		keep(*volumes)
	}

	kinds := make([]string, 0, len(params))
	for k := range params {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := constraint{kind: k}
		if len(params[k]) > 0 {
			c.params = params[k]
		}
		plan.constraints = append(plan.constraints, c)
	}
	return plan
}

// mergePortRanges sorts ranges and joins overlapping and adjacent ones, so
// that a list the library's single range can hold is recognised.
func mergePortRanges(ranges []psp.HostPortRange) []psp.HostPortRange {
	sorted := slices.Clone(ranges)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Min < sorted[j].Min })
	var out []psp.HostPortRange
	for _, r := range sorted {
		if n := len(out); n > 0 && r.Min <= out[n-1].Max+1 {
			out[n-1].Max = max(out[n-1].Max, r.Max)
			continue
		}
		out = append(out, r)
	}
	return out
}

func hostPaths(prefixes []psp.AllowedHostPath) []any {
	out := make([]any, len(prefixes))
	for i, p := range prefixes {
		out[i] = map[string]any{"pathPrefix": p.PathPrefix, "readOnly": p.ReadOnly}
	}
	return out
}

func idParams(rule string, ranges []psp.IDRange, withRanges bool) map[string]any {
	out := map[string]any{"rule": rule}
	if withRanges {
		rs := make([]any, len(ranges))
		for i, r := range ranges {
			rs[i] = map[string]any{"min": r.Min, "max": r.Max}
		}
		out["ranges"] = rs
	}
	return out
}

// seccompProfiles encodes the rule in allowedProfiles: "*" for any set
// profile, "" for an unset one. A required pod-level profile needs no
// marker: with the pod's field set, every container has a profile, so
// leaving "" out requires exactly that.
func seccompProfiles(r translate.SeccompProfiles) []any {
	out := translate.AnyStrings(r.Named)
	if r.Any {
		out = append(out, "*")
	}
	if r.Unset && !r.PodRequired {
		out = append(out, "")
	}
	return out
}

// usableNamespaces lists where a PSP's constraints apply under ScopeRBAC: the
// namespaces whose every service account may use it, widened by the
// namespaces of the single service accounts that may (a constraint cannot
// select a service account); everywhere when it is usable in every namespace.
func usableNamespaces(u *rbac.Usability) (namespaces []string, everywhere bool) {
	if u == nil {
		return nil, false
	}
	if u.Everywhere {
		return nil, true
	}
	set := map[string]bool{}
	for _, ns := range u.Namespaces {
		set[ns] = true
	}
	for _, sa := range u.ServiceAccounts {
		ns, _, _ := strings.Cut(sa, "/")
		set[ns] = true
	}
	return translate.SortedKeys(set), false
}

// appliedPSPs is Prediction.AppliedPSPs: the PSPs whose constraints match a
// pod in namespace, exactly as Render scopes them. The service account does
// not matter: Gatekeeper cannot tell them apart.
func appliedPSPs(set *translate.PolicySet, namespace, _ string) []int {
	var out []int
	for i := range set.Policies {
		if set.Options.Scope != translate.ScopeRBAC {
			out = append(out, i)
			continue
		}
		nss, everywhere := usableNamespaces(set.Usability[set.Policies[i].Name])
		if everywhere || slices.Contains(nss, namespace) {
			out = append(out, i)
		}
	}
	return out
}

// enginePolicy is Prediction.EnginePolicy: policy i as its constraints
// enforce it with the project's own templates.
func enginePolicy(set *translate.PolicySet, i int) translate.Policy {
	pol := &set.Policies[i]
	return translate.Policy{Name: pol.Name, Rules: planPSP(pol).rules, Notes: pol.Notes, DefaultNotes: pol.DefaultNotes}
}

// constraintName is the name of every constraint converted from one PSP
// (one per kind, so the name need only be unique per PSP): a DNS-1123
// label, since Gatekeeper reuses constraint names in labels. PSP names may
// hold dots and be up to 253 characters; when the name had to change, a
// hash of the PSP name keeps two PSPs apart.
func constraintName(pspName string) string {
	name := "psp-migrate-" + strings.ReplaceAll(pspName, ".", "-")
	if !strings.Contains(pspName, ".") && len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(pspName))
	if len(name) > 52 {
		name = strings.TrimRight(name[:52], "-")
	}
	return name + "-" + hex.EncodeToString(sum[:])[:10]
}

// Render implements translate.Engine.
func (e Engine) Render(in translate.Input) (translate.Output, error) {
	set := in.Set
	if set == nil {
		return translate.Output{}, errors.New("gatekeeper: no policies to render")
	}
	action, ok := modeActions[set.Options.Mode]
	if !ok {
		return translate.Output{}, fmt.Errorf("gatekeeper: invalid mode %q", set.Options.Mode)
	}
	var out translate.Output
	kindsUsed := map[string]bool{}
	var constraints []translate.Object
	rendered := 0
	for i := range set.Policies {
		pol := &set.Policies[i]
		match := map[string]any{
			// PSP checked pods; Gatekeeper's webhook also sends the
			// pods/ephemeralcontainers subresource, whose object is the
			// Pod, so ephemeral containers are checked too.
			"kinds": []any{map[string]any{"apiGroups": []any{""}, "kinds": []any{"Pod"}}},
		}
		if ex := set.Options.ExcludeNamespaces; len(ex) > 0 {
			match["excludedNamespaces"] = translate.AnyStrings(ex)
		}
		if set.Options.Scope == translate.ScopeRBAC {
			u := set.Usability[pol.Name]
			nss, everywhere := usableNamespaces(u)
			if !everywhere {
				if len(nss) == 0 {
					out.Warnings = append(out.Warnings, fmt.Sprintf("PodSecurityPolicy %q: no service account may use it (--scope rbac), so no constraint is written for it", pol.Name))
					continue
				}
				match["namespaces"] = translate.AnyStrings(nss)
			}
		}
		plan := planPSP(pol)
		if len(plan.constraints) == 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("PodSecurityPolicy %q: allows everything, so no constraint is written for it", pol.Name))
			continue
		}
		if u := set.Usability[pol.Name]; set.Options.Scope == translate.ScopeRBAC && u != nil && !u.Everywhere && len(u.ServiceAccounts) > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("PodSecurityPolicy %q: granted to service accounts %s; a constraint cannot select a service account, so its constraints apply to every pod of namespace(s) %s",
				pol.Name, strings.Join(u.ServiceAccounts, ", "), strings.Join(saNamespaces(u.ServiceAccounts), ", ")))
		}
		out.Warnings = append(out.Warnings, plan.warnings...)
		rendered++
		name := constraintName(pol.Name)
		labels, annotations := translate.Provenance(translate.EngineGatekeeper, []string{pol.Name}, set.Options)
		annotations[translate.AnnotationScope] = string(set.Options.Scope)
		annotations[translate.AnnotationMode] = string(set.Options.Mode)
		for _, c := range plan.constraints {
			kindsUsed[c.kind] = true
			spec := map[string]any{"enforcementAction": action, "match": deepCopyMap(match)}
			if c.params != nil {
				spec["parameters"] = c.params
			}
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": ConstraintAPIVersion,
				"kind":       c.kind,
				"metadata":   meta(name, labels, annotations),
				"spec":       spec,
			}}
			constraints = append(constraints, translate.Object{Engine: translate.EngineGatekeeper, Object: obj, FileName: translate.FileName(translate.EngineGatekeeper, c.kind, name)})
		}
	}
	if rendered == 0 {
		// Not an error: a PSP that admits every pod (or that nobody may
		// use) rightly becomes no constraint at all. Say so, so an empty
		// output is not mistaken for a failure.
		out.Warnings = append(out.Warnings, fmt.Sprintf("gatekeeper: nothing to write: no constraint is needed for %s (each admits every pod, or nobody may use it)", strings.Join(set.PSPNames(), ", ")))
	}

	if set.Options.GatekeeperTemplates {
		labels, annotations := translate.Provenance(translate.EngineGatekeeper, set.PSPNames(), set.Options)
		for _, kind := range templateKinds() {
			if kindsUsed[kind] {
				o, err := templateObject(kind, labels, annotations)
				if err != nil {
					return translate.Output{}, err
				}
				out.Objects = append(out.Objects, o)
			}
		}
	}
	out.Objects = append(out.Objects, constraints...)
	out.Warnings = append(out.Warnings, e.scopeWarnings(set)...)
	out.Warnings = append(out.Warnings, translate.RequesterIgnoredWarnings(set, "a Gatekeeper constraint cannot select pods by who creates them, so those grants are not converted: its constraints apply only where a pod's service account, or every authenticated user, may use it")...)
	out.Warnings = append(out.Warnings, translate.SkippedWarnings(set)...)
	return out, nil
}

// scopeWarnings says where ANDed constraints differ from PSP admission's OR.
func (Engine) scopeWarnings(set *translate.PolicySet) []string {
	if set.Options.Scope != translate.ScopeRBAC {
		var names []string
		for i := range set.Policies {
			if len(planPSP(&set.Policies[i]).constraints) > 0 {
				names = append(names, set.Policies[i].Name)
			}
		}
		if len(names) < 2 {
			return nil
		}
		return []string{fmt.Sprintf("Gatekeeper requires a pod to satisfy every constraint that matches it: with --scope cluster each pod must now satisfy all of %s, where PSP admission needed one of them; convert one PodSecurityPolicy with --psp, or use -e vap or -e kyverno, which keep the OR",
			strings.Join(names, ", "))}
	}
	var warnings []string
	// usable: where any PSP is usable (PSP admission admitted some pods);
	// byNamespace and all: the PSPs with constraints, which are ANDed.
	everywhere := false
	usable := map[string]bool{}
	byNamespace := map[string][]string{}
	var all []string
	for i := range set.Policies {
		pol := &set.Policies[i]
		nss, e := usableNamespaces(set.Usability[pol.Name])
		everywhere = everywhere || e
		for _, ns := range nss {
			usable[ns] = true
		}
		if len(planPSP(pol).constraints) == 0 {
			continue
		}
		if e {
			all = append(all, pol.Name)
		}
		for _, ns := range nss {
			byNamespace[ns] = append(byNamespace[ns], pol.Name)
		}
	}
	var several []string
	for _, ns := range translate.SortedKeys(namespaceSet(byNamespace)) {
		if set.Excluded(ns) {
			continue
		}
		if psps := append(slices.Clone(all), byNamespace[ns]...); len(psps) > 1 {
			sort.Strings(psps)
			several = append(several, fmt.Sprintf("%s (%s)", ns, strings.Join(psps, ", ")))
		}
	}
	if len(all) > 1 {
		several = append([]string{fmt.Sprintf("every namespace (%s)", strings.Join(all, ", "))}, several...)
	}
	if len(several) > 0 {
		warnings = append(warnings, "Gatekeeper requires a pod to satisfy every constraint that matches it, where PSP admission needed one usable PodSecurityPolicy: pods must now satisfy all PodSecurityPolicies converted for their namespace in "+
			strings.Join(several, "; ")+"; use -e vap or -e kyverno to keep the OR")
	}
	if !everywhere {
		warnings = append(warnings, "PSP admission rejected every pod of a namespace where no PodSecurityPolicy was usable; no constraint matches such a namespace (every namespace but "+
			strings.Join(translate.SortedKeys(usable), ", ")+"), so Gatekeeper admits any pod there")
	}
	return warnings
}

func namespaceSet(m map[string][]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func saNamespaces(accounts []string) []string {
	set := map[string]bool{}
	for _, sa := range accounts {
		ns, _, _ := strings.Cut(sa, "/")
		set[ns] = true
	}
	return translate.SortedKeys(set)
}

func meta(name string, labels, annotations map[string]string) map[string]any {
	l := make(map[string]any, len(labels))
	for k, v := range labels {
		l[k] = v
	}
	a := make(map[string]any, len(annotations))
	for k, v := range annotations {
		a[k] = v
	}
	return map[string]any{"name": name, "labels": l, "annotations": a}
}

// templateObject is the project's own ConstraintTemplate of kind.
func templateObject(kind string, labels, annotations map[string]string) (translate.Object, error) {
	t := templates[kind]
	module, err := rego(kind)
	if err != nil {
		return translate.Object{}, err
	}
	name := strings.ToLower(kind)
	schema := map[string]any{"type": "object", "description": t.description}
	if len(t.params) > 0 {
		schema["properties"] = deepCopyMap(t.params)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": TemplateAPIVersion,
		"kind":       "ConstraintTemplate",
		"metadata":   meta(name, labels, annotations),
		"spec": map[string]any{
			"crd": map[string]any{"spec": map[string]any{
				"names":      map[string]any{"kind": kind},
				"validation": map[string]any{"openAPIV3Schema": schema},
			}},
			"targets": []any{map[string]any{"target": target, "rego": module}},
		},
	}}
	return translate.Object{Engine: translate.EngineGatekeeper, Object: obj, FileName: translate.FileName(translate.EngineGatekeeper, "ConstraintTemplate", name)}, nil
}

// deepCopyMap copies a tree of maps and slices, so that objects sharing a
// parameter set do not alias each other.
func deepCopyMap(m map[string]any) map[string]any {
	return deepCopyValue(m).(map[string]any)
}

func deepCopyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopyValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopyValue(x)
		}
		return out
	}
	return v
}
