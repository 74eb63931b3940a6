package pspadmission

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func tokenVolume(t *testing.T, p *corev1.Pod) *corev1.Volume {
	t.Helper()
	var found *corev1.Volume
	for i := range p.Spec.Volumes {
		if strings.HasPrefix(p.Spec.Volumes[i].Name, tokenVolumePrefix) {
			if found != nil {
				t.Fatalf("two token volumes")
			}
			found = &p.Spec.Volumes[i]
		}
	}
	return found
}

func mountsToken(c *corev1.Container) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == tokenMountPath && strings.HasPrefix(m.Name, tokenVolumePrefix) && m.ReadOnly {
			return true
		}
	}
	return false
}

func TestPrepareServiceAccount(t *testing.T) {
	automount := func(v *bool) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = v }
	}
	saNoMount := &corev1.ServiceAccount{AutomountServiceAccountToken: ptr(false)}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		sa        *corev1.ServiceAccount
		wantToken bool
		wantSA    string
	}{
		{"default service account and token", newPod(automount(nil), withInit), nil, true, "default"},
		{"pod opts out", newPod(automount(ptr(false))), nil, false, "default"},
		{"service account opts out", newPod(automount(nil)), saNoMount, false, "default"},
		{"pod wins over service account", newPod(automount(ptr(true))), saNoMount, true, "default"},
		{"deprecated serviceAccount field", newPod(automount(nil), func(p *corev1.Pod) { p.Spec.DeprecatedServiceAccount = "legacy" }), nil, true, "legacy"},
		{"mirror pods are left alone", newPod(automount(nil), annotate(mirrorPodAnnotation, "x")), nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Prepare(tt.pod, tt.sa)
			if got.Spec.ServiceAccountName != tt.wantSA {
				t.Errorf("serviceAccountName = %q", got.Spec.ServiceAccountName)
			}
			v := tokenVolume(t, got)
			if (v != nil) != tt.wantToken {
				t.Fatalf("token volume = %v", v)
			}
			if v == nil {
				return
			}
			if volumeFSType(&v.VolumeSource) != psp.Projected || !isOnlyServiceAccountTokenSources(v.Projected) {
				t.Errorf("token volume is %+v", v.VolumeSource)
			}
			for _, list := range [][]corev1.Container{got.Spec.InitContainers, got.Spec.Containers} {
				for i := range list {
					if !mountsToken(&list[i]) {
						t.Errorf("container %s lacks the token mount", list[i].Name)
					}
				}
			}
		})
	}
}

func TestPrepareTokenDetails(t *testing.T) {
	// An existing mount at the token path keeps that container unmounted;
	// ephemeral containers never get the mount; the name is stable.
	pod := newPod(func(p *corev1.Pod) {
		p.Spec.AutomountServiceAccountToken = nil
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "own",
			VolumeMounts: []corev1.VolumeMount{{Name: "mine", MountPath: tokenMountPath}}})
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
	})
	a, b := Prepare(pod, nil), Prepare(pod, nil)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Prepare is not deterministic")
	}
	if len(a.Spec.Containers[1].VolumeMounts) != 1 {
		t.Errorf("container with its own token mount got another: %+v", a.Spec.Containers[1].VolumeMounts)
	}
	if len(a.Spec.EphemeralContainers[0].VolumeMounts) != 0 {
		t.Errorf("ephemeral container got a mount")
	}
	// A pod that already has a kube-api-access volume keeps it.
	pod.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}}}
	got := Prepare(pod, nil)
	if len(got.Spec.Volumes) != 1 || got.Spec.Containers[0].VolumeMounts[0].Name != "kube-api-access-abcde" {
		t.Errorf("existing token volume not reused: %+v", got.Spec.Volumes)
	}
}

func TestPrepareDefaults(t *testing.T) {
	pod := newPod(func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9090, HostPort: 9999}}
		p.Spec.Volumes = []corev1.Volume{
			{Name: "nothing"},
			{Name: "image", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}},
		}
		p.Spec.ImagePullSecrets = nil
	})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}}}
	before := pod.DeepCopy()
	got := Prepare(pod, sa)
	if !reflect.DeepEqual(pod, before) {
		t.Errorf("Prepare modified its input")
	}
	if p := got.Spec.Containers[0].Ports; p[0].HostPort != 8080 || p[1].HostPort != 9999 || p[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports = %+v", p)
	}
	if got.Spec.SecurityContext == nil {
		t.Errorf("no pod security context")
	}
	for _, v := range got.Spec.Volumes {
		if v.EmptyDir == nil || v.Image != nil {
			t.Errorf("volume %s = %+v, want emptyDir (v1.24 knows no image volumes)", v.Name, v.VolumeSource)
		}
	}
	if !reflect.DeepEqual(got.Spec.ImagePullSecrets, sa.ImagePullSecrets) {
		t.Errorf("imagePullSecrets = %v", got.Spec.ImagePullSecrets)
	}
	if Prepare(nil, nil) != nil {
		t.Errorf("Prepare(nil) != nil")
	}
}

func TestPrepareForCreateSeccompSync(t *testing.T) {
	pod := newPod(withInit,
		podSC(func(sc *corev1.PodSecurityContext) {
			sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("p.json")}
		}),
		annotate(seccompContainerAnnotationPrefix+"init", "docker/default"),
		containerSC(func(sc *corev1.SecurityContext) {
			sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
			sc.ProcMount = ptr(corev1.UnmaskedProcMount)
		}))
	got := securityCopy(pod)
	prepareForCreate(got)
	if a := got.Annotations[seccompPodAnnotation]; a != "localhost/p.json" {
		t.Errorf("pod annotation = %q", a)
	}
	if a := got.Annotations[seccompContainerAnnotationPrefix+"app"]; a != "unconfined" {
		t.Errorf("container annotation = %q", a)
	}
	if f := got.Spec.InitContainers[0].SecurityContext; f == nil || f.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("init field = %+v", f)
	}
	if pm := *got.Spec.Containers[0].SecurityContext.ProcMount; pm != corev1.DefaultProcMount {
		t.Errorf("procMount = %s", pm)
	}
	if pod.Annotations[seccompPodAnnotation] != "" || *pod.Spec.Containers[0].SecurityContext.ProcMount != corev1.UnmaskedProcMount {
		t.Errorf("securityCopy shares state with the original")
	}
}
