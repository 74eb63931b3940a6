package psa

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

// TestRenderPSAProtectionWarnings: written enforce labels that loosen what
// the PSPs forbid, or that ignore workloads PSP rejects today, come with a
// warning per namespace; audit/warn labels loosen nothing and say nothing.
func TestRenderPSAProtectionWarnings(t *testing.T) {
	labels := map[string]string{
		"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.30",
		"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.30",
		"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.30",
	}
	plans := []translate.NamespacePlan{
		{Name: "web", Found: true, Labels: labels,
			ProtectionLost: []string{"running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it"},
			NotCounted:     []string{"Deployment/ab-test-proxy"}},
		{Name: "quiet", Found: true, Labels: labels},
		{Name: "held", Found: true, Labels: labels, ProtectionLost: []string{"x"},
			Conflicts: map[string]string{"pod-security.kubernetes.io/enforce": "enforce is restricted"}},
	}
	tests := []struct {
		name string
		mode translate.Mode
		want []string
	}{
		{name: "enforce", mode: translate.ModeEnforce, want: []string{
			"namespace held not written: its current labels differ from the recommendation (enforce is restricted); review them, or overwrite with --force",
			"namespace web: protection lost: running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it",
			"namespace web: not counted in the recommendation, rejected by PodSecurityPolicy today with no pod running: Deployment/ab-test-proxy",
		}},
		{name: "audit", mode: translate.ModeAudit, want: nil},
		{name: "warn", mode: translate.ModeWarn, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Engine{}.Render(translate.Input{Namespaces: plans, Options: translate.Options{Mode: tt.mode, ExcludeNamespaces: []string{}}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range out.Warnings {
				if strings.Contains(w, "protection lost") || strings.Contains(w, "not counted") || strings.Contains(w, "not written") {
					got = append(got, w)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRenderPSA(t *testing.T) {
	plans := []translate.NamespacePlan{
		{Name: "apps", Found: true, PSPs: []string{"restricted"},
			Labels: map[string]string{
				"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.30",
				"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.30",
				"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.30",
			},
			Conflicts: map[string]string{"pod-security.kubernetes.io/enforce": "pod-security.kubernetes.io/enforce: privileged, recommended baseline (looser)"}},
		{Name: "monitoring", Found: false, Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/enforce-version": "v1.30"}},
		{Name: "kube-system", Found: true, Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}},
	}
	tests := []struct {
		name       string
		opts       translate.Options
		golden     string
		namespaces []string
		warnings   int
	}{
		{"conflicts are not overwritten", translate.Options{ToolVersion: "1.2.3"}, "psa-enforce.yaml", []string{"monitoring"}, 2},
		{"--force overwrites", translate.Options{ToolVersion: "1.2.3", Force: true}, "psa-enforce-force.yaml", []string{"apps", "monitoring"}, 2},
		{"audit mode writes audit labels only", translate.Options{ToolVersion: "1.2.3", Mode: translate.ModeAudit, ExcludeNamespaces: []string{}}, "psa-audit.yaml", []string{"apps"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, data := enginetest.Render(t, Engine{}, translate.Input{Namespaces: plans, Options: tt.opts})
			translatetest.CheckGolden(t, tt.golden, data)
			var names []string
			for _, o := range out.Objects {
				ns := o.Object.(*corev1.Namespace)
				names = append(names, ns.Name)
				if ns.Annotations[translate.AnnotationToolVersion] == "" {
					t.Errorf("namespace %s lacks the tool version", ns.Name)
				}
			}
			if !slices.Equal(names, tt.namespaces) {
				t.Errorf("namespaces = %v, want %v", names, tt.namespaces)
			}
			if len(out.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", out.Warnings, tt.warnings)
			}
		})
	}
}
