package translate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// The pod as an admission policy sees it: the helpers below read a pod the
// way the rules' CEL reads `object` (fields absent or empty alike, container
// values falling back to the pod's), so that the Go evaluator and the
// rendered CEL cannot drift apart on what "set" means.

// allContainers calls fn for every init, regular and ephemeral container and
// reports whether fn returned true for all of them. PSP checked all three
// kinds; ephemeral containers reach admission through the
// pods/ephemeralcontainers subresource.
func allContainers(spec *corev1.PodSpec, fn func(c *corev1.Container) bool) bool {
	for i := range spec.InitContainers {
		if !fn(&spec.InitContainers[i]) {
			return false
		}
	}
	for i := range spec.Containers {
		if !fn(&spec.Containers[i]) {
			return false
		}
	}
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		if !fn(&c) {
			return false
		}
	}
	return true
}

func podSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

func containerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

// effectiveInt64 is the container's value, else the pod's: how runAsUser,
// runAsGroup and runAsNonRoot are inherited.
func effectiveInt64(c, pod *int64) *int64 {
	if c != nil {
		return c
	}
	return pod
}

func effectiveBool(c, pod *bool) *bool {
	if c != nil {
		return c
	}
	return pod
}

func isTrue(b *bool) bool { return b != nil && *b }

// seccompProfileName renders a seccompProfile field in the annotation
// syntax PSPs use ("runtime/default", "unconfined", "localhost/<file>"); ""
// for nil or an unknown type.
func seccompProfileName(p *corev1.SeccompProfile) string {
	if p == nil {
		return ""
	}
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.SeccompProfileTypeUnconfined:
		return "unconfined"
	case corev1.SeccompProfileTypeLocalhost:
		name := ""
		if p.LocalhostProfile != nil {
			name = *p.LocalhostProfile
		}
		return "localhost/" + name
	}
	return ""
}

// appArmorProfileName renders an appArmorProfile field in the annotation
// syntax; "" for nil or an unknown type.
func appArmorProfileName(p *corev1.AppArmorProfile) string {
	if p == nil {
		return ""
	}
	switch p.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.AppArmorProfileTypeUnconfined:
		return "unconfined"
	case corev1.AppArmorProfileTypeLocalhost:
		name := ""
		if p.LocalhostProfile != nil {
			name = *p.LocalhostProfile
		}
		return "localhost/" + name
	}
	return ""
}

// appArmorContainerAnnotationPrefix is the deprecated per-container AppArmor
// annotation, still honoured by the kubelet and synced with the fields by
// the API server.
const appArmorContainerAnnotationPrefix = psp.AppArmorContainerAnnotationPrefix

// effectiveAppArmor is the profile the kubelet (v1.30+) applies to a
// container: the container's field, else its annotation, else the pod's
// field.
func effectiveAppArmor(pod *corev1.Pod, c *corev1.Container) string {
	if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
		return appArmorProfileName(c.SecurityContext.AppArmorProfile)
	}
	if v, ok := pod.Annotations[appArmorContainerAnnotationPrefix+c.Name]; ok {
		return v
	}
	return appArmorProfileName(podSC(pod).AppArmorProfile)
}

// normalizeSysctl is the kubelet's reading of a sysctl name: a name whose
// first separator is "/" uses "/" between segments and "." inside them, so
// the two are swapped ("net/ipv4/conf/eth0.100/rp_filter" is
// "net.ipv4.conf.eth0/100.rp_filter"). PSP compared names as written, which
// let a slash-separated name slip past forbiddenSysctls patterns.
func normalizeSysctl(name string) string {
	i := strings.IndexAny(name, "./")
	if i < 0 || name[i] == '.' {
		return name
	}
	return swapDotSlash(name)
}

// swapDotSlash turns a slash-written sysctl name into the dotted one, and
// back.
func swapDotSlash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}
