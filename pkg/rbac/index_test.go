package rbac

import (
	"reflect"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCanUse(t *testing.T) {
	alice := User{Name: "alice", Groups: []string{"dev", AllAuthenticated}}
	webSA := ServiceAccountUser("team-a", "web")
	webPodSA := PodServiceAccountUser("team-a", "web")
	// A binding of ClusterRole "r" with rule to alice, cluster-wide.
	ruleToAlice := func(rule rbacv1.PolicyRule) rbacObjects {
		return rbacObjects{
			clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", rule)},
			clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", userSubj("alice"))},
		}
	}
	rule := func(verbs, groups, resources, names []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	s := func(v ...string) []string { return v }

	type question struct {
		u         User
		namespace string
		psp       string
		want      bool
	}
	tests := []struct {
		name string
		objs rbacObjects
		ask  []question
	}{
		{
			name: "no bindings: nobody",
			ask:  []question{{alice, "team-a", "p", false}},
		},
		{
			name: "system:masters without any binding",
			ask: []question{
				{User{Name: "admin", Groups: []string{SystemMasters, AllAuthenticated}}, "team-a", "p", true},
				{User{Name: "admin", Groups: []string{SystemMasters}}, "", "anything", true},
				// The superuser short-circuit is about groups, not names.
				{User{Name: SystemMasters}, "team-a", "p", false},
			},
		},
		{
			name: "verb use",
			objs: ruleToAlice(usePSP()),
			ask:  []question{{alice, "team-a", "p", true}, {alice, "other", "q", true}, {alice, "", "p", true}},
		},
		{
			name: "verb star",
			objs: ruleToAlice(rule(s("*"), s("policy"), s("podsecuritypolicies"), nil)),
			ask:  []question{{alice, "team-a", "p", true}},
		},
		{
			name: "other verbs do not grant use",
			objs: ruleToAlice(rule(s("get", "list", "watch", "create", "update", "Use"), s("policy"), s("podsecuritypolicies"), nil)),
			ask:  []question{{alice, "team-a", "p", false}},
		},
		{
			name: "legacy extensions group still honoured by the 1.24 plugin",
			objs: ruleToAlice(rule(s("use"), s("extensions"), s("podsecuritypolicies"), nil)),
			ask:  []question{{alice, "team-a", "p", true}},
		},
		{
			name: "apiGroup star",
			objs: ruleToAlice(rule(s("use"), s("*"), s("podsecuritypolicies"), nil)),
			ask:  []question{{alice, "team-a", "p", true}},
		},
		{
			name: "core and other groups do not match",
			objs: ruleToAlice(rule(s("use"), s("", "apps", "policy.k8s.io", "rbac.authorization.k8s.io"), s("podsecuritypolicies"), nil)),
			ask:  []question{{alice, "team-a", "p", false}},
		},
		{
			name: "resource star",
			objs: ruleToAlice(rule(s("use"), s("policy"), s("*"), nil)),
			ask:  []question{{alice, "team-a", "p", true}},
		},
		{
			name: "subresource forms and other spellings do not match",
			objs: ruleToAlice(rule(s("use"), s("policy"), s("podsecuritypolicies/status", "*/status", "*/*", "podsecuritypolicy", "PodSecurityPolicies"), nil)),
			ask:  []question{{alice, "team-a", "p", false}},
		},
		{
			name: "everything star (cluster-admin)",
			objs: ruleToAlice(rule(s("*"), s("*"), s("*"), nil)),
			ask:  []question{{alice, "x", "p", true}},
		},
		{
			name: "nonResourceURLs rule grants nothing",
			objs: ruleToAlice(rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}),
			ask:  []question{{alice, "x", "p", false}},
		},
		{
			name: "resourceNames narrow",
			objs: ruleToAlice(usePSP("restricted", "baseline")),
			ask: []question{
				{alice, "team-a", "restricted", true},
				{alice, "team-a", "baseline", true},
				{alice, "team-a", "privileged", false},
			},
		},
		{
			name: "resourceNames star is a literal name, not a wildcard",
			objs: ruleToAlice(usePSP("*")),
			ask:  []question{{alice, "team-a", "p", false}, {alice, "team-a", "*", true}},
		},
		{
			name: "a narrowed and a wide rule: wide wins",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP("restricted"), usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "privileged", true}, {alice, "team-a", "restricted", true}},
		},
		{
			name: "second rule of a role grants",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r",
					rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}},
					usePSP("p"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", true}, {alice, "team-a", "q", false}},
		},
		{
			name: "RoleBinding to a ClusterRole grants in its namespace only",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("psp-p", usePSP("p"))},
				roleBindings: []rbacv1.RoleBinding{rb("team-a", "b", "ClusterRole", "psp-p", userSubj("alice"))},
			},
			ask: []question{
				{alice, "team-a", "p", true},
				{alice, "team-b", "p", false},
				// No namespace: the authorizer consults ClusterRoleBindings only.
				{alice, "", "p", false},
			},
		},
		{
			name: "RoleBinding to a Role of its namespace",
			objs: rbacObjects{
				roles:        []rbacv1.Role{role("team-a", "psp-p", usePSP("p"))},
				roleBindings: []rbacv1.RoleBinding{rb("team-a", "b", "Role", "psp-p", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", true}, {alice, "team-b", "p", false}},
		},
		{
			name: "RoleBinding to a Role of another namespace grants nothing",
			objs: rbacObjects{
				roles:        []rbacv1.Role{role("team-b", "psp-p", usePSP("p"))},
				roleBindings: []rbacv1.RoleBinding{rb("team-a", "b", "Role", "psp-p", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", false}, {alice, "team-b", "p", false}},
		},
		{
			name: "ClusterRoleBinding to a Role grants nothing",
			objs: rbacObjects{
				roles:               []rbacv1.Role{role("team-a", "psp-p", usePSP("p"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "Role", "psp-p", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", false}},
		},
		{
			name: "binding to a missing role grants nothing",
			objs: rbacObjects{
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "gone", userSubj("alice"))},
				roleBindings: []rbacv1.RoleBinding{
					rb("team-a", "b1", "Role", "gone", userSubj("alice")),
					rb("team-a", "b2", "ClusterRole", "gone", userSubj("alice")),
				},
			},
			ask: []question{{alice, "team-a", "p", false}},
		},
		{
			name: "unknown roleRef kind grants nothing",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "clusterrole", "r", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", false}},
		},
		{
			name: "roleRef apiGroup is not checked by the authorizer",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{{
					ObjectMeta: metav1.ObjectMeta{Name: "b"},
					RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "r"},
					Subjects:   []rbacv1.Subject{userSubj("alice")},
				}},
			},
			ask: []question{{alice, "team-a", "p", true}},
		},
		{
			name: "RoleBinding without namespace is ignored, not cluster-wide",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				roleBindings: []rbacv1.RoleBinding{rb("", "b", "ClusterRole", "r", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", false}, {alice, "", "p", false}},
		},
		{
			name: "aggregated ClusterRole: stored rules count",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{{
					ObjectMeta: metav1.ObjectMeta{Name: "agg"},
					AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
						{MatchLabels: map[string]string{"psp": "true"}},
					}},
					Rules: []rbacv1.PolicyRule{usePSP("p")},
				}},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "agg", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", true}},
		},
		{
			name: "aggregated ClusterRole: selectors are not resolved",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{
					{
						ObjectMeta: metav1.ObjectMeta{Name: "agg"},
						AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
							{MatchLabels: map[string]string{"psp": "true"}},
						}},
					},
					{ObjectMeta: metav1.ObjectMeta{Name: "part", Labels: map[string]string{"psp": "true"}}, Rules: []rbacv1.PolicyRule{usePSP("p")}},
				},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "agg", userSubj("alice"))},
			},
			ask: []question{{alice, "team-a", "p", false}},
		},
		{
			name: "Group subject",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", groupSubj("dev"))},
			},
			ask: []question{
				{alice, "team-a", "p", true},
				{User{Name: "bob", Groups: []string{"ops"}}, "team-a", "p", false},
				// A user named like the group is not in it.
				{User{Name: "dev"}, "team-a", "p", false},
			},
		},
		{
			name: "User subject does not match a group of that name",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", userSubj("dev"))},
			},
			ask: []question{{alice, "team-a", "p", false}},
		},
		{
			name: "system:authenticated reaches token users but not the pod's service account",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", groupSubj(AllAuthenticated))},
			},
			ask: []question{
				{alice, "team-a", "p", true},
				{webSA, "team-a", "p", true},
				{webPodSA, "team-a", "p", false},
				{User{Name: "system:anonymous", Groups: []string{AllUnauthenticated}}, "team-a", "p", false},
			},
		},
		{
			name: "system:serviceaccounts and system:serviceaccounts:<ns>",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("all", usePSP("all-sa")), clusterRole("ns", usePSP("team-a-sa"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{
					crb("b1", "ClusterRole", "all", groupSubj(AllServiceAccounts)),
					crb("b2", "ClusterRole", "ns", groupSubj("system:serviceaccounts:team-a")),
				},
			},
			ask: []question{
				{webPodSA, "team-a", "all-sa", true},
				{webPodSA, "team-a", "team-a-sa", true},
				{PodServiceAccountUser("team-b", "web"), "team-b", "all-sa", true},
				{PodServiceAccountUser("team-b", "web"), "team-b", "team-a-sa", false},
				{alice, "team-a", "all-sa", false},
			},
		},
		{
			name: "ServiceAccount subject with namespace",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", saSubj("team-a", "web"))},
			},
			ask: []question{
				{webPodSA, "team-b", "p", true},
				{webSA, "team-a", "p", true},
				{PodServiceAccountUser("team-b", "web"), "team-b", "p", false},
				{PodServiceAccountUser("team-a", "api"), "team-a", "p", false},
				// Only the user name matters, as in serviceaccount.MatchesUsername.
				{User{Name: "system:serviceaccount:team-a:web"}, "x", "p", true},
			},
		},
		{
			name: "ServiceAccount subject without namespace in a RoleBinding means the binding's namespace",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				roleBindings: []rbacv1.RoleBinding{rb("team-a", "b", "ClusterRole", "r", saSubj("", "web"))},
			},
			ask: []question{
				{webPodSA, "team-a", "p", true},
				{PodServiceAccountUser("team-b", "web"), "team-b", "p", false},
				{PodServiceAccountUser("team-b", "web"), "team-a", "p", false},
			},
		},
		{
			name: "ServiceAccount subject of another namespace in a RoleBinding",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				roleBindings: []rbacv1.RoleBinding{rb("team-a", "b", "ClusterRole", "r", saSubj("ci", "deployer"))},
			},
			ask: []question{
				{ServiceAccountUser("ci", "deployer"), "team-a", "p", true},
				{ServiceAccountUser("ci", "deployer"), "ci", "p", false},
				{PodServiceAccountUser("team-a", "deployer"), "team-a", "p", false},
			},
		},
		{
			name: "ServiceAccount subject without namespace in a ClusterRoleBinding matches nobody",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", saSubj("", "web"))},
			},
			ask: []question{
				{webPodSA, "team-a", "p", false},
				{User{Name: "system:serviceaccount::web"}, "team-a", "p", false},
			},
		},
		{
			name: "User subject named like a service account matches it",
			objs: rbacObjects{
				clusterRoles:        []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r", userSubj("system:serviceaccount:team-a:web"))},
			},
			ask: []question{{webPodSA, "team-a", "p", true}},
		},
		{
			name: "subject apiGroup is not checked by the authorizer",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r",
					rbacv1.Subject{Kind: "User", Name: "alice"},
					rbacv1.Subject{Kind: "Group", APIGroup: "wrong.example.com", Name: "ops"},
					rbacv1.Subject{Kind: "ServiceAccount", APIGroup: "rbac.authorization.k8s.io", Namespace: "team-a", Name: "web"},
				)},
			},
			ask: []question{
				{alice, "x", "p", true},
				{User{Name: "bob", Groups: []string{"ops"}}, "x", "p", true},
				{webPodSA, "x", "p", true},
			},
		},
		{
			name: "unknown subject kinds match nobody",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("r", usePSP())},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "ClusterRole", "r",
					rbacv1.Subject{Kind: "user", Name: "alice"},
					rbacv1.Subject{Kind: "group", Name: "dev"},
					rbacv1.Subject{Kind: "Robot", Name: "alice"},
				)},
			},
			ask: []question{{alice, "x", "p", false}},
		},
		{
			name: "grants from several bindings add up",
			objs: rbacObjects{
				clusterRoles: []rbacv1.ClusterRole{clusterRole("p", usePSP("p")), clusterRole("q", usePSP("q"))},
				clusterRoleBindings: []rbacv1.ClusterRoleBinding{
					crb("b1", "ClusterRole", "p", userSubj("alice")),
				},
				roleBindings: []rbacv1.RoleBinding{
					rb("team-a", "b2", "ClusterRole", "q", groupSubj("dev")),
				},
			},
			ask: []question{
				{alice, "team-a", "p", true},
				{alice, "team-a", "q", true},
				{alice, "team-b", "q", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := tt.objs.index()
			for _, q := range tt.ask {
				if got := ix.CanUse(q.u, q.namespace, q.psp); got != q.want {
					t.Errorf("CanUse(%v, %q, %q) = %v, want %v", q.u, q.namespace, q.psp, got, q.want)
				}
				// The reference transcription of the authorizer must agree
				// with the table, so that the table itself is checked.
				if got := tt.objs.naiveCanUse(q.u, q.namespace, q.psp); got != q.want {
					t.Errorf("naiveCanUse(%v, %q, %q) = %v, want %v", q.u, q.namespace, q.psp, got, q.want)
				}
				// CanUse and Grants must agree outside the superuser short-circuit.
				if !q.want || slices.Contains(q.u.Groups, SystemMasters) {
					continue
				}
				if g := ix.Grants(q.u, q.namespace, q.psp); len(g) == 0 {
					t.Errorf("Grants(%v, %q, %q) is empty but CanUse is true", q.u, q.namespace, q.psp)
				}
			}
		})
	}
}

// TestCanUseMatchesNaive compares the index with a per-binding walk over a
// generated cluster, for every pod, identity and PSP.
func TestCanUseMatchesNaive(t *testing.T) {
	s := newSynthetic(1, 20, 12, 400, 300)
	ix := s.index()
	allowed := 0
	for _, p := range s.pods {
		for _, u := range []User{p.creator, p.sa} {
			for _, name := range append(s.psps, "unknown") {
				got, want := ix.CanUse(u, p.namespace, name), s.naiveCanUse(u, p.namespace, name)
				if got != want {
					t.Fatalf("CanUse(%v, %q, %q) = %v, naive = %v", u, p.namespace, name, got, want)
				}
				if got != (len(ix.Grants(u, p.namespace, name)) > 0) {
					t.Fatalf("CanUse(%v, %q, %q) = %v disagrees with Grants", u, p.namespace, name, got)
				}
				if got {
					allowed++
				}
			}
		}
	}
	// Guard against a generator that makes every answer the same.
	if total := len(s.pods) * 2 * (len(s.psps) + 1); allowed == 0 || allowed == total {
		t.Fatalf("degenerate synthetic cluster: %d of %d questions allowed", allowed, total)
	}
}

func TestGrants(t *testing.T) {
	alice := User{Name: "alice", Groups: []string{"dev", AllAuthenticated}}
	objs := rbacObjects{
		clusterRoles: []rbacv1.ClusterRole{
			clusterRole("psp-p", usePSP("p")),
			clusterRole("two-rules", usePSP("p"), usePSP("p", "q")),
			clusterRole("psp-q", usePSP("q")),
		},
		roles: []rbacv1.Role{role("team-a", "local", usePSP())},
		clusterRoleBindings: []rbacv1.ClusterRoleBinding{
			// Both subjects match alice: the first in the list is reported.
			crb("z-both", "ClusterRole", "psp-p", groupSubj("dev"), userSubj("alice")),
			crb("a-two", "ClusterRole", "two-rules", userSubj("alice")),
			crb("other", "ClusterRole", "psp-q", userSubj("alice")),
		},
		roleBindings: []rbacv1.RoleBinding{
			rb("team-a", "local", "Role", "local", groupSubj(AllAuthenticated)),
			rb("team-b", "local", "ClusterRole", "psp-p", userSubj("alice")),
		},
	}
	ix := objs.index()
	tests := []struct {
		name      string
		u         User
		namespace string
		psp       string
		want      []Grant
		wantVia   []string
	}{
		{
			name: "cluster-wide and namespaced, sorted, one per rule",
			u:    alice, namespace: "team-a", psp: "p",
			want: []Grant{
				{BindingKind: "ClusterRoleBinding", BindingName: "a-two", RoleKind: "ClusterRole", RoleName: "two-rules", Subject: userSubj("alice"), RuleIndex: 0},
				{BindingKind: "ClusterRoleBinding", BindingName: "a-two", RoleKind: "ClusterRole", RoleName: "two-rules", Subject: userSubj("alice"), RuleIndex: 1},
				{BindingKind: "ClusterRoleBinding", BindingName: "z-both", RoleKind: "ClusterRole", RoleName: "psp-p", Subject: groupSubj("dev"), RuleIndex: 0},
				{BindingKind: "RoleBinding", BindingNamespace: "team-a", BindingName: "local", RoleKind: "Role", RoleName: "local", Subject: groupSubj(AllAuthenticated), RuleIndex: 0},
			},
			wantVia: []string{
				"ClusterRoleBinding/a-two -> ClusterRole/two-rules",
				"ClusterRoleBinding/a-two -> ClusterRole/two-rules",
				"ClusterRoleBinding/z-both -> ClusterRole/psp-p",
				"RoleBinding/team-a/local -> Role/team-a/local",
			},
		},
		{
			name: "RoleBinding to a ClusterRole",
			u:    User{Name: "alice"}, namespace: "team-b", psp: "p",
			want: []Grant{
				{BindingKind: "ClusterRoleBinding", BindingName: "a-two", RoleKind: "ClusterRole", RoleName: "two-rules", Subject: userSubj("alice"), RuleIndex: 0},
				{BindingKind: "ClusterRoleBinding", BindingName: "a-two", RoleKind: "ClusterRole", RoleName: "two-rules", Subject: userSubj("alice"), RuleIndex: 1},
				{BindingKind: "ClusterRoleBinding", BindingName: "z-both", RoleKind: "ClusterRole", RoleName: "psp-p", Subject: userSubj("alice"), RuleIndex: 0},
				{BindingKind: "RoleBinding", BindingNamespace: "team-b", BindingName: "local", RoleKind: "ClusterRole", RoleName: "psp-p", Subject: userSubj("alice"), RuleIndex: 0},
			},
			wantVia: []string{
				"ClusterRoleBinding/a-two -> ClusterRole/two-rules",
				"ClusterRoleBinding/a-two -> ClusterRole/two-rules",
				"ClusterRoleBinding/z-both -> ClusterRole/psp-p",
				"RoleBinding/team-b/local -> ClusterRole/psp-p",
			},
		},
		{
			name: "resourceNames filter the rules",
			u:    User{Name: "alice"}, namespace: "team-c", psp: "q",
			want: []Grant{
				{BindingKind: "ClusterRoleBinding", BindingName: "a-two", RoleKind: "ClusterRole", RoleName: "two-rules", Subject: userSubj("alice"), RuleIndex: 1},
				{BindingKind: "ClusterRoleBinding", BindingName: "other", RoleKind: "ClusterRole", RoleName: "psp-q", Subject: userSubj("alice"), RuleIndex: 0},
			},
			wantVia: []string{
				"ClusterRoleBinding/a-two -> ClusterRole/two-rules",
				"ClusterRoleBinding/other -> ClusterRole/psp-q",
			},
		},
		{
			name: "nothing",
			u:    User{Name: "bob"}, namespace: "team-a", psp: "p",
		},
		{
			name: "system:masters has no RBAC grants to explain",
			u:    User{Name: "root", Groups: []string{SystemMasters}}, namespace: "team-b", psp: "p",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Grants(tt.u, tt.namespace, tt.psp)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Grants() =\n%+v\nwant\n%+v", got, tt.want)
			}
			var via []string
			for _, g := range got {
				via = append(via, g.String())
			}
			if !reflect.DeepEqual(via, tt.wantVia) {
				t.Errorf("String() = %q, want %q", via, tt.wantVia)
			}
		})
	}
}
