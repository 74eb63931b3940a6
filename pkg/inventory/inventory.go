// Package inventory gathers the cluster objects an audit needs — PSPs, RBAC,
// service accounts, namespaces, pods and the controllers that own pods —
// from a live cluster or from manifest files, into one typed snapshot.
package inventory

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Inventory is a snapshot of everything the audit reads. Every slice is
// sorted by namespace and name so reports are stable whatever the source.
type Inventory struct {
	PodSecurityPolicies    []psp.PodSecurityPolicy
	ClusterRoles           []rbacv1.ClusterRole
	ClusterRoleBindings    []rbacv1.ClusterRoleBinding
	Roles                  []rbacv1.Role
	RoleBindings           []rbacv1.RoleBinding
	ServiceAccounts        []corev1.ServiceAccount
	Namespaces             []corev1.Namespace
	Pods                   []corev1.Pod
	ReplicaSets            []appsv1.ReplicaSet
	Deployments            []appsv1.Deployment
	StatefulSets           []appsv1.StatefulSet
	DaemonSets             []appsv1.DaemonSet
	Jobs                   []batchv1.Job
	CronJobs               []batchv1.CronJob
	ReplicationControllers []corev1.ReplicationController
	RuntimeClasses         []nodev1.RuntimeClass

	// RuntimeClassesKnown is true when RuntimeClasses is the cluster's whole
	// set (listed live, or present in the files), so a pod naming a class
	// not in it would be rejected.
	RuntimeClassesKnown bool

	// PSPAPIServed is false when the live cluster no longer serves
	// policy/v1beta1 (Kubernetes 1.25+); PSPs may then still come from files.
	PSPAPIServed bool
	// Sources says where the objects came from, for the report header.
	Sources []string
	// Incomplete lists the problems that make this snapshot partial, such
	// as a resource type the caller may not list.
	Incomplete []Issue
	// Warnings are notes that do not make the snapshot partial, such as
	// skipped objects of unknown kinds.
	Warnings []string
}

// Issue is one reason a snapshot is partial.
type Issue struct {
	// Resource is the resource type concerned, e.g. "podsecuritypolicies.policy".
	Resource string `json:"resource"`
	// Namespace is set when the problem is limited to one namespace.
	Namespace string `json:"namespace,omitempty"`
	// Verb is the verb that was refused, when the cause is authorization.
	Verb string `json:"verb,omitempty"`
	// Message explains the problem for a human.
	Message string `json:"message"`
}

func (i Issue) String() string {
	if i.Namespace != "" {
		return fmt.Sprintf("%s in namespace %q: %s", i.Resource, i.Namespace, i.Message)
	}
	return fmt.Sprintf("%s: %s", i.Resource, i.Message)
}

// Merge appends other's objects to inv. Objects present in both (same kind,
// namespace and name) are kept once, inv's copy winning, so a live read
// merged with files from Git prefers what the cluster really has.
func (inv *Inventory) Merge(other *Inventory) {
	inv.PodSecurityPolicies = mergeByKey(inv.PodSecurityPolicies, other.PodSecurityPolicies, func(o *psp.PodSecurityPolicy) string { return o.Name })
	inv.ClusterRoles = mergeByKey(inv.ClusterRoles, other.ClusterRoles, func(o *rbacv1.ClusterRole) string { return o.Name })
	inv.ClusterRoleBindings = mergeByKey(inv.ClusterRoleBindings, other.ClusterRoleBindings, func(o *rbacv1.ClusterRoleBinding) string { return o.Name })
	inv.Roles = mergeByKey(inv.Roles, other.Roles, func(o *rbacv1.Role) string { return o.Namespace + "/" + o.Name })
	inv.RoleBindings = mergeByKey(inv.RoleBindings, other.RoleBindings, func(o *rbacv1.RoleBinding) string { return o.Namespace + "/" + o.Name })
	inv.ServiceAccounts = mergeByKey(inv.ServiceAccounts, other.ServiceAccounts, func(o *corev1.ServiceAccount) string { return o.Namespace + "/" + o.Name })
	inv.Namespaces = mergeByKey(inv.Namespaces, other.Namespaces, func(o *corev1.Namespace) string { return o.Name })
	inv.Pods = mergeByKey(inv.Pods, other.Pods, func(o *corev1.Pod) string { return o.Namespace + "/" + o.Name })
	inv.ReplicaSets = mergeByKey(inv.ReplicaSets, other.ReplicaSets, func(o *appsv1.ReplicaSet) string { return o.Namespace + "/" + o.Name })
	inv.Deployments = mergeByKey(inv.Deployments, other.Deployments, func(o *appsv1.Deployment) string { return o.Namespace + "/" + o.Name })
	inv.StatefulSets = mergeByKey(inv.StatefulSets, other.StatefulSets, func(o *appsv1.StatefulSet) string { return o.Namespace + "/" + o.Name })
	inv.DaemonSets = mergeByKey(inv.DaemonSets, other.DaemonSets, func(o *appsv1.DaemonSet) string { return o.Namespace + "/" + o.Name })
	inv.Jobs = mergeByKey(inv.Jobs, other.Jobs, func(o *batchv1.Job) string { return o.Namespace + "/" + o.Name })
	inv.CronJobs = mergeByKey(inv.CronJobs, other.CronJobs, func(o *batchv1.CronJob) string { return o.Namespace + "/" + o.Name })
	inv.ReplicationControllers = mergeByKey(inv.ReplicationControllers, other.ReplicationControllers, func(o *corev1.ReplicationController) string { return o.Namespace + "/" + o.Name })
	inv.RuntimeClasses = mergeByKey(inv.RuntimeClasses, other.RuntimeClasses, func(o *nodev1.RuntimeClass) string { return o.Name })
	inv.RuntimeClassesKnown = inv.RuntimeClassesKnown || other.RuntimeClassesKnown
	inv.PSPAPIServed = inv.PSPAPIServed || other.PSPAPIServed
	inv.Sources = append(inv.Sources, other.Sources...)
	inv.Incomplete = append(inv.Incomplete, other.Incomplete...)
	inv.Warnings = append(inv.Warnings, other.Warnings...)
	inv.Sort()
}

func mergeByKey[T any](dst, src []T, key func(*T) string) []T {
	if len(src) == 0 {
		return dst
	}
	seen := make(map[string]struct{}, len(dst))
	for i := range dst {
		seen[key(&dst[i])] = struct{}{}
	}
	for i := range src {
		if _, ok := seen[key(&src[i])]; ok {
			continue
		}
		dst = append(dst, src[i])
	}
	return dst
}

// Sort orders every list by namespace, then name.
func (inv *Inventory) Sort() {
	sortByKey(inv.PodSecurityPolicies, func(o *psp.PodSecurityPolicy) (string, string) { return "", o.Name })
	sortByKey(inv.ClusterRoles, func(o *rbacv1.ClusterRole) (string, string) { return "", o.Name })
	sortByKey(inv.ClusterRoleBindings, func(o *rbacv1.ClusterRoleBinding) (string, string) { return "", o.Name })
	sortByKey(inv.Roles, func(o *rbacv1.Role) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.RoleBindings, func(o *rbacv1.RoleBinding) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.ServiceAccounts, func(o *corev1.ServiceAccount) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.Namespaces, func(o *corev1.Namespace) (string, string) { return "", o.Name })
	sortByKey(inv.Pods, func(o *corev1.Pod) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.ReplicaSets, func(o *appsv1.ReplicaSet) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.Deployments, func(o *appsv1.Deployment) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.StatefulSets, func(o *appsv1.StatefulSet) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.DaemonSets, func(o *appsv1.DaemonSet) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.Jobs, func(o *batchv1.Job) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.CronJobs, func(o *batchv1.CronJob) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.ReplicationControllers, func(o *corev1.ReplicationController) (string, string) { return o.Namespace, o.Name })
	sortByKey(inv.RuntimeClasses, func(o *nodev1.RuntimeClass) (string, string) { return "", o.Name })
}

func sortByKey[T any](s []T, key func(*T) (string, string)) {
	sort.SliceStable(s, func(i, j int) bool {
		ni, mi := key(&s[i])
		nj, mj := key(&s[j])
		if ni != nj {
			return ni < nj
		}
		return mi < mj
	})
}

// PodTemplate is the pod template of one controller in the inventory.
type PodTemplate struct {
	// Kind is the controller's kind, e.g. "Deployment".
	Kind string
	// Meta is the controller's metadata (namespace, name, owners).
	Meta *metav1.ObjectMeta
	// Template may be nil: a ReplicationController's template is optional.
	Template *corev1.PodTemplateSpec
}

// PodTemplates lists the pod template of every controller kind the
// inventory holds, in one place so that a new controller kind is added once.
func (inv *Inventory) PodTemplates() []PodTemplate {
	var out []PodTemplate
	add := func(kind string, meta *metav1.ObjectMeta, t *corev1.PodTemplateSpec) {
		out = append(out, PodTemplate{Kind: kind, Meta: meta, Template: t})
	}
	for i := range inv.Deployments {
		o := &inv.Deployments[i]
		add("Deployment", &o.ObjectMeta, &o.Spec.Template)
	}
	for i := range inv.ReplicaSets {
		o := &inv.ReplicaSets[i]
		add("ReplicaSet", &o.ObjectMeta, &o.Spec.Template)
	}
	for i := range inv.StatefulSets {
		o := &inv.StatefulSets[i]
		add("StatefulSet", &o.ObjectMeta, &o.Spec.Template)
	}
	for i := range inv.DaemonSets {
		o := &inv.DaemonSets[i]
		add("DaemonSet", &o.ObjectMeta, &o.Spec.Template)
	}
	for i := range inv.Jobs {
		o := &inv.Jobs[i]
		add("Job", &o.ObjectMeta, &o.Spec.Template)
	}
	for i := range inv.CronJobs {
		o := &inv.CronJobs[i]
		add("CronJob", &o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template)
	}
	for i := range inv.ReplicationControllers {
		o := &inv.ReplicationControllers[i]
		add("ReplicationController", &o.ObjectMeta, o.Spec.Template)
	}
	return out
}
