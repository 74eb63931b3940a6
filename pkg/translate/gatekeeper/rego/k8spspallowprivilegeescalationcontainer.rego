package k8spspallowprivilegeescalationcontainer

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	c := checked[_]
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("spec.allowPrivilegeEscalation: container %v must set allowPrivilegeEscalation: false", [c.name])
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
