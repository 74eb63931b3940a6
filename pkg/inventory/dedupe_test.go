package inventory

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
)

func decodeAs(t *testing.T, source, s string) []manifest.Object {
	t.Helper()
	objs, err := manifest.Decode([]byte(s), source)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestFromObjectsDedupe: an object read more than once is one object, the
// copy read last wins, and one warning per pair of sources names both.
func TestFromObjectsDedupe(t *testing.T) {
	pod := func(label string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: app, labels: {from: " + label + "}}\n"
	}
	psp := func(apiVersion, ns, privileged string) string {
		return "apiVersion: " + apiVersion + "\nkind: PodSecurityPolicy\nmetadata: {name: p" + ns + "}\n" +
			"spec: {privileged: " + privileged + ", seLinux: {rule: RunAsAny}, runAsUser: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n"
	}
	tests := []struct {
		name         string
		inputs       [][2]string // source, content, in read order
		wantPods     int
		wantPSPs     int
		wantLabel    string // the surviving pod's "from" label
		wantPriv     *bool  // the surviving PSP's privileged
		wantWarnings []string
		wantSources  []string
	}{
		{
			name:     "no overlap, no warning",
			inputs:   [][2]string{{"a.yaml", pod("a")}, {"b.yaml", psp("policy/v1beta1", "", "false")}},
			wantPods: 1, wantPSPs: 1, wantLabel: "a",
			wantSources: []string{"a.yaml", "b.yaml"},
		},
		{
			name:     "same file twice",
			inputs:   [][2]string{{"a.yaml", pod("a") + "---\n" + psp("policy/v1beta1", "", "false")}, {"a.yaml", pod("a") + "---\n" + psp("policy/v1beta1", "", "false")}},
			wantPods: 1, wantPSPs: 1, wantLabel: "a",
			wantWarnings: []string{"a.yaml was read more than once; its 2 object(s) are counted once"},
			wantSources:  []string{"a.yaml"},
		},
		{
			name:     "dump then directory: the later input wins",
			inputs:   [][2]string{{"dump.yaml", pod("dump") + "---\n" + psp("policy/v1beta1", "", "false")}, {"psps/p.yaml", psp("policy/v1beta1", "", "true")}},
			wantPods: 1, wantPSPs: 1, wantLabel: "dump", wantPriv: ptrTo(true),
			wantWarnings: []string{`1 object(s) read from both dump.yaml and psps/p.yaml (e.g. PodSecurityPolicy "p" at dump.yaml: document 2 and at psps/p.yaml: document 1); each is counted once, the copy from psps/p.yaml wins`},
			wantSources:  []string{"dump.yaml", "psps/p.yaml"},
		},
		{
			name: "dump then five files: one warning",
			inputs: [][2]string{
				{"dump.yaml", pod("dump") + "---\n" + psp("policy/v1beta1", "1", "false") + "---\n" + psp("policy/v1beta1", "2", "false") + "---\n" +
					psp("policy/v1beta1", "3", "false") + "---\n" + psp("policy/v1beta1", "4", "false") + "---\n" + psp("policy/v1beta1", "5", "false")},
				{"psps/1.yaml", psp("policy/v1beta1", "1", "true")}, {"psps/2.yaml", psp("policy/v1beta1", "2", "true")},
				{"psps/3.yaml", psp("policy/v1beta1", "3", "true")}, {"psps/4.yaml", psp("policy/v1beta1", "4", "true")},
				{"psps/5.yaml", psp("policy/v1beta1", "5", "true")},
			},
			wantPods: 1, wantPSPs: 5, wantLabel: "dump", wantPriv: ptrTo(true),
			wantWarnings: []string{`5 object(s) read from both dump.yaml and psps/1.yaml, psps/2.yaml, psps/3.yaml (+2 more files) (e.g. PodSecurityPolicy "p1" at dump.yaml: document 2 and at psps/1.yaml: document 1); each is counted once, the copy from the later file wins`},
			wantSources:  []string{"dump.yaml", "psps/1.yaml", "psps/2.yaml", "psps/3.yaml", "psps/4.yaml", "psps/5.yaml"},
		},
		{
			name: "two files then a dump: one warning",
			inputs: [][2]string{
				{"psps/1.yaml", psp("policy/v1beta1", "1", "true")}, {"psps/2.yaml", psp("policy/v1beta1", "2", "true")},
				{"dump.yaml", psp("policy/v1beta1", "1", "false") + "---\n" + psp("policy/v1beta1", "2", "false")},
			},
			wantPSPs: 2, wantPriv: ptrTo(false),
			wantWarnings: []string{`2 object(s) read from both psps/1.yaml, psps/2.yaml and dump.yaml (e.g. PodSecurityPolicy "p1" at psps/1.yaml: document 1 and at dump.yaml: document 1); each is counted once, the copy from dump.yaml wins`},
			wantSources:  []string{"dump.yaml", "psps/1.yaml", "psps/2.yaml"},
		},
		{
			name:     "legacy API group is the same object",
			inputs:   [][2]string{{"old.yaml", psp("extensions/v1beta1", "", "true")}, {"new.yaml", psp("policy/v1beta1", "", "false")}},
			wantPSPs: 1, wantPriv: ptrTo(false),
			wantWarnings: []string{"read from both old.yaml and new.yaml"},
			wantSources:  []string{"new.yaml", "old.yaml"},
		},
		{
			name:     "twice inside one file",
			inputs:   [][2]string{{"a.yaml", pod("first") + "---\n" + pod("second")}},
			wantPods: 1, wantLabel: "second",
			wantWarnings: []string{`1 object(s) read more than once from a.yaml (e.g. Pod "app/web" at a.yaml: document 1 and at a.yaml: document 2); each is counted once, the copy read last wins`},
			wantSources:  []string{"a.yaml"},
		},
		{
			name:     "same name, other namespace or kind: distinct",
			inputs:   [][2]string{{"a.yaml", pod("a") + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: other}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: app}\n"}},
			wantPods: 2, wantLabel: "a",
			wantSources: []string{"a.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []manifest.Object
			for _, in := range tt.inputs {
				objs = append(objs, decodeAs(t, in[0], in[1])...)
			}
			inv, err := FromObjects(objs)
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Pods) != tt.wantPods || len(inv.PodSecurityPolicies) != tt.wantPSPs {
				t.Fatalf("pods %d, psps %d; want %d, %d", len(inv.Pods), len(inv.PodSecurityPolicies), tt.wantPods, tt.wantPSPs)
			}
			if tt.wantLabel != "" {
				for _, p := range inv.Pods {
					if p.Namespace == "app" && p.Labels["from"] != tt.wantLabel {
						t.Errorf("surviving pod is from %q, want %q", p.Labels["from"], tt.wantLabel)
					}
				}
			}
			for _, p := range inv.PodSecurityPolicies {
				if tt.wantPriv != nil && p.Spec.Privileged != *tt.wantPriv {
					t.Errorf("surviving PSP %s privileged=%v, want %v", p.Name, p.Spec.Privileged, *tt.wantPriv)
				}
			}
			if len(inv.Warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings %q, want %q", inv.Warnings, tt.wantWarnings)
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(inv.Warnings[i], w) {
					t.Errorf("warning %q lacks %q", inv.Warnings[i], w)
				}
			}
			if strings.Join(inv.Sources, ",") != strings.Join(tt.wantSources, ",") {
				t.Errorf("sources %v, want %v", inv.Sources, tt.wantSources)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestMergeWarnsWithBothSources: the cluster's copy wins under --live, and
// the warning names the file whose copy was dropped.
func TestMergeWarnsWithBothSources(t *testing.T) {
	live := &Inventory{Sources: []string{"cluster"}, Pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web", Labels: map[string]string{"from": "cluster"}}}}}
	files, err := FromObjects(decodeAs(t, "git/web.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: app, labels: {from: git}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: new, namespace: app}\n"))
	if err != nil {
		t.Fatal(err)
	}
	inv := &Inventory{}
	inv.Merge(live)
	inv.Merge(files)
	if len(inv.Pods) != 2 || inv.Pods[1].Labels["from"] != "cluster" {
		t.Fatalf("pods %+v", inv.Pods)
	}
	want := `1 object(s) read from both cluster and git/web.yaml (e.g. Pod "app/web"); each is counted once, the copy from cluster wins`
	if len(inv.Warnings) != 1 || inv.Warnings[0] != want {
		t.Errorf("warnings %q, want %q", inv.Warnings, want)
	}
	if strings.Join(inv.Sources, ",") != "cluster,git/web.yaml" {
		t.Errorf("sources %v", inv.Sources)
	}
}
