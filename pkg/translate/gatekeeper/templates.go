package gatekeeper

import (
	"sort"
	"strings"
)

// The project's own ConstraintTemplates (--gatekeeper-templates). Each one
// has the kind name and the parameter schema of the gatekeeper-library
// template of the same kind, so the constraints the renderer writes work
// with either; the Rego is written from the rule model (rules.go) and
// decides exactly as Rule.Allows does for the parameters the renderer
// writes. The Rego uses only syntax every Gatekeeper release with
// templates.gatekeeper.sh/v1 parses (Rego v0, no future keywords), since
// clusters leaving PSP run releases of that era.
//
// Where the library gives a parameter no fixed meaning for an input the PSP
// knew, the templates use PSP's own syntax: an empty string in
// allowedProfiles (seccomp, AppArmor) allows an unset profile, "*" any set
// one; profile names are in annotation syntax ("runtime/default",
// "localhost/<file>"). exemptImages is honoured ("prefix*" globs) where the
// library schema has it; the renderer never sets it.

// Gatekeeper kinds the renderer uses (the gatekeeper-library's names).
const (
	kindPrivileged     = "K8sPSPPrivilegedContainer"
	kindHostNamespace  = "K8sPSPHostNamespace"
	kindHostNetwork    = "K8sPSPHostNetworkingPorts"
	kindVolumes        = "K8sPSPVolumeTypes"
	kindHostFilesystem = "K8sPSPHostFilesystem"
	kindFlexVolumes    = "K8sPSPFlexVolumes"
	kindUsers          = "K8sPSPAllowedUsers"
	kindSELinux        = "K8sPSPSELinuxV2"
	kindCapabilities   = "K8sPSPCapabilities"
	kindReadOnlyFS     = "K8sPSPReadOnlyRootFilesystem"
	kindEscalation     = "K8sPSPAllowPrivilegeEscalationContainer"
	kindSysctls        = "K8sPSPForbiddenSysctls"
	kindProcMount      = "K8sPSPProcMount"
	kindSeccomp        = "K8sPSPSeccomp"
	kindAppArmor       = "K8sPSPAppArmor"
)

// template is one kind's parameter schema and Rego body (without the
// package line and the shared helpers, which rego adds).
type template struct {
	description string
	// params are the properties of the parameter schema.
	params map[string]any
	// containers: the body uses the container helpers.
	containers bool
	rego       string
}

func stringsSchema(desc string) map[string]any {
	return map[string]any{"type": "array", "description": desc, "items": map[string]any{"type": "string"}}
}

func idRangesSchema(desc string) map[string]any {
	return map[string]any{"type": "array", "description": desc, "items": map[string]any{
		"type": "object",
		"properties": map[string]any{
			"min": map[string]any{"type": "integer", "description": "First ID of the range, inclusive."},
			"max": map[string]any{"type": "integer", "description": "Last ID of the range, inclusive."},
		},
	}}
}

func idRuleSchema(desc string, rules ...any) map[string]any {
	return map[string]any{"type": "object", "description": desc, "properties": map[string]any{
		"rule":   map[string]any{"type": "string", "enum": rules},
		"ranges": idRangesSchema("ID ranges; an ID must fall in one of them."),
	}}
}

var exemptImages = stringsSchema("Containers whose image equals an entry, or starts with an entry's text before a trailing *, are not checked.")

// templates are the own templates, by kind.
var templates = map[string]template{
	kindPrivileged: {
		description: "Forbids privileged containers (PodSecurityPolicy spec.privileged: false).",
		params:      map[string]any{"exemptImages": exemptImages},
		containers:  true,
		rego: `
violation[{"msg": msg}] {
	c := checked[_]
	c.securityContext.privileged == true
	msg := sprintf("spec.privileged: container %v is privileged", [c.name])
}
`,
	},
	kindHostNamespace: {
		description: "Forbids the host PID and IPC namespaces (PodSecurityPolicy spec.hostPID and spec.hostIPC: false).",
		params:      map[string]any{},
		rego: `
violation[{"msg": msg}] {
	input.review.object.spec.hostPID == true
	msg := "spec.hostPID: the host PID namespace is not allowed"
}

violation[{"msg": msg}] {
	input.review.object.spec.hostIPC == true
	msg := "spec.hostIPC: the host IPC namespace is not allowed"
}
`,
	},
	kindHostNetwork: {
		description: "Restricts the host network namespace and host ports (PodSecurityPolicy spec.hostNetwork and spec.hostPorts). Host ports must lie in min..max; an unset bound does not restrict.",
		params: map[string]any{
			"exemptImages": exemptImages,
			"hostNetwork":  map[string]any{"type": "boolean", "description": "Whether pods may use the host network namespace."},
			"min":          map[string]any{"type": "integer", "description": "Lowest allowed host port, inclusive."},
			"max":          map[string]any{"type": "integer", "description": "Highest allowed host port, inclusive."},
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	not input.parameters.hostNetwork
	input.review.object.spec.hostNetwork == true
	msg := "spec.hostNetwork: the host network namespace is not allowed"
}

violation[{"msg": msg}] {
	c := checked[_]
	port := c.ports[_].hostPort
	port != 0
	outside(port)
	msg := sprintf("spec.hostPorts: container %v uses host port %v, outside %v-%v", [c.name, port, bound("min"), bound("max")])
}

outside(port) {
	port < input.parameters.min
}

outside(port) {
	port > input.parameters.max
}

bound(name) = v {
	v := input.parameters[name]
}

bound(name) = "any" {
	not has_key(input.parameters, name)
}
`,
	},
	kindVolumes: {
		description: "Restricts volume types to a list in PodSecurityPolicy syntax (spec.volumes; * allows all). When secret is listed and projected is not, the projected service account token volume is allowed, as PodSecurityPolicy allowed it.",
		params:      map[string]any{"volumes": stringsSchema("Allowed volume types, e.g. configMap, cephFS, csi; * allows every type.")},
		rego: `
violation[{"msg": msg}] {
	not listed("*")
	v := input.review.object.spec.volumes[_]
	not volume_allowed(v)
	not token_volume(v)
	msg := sprintf("spec.volumes: volume %v is of a type not allowed; allowed: %v", [v.name, input.parameters.volumes])
}

listed(t) {
	input.parameters.volumes[_] == t
}

volume_allowed(v) {
	_ = v[field]
	field != "name"
	listed(volume_type(field))
}

volume_type(field) = "cephFS" {
	field == "cephfs"
}

volume_type(field) = field {
	field != "cephfs"
}

token_volume(v) {
	listed("secret")
	not listed("projected")
	p := v.projected
	not foreign_source(p)
}

foreign_source(p) {
	s := p.sources[_]
	not token_source(s)
}

token_source(s) {
	t := s.serviceAccountToken
	t.path == "token"
	not audience(t)
}

token_source(s) {
	not has_key(s, "serviceAccountToken")
	s.configMap.name == "kube-root-ca.crt"
}

token_source(s) {
	not has_key(s, "serviceAccountToken")
	not has_key(s, "configMap")
	d := s.downwardAPI
	not foreign_item(d)
}

audience(t) {
	t.audience != ""
}

foreign_item(d) {
	item := d.items[_]
	not namespace_item(item)
}

namespace_item(item) {
	item.path == "namespace"
	item.fieldRef.apiVersion == "v1"
	item.fieldRef.fieldPath == "metadata.namespace"
}
`,
	},
	kindHostFilesystem: {
		description: "Restricts hostPath volumes to path prefixes (PodSecurityPolicy spec.allowedHostPaths; an empty list allows every path). A volume under a readOnly prefix and under no writable one must be mounted read-only by every container.",
		params: map[string]any{"allowedHostPaths": map[string]any{"type": "array", "description": "Allowed path prefixes.", "items": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"pathPrefix": map[string]any{"type": "string", "description": "Path prefix, matched by whole path segments."},
				"readOnly":   map[string]any{"type": "boolean", "description": "Volumes under the prefix must be mounted read-only."},
			},
		}}},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	count(input.parameters.allowedHostPaths) > 0
	v := input.review.object.spec.volumes[_]
	path := v.hostPath.path
	not under_prefix(path, false)
	not under_prefix(path, true)
	msg := sprintf("spec.allowedHostPaths: hostPath volume %v (%v) is under no allowed prefix", [v.name, path])
}

violation[{"msg": msg}] {
	v := input.review.object.spec.volumes[_]
	path := v.hostPath.path
	under_prefix(path, true)
	not under_prefix(path, false)
	c := checked[_]
	m := c.volumeMounts[_]
	m.name == v.name
	not m.readOnly == true
	msg := sprintf("spec.allowedHostPaths: container %v must mount hostPath volume %v (%v) read-only", [c.name, v.name, path])
}

under_prefix(path, read_only) {
	a := input.parameters.allowedHostPaths[_]
	read_only_flag(a) == read_only
	path_under(path, a.pathPrefix)
}

read_only_flag(a) = true {
	a.readOnly == true
}

read_only_flag(a) = false {
	not a.readOnly == true
}

path_under(path, prefix) {
	path == trim_suffix(prefix, "/")
}

path_under(path, prefix) {
	startswith(path, concat("", [trim_suffix(prefix, "/"), "/"]))
}
`,
	},
	kindFlexVolumes: {
		description: "Restricts flexVolume drivers (PodSecurityPolicy spec.allowedFlexVolumes; an empty list allows every driver).",
		params: map[string]any{"allowedFlexVolumes": map[string]any{"type": "array", "description": "Allowed drivers.", "items": map[string]any{
			"type":       "object",
			"properties": map[string]any{"driver": map[string]any{"type": "string", "description": "Driver name."}},
		}}},
		rego: `
violation[{"msg": msg}] {
	count(input.parameters.allowedFlexVolumes) > 0
	v := input.review.object.spec.volumes[_]
	driver := v.flexVolume.driver
	not driver_allowed(driver)
	msg := sprintf("spec.allowedFlexVolumes: flexVolume %v uses driver %v, which is not allowed", [v.name, driver])
}

driver_allowed(driver) {
	input.parameters.allowedFlexVolumes[_].driver == driver
}
`,
	},
	kindUsers: {
		description: "Restricts user and group IDs (PodSecurityPolicy spec.runAsUser, runAsGroup, supplementalGroups, fsGroup). Container values fall back to the pod's. MustRunAs: the ID must be set and in a range; MayRunAs: in a range when set; MustRunAsNonRoot: runAsNonRoot true or a non-zero runAsUser.",
		params: map[string]any{
			"exemptImages":       exemptImages,
			"runAsUser":          idRuleSchema("runAsUser strategy.", "MustRunAs", "MustRunAsNonRoot", "RunAsAny"),
			"runAsGroup":         idRuleSchema("runAsGroup strategy.", "MustRunAs", "MayRunAs", "RunAsAny"),
			"supplementalGroups": idRuleSchema("supplementalGroups strategy.", "MustRunAs", "MayRunAs", "RunAsAny"),
			"fsGroup":            idRuleSchema("fsGroup strategy.", "MustRunAs", "MayRunAs", "RunAsAny"),
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	p := input.parameters.runAsUser
	p.rule == "MustRunAs"
	c := checked[_]
	not uid_in(c, p.ranges)
	msg := sprintf("spec.runAsUser: container %v must set runAsUser in %v", [c.name, p.ranges])
}

violation[{"msg": msg}] {
	input.parameters.runAsUser.rule == "MustRunAsNonRoot"
	c := checked[_]
	not non_root(c)
	msg := sprintf("spec.runAsUser: container %v must run as non-root (runAsNonRoot: true or a non-zero runAsUser)", [c.name])
}

violation[{"msg": msg}] {
	p := input.parameters.runAsGroup
	c := checked[_]
	not group_ok(p, object.get(c, "securityContext", {}), "runAsGroup")
	msg := sprintf("spec.runAsGroup: container %v: runAsGroup must be %v in %v", [c.name, p.rule, p.ranges])
}

violation[{"msg": msg}] {
	p := input.parameters.fsGroup
	not group_ok(p, {}, "fsGroup")
	msg := sprintf("spec.fsGroup: fsGroup must be %v in %v", [p.rule, p.ranges])
}

violation[{"msg": msg}] {
	p := input.parameters.supplementalGroups
	p.rule == "MustRunAs"
	count(object.get(pod_sc, "supplementalGroups", [])) == 0
	msg := sprintf("spec.supplementalGroups: the pod must set supplementalGroups in %v", [p.ranges])
}

violation[{"msg": msg}] {
	p := input.parameters.supplementalGroups
	ranged(p.rule)
	g := pod_sc.supplementalGroups[_]
	not in_ranges(g, p.ranges)
	msg := sprintf("spec.supplementalGroups: group %v is not in %v", [g, p.ranges])
}

pod_sc = sc {
	sc := input.review.object.spec.securityContext
}

pod_sc = {} {
	not has_key(input.review.object.spec, "securityContext")
}

ranged(rule) {
	rule == "MustRunAs"
}

ranged(rule) {
	rule == "MayRunAs"
}

effective(c, field) = v {
	v := c.securityContext[field]
}

effective(c, field) = v {
	not has_key(object.get(c, "securityContext", {}), field)
	v := pod_sc[field]
}

in_ranges(id, ranges) {
	r := ranges[_]
	id >= r.min
	id <= r.max
}

# Nested calls stay outside a negation: an undefined argument would make
# the whole expression, not just the call, undefined.
uid_in(c, ranges) {
	uid := effective(c, "runAsUser")
	in_ranges(uid, ranges)
}

uid_zero(c) {
	effective(c, "runAsUser") == 0
}

non_root(c) {
	effective(c, "runAsNonRoot") == true
	not uid_zero(c)
}

non_root(c) {
	not has_effective(c, "runAsNonRoot")
	uid := effective(c, "runAsUser")
	uid != 0
}

has_effective(c, field) {
	_ = effective(c, field)
}

# group_ok: the container's value (sc[field]) or else the pod's.
group_ok(p, sc, field) {
	not ranged(p.rule)
}

group_ok(p, sc, field) {
	ranged(p.rule)
	v := group_value(sc, field)
	in_ranges(v, p.ranges)
}

group_ok(p, sc, field) {
	p.rule == "MayRunAs"
	not has_group(sc, field)
}

group_value(sc, field) = v {
	v := sc[field]
}

group_value(sc, field) = v {
	not has_key(sc, field)
	v := pod_sc[field]
}

has_group(sc, field) {
	_ = group_value(sc, field)
}
`,
	},
	kindSELinux: {
		description: "Requires SELinux options (PodSecurityPolicy seLinux: MustRunAs): the pod must set seLinuxOptions and they, and every container's own, must equal one allowed entry (unset fields are empty; MLS categories compare in any order).",
		params: map[string]any{
			"exemptImages": exemptImages,
			"allowedSELinuxOptions": map[string]any{"type": "array", "description": "Allowed option sets.", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"level": map[string]any{"type": "string", "description": "MLS level."},
					"role":  map[string]any{"type": "string", "description": "SELinux role."},
					"type":  map[string]any{"type": "string", "description": "SELinux type."},
					"user":  map[string]any{"type": "string", "description": "SELinux user."},
				},
			}},
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	not pod_options_allowed
	msg := sprintf("spec.seLinux: the pod must set seLinuxOptions equal to one of %v", [input.parameters.allowedSELinuxOptions])
}

violation[{"msg": msg}] {
	c := checked[_]
	o := c.securityContext.seLinuxOptions
	not options_allowed(o)
	msg := sprintf("spec.seLinux: container %v: seLinuxOptions must equal one of %v", [c.name, input.parameters.allowedSELinuxOptions])
}

pod_options_allowed {
	options_allowed(input.review.object.spec.securityContext.seLinuxOptions)
}

options_allowed(o) {
	a := input.parameters.allowedSELinuxOptions[_]
	object.get(o, "user", "") == object.get(a, "user", "")
	object.get(o, "role", "") == object.get(a, "role", "")
	object.get(o, "type", "") == object.get(a, "type", "")
	level_equal(object.get(a, "level", ""), object.get(o, "level", ""))
}

level_equal(want, got) {
	want == got
}

level_equal(want, got) {
	want != got
	w := indexof(want, ":")
	g := indexof(got, ":")
	w >= 0
	g >= 0
	substring(want, 0, w) == substring(got, 0, g)
	sort(split(substring(want, w + 1, -1), ",")) == sort(split(substring(got, g + 1, -1), ","))
}
`,
	},
	kindCapabilities: {
		description: "Restricts capabilities (PodSecurityPolicy spec.allowedCapabilities and requiredDropCapabilities). Containers may add only allowedCapabilities (* any; unset none) and must drop each of requiredDropCapabilities, compared exactly.",
		params: map[string]any{
			"exemptImages":             exemptImages,
			"allowedCapabilities":      stringsSchema("Capabilities containers may add; * allows any."),
			"requiredDropCapabilities": stringsSchema("Capabilities every container must drop."),
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	not cap_allowed("*")
	c := checked[_]
	added := c.securityContext.capabilities.add[_]
	not cap_allowed(added)
	msg := sprintf("spec.allowedCapabilities: container %v may not add %v; allowed: %v", [c.name, added, object.get(input.parameters, "allowedCapabilities", [])])
}

violation[{"msg": msg}] {
	c := checked[_]
	required := input.parameters.requiredDropCapabilities[_]
	not dropped(c, required)
	msg := sprintf("spec.requiredDropCapabilities: container %v must drop %v", [c.name, required])
}

cap_allowed(name) {
	input.parameters.allowedCapabilities[_] == name
}

dropped(c, name) {
	c.securityContext.capabilities.drop[_] == name
}
`,
	},
	kindReadOnlyFS: {
		description: "Requires readOnlyRootFilesystem: true on every container (PodSecurityPolicy spec.readOnlyRootFilesystem: true).",
		params:      map[string]any{"exemptImages": exemptImages},
		containers:  true,
		rego: `
violation[{"msg": msg}] {
	c := checked[_]
	not c.securityContext.readOnlyRootFilesystem == true
	msg := sprintf("spec.readOnlyRootFilesystem: container %v must set readOnlyRootFilesystem: true", [c.name])
}
`,
	},
	kindEscalation: {
		description: "Requires allowPrivilegeEscalation: false on every container (PodSecurityPolicy spec.allowPrivilegeEscalation: false).",
		params:      map[string]any{"exemptImages": exemptImages},
		containers:  true,
		rego: `
violation[{"msg": msg}] {
	c := checked[_]
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("spec.allowPrivilegeEscalation: container %v must set allowPrivilegeEscalation: false", [c.name])
}
`,
	},
	kindSysctls: {
		description: "Restricts sysctls (PodSecurityPolicy spec.forbiddenSysctls and allowedUnsafeSysctls). A sysctl matching forbiddenSysctls is rejected; when allowedSysctls is set, one matching none of it is too. Entries are names or prefix* globs; slash-separated names are read as the kubelet reads them.",
		params: map[string]any{
			"allowedSysctls":   stringsSchema("Allowed sysctls (the safe set is not implied); * allows all."),
			"forbiddenSysctls": stringsSchema("Forbidden sysctls; they win over allowedSysctls."),
		},
		rego: `
violation[{"msg": msg}] {
	s := input.review.object.spec.securityContext.sysctls[_]
	name := normalized(s.name)
	matches(name, input.parameters.forbiddenSysctls)
	msg := sprintf("spec.forbiddenSysctls: sysctl %v is forbidden", [s.name])
}

violation[{"msg": msg}] {
	allowed := input.parameters.allowedSysctls
	s := input.review.object.spec.securityContext.sysctls[_]
	not matches(normalized(s.name), allowed)
	msg := sprintf("spec.allowedUnsafeSysctls: sysctl %v is not allowed", [s.name])
}

matches(name, patterns) {
	p := patterns[_]
	endswith(p, "*")
	startswith(name, trim_suffix(p, "*"))
}

matches(name, patterns) {
	p := patterns[_]
	not endswith(p, "*")
	name == p
}

normalized(name) = out {
	slash_first(name)
	out := replace(replace(replace(name, ".", "#"), "/", "."), "#", "/")
}

normalized(name) = name {
	not slash_first(name)
}

slash_first(name) {
	s := indexof(name, "/")
	s >= 0
	d := indexof(name, ".")
	d < 0
}

slash_first(name) {
	s := indexof(name, "/")
	s >= 0
	d := indexof(name, ".")
	d > s
}
`,
	},
	kindProcMount: {
		description: "Restricts procMount (PodSecurityPolicy spec.allowedProcMountTypes): Default requires the default proc mount (unset means Default); Unmasked allows both.",
		params: map[string]any{
			"exemptImages": exemptImages,
			"procMount":    map[string]any{"type": "string", "enum": []any{"Default", "Unmasked"}, "description": "Most exposed proc mount allowed."},
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	input.parameters.procMount == "Default"
	c := checked[_]
	pm := object.get(object.get(c, "securityContext", {}), "procMount", "Default")
	pm != "Default"
	msg := sprintf("spec.allowedProcMountTypes: container %v must use procMount Default, not %v", [c.name, pm])
}
`,
	},
	kindSeccomp: {
		description: "Restricts seccomp profiles (PodSecurityPolicy annotation seccomp.security.alpha.kubernetes.io/allowedProfileNames) on the pod and every container's effective seccompProfile field. Names are in annotation syntax (runtime/default, unconfined, localhost/<file>); * allows any set profile, an empty entry allows none to be set. allowedLocalhostFiles is accepted for compatibility and not read.",
		params: map[string]any{
			"exemptImages":          exemptImages,
			"allowedProfiles":       stringsSchema("Allowed profiles in annotation syntax; * any set profile; an empty entry allows an unset profile."),
			"allowedLocalhostFiles": stringsSchema("Accepted for compatibility with the gatekeeper-library; not read."),
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	not pod_profile_ok
	msg := sprintf("seccomp: the pod's seccompProfile must be one of %v", [shown])
}

violation[{"msg": msg}] {
	c := checked[_]
	p := c.securityContext.seccompProfile
	not profile_ok(p)
	msg := sprintf("seccomp: container %v: seccompProfile must be one of %v", [c.name, shown])
}

shown = [s | p := input.parameters.allowedProfiles[_]; s := shown_name(p)]

shown_name(p) = "(unset)" {
	p == ""
}

shown_name(p) = p {
	p != ""
}

pod_profile_ok {
	profile_ok(input.review.object.spec.securityContext.seccompProfile)
}

pod_profile_ok {
	not has_key(object.get(input.review.object.spec, "securityContext", {}), "seccompProfile")
	listed("")
}

profile_ok(p) {
	_ = profile_name(p)
	listed("*")
}

profile_ok(p) {
	listed(profile_name(p))
}

listed(name) {
	input.parameters.allowedProfiles[_] == name
}

profile_name(p) = "runtime/default" {
	p.type == "RuntimeDefault"
}

profile_name(p) = "unconfined" {
	p.type == "Unconfined"
}

profile_name(p) = name {
	p.type == "Localhost"
	name := concat("", ["localhost/", object.get(p, "localhostProfile", "")])
}
`,
	},
	kindAppArmor: {
		description: "Restricts AppArmor profiles (PodSecurityPolicy annotation apparmor.security.beta.kubernetes.io/allowedProfileNames) by each container's effective profile: its appArmorProfile field, else its container.apparmor.security.beta.kubernetes.io annotation, else the pod's field. Names are in annotation syntax; * allows any set profile, an empty entry allows none.",
		params: map[string]any{
			"exemptImages":    exemptImages,
			"allowedProfiles": stringsSchema("Allowed profiles in annotation syntax (runtime/default, localhost/<name>, unconfined); * any set profile; an empty entry allows an unset profile."),
		},
		containers: true,
		rego: `
violation[{"msg": msg}] {
	c := checked[_]
	name := effective_profile(c)
	not profile_allowed(name)
	msg := sprintf("appArmor: container %v: AppArmor profile %v is not one of %v", [c.name, shown_name(name), [s | p := input.parameters.allowedProfiles[_]; s := shown_name(p)]])
}

shown_name(p) = "(unset)" {
	p == ""
}

shown_name(p) = p {
	p != ""
}

profile_allowed(name) {
	input.parameters.allowedProfiles[_] == name
}

profile_allowed(name) {
	name != ""
	input.parameters.allowedProfiles[_] == "*"
}

effective_profile(c) = name {
	name := profile_name(c.securityContext.appArmorProfile)
}

effective_profile(c) = name {
	not has_key(object.get(c, "securityContext", {}), "appArmorProfile")
	name := input.review.object.metadata.annotations[concat("", ["container.apparmor.security.beta.kubernetes.io/", c.name])]
}

effective_profile(c) = name {
	not has_key(object.get(c, "securityContext", {}), "appArmorProfile")
	not has_key(object.get(input.review.object.metadata, "annotations", {}), concat("", ["container.apparmor.security.beta.kubernetes.io/", c.name]))
	name := pod_profile
}

pod_profile = name {
	name := profile_name(input.review.object.spec.securityContext.appArmorProfile)
}

pod_profile = "" {
	not has_key(object.get(input.review.object.spec, "securityContext", {}), "appArmorProfile")
}

profile_name(p) = "runtime/default" {
	p.type == "RuntimeDefault"
}

profile_name(p) = "unconfined" {
	p.type == "Unconfined"
}

profile_name(p) = name {
	p.type == "Localhost"
	name := concat("", ["localhost/", object.get(p, "localhostProfile", "")])
}

profile_name(p) = "" {
	not known_type(object.get(p, "type", ""))
}

known_type(t) {
	t == "RuntimeDefault"
}

known_type(t) {
	t == "Unconfined"
}

known_type(t) {
	t == "Localhost"
}
`,
	},
}

// helpers are defined in every template: has_key, and for per-container
// kinds the containers PSP checked (init, regular, ephemeral) less the
// exempt ones.
const (
	keyHelper = `
has_key(obj, key) {
	_ = obj[key]
}
`
	containerHelpers = `
containers[c] {
	c := input.review.object.spec.initContainers[_]
}

containers[c] {
	c := input.review.object.spec.containers[_]
}

containers[c] {
	c := input.review.object.spec.ephemeralContainers[_]
}

checked[c] {
	c := containers[_]
	not exempt(c)
}

exempt(c) {
	image := input.parameters.exemptImages[_]
	not endswith(image, "*")
	c.image == image
}

exempt(c) {
	image := input.parameters.exemptImages[_]
	endswith(image, "*")
	startswith(c.image, trim_suffix(image, "*"))
}
`
)

// rego is the full Rego module of a kind's own template.
func rego(kind string) string {
	t := templates[kind]
	var b strings.Builder
	b.WriteString("package " + strings.ToLower(kind) + "\n\n")
	b.WriteString("# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.\n\n")
	b.WriteString(strings.TrimLeft(t.rego, "\n"))
	b.WriteString(keyHelper)
	if t.containers {
		b.WriteString(containerHelpers)
	}
	// Spaces, not tabs: YAML writes a string with tabs quoted on one line,
	// which nobody can review.
	return strings.ReplaceAll(b.String(), "\t", "    ")
}

// templateKinds lists the kinds with an own template, sorted.
func templateKinds() []string {
	out := make([]string, 0, len(templates))
	for k := range templates {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
