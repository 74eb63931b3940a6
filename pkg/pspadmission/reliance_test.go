package pspadmission

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// storedPod returns the pod as the API server would store it after the PSP
// admitted it.
func storedPod(t *testing.T, psps []psp.PodSecurityPolicy, pod *corev1.Pod) (*corev1.Pod, Result) {
	t.Helper()
	e, _ := NewEvaluator(psps, nil)
	r, final := e.evaluate(Request{Pod: pod})
	if final == nil {
		t.Fatalf("rejected: %s", r.Reason)
	}
	return final, r
}

func TestTemplateReliance(t *testing.T) {
	template := &corev1.PodTemplateSpec{Spec: newPod().Spec}
	running, r := storedPod(t, []psp.PodSecurityPolicy{restricted("restricted")}, &corev1.Pod{ObjectMeta: template.ObjectMeta, Spec: template.Spec})
	running.Namespace, running.Name = "ns1", "web-1"

	got := TemplateReliance(running, template)
	if !reflect.DeepEqual(got, r.MutatedFields) {
		t.Errorf("reliance differs from what admission reported:\n got  %+v\n want %+v", got, r.MutatedFields)
	}

	// A template that sets everything itself relies on nothing.
	fixed := template.DeepCopy()
	fixed.Annotations = map[string]string{psp.AppArmorContainerAnnotationPrefix + "app": "runtime/default"}
	fixed.Spec.SecurityContext = &corev1.PodSecurityContext{
		FSGroup: ptr(int64(1)), SupplementalGroups: []int64{1},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	fixed.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
		RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if got := TemplateReliance(running, fixed); len(got) != 0 {
		t.Errorf("fixed template still relies on: %+v", got)
	}

	// Containers the template does not define (injected sidecars, debug
	// containers) are not the template's business.
	withSidecar := running.DeepCopy()
	withSidecar.Spec.Containers = append(withSidecar.Spec.Containers, corev1.Container{Name: "proxy",
		SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(1337))}})
	withSidecar.Annotations[psp.AppArmorContainerAnnotationPrefix+"proxy"] = "runtime/default"
	withSidecar.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg",
		SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}
	if got := TemplateReliance(withSidecar, fixed); len(got) != 0 {
		t.Errorf("sidecar fields reported: %+v", got)
	}

	if TemplateReliance(nil, template) != nil || TemplateReliance(running, nil) != nil {
		t.Errorf("nil inputs")
	}
}
