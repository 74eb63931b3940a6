package k8spspseccomp

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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
