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
	mode     rbac.ControllerIdentityMode
	accounts map[string]*corev1.ServiceAccount
}

func newPSPModel(inv *inventory.Inventory, mode rbac.ControllerIdentityMode) (*pspModel, []pspadmission.InvalidPSP, *rbac.Index) {
	if !inv.PSPAPIServed && len(inv.PodSecurityPolicies) == 0 {
		return nil, nil, nil
	}
	ix := rbac.NewIndex(inv.ClusterRoles, inv.ClusterRoleBindings, inv.Roles, inv.RoleBindings)
	var opts []pspadmission.Option
	if inv.RuntimeClassesKnown {
		opts = append(opts, pspadmission.WithRuntimeClassObjects(inv.RuntimeClasses...))
	}
	ev, invalid := pspadmission.NewEvaluator(inv.PodSecurityPolicies, ix.CanUse, opts...)
	m := &pspModel{eval: ev, mode: mode, accounts: make(map[string]*corev1.ServiceAccount, len(inv.ServiceAccounts))}
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

func (m *pspModel) requester(ownerKind string) *rbac.User {
	if ownerKind == "" || ownerKind == "Node" {
		// A bare pod's creator is unknown: only its service account counts,
		// which is also what any replacement policy will see.
		return nil
	}
	u, ok := rbac.ControllerUser(creatorKind(ownerKind), m.mode)
	if !ok {
		return nil
	}
	return &u
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

// pod evaluates a stored pod, and its reliance on mutation by comparing it
// with the template it was made from.
func (m *pspModel) pod(p *corev1.Pod, template *pspadmission.TemplateBaseline) *report.PSPVerdict {
	var requester *rbac.User
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		requester = m.requester(ref.Kind)
	}
	if isStatic(p) {
		requester = nodeUser(p)
	}
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
// would submit: before API defaulting and ServiceAccount admission.
func (m *pspModel) template(kind, namespace string, t *corev1.PodTemplateSpec) *report.PSPVerdict {
	pod := &corev1.Pod{ObjectMeta: *t.ObjectMeta.DeepCopy(), Spec: t.Spec}
	pod.Namespace = namespace
	res := m.eval.Evaluate(pspadmission.Request{
		Pod:            pod,
		Requester:      m.requester(kind),
		ServiceAccount: m.serviceAccount(namespace, &t.Spec),
	})
	return &res
}
