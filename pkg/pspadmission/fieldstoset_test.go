package pspadmission

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestFieldsToSet(t *testing.T) {
	const (
		podAnn  = "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"
		podType = "spec.securityContext.seccompProfile.type"
	)
	spec := &corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "app"}}}
	tests := []struct {
		name string
		in   []FieldChange
		spec *corev1.PodSpec
		want []FieldChange
	}{
		{name: "no seccomp annotation: unchanged",
			in:   []FieldChange{{Path: "spec.securityContext.fsGroup", After: "1"}},
			want: []FieldChange{{Path: "spec.securityContext.fsGroup", After: "1"}}},
		{name: "pod annotation becomes the field",
			in:   []FieldChange{{Path: podAnn, After: "runtime/default"}},
			want: []FieldChange{{Path: podType, After: "RuntimeDefault"}}},
		{name: "docker/default is RuntimeDefault",
			in:   []FieldChange{{Path: podAnn, After: "docker/default"}},
			want: []FieldChange{{Path: podType, After: "RuntimeDefault"}}},
		{name: "annotation and the server's synced field: the field once",
			in:   []FieldChange{{Path: podAnn, After: "runtime/default"}, {Path: "spec.securityContext.fsGroup", After: "1"}, {Path: podType, After: "RuntimeDefault"}},
			want: []FieldChange{{Path: "spec.securityContext.fsGroup", After: "1"}, {Path: podType, After: "RuntimeDefault"}}},
		{name: "localhost profile",
			in: []FieldChange{{Path: podAnn, After: "localhost/audit.json"}},
			want: []FieldChange{{Path: podType, After: "Localhost"},
				{Path: "spec.securityContext.seccompProfile.localhostProfile", After: "audit.json"}}},
		{name: "unconfined before",
			in:   []FieldChange{{Path: podAnn, Before: "unconfined", After: "runtime/default"}},
			want: []FieldChange{{Path: podType, Before: "Unconfined", After: "RuntimeDefault"}}},
		{name: "container annotation, regular container",
			in:   []FieldChange{{Path: "metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]", After: "runtime/default"}},
			spec: spec,
			want: []FieldChange{{Path: "spec.containers[name=app].securityContext.seccompProfile.type", After: "RuntimeDefault"}}},
		{name: "container annotation, init container",
			in:   []FieldChange{{Path: "metadata.annotations[container.seccomp.security.alpha.kubernetes.io/init]", After: "runtime/default"}},
			spec: spec,
			want: []FieldChange{{Path: "spec.initContainers[name=init].securityContext.seccompProfile.type", After: "RuntimeDefault"}}},
		{name: "AppArmor annotations stay",
			in:   []FieldChange{{Path: "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]", After: "runtime/default"}},
			want: []FieldChange{{Path: "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]", After: "runtime/default"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FieldsToSet(tt.in, tt.spec); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
