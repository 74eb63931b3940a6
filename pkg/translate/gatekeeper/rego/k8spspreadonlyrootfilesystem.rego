package k8spspreadonlyrootfilesystem

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	c := checked[_]
	not c.securityContext.readOnlyRootFilesystem == true
	msg := sprintf("spec.readOnlyRootFilesystem: container %v must set readOnlyRootFilesystem: true", [c.name])
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
