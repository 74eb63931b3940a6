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
			if psp.VolumeFSType(&v.VolumeSource) != psp.Projected || !psp.IsServiceAccountTokenProjection(v.Projected) {
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
		annotate(psp.SeccompContainerAnnotationPrefix+"init", "docker/default"),
		containerSC(func(sc *corev1.SecurityContext) {
			sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
			sc.ProcMount = ptr(corev1.UnmaskedProcMount)
		}))
	got := securityCopy(pod)
	prepareForCreate(got)
	if a := got.Annotations[psp.SeccompPodAnnotation]; a != "localhost/p.json" {
		t.Errorf("pod annotation = %q", a)
	}
	if a := got.Annotations[psp.SeccompContainerAnnotationPrefix+"app"]; a != "unconfined" {
		t.Errorf("container annotation = %q", a)
	}
	if f := got.Spec.InitContainers[0].SecurityContext; f == nil || f.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("init field = %+v", f)
	}
	if pm := *got.Spec.Containers[0].SecurityContext.ProcMount; pm != corev1.DefaultProcMount {
		t.Errorf("procMount = %s", pm)
	}
	if pod.Annotations[psp.SeccompPodAnnotation] != "" || *pod.Spec.Containers[0].SecurityContext.ProcMount != corev1.UnmaskedProcMount {
		t.Errorf("securityCopy shares state with the original")
	}
}

// TestAtValidation pins what the pod registry of each release does between
// mutating and validating admission, as far as the Pod Security Standards
// and the converted policies look (checked on real v1.24.17 and v1.30.14
// servers by test/e2e).
func TestAtValidation(t *testing.T) {
	runtimeDefault := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	unconfined := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	type want struct {
		podField       *corev1.SeccompProfile
		containerField *corev1.SeccompProfile
		podAnnotation  string
		procMount      corev1.ProcMountType
		appArmorField  bool
		// appArmorAnnotation is the container's AppArmor annotation.
		appArmorAnnotation string
	}
	annotationOnly := func() *corev1.Pod {
		return newPod(annotate(psp.SeccompPodAnnotation, "runtime/default"),
			annotate(psp.SeccompContainerAnnotationPrefix+"app", "unconfined"))
	}
	fieldOnly := func() *corev1.Pod {
		return newPod(podSC(func(sc *corev1.PodSecurityContext) { sc.SeccompProfile = runtimeDefault }))
	}
	unmasked := func() *corev1.Pod {
		return newPod(containerSC(func(sc *corev1.SecurityContext) { sc.ProcMount = ptr(corev1.UnmaskedProcMount) }))
	}
	appArmorField := func() *corev1.Pod {
		return newPod(containerSC(func(sc *corev1.SecurityContext) {
			sc.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		}))
	}
	appArmorAnnotation := func() *corev1.Pod {
		return newPod(annotate(psp.AppArmorContainerAnnotationPrefix+"app", "runtime/default"))
	}
	tests := []struct {
		name  string
		pod   func() *corev1.Pod
		minor int
		want  want
	}{
		{"annotations synced to fields on v1.24", annotationOnly, 24, want{podField: runtimeDefault, containerField: unconfined, podAnnotation: "runtime/default"}},
		{"annotations still synced to fields on v1.26", annotationOnly, 26, want{podField: runtimeDefault, containerField: unconfined, podAnnotation: "runtime/default"}},
		{"annotations non-functional from v1.27", annotationOnly, 27, want{podAnnotation: "runtime/default"}},
		{"annotations non-functional on v1.30", annotationOnly, 30, want{podAnnotation: "runtime/default"}},
		{"field written to the annotation on v1.24", fieldOnly, 24, want{podField: runtimeDefault, podAnnotation: "runtime/default"}},
		{"field not written to the annotation from v1.25", fieldOnly, 25, want{podField: runtimeDefault}},
		{"procMount dropped on v1.24", unmasked, 24, want{procMount: corev1.DefaultProcMount}},
		{"procMount dropped on v1.32 (beta, off)", unmasked, 32, want{procMount: corev1.DefaultProcMount}},
		{"procMount kept from v1.33 (gate on)", unmasked, 33, want{procMount: corev1.UnmaskedProcMount}},
		{"appArmorProfile unknown before v1.30", appArmorField, 29, want{}},
		{"appArmorProfile kept from v1.30", appArmorField, 30, want{appArmorField: true, appArmorAnnotation: "unconfined"}},
		{"appArmorProfile written to the annotation until v1.33", appArmorField, 33, want{appArmorField: true, appArmorAnnotation: "unconfined"}},
		{"appArmorProfile not written to the annotation from v1.34", appArmorField, 34, want{appArmorField: true}},
		{"AppArmor annotation ignored before v1.30", appArmorAnnotation, 29, want{appArmorAnnotation: "runtime/default"}},
		{"AppArmor annotation synced to the field from v1.30", appArmorAnnotation, 30, want{appArmorField: true, appArmorAnnotation: "runtime/default"}},
		{"AppArmor annotation synced to the field on v1.37", appArmorAnnotation, 37, want{appArmorField: true, appArmorAnnotation: "runtime/default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := tt.pod()
			before := pod.DeepCopy()
			got := AtValidation(pod, tt.minor)
			if !reflect.DeepEqual(pod, before) {
				t.Fatalf("AtValidation modified its input")
			}
			if f := got.Spec.SecurityContext; !reflect.DeepEqual(seccompOf(f), tt.want.podField) {
				t.Errorf("pod seccompProfile = %+v, want %+v", seccompOf(f), tt.want.podField)
			}
			sc := got.Spec.Containers[0].SecurityContext
			var cf *corev1.SeccompProfile
			var pm corev1.ProcMountType
			var aa bool
			if sc != nil {
				cf, aa = sc.SeccompProfile, sc.AppArmorProfile != nil
				if sc.ProcMount != nil {
					pm = *sc.ProcMount
				}
			}
			if !reflect.DeepEqual(cf, tt.want.containerField) {
				t.Errorf("container seccompProfile = %+v, want %+v", cf, tt.want.containerField)
			}
			if a := got.Annotations[psp.SeccompPodAnnotation]; a != tt.want.podAnnotation {
				t.Errorf("pod seccomp annotation = %q, want %q", a, tt.want.podAnnotation)
			}
			if pm != tt.want.procMount {
				t.Errorf("procMount = %q, want %q", pm, tt.want.procMount)
			}
			if aa != tt.want.appArmorField {
				t.Errorf("container appArmorProfile set = %v, want %v", aa, tt.want.appArmorField)
			}
			if a := got.Annotations[psp.AppArmorContainerAnnotationPrefix+"app"]; a != tt.want.appArmorAnnotation {
				t.Errorf("container AppArmor annotation = %q, want %q", a, tt.want.appArmorAnnotation)
			}
			if reflect.DeepEqual(got, pod) != (got == pod) {
				t.Errorf("AtValidation copied a pod it does not change, or changed the input in place")
			}
		})
	}
}

func seccompOf(sc *corev1.PodSecurityContext) *corev1.SeccompProfile {
	if sc == nil {
		return nil
	}
	return sc.SeccompProfile
}

func TestValidatingView(t *testing.T) {
	t.Run("a stored pod is returned as it is", func(t *testing.T) {
		pod := newPod(annotate(psp.SeccompPodAnnotation, "runtime/default"))
		pod.UID = "0b5c4f5e-1"
		if got := ValidatingView(pod, nil, 24); got != pod {
			t.Errorf("ValidatingView changed a stored pod")
		}
	})
	t.Run("a pod not yet created gets the token volume and the v1.24 sync", func(t *testing.T) {
		pod := newPod(annotate(psp.SeccompPodAnnotation, "runtime/default"))
		pod.Spec.AutomountServiceAccountToken = nil
		got := ValidatingView(pod, nil, 24)
		if tokenVolume(t, got) == nil {
			t.Errorf("no token volume")
		}
		if !reflect.DeepEqual(seccompOf(got.Spec.SecurityContext), &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}) {
			t.Errorf("seccompProfile = %+v", seccompOf(got.Spec.SecurityContext))
		}
		if pod.Spec.SecurityContext != nil || len(pod.Spec.Volumes) > 0 {
			t.Errorf("the input was modified")
		}
	})
	t.Run("automount off: no token volume", func(t *testing.T) {
		pod := newPod()
		pod.Spec.AutomountServiceAccountToken = nil
		sa := &corev1.ServiceAccount{AutomountServiceAccountToken: ptr(false)}
		if got := ValidatingView(pod, sa, 30); len(got.Spec.Volumes) != 0 {
			t.Errorf("volumes = %+v", got.Spec.Volumes)
		}
	})
}
