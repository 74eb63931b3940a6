package translate

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// The CEL rendering of each rule. The expressions read `object` the way a
// Kubernetes admission CEL environment presents a pod: absent, null and empty
// values look alike, so every read goes through has() or an optional
// (`.?field`, `.orValue`), never a bare field that may be missing — a
// missing-key error would make a failurePolicy: Fail policy reject the pod
// for the wrong reason. Values the rules bind more than once are bound with
// a one-element list (`[x].all(v, …)`), since cel.bind is not in the
// Kubernetes environment of every supported release.

const (
	celSpec = "object.spec"
	celPSC  = "object.spec.?securityContext"
	celCSC  = "c.?securityContext"
)

// celString quotes s as a CEL string literal. CEL accepts Go's escape
// sequences, so strconv.Quote is exact.
func celString(s string) string { return strconv.Quote(s) }

func celStrings(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = celString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// celAllContainers is true when pred (over `c`) holds for every init,
// regular and ephemeral container. The three lists have different element
// types in the pod schema, so they cannot be concatenated into one.
func celAllContainers(pred string) string {
	return fmt.Sprintf("%[1]s.?containers.orValue([]).all(c, %[2]s) && %[1]s.?initContainers.orValue([]).all(c, %[2]s) && %[1]s.?ephemeralContainers.orValue([]).all(c, %[2]s)",
		celSpec, pred)
}

// celOr joins alternatives; no alternative is false.
func celOr(terms []string) string {
	if len(terms) == 0 {
		return "false"
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return "(" + strings.Join(terms, " || ") + ")"
}

func celInRanges(x string, ranges [][2]int64) string {
	terms := make([]string, len(ranges))
	for i, r := range ranges {
		if r[0] == r[1] {
			terms[i] = fmt.Sprintf("%s == %d", x, r[0])
		} else {
			terms[i] = fmt.Sprintf("(%s >= %d && %s <= %d)", x, r[0], x, r[1])
		}
	}
	return celOr(terms)
}

func idRanges(rs []psp.IDRange) [][2]int64 {
	out := make([][2]int64, len(rs))
	for i, r := range rs {
		out[i] = [2]int64{r.Min, r.Max}
	}
	return out
}

// CEL implements Rule.
func (ForbidPrivileged) CEL() string {
	return celAllContainers("!" + celCSC + ".?privileged.orValue(false)")
}

// CEL implements Rule.
func (r ForbidHostNamespace) CEL() string {
	return fmt.Sprintf("!%s.?%s.orValue(false)", celSpec, r.Namespace)
}

// CEL implements Rule.
func (r HostPorts) CEL() string {
	ranges := make([][2]int64, len(r.Ranges))
	for i, pr := range r.Ranges {
		ranges[i] = [2]int64{int64(pr.Min), int64(pr.Max)}
	}
	return celAllContainers("c.?ports.orValue([]).all(p, p.?hostPort.orValue(0) == 0 || " + celInRanges("p.hostPort", ranges) + ")")
}

// celServiceAccountTokenVolume is psp.IsServiceAccountTokenProjection on
// `v`: every source sets one of the token's fields, and each field it sets
// (not only the first) holds what ServiceAccount admission writes. The API
// server accepts one field per source, so that matters only where objects
// are judged without its validation (the Kyverno CLI, audits).
var celServiceAccountTokenVolume = `(has(v.projected) && v.projected.?sources.orValue([]).all(s, ` +
	`(has(s.serviceAccountToken) || has(s.configMap) || has(s.downwardAPI)) && ` +
	`(!has(s.serviceAccountToken) || (s.serviceAccountToken.?path.orValue("") == ` + celString(psp.ServiceAccountTokenPath) + ` && s.serviceAccountToken.?audience.orValue("") == "")) && ` +
	`(!has(s.configMap) || s.configMap.?name.orValue("") == ` + celString(psp.RootCAConfigMap) + `) && ` +
	`(!has(s.downwardAPI) || s.downwardAPI.?items.orValue([]).all(i, i.?path.orValue("") == ` + celString(psp.NamespaceFilePath) + ` && i.?fieldRef.?apiVersion.orValue("") == "v1" && i.?fieldRef.?fieldPath.orValue("") == "metadata.namespace"))))`

// CEL implements Rule.
func (r VolumeTypes) CEL() string {
	var terms []string
	for _, s := range volumeSources {
		if slices.Contains(r.Allowed, s.fsType) {
			terms = append(terms, "has(v."+s.field+")")
		}
	}
	if r.AllowServiceAccountToken {
		terms = append(terms, celServiceAccountTokenVolume)
	}
	return celSpec + ".?volumes.orValue([]).all(v, " + celOr(terms) + ")"
}

// celHostPathMatch is psp.HostPathHasPrefix over the CEL string x, for
// any of the prefixes in list.
func celHostPathMatch(x string, list []string) string {
	terms := make([]string, len(list))
	for i, p := range list {
		exact, hasExact, under := psp.HostPathPrefixMatch(p)
		if hasExact {
			terms[i] = fmt.Sprintf("(%s == %s || %s.startsWith(%s))", x, celString(exact), x, celString(under))
		} else {
			terms[i] = fmt.Sprintf("%s.startsWith(%s)", x, celString(under))
		}
	}
	return celOr(terms)
}

// CEL implements Rule.
func (r HostPathPrefixes) CEL() string {
	return celSpec + ".?volumes.orValue([]).all(v, !has(v.hostPath) || " + celHostPathMatch("v.hostPath.path", prefixes(r.Prefixes, nil)) + ")"
}

// CEL implements Rule.
func (r HostPathReadOnly) CEL() string {
	readOnly := celHostPathMatch("v.hostPath.path", prefixes(r.Prefixes, new(true)))
	writable := celHostPathMatch("v.hostPath.path", prefixes(r.Prefixes, new(false)))
	mounts := celAllContainers("c.?volumeMounts.orValue([]).all(m, m.name != v.name || m.?readOnly.orValue(false))")
	return celSpec + ".?volumes.orValue([]).all(v, !has(v.hostPath) || !(" + readOnly + ") || " + writable + " || (" + mounts + "))"
}

// CEL implements Rule.
func (r FlexVolumeDrivers) CEL() string {
	return celSpec + ".?volumes.orValue([]).all(v, !has(v.flexVolume) || v.flexVolume.driver in " + celStrings(r.Drivers) + ")"
}

// CEL implements Rule.
func (r CSIDrivers) CEL() string {
	return celSpec + ".?volumes.orValue([]).all(v, !has(v.csi) || v.csi.driver in " + celStrings(r.Drivers) + ")"
}

// celEffective is a container's optional value of field, falling back to
// the pod's.
func celEffective(field string) string {
	return fmt.Sprintf("%s.?%s.or(%s.?%s)", celCSC, field, celPSC, field)
}

// CEL implements Rule.
func (r RunAsUser) CEL() string {
	uid := celEffective("runAsUser")
	if r.Rule == psp.RunAsUserStrategyMustRunAsNonRoot {
		nonRoot := celEffective("runAsNonRoot")
		return celAllContainers(fmt.Sprintf("[%s].all(n, [%s].all(u, (n.hasValue() || u.hasValue()) && n.orValue(true) && u.orValue(1) != 0))", nonRoot, uid))
	}
	return celAllContainers(fmt.Sprintf("[%s].all(u, u.hasValue() && %s)", uid, celInRanges("u.value()", idRanges(r.Ranges))))
}

// CEL implements Rule.
func (r GroupRule) CEL() string {
	in := celInRanges("g.value()", idRanges(r.Ranges))
	one := "g.hasValue() && " + in
	if !r.Must {
		one = "!g.hasValue() || " + in
	}
	switch r.Kind {
	case "runAsGroup":
		return celAllContainers(fmt.Sprintf("[%s].all(g, %s)", celEffective("runAsGroup"), one))
	case "fsGroup":
		return fmt.Sprintf("[%s.?fsGroup].all(g, %s)", celPSC, one)
	case "supplementalGroups":
		each := fmt.Sprintf("l.all(x, %s)", celInRanges("x", idRanges(r.Ranges)))
		if r.Must {
			each = "size(l) > 0 && " + each
		}
		return fmt.Sprintf("[%s.?supplementalGroups.orValue([])].all(l, %s)", celPSC, each)
	}
	return "false"
}

// CEL implements Rule.
func (r SELinux) CEL() string {
	o := r.Options
	match := func(x string) string {
		return fmt.Sprintf("[%s].all(o, o.?user.orValue(\"\") == %s && o.?role.orValue(\"\") == %s && o.?type.orValue(\"\") == %s && [o.?level.orValue(\"\")].all(l, %s))",
			x, celString(o.User), celString(o.Role), celString(o.Type), celSELinuxLevel("l", o.Level))
	}
	return fmt.Sprintf("%s.?seLinuxOptions.hasValue() && %s && (%s)", celPSC, match(celSpec+".securityContext.seLinuxOptions"),
		celAllContainers("!"+celCSC+".?seLinuxOptions.hasValue() || "+match("c.securityContext.seLinuxOptions")))
}

// celSELinuxLevel is psp.SELinuxLevelsEqual(want, l): equal strings, or the
// same sensitivity and the same multiset of categories.
func celSELinuxLevel(l, want string) string {
	sens, cats, ok := strings.Cut(want, ":")
	if !ok {
		return l + " == " + celString(want)
	}
	list := strings.Split(cats, ",")
	counts := map[string]int{}
	for _, c := range list {
		counts[c]++
	}
	distinct := make([]string, 0, len(counts))
	for c := range counts {
		distinct = append(distinct, c)
	}
	sort.Strings(distinct)
	terms := []string{fmt.Sprintf("size(k) == %d", len(list))}
	for _, c := range distinct {
		terms = append(terms, fmt.Sprintf("k.filter(e, e == %s).size() == %d", celString(c), counts[c]))
	}
	return fmt.Sprintf("(%[1]s == %[2]s || (%[1]s.contains(\":\") && %[1]s.split(\":\", 2)[0] == %[3]s && [%[1]s.split(\":\", 2)[1].split(\",\")].all(k, %[4]s)))",
		l, celString(want), celString(sens), strings.Join(terms, " && "))
}

// CEL implements Rule.
func (r AllowedCapabilities) CEL() string {
	in := "false"
	if len(r.Allowed) > 0 {
		in = "x in " + celStrings(r.Allowed)
	}
	return celAllContainers(celCSC + ".?capabilities.?add.orValue([]).all(x, " + in + ")")
}

// CEL implements Rule.
func (r RequiredDropCapabilities) CEL() string {
	terms := make([]string, len(r.Required))
	for i, c := range r.Required {
		terms[i] = celString(c) + " in d"
	}
	return celAllContainers("[" + celCSC + ".?capabilities.?drop.orValue([])].all(d, " + strings.Join(terms, " && ") + ")")
}

// CEL implements Rule.
func (ReadOnlyRootFilesystem) CEL() string {
	return celAllContainers(celCSC + ".?readOnlyRootFilesystem.orValue(false)")
}

// CEL implements Rule.
func (ForbidPrivilegeEscalation) CEL() string {
	return celAllContainers("!" + celCSC + ".?allowPrivilegeEscalation.orValue(true)")
}

// CEL implements Rule.
func (PrivilegeEscalationSet) CEL() string {
	return celAllContainers(celCSC + ".?allowPrivilegeEscalation.hasValue()")
}

// celSysctlName is normalizeSysctl(s.name) as a one-element list, so that
// rules can bind it with .all(n, …).
const celSysctlName = `[s.name].map(x, x.indexOf("/") >= 0 && (x.indexOf(".") < 0 || x.indexOf("/") < x.indexOf(".")) ? x.replace(".", "%").replace("/", ".").replace("%", "/") : x)`

func celSysctlMatch(n string, patterns []string) string {
	terms := make([]string, len(patterns))
	for i, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			terms[i] = n + ".startsWith(" + celString(prefix) + ")"
		} else {
			terms[i] = n + " == " + celString(p)
		}
	}
	return celOr(terms)
}

// CEL implements Rule.
func (r ForbiddenSysctls) CEL() string {
	return celPSC + ".?sysctls.orValue([]).all(s, " + celSysctlName + ".all(n, !(" + celSysctlMatch("n", r.Patterns) + ")))"
}

// CEL implements Rule.
func (r UnsafeSysctls) CEL() string {
	return celPSC + ".?sysctls.orValue([]).all(s, " + celSysctlName + ".all(n, " +
		celSysctlMatch("n", r.Forbidden) + " || n in " + celStrings(r.Safe) + " || " + celSysctlMatch("n", r.Allowed) + "))"
}

// CEL implements Rule.
func (r ProcMountTypes) CEL() string {
	return celAllContainers(celCSC + ".?procMount.orValue(\"Default\") in " + celStrings(r.Allowed))
}

// CEL implements Rule.
func (r RuntimeClassNames) CEL() string {
	set := "true"
	if !slices.Contains(r.Allowed, psp.AllowAllRuntimeClassNames) {
		set = celSpec + ".runtimeClassName in " + celStrings(r.Allowed)
	}
	return fmt.Sprintf("has(%s.runtimeClassName) ? %s : %t", celSpec, set, !r.Required)
}

// celSeccompAllowed is SeccompProfiles.allows over the present profile `x`.
func (r SeccompProfiles) celAllowed(x string) string {
	if r.Any {
		return "true"
	}
	var terms []string
	for _, name := range r.Named {
		switch {
		case name == psp.SeccompProfileRuntimeDefault:
			terms = append(terms, x+`.type == "RuntimeDefault"`)
		case name == psp.SeccompProfileUnconfined:
			terms = append(terms, x+`.type == "Unconfined"`)
		case strings.HasPrefix(name, psp.SeccompLocalhostProfilePrefix):
			terms = append(terms, fmt.Sprintf(`(%s.type == "Localhost" && %s.?localhostProfile.orValue("") == %s)`,
				x, x, celString(strings.TrimPrefix(name, psp.SeccompLocalhostProfilePrefix))))
		}
	}
	return celOr(terms)
}

// CEL implements Rule.
func (r SeccompProfiles) CEL() string {
	pod := fmt.Sprintf("[%s.?seccompProfile].all(p, p.hasValue() ? %s : %t)", celPSC, r.celAllowed("p.value()"), r.Unset && !r.PodRequired)
	ctr := fmt.Sprintf("[%s].all(p, p.hasValue() ? %s : %t)", celEffective("seccompProfile"), r.celAllowed("p.value()"), r.Unset)
	return pod + " && (" + celAllContainers(ctr) + ")"
}

// celAppArmorName renders the AppArmorProfile x in annotation syntax.
func celAppArmorName(x string) string {
	return fmt.Sprintf(`[%s].map(a, a.type == "RuntimeDefault" ? "runtime/default" : a.type == "Unconfined" ? "unconfined" : a.type == "Localhost" ? "localhost/" + a.?localhostProfile.orValue("") : "")[0]`, x)
}

// CEL implements Rule.
func (r AppArmorProfiles) CEL() string {
	effective := fmt.Sprintf(`%s.?appArmorProfile.hasValue() ? %s : object.metadata.?annotations[?(%s + c.name)].orValue(%s.?appArmorProfile.hasValue() ? %s : "")`,
		celCSC, celAppArmorName("c.securityContext.appArmorProfile"), celString(appArmorContainerAnnotationPrefix),
		celPSC, celAppArmorName(celSpec+".securityContext.appArmorProfile"))
	allowed := "true"
	if r.Allowed != nil {
		allowed = "p in " + celStrings(r.Allowed)
	}
	return celAllContainers(fmt.Sprintf(`[%s].all(p, p == "" ? %t : %s)`, effective, !r.Required, allowed))
}
