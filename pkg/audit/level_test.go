package audit

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func TestClosestLevels(t *testing.T) {
	const profiles = `
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default
    apparmor.security.beta.kubernetes.io/allowedProfileNames: runtime/default`
	tests := []struct {
		name       string
		psp        string
		want       string
		wantLooser []string // each must be among Looser
	}{
		{
			name: "restricted",
			psp: `metadata:
  name: p` + profiles + `
spec:
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, secret, emptyDir, projected]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}`,
			want: "restricted",
		},
		{
			name: "root allowed: baseline",
			psp: `metadata:
  name: p` + profiles + `
spec:
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, secret]
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}`,
			want:       "baseline",
			wantLooser: []string{"running as root (runAsUser: 0)"},
		},
		{
			name: "hostNetwork: privileged",
			psp: `metadata:
  name: p` + profiles + `
spec:
  hostNetwork: true
  volumes: [configMap]
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}`,
			want:       "privileged",
			wantLooser: []string{"hostNetwork pods"},
		},
		{
			name: "no profile annotations: unconfined AppArmor is allowed, so privileged",
			psp: `metadata:
  name: p
spec:
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}`,
			want:       "privileged",
			wantLooser: []string{"AppArmor profiles unconfined"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p psp.PodSecurityPolicy
			if err := yaml.UnmarshalStrict([]byte(tt.psp), &p); err != nil {
				t.Fatal(err)
			}
			got, err := ClosestLevels([]psp.PodSecurityPolicy{p}, "latest")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Level != tt.want {
				t.Fatalf("got %+v, want level %s", got, tt.want)
			}
			for _, w := range tt.wantLooser {
				if !slices.Contains(got[0].Looser, w) {
					t.Errorf("looser %q, want it to list %q", strings.Join(got[0].Looser, "; "), w)
				}
			}
			if tt.want == "restricted" && len(got[0].Looser) > 0 {
				t.Errorf("restricted, yet looser in %v", got[0].Looser)
			}
		})
	}
	if _, err := ClosestLevels(nil, "v0.x"); err == nil {
		t.Error("a bad PSS version is accepted")
	}
}
