package pspadmission

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

func ptr[T any](v T) *T { return &v }

// permissive is a valid PSP that admits an ordinary pod unchanged: every
// strategy RunAsAny, every volume type, nothing privileged.
func permissive(name string, mods ...func(*psp.PodSecurityPolicy)) psp.PodSecurityPolicy {
	p := psp.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: psp.PodSecurityPolicySpec{
			Volumes:            []psp.FSType{psp.All},
			SELinux:            psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
			RunAsUser:          psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny},
			SupplementalGroups: psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
			FSGroup:            psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
		},
	}
	for _, m := range mods {
		m(&p)
	}
	return p
}

// restricted is the classic restricted PSP of the Kubernetes docs.
func restricted(name string) psp.PodSecurityPolicy {
	return permissive(name, func(p *psp.PodSecurityPolicy) {
		p.Annotations = map[string]string{
			psp.SeccompAllowedProfilesAnnotation:  "docker/default,runtime/default",
			psp.SeccompDefaultProfileAnnotation:   "runtime/default",
			psp.AppArmorAllowedProfilesAnnotation: "runtime/default",
			psp.AppArmorDefaultProfileAnnotation:  "runtime/default",
		}
		p.Spec.AllowPrivilegeEscalation = ptr(false)
		p.Spec.RequiredDropCapabilities = []corev1.Capability{"ALL"}
		p.Spec.Volumes = []psp.FSType{psp.ConfigMap, psp.EmptyDir, psp.Projected, psp.Secret, psp.DownwardAPI, psp.PersistentVolumeClaim}
		p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
		p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 65535}}}
		p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 65535}}}
		p.Spec.ReadOnlyRootFilesystem = false
	})
}

// newPod is a one-container pod in ns1 that opts out of the token volume
// unless a test wants it.
func newPod(mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns1"},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr(false),
			Containers:                   []corev1.Container{{Name: "app", Image: "busybox:1.36"}},
		},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func containerSC(mod func(*corev1.SecurityContext)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.Containers[0].SecurityContext == nil {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{}
		}
		mod(p.Spec.Containers[0].SecurityContext)
	}
}

func podSC(mod func(*corev1.PodSecurityContext)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.SecurityContext == nil {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		mod(p.Spec.SecurityContext)
	}
}

func annotate(kv ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Annotations[kv[i]] = kv[i+1]
		}
	}
}

func withInit(p *corev1.Pod) {
	p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init", Image: "busybox:1.36"})
}

func withVolume(v corev1.Volume, readOnly bool) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, v)
		p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts,
			corev1.VolumeMount{Name: v.Name, MountPath: "/mnt/" + v.Name, ReadOnly: readOnly})
	}
}

func hostPathVolume(name, path string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}}
}

// userFunc adapts a per-user answer to an Authorizer the way PSP admission
// asks it: the pod's service account (without system:authenticated), then
// the requester.
type userFunc func(u rbac.User, namespace, pspName string) bool

func (f userFunc) CanUse(pspName, namespace, sa string, requester *rbac.User) bool {
	if sa != "" && f(rbac.PodServiceAccountUser(namespace, sa), namespace, pspName) {
		return true
	}
	return requester != nil && f(*requester, namespace, pspName)
}

// tableFor is the production Authorizer for psps over ix.
func tableFor(ix *rbac.Index, psps []psp.PodSecurityPolicy) rbac.UseTable {
	names := make([]string, len(psps))
	for i := range psps {
		names[i] = psps[i].Name
	}
	return ix.UseTable(names, nil, nil)
}
