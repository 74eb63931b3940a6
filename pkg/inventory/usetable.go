package inventory

import (
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// RBACIndex resolves the inventory's RBAC objects into an index of `use`
// grants.
func (inv *Inventory) RBACIndex() *rbac.Index {
	return rbac.NewIndex(inv.ClusterRoles, inv.ClusterRoleBindings, inv.Roles, inv.RoleBindings)
}

// UseTable says who may use each of psps, from ix (the inventory's
// RBACIndex). It is the one answer the audit's admission model and the
// converted policies share.
func (inv *Inventory) UseTable(ix *rbac.Index, psps []string) rbac.UseTable {
	namespaces, accounts := inv.identities()
	return ix.UseTable(psps, namespaces, accounts)
}

// identities lists the namespaces and "namespace/serviceaccount" names the
// inventory's objects mention: Namespace objects, service accounts, and the
// service accounts of pods and templates. The index adds those its bindings
// name.
func (inv *Inventory) identities() (namespaces, accounts []string) {
	for i := range inv.Namespaces {
		namespaces = append(namespaces, inv.Namespaces[i].Name)
	}
	for i := range inv.ServiceAccounts {
		accounts = append(accounts, inv.ServiceAccounts[i].Namespace+"/"+inv.ServiceAccounts[i].Name)
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		accounts = append(accounts, p.Namespace+"/"+rbac.PodServiceAccountName(&p.Spec))
	}
	for _, t := range inv.PodTemplates() {
		if t.Template != nil {
			accounts = append(accounts, t.Meta.Namespace+"/"+rbac.PodServiceAccountName(&t.Template.Spec))
		}
	}
	return namespaces, accounts
}
