package translate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// Scope says which PSPs apply to which pods.
type Scope string

const (
	// ScopeCluster applies every PSP to every pod: a pod is allowed when
	// any converted PSP allows it.
	ScopeCluster Scope = "cluster"
	// ScopeRBAC applies each PSP where the pod's service account could use
	// it, so that a migration keeps today's effective permissions.
	ScopeRBAC Scope = "rbac"
)

// Scopes lists the valid Scope values.
var Scopes = []Scope{ScopeCluster, ScopeRBAC}

// Mode says what a converted policy does with a pod it would reject; each
// renderer maps it to its engine's own mechanism.
type Mode string

const (
	// ModeEnforce rejects the pod.
	ModeEnforce Mode = "enforce"
	// ModeAudit admits it and records the violation in the audit log.
	ModeAudit Mode = "audit"
	// ModeWarn admits it and returns a warning to the client.
	ModeWarn Mode = "warn"
)

// Modes lists the valid Mode values.
var Modes = []Mode{ModeEnforce, ModeAudit, ModeWarn}

// DefaultExcludedNamespaces are left alone unless the user says otherwise:
// their pods are the control plane's, and a policy that rejects one can
// break the cluster it runs on.
var DefaultExcludedNamespaces = psp.SystemNamespaces()

// Options configure a conversion.
type Options struct {
	Scope Scope
	Mode  Mode
	// ExcludeNamespaces are not covered by the converted policies. nil
	// means DefaultExcludedNamespaces; an empty, non-nil list excludes none.
	ExcludeNamespaces []string
	// PSPs limits the conversion to these PSPs; empty converts every valid
	// PSP. Naming a PSP that does not exist is an error.
	PSPs []string
	// ToolVersion is written into every object's labels and annotations.
	ToolVersion string
	// PSSVersion is the Pod Security Standards version for the psa engine
	// ("latest" or "v1.x").
	PSSVersion string
	// Force lets the psa engine overwrite namespaces whose current
	// pod-security labels differ from the recommendation.
	Force bool
	// GatekeeperTemplates makes the gatekeeper engine write its own
	// ConstraintTemplates along with the constraints.
	GatekeeperTemplates bool
	// Mutate makes the kyverno engine also write a mutate policy that
	// applies the PSPs' defaults; only when each pod may use exactly one
	// of the converted PSPs.
	Mutate bool
}

// withDefaults fills unset options and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Scope == "" {
		o.Scope = ScopeRBAC
	}
	if o.Mode == "" {
		o.Mode = ModeEnforce
	}
	if o.ExcludeNamespaces == nil {
		o.ExcludeNamespaces = slices.Clone(DefaultExcludedNamespaces)
	}
	if o.PSSVersion == "" {
		o.PSSVersion = "latest"
	}
	if !slices.Contains(Scopes, o.Scope) {
		return o, fmt.Errorf("invalid scope %q: want %s or %s", o.Scope, ScopeCluster, ScopeRBAC)
	}
	if !slices.Contains(Modes, o.Mode) {
		return o, fmt.Errorf("invalid mode %q: want %s, %s or %s", o.Mode, ModeEnforce, ModeAudit, ModeWarn)
	}
	return o, nil
}

// SkippedPSP is a PSP that was not converted because PSP admission never
// used it either: it fails validation, or admission could not build its
// strategies (e.g. MustRunAs without ranges).
type SkippedPSP struct {
	Name   string   `json:"name"`
	Errors []string `json:"errors"`
}

// PolicySet is every converted PSP with the scope that decides which of them
// apply to a pod; renderers turn it into engine objects.
type PolicySet struct {
	Options Options
	// Policies are sorted by PSP name.
	Policies []Policy
	// Usability is set for ScopeRBAC: who may use each PSP, the same table
	// the audit's admission model reads.
	Usability rbac.UseTable
	// Skipped PSPs, with the reasons.
	Skipped []SkippedPSP
}

// ErrNoPSPs is returned when there is nothing to convert.
var ErrNoPSPs = errors.New("no valid PodSecurityPolicy to convert")

// Compile converts the PSPs of inv (or those named in opts.PSPs) into a
// PolicySet. With ScopeRBAC it also resolves who may use each PSP from
// inv's RBAC objects.
func Compile(inv *inventory.Inventory, opts Options) (*PolicySet, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	psps := inv.PodSecurityPolicies
	if len(opts.PSPs) > 0 {
		psps = nil
		for _, name := range opts.PSPs {
			i := slices.IndexFunc(inv.PodSecurityPolicies, func(p psp.PodSecurityPolicy) bool { return p.Name == name })
			if i < 0 {
				return nil, fmt.Errorf("PodSecurityPolicy %q not found", name)
			}
			psps = append(psps, inv.PodSecurityPolicies[i])
		}
	}
	set := &PolicySet{Options: opts}
	// The admission model knows which PSPs v1.24 ignored; those admitted
	// nothing, so converting them would only widen what pods may do.
	_, invalid := pspadmission.NewEvaluator(psps, nil)
	bad := map[string]bool{}
	for _, i := range invalid {
		bad[i.Name] = true
		set.Skipped = append(set.Skipped, SkippedPSP{Name: i.Name, Errors: i.Errors})
	}
	var names []string
	for i := range psps {
		if bad[psps[i].Name] || slices.Contains(names, psps[i].Name) {
			continue
		}
		names = append(names, psps[i].Name)
		set.Policies = append(set.Policies, CompilePolicy(&psps[i]))
	}
	if len(set.Policies) == 0 {
		return nil, ErrNoPSPs
	}
	slices.SortFunc(set.Policies, func(a, b Policy) int { return strings.Compare(a.Name, b.Name) })
	if opts.Scope == ScopeRBAC {
		set.Usability = inv.UseTable(inv.RBACIndex(), names)
	}
	return set, nil
}

// Excluded reports whether namespace is left out of the converted policies.
func (s *PolicySet) Excluded(namespace string) bool {
	return slices.Contains(s.Options.ExcludeNamespaces, namespace)
}

// PSPNames lists the converted PSPs in order.
func (s *PolicySet) PSPNames() []string {
	out := make([]string, len(s.Policies))
	for i, p := range s.Policies {
		out[i] = p.Name
	}
	return out
}

// usable reports whether a pod of service account sa in namespace, created
// by requester (nil: rbac.Unknown()), may use policy i as the rendered
// policies decide it: the pod side, and the requester grants they express
// through userInfo. system:masters gets no exemption: no policy renders
// one.
func (s *PolicySet) usable(i int, namespace, sa string, requester *rbac.User) bool {
	if s.Options.Scope != ScopeRBAC {
		return true
	}
	u := s.Usability[s.Policies[i].Name]
	if u == nil {
		return false
	}
	if u.PodServiceAccount(namespace, sa) {
		return true
	}
	if requester == nil {
		requester = rbac.Unknown()
	}
	for _, g := range requesterGrants(u) {
		if g.Matches(requester, namespace) {
			return true
		}
	}
	return false
}

// PSPVerdict is one converted PSP's answer for one pod.
type PSPVerdict struct {
	PSP string
	// Allowed is true when the pod passes every rule of the PSP.
	Allowed bool
	// Reasons are the messages of the rules the pod fails, in rule order.
	Reasons []string
}

// Verdict is the converted policies' answer for one pod.
type Verdict struct {
	// Excluded: the pod's namespace is not covered; nothing checks it.
	Excluded bool
	// Allowed is true when the pod passes the rules of at least one PSP it
	// may use (or is excluded).
	Allowed bool
	// Message is what the engine reports when it rejects the pod ("" when
	// allowed), word for word for the CEL engines.
	Message string
	// PSPs holds one verdict per PSP the pod may use, in name order.
	PSPs []PSPVerdict
}

// Messages of the combined policy. The CEL rendering builds the same
// strings, and the end-to-end test compares them with what the API server
// returns.
const (
	deniedPrefix    = "the pod satisfies no PodSecurityPolicy it may use: "
	noUsablePrefix  = "no converted PodSecurityPolicy may be used by service account "
	staticMessage   = "the pod satisfies no PodSecurityPolicy it may use (converted by kubectl psp-migrate)"
	reasonSeparator = "; "
	pspSeparator    = " | "
	// maxMessageBytes is the longest message the API server takes from a
	// messageExpression; longer ones fall back to the static message.
	maxMessageBytes = 5 * 1024
)

// Evaluate decides on one pod as the converted policies would: the pod as
// admission sees it (defaulted, after ServiceAccount admission — see
// pspadmission.Prepare for pods that did not come from the API server),
// created by requester (nil: an unknown authenticated user).
func (s *PolicySet) Evaluate(pod *corev1.Pod, requester *rbac.User) Verdict {
	namespace := pod.Namespace
	if namespace == "" {
		namespace = "default"
	}
	if s.Excluded(namespace) {
		return Verdict{Excluded: true, Allowed: true}
	}
	sa := rbac.PodServiceAccountName(&pod.Spec)
	v := Verdict{PSPs: []PSPVerdict{}}
	var entries []string
	for i := range s.Policies {
		if !s.usable(i, namespace, sa, requester) {
			continue
		}
		pv := s.Policies[i].Evaluate(pod)
		v.PSPs = append(v.PSPs, pv)
		if pv.Allowed {
			v.Allowed = true
		} else {
			entries = append(entries, pv.PSP+" ("+strings.Join(pv.Reasons, reasonSeparator)+")")
		}
	}
	if !v.Allowed {
		if len(entries) == 0 {
			v.Message = noUsablePrefix + namespace + "/" + sa
		} else {
			v.Message = deniedPrefix + strings.Join(entries, pspSeparator)
		}
		// The API server trims the message and falls back to the static one
		// when it is too long or spans lines (a profile name in a PSP
		// annotation may hold a newline).
		v.Message = strings.TrimSpace(v.Message)
		if len(v.Message) > maxMessageBytes || strings.Contains(v.Message, "\n") {
			v.Message = staticMessage
		}
	}
	return v
}

// Evaluate checks a pod against one PSP's rules.
func (p *Policy) Evaluate(pod *corev1.Pod) PSPVerdict {
	v := PSPVerdict{PSP: p.Name, Reasons: []string{}}
	for _, r := range p.Rules {
		if !r.Allows(pod) {
			v.Reasons = append(v.Reasons, r.Message())
		}
	}
	v.Allowed = len(v.Reasons) == 0
	return v
}
