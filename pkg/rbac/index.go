package rbac

import (
	"cmp"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// What PSP admission asks the authorizer (v1.24
// plugin/pkg/admission/security/podsecuritypolicy/admission.go,
// authorizedForPolicy → authorizedForPolicyInAPIGroup → buildAttributes):
// verb "use", resource "podsecuritypolicies", no subresource, name = the
// PSP's name, namespace = the pod's namespace. It asks twice, once with API
// group "policy" and once with the legacy group "extensions" "for backward
// compatibility", and allows if either is allowed. So in 1.24 a rule naming
// only apiGroups ["extensions"] still grants `use`; this package honours
// both groups exactly as the plugin does.
const (
	useVerb         = "use"
	pspResource     = "podsecuritypolicies"
	policyGroup     = "policy"
	extensionsGroup = "extensions"
)

// Binding and role kinds as they appear in Grant and Finding.
const (
	KindClusterRoleBinding = "ClusterRoleBinding"
	KindRoleBinding        = "RoleBinding"
	KindClusterRole        = "ClusterRole"
	KindRole               = "Role"
)

// Grant is one (binding, role, rule) that lets an identity use a PSP.
type Grant struct {
	BindingKind, BindingNamespace, BindingName, RoleKind, RoleName string
	// Subject is the binding's subject that matched the identity: the
	// first matching one in the binding's list, as the authorizer reports.
	Subject rbacv1.Subject
	// RuleIndex is the index of the granting rule in the role's rules, so
	// that two rules of one role granting the same PSP stay distinguishable.
	RuleIndex int
}

// String renders the path from binding to role, e.g.
// "ClusterRoleBinding/psp-all -> ClusterRole/psp-privileged" or
// "RoleBinding/team-a/psp -> Role/team-a/psp-restricted".
func (g Grant) String() string {
	b := g.BindingKind + "/"
	if g.BindingNamespace != "" {
		b += g.BindingNamespace + "/"
	}
	r := g.RoleKind + "/"
	if g.RoleKind == KindRole {
		r += g.BindingNamespace + "/"
	}
	return b + g.BindingName + " -> " + r + g.RoleName
}

// Index answers `use` questions for PodSecurityPolicies.
//
// It is built once from RBAC objects and is read-only afterwards, so it is
// safe for concurrent use.
type Index struct {
	// users and groups map a subject to where it may use which PSPs;
	// ServiceAccount subjects are stored under their user name, which is all
	// the authorizer compares. Plain string keys take the runtime's fast
	// map path, where CanUse spends its time.
	users, groups map[string]*subjectGrants
}

type subjectKind uint8

const (
	userSubject subjectKind = iota + 1
	groupSubject
)

type subjectKey struct {
	kind subjectKind
	name string
}

// subjectGrants holds one subject's PSP sets: cluster from ClusterRoleBindings
// (every namespace), byNamespace from RoleBindings.
type subjectGrants struct {
	cluster     *pspSet
	byNamespace map[string]*pspSet
}

// pspSet is the PSPs a subject may use in one scope; sources explain it for
// Grants and DangerousGrants, CanUse reads only all and names.
type pspSet struct {
	all     bool
	names   map[string]struct{}
	sources []source
}

func (s *pspSet) allows(name string) bool {
	if s == nil {
		return false
	}
	if s.all {
		return true
	}
	_, ok := s.names[name]
	return ok
}

// source is one granting rule reached through one subject of one binding.
type source struct {
	binding      *bindingInfo
	subjectIndex int
	ruleIndex    int
	// names is the rule's resourceNames; nil means every PSP.
	names []string
}

func (s *source) covers(name string) bool {
	return s.names == nil || slices.Contains(s.names, name)
}

func (s *source) grant() Grant {
	return Grant{
		BindingKind:      s.binding.kind,
		BindingNamespace: s.binding.namespace,
		BindingName:      s.binding.name,
		RoleKind:         s.binding.roleKind,
		RoleName:         s.binding.roleName,
		Subject:          s.binding.subjects[s.subjectIndex],
		RuleIndex:        s.ruleIndex,
	}
}

type bindingInfo struct {
	kind, namespace, name, roleKind, roleName string
	subjects                                  []rbacv1.Subject
}

// NewIndex resolves the RBAC objects into the index.
//
// It follows the v1.24 authorizer (pkg/registry/rbac/validation/rule.go):
//   - A ClusterRoleBinding grants in every namespace and can only reference
//     a ClusterRole (the authorizer looks a Role up in namespace "", where
//     none exists).
//   - A RoleBinding grants only in its own namespace, through a Role of that
//     namespace or a ClusterRole.
//   - A binding whose role is missing, or whose roleRef kind is neither Role
//     nor ClusterRole, grants nothing. roleRef.apiGroup is not checked, as
//     the authorizer does not check it.
//   - Aggregated ClusterRoles are read from .rules as stored: the
//     clusterrole-aggregation controller writes the aggregated rules there
//     and the authorizer reads only .rules, so aggregationRule is ignored.
//
// RoleBindings and Roles without a namespace (manifests that relied on
// `kubectl -n`) are ignored rather than guessed at: treating them as
// cluster-wide would invent grants. When a name occurs twice, the last
// object wins.
func NewIndex(clusterRoles []rbacv1.ClusterRole, clusterRoleBindings []rbacv1.ClusterRoleBinding, roles []rbacv1.Role, roleBindings []rbacv1.RoleBinding) *Index {
	ix := &Index{users: map[string]*subjectGrants{}, groups: map[string]*subjectGrants{}}

	clusterRoleRules := make(map[string][]rbacv1.PolicyRule, len(clusterRoles))
	for i := range clusterRoles {
		clusterRoleRules[clusterRoles[i].Name] = clusterRoles[i].Rules
	}
	type nsName struct{ namespace, name string }
	roleRules := make(map[nsName][]rbacv1.PolicyRule, len(roles))
	for i := range roles {
		if roles[i].Namespace == "" {
			continue
		}
		roleRules[nsName{roles[i].Namespace, roles[i].Name}] = roles[i].Rules
	}

	for i := range clusterRoleBindings {
		crb := &clusterRoleBindings[i]
		if crb.RoleRef.Kind != KindClusterRole {
			continue
		}
		rules, ok := clusterRoleRules[crb.RoleRef.Name]
		if !ok {
			continue
		}
		ix.add(&bindingInfo{
			kind: KindClusterRoleBinding, name: crb.Name,
			roleKind: KindClusterRole, roleName: crb.RoleRef.Name,
			subjects: crb.Subjects,
		}, rules)
	}

	for i := range roleBindings {
		rb := &roleBindings[i]
		if rb.Namespace == "" {
			continue
		}
		var rules []rbacv1.PolicyRule
		var ok bool
		switch rb.RoleRef.Kind {
		case KindClusterRole:
			rules, ok = clusterRoleRules[rb.RoleRef.Name]
		case KindRole:
			rules, ok = roleRules[nsName{rb.Namespace, rb.RoleRef.Name}]
		}
		if !ok {
			continue
		}
		ix.add(&bindingInfo{
			kind: KindRoleBinding, namespace: rb.Namespace, name: rb.Name,
			roleKind: rb.RoleRef.Kind, roleName: rb.RoleRef.Name,
			subjects: rb.Subjects,
		}, rules)
	}
	return ix
}

// add records every granting rule of one binding under each of its subjects.
func (ix *Index) add(b *bindingInfo, rules []rbacv1.PolicyRule) {
	for ri := range rules {
		names, ok := ruleGrantsUse(&rules[ri])
		if !ok {
			continue
		}
		for si := range b.subjects {
			key, ok := keyForSubject(&b.subjects[si], b.namespace)
			if !ok {
				continue
			}
			set := ix.setFor(key, b.namespace)
			set.sources = append(set.sources, source{binding: b, subjectIndex: si, ruleIndex: ri, names: names})
			switch {
			case set.all:
			case names == nil:
				set.all, set.names = true, nil
			default:
				if set.names == nil {
					set.names = make(map[string]struct{}, len(names))
				}
				for _, n := range names {
					set.names[n] = struct{}{}
				}
			}
		}
	}
}

// lookup returns a subject's grants, nil if it has none.
func (ix *Index) lookup(key subjectKey) *subjectGrants {
	if key.kind == groupSubject {
		return ix.groups[key.name]
	}
	return ix.users[key.name]
}

func (ix *Index) setFor(key subjectKey, namespace string) *pspSet {
	m := ix.users
	if key.kind == groupSubject {
		m = ix.groups
	}
	sg := m[key.name]
	if sg == nil {
		sg = &subjectGrants{}
		m[key.name] = sg
	}
	if namespace == "" {
		if sg.cluster == nil {
			sg.cluster = &pspSet{}
		}
		return sg.cluster
	}
	if sg.byNamespace == nil {
		sg.byNamespace = map[string]*pspSet{}
	}
	set := sg.byNamespace[namespace]
	if set == nil {
		set = &pspSet{}
		sg.byNamespace[namespace] = set
	}
	return set
}

// ruleGrantsUse reports whether a rule allows `use` of PSPs, and which ones
// (nil = all). It mirrors RuleAllows in the v1.24 RBAC authorizer for the
// attributes PSP admission builds: the verb must be "use" or "*"; one API
// group "policy", "extensions" (the plugin asks for both) or "*"; the
// resource exactly "podsecuritypolicies" or "*" (the request has no
// subresource, so "podsecuritypolicies/status" and "*/x" never match); and
// resourceNames, when set, must contain the PSP's name.
func ruleGrantsUse(r *rbacv1.PolicyRule) (names []string, ok bool) {
	if !containsAny(r.Verbs, useVerb, rbacv1.VerbAll) ||
		!containsAny(r.APIGroups, policyGroup, extensionsGroup, rbacv1.APIGroupAll) ||
		!containsAny(r.Resources, pspResource, rbacv1.ResourceAll) {
		return nil, false
	}
	if len(r.ResourceNames) == 0 {
		return nil, true
	}
	return r.ResourceNames, true
}

func containsAny(list []string, want ...string) bool {
	for _, s := range list {
		if slices.Contains(want, s) {
			return true
		}
	}
	return false
}

// keyForSubject maps a binding subject to the identity it matches, as
// appliesToUser in the v1.24 authorizer does:
//   - User matches the user name, Group any of the user's groups.
//   - ServiceAccount matches the user name
//     system:serviceaccount:<namespace>:<name>; an empty namespace means the
//     RoleBinding's namespace, and in a ClusterRoleBinding such a subject
//     matches nobody.
//   - Other kinds match nobody. subject.apiGroup is not checked by the
//     authorizer (the API server validates it on write), so it is ignored.
func keyForSubject(s *rbacv1.Subject, bindingNamespace string) (subjectKey, bool) {
	switch s.Kind {
	case rbacv1.UserKind:
		return subjectKey{userSubject, s.Name}, true
	case rbacv1.GroupKind:
		return subjectKey{groupSubject, s.Name}, true
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return subjectKey{}, false
		}
		return subjectKey{userSubject, ServiceAccountUsername(ns, s.Name)}, true
	}
	return subjectKey{}, false
}

// CanUse reports whether u may `use` the named PSP in namespace.
//
// A member of system:masters may use every PSP: kube-apiserver's authorizer
// chain allows that group everything before RBAC is asked. An empty
// namespace consults ClusterRoleBindings only, as the authorizer does.
func (ix *Index) CanUse(u User, namespace, pspName string) bool {
	if slices.Contains(u.Groups, SystemMasters) {
		return true
	}
	if ix.users[u.Name].canUse(namespace, pspName) {
		return true
	}
	for _, g := range u.Groups {
		if ix.groups[g].canUse(namespace, pspName) {
			return true
		}
	}
	return false
}

func (sg *subjectGrants) canUse(namespace, pspName string) bool {
	if sg == nil {
		return false
	}
	if sg.cluster.allows(pspName) {
		return true
	}
	return namespace != "" && sg.byNamespace[namespace].allows(pspName)
}

// Grants explains why: every (binding, role, rule) that grants u `use` of pspName in namespace (for the report and for debugging).
//
// Grants lists RBAC grants only: a system:masters member may use every PSP
// (CanUse is true) without any. The result is sorted ClusterRoleBindings
// first, as the authorizer visits them, then by namespace, name and rule.
func (ix *Index) Grants(u User, namespace, pspName string) []Grant {
	keys := make([]subjectKey, 0, 1+len(u.Groups))
	keys = append(keys, subjectKey{userSubject, u.Name})
	for _, g := range u.Groups {
		keys = append(keys, subjectKey{groupSubject, g})
	}
	var found []*source
	for _, k := range keys {
		sg := ix.lookup(k)
		if sg == nil {
			continue
		}
		found = appendCovering(found, sg.cluster, pspName)
		if namespace != "" {
			found = appendCovering(found, sg.byNamespace[namespace], pspName)
		}
	}
	return grantsOf(found)
}

func appendCovering(dst []*source, set *pspSet, pspName string) []*source {
	if set == nil {
		return dst
	}
	for i := range set.sources {
		if set.sources[i].covers(pspName) {
			dst = append(dst, &set.sources[i])
		}
	}
	return dst
}

// grantsOf turns sources into sorted grants, one per (binding, rule): when
// several subjects of one binding match the identity, the first in the
// binding's list is reported, as the authorizer does.
func grantsOf(found []*source) []Grant {
	type bindingRule struct {
		b    *bindingInfo
		rule int
	}
	first := map[bindingRule]*source{}
	for _, s := range found {
		k := bindingRule{s.binding, s.ruleIndex}
		if prev, ok := first[k]; !ok || s.subjectIndex < prev.subjectIndex {
			first[k] = s
		}
	}
	if len(first) == 0 {
		return nil
	}
	out := make([]Grant, 0, len(first))
	for _, s := range first {
		out = append(out, s.grant())
	}
	slices.SortFunc(out, compareGrants)
	return out
}

func compareGrants(a, b Grant) int {
	// ClusterRoleBinding sorts before RoleBinding, as the authorizer visits them.
	return cmp.Or(
		cmp.Compare(a.BindingKind, b.BindingKind),
		cmp.Compare(a.BindingNamespace, b.BindingNamespace),
		cmp.Compare(a.BindingName, b.BindingName),
		cmp.Compare(a.RuleIndex, b.RuleIndex),
	)
}
