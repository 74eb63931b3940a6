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

token_source(s) {
	t := s.serviceAccountToken
	t.path == "token"
	not audience(t)
}

token_source(s) {
	not has_key(s, "serviceAccountToken")
	s.configMap.name == "kube-root-ca.crt"
}

token_source(s) {
	not has_key(s, "serviceAccountToken")
	not has_key(s, "configMap")
	d := s.downwardAPI
	not foreign_item(d)
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
