package kyverno

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// The JMESPath rendering of the rule model, for the kyverno engine's
// ClusterPolicy. It targets the JMESPath every Kyverno release since v1.8
// evaluates: standard JMESPath (no let, no arithmetic operators, no root
// reference) plus Kyverno's own functions regex_match, replace, replace_all
// and split (since v1.4) and items (since v1.7).
//
// Each rule renders as an expression over Kyverno's context (request.object
// is the pod) that is truthy exactly when the pod FAILS the rule: a
// non-empty list of offending elements, or true. Truthiness is JMESPath's
// (false, null, "", [] and {} are false; 0 is true), so the PSP-level
// combination `!(f1 || f2 || …)` is always a boolean.
//
// Things JMESPath cannot do, and how the rendering gets around them:
//
//   - A filter over containers cannot read the pod (there is no root
//     reference or variable binding). A container value that falls back to
//     the pod's is split into cases: containers that set the field are
//     checked in the filter, and the pod's value is checked once, outside,
//     together with "some container leaves the field unset".
//   - Joins between two lists of the pod (volumes and the mounts naming
//     them, containers and the AppArmor annotations naming them) are done
//     with regex_match over names joined with spaces: names come from the
//     API server already validated (DNS labels for containers and volumes,
//     qualified names for annotation keys), so they hold no space and no
//     regular-expression syntax but the "." of annotation names, which is
//     escaped.
//   - Numbers read from a resource file may be int64 where the webhook's
//     JSON gives float64, and JMESPath compares only float64 with < and ==
//     is type-strict: numbers go through to_number(to_string(x)).
//   - Kyverno reads "{{", "}}" and "$(" inside the expression as its own
//     syntax, so literals never contain braces or "$(": such characters are
//     written as JSON literals with \u escapes.
//   - "!" binds tighter than "." ("!a.b" is "(!a).b", always null), so every
//     negation is parenthesised (see not).
//   - Kyverno's JMESPath reports a missing key as an error, which negations,
//     "||", comparisons, filters and function arguments read as null. Every
//     field is read under one of those, and the condition is a negation, so
//     its substitution never fails.

const (
	spec = "request.object.spec"
	psc  = "request.object.spec.securityContext"
	// containers is every init, regular and ephemeral container as one
	// list (absent lists drop out of the flatten).
	containers   = "request.object.spec.[initContainers, containers, ephemeralContainers][]"
	trueLiteral  = "`true`"
	falseLiteral = "`false`"
	null         = "`null`"
	// namespace is the namespace of the request; the pod's own field is
	// set by the API server before admission, request.namespace is the
	// fallback, and "default" is what the Go evaluator assumes for a pod
	// without one.
	namespace = "(request.object.metadata.namespace || request.namespace || 'default')"
	// serviceAccount is the pod's service account, defaulted as
	// ServiceAccount admission does.
	serviceAccount = "(request.object.spec.serviceAccountName || 'default')"
	// username and groups are the requesting user; a user may have no
	// groups, and the field is then absent.
	username = "request.userInfo.username"
	groups   = "(request.userInfo.groups || `[]`)"
)

// rawSafe reports whether s can be a raw string literal as it is:
// printable ASCII without the quote and backslash (JMESPath escapes), the
// braces (Kyverno variables) and "$(" (Kyverno references).
func rawSafe(s string) bool {
	if strings.Contains(s, "$(") {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e || r == '\'' || r == '\\' || r == '{' || r == '}' {
			return false
		}
	}
	return true
}

// quote quotes s as a JMESPath string: a raw string literal when that is
// safe, else a JSON literal.
func quote(s string) string {
	if rawSafe(s) {
		return "'" + s + "'"
	}
	return "`" + jsonString(s) + "`"
}

// jsonString is s as a JSON string whose every character but letters,
// digits and a few punctuation marks is a \u escape: no quote, backslash,
// backtick, brace or "$" is left for JMESPath or Kyverno to read.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ._/:*,=+@-", r) {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteAll renders a list of strings as a JSON literal, for comparing a
// whole list.
func quoteAll(list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = jsonString(s)
	}
	return "`[" + strings.Join(parts, ",") + "]`"
}

func number(n int64) string { return "`" + strconv.FormatInt(n, 10) + "`" }

// num normalises a number read from the pod to float64 (null stays null).
func num(x string) string { return "to_number(to_string(" + x + "))" }

// or joins alternatives; none is false. Constant terms are folded, which
// keeps truthiness (the only thing the callers read) unchanged.
func or(terms ...string) string {
	var kept []string
	for _, t := range terms {
		switch t {
		case trueLiteral:
			return trueLiteral
		case falseLiteral:
			continue
		}
		kept = append(kept, t)
	}
	switch len(kept) {
	case 0:
		return falseLiteral
	case 1:
		return kept[0]
	}
	return "(" + strings.Join(kept, " || ") + ")"
}

// and joins conditions; none is true. Constant terms are folded.
func and(terms ...string) string {
	var kept []string
	for _, t := range terms {
		switch t {
		case falseLiteral:
			return falseLiteral
		case trueLiteral:
			continue
		}
		kept = append(kept, t)
	}
	switch len(kept) {
	case 0:
		return trueLiteral
	case 1:
		return kept[0]
	}
	return "(" + strings.Join(kept, " && ") + ")"
}

func not(x string) string {
	switch x {
	case trueLiteral:
		return falseLiteral
	case falseLiteral:
		return trueLiteral
	}
	return "!(" + x + ")"
}

// anyContainer is truthy when some container satisfies cond (evaluated
// on the container): the list of those containers.
func anyContainer(cond string) string {
	return "(" + containers + " | [?" + cond + "])"
}

// inRanges is true when the number x (already normalised) is in one of
// the ranges.
func inRanges(x string, ranges [][2]int64) string {
	terms := make([]string, len(ranges))
	for i, r := range ranges {
		if r[0] == r[1] {
			terms[i] = x + " == " + number(r[0])
		} else {
			terms[i] = "(" + x + " >= " + number(r[0]) + " && " + x + " <= " + number(r[1]) + ")"
		}
	}
	return or(terms...)
}

// oneOf is true when x equals one of values.
func oneOf(x string, values []string) string {
	terms := make([]string, len(values))
	for i, v := range values {
		terms[i] = x + " == " + quote(v)
	}
	return or(terms...)
}

// failure renders the failure of one rule; ok is false for a rule
// type without a rendering.
func failure(r translate.Rule) (expr string, ok bool) {
	switch r := r.(type) {
	case translate.ForbidPrivileged:
		return anyContainer("securityContext.privileged == " + trueLiteral), true
	case translate.ForbidHostNamespace:
		return spec + "." + r.Namespace + " == " + trueLiteral, true
	case translate.HostPorts:
		ranges := make([][2]int64, len(r.Ranges))
		for i, pr := range r.Ranges {
			ranges[i] = [2]int64{int64(pr.Min), int64(pr.Max)}
		}
		port := num("hostPort")
		return anyContainer("ports[?hostPort != " + null + " && " + port + " != `0` && " + not(inRanges(port, ranges)) + "]"), true
	case translate.VolumeTypes:
		var terms []string
		for _, s := range translate.VolumeSources() {
			if slices.Contains(r.Allowed, s.Type) {
				terms = append(terms, s.Field+" != "+null)
			}
		}
		if r.AllowServiceAccountToken {
			terms = append(terms, serviceAccountTokenVolume)
		}
		return spec + ".volumes[?" + not(or(terms...)) + "]", true
	case translate.HostPathPrefixes:
		return spec + ".volumes[?hostPath != " + null + " && " + not(hostPathMatch(translate.PathPrefixes(r.Prefixes, nil))) + "]", true
	case translate.HostPathReadOnly:
		return hostPathReadOnly(r), true
	case translate.FlexVolumeDrivers:
		return spec + ".volumes[?flexVolume != " + null + " && " + not(oneOf("flexVolume.driver", r.Drivers)) + "]", true
	case translate.CSIDrivers:
		return spec + ".volumes[?csi != " + null + " && " + not(oneOf("csi.driver", r.Drivers)) + "]", true
	case translate.RunAsUser:
		return runAsUser(r), true
	case translate.GroupRule:
		return groupRule(r)
	case translate.SELinux:
		return seLinux(r), true
	case translate.AllowedCapabilities:
		return anyContainer("securityContext.capabilities.add[?" + not(oneOf("@", r.Allowed)) + "]"), true
	case translate.RequiredDropCapabilities:
		terms := make([]string, len(r.Required))
		for i, c := range r.Required {
			terms[i] = not("securityContext.capabilities.drop[?@ == " + quote(c) + "]")
		}
		return anyContainer(or(terms...)), true
	case translate.ReadOnlyRootFilesystem:
		return anyContainer("securityContext.readOnlyRootFilesystem != " + trueLiteral), true
	case translate.ForbidPrivilegeEscalation:
		return anyContainer("securityContext.allowPrivilegeEscalation != " + falseLiteral), true
	case translate.PrivilegeEscalationSet:
		return anyContainer("securityContext.allowPrivilegeEscalation == " + null), true
	case translate.ForbiddenSysctls:
		return psc + ".sysctls[?" + sysctlMatch(r.Patterns) + "]", true
	case translate.UnsafeSysctls:
		// A forbidden sysctl is ForbiddenSysctls' to report; a safe name
		// is an exact pattern.
		patterns := append(append(slices.Clone(r.Forbidden), r.Safe...), r.Allowed...)
		return psc + ".sysctls[?" + not(sysctlMatch(patterns)) + "]", true
	case translate.ProcMountTypes:
		return anyContainer(not(oneOf("not_null(securityContext.procMount, 'Default')", r.Allowed))), true
	case translate.RuntimeClassNames:
		name := spec + ".runtimeClassName"
		in := trueLiteral
		if !slices.Contains(r.Allowed, psp.AllowAllRuntimeClassNames) {
			in = oneOf(name, r.Allowed)
		}
		if r.Required {
			return or(name+" == "+null, not(in)), true
		}
		return and(name+" != "+null, not(in)), true
	case translate.SeccompProfiles:
		return seccomp(r), true
	case translate.AppArmorProfiles:
		return appArmor(r), true
	}
	return "", false
}

// serviceAccountTokenVolume is psp.IsServiceAccountTokenProjection on a
// volume: every source sets one of the token's fields, and each field it
// sets (not only the first) holds what ServiceAccount admission writes.
var serviceAccountTokenVolume = and("projected != "+null, not("projected.sources[?"+not(and(
	or("serviceAccountToken != "+null, "configMap != "+null, "downwardAPI != "+null),
	or("serviceAccountToken == "+null, and("(serviceAccountToken.path || '') == "+quote(psp.ServiceAccountTokenPath), "(serviceAccountToken.audience || '') == ''")),
	or("configMap == "+null, "configMap.name == "+quote(psp.RootCAConfigMap)),
	or("downwardAPI == "+null,
		not("downwardAPI.items[?"+not(and("path == "+quote(psp.NamespaceFilePath), "fieldRef.apiVersion == 'v1'", "fieldRef.fieldPath == 'metadata.namespace'"))+"]")),
))+"]"))

// hostPathMatch is psp.HostPathHasPrefix over a volume's hostPath.path,
// for any of list, in the form psp.HostPathPrefixMatch gives.
func hostPathMatch(list []string) string {
	const path = "(hostPath.path || '')"
	terms := make([]string, len(list))
	for i, p := range list {
		exact, hasExact, under := psp.HostPathPrefixMatch(p)
		terms[i] = "starts_with(" + path + ", " + quote(under) + ")"
		if hasExact {
			terms[i] = "(" + path + " == " + quote(exact) + " || " + terms[i] + ")"
		}
	}
	return or(terms...)
}

// hostPathReadOnly is the failure of a HostPathReadOnly rule: the volumes
// under a read-only prefix (and no writable one) are joined with the mounts
// that are not read-only, by name.
func hostPathReadOnly(r translate.HostPathReadOnly) string {
	readOnly := hostPathMatch(translate.PathPrefixes(r.Prefixes, new(true)))
	writable := hostPathMatch(translate.PathPrefixes(r.Prefixes, new(false)))
	volumes := "(" + spec + ".volumes[?" + and("hostPath != "+null, readOnly, not(writable)) + "].name)"
	mounts := "(" + containers + " | [].volumeMounts[] | [?readOnly != " + trueLiteral + "].name)"
	return and(volumes, mounts, "regex_match(join('', ['(^| )(', join('|', "+volumes+"), ')( |$)']), join(' ', "+mounts+"))")
}

// effective splits "the container's value, else the pod's" for a
// per-container check: fails(value) must be truthy when value (a null
// included) fails. The result fails when a container's own value fails, or
// the pod's value fails and some container leaves the field unset.
func effective(field string, fails func(x string) string) string {
	container := "securityContext." + field
	pod := psc + "." + field
	return or(
		anyContainer(and(container+" != "+null, fails(container))),
		and(fails(pod), anyContainer(container+" == "+null)),
	)
}

// runAsUser is the failure of a RunAsUser rule.
func runAsUser(r translate.RunAsUser) string {
	if r.Rule == psp.RunAsUserStrategyMustRunAsNonRoot {
		// Fails when the effective runAsNonRoot is false, the effective
		// UID is 0, or neither is set; each case split between container
		// and pod.
		cn, cu := "securityContext.runAsNonRoot", "securityContext.runAsUser"
		pn, pu := psc+".runAsNonRoot", psc+".runAsUser"
		return or(
			anyContainer(or(cn+" == "+falseLiteral, num(cu)+" == `0`")),
			and(num(pu)+" == `0`", anyContainer(cu+" == "+null)),
			and(pn+" == "+falseLiteral, anyContainer(cn+" == "+null)),
			and(pn+" == "+null, pu+" == "+null, anyContainer(and(cn+" == "+null, cu+" == "+null))),
		)
	}
	if r.Rule != psp.RunAsUserStrategyMustRunAs {
		return falseLiteral
	}
	ranges := translate.IDRanges(r.Ranges)
	return effective("runAsUser", func(x string) string {
		return or(x+" == "+null, not(inRanges(num(x), ranges)))
	})
}

// groupRule is the failure of a GroupRule; ok is false for an unknown kind.
func groupRule(r translate.GroupRule) (string, bool) {
	ranges := translate.IDRanges(r.Ranges)
	// fails: unset (MustRunAs) or out of the ranges.
	fails := func(x string) string {
		out := not(inRanges(num(x), ranges))
		if r.Must {
			return or(x+" == "+null, out)
		}
		return and(x+" != "+null, out)
	}
	switch r.Kind {
	case "runAsGroup":
		return effective("runAsGroup", fails), true
	case "fsGroup":
		return fails(psc + ".fsGroup"), true
	case "supplementalGroups":
		list := psc + ".supplementalGroups"
		out := list + "[?" + not(inRanges(num("@"), ranges)) + "]"
		if r.Must {
			return or(not(list), out), true
		}
		return out, true
	}
	return "", false
}

// seLinux is the failure of a SELinux rule.
func seLinux(r translate.SELinux) string {
	o := r.Options
	match := func(x string) string {
		return and(
			"("+x+".user || '') == "+quote(o.User),
			"("+x+".role || '') == "+quote(o.Role),
			"("+x+".type || '') == "+quote(o.Type),
			seLinuxLevel("("+x+".level || '')", o.Level),
		)
	}
	pod := psc + ".seLinuxOptions"
	container := "securityContext.seLinuxOptions"
	return or(
		pod+" == "+null,
		not(match(pod)),
		anyContainer(and(container+" != "+null, not(match(container)))),
	)
}

// seLinuxLevel is psp.SELinuxLevelsEqual(want, l): equal strings, or the same
// sensitivity and the same multiset of categories (sorted lists compare
// equal).
func seLinuxLevel(l, want string) string {
	sens, cats, ok := strings.Cut(want, ":")
	if !ok {
		return l + " == " + quote(want)
	}
	list := strings.Split(cats, ",")
	sort.Strings(list)
	prefix := quote(sens + ":")
	// want has no ":" before sens's end, so a level starting with "sens:"
	// has the same sensitivity; replace drops that prefix.
	return or(l+" == "+quote(want), and(
		"starts_with("+l+", "+prefix+")",
		"sort(split(replace("+l+", "+prefix+", '', `1`), ',')) == "+quoteAll(list),
	))
}

// sysctlMatch is psp.SysctlMatches(patterns, normalizeSysctl(name)) on a
// sysctl: a name whose first separator is "/" is matched against the
// patterns with "." and "/" swapped instead of being normalised.
func sysctlMatch(patterns []string) string {
	if len(patterns) == 0 {
		return falseLiteral
	}
	const name = "(name || '')"
	match := func(list []string) string {
		terms := make([]string, len(list))
		for i, p := range list {
			if prefix, ok := strings.CutSuffix(p, "*"); ok {
				terms[i] = "starts_with(" + name + ", " + quote(prefix) + ")"
			} else {
				terms[i] = name + " == " + quote(p)
			}
		}
		return or(terms...)
	}
	swapped := make([]string, len(patterns))
	for i, p := range patterns {
		swapped[i] = translate.SwapDotSlash(p)
	}
	slash := "regex_match('^[^./]*/', " + name + ")"
	return or(and(slash, match(swapped)), and(not(slash), match(patterns)))
}

// seccompAllowed is SeccompProfiles.allows over a present profile x.
func seccompAllowed(r translate.SeccompProfiles, x string) string {
	if r.Any {
		return trueLiteral
	}
	var terms []string
	for _, name := range r.Named {
		switch {
		case name == psp.SeccompProfileRuntimeDefault:
			terms = append(terms, x+".type == 'RuntimeDefault'")
		case name == psp.SeccompProfileUnconfined:
			terms = append(terms, x+".type == 'Unconfined'")
		case strings.HasPrefix(name, psp.SeccompLocalhostProfilePrefix):
			terms = append(terms, and(x+".type == 'Localhost'",
				"("+x+".localhostProfile || '') == "+quote(strings.TrimPrefix(name, psp.SeccompLocalhostProfilePrefix))))
		}
	}
	return or(terms...)
}

// seccomp is the failure of a SeccompProfiles rule: the pod's profile must
// be allowed (or absent where that is allowed), and so must every container's own. A container without one
// inherits the pod's, which the pod-level check already holds to at least
// the same standard.
func seccomp(r translate.SeccompProfiles) string {
	pod := psc + ".seccompProfile"
	container := "securityContext.seccompProfile"
	var podFails []string
	if r.PodRequired || !r.Unset {
		podFails = append(podFails, pod+" == "+null)
	}
	podFails = append(podFails, and(pod+" != "+null, not(seccompAllowed(r, pod))))
	return or(
		or(podFails...),
		anyContainer(and(container+" != "+null, not(seccompAllowed(r, container)))),
	)
}

// appArmorPrefixRE matches the per-container annotation prefix in a
// regular expression (its dots as a class, since a backslash would need
// escaping twice).
var appArmorPrefixRE = strings.ReplaceAll(translate.AppArmorContainerAnnotationPrefix, ".", "[.]")

// appArmor is the failure of an AppArmorProfiles rule, following the
// core's effectiveAppArmor: the container's field, else its annotation,
// else the pod's field.
func appArmor(r translate.AppArmorProfiles) string {
	// fieldFails: a present appArmorProfile x gives a failing name.
	fieldFails := func(x string) string {
		known := oneOf(x+".type", []string{"RuntimeDefault", "Unconfined", "Localhost"})
		var terms []string
		if r.Required {
			terms = append(terms, not(known))
		}
		if r.Allowed != nil {
			var allowed []string
			for _, name := range r.Allowed {
				switch {
				case name == "runtime/default":
					allowed = append(allowed, x+".type == 'RuntimeDefault'")
				case name == "unconfined":
					allowed = append(allowed, x+".type == 'Unconfined'")
				case strings.HasPrefix(name, "localhost/"):
					allowed = append(allowed, and(x+".type == 'Localhost'",
						"("+x+".localhostProfile || '') == "+quote(strings.TrimPrefix(name, "localhost/"))))
				}
			}
			terms = append(terms, and(known, not(or(allowed...))))
		}
		return or(terms...)
	}
	// valueFails: an annotation value fails.
	valueFails := func(v string) string {
		var terms []string
		if r.Required {
			terms = append(terms, v+" == ''")
		}
		if r.Allowed != nil {
			terms = append(terms, and(v+" != ''", not(oneOf(v, r.Allowed))))
		}
		return or(terms...)
	}

	field := "securityContext.appArmorProfile"
	podField := psc + ".appArmorProfile"
	// Names of the containers without the field, which the annotation or
	// the pod decides for.
	unset := "(" + containers + " | [?" + field + " == " + null + "].name)"
	// The per-container annotations; metadata stands in for absent
	// annotations, as none of its keys has the prefix (and an empty object
	// literal would need braces).
	annotations := "(items(not_null(request.object.metadata.annotations, request.object.metadata), 'key', 'value')[?starts_with(key, " +
		quote(translate.AppArmorContainerAnnotationPrefix) + ")])"
	badKeys := "(" + annotations + "[?" + valueFails("value") + "].key)"
	// Container names as written in annotations, dots escaped for a
	// regular expression.
	annotated := "(" + annotations + "[].replace_all(replace(key, " + quote(translate.AppArmorContainerAnnotationPrefix) + ", '', `1`), '.', '[.]'))"

	podFails := or(and(podField+" == "+null, boolLiteral(r.Required)), and(podField+" != "+null, fieldFails(podField)))
	return or(
		// The container's own field.
		anyContainer(and(field+" != "+null, fieldFails(field))),
		// A failing annotation of a container without the field.
		and(unset, badKeys, "regex_match(join('', ['(^| )"+appArmorPrefixRE+"(', join('|', "+unset+"), ')( |$)']), join(' ', "+badKeys+"))"),
		// The pod's field, for a container with neither.
		and(podFails, unset, not("regex_match(join('', ['^((', join('|', "+annotated+"), ')( |$))*$']), join(' ', "+unset+"))")),
	)
}

func boolLiteral(b bool) string {
	if b {
		return trueLiteral
	}
	return falseLiteral
}

// usabilityJMESPath is who may use a PSP as a condition on the request's
// namespace, the pod's service account and the requesting user.
func usabilityJMESPath(u *rbac.Usability) string {
	if u == nil {
		return falseLiteral
	}
	if u.Everywhere {
		return trueLiteral
	}
	terms := []string{}
	if len(u.Namespaces) > 0 {
		terms = append(terms, oneOf(namespace, u.Namespaces))
	}
	for _, sa := range u.ServiceAccounts {
		ns, name, _ := strings.Cut(sa, "/")
		terms = append(terms, and(namespace+" == "+quote(ns), serviceAccount+" == "+quote(name)))
	}
	for _, g := range translate.RequesterGrants(u) {
		who := username + " == " + quote(g.Name)
		if g.Kind == "Group" {
			who = "contains(" + groups + ", " + quote(g.Name) + ")"
		}
		if !g.Everywhere() {
			who = and(oneOf(namespace, g.Namespaces), who)
		}
		terms = append(terms, who)
	}
	return or(terms...)
}

// denyExpression is true when the pod passes no PSP it may use:
// !(usable₁ && allowed₁ || …), allowedᵢ being !(failure₁ || …). Rules
// without a rendering are reported in warnings and count as failing (the
// PSP then admits nothing through this policy), never as passing.
func denyExpression(s *translate.PolicySet) (expr string, warnings []string) {
	terms := make([]string, len(s.Policies))
	for i := range s.Policies {
		p := &s.Policies[i]
		failures := make([]string, 0, len(p.Rules))
		for _, r := range p.Rules {
			f, ok := failure(r)
			if !ok {
				warnings = append(warnings, fmt.Sprintf("kyverno: PodSecurityPolicy %q field %s (rule %s) has no JMESPath rendering: the policy admits no pod through this PodSecurityPolicy", p.Name, r.Field(), r.ID()))
				f = trueLiteral
			}
			failures = append(failures, f)
		}
		allowed := not(or(failures...))
		if len(failures) == 0 {
			allowed = trueLiteral
		}
		usable := trueLiteral
		if s.Options.Scope == translate.ScopeRBAC {
			usable = usabilityJMESPath(s.Usability[p.Name])
		}
		if usable == trueLiteral {
			terms[i] = allowed
		} else {
			terms[i] = and(usable, allowed)
		}
	}
	expr = not(or(terms...))
	if expr == trueLiteral || expr == falseLiteral {
		// Kyverno refuses a variable that reads nothing of the request (a
		// constant, when a PSP without rules admits every pod, or none may
		// be used); reading the pod keeps the same constant value.
		expr = "(request.object != " + null + " && " + expr + ")"
	}
	return expr, warnings
}
