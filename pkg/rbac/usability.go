package rbac

import (
	"maps"
	"slices"
	"strings"
)

// Usability is who may use one PSP, resolved once from the Index: the one
// answer both the audit's admission model and the converted policies read,
// so the two cannot disagree about a grant.
//
// PSP admission lets a pod use a PSP when its service account (as
// PodServiceAccountUser: no system:authenticated) OR the requesting user may
// `use` it in the pod's namespace. Usability keeps the two sides apart
// because a converted policy sees them differently: the service account in
// the pod, the requester in the admission request's userInfo.
//
// A grant to system:authenticated reaches every requester, so it counts for
// every pod of the namespaces it covers: it is folded into Everywhere and
// Namespaces (and Authenticated says so), not listed in Requesters.
type Usability struct {
	// Everywhere: every pod in every namespace may use the PSP, through a
	// cluster-wide grant to every service account or to every
	// authenticated user.
	Everywhere bool `json:"everywhere,omitempty"`
	// Namespaces whose every pod may use the PSP, beyond Everywhere.
	Namespaces []string `json:"namespaces,omitempty"`
	// ServiceAccounts "namespace/name" whose pods may use it, beyond
	// Namespaces.
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
	// Authenticated lists where the grant to system:authenticated holds:
	// "*" for every namespace, else namespace names. It is already part of
	// Everywhere and Namespaces; it is kept to explain them.
	Authenticated []string `json:"authenticated,omitempty"`
	// Requesters are the grants that reach a pod through who creates it:
	// users, groups other than system:authenticated, and service accounts
	// acting as requesters (controllers, CI). Some may add nothing to the
	// pod side for pods that have a service account (every pod but mirror
	// pods); renderers leave those out.
	Requesters []RequesterGrant `json:"requesters,omitempty"`
}

// RequesterGrant lets one user or group use a PSP when it creates a pod.
type RequesterGrant struct {
	// Kind is "User" (service accounts included, under their user name
	// system:serviceaccount:<ns>:<name>) or "Group".
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Namespaces where the grant holds; empty means every namespace.
	Namespaces []string `json:"namespaces,omitempty"`
}

// Everywhere reports whether the grant holds in every namespace.
func (g RequesterGrant) Everywhere() bool { return len(g.Namespaces) == 0 }

// Matches reports whether u is the grant's subject and namespace in its scope.
func (g RequesterGrant) Matches(u *User, namespace string) bool {
	if !g.Everywhere() && !slices.Contains(g.Namespaces, namespace) {
		return false
	}
	if g.Kind == "Group" {
		return slices.Contains(u.Groups, g.Name)
	}
	return u.Name == g.Name
}

// String renders the grant for messages, e.g. `User "alice" in team-a`.
func (g RequesterGrant) String() string {
	s := g.Kind + " " + g.Name
	if g.Everywhere() {
		return s + " (every namespace)"
	}
	return s + " (in " + strings.Join(g.Namespaces, ", ") + ")"
}

// PodServiceAccount reports whether a pod whose service account is sa in
// namespace may use the PSP through the pod side alone (which includes
// grants to system:authenticated: every requester has that group).
func (u *Usability) PodServiceAccount(namespace, sa string) bool {
	if u.Everywhere || slices.Contains(u.Namespaces, namespace) {
		return true
	}
	return slices.Contains(u.ServiceAccounts, namespace+"/"+sa)
}

// Requester reports whether requester may use the PSP in namespace through
// a grant of its own. A member of system:masters may use every PSP, as the
// API server's privileged-group authorizer allows it everything before RBAC.
func (u *Usability) Requester(namespace string, requester *User) bool {
	if requester == nil {
		return false
	}
	if slices.Contains(requester.Groups, SystemMasters) {
		return true
	}
	for i := range u.Requesters {
		if u.Requesters[i].Matches(requester, namespace) {
			return true
		}
	}
	return false
}

// Usable is PSP admission's question: may a pod with service account sa in
// namespace, created by requester, use the PSP? An empty sa is a pod
// without one (a mirror pod): only the requester counts. A nil requester
// is Unknown().
//
// The requester always counts as authenticated, whatever its groups say:
// every request that can create a pod is, and the grants to
// system:authenticated are part of the pod side.
func (u *Usability) Usable(namespace, sa string, requester *User) bool {
	if sa == "" {
		return u.authenticatedIn(namespace) || u.Requester(namespace, requester)
	}
	return u.PodServiceAccount(namespace, sa) || u.Requester(namespace, requester)
}

func (u *Usability) authenticatedIn(namespace string) bool {
	return slices.Contains(u.Authenticated, "*") || slices.Contains(u.Authenticated, namespace)
}

// Empty reports whether nobody may use the PSP (system:masters aside).
func (u *Usability) Empty() bool {
	return !u.Everywhere && len(u.Namespaces) == 0 && len(u.ServiceAccounts) == 0 && len(u.Requesters) == 0
}

// Unknown is the requester assumed for a pod whose creator is unknown: a
// bare pod, or one made by a controller the model does not know. Whoever
// it is, it is authenticated; grants to particular users or groups may
// add to what it may use.
func Unknown() *User {
	return &User{Name: unknownUser, Groups: []string{AllAuthenticated}}
}

// unknownUser names no real user: a NUL byte is invalid in every name a
// binding can hold, so no User grant matches it.
const unknownUser = "\x00unknown"

// ghost is a namespace and service account name no RBAC object can name,
// used to ask the index what an arbitrary, unnamed one may do.
const ghost = "\x00"

// UseTable is the Usability of each PSP, by name.
type UseTable map[string]*Usability

// CanUse answers PSP admission's question for one PSP (false for a PSP the
// table does not know).
func (t UseTable) CanUse(pspName, namespace, sa string, requester *User) bool {
	u, ok := t[pspName]
	return ok && u.Usable(namespace, sa, requester)
}

// UseTable resolves, for each of psps, who may use it. namespaces and
// accounts ("namespace/name") are the ones the caller knows of (from
// Namespace objects, service accounts, pods and templates); the index adds
// every namespace and service account its bindings name, so that the table
// answers for any namespace and service account exactly as CanUse would:
//
//	t.CanUse(psp, ns, sa, r) == ix.CanUse(PodServiceAccountUser(ns, sa), ns, psp) || ix.CanUse(*r, ns, psp)
//
// for every ns, sa and authenticated requester r (see the tests).
func (ix *Index) UseTable(psps []string, namespaces, accounts []string) UseTable {
	nsList, saList := ix.candidates(namespaces, accounts)
	// What does not depend on the PSP is made once, not once per PSP: the
	// subjects in order, and the identities of every candidate account.
	users, groups := sortedKeys(ix.users), sortedKeys(ix.groups)
	nsOf := subjectNamespaces{}
	nsUsers := make([]User, len(nsList))
	for i, ns := range nsList {
		nsUsers[i] = PodServiceAccountUser(ns, ghost)
	}
	// An account's groups are those of any account of its namespace (the
	// ghost's): where they do not grant the PSP (the namespace is not
	// whole), only a grant to the account itself can.
	type account struct {
		ns  string
		own *subjectGrants
	}
	saUsers := make([]account, len(saList))
	for i, sa := range saList {
		ns, n, _ := strings.Cut(sa, "/")
		saUsers[i] = account{ns, ix.users[ServiceAccountUsername(ns, n)]}
	}
	out := make(UseTable, len(psps))
	for _, name := range psps {
		u := &Usability{}
		out[name] = u
		auth := ix.groups[AllAuthenticated]
		switch {
		case ix.CanUse(PodServiceAccountUser(ghost, ghost), ghost, name):
			u.Everywhere = true
		case auth != nil && auth.cluster.allows(name):
			u.Everywhere = true
		}
		if auth != nil && auth.cluster.allows(name) {
			u.Authenticated = []string{"*"}
		}
		u.Requesters = ix.requesterGrants(name, users, groups, nsOf)
		if u.Everywhere {
			continue
		}
		whole := map[string]bool{}
		for i, ns := range nsList {
			if ix.CanUse(nsUsers[i], ns, name) || auth.canUse(ns, name) {
				u.Namespaces = append(u.Namespaces, ns)
				whole[ns] = true
			}
			if auth != nil && auth.byNamespace[ns].allows(name) {
				u.Authenticated = append(u.Authenticated, ns)
			}
		}
		for i, sa := range saList {
			a := &saUsers[i]
			if !whole[a.ns] && a.own.canUse(a.ns, name) {
				u.ServiceAccounts = append(u.ServiceAccounts, sa)
			}
		}
	}
	return out
}

// requesterGrants lists the subjects that may use pspName, by where, less
// system:authenticated (folded into the pod side). users and groups are
// the index's subject names, sorted.
func (ix *Index) requesterGrants(pspName string, users, groups []string, nsOf subjectNamespaces) []RequesterGrant {
	var out []RequesterGrant
	add := func(kind string, m map[string]*subjectGrants, names []string) {
		for _, name := range names {
			if kind == "Group" && name == AllAuthenticated {
				continue
			}
			sg := m[name]
			g := RequesterGrant{Kind: kind, Name: name}
			if !sg.cluster.allows(pspName) {
				for _, ns := range nsOf.sorted(sg) {
					if sg.byNamespace[ns].allows(pspName) {
						g.Namespaces = append(g.Namespaces, ns)
					}
				}
				if len(g.Namespaces) == 0 {
					continue
				}
			}
			out = append(out, g)
		}
	}
	add("User", ix.users, users)
	add("Group", ix.groups, groups)
	return out
}

// subjectNamespaces remembers each subject's namespaces in order, sorted
// once for every PSP that asks.
type subjectNamespaces map[*subjectGrants][]string

func (m subjectNamespaces) sorted(sg *subjectGrants) []string {
	ns, ok := m[sg]
	if !ok {
		ns = sortedKeys(sg.byNamespace)
		m[sg] = ns
	}
	return ns
}

// candidates adds to the caller's namespaces and service accounts those the
// index's bindings name, sorted: binding namespaces, service account
// subjects, and the groups system:serviceaccounts:<ns>. Every namespace's
// "default" account is a candidate, since it exists wherever pods run.
func (ix *Index) candidates(namespaces, accounts []string) (nsList, saList []string) {
	nsSet, saSet := map[string]bool{}, map[string]bool{}
	for _, ns := range namespaces {
		if ns != "" {
			nsSet[ns] = true
		}
	}
	for _, sa := range accounts {
		if ns, n, ok := strings.Cut(sa, "/"); ok && ns != "" && n != "" {
			nsSet[ns] = true
			saSet[sa] = true
		}
	}
	for name, sg := range ix.users {
		if rest, ok := strings.CutPrefix(name, serviceAccountUsernamePrefix); ok {
			if ns, n, ok := strings.Cut(rest, ":"); ok && ns != "" && n != "" {
				nsSet[ns] = true
				saSet[ns+"/"+n] = true
			}
		}
		for ns := range sg.byNamespace {
			nsSet[ns] = true
		}
	}
	for name, sg := range ix.groups {
		if ns, ok := strings.CutPrefix(name, serviceAccountGroupPrefix); ok && ns != "" {
			nsSet[ns] = true
		}
		for ns := range sg.byNamespace {
			nsSet[ns] = true
		}
	}
	for ns := range nsSet {
		saSet[ns+"/default"] = true
	}
	return sortedKeys(nsSet), sortedKeys(saSet)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// CompiledUseTable answers UseTable.CanUse with map lookups instead of
// scans of each PSP's namespaces, accounts and requester grants: the
// admission model asks once per PSP for every namespace, service account
// and requester it meets, which on a cluster with thousands of bindings
// was a tenth of a live audit's CPU. It is built from a table that is not
// changed afterwards, and is safe for concurrent use.
type CompiledUseTable map[string]*compiledUsability

type compiledUsability struct {
	everywhere      bool
	namespaces      map[string]bool
	serviceAccounts map[string]map[string]bool // namespace → name
	authenticated   map[string]bool            // "*" or namespace
	users, groups   map[string]*grantScope
}

// grantScope is where one subject's grants hold: everywhere, or in these
// namespaces.
type grantScope struct {
	everywhere bool
	namespaces map[string]bool
}

func (s *grantScope) holds(namespace string) bool {
	return s != nil && (s.everywhere || s.namespaces[namespace])
}

// Compile indexes t for CanUse.
func (t UseTable) Compile() CompiledUseTable {
	out := make(CompiledUseTable, len(t))
	for name, u := range t {
		c := &compiledUsability{
			everywhere:      u.Everywhere,
			namespaces:      setOf(u.Namespaces),
			serviceAccounts: map[string]map[string]bool{},
			authenticated:   setOf(u.Authenticated),
			users:           map[string]*grantScope{},
			groups:          map[string]*grantScope{},
		}
		for _, sa := range u.ServiceAccounts {
			ns, n, _ := strings.Cut(sa, "/")
			if c.serviceAccounts[ns] == nil {
				c.serviceAccounts[ns] = map[string]bool{}
			}
			c.serviceAccounts[ns][n] = true
		}
		for _, g := range u.Requesters {
			m := c.users
			if g.Kind == "Group" {
				m = c.groups
			}
			// A subject listed twice holds where either entry does.
			s := m[g.Name]
			if s == nil {
				s = &grantScope{namespaces: map[string]bool{}}
				m[g.Name] = s
			}
			s.everywhere = s.everywhere || g.Everywhere()
			for _, ns := range g.Namespaces {
				s.namespaces[ns] = true
			}
		}
		out[name] = c
	}
	return out
}

// CanUse answers as UseTable.CanUse does.
func (t CompiledUseTable) CanUse(pspName, namespace, sa string, requester *User) bool {
	c, ok := t[pspName]
	if !ok {
		return false
	}
	if sa == "" {
		if c.authenticated["*"] || c.authenticated[namespace] {
			return true
		}
	} else if c.everywhere || c.namespaces[namespace] || c.serviceAccounts[namespace][sa] {
		return true
	}
	if requester == nil {
		return false
	}
	if c.users[requester.Name].holds(namespace) {
		return true
	}
	for _, g := range requester.Groups {
		if g == SystemMasters || c.groups[g].holds(namespace) {
			return true
		}
	}
	return false
}

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}
