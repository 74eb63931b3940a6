package translate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// ghost is a service account name no RBAC object can name (a NUL byte is
// invalid in every Kubernetes name): it stands for every account of a
// namespace that no binding names.
const ghost = "\x00"

// requesterGrants are the requester-side grants of u that a converted
// policy must express through the admission request's userInfo: none when
// every pod may use the PSP anyway, and none that only repeat namespaces
// whose every pod may use it.
//
// Grants to system:masters are not converted (see below).
//
// A grant to a service account is converted for the pods that run as it
// (the pod side), not for the pods that account creates under other
// accounts: such grants are nearly always meant for the account's own
// pods, and rendering both would double every grant. The exception is a
// controller's identity, which creates pods for everyone: that grant is a
// requester grant by nature, and is kept (and warned about).
func requesterGrants(u *rbac.Usability) []rbac.RequesterGrant {
	if u == nil || u.Everywhere {
		return nil
	}
	var out []rbac.RequesterGrant
	for _, g := range u.Requesters {
		if g.Kind == "User" && strings.HasPrefix(g.Name, "system:serviceaccount:") && rbac.ControllerKind(g.Name) == "" {
			continue
		}
		// Every cluster binds cluster-admin, whose wildcard rule reaches
		// every PSP, to system:masters: converting that would exempt every
		// administrator from every converted policy.
		if g.Kind == "Group" && g.Name == rbac.SystemMasters {
			continue
		}
		if !g.Everywhere() {
			var nss []string
			for _, ns := range g.Namespaces {
				if !slices.Contains(u.Namespaces, ns) {
					nss = append(nss, ns)
				}
			}
			if len(nss) == 0 {
				continue
			}
			g.Namespaces = nss
		}
		out = append(out, g)
	}
	return out
}

// requesterWarnings says, for renderers that express requester grants, which
// PSPs now depend on who creates a pod: such a policy admits a pod for one
// user and rejects the same pod for another, as PSP admission did.
func requesterWarnings(set *PolicySet) []string {
	return forRequesterGrants(set, func(name string, grants []rbac.RequesterGrant) string {
		return fmt.Sprintf("PodSecurityPolicy %q is granted to requesters %s: the converted policy lets the pods they create use it, through the request's userInfo, as PSP admission did%s",
			name, grantList(grants), controllerNote(grants))
	})
}

// requesterIgnoredWarnings is the warning of renderers whose engine cannot
// select pods by requester: those grants are not converted; consequence
// says what that means for the engine.
func requesterIgnoredWarnings(set *PolicySet, consequence string) []string {
	return forRequesterGrants(set, func(name string, grants []rbac.RequesterGrant) string {
		return fmt.Sprintf("PodSecurityPolicy %q is granted to requesters %s; %s", name, grantList(grants), consequence)
	})
}

// forRequesterGrants calls message for each PSP with requester grants to
// convert, under ScopeRBAC.
func forRequesterGrants(set *PolicySet, message func(name string, grants []rbac.RequesterGrant) string) []string {
	if set.Options.Scope != ScopeRBAC {
		return nil
	}
	var out []string
	for i := range set.Policies {
		name := set.Policies[i].Name
		if grants := requesterGrants(set.Usability[name]); len(grants) > 0 {
			out = append(out, message(name, grants))
		}
	}
	return out
}

func grantList(grants []rbac.RequesterGrant) string {
	s := make([]string, len(grants))
	for i, g := range grants {
		s[i] = g.String()
	}
	return strings.Join(s, ", ")
}

// controllerNote flags grants that reach a controller identity: every pod
// that controller creates may then use the PSP, whatever its service
// account (the audit lists these as dangerous grants).
func controllerNote(grants []rbac.RequesterGrant) string {
	for _, g := range grants {
		if g.Kind == "User" {
			if kind := rbac.ControllerKind(g.Name); kind != "" {
				return fmt.Sprintf("; %s is the %s controller's identity, so every pod that controller creates may use it (see the audit's dangerousGrants)", g.Name, kind)
			}
			continue
		}
		u, _ := rbac.ControllerUser("ReplicaSet", rbac.ControllerServiceAccounts)
		if slices.Contains(u.Groups, g.Name) {
			return fmt.Sprintf("; every controller running as a service account is in group %s, so every pod the controllers create may use it (see the audit's dangerousGrants)", g.Name)
		}
	}
	return ""
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
