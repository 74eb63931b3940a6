package k8spspallowedusers

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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

has_key(obj, key) {
	_ = obj[key]
}

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
