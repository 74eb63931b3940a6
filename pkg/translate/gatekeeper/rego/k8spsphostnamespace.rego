package k8spsphostnamespace

# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.

violation[{"msg": msg}] {
	input.review.object.spec.hostPID == true
	msg := "spec.hostPID: the host PID namespace is not allowed"
}

violation[{"msg": msg}] {
	input.review.object.spec.hostIPC == true
	msg := "spec.hostIPC: the host IPC namespace is not allowed"
}

has_key(obj, key) {
	_ = obj[key]
}
