package k8spsphostfilesystem

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	count(input.parameters.allowedHostPaths) > 0
	v := input.review.object.spec.volumes[_]
	path := v.hostPath.path
	not under_prefix(path, false)
	not under_prefix(path, true)
	msg := sprintf("spec.allowedHostPaths: hostPath volume %v (%v) is under no allowed prefix", [v.name, path])
}

violation[{"msg": msg}] {
	v := input.review.object.spec.volumes[_]
	path := v.hostPath.path
	under_prefix(path, true)
	not under_prefix(path, false)
	c := checked[_]
	m := c.volumeMounts[_]
	m.name == v.name
	not m.readOnly == true
	msg := sprintf("spec.allowedHostPaths: container %v must mount hostPath volume %v (%v) read-only", [c.name, v.name, path])
}

under_prefix(path, read_only) {
	a := input.parameters.allowedHostPaths[_]
	read_only_flag(a) == read_only
	path_under(path, a.pathPrefix)
}

read_only_flag(a) = true {
	a.readOnly == true
}

read_only_flag(a) = false {
	not a.readOnly == true
}

# path_under is v1.24's prefix match: one trailing slash is dropped from
# both, then the prefix must cover whole segments. A prefix still ending in
# "/" after the trim ("/foo//") has no exact form: "/foo/" trims to "/foo",
# which it does not cover.
path_under(path, prefix) {
	p := trim_suffix(prefix, "/")
	not endswith(p, "/")
	path == p
}

path_under(path, prefix) {
	startswith(path, concat("", [trim_suffix(prefix, "/"), "/"]))
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
