package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"fmt"
	"slices"
	"testing"
)

// TestUseTableAgreesWithIndex is the guarantee the audit and the converted
// policies rest on: the table rendered into policies answers exactly as
// the authorizer model does, for every namespace, service account and
// requester, including namespaces and accounts no object names.
func TestUseTableAgreesWithIndex(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			s := newSynthetic(seed, 12, 6, 120, 60)
			// Requester-side grants real clusters have: EKS binds its
			// privileged PSP to system:authenticated cluster-wide; others
			// bind one namespace's users.
			s.clusterRoleBindings = append(s.clusterRoleBindings,
				crb("eks:podsecuritypolicy:authenticated", "ClusterRole", "use-"+s.psps[2], groupSubj(AllAuthenticated)))
			s.roleBindings = append(s.roleBindings,
				rb(s.namespaces[3], "authn", "ClusterRole", "use-"+s.psps[3], groupSubj(AllAuthenticated)),
				rb(s.namespaces[4], "kubelets", "ClusterRole", "use-"+s.psps[4], groupSubj("system:nodes")))
			ix := s.index()
			table := ix.UseTable(s.psps, nil, nil)
			compiled := table.Compile()

			namespaces := append(slices.Clone(s.namespaces), "ns-nobody-names")
			accounts := []string{"", "default", "builder", "app", "runner", "unnamed"}
			requesters := []*User{Unknown(), {Name: "admin", Groups: []string{SystemMasters, AllAuthenticated}},
				{Name: "system:node:n1", Groups: []string{"system:nodes", AllAuthenticated}}}
			for _, p := range s.pods {
				c := p.creator
				requesters = append(requesters, &c)
			}
			checked := 0
			for _, pspName := range s.psps {
				for _, ns := range namespaces {
					for _, sa := range accounts {
						for _, r := range requesters {
							want := ix.CanUse(*r, ns, pspName)
							if sa != "" {
								want = want || ix.CanUse(PodServiceAccountUser(ns, sa), ns, pspName)
							}
							if got := table.CanUse(pspName, ns, sa, r); got != want {
								t.Fatalf("%s in %s, service account %q, requester %v: table says %v, index %v\n%+v", pspName, ns, sa, *r, got, want, *table[pspName])
							}
							if got := compiled.CanUse(pspName, ns, sa, r); got != want {
								t.Fatalf("%s in %s, service account %q, requester %v: compiled table says %v, index %v\n%+v", pspName, ns, sa, *r, got, want, *table[pspName])
							}
							checked++
						}
					}
				}
			}
			if checked == 0 {
				t.Fatal("nothing checked")
			}
		})
	}
}

func TestUseTableShape(t *testing.T) {
	o := &rbacObjects{
		clusterRoles: []rbacv1.ClusterRole{
			clusterRole("use-priv", usePSP("eks.privileged")),
			clusterRole("use-r", usePSP("restricted")),
		},
		clusterRoleBindings: []rbacv1.ClusterRoleBinding{
			crb("eks:podsecuritypolicy:authenticated", "ClusterRole", "use-priv", groupSubj(AllAuthenticated)),
			crb("ci", "ClusterRole", "use-priv", userSubj("ci-bot")),
		},
		roleBindings: []rbacv1.RoleBinding{
			rb("team-a", "restricted", "ClusterRole", "use-r", groupSubj(AllAuthenticated), saSubj("", "app")),
			rb("team-b", "restricted", "ClusterRole", "use-r", groupSubj("devs")),
		},
	}
	table := o.index().UseTable([]string{"eks.privileged", "restricted", "nobody"}, []string{"team-c"}, nil)
	priv, restricted, nobody := table["eks.privileged"], table["restricted"], table["nobody"]
	if !priv.Everywhere || !slices.Equal(priv.Authenticated, []string{"*"}) {
		t.Errorf("eks.privileged = %+v, want everywhere through system:authenticated", *priv)
	}
	if !slices.Equal(restricted.Namespaces, []string{"team-a"}) || !slices.Equal(restricted.Authenticated, []string{"team-a"}) {
		t.Errorf("restricted = %+v, want namespace team-a through system:authenticated", *restricted)
	}
	// The service account app is also a requester: pods it creates (a CI
	// runner, an operator) may use the PSP whatever their own account.
	wantReq := []RequesterGrant{
		{Kind: "User", Name: "system:serviceaccount:team-a:app", Namespaces: []string{"team-a"}},
		{Kind: "Group", Name: "devs", Namespaces: []string{"team-b"}},
	}
	if !slices.EqualFunc(restricted.Requesters, wantReq, func(a, b RequesterGrant) bool { return a.String() == b.String() }) {
		t.Errorf("restricted requesters = %v, want %v", restricted.Requesters, wantReq)
	}
	if !nobody.Empty() {
		t.Errorf("nobody = %+v, want empty", *nobody)
	}
	if table.CanUse("restricted", "team-c", "default", Unknown()) {
		t.Error("restricted usable in team-c")
	}
	if !table.CanUse("restricted", "team-b", "default", &User{Name: "eve", Groups: []string{"devs", AllAuthenticated}}) {
		t.Error("restricted not usable by a member of devs in team-b")
	}
}
