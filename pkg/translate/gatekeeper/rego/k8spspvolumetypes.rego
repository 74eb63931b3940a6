package k8spspvolumetypes

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	not listed("*")
	v := input.review.object.spec.volumes[_]
	not volume_allowed(v)
	not token_volume(v)
	msg := sprintf("spec.volumes: volume %v is of a type not allowed; allowed: %v", [v.name, input.parameters.volumes])
}

listed(t) {
	input.parameters.volumes[_] == t
}

volume_allowed(v) {
	_ = v[field]
	field != "name"
	listed(volume_type(field))
}

volume_type(field) = "cephFS" {
	field == "cephfs"
}

volume_type(field) = field {
	field != "cephfs"
}

token_volume(v) {
	listed("secret")
	not listed("projected")
	p := v.projected
	not foreign_source(p)
}

foreign_source(p) {
	s := p.sources[_]
	not token_source(s)
}

# Every source field set is checked, not only the first: a source with a
# token and a foreign ConfigMap is foreign (the API server accepts one
# field per source, but gator and audits see objects it never validated).
token_source(s) {
	known_source(s)
	not foreign_token(s)
	not foreign_config_map(s)
	not foreign_items(s)
}

known_source(s) {
	has_key(s, "serviceAccountToken")
}

known_source(s) {
	has_key(s, "configMap")
}

known_source(s) {
	has_key(s, "downwardAPI")
}

foreign_token(s) {
	t := s.serviceAccountToken
	not t.path == "token"
}

foreign_token(s) {
	audience(s.serviceAccountToken)
}

foreign_config_map(s) {
	c := s.configMap
	not c.name == "kube-root-ca.crt"
}

foreign_items(s) {
	foreign_item(s.downwardAPI)
}

audience(t) {
	t.audience != ""
}

foreign_item(d) {
	item := d.items[_]
	not namespace_item(item)
}

namespace_item(item) {
	item.path == "namespace"
	item.fieldRef.apiVersion == "v1"
	item.fieldRef.fieldPath == "metadata.namespace"
}

has_key(obj, key) {
	_ = obj[key]
}
