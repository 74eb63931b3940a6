// Package synth generates a deterministic synthetic cluster for the
// benchmarks: namespaces with Deployments (and their ReplicaSets),
// StatefulSets, DaemonSets, CronJobs and Jobs, ReplicationControllers, bare
// and static pods, service accounts, PodSecurityPolicies and the RBAC that
// grants `use` on them. Objects carry what a real API server stores (uids,
// ownerReferences, defaulted fields, the kube-api-access token volume, pod
// statuses), because decode and list costs grow with exactly those bytes.
//
// The same Config always yields the same objects, byte for byte.
package synth

import (
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Config sizes the cluster.
type Config struct {
	// Pods is the exact number of pods generated.
	Pods int
	// Namespaces counts every namespace, the four built-in ones included.
	Namespaces int
	// PSPs is the number of PodSecurityPolicies (at least 4).
	PSPs int
	// Bindings is the number of RoleBindings plus ClusterRoleBindings that
	// grant `use` on a PSP.
	Bindings int
	// Nodes is the number of nodes pods are spread over; DaemonSets and
	// static pods have one pod per node.
	Nodes int
	// Seed selects the cluster; the same seed gives the same objects.
	Seed uint64
}

// Default is the cluster of the benchmark's issue: 10,000 pods in 300
// namespaces, 50 PSPs, 2,000 bindings.
func Default() Config {
	return Config{Pods: 10000, Namespaces: 300, PSPs: 50, Bindings: 2000, Nodes: 20, Seed: 1}
}

// Validate rejects sizes the generator cannot honour.
func (c Config) Validate() error {
	switch {
	case c.Namespaces < 5:
		return fmt.Errorf("namespaces: need at least 5 (4 built-in and one for workloads), got %d", c.Namespaces)
	case c.PSPs < 4:
		return fmt.Errorf("psps: need at least 4, got %d", c.PSPs)
	case c.Nodes < 1:
		return fmt.Errorf("nodes: need at least 1, got %d", c.Nodes)
	case c.Pods < 2*c.Nodes+2:
		return fmt.Errorf("pods: need at least %d for %d nodes (kube-system alone has 2 per node + 2), got %d", 2*c.Nodes+2, c.Nodes, c.Pods)
	case c.Bindings < 1:
		return fmt.Errorf("bindings: need at least 1, got %d", c.Bindings)
	}
	return nil
}

// Level names a Pod Security Standards level a generated template meets.
const (
	levelPrivileged = "privileged"
	levelBaseline   = "baseline"
	levelRestricted = "restricted"
)

// Names of the four PSPs every generated cluster has; the rest are variants.
const (
	pspPrivileged  = "psp-00-privileged"
	pspRestricted  = "psp-01-restricted"
	pspBaseline    = "psp-02-baseline"
	pspHostNetwork = "psp-03-host-network"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

type gen struct {
	cfg   Config
	rng   *rand.Rand
	inv   *inventory.Inventory
	nodes []string
	// podIP counts addresses handed out per node.
	podIP map[string]int
}

// Generate builds the cluster. It panics on an invalid Config: callers
// validate flags with Config.Validate first.
func Generate(cfg Config) *inventory.Inventory {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("synth: %v", err))
	}
	g := &gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		inv:   &inventory.Inventory{Sources: []string{"synthetic"}},
		podIP: map[string]int{},
	}
	for i := range cfg.Nodes {
		g.nodes = append(g.nodes, fmt.Sprintf("node-%03d", i+1))
	}
	g.policies()
	appNamespaces := g.namespaces()
	budget := cfg.Pods - g.kubeSystem()
	for i, ns := range appNamespaces {
		// Spread the remaining pods evenly; the first namespaces take the remainder.
		n := budget / len(appNamespaces)
		if i < budget%len(appNamespaces) {
			n++
		}
		g.workloads(ns, n)
	}
	g.bindings(appNamespaces)
	g.inv.Sort()
	return g.inv
}

// ---------------------------------------------------------------- helpers

func (g *gen) uid() types.UID {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// suffix mimics the API server's generateName alphabet.
func (g *gen) suffix(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) time(maxDays int) metav1.Time {
	return metav1.NewTime(epoch.Add(time.Duration(g.rng.IntN(maxDays*24*3600)) * time.Second))
}

func (g *gen) meta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:              name,
		Namespace:         namespace,
		UID:               g.uid(),
		ResourceVersion:   fmt.Sprint(1000 + g.rng.IntN(9_000_000)),
		CreationTimestamp: g.time(300),
	}
}

func ptr[T any](v T) *T { return &v }

func controllerRef(apiVersion, kind string, m *metav1.ObjectMeta) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: m.Name, UID: m.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
}

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// ---------------------------------------------------------------- namespaces

func (g *gen) namespaces() []string {
	builtin := []string{"default", "kube-node-lease", "kube-public", "kube-system"}
	var app []string
	for i := 1; len(builtin)+len(app) < g.cfg.Namespaces; i++ {
		app = append(app, fmt.Sprintf("team-%03d", i))
	}
	teams := []string{"payments", "search", "storefront", "data", "platform", "identity", "ml", "ops"}
	for _, name := range append(builtin, app...) {
		ns := corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: g.meta("", name),
			Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
			Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
		}
		ns.Labels = map[string]string{"kubernetes.io/metadata.name": name}
		if len(name) > 5 && name[:5] == "team-" {
			ns.Labels["team"] = g.pick(teams)
			// Some namespaces already carry Pod Security labels, some of
			// them stricter than what runs there: conflicts to report.
			switch g.rng.IntN(10) {
			case 0:
				ns.Labels["pod-security.kubernetes.io/enforce"] = levelRestricted
			case 1:
				ns.Labels["pod-security.kubernetes.io/enforce"] = levelBaseline
				ns.Labels["pod-security.kubernetes.io/warn"] = levelRestricted
			case 2:
				ns.Labels["pod-security.kubernetes.io/audit"] = levelRestricted
			}
		}
		g.inv.Namespaces = append(g.inv.Namespaces, ns)
		g.serviceAccount(name, "default")
	}
	return app
}

func (g *gen) serviceAccount(namespace, name string) {
	g.inv.ServiceAccounts = append(g.inv.ServiceAccounts, corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: g.meta(namespace, name),
	})
}

// ---------------------------------------------------------------- PSPs

var restrictedVolumes = []psp.FSType{psp.ConfigMap, psp.CSI, psp.DownwardAPI, psp.EmptyDir, psp.Ephemeral, psp.PersistentVolumeClaim, psp.Projected, psp.Secret}

func (g *gen) policies() {
	anyRange := []psp.IDRange{{Min: 1, Max: 65535}}
	base := func(name string) psp.PodSecurityPolicy {
		return psp.PodSecurityPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1beta1", Kind: "PodSecurityPolicy"},
			ObjectMeta: g.meta("", name),
			Spec: psp.PodSecurityPolicySpec{
				AllowPrivilegeEscalation: ptr(true),
				SELinux:                  psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
				RunAsUser:                psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny},
				SupplementalGroups:       psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny},
				FSGroup:                  psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny},
				Volumes:                  restrictedVolumes,
			},
		}
	}
	priv := base(pspPrivileged)
	priv.Annotations = map[string]string{psp.SeccompAllowedProfilesAnnotation: "*"}
	priv.Spec.Privileged = true
	priv.Spec.AllowedCapabilities = []corev1.Capability{"*"}
	priv.Spec.Volumes = []psp.FSType{psp.All}
	priv.Spec.HostNetwork, priv.Spec.HostPID, priv.Spec.HostIPC = true, true, true
	priv.Spec.HostPorts = []psp.HostPortRange{{Min: 0, Max: 65535}}

	restr := base(pspRestricted)
	restr.Annotations = map[string]string{
		psp.SeccompAllowedProfilesAnnotation: "docker/default,runtime/default",
		psp.SeccompDefaultProfileAnnotation:  "runtime/default",
	}
	restr.Spec.AllowPrivilegeEscalation = ptr(false)
	restr.Spec.RequiredDropCapabilities = []corev1.Capability{"ALL"}
	restr.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
	restr.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: anyRange}
	restr.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMayRunAs, Ranges: anyRange}

	basel := base(pspBaseline)
	basel.Annotations = map[string]string{psp.SeccompAllowedProfilesAnnotation: "*"}
	basel.Spec.AllowedCapabilities = []corev1.Capability{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

	hostNet := base(pspHostNetwork)
	hostNet.Annotations = map[string]string{psp.SeccompAllowedProfilesAnnotation: "*"}
	hostNet.Spec.HostNetwork, hostNet.Spec.HostPID = true, true
	hostNet.Spec.HostPorts = []psp.HostPortRange{{Min: 9100, Max: 9110}}
	hostNet.Spec.Volumes = append([]psp.FSType{psp.HostPath}, restrictedVolumes...)
	hostNet.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/proc", ReadOnly: true}, {PathPrefix: "/sys", ReadOnly: true}, {PathPrefix: "/var/log"}}

	g.inv.PodSecurityPolicies = append(g.inv.PodSecurityPolicies, priv, restr, basel, hostNet)

	// Team policies: variations a real cluster accumulates over the years.
	caps := []corev1.Capability{"NET_ADMIN", "NET_RAW", "SYS_PTRACE", "IPC_LOCK", "SYS_RESOURCE", "NET_BIND_SERVICE"}
	for i := 4; i < g.cfg.PSPs; i++ {
		p := base(fmt.Sprintf("psp-%02d-team", i))
		switch g.rng.IntN(3) {
		case 0:
			p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
		case 1:
			p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1000, Max: 65535}}}
		}
		if g.rng.IntN(4) == 0 {
			p.Spec.HostNetwork = true
			p.Spec.HostPorts = []psp.HostPortRange{{Min: 8000 + int32(i), Max: 8000 + int32(i)}}
		}
		if g.rng.IntN(5) == 0 {
			p.Spec.Volumes = append([]psp.FSType{psp.HostPath}, p.Spec.Volumes...)
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: fmt.Sprintf("/var/lib/team-%02d", i)}}
		}
		dropRaw := g.rng.IntN(2) == 0
		if dropRaw {
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
			p.Spec.AllowPrivilegeEscalation = ptr(false)
		}
		for _, c := range caps {
			// A capability both allowed and required dropped is invalid.
			if g.rng.IntN(4) == 0 && !(dropRaw && c == "NET_RAW") {
				p.Spec.AllowedCapabilities = append(p.Spec.AllowedCapabilities, c)
			}
		}
		g.inv.PodSecurityPolicies = append(g.inv.PodSecurityPolicies, p)
	}

	g.inv.ClusterRoles = append(g.inv.ClusterRoles, rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: g.meta("", "cluster-admin"),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
		},
	})
	for _, p := range g.inv.PodSecurityPolicies {
		group := "policy"
		if g.rng.IntN(10) == 0 {
			group = "extensions" // roles written before policy/v1beta1
		}
		g.inv.ClusterRoles = append(g.inv.ClusterRoles, rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: g.meta("", "psp:"+p.Name),
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{p.Name}, Verbs: []string{"use"}}},
		})
	}
}

// bindings grants `use`: a few cluster-wide, the rest per namespace, to
// service-account groups, single service accounts and local Roles.
func (g *gen) bindings(app []string) {
	rbacGroup := "rbac.authorization.k8s.io"
	crbs := min(g.cfg.Bindings/40+1, g.cfg.Bindings)
	g.inv.ClusterRoleBindings = append(g.inv.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: g.meta("", "psp:restricted:all"),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "psp:" + pspRestricted},
		Subjects: []rbacv1.Subject{
			{APIGroup: rbacGroup, Kind: "Group", Name: "system:serviceaccounts"},
			{APIGroup: rbacGroup, Kind: "Group", Name: "system:authenticated"},
		},
	})
	for i := 1; i < crbs; i++ {
		p := g.inv.PodSecurityPolicies[g.rng.IntN(len(g.inv.PodSecurityPolicies))]
		ns := g.pick(app)
		g.inv.ClusterRoleBindings = append(g.inv.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: g.meta("", fmt.Sprintf("psp:%s:%03d", p.Name, i)),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "psp:" + p.Name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacGroup, Kind: "Group", Name: "system:serviceaccounts:" + ns}},
		})
	}
	// One local Role per namespace that grants `use` on a team policy.
	for _, ns := range app {
		p := g.inv.PodSecurityPolicies[3+g.rng.IntN(len(g.inv.PodSecurityPolicies)-3)]
		g.inv.Roles = append(g.inv.Roles, rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: g.meta(ns, "psp-local"),
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, ResourceNames: []string{p.Name}, Verbs: []string{"use"}}},
		})
	}
	// Service accounts per namespace, to bind single accounts.
	sas := map[string][]string{}
	for _, sa := range g.inv.ServiceAccounts {
		sas[sa.Namespace] = append(sas[sa.Namespace], sa.Name)
	}
	for i := 0; i < g.cfg.Bindings-crbs; i++ {
		ns := app[i%len(app)]
		rb := rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: g.meta(ns, fmt.Sprintf("psp-use-%04d", i)),
		}
		if g.rng.IntN(4) == 0 {
			rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "Role", Name: "psp-local"}
		} else {
			p := g.inv.PodSecurityPolicies[g.rng.IntN(len(g.inv.PodSecurityPolicies))]
			rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "psp:" + p.Name}
		}
		if g.rng.IntN(2) == 0 {
			rb.Subjects = []rbacv1.Subject{{APIGroup: rbacGroup, Kind: "Group", Name: "system:serviceaccounts:" + ns}}
		} else {
			rb.Subjects = []rbacv1.Subject{{Kind: "ServiceAccount", Name: g.pick(sas[ns]), Namespace: ns}}
		}
		g.inv.RoleBindings = append(g.inv.RoleBindings, rb)
	}
}
