package translate

import (
	"slices"
	"sort"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// Usability says which pods may use one PSP under ScopeRBAC: those whose
// service account could `use` it in the pod's namespace. The table is what
// gets rendered into the policy, and what the Go evaluator reads, so both
// decide alike.
type Usability struct {
	// Everywhere: every service account in every namespace (a grant to
	// the group system:serviceaccounts through a ClusterRoleBinding).
	Everywhere bool `json:"everywhere,omitempty"`
	// Namespaces whose every service account may use the PSP.
	Namespaces []string `json:"namespaces,omitempty"`
	// ServiceAccounts "namespace/name" that may use it, beyond Namespaces.
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
}

// Usable reports whether service account sa in namespace may use the PSP.
func (u Usability) Usable(namespace, sa string) bool {
	if u.Everywhere || slices.Contains(u.Namespaces, namespace) {
		return true
	}
	return slices.Contains(u.ServiceAccounts, namespace+"/"+sa)
}

// ghost is a namespace and service account name no RBAC object can name (a
// NUL byte is invalid in every Kubernetes name), used to ask the index what
// an arbitrary, unnamed service account may do.
const ghost = "\x00"

// usabilityTable resolves, for each PSP, who may use it, from the RBAC
// objects of inv through rbac.Index — the same authorizer model the audit
// uses. It asks about the pod's service account only, with the groups PSP
// admission gave it (rbac.PodServiceAccountUser: system:serviceaccounts and
// system:serviceaccounts:<ns>, not system:authenticated).
//
// A grant can name service accounts and namespaces that have no objects yet,
// so the candidates come from the bindings' subjects as well as from the
// namespaces, service accounts and pods in inv; every candidate is then
// decided by Index.CanUse.
func usabilityTable(inv *inventory.Inventory, ix *rbac.Index, psps []string) map[string]Usability {
	namespaces, accounts := candidates(inv)
	out := make(map[string]Usability, len(psps))
	for _, name := range psps {
		var u Usability
		if ix.CanUse(rbac.PodServiceAccountUser(ghost, ghost), ghost, name) {
			out[name] = Usability{Everywhere: true}
			continue
		}
		for _, ns := range namespaces {
			if ix.CanUse(rbac.PodServiceAccountUser(ns, ghost), ns, name) {
				u.Namespaces = append(u.Namespaces, ns)
			}
		}
		for _, sa := range accounts {
			ns, n, _ := strings.Cut(sa, "/")
			if !slices.Contains(u.Namespaces, ns) && ix.CanUse(rbac.PodServiceAccountUser(ns, n), ns, name) {
				u.ServiceAccounts = append(u.ServiceAccounts, sa)
			}
		}
		out[name] = u
	}
	return out
}

// candidates lists every namespace and "namespace/serviceaccount" inv
// mentions, sorted: Namespace objects, objects' namespaces, service
// accounts, pods' and templates' service accounts, binding subjects, and
// the groups system:serviceaccounts:<ns>. Every namespace's "default"
// account is a candidate, since it exists wherever pods can run.
func candidates(inv *inventory.Inventory) (namespaces, accounts []string) {
	nsSet, saSet := map[string]bool{}, map[string]bool{}
	addNS := func(ns string) {
		if ns != "" {
			nsSet[ns] = true
		}
	}
	addSA := func(ns, name string) {
		if ns != "" && name != "" {
			nsSet[ns] = true
			saSet[ns+"/"+name] = true
		}
	}
	for i := range inv.Namespaces {
		addNS(inv.Namespaces[i].Name)
	}
	for i := range inv.ServiceAccounts {
		addSA(inv.ServiceAccounts[i].Namespace, inv.ServiceAccounts[i].Name)
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		addSA(p.Namespace, rbac.PodServiceAccountName(&p.Spec))
	}
	for _, t := range inv.PodTemplates() {
		if t.Template != nil {
			addSA(t.Meta.Namespace, rbac.PodServiceAccountName(&t.Template.Spec))
		}
	}
	for i := range inv.RoleBindings {
		rb := &inv.RoleBindings[i]
		addNS(rb.Namespace)
		for _, s := range rb.Subjects {
			addSubject(s.Kind, s.Namespace, s.Name, rb.Namespace, addNS, addSA)
		}
	}
	for i := range inv.ClusterRoleBindings {
		for _, s := range inv.ClusterRoleBindings[i].Subjects {
			addSubject(s.Kind, s.Namespace, s.Name, "", addNS, addSA)
		}
	}
	for ns := range nsSet {
		saSet[ns+"/default"] = true
	}
	return sortedKeys(nsSet), sortedKeys(saSet)
}

func addSubject(kind, namespace, name, bindingNamespace string, addNS func(string), addSA func(string, string)) {
	switch kind {
	case "ServiceAccount":
		if namespace == "" {
			namespace = bindingNamespace
		}
		addSA(namespace, name)
	case "Group":
		if ns, ok := strings.CutPrefix(name, "system:serviceaccounts:"); ok {
			addNS(ns)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
