package k8spspprocmount

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	input.parameters.procMount == "Default"
	c := checked[_]
	pm := object.get(object.get(c, "securityContext", {}), "procMount", "Default")
	pm != "Default"
	msg := sprintf("spec.allowedProcMountTypes: container %v must use procMount Default, not %v", [c.name, pm])
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
