package translate

import (
	"slices"
	"strings"
	"testing"
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
	plans := []NamespacePlan{
		{Name: "web", Found: true, Labels: labels,
			ProtectionLost: []string{"running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it"},
			NotCounted:     []string{"Deployment/ab-test-proxy"}},
		{Name: "quiet", Found: true, Labels: labels},
		{Name: "held", Found: true, Labels: labels, ProtectionLost: []string{"x"},
			Conflicts: map[string]string{"pod-security.kubernetes.io/enforce": "enforce is restricted"}},
	}
	tests := []struct {
		name string
		mode Mode
		want []string
	}{
		{name: "enforce", mode: ModeEnforce, want: []string{
			"namespace held not written: its current labels differ from the recommendation (enforce is restricted); review them, or overwrite with --force",
			"namespace web: protection lost: running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it",
			"namespace web: not counted in the recommendation, rejected by PodSecurityPolicy today with no pod running: Deployment/ab-test-proxy",
		}},
		{name: "audit", mode: ModeAudit, want: nil},
		{name: "warn", mode: ModeWarn, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := RendererFor(EnginePSA)
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Render(Input{Namespaces: plans, Options: Options{Mode: tt.mode, ExcludeNamespaces: []string{}}})
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
