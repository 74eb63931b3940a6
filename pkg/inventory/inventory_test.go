package inventory

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func decode(t *testing.T, s string) []manifest.Object {
	t.Helper()
	objs, err := manifest.Decode([]byte(s), "in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestFromObjects(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(t *testing.T, inv *Inventory)
		wantErr string
	}{
		{
			name: "every kind the audit reads, old API versions too",
			in: `apiVersion: v1
kind: List
items:
- {apiVersion: policy/v1beta1, kind: PodSecurityPolicy, metadata: {name: p}, spec: {seLinux: {rule: RunAsAny}, runAsUser: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}}
- {apiVersion: extensions/v1beta1, kind: PodSecurityPolicy, metadata: {name: old}, spec: {seLinux: {rule: RunAsAny}, runAsUser: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: cr}}
- {apiVersion: rbac.authorization.k8s.io/v1beta1, kind: ClusterRoleBinding, metadata: {name: crb}, roleRef: {kind: ClusterRole, name: cr}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r, namespace: a}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb, namespace: a}, roleRef: {kind: Role, name: r}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: default, namespace: a}}
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- {apiVersion: v1, kind: Pod, metadata: {name: z, namespace: a}}
- {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: a}}
- {apiVersion: v1, kind: ReplicationController, metadata: {name: rc, namespace: a}}
- {apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: rs, namespace: a}}
- {apiVersion: extensions/v1beta1, kind: Deployment, metadata: {name: d, namespace: a}}
- {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, namespace: a}}
- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: ds, namespace: a}}
- {apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: a}}
- {apiVersion: batch/v1beta1, kind: CronJob, metadata: {name: cj, namespace: a}}
`,
			check: func(t *testing.T, inv *Inventory) {
				counts := map[string]int{
					"psp": len(inv.PodSecurityPolicies), "cr": len(inv.ClusterRoles), "crb": len(inv.ClusterRoleBindings),
					"role": len(inv.Roles), "rb": len(inv.RoleBindings), "sa": len(inv.ServiceAccounts), "ns": len(inv.Namespaces),
					"pod": len(inv.Pods), "rc": len(inv.ReplicationControllers), "rs": len(inv.ReplicaSets), "deploy": len(inv.Deployments),
					"sts": len(inv.StatefulSets), "ds": len(inv.DaemonSets), "job": len(inv.Jobs), "cj": len(inv.CronJobs),
				}
				want := map[string]int{"psp": 2, "cr": 1, "crb": 1, "role": 1, "rb": 1, "sa": 1, "ns": 1, "pod": 2, "rc": 1, "rs": 1, "deploy": 1, "sts": 1, "ds": 1, "job": 1, "cj": 1}
				for k, v := range want {
					if counts[k] != v {
						t.Errorf("%s: got %d, want %d", k, counts[k], v)
					}
				}
				if inv.Pods[0].Name != "b" {
					t.Errorf("pods not sorted: first is %q", inv.Pods[0].Name)
				}
				if len(inv.Warnings) != 0 {
					t.Errorf("unexpected warnings %v", inv.Warnings)
				}
			},
		},
		{
			name: "unknown kinds skipped with one warning per kind",
			in: `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
- {apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}
- {apiVersion: v1, kind: Pod, metadata: {name: p}}
`,
			check: func(t *testing.T, inv *Inventory) {
				if len(inv.Pods) != 1 {
					t.Errorf("got %d pods, want 1", len(inv.Pods))
				}
				want := []string{
					"skipped 1 object(s) of kind example.com/v1 Widget: not used by the audit",
					"skipped 2 object(s) of kind v1 ConfigMap: not used by the audit",
				}
				if strings.Join(inv.Warnings, "|") != strings.Join(want, "|") {
					t.Errorf("warnings = %q, want %q", inv.Warnings, want)
				}
			},
		},
		{
			name:    "wrongly typed field names the object",
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: 3}\n",
			wantErr: `in.yaml: document 1 (Pod "p"):`,
		},
		{
			name:    "invalid PSP rule",
			in:      "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {seLinux: {rule: RunAsAny}, runAsUser: {rule: Sometimes}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n",
			wantErr: `in.yaml: document 1 (PodSecurityPolicy "p"): invalid PodSecurityPolicy: spec.runAsUser.rule: Unsupported value: "Sometimes"`,
		},
		{
			name:    "misspelt PSP field",
			in:      "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {privilaged: true, seLinux: {rule: RunAsAny}, runAsUser: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n",
			wantErr: `unknown field "spec.privilaged"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := FromObjects(decode(t, tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromObjects() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, inv)
		})
	}
}

func TestMergePrefersFirst(t *testing.T) {
	live := &Inventory{Pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p", Labels: map[string]string{"from": "live"}}}}, PSPAPIServed: false}
	files := &Inventory{
		Pods:                []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p", Labels: map[string]string{"from": "file"}}}, {ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "q"}}},
		PodSecurityPolicies: []psp.PodSecurityPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "restricted"}}},
	}
	live.Merge(files)
	if len(live.Pods) != 2 || live.Pods[0].Labels["from"] != "live" {
		t.Fatalf("merge: got %+v", live.Pods)
	}
	if len(live.PodSecurityPolicies) != 1 {
		t.Fatalf("PSPs from files not merged")
	}
}

func TestSetMissingNamespace(t *testing.T) {
	inv := &Inventory{
		origin:       map[objectKey]string{{kindKey{"apps", "Deployment"}, "", "web"}: "chart.yaml", {kindKey{"", "Namespace"}, "", "web"}: "ns.yaml"},
		Namespaces:   []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "web"}}},
		Deployments:  []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, {ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "data"}}},
		RoleBindings: []rbacv1.RoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "psp"}}},
	}
	inv.SetMissingNamespace("apps")
	for _, tt := range []struct{ name, got, want string }{
		{"unplaced deployment", inv.Deployments[0].Namespace, "apps"},
		{"placed deployment", inv.Deployments[1].Namespace, "data"},
		{"role binding", inv.RoleBindings[0].Namespace, "apps"},
		{"namespace object", inv.Namespaces[0].Namespace, ""},
		{"deployment's origin", inv.origin[objectKey{kindKey{"apps", "Deployment"}, "apps", "web"}], "chart.yaml"},
		{"namespace's origin", inv.origin[objectKey{kindKey{"", "Namespace"}, "", "web"}], "ns.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
