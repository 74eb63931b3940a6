// Package translatetest holds what the tests of pkg/translate and of its
// engine packages share: PSP and pod fixtures, the shared input, golden
// files and the fuzz inputs. It does not import pkg/translate, so that the
// core's own tests can use it too.
package translatetest

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// BasePSP allows nearly everything, so that a test case can tighten one
// field and see only that rule.
func BasePSP() *psp.PodSecurityPolicy {
	return &psp.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{psp.SeccompAllowedProfilesAnnotation: "*"}},
		Spec: psp.PodSecurityPolicySpec{
			Privileged:            true,
			AllowedCapabilities:   []corev1.Capability{"*"},
			Volumes:               []psp.FSType{psp.All},
			HostNetwork:           true,
			HostPID:               true,
			HostIPC:               true,
			HostPorts:             []psp.HostPortRange{{Min: 0, Max: 65535}},
			RunAsUser:             psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny},
			SELinux:               psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
			SupplementalGroups:    psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
			FSGroup:               psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
			AllowedUnsafeSysctls:  []string{"*"},
			AllowedProcMountTypes: []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount},
		},
	}
}

// BasePod is a pod of one container that sets nothing.
func BasePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod", Namespace: "ns"},
		Spec: corev1.PodSpec{
			ServiceAccountName: "default",
			SecurityContext:    &corev1.PodSecurityContext{},
			Containers:         []corev1.Container{{Name: "app", Image: "app"}},
		},
	}
}

// SC changes the first container's security context.
func SC(fn func(*corev1.SecurityContext)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.Containers[0].SecurityContext == nil {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{}
		}
		fn(p.Spec.Containers[0].SecurityContext)
	}
}

// PodSC changes the pod's security context.
func PodSC(fn func(*corev1.PodSecurityContext)) func(*corev1.Pod) {
	return func(p *corev1.Pod) { fn(p.Spec.SecurityContext) }
}

// WithVolume adds a volume, mounted by the first container.
func WithVolume(v corev1.Volume, mounts ...corev1.VolumeMount) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, v)
		p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, mounts...)
	}
}

// HostPathVolume is a hostPath volume "h" of path.
func HostPathVolume(path string) corev1.Volume {
	return corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}}
}

// WithInit adds an init container.
func WithInit(c corev1.Container) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.InitContainers = append(p.Spec.InitContainers, c) }
}

// WithEphemeral adds an ephemeral container.
func WithEphemeral(c corev1.Container) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(c)})
	}
}

// All applies every change in turn.
func All(fns ...func(*corev1.Pod)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		for _, fn := range fns {
			fn(p)
		}
	}
}

// MustRunAsUser sets runAsUser MustRunAs 1000-1999, 5000.
func MustRunAsUser(p *psp.PodSecurityPolicy) {
	p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1000, Max: 1999}, {Min: 5000, Max: 5000}}}
}

// NonRoot sets runAsUser MustRunAsNonRoot.
func NonRoot(p *psp.PodSecurityPolicy) {
	p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
}

// Groups sets the three group strategies to rule, range 10-20.
func Groups(rule string) func(*psp.PodSecurityPolicy) {
	return func(p *psp.PodSecurityPolicy) {
		r := []psp.IDRange{{Min: 10, Max: 20}}
		p.Spec.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategy(rule), Ranges: r}
		p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyType(rule), Ranges: r}
		p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyType(rule), Ranges: r}
	}
}

// SELinux sets seLinux MustRunAs type t, level s0:c1,c2.
func SELinux(p *psp.PodSecurityPolicy) {
	p.Spec.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Type: "t", Level: "s0:c1,c2"}}
}

// Sysctl sets one pod sysctl.
func Sysctl(name string) func(*corev1.Pod) {
	return PodSC(func(s *corev1.PodSecurityContext) { s.Sysctls = []corev1.Sysctl{{Name: name, Value: "1"}} })
}

// Seccomp sets the allowed seccomp profiles annotation.
func Seccomp(list string) func(*psp.PodSecurityPolicy) {
	return func(p *psp.PodSecurityPolicy) { p.Annotations[psp.SeccompAllowedProfilesAnnotation] = list }
}

// AppArmor sets the allowed AppArmor profiles annotation.
func AppArmor(list string) func(*psp.PodSecurityPolicy) {
	return func(p *psp.PodSecurityPolicy) { p.Annotations[psp.AppArmorAllowedProfilesAnnotation] = list }
}

// DefaultingPSPs are two PSPs with defaults (for the kyverno engine's
// --mutate), whose usability can be made not to overlap.
func DefaultingPSPs() []psp.PodSecurityPolicy {
	return []psp.PodSecurityPolicy{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "team", Annotations: map[string]string{
				psp.AppArmorDefaultProfileAnnotation: "runtime/default",
				psp.SeccompDefaultProfileAnnotation:  "localhost/profiles/audit.json",
			}},
			Spec: psp.PodSecurityPolicySpec{
				DefaultAddCapabilities:          []corev1.Capability{"NET_RAW", "CHOWN", "NET_RAW"},
				RequiredDropCapabilities:        []corev1.Capability{"SYS_ADMIN"},
				ReadOnlyRootFilesystem:          true,
				DefaultAllowPrivilegeEscalation: new(false),
				RunAsUser:                       psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1000, Max: 1999}, {Min: 10, Max: 20}}},
				RunAsGroup:                      &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 100, Max: 199}}},
				SELinux:                         psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1"}},
				FSGroup:                         psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 700, Max: 800}}},
				SupplementalGroups:              psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 5, Max: 6}}},
				RuntimeClass:                    &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}, DefaultRuntimeClassName: new("gvisor")},
				Volumes:                         []psp.FSType{psp.All},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "agents"},
			Spec: psp.PodSecurityPolicySpec{
				AllowPrivilegeEscalation: new(false),
				RunAsUser:                psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot},
				SELinux:                  psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
				FSGroup:                  psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
				SupplementalGroups:       psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
				Volumes:                  []psp.FSType{psp.All},
			},
		},
	}
}
