package k8spspapparmor

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

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
