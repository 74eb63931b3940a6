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
//
// The same object (kind, namespace and name) read more than once — a file
// given twice, or a dump plus a directory holding some of the same objects —
// is one object: the copy read last is kept and a warning names both places.
func FromObjects(objs []manifest.Object) (*Inventory, error) {
	inv := &Inventory{origin: map[objectKey]string{}}
	skipped := map[string]int{}
	sources := map[string]bool{}
	keep, dupWarnings := dedupe(objs)
	for i := range objs {
		o := &objs[i]
		sources[o.Source] = true
		if !keep[i] {
			o.Object = nil
			continue
		}
		u := o.Object
		inv.origin[keyOf(u)] = o.Source
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
	inv.Warnings = append(inv.Warnings, dupWarnings...)
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

// canonicalKinds maps the legacy groups of kinds the audit reads to their
// current group, so that extensions/v1beta1 and apps/v1 copies of one
// Deployment are the same object.
var canonicalKinds = map[kindKey]kindKey{
	{"extensions", "PodSecurityPolicy"}: {"policy", "PodSecurityPolicy"},
	{"extensions", "ReplicaSet"}:        {"apps", "ReplicaSet"},
	{"extensions", "Deployment"}:        {"apps", "Deployment"},
	{"extensions", "DaemonSet"}:         {"apps", "DaemonSet"},
}

// clusterScoped are the kinds read whose namespace is meaningless: a stray
// metadata.namespace must not make two copies of one PSP look distinct.
var clusterScoped = map[kindKey]bool{
	{"policy", "PodSecurityPolicy"}:                     true,
	{"rbac.authorization.k8s.io", "ClusterRole"}:        true,
	{"rbac.authorization.k8s.io", "ClusterRoleBinding"}: true,
	{"", "Namespace"}:                                   true,
	{"node.k8s.io", "RuntimeClass"}:                     true,
}

// objectKey identifies an object whatever file or API version it came from.
type objectKey struct {
	kind            kindKey
	namespace, name string
}

func keyOf(u interface {
	GetAPIVersion() string
	GetKind() string
	GetNamespace() string
	GetName() string
}) objectKey {
	k := kindKey{groupOf(u.GetAPIVersion()), u.GetKind()}
	if c, ok := canonicalKinds[k]; ok {
		k = c
	}
	ns := u.GetNamespace()
	if clusterScoped[k] {
		ns = ""
	}
	return objectKey{kind: k, namespace: ns, name: u.GetName()}
}

// String renders the key for messages: `Pod "ns/name"`, `PodSecurityPolicy "p"`.
func (k objectKey) String() string {
	if k.namespace == "" {
		return fmt.Sprintf("%s %q", k.kind.kind, k.name)
	}
	return fmt.Sprintf("%s %q", k.kind.kind, k.namespace+"/"+k.name)
}

// dedupe marks, for every object read more than once, all copies but the
// last for dropping, and words one warning per pair of sources (not one
// per object: a dump overlapping a directory repeats thousands of them).
func dedupe(objs []manifest.Object) (keep []bool, warnings []string) {
	keep = make([]bool, len(objs))
	last := make(map[objectKey]int, len(objs))
	for i := range objs {
		last[keyOf(objs[i].Object)] = i
	}
	type pair struct{ earlier, later string }
	type dup struct {
		count   int
		example string
		// samePlace stays true while every copy is the same document of
		// the same file: the file itself was given twice.
		samePlace bool
	}
	dups := map[pair]*dup{}
	for i := range objs {
		k := keyOf(objs[i].Object)
		j := last[k]
		if j == i {
			keep[i] = true
			continue
		}
		p := pair{objs[i].Source, objs[j].Source}
		d := dups[p]
		if d == nil {
			d = &dup{example: fmt.Sprintf("%s at %s and at %s",
				k, location(objs[i]), location(objs[j])), samePlace: true}
			dups[p] = d
		}
		d.count++
		d.samePlace = d.samePlace && location(objs[i]) == location(objs[j])
	}
	// Copies within one file first, then copies across files, grouped by
	// the side with fewer distinct files: `-f dump.yaml -f psps/` repeats
	// one file's objects in many, and is one warning, not one per PSP.
	var cross []pair
	for p, d := range dups {
		if p.earlier != p.later {
			cross = append(cross, p)
			continue
		}
		if d.samePlace {
			warnings = append(warnings, fmt.Sprintf("%s was read more than once; its %d object(s) are counted once", p.earlier, d.count))
		} else {
			warnings = append(warnings, fmt.Sprintf("%d object(s) read more than once from %s (e.g. %s); each is counted once, the copy read last wins",
				d.count, p.earlier, d.example))
		}
	}
	sort.Strings(warnings)
	earlier, later := map[string]bool{}, map[string]bool{}
	for _, p := range cross {
		earlier[p.earlier], later[p.later] = true, true
	}
	byLater := len(later) <= len(earlier)
	type group struct {
		others  []string
		count   int
		example string
	}
	groups := map[string]*group{}
	for _, p := range cross {
		key, other := p.earlier, p.later
		if byLater {
			key, other = p.later, p.earlier
		}
		g := groups[key]
		if g == nil {
			g = &group{}
			groups[key] = g
		}
		g.others = append(g.others, other)
		g.count += dups[p].count
	}
	keys := make([]string, 0, len(groups))
	for k, g := range groups {
		keys = append(keys, k)
		sort.Strings(g.others)
		// The example comes from the first pair in file order, so that
		// the warning does not depend on map iteration.
		p := pair{k, g.others[0]}
		if byLater {
			p = pair{g.others[0], k}
		}
		g.example = dups[p].example
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		others := listFiles(g.others)
		if byLater {
			warnings = append(warnings, fmt.Sprintf("%d object(s) read from both %s and %s (e.g. %s); each is counted once, the copy from %s wins",
				g.count, others, k, g.example, k))
			continue
		}
		winner := others
		if len(g.others) > 1 {
			winner = "the later file"
		}
		warnings = append(warnings, fmt.Sprintf("%d object(s) read from both %s and %s (e.g. %s); each is counted once, the copy from %s wins",
			g.count, k, others, g.example, winner))
	}
	return keep, warnings
}

// listFiles names up to three files, then how many more.
func listFiles(files []string) string {
	const shown = 3
	if len(files) <= shown {
		return strings.Join(files, ", ")
	}
	return strings.Join(files[:shown], ", ") + fmt.Sprintf(" (+%d more files)", len(files)-shown)
}

// location is where an object sits, without the kind and name that the
// duplicate warning already states.
func location(o manifest.Object) string {
	loc := o.Location()
	if i := strings.LastIndex(loc, " ("); i >= 0 {
		loc = loc[:i]
	}
	return loc
}
