package rbac

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Finding is a PSP that allows node-level access and is usable by an
// audience that makes it reachable for practically anyone.
type Finding struct {
	PSP     string `json:"psp"`
	Subject string `json:"subject"`
	// Namespace is where the grant applies; "" means every namespace.
	Namespace string `json:"namespace,omitempty"`
	// Allows lists what makes the PSP dangerous: "privileged",
	// "hostNetwork", "hostPID", "hostIPC", "hostPath /".
	Allows []string `json:"allows"`
	// Via is the binding and role, e.g.
	// "ClusterRoleBinding/psp-all -> ClusterRole/psp-privileged".
	Via    string `json:"via"`
	Reason string `json:"reason"`
}

// audience is an identity whose `use` grants open a PSP to far more pods
// than anyone intended.
type audience struct {
	subject string
	// keys are the index entries through which the audience is reached.
	// Controller audiences leave out the broad groups, which are reported
	// under their own name, so that one grant is not reported six times.
	keys []subjectKey
	// why explains the consequence for a scope ("every namespace" or
	// `namespace "x"`).
	why func(scope string) string
}

func dangerousAudiences() []audience {
	aud := []audience{
		{
			subject: AllAuthenticated,
			keys:    []subjectKey{{groupSubject, AllAuthenticated}},
			why: func(scope string) string {
				return "every authenticated user and controller may use this policy in " + scope +
					", so anyone allowed to create a pod or a pod controller there gets these privileges"
			},
		},
		{
			subject: AllUnauthenticated,
			keys:    []subjectKey{{groupSubject, AllUnauthenticated}},
			why: func(scope string) string {
				return "anonymous requests may use this policy in " + scope
			},
		},
		{
			subject: AllServiceAccounts,
			keys:    []subjectKey{{groupSubject, AllServiceAccounts}},
			why: func(scope string) string {
				return "every service account may use this policy in " + scope +
					"; PSP admission also checks the pod's own service account, so every pod there qualifies whoever creates it"
			},
		},
	}
	kinds := slices.Sorted(maps.Keys(controllerServiceAccounts))
	for _, kind := range kinds {
		u, _ := ControllerUser(kind, ControllerServiceAccounts)
		creators := kind
		switch kind {
		case "ReplicaSet":
			creators = "ReplicaSet or Deployment"
		case "Job":
			creators = "Job or CronJob"
		}
		aud = append(aud, audience{
			subject: u.Name,
			keys: []subjectKey{
				{userSubject, u.Name},
				{groupSubject, serviceAccountGroupPrefix + controllerNamespace},
			},
			why: func(scope string) string {
				return fmt.Sprintf("%s creates the pods of every %s in %s, so anyone allowed to create a %s there gets its pods admitted under this policy",
					controllerServiceAccounts[kind], kind, scope, creators)
			},
		})
	}
	aud = append(aud, audience{
		subject: ControllerManagerUser,
		keys:    []subjectKey{{userSubject, ControllerManagerUser}},
		why: func(scope string) string {
			return "without --use-service-account-credentials kube-controller-manager creates the pods of every ReplicaSet, DaemonSet, StatefulSet, Job and ReplicationController in " +
				scope + ", so anyone allowed to create one of those (or a Deployment or CronJob) there gets its pods admitted under this policy"
		},
	})
	return aud
}

// DangerousGrants reports PSPs that allow privileged pods, host namespaces (hostNetwork/hostPID/hostIPC) or hostPath "/" (allowedHostPaths empty with hostPath or * in volumes, or a "/" prefix) and are usable by system:authenticated, system:unauthenticated, system:serviceaccounts, or a controller identity (either mode) — cluster-wide or in which namespaces.
//
// Every distinct path is reported (a cluster-wide and a namespaced grant of
// the same PSP are two findings) because each must be removed to close the
// hole. Findings are sorted by PSP, subject, namespace and via.
func (ix *Index) DangerousGrants(psps []psp.PodSecurityPolicy) []Finding {
	audiences := dangerousAudiences()
	type findingKey struct{ psp, subject, namespace, via string }
	seen := map[findingKey]bool{}
	var out []Finding
	for i := range psps {
		p := &psps[i]
		allows := dangerousAllowances(&p.Spec)
		if len(allows) == 0 {
			continue
		}
		for _, a := range audiences {
			for _, g := range ix.grantsAnywhere(a.keys, p.Name) {
				k := findingKey{p.Name, a.subject, g.namespace, g.grant.String()}
				if seen[k] {
					continue
				}
				seen[k] = true
				scope := "every namespace"
				if g.namespace != "" {
					scope = fmt.Sprintf("namespace %q", g.namespace)
				}
				reason := a.why(scope)
				if name := subjectName(g.grant); name != a.subject {
					reason += fmt.Sprintf(" (granted to %s %s)", g.grant.Subject.Kind, name)
				}
				out = append(out, Finding{
					PSP:       p.Name,
					Subject:   a.subject,
					Namespace: g.namespace,
					Allows:    slices.Clone(allows),
					Via:       k.via,
					Reason:    reason,
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.PSP, b.PSP),
			cmp.Compare(a.Subject, b.Subject),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Via, b.Via),
		)
	})
	return out
}

type scopedGrant struct {
	namespace string
	grant     Grant
}

// grantsAnywhere lists the grants of pspName to any of keys, cluster-wide
// and in every namespace that has one.
func (ix *Index) grantsAnywhere(keys []subjectKey, pspName string) []scopedGrant {
	var cluster []*source
	byNS := map[string][]*source{}
	for _, k := range keys {
		sg := ix.lookup(k)
		if sg == nil {
			continue
		}
		cluster = appendCovering(cluster, sg.cluster, pspName)
		for ns, set := range sg.byNamespace {
			if found := appendCovering(nil, set, pspName); len(found) > 0 {
				byNS[ns] = append(byNS[ns], found...)
			}
		}
	}
	var out []scopedGrant
	for _, g := range grantsOf(cluster) {
		out = append(out, scopedGrant{"", g})
	}
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		for _, g := range grantsOf(byNS[ns]) {
			out = append(out, scopedGrant{ns, g})
		}
	}
	return out
}

// subjectName is the user or group name a grant's subject matches, so that a
// reason can say when a grant reaches an audience through another subject
// (a controller through system:serviceaccounts:kube-system, say).
func subjectName(g Grant) string {
	s := g.Subject
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = g.BindingNamespace
		}
		return ServiceAccountUsername(ns, s.Name)
	}
	return s.Name
}

// dangerousAllowances lists what in a PSP gives a pod control of its node.
func dangerousAllowances(spec *psp.PodSecurityPolicySpec) []string {
	var allows []string
	if spec.Privileged {
		allows = append(allows, "privileged")
	}
	if spec.HostNetwork {
		allows = append(allows, "hostNetwork")
	}
	if spec.HostPID {
		allows = append(allows, "hostPID")
	}
	if spec.HostIPC {
		allows = append(allows, "hostIPC")
	}
	if allowsHostRoot(spec) {
		allows = append(allows, "hostPath /")
	}
	return allows
}

// allowsHostRoot reports whether a pod may mount the node's "/" (read-only
// or not: a read-only root still exposes kubelet credentials and every
// secret on the node). hostPath volumes must be allowed at all; then an
// empty allowedHostPaths allows every path, and otherwise the prefix "/"
// does: the PSP provider trims one trailing "/" from path and prefix before
// a segment-wise prefix match, so "/" becomes "" and matches every path.
func allowsHostRoot(spec *psp.PodSecurityPolicySpec) bool {
	if !slices.Contains(spec.Volumes, psp.HostPath) && !slices.Contains(spec.Volumes, psp.All) {
		return false
	}
	if len(spec.AllowedHostPaths) == 0 {
		return true
	}
	for _, hp := range spec.AllowedHostPaths {
		if strings.TrimSuffix(hp.PathPrefix, "/") == "" {
			return true
		}
	}
	return false
}
