package rbac

import (
	"fmt"
	"math/rand/v2"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Builders that keep the tables readable.

func usePSP(names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: []string{"use"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: names}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func role(ns, name string, rules ...rbacv1.PolicyRule) rbacv1.Role {
	return rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func crb(name, roleKind, roleName string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: roleKind, Name: roleName},
		Subjects:   subjects,
	}
}

func rb(ns, name, roleKind, roleName string, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: roleKind, Name: roleName},
		Subjects:   subjects,
	}
}

func userSubj(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSubj(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func saSubj(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

// rbacObjects is one cluster's RBAC state.
type rbacObjects struct {
	clusterRoles        []rbacv1.ClusterRole
	clusterRoleBindings []rbacv1.ClusterRoleBinding
	roles               []rbacv1.Role
	roleBindings        []rbacv1.RoleBinding
}

func (o *rbacObjects) index() *Index {
	return NewIndex(o.clusterRoles, o.clusterRoleBindings, o.roles, o.roleBindings)
}

// naiveCanUse walks every binding per question, transcribing the v1.24
// authorizer's VisitRulesFor / appliesToUser / RuleAllows and the PSP
// plugin's two API groups. The index must agree with it on every question.
func (o *rbacObjects) naiveCanUse(u User, namespace, pspName string) bool {
	if slices.Contains(u.Groups, SystemMasters) {
		return true
	}
	applies := func(s rbacv1.Subject, ns string) bool {
		switch s.Kind {
		case rbacv1.UserKind:
			return u.Name == s.Name
		case rbacv1.GroupKind:
			return slices.Contains(u.Groups, s.Name)
		case rbacv1.ServiceAccountKind:
			saNS := ns
			if s.Namespace != "" {
				saNS = s.Namespace
			}
			return saNS != "" && u.Name == "system:serviceaccount:"+saNS+":"+s.Name
		}
		return false
	}
	ruleAllows := func(r rbacv1.PolicyRule, group string) bool {
		return (slices.Contains(r.Verbs, "use") || slices.Contains(r.Verbs, "*")) &&
			(slices.Contains(r.APIGroups, group) || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, "podsecuritypolicies") || slices.Contains(r.Resources, "*")) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, pspName))
	}
	rulesFor := func(ref rbacv1.RoleRef, ns string) []rbacv1.PolicyRule {
		switch ref.Kind {
		case "ClusterRole":
			for _, c := range o.clusterRoles {
				if c.Name == ref.Name {
					return c.Rules
				}
			}
		case "Role":
			for _, r := range o.roles {
				if r.Namespace == ns && r.Name == ref.Name {
					return r.Rules
				}
			}
		}
		return nil
	}
	allowed := func(subjects []rbacv1.Subject, ref rbacv1.RoleRef, ns string) bool {
		if !slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool { return applies(s, ns) }) {
			return false
		}
		for _, r := range rulesFor(ref, ns) {
			if ruleAllows(r, "policy") || ruleAllows(r, "extensions") {
				return true
			}
		}
		return false
	}
	for _, b := range o.clusterRoleBindings {
		if allowed(b.Subjects, b.RoleRef, "") {
			return true
		}
	}
	if namespace == "" {
		return false
	}
	for _, b := range o.roleBindings {
		if b.Namespace == namespace && allowed(b.Subjects, b.RoleRef, namespace) {
			return true
		}
	}
	return false
}

// synthetic is a generated cluster: RBAC objects plus the questions an
// evaluation would ask of them.
type synthetic struct {
	rbacObjects
	namespaces []string
	psps       []string
	pods       []syntheticPod
}

type syntheticPod struct {
	namespace string
	creator   User
	sa        User
}

// newSynthetic builds a cluster shaped like a large real one: a few
// cluster-wide grants to groups and controllers, and namespaced grants to
// service accounts, users and groups, half of them narrowed by
// resourceNames, some of them dangling or using the legacy API group.
func newSynthetic(seed uint64, nNamespaces, nPSPs, nBindings, nPods int) *synthetic {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := &synthetic{}
	for i := range nNamespaces {
		s.namespaces = append(s.namespaces, fmt.Sprintf("ns-%03d", i))
	}
	for i := range nPSPs {
		s.psps = append(s.psps, fmt.Sprintf("psp-%02d", i))
	}
	pick := func(list []string) string { return list[r.IntN(len(list))] }

	// One ClusterRole per PSP, a few covering several PSPs, one for all.
	for _, p := range s.psps {
		s.clusterRoles = append(s.clusterRoles, clusterRole("use-"+p, usePSP(p)))
	}
	s.clusterRoles = append(s.clusterRoles,
		clusterRole("use-all", usePSP()),
		clusterRole("use-legacy", rbacv1.PolicyRule{Verbs: []string{"use"}, APIGroups: []string{"extensions"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{s.psps[1]}}),
		clusterRole("not-use", rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}}),
		clusterRole("admin-ish", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}),
	)
	crNames := make([]string, 0, len(s.clusterRoles))
	for _, c := range s.clusterRoles {
		crNames = append(crNames, c.Name)
	}

	users := []string{"alice", "bob", "carol", "dave", "erin"}
	groups := []string{"dev", "ops", "qa"}
	sas := []string{"default", "builder", "app", "runner"}

	nCluster := max(nBindings/40, 4)
	for i := range nCluster {
		var subj rbacv1.Subject
		switch i % 4 {
		case 0:
			subj = groupSubj(pick(groups))
		case 1:
			subj = saSubj("kube-system", pick([]string{"replicaset-controller", "daemon-set-controller", "job-controller"}))
		case 2:
			subj = userSubj(pick(users))
		default:
			subj = saSubj(pick(s.namespaces), pick(sas))
		}
		ref := "use-" + pick(s.psps)
		if i == 0 {
			// The usual baseline: every service account may use the first PSP.
			ref, subj = "use-"+s.psps[0], groupSubj(AllServiceAccounts)
		}
		s.clusterRoleBindings = append(s.clusterRoleBindings, crb(fmt.Sprintf("crb-%04d", i), "ClusterRole", ref, subj))
	}
	for i := range nBindings - nCluster {
		ns := pick(s.namespaces)
		var subjects []rbacv1.Subject
		for range 1 + r.IntN(3) {
			switch r.IntN(5) {
			case 0:
				subjects = append(subjects, saSubj("", pick(sas)))
			case 1:
				subjects = append(subjects, saSubj(pick(s.namespaces), pick(sas)))
			case 2:
				subjects = append(subjects, userSubj(pick(users)))
			case 3:
				subjects = append(subjects, groupSubj(pick(groups)))
			default:
				subjects = append(subjects, groupSubj("system:serviceaccounts:"+pick(s.namespaces)))
			}
		}
		name := fmt.Sprintf("rb-%04d", i)
		switch r.IntN(4) {
		case 0:
			// A Role in the binding's namespace, narrowed to two PSPs.
			s.roles = append(s.roles, role(ns, "role-"+name, usePSP(pick(s.psps), pick(s.psps))))
			s.roleBindings = append(s.roleBindings, rb(ns, name, "Role", "role-"+name, subjects...))
		case 1:
			// Dangling: the Role does not exist.
			s.roleBindings = append(s.roleBindings, rb(ns, name, "Role", "missing-"+name, subjects...))
		default:
			s.roleBindings = append(s.roleBindings, rb(ns, name, "ClusterRole", pick(crNames), subjects...))
		}
	}

	for range nPods {
		ns := pick(s.namespaces)
		var creator User
		switch r.IntN(4) {
		case 0:
			creator = User{Name: pick(users), Groups: []string{pick(groups), AllAuthenticated}}
		case 1:
			creator, _ = ControllerUser("ReplicaSet", ControllerServiceAccounts)
		case 2:
			creator, _ = ControllerUser("Job", ControllerServiceAccounts)
		default:
			creator, _ = ControllerUser("DaemonSet", ControllerManager)
		}
		s.pods = append(s.pods, syntheticPod{namespace: ns, creator: creator, sa: PodServiceAccountUser(ns, pick(sas))})
	}
	return s
}
