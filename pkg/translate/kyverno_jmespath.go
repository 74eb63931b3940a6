package translate

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
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
//     negation is parenthesised (jpNot).
//   - Kyverno's JMESPath reports a missing key as an error, which negations,
//     "||", comparisons, filters and function arguments read as null. Every
//     field is read under one of those, and the condition is a negation, so
//     its substitution never fails.

const (
	jpSpec = "request.object.spec"
	jpPSC  = "request.object.spec.securityContext"
	// jpContainers is every init, regular and ephemeral container as one
	// list (absent lists drop out of the flatten).
	jpContainers = "request.object.spec.[initContainers, containers, ephemeralContainers][]"
	jpTrue       = "`true`"
	jpFalse      = "`false`"
	jpNull       = "`null`"
	// jpNamespace is the namespace of the request; the pod's own field is
	// set by the API server before admission, request.namespace is the
	// fallback, and "default" is what the Go evaluator assumes for a pod
	// without one.
	jpNamespace = "(request.object.metadata.namespace || request.namespace || 'default')"
	// jpServiceAccount is the pod's service account, defaulted as
	// ServiceAccount admission does.
	jpServiceAccount = "(request.object.spec.serviceAccountName || 'default')"
	// jpUsername and jpGroups are the requesting user; a user may have no
	// groups, and the field is then absent.
	jpUsername = "request.userInfo.username"
	jpGroups   = "(request.userInfo.groups || `[]`)"
)

// jpRawSafe reports whether s can be a raw string literal as it is:
// printable ASCII without the quote and backslash (JMESPath escapes), the
// braces (Kyverno variables) and "$(" (Kyverno references).
func jpRawSafe(s string) bool {
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

// jpString quotes s as a JMESPath string: a raw string literal when that is
// safe, else a JSON literal.
func jpString(s string) string {
	if jpRawSafe(s) {
		return "'" + s + "'"
	}
	return "`" + jpJSONString(s) + "`"
}

// jpJSONString is s as a JSON string whose every character but letters,
// digits and a few punctuation marks is a \u escape: no quote, backslash,
// backtick, brace or "$" is left for JMESPath or Kyverno to read.
func jpJSONString(s string) string {
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

// jpStrings renders a list of strings as a JSON literal, for comparing a
// whole list.
func jpStrings(list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = jpJSONString(s)
	}
	return "`[" + strings.Join(parts, ",") + "]`"
}

func jpNumber(n int64) string { return "`" + strconv.FormatInt(n, 10) + "`" }

// jpNum normalises a number read from the pod to float64 (null stays null).
func jpNum(x string) string { return "to_number(to_string(" + x + "))" }

// jpOr joins alternatives; none is false. Constant terms are folded, which
// keeps truthiness (the only thing the callers read) unchanged.
func jpOr(terms ...string) string {
	var kept []string
	for _, t := range terms {
		switch t {
		case jpTrue:
			return jpTrue
		case jpFalse:
			continue
		}
		kept = append(kept, t)
	}
	switch len(kept) {
	case 0:
		return jpFalse
	case 1:
		return kept[0]
	}
	return "(" + strings.Join(kept, " || ") + ")"
}

// jpAnd joins conditions; none is true. Constant terms are folded.
func jpAnd(terms ...string) string {
	var kept []string
	for _, t := range terms {
		switch t {
		case jpFalse:
			return jpFalse
		case jpTrue:
			continue
		}
		kept = append(kept, t)
	}
	switch len(kept) {
	case 0:
		return jpTrue
	case 1:
		return kept[0]
	}
	return "(" + strings.Join(kept, " && ") + ")"
}

func jpNot(x string) string {
	switch x {
	case jpTrue:
		return jpFalse
	case jpFalse:
		return jpTrue
	}
	return "!(" + x + ")"
}

// jpAnyContainer is truthy when some container satisfies cond (evaluated
// on the container): the list of those containers.
func jpAnyContainer(cond string) string {
	return "(" + jpContainers + " | [?" + cond + "])"
}

// jpInRanges is true when the number x (already normalised) is in one of
// the ranges.
func jpInRanges(x string, ranges [][2]int64) string {
	terms := make([]string, len(ranges))
	for i, r := range ranges {
		if r[0] == r[1] {
			terms[i] = x + " == " + jpNumber(r[0])
		} else {
			terms[i] = "(" + x + " >= " + jpNumber(r[0]) + " && " + x + " <= " + jpNumber(r[1]) + ")"
		}
	}
	return jpOr(terms...)
}

// jpOneOf is true when x equals one of values.
func jpOneOf(x string, values []string) string {
	terms := make([]string, len(values))
	for i, v := range values {
		terms[i] = x + " == " + jpString(v)
	}
	return jpOr(terms...)
}

// kyvernoFailure renders the failure of one rule; ok is false for a rule
// type without a rendering.
func kyvernoFailure(r Rule) (expr string, ok bool) {
	switch r := r.(type) {
	case ForbidPrivileged:
		return jpAnyContainer("securityContext.privileged == " + jpTrue), true
	case ForbidHostNamespace:
		return jpSpec + "." + r.Namespace + " == " + jpTrue, true
	case HostPorts:
		ranges := make([][2]int64, len(r.Ranges))
		for i, pr := range r.Ranges {
			ranges[i] = [2]int64{int64(pr.Min), int64(pr.Max)}
		}
		port := jpNum("hostPort")
		return jpAnyContainer("ports[?hostPort != " + jpNull + " && " + port + " != `0` && " + jpNot(jpInRanges(port, ranges)) + "]"), true
	case VolumeTypes:
		var terms []string
		for _, s := range volumeSources {
			if slices.Contains(r.Allowed, s.fsType) {
				terms = append(terms, s.field+" != "+jpNull)
			}
		}
		if r.AllowServiceAccountToken {
			terms = append(terms, jpServiceAccountTokenVolume)
		}
		return jpSpec + ".volumes[?" + jpNot(jpOr(terms...)) + "]", true
	case HostPathPrefixes:
		return jpSpec + ".volumes[?hostPath != " + jpNull + " && " + jpNot(jpHostPathMatch(prefixes(r.Prefixes, nil))) + "]", true
	case HostPathReadOnly:
		return r.jmesPath(), true
	case FlexVolumeDrivers:
		return jpSpec + ".volumes[?flexVolume != " + jpNull + " && " + jpNot(jpOneOf("flexVolume.driver", r.Drivers)) + "]", true
	case CSIDrivers:
		return jpSpec + ".volumes[?csi != " + jpNull + " && " + jpNot(jpOneOf("csi.driver", r.Drivers)) + "]", true
	case RunAsUser:
		return r.jmesPath(), true
	case GroupRule:
		return r.jmesPath()
	case SELinux:
		return r.jmesPath(), true
	case AllowedCapabilities:
		return jpAnyContainer("securityContext.capabilities.add[?" + jpNot(jpOneOf("@", r.Allowed)) + "]"), true
	case RequiredDropCapabilities:
		terms := make([]string, len(r.Required))
		for i, c := range r.Required {
			terms[i] = jpNot("securityContext.capabilities.drop[?@ == " + jpString(c) + "]")
		}
		return jpAnyContainer(jpOr(terms...)), true
	case ReadOnlyRootFilesystem:
		return jpAnyContainer("securityContext.readOnlyRootFilesystem != " + jpTrue), true
	case ForbidPrivilegeEscalation:
		return jpAnyContainer("securityContext.allowPrivilegeEscalation != " + jpFalse), true
	case PrivilegeEscalationSet:
		return jpAnyContainer("securityContext.allowPrivilegeEscalation == " + jpNull), true
	case ForbiddenSysctls:
		return jpPSC + ".sysctls[?" + jpSysctlMatch(r.Patterns) + "]", true
	case UnsafeSysctls:
		// A forbidden sysctl is ForbiddenSysctls' to report; a safe name
		// is an exact pattern.
		patterns := append(append(slices.Clone(r.Forbidden), r.Safe...), r.Allowed...)
		return jpPSC + ".sysctls[?" + jpNot(jpSysctlMatch(patterns)) + "]", true
	case ProcMountTypes:
		return jpAnyContainer(jpNot(jpOneOf("not_null(securityContext.procMount, 'Default')", r.Allowed))), true
	case RuntimeClassNames:
		name := jpSpec + ".runtimeClassName"
		in := jpTrue
		if !slices.Contains(r.Allowed, psp.AllowAllRuntimeClassNames) {
			in = jpOneOf(name, r.Allowed)
		}
		if r.Required {
			return jpOr(name+" == "+jpNull, jpNot(in)), true
		}
		return jpAnd(name+" != "+jpNull, jpNot(in)), true
	case SeccompProfiles:
		return r.jmesPath(), true
	case AppArmorProfiles:
		return r.jmesPath(), true
	}
	return "", false
}

// jpServiceAccountTokenVolume recognises ServiceAccount admission's
// projected volume (see isServiceAccountToken), on a volume.
var jpServiceAccountTokenVolume = jpAnd("projected != "+jpNull, jpNot("projected.sources[?"+jpNot(jpOr(
	jpAnd("serviceAccountToken != "+jpNull, "(serviceAccountToken.path || '') == 'token'", "(serviceAccountToken.audience || '') == ''"),
	jpAnd("serviceAccountToken == "+jpNull, "configMap != "+jpNull, "configMap.name == 'kube-root-ca.crt'"),
	jpAnd("serviceAccountToken == "+jpNull, "configMap == "+jpNull, "downwardAPI != "+jpNull,
		jpNot("downwardAPI.items[?"+jpNot(jpAnd("path == 'namespace'", "fieldRef.apiVersion == 'v1'", "fieldRef.fieldPath == 'metadata.namespace'"))+"]")),
))+"]"))

// jpHostPathMatch is hostPathMatches over a volume's hostPath.path and
// any of list.
func jpHostPathMatch(list []string) string {
	const path = "(hostPath.path || '')"
	terms := make([]string, len(list))
	for i, p := range list {
		p = strings.TrimSuffix(p, "/")
		terms[i] = "(" + path + " == " + jpString(p) + " || starts_with(" + path + ", " + jpString(p+"/") + "))"
	}
	return jpOr(terms...)
}

// jmesPath: the volumes under a read-only prefix (and no writable one) are
// joined with the mounts that are not read-only, by name.
func (r HostPathReadOnly) jmesPath() string {
	readOnly := jpHostPathMatch(prefixes(r.Prefixes, new(true)))
	writable := jpHostPathMatch(prefixes(r.Prefixes, new(false)))
	volumes := "(" + jpSpec + ".volumes[?" + jpAnd("hostPath != "+jpNull, readOnly, jpNot(writable)) + "].name)"
	mounts := "(" + jpContainers + " | [].volumeMounts[] | [?readOnly != " + jpTrue + "].name)"
	return jpAnd(volumes, mounts, "regex_match(join('', ['(^| )(', join('|', "+volumes+"), ')( |$)']), join(' ', "+mounts+"))")
}

// jpEffective splits "the container's value, else the pod's" for a
// per-container check: fails(value) must be truthy when value (a null
// included) fails. The result fails when a container's own value fails, or
// the pod's value fails and some container leaves the field unset.
func jpEffective(field string, fails func(x string) string) string {
	container := "securityContext." + field
	pod := jpPSC + "." + field
	return jpOr(
		jpAnyContainer(jpAnd(container+" != "+jpNull, fails(container))),
		jpAnd(fails(pod), jpAnyContainer(container+" == "+jpNull)),
	)
}

func (r RunAsUser) jmesPath() string {
	if r.Rule == psp.RunAsUserStrategyMustRunAsNonRoot {
		// Fails when the effective runAsNonRoot is false, the effective
		// UID is 0, or neither is set; each case split between container
		// and pod.
		cn, cu := "securityContext.runAsNonRoot", "securityContext.runAsUser"
		pn, pu := jpPSC+".runAsNonRoot", jpPSC+".runAsUser"
		return jpOr(
			jpAnyContainer(jpOr(cn+" == "+jpFalse, jpNum(cu)+" == `0`")),
			jpAnd(jpNum(pu)+" == `0`", jpAnyContainer(cu+" == "+jpNull)),
			jpAnd(pn+" == "+jpFalse, jpAnyContainer(cn+" == "+jpNull)),
			jpAnd(pn+" == "+jpNull, pu+" == "+jpNull, jpAnyContainer(jpAnd(cn+" == "+jpNull, cu+" == "+jpNull))),
		)
	}
	if r.Rule != psp.RunAsUserStrategyMustRunAs {
		return jpFalse
	}
	ranges := idRanges(r.Ranges)
	return jpEffective("runAsUser", func(x string) string {
		return jpOr(x+" == "+jpNull, jpNot(jpInRanges(jpNum(x), ranges)))
	})
}

func (r GroupRule) jmesPath() (string, bool) {
	ranges := idRanges(r.Ranges)
	// fails: unset (MustRunAs) or out of the ranges.
	fails := func(x string) string {
		out := jpNot(jpInRanges(jpNum(x), ranges))
		if r.Must {
			return jpOr(x+" == "+jpNull, out)
		}
		return jpAnd(x+" != "+jpNull, out)
	}
	switch r.Kind {
	case "runAsGroup":
		return jpEffective("runAsGroup", fails), true
	case "fsGroup":
		return fails(jpPSC + ".fsGroup"), true
	case "supplementalGroups":
		list := jpPSC + ".supplementalGroups"
		out := list + "[?" + jpNot(jpInRanges(jpNum("@"), ranges)) + "]"
		if r.Must {
			return jpOr(jpNot(list), out), true
		}
		return out, true
	}
	return "", false
}

func (r SELinux) jmesPath() string {
	o := r.Options
	match := func(x string) string {
		return jpAnd(
			"("+x+".user || '') == "+jpString(o.User),
			"("+x+".role || '') == "+jpString(o.Role),
			"("+x+".type || '') == "+jpString(o.Type),
			jpSELinuxLevel("("+x+".level || '')", o.Level),
		)
	}
	pod := jpPSC + ".seLinuxOptions"
	container := "securityContext.seLinuxOptions"
	return jpOr(
		pod+" == "+jpNull,
		jpNot(match(pod)),
		jpAnyContainer(jpAnd(container+" != "+jpNull, jpNot(match(container)))),
	)
}

// jpSELinuxLevel is seLinuxLevelsEqual(want, l): equal strings, or the same
// sensitivity and the same multiset of categories (sorted lists compare
// equal).
func jpSELinuxLevel(l, want string) string {
	sens, cats, ok := strings.Cut(want, ":")
	if !ok {
		return l + " == " + jpString(want)
	}
	list := strings.Split(cats, ",")
	sort.Strings(list)
	prefix := jpString(sens + ":")
	// want has no ":" before sens's end, so a level starting with "sens:"
	// has the same sensitivity; replace drops that prefix.
	return jpOr(l+" == "+jpString(want), jpAnd(
		"starts_with("+l+", "+prefix+")",
		"sort(split(replace("+l+", "+prefix+", '', `1`), ',')) == "+jpStrings(list),
	))
}

// jpSysctlMatch is psp.SysctlMatches(patterns, normalizeSysctl(name)) on a
// sysctl: a name whose first separator is "/" is matched against the
// patterns with "." and "/" swapped instead of being normalised.
func jpSysctlMatch(patterns []string) string {
	if len(patterns) == 0 {
		return jpFalse
	}
	const name = "(name || '')"
	match := func(list []string) string {
		terms := make([]string, len(list))
		for i, p := range list {
			if prefix, ok := strings.CutSuffix(p, "*"); ok {
				terms[i] = "starts_with(" + name + ", " + jpString(prefix) + ")"
			} else {
				terms[i] = name + " == " + jpString(p)
			}
		}
		return jpOr(terms...)
	}
	swapped := make([]string, len(patterns))
	for i, p := range patterns {
		swapped[i] = swapDotSlash(p)
	}
	slash := "regex_match('^[^./]*/', " + name + ")"
	return jpOr(jpAnd(slash, match(swapped)), jpAnd(jpNot(slash), match(patterns)))
}

// jpAllowed is SeccompProfiles.allows over a present profile x.
func (r SeccompProfiles) jpAllowed(x string) string {
	if r.Any {
		return jpTrue
	}
	var terms []string
	for _, name := range r.Named {
		switch {
		case name == psp.SeccompProfileRuntimeDefault:
			terms = append(terms, x+".type == 'RuntimeDefault'")
		case name == psp.SeccompProfileUnconfined:
			terms = append(terms, x+".type == 'Unconfined'")
		case strings.HasPrefix(name, psp.SeccompLocalhostProfilePrefix):
			terms = append(terms, jpAnd(x+".type == 'Localhost'",
				"("+x+".localhostProfile || '') == "+jpString(strings.TrimPrefix(name, psp.SeccompLocalhostProfilePrefix))))
		}
	}
	return jpOr(terms...)
}

// jmesPath: the pod's profile must be allowed (or absent where that is
// allowed), and so must every container's own. A container without one
// inherits the pod's, which the pod-level check already holds to at least
// the same standard.
func (r SeccompProfiles) jmesPath() string {
	pod := jpPSC + ".seccompProfile"
	container := "securityContext.seccompProfile"
	var podFails []string
	if r.PodRequired || !r.Unset {
		podFails = append(podFails, pod+" == "+jpNull)
	}
	podFails = append(podFails, jpAnd(pod+" != "+jpNull, jpNot(r.jpAllowed(pod))))
	return jpOr(
		jpOr(podFails...),
		jpAnyContainer(jpAnd(container+" != "+jpNull, jpNot(r.jpAllowed(container)))),
	)
}

// jpAppArmorPrefixRE matches the per-container annotation prefix in a
// regular expression (its dots as a class, since a backslash would need
// escaping twice).
var jpAppArmorPrefixRE = strings.ReplaceAll(appArmorContainerAnnotationPrefix, ".", "[.]")

// jmesPath follows effectiveAppArmor: the container's field, else its
// annotation, else the pod's field.
func (r AppArmorProfiles) jmesPath() string {
	// fieldFails: a present appArmorProfile x gives a failing name.
	fieldFails := func(x string) string {
		known := jpOneOf(x+".type", []string{"RuntimeDefault", "Unconfined", "Localhost"})
		var terms []string
		if r.Required {
			terms = append(terms, jpNot(known))
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
					allowed = append(allowed, jpAnd(x+".type == 'Localhost'",
						"("+x+".localhostProfile || '') == "+jpString(strings.TrimPrefix(name, "localhost/"))))
				}
			}
			terms = append(terms, jpAnd(known, jpNot(jpOr(allowed...))))
		}
		return jpOr(terms...)
	}
	// valueFails: an annotation value fails.
	valueFails := func(v string) string {
		var terms []string
		if r.Required {
			terms = append(terms, v+" == ''")
		}
		if r.Allowed != nil {
			terms = append(terms, jpAnd(v+" != ''", jpNot(jpOneOf(v, r.Allowed))))
		}
		return jpOr(terms...)
	}

	field := "securityContext.appArmorProfile"
	podField := jpPSC + ".appArmorProfile"
	// Names of the containers without the field, which the annotation or
	// the pod decides for.
	unset := "(" + jpContainers + " | [?" + field + " == " + jpNull + "].name)"
	// The per-container annotations; metadata stands in for absent
	// annotations, as none of its keys has the prefix (and an empty object
	// literal would need braces).
	annotations := "(items(not_null(request.object.metadata.annotations, request.object.metadata), 'key', 'value')[?starts_with(key, " +
		jpString(appArmorContainerAnnotationPrefix) + ")])"
	badKeys := "(" + annotations + "[?" + valueFails("value") + "].key)"
	// Container names as written in annotations, dots escaped for a
	// regular expression.
	annotated := "(" + annotations + "[].replace_all(replace(key, " + jpString(appArmorContainerAnnotationPrefix) + ", '', `1`), '.', '[.]'))"

	podFails := jpOr(jpAnd(podField+" == "+jpNull, jpBool(r.Required)), jpAnd(podField+" != "+jpNull, fieldFails(podField)))
	return jpOr(
		// The container's own field.
		jpAnyContainer(jpAnd(field+" != "+jpNull, fieldFails(field))),
		// A failing annotation of a container without the field.
		jpAnd(unset, badKeys, "regex_match(join('', ['(^| )"+jpAppArmorPrefixRE+"(', join('|', "+unset+"), ')( |$)']), join(' ', "+badKeys+"))"),
		// The pod's field, for a container with neither.
		jpAnd(podFails, unset, jpNot("regex_match(join('', ['^((', join('|', "+annotated+"), ')( |$))*$']), join(' ', "+unset+"))")),
	)
}

func jpBool(b bool) string {
	if b {
		return jpTrue
	}
	return jpFalse
}

// usabilityJMESPath is who may use a PSP as a condition on the request's
// namespace, the pod's service account and the requesting user.
func usabilityJMESPath(u *rbac.Usability) string {
	if u == nil {
		return jpFalse
	}
	if u.Everywhere {
		return jpTrue
	}
	terms := []string{}
	if len(u.Namespaces) > 0 {
		terms = append(terms, jpOneOf(jpNamespace, u.Namespaces))
	}
	for _, sa := range u.ServiceAccounts {
		ns, name, _ := strings.Cut(sa, "/")
		terms = append(terms, jpAnd(jpNamespace+" == "+jpString(ns), jpServiceAccount+" == "+jpString(name)))
	}
	for _, g := range requesterGrants(u) {
		who := jpUsername + " == " + jpString(g.Name)
		if g.Kind == "Group" {
			who = "contains(" + jpGroups + ", " + jpString(g.Name) + ")"
		}
		if !g.Everywhere() {
			who = jpAnd(jpOneOf(jpNamespace, g.Namespaces), who)
		}
		terms = append(terms, who)
	}
	return jpOr(terms...)
}

// kyvernoDenyExpression is true when the pod passes no PSP it may use:
// !(usable₁ && allowed₁ || …), allowedᵢ being !(failure₁ || …). Rules
// without a rendering are reported in warnings and count as failing (the
// PSP then admits nothing through this policy), never as passing.
func (s *PolicySet) kyvernoDenyExpression() (expr string, warnings []string) {
	terms := make([]string, len(s.Policies))
	for i := range s.Policies {
		p := &s.Policies[i]
		failures := make([]string, 0, len(p.Rules))
		for _, r := range p.Rules {
			f, ok := kyvernoFailure(r)
			if !ok {
				warnings = append(warnings, fmt.Sprintf("kyverno: PodSecurityPolicy %q field %s (rule %s) has no JMESPath rendering: the policy admits no pod through this PodSecurityPolicy", p.Name, r.Field(), r.ID()))
				f = jpTrue
			}
			failures = append(failures, f)
		}
		allowed := jpNot(jpOr(failures...))
		if len(failures) == 0 {
			allowed = jpTrue
		}
		usable := jpTrue
		if s.Options.Scope == ScopeRBAC {
			usable = usabilityJMESPath(s.Usability[p.Name])
		}
		if usable == jpTrue {
			terms[i] = allowed
		} else {
			terms[i] = jpAnd(usable, allowed)
		}
	}
	expr = jpNot(jpOr(terms...))
	if expr == jpTrue || expr == jpFalse {
		// Kyverno refuses a variable that reads nothing of the request (a
		// constant, when a PSP without rules admits every pod, or none may
		// be used); reading the pod keeps the same constant value.
		expr = "(request.object != " + jpNull + " && " + expr + ")"
	}
	return expr, warnings
}
