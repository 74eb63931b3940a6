package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
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
				"REJECTED TODAY (no pod runs; PSP rejects the template; not in RECOMMENDED):\n  - web: Deployment/proxy (privileged): PodSecurityPolicy: unable to admit pod\n",
				"PROTECTION LOST (the recommended level allows what every usable PSP forbids):\n  - web: running as root (runAsUser: 0): forbidden today by PSP restricted; baseline allows it\n",
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

// TestTableCells: verdicts carry their reasons, custom controllers show
// their pods' verdict, repeated grants are one line, cut cells end in "…".
func TestTableCells(t *testing.T) {
	restricted := "restricted"
	rep := &AuditReport{
		Metadata: Metadata{Engines: []string{"vap"}},
		Pods: []Pod{{Namespace: "kafka", Name: "broker-0", Workload: ObjectRef{Kind: "StrimziPodSet", Name: "broker"},
			PSP: &PSPVerdict{Usable: []string{"restricted"}, AdmittedBy: &restricted}}},
		Workloads: []Workload{
			{Namespace: "web", Kind: "Deployment", Name: "proxy", TemplateFound: true, PSS: PSSResult{Level: pss.Privileged},
				PSP:        &PSPVerdict{Usable: []string{"baseline"}, Errors: map[string][]string{"baseline": {"capability may not be added"}}},
				RejectedBy: []string{"vap"}, Policies: []PolicyVerdict{{Engine: "vap", PSP: "baseline", Reasons: []string{"NET_ADMIN is not allowed"}}}},
			{Namespace: "kafka", Kind: "StrimziPodSet", Name: "broker", Pods: 1, PSS: PSSResult{Level: pss.Restricted}},
		},
		DangerousGrants: []DangerousGrant{
			{PSP: "privileged", Subject: "a", Allows: []string{"privileged"}, Via: "ClusterRoleBinding/x"},
			{PSP: "privileged", Subject: "b", Allows: []string{"privileged"}, Via: "ClusterRoleBinding/x"},
			{PSP: "privileged", Subject: "c", Allows: []string{"privileged"}, Namespace: "ns", Via: "RoleBinding/y"},
		},
	}
	var b bytes.Buffer
	if err := Print(&b, rep, FormatTable); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"REJECTED (baseline: capability may not be added)",
		"DENIED (baseline: NET_ADMIN is not allowed)",
		"restricted (pods)",
		"(pods): owned by a custom controller",
		"PSP privileged (privileged) usable by 2 subjects (a, b) in every namespace via ClusterRoleBinding/x",
		"PSP privileged (privileged) usable by c in namespace ns via RoleBinding/y",
		"2 workload(s), 1 pod(s) in 2 namespace(s): 1 restricted, 0 baseline, 1 privileged; 1 rejected by PSP today; vap denies 1.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"baseline", 8, "baseline"},
		{"baseline", 7, "baseli…"},
		{"x", 0, "…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
