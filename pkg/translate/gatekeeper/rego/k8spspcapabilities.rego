package k8spspcapabilities

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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
