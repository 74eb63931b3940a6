package translate

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
)

func TestCompileDefaults(t *testing.T) {
	psps := translatetest.DefaultingPSPs()
	team := CompileDefaults(&psps[0])
	want := Defaults{
		RunAsUser: new(int64(1000)), RunAsGroup: new(int64(100)), FSGroup: new(int64(700)), SupplementalGroup: new(int64(5)),
		SELinux:                &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1"},
		ReadOnlyRootFilesystem: true, AllowPrivilegeEscalation: new(false),
		AddCapabilities: []string{"CHOWN", "NET_RAW"}, DropCapabilities: []string{"SYS_ADMIN"},
		SeccompProfile: "localhost/profiles/audit.json", AppArmorProfile: "runtime/default", RuntimeClassName: new("gvisor"),
	}
	if !reflect.DeepEqual(team, want) {
		t.Errorf("team defaults\n got %+v\nwant %+v", team, want)
	}
	agents := CompileDefaults(&psps[1])
	if !reflect.DeepEqual(agents, Defaults{RunAsNonRoot: true, AllowPrivilegeEscalation: new(false)}) {
		t.Errorf("agents defaults %+v", agents)
	}
	none := psp.PodSecurityPolicy{Spec: psp.PodSecurityPolicySpec{RunAsUser: psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny}}}
	if d := CompileDefaults(&none); !d.Empty() {
		t.Errorf("no defaults expected: %+v", d)
	}
	// defaultAllowPrivilegeEscalation wins over the false default.
	esc := psps[1]
	esc.Spec.DefaultAllowPrivilegeEscalation = new(true)
	esc.Spec.AllowPrivilegeEscalation = new(true)
	if d := CompileDefaults(&esc); d.AllowPrivilegeEscalation == nil || !*d.AllowPrivilegeEscalation {
		t.Errorf("allowPrivilegeEscalation default %v", d.AllowPrivilegeEscalation)
	}
}
