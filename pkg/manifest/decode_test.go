package manifest

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		name        string
		yaml        string
		wantErr     string
		wantUnknown []string
	}{
		{name: "clean", yaml: "spec: {containers: [{name: c, securityContext: {privileged: true}}]}"},
		{name: "string for a boolean", yaml: "spec: {containers: [{name: a}, {name: c, securityContext: {privileged: \"yes\"}}]}",
			wantErr: `spec.containers[1].securityContext.privileged: want a boolean, got "yes"`},
		{name: "fraction for an integer", yaml: "spec: {securityContext: {runAsUser: 1.5}}",
			wantErr: `spec.securityContext.runAsUser: want an integer, got 1.5`},
		{name: "list for a string", yaml: "spec: {serviceAccountName: [a]}",
			wantErr: `spec.serviceAccountName: want a string, got a list`},
		{name: "object for a list", yaml: "spec: {containers: {name: c}}",
			wantErr: `spec.containers: want a list, got an object`},
		{name: "unknown fields are returned with their paths", yaml: "spec: {securityContxt: {}, containers: [{name: c, securityContext: {runAsUsr: 1}}]}",
			wantUnknown: []string{`unknown field "spec.containers[0].securityContext.runAsUsr"`, `unknown field "spec.securityContxt"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj map[string]interface{}
			if err := yaml.Unmarshal([]byte(tt.yaml), &obj); err != nil {
				t.Fatal(err)
			}
			var pod corev1.Pod
			unknown, err := DecodeObject(obj, &pod)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(unknown)
			if !slices.Equal(unknown, tt.wantUnknown) {
				t.Errorf("unknown = %q, want %q", unknown, tt.wantUnknown)
			}
		})
	}
}

// FuzzDecodeObject: any YAML a user may give decodes or fails with an
// error; it never panics.
func FuzzDecodeObject(f *testing.F) {
	f.Add("spec: {containers: [{name: c, securityContext: {privileged: \"yes\"}}]}")
	f.Add("spec: {securityContext: {runAsUser: 1.5}, x: [[1]]}")
	f.Add("metadata: {labels: {a: 1}}")
	f.Fuzz(func(t *testing.T, doc string) {
		var obj map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return
		}
		var pod corev1.Pod
		_, _ = DecodeObject(obj, &pod)
	})
}

// BenchmarkDecodeObject measures the strict decode of one Pod against the
// lenient converter it replaced: the price of naming bad and unknown fields.
func BenchmarkDecodeObject(b *testing.B) {
	var obj map[string]interface{}
	doc := `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x, labels: {app: a}, uid: 0b9e}
spec:
  serviceAccountName: sa
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: registry.example/c:1
    ports: [{containerPort: 8080}]
    resources: {requests: {cpu: 100m, memory: 64Mi}}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
  volumes: [{name: v, emptyDir: {}}]
status: {phase: Running}
`
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		b.Fatal(err)
	}
	b.Run("strict", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var pod corev1.Pod
			if _, err := DecodeObject(obj, &pod); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("converter", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var pod corev1.Pod
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &pod); err != nil {
				b.Fatal(err)
			}
		}
	})
}
