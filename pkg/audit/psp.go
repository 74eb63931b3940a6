package audit

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// pspModel answers, per pod and per template, what PSP admission does with
// it today. It is nil when no PSP is in play (a 1.25+ cluster and no PSP
// files), so reports carry `psp: null` rather than a verdict of "rejected
// because no PSP exists".
type pspModel struct {
	eval     *pspadmission.Evaluator
	use      rbac.UseTable
	accounts map[string]*corev1.ServiceAccount
}

func newPSPModel(inv *inventory.Inventory, accounts map[string]*corev1.ServiceAccount) (*pspModel, []pspadmission.InvalidPSP, *rbac.Index) {
	if !inv.PSPAPIServed && len(inv.PodSecurityPolicies) == 0 {
		return nil, nil, nil
	}
	ix := inv.RBACIndex()
	var opts []pspadmission.Option
	if inv.RuntimeClassesKnown {
		opts = append(opts, pspadmission.WithRuntimeClassObjects(inv.RuntimeClasses...))
	}
	names := make([]string, len(inv.PodSecurityPolicies))
	for i := range inv.PodSecurityPolicies {
		names[i] = inv.PodSecurityPolicies[i].Name
	}
	// The same table the converted policies are rendered from.
	table := inv.UseTable(ix, names)
	ev, invalid := pspadmission.NewEvaluator(inv.PodSecurityPolicies, table.Compile(), opts...)
	return &pspModel{eval: ev, use: table, accounts: accounts}, invalid, ix
}

func (m *pspModel) serviceAccount(namespace string, spec *corev1.PodSpec) *corev1.ServiceAccount {
	return m.accounts[namespace+"/"+rbac.PodServiceAccountName(spec)]
}

// pod evaluates a pod created by requester. A stored pod
// (pspadmission.Stored) is evaluated as it is, and its reliance on mutation
// found by comparing it with the template it was made from. A pod not yet
// created is evaluated as submitted: prepared is pspadmission.Prepare's
// view of it (nil for a stored pod), and nothing has mutated it yet.
func (m *pspModel) pod(p, prepared *corev1.Pod, template *pspadmission.TemplateBaseline, requester *rbac.User) *pspadmission.Result {
	stored := prepared == nil
	if stored {
		prepared = p
	}
	res := m.eval.Evaluate(pspadmission.Request{
		Pod:            prepared,
		Prepared:       true,
		Requester:      requester,
		ServiceAccount: m.serviceAccount(p.Namespace, &p.Spec),
	})
	v := &res
	if stored && template != nil {
		if rel := template.Reliance(p); len(rel) > 0 {
			v.MutatedFields = append(v.MutatedFields, rel...)
			v.Mutated = true
		}
	}
	return v
}

// template evaluates a controller's pod template as the pod its controller
// (requester) would submit; prepared is that pod after API defaulting and
// ServiceAccount admission (pspadmission.Prepare).
func (m *pspModel) template(prepared *corev1.Pod, requester *rbac.User) *pspadmission.Result {
	res := m.eval.Evaluate(pspadmission.Request{
		Pod:            prepared,
		Prepared:       true,
		Requester:      requester,
		ServiceAccount: m.serviceAccount(prepared.Namespace, &prepared.Spec),
	})
	return &res
}
