package inventory

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// kindKey identifies a kind regardless of version: older dumps carry
// extensions/v1beta1 Deployments, batch/v1beta1 CronJobs or
// rbac.authorization.k8s.io/v1beta1 bindings, whose fields the audit reads
// are laid out as in the current versions.
type kindKey struct{ group, kind string }

func groupOf(apiVersion string) string {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// FromObjects builds an inventory from decoded manifests. Objects of kinds the
// audit does not use are skipped with one warning per kind. An object that
// cannot be read as its kind, or an invalid PSP, is an error naming its file
// and document.
func FromObjects(objs []manifest.Object) (*Inventory, error) {
	inv := &Inventory{}
	skipped := map[string]int{}
	sources := map[string]bool{}
	for i := range objs {
		o := &objs[i]
		sources[o.Source] = true
		u := o.Object
		key := kindKey{groupOf(u.GetAPIVersion()), u.GetKind()}
		var err error
		switch key {
		case kindKey{"policy", "PodSecurityPolicy"}, kindKey{"extensions", "PodSecurityPolicy"}:
			var p *psp.PodSecurityPolicy
			p, err = psp.FromUnstructured(u)
			if err == nil {
				if errs := psp.Validate(p); len(errs) > 0 {
					err = fmt.Errorf("invalid PodSecurityPolicy: %w", errs.ToAggregate())
				} else {
					inv.PodSecurityPolicies = append(inv.PodSecurityPolicies, *p)
				}
			}
		case kindKey{"rbac.authorization.k8s.io", "ClusterRole"}:
			inv.ClusterRoles, err = appendTyped(inv.ClusterRoles, u.Object)
		case kindKey{"rbac.authorization.k8s.io", "ClusterRoleBinding"}:
			inv.ClusterRoleBindings, err = appendTyped(inv.ClusterRoleBindings, u.Object)
		case kindKey{"rbac.authorization.k8s.io", "Role"}:
			inv.Roles, err = appendTyped(inv.Roles, u.Object)
		case kindKey{"rbac.authorization.k8s.io", "RoleBinding"}:
			inv.RoleBindings, err = appendTyped(inv.RoleBindings, u.Object)
		case kindKey{"", "ServiceAccount"}:
			inv.ServiceAccounts, err = appendTyped(inv.ServiceAccounts, u.Object)
		case kindKey{"", "Namespace"}:
			inv.Namespaces, err = appendTyped(inv.Namespaces, u.Object)
		case kindKey{"", "Pod"}:
			inv.Pods, err = appendTyped(inv.Pods, u.Object)
		case kindKey{"", "ReplicationController"}:
			inv.ReplicationControllers, err = appendTyped(inv.ReplicationControllers, u.Object)
		case kindKey{"apps", "ReplicaSet"}, kindKey{"extensions", "ReplicaSet"}:
			inv.ReplicaSets, err = appendTyped(inv.ReplicaSets, u.Object)
		case kindKey{"apps", "Deployment"}, kindKey{"extensions", "Deployment"}:
			inv.Deployments, err = appendTyped(inv.Deployments, u.Object)
		case kindKey{"apps", "StatefulSet"}:
			inv.StatefulSets, err = appendTyped(inv.StatefulSets, u.Object)
		case kindKey{"apps", "DaemonSet"}, kindKey{"extensions", "DaemonSet"}:
			inv.DaemonSets, err = appendTyped(inv.DaemonSets, u.Object)
		case kindKey{"batch", "Job"}:
			inv.Jobs, err = appendTyped(inv.Jobs, u.Object)
		case kindKey{"batch", "CronJob"}:
			inv.CronJobs, err = appendTyped(inv.CronJobs, u.Object)
		case kindKey{"node.k8s.io", "RuntimeClass"}:
			inv.RuntimeClasses, err = appendTyped(inv.RuntimeClasses, u.Object)
			inv.RuntimeClassesKnown = true
		default:
			skipped[u.GetAPIVersion()+" "+u.GetKind()]++
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Location(), err)
		}
		// The typed copy is all the audit needs; let the map go.
		o.Object = nil
	}
	kinds := make([]string, 0, len(skipped))
	for k := range skipped {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("skipped %d object(s) of kind %s: not used by the audit", skipped[k], k))
	}
	for s := range sources {
		inv.Sources = append(inv.Sources, s)
	}
	sort.Strings(inv.Sources)
	inv.Sort()
	return inv, nil
}

// appendTyped converts one object into T and appends it. Unknown fields are
// tolerated here (a dump from a newer cluster may carry fields this build
// does not know) but wrongly typed ones are not.
func appendTyped[T any](dst []T, obj map[string]interface{}) ([]T, error) {
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &v); err != nil {
		return dst, err
	}
	return append(dst, v), nil
}
