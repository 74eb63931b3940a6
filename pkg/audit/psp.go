package audit

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// creatorKind is the controller kind whose identity creates the pods of a
// workload kind: Deployments' pods come from the ReplicaSet controller,
// CronJobs' from the Job controller.
func creatorKind(kind string) string {
	switch kind {
	case "Deployment":
		return "ReplicaSet"
	case "CronJob":
		return "Job"
	}
	return kind
}

// requester is who creates the pods of an owner kind: the controller's
// identity for the built-in controllers; for a bare pod, or a controller
// the model does not know (an operator's own kind), an unknown
// authenticated user (rbac.Unknown): grants to system:authenticated reach
// it, grants to particular users do not.
func requester(ownerKind string, mode rbac.ControllerIdentityMode) *rbac.User {
	u, ok := rbac.ControllerUser(creatorKind(ownerKind), mode)
	if !ok {
		return rbac.Unknown()
	}
	return &u
}

// podRequester is who created a stored pod: its controller, or the kubelet
// for a mirror pod.
func podRequester(p *corev1.Pod, mode rbac.ControllerIdentityMode) *rbac.User {
	if isStatic(p) {
		if u := nodeUser(p); u != nil {
			return u
		}
	}
	kind := ""
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		kind = ref.Kind
	}
	return requester(kind, mode)
}

// nodeUser is the kubelet's identity, which creates the mirror pods of
// static pods (Node authorizer naming: system:node:<name> in system:nodes).
func nodeUser(p *corev1.Pod) *rbac.User {
	node := p.Spec.NodeName
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.Kind == "Node" {
		node = ref.Name
	}
	if node == "" {
		return nil
	}
	return &rbac.User{Name: "system:node:" + node, Groups: []string{"system:nodes", "system:authenticated"}}
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
