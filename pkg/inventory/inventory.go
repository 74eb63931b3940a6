// Package inventory gathers the cluster objects an audit needs — PSPs, RBAC,
// service accounts, namespaces, pods and the controllers that own pods —
// from a live cluster or from manifest files, into one typed snapshot.
package inventory

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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

	// origin names the file each object read from manifests came from, so
	// that Merge can say where the copy it drops was read.
	origin map[objectKey]string
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
// merged with files from Git prefers what the cluster really has; a warning
// per pair of sources names where both copies came from. inv may take over
// other's lists: other is not to be used afterwards.
func (inv *Inventory) Merge(other *Inventory) {
	m := merger{inv: inv, other: other, dups: map[[2]string]*mergeDup{}}
	inv.PodSecurityPolicies = mergeByKey(&m, inv.PodSecurityPolicies, other.PodSecurityPolicies, func(o *psp.PodSecurityPolicy) objectKey {
		return objectKey{kindKey{"policy", "PodSecurityPolicy"}, "", o.Name}
	})
	inv.ClusterRoles = mergeByKey(&m, inv.ClusterRoles, other.ClusterRoles, func(o *rbacv1.ClusterRole) objectKey {
		return objectKey{kindKey{rbacv1.GroupName, "ClusterRole"}, "", o.Name}
	})
	inv.ClusterRoleBindings = mergeByKey(&m, inv.ClusterRoleBindings, other.ClusterRoleBindings, func(o *rbacv1.ClusterRoleBinding) objectKey {
		return objectKey{kindKey{rbacv1.GroupName, "ClusterRoleBinding"}, "", o.Name}
	})
	inv.Roles = mergeByKey(&m, inv.Roles, other.Roles, func(o *rbacv1.Role) objectKey {
		return objectKey{kindKey{rbacv1.GroupName, "Role"}, o.Namespace, o.Name}
	})
	inv.RoleBindings = mergeByKey(&m, inv.RoleBindings, other.RoleBindings, func(o *rbacv1.RoleBinding) objectKey {
		return objectKey{kindKey{rbacv1.GroupName, "RoleBinding"}, o.Namespace, o.Name}
	})
	inv.ServiceAccounts = mergeByKey(&m, inv.ServiceAccounts, other.ServiceAccounts, func(o *corev1.ServiceAccount) objectKey {
		return objectKey{kindKey{"", "ServiceAccount"}, o.Namespace, o.Name}
	})
	inv.Namespaces = mergeByKey(&m, inv.Namespaces, other.Namespaces, func(o *corev1.Namespace) objectKey { return objectKey{kindKey{"", "Namespace"}, "", o.Name} })
	inv.Pods = mergeByKey(&m, inv.Pods, other.Pods, func(o *corev1.Pod) objectKey { return objectKey{kindKey{"", "Pod"}, o.Namespace, o.Name} })
	inv.ReplicaSets = mergeByKey(&m, inv.ReplicaSets, other.ReplicaSets, func(o *appsv1.ReplicaSet) objectKey {
		return objectKey{kindKey{"apps", "ReplicaSet"}, o.Namespace, o.Name}
	})
	inv.Deployments = mergeByKey(&m, inv.Deployments, other.Deployments, func(o *appsv1.Deployment) objectKey {
		return objectKey{kindKey{"apps", "Deployment"}, o.Namespace, o.Name}
	})
	inv.StatefulSets = mergeByKey(&m, inv.StatefulSets, other.StatefulSets, func(o *appsv1.StatefulSet) objectKey {
		return objectKey{kindKey{"apps", "StatefulSet"}, o.Namespace, o.Name}
	})
	inv.DaemonSets = mergeByKey(&m, inv.DaemonSets, other.DaemonSets, func(o *appsv1.DaemonSet) objectKey {
		return objectKey{kindKey{"apps", "DaemonSet"}, o.Namespace, o.Name}
	})
	inv.Jobs = mergeByKey(&m, inv.Jobs, other.Jobs, func(o *batchv1.Job) objectKey { return objectKey{kindKey{"batch", "Job"}, o.Namespace, o.Name} })
	inv.CronJobs = mergeByKey(&m, inv.CronJobs, other.CronJobs, func(o *batchv1.CronJob) objectKey { return objectKey{kindKey{"batch", "CronJob"}, o.Namespace, o.Name} })
	inv.ReplicationControllers = mergeByKey(&m, inv.ReplicationControllers, other.ReplicationControllers, func(o *corev1.ReplicationController) objectKey {
		return objectKey{kindKey{"", "ReplicationController"}, o.Namespace, o.Name}
	})
	inv.RuntimeClasses = mergeByKey(&m, inv.RuntimeClasses, other.RuntimeClasses, func(o *nodev1.RuntimeClass) objectKey {
		return objectKey{kindKey{"node.k8s.io", "RuntimeClass"}, "", o.Name}
	})
	inv.RuntimeClassesKnown = inv.RuntimeClassesKnown || other.RuntimeClassesKnown
	inv.PSPAPIServed = inv.PSPAPIServed || other.PSPAPIServed
	for _, s := range other.Sources {
		if !slices.Contains(inv.Sources, s) {
			inv.Sources = append(inv.Sources, s)
		}
	}
	inv.Incomplete = append(inv.Incomplete, other.Incomplete...)
	inv.Warnings = append(inv.Warnings, other.Warnings...)
	inv.Warnings = append(inv.Warnings, m.warnings()...)
	for k, v := range other.origin {
		if _, ok := inv.origin[k]; !ok {
			if inv.origin == nil {
				inv.origin = map[objectKey]string{}
			}
			inv.origin[k] = v
		}
	}
	inv.Sort()
}

// merger collects the objects Merge finds on both sides.
type merger struct {
	inv, other *Inventory
	dups       map[[2]string]*mergeDup
}

type mergeDup struct {
	count   int
	example objectKey
}

// sourceOf names where one side's copy of k came from: its file when read
// from manifests, else the side's sources ("cluster").
func sourceOf(inv *Inventory, k objectKey) string {
	if s, ok := inv.origin[k]; ok {
		return s
	}
	if len(inv.Sources) == 0 {
		return "an earlier input"
	}
	return strings.Join(inv.Sources, ", ")
}

func (m *merger) dup(k objectKey) {
	p := [2]string{sourceOf(m.inv, k), sourceOf(m.other, k)}
	d := m.dups[p]
	if d == nil {
		d = &mergeDup{example: k}
		m.dups[p] = d
	}
	d.count++
}

func (m *merger) warnings() []string {
	pairs := make([][2]string, 0, len(m.dups))
	for p := range m.dups {
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	out := make([]string, 0, len(pairs))
	for _, p := range pairs {
		d := m.dups[p]
		out = append(out, fmt.Sprintf("%d object(s) read from both %s and %s (e.g. %s); each is counted once, the copy from %s wins",
			d.count, p[0], p[1], d.example, p[0]))
	}
	return out
}

func mergeByKey[T any](m *merger, dst, src []T, key func(*T) objectKey) []T {
	if len(src) == 0 {
		return dst
	}
	if len(dst) == 0 && distinct(src, key) {
		// Nothing to merge with: other's list is the result, not a copy
		// of it (10,000 pods read from a file are not held twice).
		return src
	}
	seen := make(map[objectKey]struct{}, len(dst))
	for i := range dst {
		seen[key(&dst[i])] = struct{}{}
	}
	for i := range src {
		k := key(&src[i])
		if _, ok := seen[k]; ok {
			m.dup(k)
			continue
		}
		seen[k] = struct{}{}
		dst = append(dst, src[i])
	}
	return dst
}

// distinct reports whether no two elements of s have the same key.
func distinct[T any](s []T, key func(*T) objectKey) bool {
	seen := make(map[objectKey]struct{}, len(s))
	for i := range s {
		k := key(&s[i])
		if _, ok := seen[k]; ok {
			return false
		}
		seen[k] = struct{}{}
	}
	return true
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
	sortByKey(inv.Incomplete, func(i *Issue) (string, string) { return i.Resource, i.Namespace })
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

// SlimPod drops what no command reads from a pod, before it is kept for
// the length of a run: its managed fields and its status (conditions,
// container statuses, IPs), which are most of a running pod.
func SlimPod(p *corev1.Pod) {
	p.ManagedFields = nil
	p.Status = corev1.PodStatus{}
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

// SetMissingNamespace puts every namespaced object that names no namespace
// in ns, as `kubectl apply -n ns -f` would: manifests rendered by Helm or
// kept in Git often leave the namespace to the command that applies them.
func (inv *Inventory) SetMissingNamespace(ns string) {
	if ns == "" {
		return
	}
	set := func(m *metav1.ObjectMeta) {
		if m.Namespace == "" {
			m.Namespace = ns
		}
	}
	for i := range inv.Roles {
		set(&inv.Roles[i].ObjectMeta)
	}
	for i := range inv.RoleBindings {
		set(&inv.RoleBindings[i].ObjectMeta)
	}
	for i := range inv.ServiceAccounts {
		set(&inv.ServiceAccounts[i].ObjectMeta)
	}
	for i := range inv.Pods {
		set(&inv.Pods[i].ObjectMeta)
	}
	// Every controller kind, through the one list of them.
	for _, t := range inv.PodTemplates() {
		set(t.Meta)
	}
	// Where each object came from is keyed by its namespace too.
	for k, src := range inv.origin {
		if k.namespace == "" && !clusterScoped[k.kind] {
			delete(inv.origin, k)
			k.namespace = ns
			inv.origin[k] = src
		}
	}
}
