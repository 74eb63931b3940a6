package pspadmission

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAdmitRuntimeClass(t *testing.T) {
	gvisor := nodev1.RuntimeClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gvisor"},
		Handler:    "runsc",
		Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"sandbox": "gvisor"}},
		Overhead:   &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
	}
	tests := []struct {
		name     string
		opts     []Option
		pod      corev1.PodSpec
		want     string
		wantSel  map[string]string
		wantOver bool
	}{
		{name: "no class, no overhead", pod: corev1.PodSpec{}},
		{name: "overhead without class", pod: corev1.PodSpec{Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			want: "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"},
		{name: "classes unknown: trust the name", pod: corev1.PodSpec{RuntimeClassName: ptr("anything")}},
		{name: "class missing", opts: []Option{WithRuntimeClasses("kata")}, pod: corev1.PodSpec{RuntimeClassName: ptr("gvisor")},
			want: `pod rejected: RuntimeClass "gvisor" not found`},
		{name: "known by name only", opts: []Option{WithRuntimeClasses("gvisor")}, pod: corev1.PodSpec{RuntimeClassName: ptr("gvisor")}},
		{name: "scheduling merged, overhead set", opts: []Option{WithRuntimeClassObjects(gvisor)},
			pod:     corev1.PodSpec{RuntimeClassName: ptr("gvisor"), NodeSelector: map[string]string{"zone": "a"}},
			wantSel: map[string]string{"zone": "a", "sandbox": "gvisor"}, wantOver: true},
		{name: "selector conflict", opts: []Option{WithRuntimeClassObjects(gvisor)},
			pod:  corev1.PodSpec{RuntimeClassName: ptr("gvisor"), NodeSelector: map[string]string{"sandbox": "runc"}},
			want: "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = gvisor; pod.spec.nodeSelector[sandbox] = runc"},
		{name: "overhead mismatch", opts: []Option{WithRuntimeClassObjects(gvisor)},
			pod:  corev1.PodSpec{RuntimeClassName: ptr("gvisor"), Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			want: "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := NewEvaluator(nil, nil, tt.opts...)
			callerSel := tt.pod.NodeSelector
			before := map[string]string{}
			for k, v := range callerSel {
				before[k] = v
			}
			pod := &corev1.Pod{Spec: tt.pod}
			got := e.admitRuntimeClass(pod)
			if got != tt.want {
				t.Fatalf("admitRuntimeClass() = %q, want %q", got, tt.want)
			}
			if tt.wantSel != nil && len(pod.Spec.NodeSelector) != len(tt.wantSel) {
				t.Errorf("nodeSelector = %v, want %v", pod.Spec.NodeSelector, tt.wantSel)
			}
			if tt.wantOver && pod.Spec.Overhead == nil {
				t.Errorf("overhead not copied from the class")
			}
			if len(callerSel) != len(before) {
				t.Errorf("the caller's nodeSelector map was modified: %v", callerSel)
			}
		})
	}
}
