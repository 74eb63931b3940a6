package k8spspforbiddensysctls

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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

has_key(obj, key) {
	_ = obj[key]
}
