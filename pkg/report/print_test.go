package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestPrintNamespaceNotes: the namespace table notes rejected-today
// workloads and protection lost, and lists both below it.
func TestPrintNamespaceNotes(t *testing.T) {
	tests := []struct {
		name    string
		ns      Namespace
		want    []string
		notWant []string
	}{
		{name: "nothing to note", ns: Namespace{Name: "quiet", Found: true, RecommendedLevel: "restricted"},
			notWant: []string{"REJECTED TODAY", "PROTECTION LOST", "not counted"}},
		{name: "rejected today and protection lost",
			ns: Namespace{Name: "web", Found: true, RecommendedLevel: "baseline",
				RejectedToday:  []RejectedWorkload{{Kind: "Deployment", Name: "proxy", Level: "privileged", Reason: "PodSecurityPolicy: unable to admit pod"}},
				ProtectionLost: []ProtectionLoss{{Dimension: "runAsRoot", Message: "running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it"}}},
			want: []string{
				"1 rejected today; not counted; protection lost (1)",
				"REJECTED TODAY (no pod runs, PSP rejects the template; not counted in RECOMMENDED):\n  - web: Deployment/proxy (privileged): PodSecurityPolicy: unable to admit pod\n",
				"PROTECTION LOST (the recommended level allows what every PSP usable there forbids today):\n  - web: running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it\n",
			}},
		{name: "conflict first, then the counts",
			ns: Namespace{Name: "web", Found: true, RecommendedLevel: "baseline",
				Conflicts:      []LabelConflict{{Key: "pod-security.kubernetes.io/enforce", Effect: "enforce=restricted is stricter"}},
				ProtectionLost: []ProtectionLoss{{Message: "x"}, {Message: "y"}}},
			want: []string{"enforce=restricted is stricter; protection lost (2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Print(&b, &AuditReport{Namespaces: []Namespace{tt.ns}}, FormatTable); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !strings.Contains(b.String(), s) {
					t.Errorf("table lacks %q:\n%s", s, b.String())
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(b.String(), s) {
					t.Errorf("table has %q:\n%s", s, b.String())
				}
			}
		})
	}
}
