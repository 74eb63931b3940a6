package rbac

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func pspWith(name string, mutate func(*psp.PodSecurityPolicySpec)) psp.PodSecurityPolicy {
	p := psp.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: psp.PodSecurityPolicySpec{
			Volumes:            []psp.FSType{psp.ConfigMap, psp.Secret, psp.EmptyDir},
			SELinux:            psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
			RunAsUser:          psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot},
			SupplementalGroups: psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
			FSGroup:            psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
		},
	}
	if mutate != nil {
		mutate(&p.Spec)
	}
	return p
}

func TestDangerousAllowances(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*psp.PodSecurityPolicySpec)
		want   []string
	}{
		{"restricted", nil, nil},
		{"privileged", func(s *psp.PodSecurityPolicySpec) { s.Privileged = true }, []string{"privileged"}},
		{"host namespaces", func(s *psp.PodSecurityPolicySpec) { s.HostNetwork, s.HostPID, s.HostIPC = true, true, true }, []string{"hostNetwork", "hostPID", "hostIPC"}},
		{"host ports only are not node control", func(s *psp.PodSecurityPolicySpec) { s.HostPorts = []psp.HostPortRange{{Min: 0, Max: 65535}} }, nil},
		{"hostPath volume, no allowedHostPaths", func(s *psp.PodSecurityPolicySpec) { s.Volumes = append(s.Volumes, psp.HostPath) }, []string{"hostPath /"}},
		{"all volumes, no allowedHostPaths", func(s *psp.PodSecurityPolicySpec) { s.Volumes = []psp.FSType{psp.All} }, []string{"hostPath /"}},
		{"hostPath volume, prefix /", func(s *psp.PodSecurityPolicySpec) {
			s.Volumes = append(s.Volumes, psp.HostPath)
			s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log"}, {PathPrefix: "/", ReadOnly: true}}
		}, []string{"hostPath /"}},
		{"hostPath volume, narrow prefixes", func(s *psp.PodSecurityPolicySpec) {
			s.Volumes = append(s.Volumes, psp.HostPath)
			s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log"}, {PathPrefix: "/etc/ssl/"}}
		}, nil},
		{"prefix / but no hostPath volume", func(s *psp.PodSecurityPolicySpec) {
			s.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/"}}
		}, nil},
		{"everything", func(s *psp.PodSecurityPolicySpec) {
			s.Privileged, s.HostNetwork, s.HostPID, s.HostIPC = true, true, true, true
			s.Volumes = []psp.FSType{psp.All}
		}, []string{"privileged", "hostNetwork", "hostPID", "hostIPC", "hostPath /"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pspWith(tt.name, tt.mutate)
			if got := dangerousAllowances(&p.Spec); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("dangerousAllowances() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDangerousGrants(t *testing.T) {
	privileged := pspWith("privileged", func(s *psp.PodSecurityPolicySpec) { s.Privileged = true })
	hostNS := pspWith("host-ns", func(s *psp.PodSecurityPolicySpec) { s.HostNetwork, s.HostPID = true, true })
	hostRoot := pspWith("host-root", func(s *psp.PodSecurityPolicySpec) { s.Volumes = append(s.Volumes, psp.HostPath) })
	restricted := pspWith("restricted", nil)
	all := []psp.PodSecurityPolicy{privileged, hostNS, hostRoot, restricted}

	useAll := clusterRole("use-all", usePSP())
	rsController := "system:serviceaccount:kube-system:replicaset-controller"

	// want lists findings without Reason; reasons are checked by substring.
	type finding struct{ psp, subject, namespace, allows, via string }
	tests := []struct {
		name       string
		objs       rbacObjects
		want       []finding
		wantReason []string
	}{
		{
			name: "system:authenticated cluster-wide",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{useAll},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("psp-all", "ClusterRole", "use-all", groupSubj(AllAuthenticated))},
			},
			want: []finding{
				{"host-ns", AllAuthenticated, "", "hostNetwork,hostPID", "ClusterRoleBinding/psp-all -> ClusterRole/use-all"},
				{"host-root", AllAuthenticated, "", "hostPath /", "ClusterRoleBinding/psp-all -> ClusterRole/use-all"},
				{"privileged", AllAuthenticated, "", "privileged", "ClusterRoleBinding/psp-all -> ClusterRole/use-all"},
			},
			wantReason: []string{"every authenticated user", "in every namespace"},
		},
		{
			name: "system:serviceaccounts in one namespace, narrowed by resourceNames",
			objs: rbacObjects{
				roles:        []rbacv1.Role{role("team-a", "psp", usePSP("host-ns", "restricted"))},
				roleBindings: []rbacv1.RoleBinding{rb("team-a", "psp", "Role", "psp", groupSubj(AllServiceAccounts))},
			},
			want: []finding{
				{"host-ns", AllServiceAccounts, "team-a", "hostNetwork,hostPID", "RoleBinding/team-a/psp -> Role/team-a/psp"},
			},
			wantReason: []string{`namespace "team-a"`, "pod's own service account"},
		},
		{
			name: "system:unauthenticated",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("priv", usePSP("privileged"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("anon", "ClusterRole", "priv", groupSubj(AllUnauthenticated))},
			},
			want: []finding{
				{"privileged", AllUnauthenticated, "", "privileged", "ClusterRoleBinding/anon -> ClusterRole/priv"},
			},
			wantReason: []string{"anonymous"},
		},
		{
			name: "controller service account",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("root", usePSP("host-root"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("rs", "ClusterRole", "root", saSubj("kube-system", "replicaset-controller"))},
			},
			want: []finding{
				{"host-root", rsController, "", "hostPath /", "ClusterRoleBinding/rs -> ClusterRole/root"},
			},
			wantReason: []string{"replicaset-controller creates the pods of every ReplicaSet", "Deployment"},
		},
		{
			name: "controller service account without namespace in a kube-system RoleBinding",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("root", usePSP("host-root"))},
				roleBindings: []rbacv1.RoleBinding{rb("kube-system", "ds", "ClusterRole", "root", saSubj("", "daemon-set-controller"))},
			},
			want: []finding{
				{"host-root", "system:serviceaccount:kube-system:daemon-set-controller", "kube-system", "hostPath /", "RoleBinding/kube-system/ds -> ClusterRole/root"},
			},
		},
		{
			name: "kube-controller-manager identity",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("priv", usePSP("privileged"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("kcm", "ClusterRole", "priv", userSubj(ControllerManagerUser))},
			},
			want: []finding{
				{"privileged", ControllerManagerUser, "", "privileged", "ClusterRoleBinding/kcm -> ClusterRole/priv"},
			},
			wantReason: []string{"--use-service-account-credentials"},
		},
		{
			name: "kube-system service account group reaches every controller",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("priv", usePSP("privileged"))},
				roleBindings: []rbacv1.RoleBinding{rb("kube-system", "sys", "ClusterRole", "priv", groupSubj("system:serviceaccounts:kube-system"))},
			},
			want: []finding{
				{"privileged", "system:serviceaccount:kube-system:daemon-set-controller", "kube-system", "privileged", "RoleBinding/kube-system/sys -> ClusterRole/priv"},
				{"privileged", "system:serviceaccount:kube-system:job-controller", "kube-system", "privileged", "RoleBinding/kube-system/sys -> ClusterRole/priv"},
				{"privileged", "system:serviceaccount:kube-system:replicaset-controller", "kube-system", "privileged", "RoleBinding/kube-system/sys -> ClusterRole/priv"},
				{"privileged", "system:serviceaccount:kube-system:replication-controller", "kube-system", "privileged", "RoleBinding/kube-system/sys -> ClusterRole/priv"},
				{"privileged", "system:serviceaccount:kube-system:statefulset-controller", "kube-system", "privileged", "RoleBinding/kube-system/sys -> ClusterRole/priv"},
			},
			wantReason: []string{"(granted to Group system:serviceaccounts:kube-system)"},
		},
		{
			name: "cluster-wide and namespaced paths are both reported, duplicate rules once",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("priv", usePSP("privileged"), usePSP("privileged", "restricted"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{
					crb("everyone", "ClusterRole", "priv", groupSubj(AllAuthenticated), groupSubj("dev")),
				},
				roleBindings: []rbacv1.RoleBinding{
					rb("team-b", "everyone", "ClusterRole", "priv", groupSubj(AllAuthenticated)),
				},
			},
			want: []finding{
				{"privileged", AllAuthenticated, "", "privileged", "ClusterRoleBinding/everyone -> ClusterRole/priv"},
				{"privileged", AllAuthenticated, "team-b", "privileged", "RoleBinding/team-b/everyone -> ClusterRole/priv"},
			},
		},
		{
			name: "grants to ordinary users, admins and safe policies are not findings",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{useAll, clusterRole("restricted", usePSP("restricted"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{
					crb("ops", "ClusterRole", "use-all", userSubj("alice"), groupSubj("ops"), groupSubj(SystemMasters)),
					crb("ci", "ClusterRole", "use-all", saSubj("ci", "deployer"), groupSubj("system:serviceaccounts:ci")),
					crb("everyone", "ClusterRole", "restricted", groupSubj(AllAuthenticated), groupSubj(AllServiceAccounts)),
				},
			},
		},
		{
			name: "dangling binding is not a finding",
			objs: rbacObjects{
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("psp-all", "ClusterRole", "use-all", groupSubj(AllAuthenticated))},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.objs.index().DangerousGrants(all)
			var gotShort []finding
			for _, f := range got {
				gotShort = append(gotShort, finding{f.PSP, f.Subject, f.Namespace, strings.Join(f.Allows, ","), f.Via})
				for _, want := range tt.wantReason {
					if !strings.Contains(f.Reason, want) {
						t.Errorf("%s/%s reason %q does not contain %q", f.PSP, f.Subject, f.Reason, want)
					}
				}
			}
			if !reflect.DeepEqual(gotShort, tt.want) {
				t.Errorf("DangerousGrants() =\n%q\nwant\n%q", gotShort, tt.want)
			}
		})
	}
}

func TestFindingJSON(t *testing.T) {
	// Namespace "" (every namespace) is omitted; the rest always appears.
	f := Finding{PSP: "p", Subject: AllAuthenticated, Allows: []string{"privileged"}, Via: "v", Reason: "r"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"psp":"p","subject":"system:authenticated","allows":["privileged"],"via":"v","reason":"r"}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}
