package audit

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
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

func newPSPModel(inv *inventory.Inventory) (*pspModel, []pspadmission.InvalidPSP, *rbac.Index) {
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
	ev, invalid := pspadmission.NewEvaluator(inv.PodSecurityPolicies, table, opts...)
	m := &pspModel{eval: ev, use: table, accounts: make(map[string]*corev1.ServiceAccount, len(inv.ServiceAccounts))}
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		m.accounts[sa.Namespace+"/"+sa.Name] = sa
	}
	return m, invalid, ix
}

func (m *pspModel) serviceAccount(namespace string, spec *corev1.PodSpec) *corev1.ServiceAccount {
	return m.accounts[namespace+"/"+rbac.PodServiceAccountName(spec)]
}

// pod evaluates a stored pod created by requester, and its reliance on
// mutation by comparing it with the template it was made from.
func (m *pspModel) pod(p *corev1.Pod, template *pspadmission.TemplateBaseline, requester *rbac.User) *report.PSPVerdict {
	res := m.eval.Evaluate(pspadmission.Request{
		Pod:            p,
		Prepared:       true,
		Requester:      requester,
		ServiceAccount: m.serviceAccount(p.Namespace, &p.Spec),
	})
	v := &res
	if template != nil {
		if rel := template.Reliance(p); len(rel) > 0 {
			v.MutatedFields = append(v.MutatedFields, rel...)
			v.Mutated = true
		}
	}
	return v
}

// template evaluates a controller's pod template as the pod its controller
// (requester) would submit: before API defaulting and ServiceAccount
// admission.
func (m *pspModel) template(namespace string, t *corev1.PodTemplateSpec, requester *rbac.User) *report.PSPVerdict {
	pod := &corev1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: t.Spec}
	pod.Namespace = namespace
	res := m.eval.Evaluate(pspadmission.Request{
		Pod:            pod,
		Requester:      requester,
		ServiceAccount: m.serviceAccount(namespace, &t.Spec),
	})
	return &res
}
