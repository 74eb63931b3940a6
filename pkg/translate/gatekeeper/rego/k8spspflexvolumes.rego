package k8spspflexvolumes

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	count(input.parameters.allowedFlexVolumes) > 0
	v := input.review.object.spec.volumes[_]
	driver := v.flexVolume.driver
	not driver_allowed(driver)
	msg := sprintf("spec.allowedFlexVolumes: flexVolume %v uses driver %v, which is not allowed", [v.name, driver])
}

driver_allowed(driver) {
	input.parameters.allowedFlexVolumes[_].driver == driver
}

has_key(obj, key) {
	_ = obj[key]
}
