package k8spspselinuxv2

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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
