// Package kubewarden renders the rule model as Kubewarden policies built
// from the PSP-family policy modules, and cel-policy for what no such
// module expresses exactly.
package kubewarden

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// The Kubewarden release and policy modules the kubewarden engine targets,
// pinned here and only here.
const (
	// APIVersion is the API version of the ClusterAdmissionPolicy
	// and ClusterAdmissionPolicyGroup objects the kubewarden engine writes.
	APIVersion = "policies.kubewarden.io/v1"
	// ControllerVersion is the kubewarden-controller release whose
	// CRDs and webhook validation the output is checked against
	// (hack/tools/kubewarden).
	ControllerVersion = "v1.31.0"
	// registry is where the policy modules are published.
	registry = "registry://ghcr.io/kubewarden/policies/"
)

// Policy modules, by their OCI name under registry.
const (
	modulePodPrivileged       = "pod-privileged"
	moduleHostNamespaces      = "host-namespaces-psp"
	moduleCapabilities        = "capabilities-psp"
	moduleReadOnlyRootFS      = "readonly-root-filesystem-psp"
	modulePrivilegeEscalation = "allow-privilege-escalation-psp"
	moduleUserGroup           = "user-group-psp"
	moduleFSGroups            = "allowed-fsgroups-psp"
	moduleSELinux             = "selinux-psp"
	moduleProcMount           = "allowed-proc-mount-types-psp"
	moduleFlexVolumes         = "flexvolume-drivers-psp"
	moduleVolumes             = "volumes-psp"
	moduleSysctls             = "sysctl-psp"
	moduleCEL                 = "cel-policy"
)

// Modules pins the version of every policy module the kubewarden
// engine references: the newest release of each in kubewarden/policies when
// this table was last reviewed. A bump is one reviewed change here; the
// settings each module documents are checked independently by kwcheck.
var Modules = map[string]string{
	modulePodPrivileged:       "v1.0.13",
	moduleHostNamespaces:      "v1.1.11",
	moduleCapabilities:        "v1.0.13",
	moduleReadOnlyRootFS:      "v1.0.13",
	modulePrivilegeEscalation: "v1.0.13",
	moduleUserGroup:           "v1.1.6",
	moduleFSGroups:            "v1.0.12",
	moduleSELinux:             "v1.1.2",
	moduleProcMount:           "v1.0.15",
	moduleFlexVolumes:         "v1.0.17",
	moduleVolumes:             "v1.1.10",
	moduleSysctls:             "v1.0.14",
	moduleCEL:                 "v1.6.3",
}

// moduleRef is the spec.module value of a module.
func moduleRef(module string) string {
	return registry + module + ":" + Modules[module]
}

// skipsEphemeral lists the modules that look at containers and init
// containers but not at ephemeral containers, which only arrive through the
// pods/ephemeralcontainers subresource (a pod cannot be created with them).
var skipsEphemeral = []string{moduleCapabilities, moduleReadOnlyRootFS, modulePrivilegeEscalation, moduleUserGroup}

// sysctlSafe is sysctl-psp's own list of safe sysctls. It lacks entries of
// the v1.24 list the conversion keeps (SafeSysctlsVersion), which are then
// passed as allowed unsafe sysctls so that the module admits what PSP did.
var sysctlSafe = []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range"}

// Engine writes Kubewarden policies built from the PSP-family
// policy modules (and, for the rules no such module expresses exactly, the
// cel-policy module with the rule's own CEL):
//
//   - one PSP that applies to every pod: one ClusterAdmissionPolicy per
//     module, which all must accept (the PSP's rules ANDed);
//   - otherwise one ClusterAdmissionPolicyGroup per set of usable PSPs, whose
//     expression ORs the PSPs, each the AND of its member modules, so that a
//     pod is admitted when any PSP it may use admits it. Under --scope rbac
//     the pods of each set are selected by matchConditions on the request's
//     namespace and the pod's service account.
//
// Every module is configured to validate only (mutating: false): a module
// that would default a field rejects the pod instead, which is the
// conversion's validate-only semantics.
type Engine struct{}

// Name implements translate.Engine.
func (Engine) Name() string { return translate.EngineKubewarden }

// Component implements translate.Engine: the controller and every module
// pinned.
func (Engine) Component() string {
	names := make([]string, 0, len(Modules))
	for m := range Modules {
		names = append(names, m+":"+Modules[m])
	}
	sort.Strings(names)
	return APIVersion + " (kubewarden-controller " + ControllerVersion + "; modules " + strings.Join(names, ", ") + ")"
}

// NeedsPolicySet implements translate.Engine.
func (Engine) NeedsPolicySet() bool { return true }

// Prediction implements translate.Engine: the groups select pods by
// namespace and service account only, and some modules skip ephemeral
// containers (enginePolicy).
func (Engine) Prediction() *translate.Prediction {
	return &translate.Prediction{RequesterBlind: true, EnginePolicy: enginePolicy}
}

// modes maps --mode to spec.mode. Kubewarden has no warning mode:
// a policy in monitor mode admits the pod and records the violation (policy
// server logs, metrics and traces), which serves both audit and warn.
var modes = map[translate.Mode]string{translate.ModeEnforce: "protect", translate.ModeAudit: "monitor", translate.ModeWarn: "monitor"}

// The spec fields of the Kubewarden policies this engine writes. The plugin
// does not import kubewarden-controller (it pins older Kubernetes
// libraries); hack/tools/kubewarden holds the output to the real types, CRDs
// and webhook validation of ControllerVersion.
type policySpec struct {
	PolicyServer    string                                       `json:"policyServer"`
	Mode            string                                       `json:"mode"`
	Module          string                                       `json:"module,omitempty"`
	Settings        map[string]any                               `json:"settings,omitempty"`
	Rules           []admissionregistrationv1.RuleWithOperations `json:"rules"`
	FailurePolicy   *admissionregistrationv1.FailurePolicyType   `json:"failurePolicy"`
	Mutating        *bool                                        `json:"mutating,omitempty"`
	BackgroundAudit bool                                         `json:"backgroundAudit"`
	MatchConditions []admissionregistrationv1.MatchCondition     `json:"matchConditions,omitempty"`
	// NamespaceSelector leaves the excluded namespaces out.
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// Policies, Expression and Message are the group's.
	Policies   map[string]groupMember `json:"policies,omitempty"`
	Expression string                 `json:"expression,omitempty"`
	Message    string                 `json:"message,omitempty"`
}

type groupMember struct {
	Module   string         `json:"module"`
	Settings map[string]any `json:"settings"`
}

type policyObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              policySpec `json:"spec"`
}

// moduleUse is one module configured for one PSP, with the rules it
// checks.
type moduleUse struct {
	module   string
	settings map[string]any
	rules    []translate.Rule
}

// moduleUses maps one PSP's rules to configured modules, in a stable
// order. Each rule goes to the PSP-family module that checks exactly what
// the rule does for the PSP's values; the rest go, with their CEL, to one
// cel-policy instance.
func moduleUses(p *translate.Policy) []moduleUse {
	var uses []*moduleUse
	byModule := map[string]*moduleUse{}
	use := func(module string, r translate.Rule, defaults func() map[string]any) *moduleUse {
		u := byModule[module]
		if u == nil {
			u = &moduleUse{module: module, settings: defaults()}
			byModule[module] = u
			uses = append(uses, u)
		}
		u.rules = append(u.rules, r)
		return u
	}
	var celRules []translate.Rule
	for _, r := range p.Rules {
		switch r := r.(type) {
		case translate.ForbidPrivileged:
			use(modulePodPrivileged, r, func() map[string]any {
				return map[string]any{"skip_init_containers": false, "skip_ephemeral_containers": false}
			})
		case translate.ForbidHostNamespace:
			u := use(moduleHostNamespaces, r, hostNamespaceDefaults)
			u.settings["allow_host_"+strings.ToLower(strings.TrimPrefix(r.Namespace, "host"))] = false
		case translate.HostPorts:
			u := use(moduleHostNamespaces, r, hostNamespaceDefaults)
			ranges := []any{}
			for _, pr := range r.Ranges {
				ranges = append(ranges, map[string]any{"min": int64(pr.Min), "max": int64(pr.Max)})
			}
			u.settings["allow_host_ports"] = ranges
		case translate.AllowedCapabilities:
			u := use(moduleCapabilities, r, capabilityDefaults)
			u.settings["allowed_capabilities"] = translate.AnyStrings(r.Allowed)
		case translate.RequiredDropCapabilities:
			u := use(moduleCapabilities, r, capabilityDefaults)
			u.settings["required_drop_capabilities"] = translate.AnyStrings(r.Required)
		case translate.ReadOnlyRootFilesystem:
			use(moduleReadOnlyRootFS, r, func() map[string]any { return map[string]any{} })
		case translate.ForbidPrivilegeEscalation:
			// A container that leaves the field unset would be mutated to
			// false; with mutating: false that rejects it, as the PSP
			// (validate-only) must.
			use(modulePrivilegeEscalation, r, func() map[string]any {
				return map[string]any{"default_allow_privilege_escalation": false}
			})
		case translate.RunAsUser:
			u := use(moduleUserGroup, r, userGroupDefaults)
			s := map[string]any{"rule": string(r.Rule)}
			if r.Rule == psp.RunAsUserStrategyMustRunAs {
				s["ranges"] = idRangesAny(r.Ranges)
			}
			u.settings["run_as_user"] = s
		case translate.GroupRule:
			rule := map[bool]string{true: "MustRunAs", false: "MayRunAs"}[r.Must]
			s := map[string]any{"rule": rule, "ranges": idRangesAny(r.Ranges)}
			switch r.Kind {
			case "fsGroup":
				use(moduleFSGroups, r, func() map[string]any { return s })
			case "runAsGroup":
				use(moduleUserGroup, r, userGroupDefaults).settings["run_as_group"] = s
			case "supplementalGroups":
				use(moduleUserGroup, r, userGroupDefaults).settings["supplemental_groups"] = s
			}
		case translate.SELinux:
			o := r.Options
			// selinux-psp compares only the fields it is given; PSP compared
			// all four, unset ones included.
			if o.User == "" || o.Role == "" || o.Type == "" || o.Level == "" {
				celRules = append(celRules, r)
				continue
			}
			use(moduleSELinux, r, func() map[string]any {
				return map[string]any{"rule": "MustRunAs", "user": o.User, "role": o.Role, "type": o.Type, "level": o.Level}
			})
		case translate.ProcMountTypes:
			// The rule exists only when Unmasked is not allowed.
			use(moduleProcMount, r, func() map[string]any { return map[string]any{"allow_unmasked_proc_mount_type": false} })
		case translate.FlexVolumeDrivers:
			use(moduleFlexVolumes, r, func() map[string]any {
				drivers := []any{}
				for _, d := range r.Drivers {
					drivers = append(drivers, map[string]any{"driver": d})
				}
				return map[string]any{"allowedFlexVolumes": drivers}
			})
		case translate.VolumeTypes:
			// volumes-psp rejects every pod when no type is allowed, and
			// knows no exception for the service account token volume.
			if len(r.Allowed) == 0 || r.AllowServiceAccountToken {
				celRules = append(celRules, r)
				continue
			}
			use(moduleVolumes, r, func() map[string]any {
				return map[string]any{"allowedTypes": translate.AnyStrings(volumeFields(r.Allowed))}
			})
		case translate.UnsafeSysctls:
			s, ok := sysctlSettings(r)
			if !ok {
				celRules = append(celRules, r)
				continue
			}
			use(moduleSysctls, r, func() map[string]any { return s })
		case translate.ForbiddenSysctls:
			// Checked by sysctl-psp along with UnsafeSysctls, which carries
			// the same forbidden list; alone (every unsafe sysctl allowed)
			// sysctl-psp cannot express it.
			if u := byModule[moduleSysctls]; u != nil {
				u.rules = append(u.rules, r)
				continue
			}
			celRules = append(celRules, r)
		default:
			// PrivilegeEscalationSet, HostPathPrefixes, HostPathReadOnly,
			// CSIDrivers, RuntimeClassNames, SeccompProfiles,
			// AppArmorProfiles: see docs/conversion.md.
			celRules = append(celRules, r)
		}
	}
	// ForbiddenSysctls precedes UnsafeSysctls in the rules; move it to
	// sysctl-psp when UnsafeSysctls went there.
	if u := byModule[moduleSysctls]; u != nil {
		kept := celRules[:0]
		for _, r := range celRules {
			if _, ok := r.(translate.ForbiddenSysctls); ok {
				u.rules = append(u.rules, r)
				continue
			}
			kept = append(kept, r)
		}
		celRules = kept
	}
	if len(celRules) > 0 {
		validations := make([]any, len(celRules))
		for i, r := range celRules {
			validations[i] = map[string]any{"expression": r.CEL(), "message": r.Message()}
		}
		uses = append(uses, &moduleUse{module: moduleCEL, rules: celRules, settings: map[string]any{"validations": validations}})
	}
	out := make([]moduleUse, len(uses))
	for i, u := range uses {
		out[i] = *u
	}
	return out
}

func hostNamespaceDefaults() map[string]any {
	return map[string]any{
		"allow_host_ipc": true, "allow_host_network": true, "allow_host_pid": true,
		"allow_host_ports": []any{map[string]any{"min": int64(0), "max": int64(65535)}},
	}
}

func capabilityDefaults() map[string]any {
	return map[string]any{"allowed_capabilities": []any{"*"}, "required_drop_capabilities": []any{}}
}

func userGroupDefaults() map[string]any {
	anyRule := func() map[string]any { return map[string]any{"rule": "RunAsAny"} }
	return map[string]any{
		"run_as_user": anyRule(), "run_as_group": anyRule(), "supplemental_groups": anyRule(),
		"validate_only": true, "validate_container_image_configuration": false,
	}
}

// sysctlSettings configures sysctl-psp for r when the module can say
// exactly what r does: allowed sysctls without globs, forbidden ones with a
// trailing glob at most.
func sysctlSettings(r translate.UnsafeSysctls) (map[string]any, bool) {
	for _, a := range r.Allowed {
		if strings.Contains(a, "*") {
			return nil, false
		}
	}
	for _, f := range r.Forbidden {
		if i := strings.Index(f, "*"); i >= 0 && i != len(f)-1 {
			return nil, false
		}
	}
	allowed := slices.Clone(r.Allowed)
	for _, s := range r.Safe {
		if !slices.Contains(sysctlSafe, s) && !slices.Contains(allowed, s) && !psp.SysctlMatches(r.Forbidden, s) {
			allowed = append(allowed, s)
		}
	}
	for _, a := range allowed {
		if slices.Contains(r.Forbidden, a) {
			// The module refuses settings that allow and forbid a name.
			return nil, false
		}
	}
	return map[string]any{"allowedUnsafeSysctls": translate.AnyStrings(allowed), "forbiddenSysctls": translate.AnyStrings(r.Forbidden)}, true
}

// volumeFields are the pod's volume source fields of the PSP volume types,
// which is what volumes-psp compares (cephFS is the field cephfs).
func volumeFields(types []psp.FSType) []string {
	var out []string
	for _, t := range types {
		for _, s := range translate.VolumeSources() {
			if s.Type == t {
				out = append(out, s.Field)
			}
		}
	}
	return out
}

func idRangesAny(ranges []psp.IDRange) []any {
	out := make([]any, len(ranges))
	for i, r := range ranges {
		out[i] = map[string]any{"min": r.Min, "max": r.Max}
	}
	return out
}

// class is a set of pods to which the same PSPs apply, and the condition
// that selects them ("" for every pod).
type class struct {
	psps      []int // indexes into set.Policies
	condition string
}

// serviceAccount is the pod's service account as "namespace/name", the
// way Usability names it. The field is set by ServiceAccount admission
// before webhooks run; "default" covers a pod that reached them without.
const serviceAccount = `request.namespace + "/" + (has(object.spec.serviceAccountName) && object.spec.serviceAccountName != "" ? object.spec.serviceAccountName : "default")`

// classes partitions the pods by the exact set of PSPs they may
// use. Under ScopeCluster that is one class. Under ScopeRBAC a pod's set
// depends on its namespace and service account only: the service accounts
// listed in some PSP's Usability get their own set, the other pods of a
// listed namespace their namespace's, and everyone else the PSPs usable
// everywhere.
func classes(set *translate.PolicySet) []class {
	all := make([]int, len(set.Policies))
	for i := range all {
		all[i] = i
	}
	if set.Options.Scope != translate.ScopeRBAC {
		return []class{{psps: all}}
	}
	var everywhere []int
	nsSet, saSet := map[string]bool{}, map[string]bool{}
	for i := range set.Policies {
		u := set.Usability[set.Policies[i].Name]
		if u.Everywhere {
			everywhere = append(everywhere, i)
		}
		for _, ns := range u.Namespaces {
			nsSet[ns] = true
		}
		for _, sa := range u.ServiceAccounts {
			saSet[sa] = true
		}
	}
	usable := func(ns, sa string) []int {
		var out []int
		for i := range set.Policies {
			// The groups select by namespace and service account only.
			if set.Usable(i, ns, sa, nil) {
				out = append(out, i)
			}
		}
		return out
	}
	key := func(ids []int) string { return fmt.Sprint(ids) }
	// The service account that no binding names stands for every other
	// account of its namespace.
	nsPSPs := func(ns string) []int { return usable(ns, translate.GhostServiceAccount) }

	type members struct {
		psps       []int
		namespaces []string
		accounts   []string
	}
	classes := map[string]*members{}
	get := func(ids []int) *members {
		k := key(ids)
		if classes[k] == nil {
			classes[k] = &members{psps: ids}
		}
		return classes[k]
	}
	var special []string // accounts whose set differs from their namespace's
	for _, sa := range translate.SortedKeys(saSet) {
		ns, name, _ := strings.Cut(sa, "/")
		ids := usable(ns, name)
		if key(ids) == key(nsPSPs(ns)) {
			continue
		}
		special = append(special, sa)
		m := get(ids)
		m.accounts = append(m.accounts, sa)
	}
	listed := translate.SortedKeys(nsSet)
	for _, ns := range listed {
		m := get(nsPSPs(ns))
		m.namespaces = append(m.namespaces, ns)
	}
	def := get(everywhere)

	keys := make([]string, 0, len(classes))
	for k := range classes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []class
	for _, k := range keys {
		m := classes[k]
		var byNS []string
		if len(m.namespaces) > 0 {
			byNS = append(byNS, "request.namespace in "+translate.CELStrings(m.namespaces))
		}
		if m == def && len(listed) > 0 {
			byNS = append(byNS, "!(request.namespace in "+translate.CELStrings(listed)+")")
		} else if m == def {
			byNS = append(byNS, "true")
		}
		var terms []string
		if len(m.accounts) > 0 {
			terms = append(terms, serviceAccount+" in "+translate.CELStrings(m.accounts))
		}
		if len(byNS) > 0 {
			t := translate.CELOr(byNS)
			if len(special) > 0 {
				t = "!(" + serviceAccount + " in " + translate.CELStrings(special) + ") && (" + t + ")"
			}
			terms = append(terms, t)
		}
		out = append(out, class{psps: m.psps, condition: translate.CELOr(terms)})
	}
	if len(out) == 1 {
		out[0].condition = ""
	}
	return out
}

// nonIdentifier matches what a CEL identifier may not hold.
var nonIdentifier = regexp.MustCompile(`[^A-Za-z0-9_]`)

// memberName is a group member's name: a CEL identifier, since the group
// expression calls it.
func memberName(pspName, module string, taken map[string]bool) string {
	base := nonIdentifier.ReplaceAllString(pspName+"_"+module, "_")
	if base[0] >= '0' && base[0] <= '9' {
		base = "p_" + base
	}
	name := base
	for n := 2; taken[name]; n++ {
		name = fmt.Sprintf("%s_%d", base, n)
	}
	taken[name] = true
	return name
}

// noPSP is the member of the group for pods that may use no converted
// PSP: a cel-policy that rejects every request.
const noPSP = "no_usable_psp"

// Render implements translate.Engine.
func (Engine) Render(in translate.Input) (translate.Output, error) {
	set := in.Set
	if set == nil {
		return translate.Output{}, errors.New("kubewarden: no policies to render")
	}
	mode, ok := modes[set.Options.Mode]
	if !ok {
		return translate.Output{}, fmt.Errorf("kubewarden: invalid mode %q", set.Options.Mode)
	}
	name := translate.ObjectName(set)
	base := policySpec{
		PolicyServer:  "default",
		Mode:          mode,
		FailurePolicy: new(admissionregistrationv1.Fail),
		// PSP checked pods on create; ephemeral containers arrive later
		// through their subresource (see the vap engine).
		Rules: []admissionregistrationv1.RuleWithOperations{
			podRule("pods", admissionregistrationv1.Create),
			podRule("pods/ephemeralcontainers", admissionregistrationv1.Update),
		},
		// The audit scanner re-checks existing pods; it does not know the
		// request a matchCondition reads, so it is left on only when every
		// pod gets the same policies.
		BackgroundAudit: set.Options.Scope != translate.ScopeRBAC,
	}
	base.NamespaceSelector = translate.ExcludedNamespacesSelector(set.Options.ExcludeNamespaces)
	modules := make([][]moduleUse, len(set.Policies))
	for i := range set.Policies {
		modules[i] = moduleUses(&set.Policies[i])
	}

	var out translate.Output
	add := func(kind, objName string, psps []string, spec policySpec) error {
		labels, annotations := translate.Provenance(translate.EngineKubewarden, psps, set.Options)
		annotations[translate.AnnotationScope] = string(set.Options.Scope)
		annotations[translate.AnnotationMode] = string(set.Options.Mode)
		obj := &policyObject{
			TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: kind},
			ObjectMeta: metav1.ObjectMeta{Name: objName, Labels: labels, Annotations: annotations},
			Spec:       spec,
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("kubewarden: convert %s %s: %w", kind, objName, err)
		}
		out.Objects = append(out.Objects, translate.Object{
			Engine: translate.EngineKubewarden, Object: &unstructured.Unstructured{Object: m},
			FileName: translate.FileName(translate.EngineKubewarden, kind, objName),
		})
		return nil
	}

	classes := classes(set)
	if len(set.Policies) == 1 && len(classes) == 1 && classes[0].condition == "" {
		// One PSP for every pod: one policy per module, all of which must
		// accept, is the PSP's AND of rules.
		if len(modules[0]) == 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("PodSecurityPolicy %q restricts nothing: no Kubewarden policy is needed, none was written", set.Policies[0].Name))
		}
		for _, u := range modules[0] {
			spec := base
			spec.Module = moduleRef(u.module)
			spec.Settings = u.settings
			spec.Mutating = new(false)
			spec.NamespaceSelector = base.NamespaceSelector.DeepCopy()
			if err := add("ClusterAdmissionPolicy", name+"-"+u.module, set.PSPNames(), spec); err != nil {
				return translate.Output{}, err
			}
		}
	} else {
		for ci, c := range classes {
			spec := base
			spec.NamespaceSelector = base.NamespaceSelector.DeepCopy()
			spec.Policies = map[string]groupMember{}
			taken := map[string]bool{}
			var ors, names []string
			for _, i := range c.psps {
				p := &set.Policies[i]
				names = append(names, p.Name)
				var ands []string
				for _, u := range modules[i] {
					m := memberName(p.Name, u.module, taken)
					spec.Policies[m] = groupMember{Module: moduleRef(u.module), Settings: u.settings}
					ands = append(ands, m+"()")
				}
				if len(ands) == 0 {
					ands = []string{"true"} // a PSP without rules admits every pod
				}
				ors = append(ors, "("+strings.Join(ands, " && ")+")")
			}
			if len(ors) == 0 {
				spec.Policies[noPSP] = groupMember{Module: moduleRef(moduleCEL), Settings: map[string]any{
					"validations": []any{map[string]any{"expression": "false", "message": "no converted PodSecurityPolicy may be used by the pod's service account"}},
				}}
				ors = []string{noPSP + "()"}
			}
			spec.Expression = strings.Join(ors, " || ")
			if len(names) > 0 {
				spec.Message = "the pod satisfies none of the PodSecurityPolicies it may use (" + strings.Join(names, ", ") + "), converted by kubectl psp-migrate"
			} else {
				spec.Message = "the pod may use no converted PodSecurityPolicy (converted by kubectl psp-migrate)"
			}
			if c.condition != "" {
				spec.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "psp-migrate-usable-psps", Expression: c.condition}}
			}
			objName := name
			if len(classes) > 1 {
				objName = fmt.Sprintf("%s-%d", name, ci+1)
			}
			if err := add("ClusterAdmissionPolicyGroup", objName, names, spec); err != nil {
				return translate.Output{}, err
			}
		}
	}

	for i := range set.Policies {
		var fields []string
		for _, u := range modules[i] {
			if slices.Contains(skipsEphemeral, u.module) {
				for _, r := range u.rules {
					if !slices.Contains(fields, r.Field()) {
						fields = append(fields, r.Field())
					}
				}
			}
		}
		if len(fields) > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("PodSecurityPolicy %q: %s: the Kubewarden modules for these fields do not check ephemeral containers (kubectl debug)",
				set.Policies[i].Name, strings.Join(fields, ", ")))
		}
	}
	out.Warnings = append(out.Warnings, translate.RequesterIgnoredWarnings(set, "the Kubewarden groups select pods by namespace and service account only, so those grants are not converted: the pods those requesters create may use it only where their service account may")...)
	out.Warnings = append(out.Warnings, translate.SkippedWarnings(set)...)
	return out, nil
}

func podRule(resource string, op admissionregistrationv1.OperationType) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{op},
		Rule: admissionregistrationv1.Rule{
			APIGroups:   []string{""},
			APIVersions: []string{"v1"},
			Resources:   []string{resource},
		},
	}
}

// enginePolicy is Prediction.EnginePolicy: the rules that go to a module
// which skips ephemeral containers are predicted without them, so that
// `audit -e kubewarden` says what the rendered policies will do (Render
// warns about it).
func enginePolicy(set *translate.PolicySet, i int) translate.Policy {
	pol := set.Policies[i]
	skip := map[string]bool{}
	for _, u := range moduleUses(&pol) {
		if slices.Contains(skipsEphemeral, u.module) {
			for _, r := range u.rules {
				skip[r.ID()] = true
			}
		}
	}
	rules := make([]translate.Rule, len(pol.Rules))
	for j, r := range pol.Rules {
		if skip[r.ID()] {
			r = ignoringEphemeral{r}
		}
		rules[j] = r
	}
	pol.Rules = rules
	return pol
}

// ignoringEphemeral is a rule as a module enforces it that looks at
// containers and init containers only. Its CEL is the wrapped rule's: it is
// used for predictions, never rendered.
type ignoringEphemeral struct{ translate.Rule }

// Allows evaluates the wrapped rule on the pod without its ephemeral
// containers.
func (r ignoringEphemeral) Allows(pod *corev1.Pod) bool {
	if len(pod.Spec.EphemeralContainers) == 0 {
		return r.Rule.Allows(pod)
	}
	cp := *pod
	cp.Spec.EphemeralContainers = nil
	return r.Rule.Allows(&cp)
}
