package k8spsphostnetworkingports

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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
