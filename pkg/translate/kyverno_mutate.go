package translate

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// Defaults are what a PSP filled into a pod it admitted (the provider's
// defaulting in v1.24 PSP admission, as pkg/pspadmission models it). Only
// the kyverno engine's --mutate renders them; every engine validates that
// the resulting values are there.
type Defaults struct {
	// RunAsUser is the UID of runAsUser MustRunAs (first range's min),
	// written into each container that has none at either level.
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsNonRoot marks containers without a UID and without runAsNonRoot
	// (runAsUser MustRunAsNonRoot).
	RunAsNonRoot bool `json:"runAsNonRoot,omitempty"`
	// RunAsGroup is the container GID of runAsGroup MustRunAs.
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// FSGroup and SupplementalGroup are pod-level defaults (MustRunAs).
	FSGroup           *int64 `json:"fsGroup,omitempty"`
	SupplementalGroup *int64 `json:"supplementalGroup,omitempty"`
	// SELinux is the pod-level seLinuxOptions of seLinux MustRunAs. A pod
	// without them gets them at pod level, which then counts as set for
	// every container, so no container-level default is ever written.
	SELinux *corev1.SELinuxOptions `json:"seLinux,omitempty"`
	// ReadOnlyRootFilesystem defaults each container's field to true.
	ReadOnlyRootFilesystem bool `json:"readOnlyRootFilesystem,omitempty"`
	// AllowPrivilegeEscalation is the value of an unset container field:
	// defaultAllowPrivilegeEscalation, else false when the PSP forbids
	// escalation.
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	// AddCapabilities (defaultAddCapabilities) and DropCapabilities
	// (requiredDropCapabilities), sorted and without duplicates.
	AddCapabilities  []string `json:"addCapabilities,omitempty"`
	DropCapabilities []string `json:"dropCapabilities,omitempty"`
	// SeccompProfile is the pod-level default profile annotation value.
	SeccompProfile string `json:"seccompProfile,omitempty"`
	// AppArmorProfile is the default profile of each container.
	AppArmorProfile string `json:"appArmorProfile,omitempty"`
	// RuntimeClassName is runtimeClass.defaultRuntimeClassName.
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`
}

// CompileDefaults reads the defaults of a PSP that admission could build.
func CompileDefaults(p *psp.PodSecurityPolicy) Defaults {
	spec := &p.Spec
	var d Defaults
	first := func(ranges []psp.IDRange) *int64 {
		if len(ranges) == 0 {
			return nil
		}
		v := ranges[0].Min
		return &v
	}
	switch spec.RunAsUser.Rule {
	case psp.RunAsUserStrategyMustRunAs:
		d.RunAsUser = first(spec.RunAsUser.Ranges)
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		d.RunAsNonRoot = true
	}
	if spec.RunAsGroup != nil && spec.RunAsGroup.Rule == psp.RunAsGroupStrategyMustRunAs {
		d.RunAsGroup = first(spec.RunAsGroup.Ranges)
	}
	if spec.FSGroup.Rule == psp.FSGroupStrategyMustRunAs {
		d.FSGroup = first(spec.FSGroup.Ranges)
	}
	if spec.SupplementalGroups.Rule == psp.SupplementalGroupsStrategyMustRunAs {
		d.SupplementalGroup = first(spec.SupplementalGroups.Ranges)
	}
	if spec.SELinux.Rule == psp.SELinuxStrategyMustRunAs && spec.SELinux.SELinuxOptions != nil {
		d.SELinux = spec.SELinux.SELinuxOptions.DeepCopy()
	}
	d.ReadOnlyRootFilesystem = spec.ReadOnlyRootFilesystem
	switch {
	case spec.DefaultAllowPrivilegeEscalation != nil:
		v := *spec.DefaultAllowPrivilegeEscalation
		d.AllowPrivilegeEscalation = &v
	case spec.AllowPrivilegeEscalation != nil && !*spec.AllowPrivilegeEscalation:
		d.AllowPrivilegeEscalation = new(false)
	}
	d.AddCapabilities = uniqueCaps(spec.DefaultAddCapabilities)
	d.DropCapabilities = uniqueCaps(spec.RequiredDropCapabilities)
	d.SeccompProfile = p.Annotations[psp.SeccompDefaultProfileAnnotation]
	d.AppArmorProfile = p.Annotations[psp.AppArmorDefaultProfileAnnotation]
	if rc := spec.RuntimeClass; rc != nil && rc.DefaultRuntimeClassName != nil {
		name := *rc.DefaultRuntimeClassName
		d.RuntimeClassName = &name
	}
	return d
}

func uniqueCaps(caps []corev1.Capability) []string {
	var out []string
	for _, c := range caps {
		if !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	sort.Strings(out)
	return out
}

// podLevel reports whether any pod-level default is set.
func (d *Defaults) podLevel() bool {
	return d.FSGroup != nil || d.SupplementalGroup != nil || d.SELinux != nil || d.RuntimeClassName != nil
}

// kyvernoUnsafe returns a default text value that Kyverno would take for a
// variable or a reference.
func (d *Defaults) kyvernoUnsafe() (string, bool) {
	values := []string{d.SeccompProfile, d.AppArmorProfile}
	if d.RuntimeClassName != nil {
		values = append(values, *d.RuntimeClassName)
	}
	if o := d.SELinux; o != nil {
		values = append(values, o.User, o.Role, o.Type, o.Level)
	}
	for _, v := range values {
		if strings.Contains(v, "{{") || strings.Contains(v, "$(") {
			return v, true
		}
	}
	return "", false
}

// containerLevel reports whether any container-level default is set.
func (d *Defaults) containerLevel() bool {
	return d.RunAsUser != nil || d.RunAsNonRoot || d.RunAsGroup != nil || d.ReadOnlyRootFilesystem ||
		d.AllowPrivilegeEscalation != nil || len(d.AddCapabilities) > 0 || len(d.DropCapabilities) > 0 || d.AppArmorProfile != ""
}

// Empty reports whether the PSP fills in nothing.
func (d *Defaults) Empty() bool {
	return !d.podLevel() && !d.containerLevel() && d.SeccompProfile == ""
}

// ErrMutateAmbiguous is returned for --mutate when a pod may use more than
// one of the converted PSPs.
var ErrMutateAmbiguous = errors.New("each pod must be able to use exactly one of the converted PodSecurityPolicies, whose defaults then apply")

// mutateUsable checks the scope restriction of --mutate and returns, per
// PSP in set order, whether its defaults are rendered: PSP admission chose
// per pod which PSP's defaults to apply (the first usable PSP that admits
// the pod unchanged, else the first by name that admits it changed), a
// choice that depends on the pod and that no engine policy reproduces. So
// the defaults are only rendered when no pod may use two of the converted
// PSPs: a single PSP, or under --scope rbac PSPs whose usability never
// overlaps. PSPs that no one may use are left out.
func (s *PolicySet) mutateUsable() ([]bool, error) {
	out := make([]bool, len(s.Policies))
	if len(s.Policies) == 1 {
		out[0] = true
		return out, nil
	}
	if s.Options.Scope != ScopeRBAC {
		return nil, fmt.Errorf("%w: with --scope %s every pod may use each of %s; convert one with --psp NAME",
			ErrMutateAmbiguous, s.Options.Scope, strings.Join(s.PSPNames(), ", "))
	}
	var overlaps []string
	for i := range s.Policies {
		ui := s.Usability[s.Policies[i].Name]
		out[i] = ui != nil && !ui.Empty()
		for j := i + 1; j < len(s.Policies); j++ {
			uj := s.Usability[s.Policies[j].Name]
			if where, ok := usabilityOverlap(ui, uj); ok {
				overlaps = append(overlaps, fmt.Sprintf("%s and %s (%s)", s.Policies[i].Name, s.Policies[j].Name, where))
			}
		}
	}
	if len(overlaps) > 0 {
		return nil, fmt.Errorf("%w: pods may use both of %s; convert one of them with --psp NAME, or the PSPs whose users do not overlap",
			ErrMutateAmbiguous, strings.Join(overlaps, "; "))
	}
	return out, nil
}

// usabilityOverlap reports whether some pod may use both PSPs, and names
// one such namespace or service account. A PSP granted to requesters
// overlaps with every other that someone may use: the same pod may be
// created by that requester or by anyone else.
func usabilityOverlap(u, v *rbac.Usability) (string, bool) {
	if u == nil || v == nil || u.Empty() || v.Empty() {
		return "", false
	}
	if u.Everywhere || v.Everywhere {
		return "everywhere", true
	}
	for _, ns := range u.Namespaces {
		if slices.Contains(v.Namespaces, ns) {
			return "namespace " + ns, true
		}
	}
	for _, a := range [2][2]*rbac.Usability{{u, v}, {v, u}} {
		for _, sa := range a[0].ServiceAccounts {
			ns, _, _ := strings.Cut(sa, "/")
			if slices.Contains(a[1].ServiceAccounts, sa) || slices.Contains(a[1].Namespaces, ns) {
				return "service account " + sa, true
			}
		}
		if g := requesterGrants(a[0]); len(g) > 0 {
			return "pods created by " + g[0].Kind + " " + g[0].Name, true
		}
	}
	return "", false
}

// The mutate ClusterPolicy, limited to fields Kyverno v1.8 knows:
// patchStrategicMerge with add anchors, and foreach with per-element
// preconditions.
type mutatePolicySpec struct {
	// Background is false: mutation applies to admission requests only.
	Background bool `json:"background"`
	// FailurePolicy Fail: a pod the defaults could not be applied to would
	// otherwise be created without them (PSP never let that happen).
	FailurePolicy string       `json:"failurePolicy"`
	Rules         []mutateRule `json:"rules"`
}

type mutateRule struct {
	Name          string                   `json:"name"`
	Match         clusterPolicyMatch       `json:"match"`
	Exclude       *clusterPolicyMatch      `json:"exclude,omitempty"`
	Preconditions *clusterPolicyConditions `json:"preconditions,omitempty"`
	Mutate        mutateSpec               `json:"mutate"`
}

type mutateSpec struct {
	PatchStrategicMerge map[string]any `json:"patchStrategicMerge,omitempty"`
	ForEach             []mutateEach   `json:"foreach,omitempty"`
}

type mutateEach struct {
	List                string                   `json:"list"`
	Preconditions       *clusterPolicyConditions `json:"preconditions,omitempty"`
	PatchStrategicMerge map[string]any           `json:"patchStrategicMerge"`
}

// kyvernoCreate limits mutation to pod creation: PSP mutated on CREATE
// only (on UPDATE it refused any change).
const kyvernoCreate = "{{ request.operation == 'CREATE' && !(request.subResource) }}"

// mutateName is the name of the mutate policy next to the validate policy
// name.
func mutateName(name string) string {
	const suffix = "-defaults"
	if len(name)+len(suffix) <= 63 {
		return name + suffix
	}
	return name[:63-len(suffix)] + suffix
}

// kyvernoMutatePolicy renders the defaults of the converted PSPs as a
// mutate ClusterPolicy, or nil when no PSP has any.
func (s *PolicySet) kyvernoMutatePolicy(name string) (*unstructured.Unstructured, []string, error) {
	rendered, err := s.mutateUsable()
	if err != nil {
		return nil, nil, err
	}
	var rules []mutateRule
	var warnings []string
	for i := range s.Policies {
		p := &s.Policies[i]
		if !rendered[i] || p.Defaults.Empty() {
			continue
		}
		conds := []clusterPolicyCondition{{Key: kyvernoCreate, Operator: "Equals", Value: true}}
		if s.Options.Scope == ScopeRBAC && len(s.Policies) > 1 {
			if u := usabilityJMESPath(s.Usability[p.Name]); u != jpTrue {
				conds = append(conds, clusterPolicyCondition{Key: "{{ " + u + " }}", Operator: "Equals", Value: true})
			}
		}
		prefix := ""
		if len(s.Policies) > 1 {
			prefix = "psp" + strconv.Itoa(i) + "-"
		}
		for _, r := range p.Defaults.rules() {
			r.Name = prefix + r.Name
			r.Match = clusterPolicyMatch{Any: []clusterPolicyFilter{{Resources: clusterPolicyResources{Kinds: []string{"Pod"}}}}}
			r.Preconditions = &clusterPolicyConditions{All: append(slices.Clone(conds), r.Preconditions.All...)}
			if ex := s.Options.ExcludeNamespaces; len(ex) > 0 {
				r.Exclude = &clusterPolicyMatch{Any: []clusterPolicyFilter{{Resources: clusterPolicyResources{Namespaces: slices.Clone(ex)}}}}
			}
			rules = append(rules, r)
		}
		if v, bad := p.Defaults.kyvernoUnsafe(); bad {
			return nil, nil, fmt.Errorf("PodSecurityPolicy %q default %q holds \"{{\" or \"$(\", which Kyverno would read as a variable", p.Name, v)
		}
		if d := p.Defaults; d.SeccompProfile != "" && seccompField(d.SeccompProfile) == nil {
			warnings = append(warnings, fmt.Sprintf("kyverno: PodSecurityPolicy %q default seccomp profile %q has no seccompProfile field equivalent: --mutate writes the annotation only", p.Name, d.SeccompProfile))
		}
	}
	if len(rules) == 0 {
		return nil, warnings, nil
	}
	warnings = append(warnings, "kyverno: --mutate: the mutate policy uses only fields Kyverno "+KyvernoMinVersion+" knows (foreach with preconditions and strategic merge patches), but is proven against Kyverno's own CLI of a current release only; releases before v1.10 had known bugs with several foreach mutations on one resource: check it with `kyverno apply` of your release")
	spec := mutatePolicySpec{Background: false, FailurePolicy: "Fail", Rules: rules}
	specMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		return nil, nil, fmt.Errorf("kyverno: ClusterPolicy %s: %w", name, err)
	}
	var names []string
	for i := range s.Policies {
		if rendered[i] && !s.Policies[i].Defaults.Empty() {
			names = append(names, s.Policies[i].Name)
		}
	}
	labels, annotations := provenance(EngineKyverno, names, s.Options)
	annotations[AnnotationScope] = string(s.Options.Scope)
	annotations[kyvernoAutogenAnnotation] = "none"
	policy := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	policy.SetAPIVersion(KyvernoAPIVersion)
	policy.SetKind(KyvernoKind)
	policy.SetName(name)
	policy.SetLabels(labels)
	policy.SetAnnotations(annotations)
	return policy, warnings, nil
}

// JMESPath pieces of the container rules; element is the container.
const (
	jpElemSC   = "element.securityContext"
	jpElemAdd  = "(element.securityContext.capabilities.add || `[]`)"
	jpElemDrop = "(element.securityContext.capabilities.drop || `[]`)"
	jpPodSC    = "request.object.spec.securityContext"
)

func isNull(x string) string { return x + " == " + jpNull }

// rules are the mutate rules of one PSP's defaults, in the order PSP
// applied them: pod level, then each container.
func (d *Defaults) rules() []mutateRule {
	var out []mutateRule
	cond := func(expr string) *clusterPolicyConditions {
		return &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: "{{ " + expr + " }}", Operator: "Equals", Value: true}}}
	}
	if d.podLevel() {
		// Add anchors: a field the pod sets is left alone.
		sc := map[string]any{}
		if d.SupplementalGroup != nil {
			sc["+(supplementalGroups)"] = []any{*d.SupplementalGroup}
		}
		if d.FSGroup != nil {
			sc["+(fsGroup)"] = *d.FSGroup
		}
		if d.SELinux != nil {
			o, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(d.SELinux)
			sc["+(seLinuxOptions)"] = o
		}
		spec := map[string]any{}
		if len(sc) > 0 {
			spec["securityContext"] = sc
		}
		if d.RuntimeClassName != nil {
			spec["+(runtimeClassName)"] = *d.RuntimeClassName
		}
		out = append(out, mutateRule{Name: "pod-defaults", Preconditions: &clusterPolicyConditions{}, Mutate: mutateSpec{PatchStrategicMerge: map[string]any{"spec": spec}}})
	}
	if d.SeccompProfile != "" {
		// PSP wrote the default only for a pod with neither the annotation
		// nor the field (from the field it derived the annotation, which
		// the API server's own sync does as well). The field is written
		// too, as the API server's sync would from the annotation.
		patch := map[string]any{"metadata": map[string]any{"annotations": map[string]any{seccompPodAnnotationKey: d.SeccompProfile}}}
		if f := seccompField(d.SeccompProfile); f != nil {
			patch["spec"] = map[string]any{"securityContext": map[string]any{"seccompProfile": f}}
		}
		out = append(out, mutateRule{Name: "seccomp-default", Preconditions: cond(jpAnd(
			"(request.object.metadata.annotations."+jpQuotedKey(seccompPodAnnotationKey)+" || '') == ''",
			isNull(jpPodSC+".seccompProfile"))),
			Mutate: mutateSpec{PatchStrategicMerge: patch}})
	}
	if d.containerLevel() {
		var each []mutateEach
		for _, list := range []string{"initContainers", "containers"} {
			each = append(each, d.containerEach(list)...)
		}
		out = append(out, mutateRule{Name: "container-defaults", Preconditions: &clusterPolicyConditions{}, Mutate: mutateSpec{ForEach: each}})
	}
	return out
}

const seccompPodAnnotationKey = "seccomp.security.alpha.kubernetes.io/pod"

// jpQuotedKey quotes a map key for a JMESPath identifier.
func jpQuotedKey(k string) string { return `"` + k + `"` }

// seccompField is the seccompProfile field the API server derives from a
// legacy annotation value; nil when there is none.
func seccompField(a string) map[string]any {
	switch {
	case a == "unconfined":
		return map[string]any{"type": "Unconfined"}
	case a == "runtime/default", a == "docker/default":
		return map[string]any{"type": "RuntimeDefault"}
	case strings.HasPrefix(a, "localhost/") && len(a) > len("localhost/"):
		return map[string]any{"type": "Localhost", "localhostProfile": strings.TrimPrefix(a, "localhost/")}
	}
	return nil
}

// containerEach renders the container defaults for one container list:
// one foreach entry per field, each with the condition under which PSP
// wrote it.
func (d *Defaults) containerEach(list string) []mutateEach {
	var out []mutateEach
	add := func(cond string, sc map[string]any) {
		out = append(out, mutateEach{
			List:          "request.object.spec." + list + " || `[]`",
			Preconditions: &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: "{{ " + cond + " }}", Operator: "Equals", Value: true}}},
			PatchStrategicMerge: map[string]any{"spec": map[string]any{list: []any{
				map[string]any{"name": "{{ element.name }}", "securityContext": sc},
			}}},
		})
	}
	// runAsUser, runAsGroup and runAsNonRoot count as set when the pod
	// level sets them.
	if d.RunAsUser != nil {
		add(jpAnd(isNull(jpElemSC+".runAsUser"), isNull(jpPodSC+".runAsUser")), map[string]any{"runAsUser": *d.RunAsUser})
	}
	if d.RunAsGroup != nil {
		add(jpAnd(isNull(jpElemSC+".runAsGroup"), isNull(jpPodSC+".runAsGroup")), map[string]any{"runAsGroup": *d.RunAsGroup})
	}
	if d.AppArmorProfile != "" {
		// An annotation with an empty value counts as unset.
		set := "items(not_null(request.object.metadata.annotations, request.object.metadata), 'key', 'value')[?value != ''].key"
		out = append(out, mutateEach{
			List:          "request.object.spec." + list + " || `[]`",
			Preconditions: &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: "{{ !contains(" + set + ", join('', [" + jpString(appArmorContainerAnnotationPrefix) + ", element.name])) }}", Operator: "Equals", Value: true}}},
			PatchStrategicMerge: map[string]any{"metadata": map[string]any{"annotations": map[string]any{
				appArmorContainerAnnotationPrefix + "{{ element.name }}": d.AppArmorProfile,
			}}},
		})
	}
	if d.RunAsNonRoot {
		add(jpAnd(isNull(jpElemSC+".runAsNonRoot"), isNull(jpPodSC+".runAsNonRoot"), isNull(jpElemSC+".runAsUser"), isNull(jpPodSC+".runAsUser")),
			map[string]any{"runAsNonRoot": true})
	}
	if len(d.AddCapabilities) > 0 || len(d.DropCapabilities) > 0 {
		// PSP rebuilt both lists, sorted, when a default add (not dropped
		// by the container) or a required drop was missing, and left them
		// alone otherwise.
		var changed, extraAdd, extraDrop []string
		for _, c := range d.AddCapabilities {
			missing := jpNot(jpOr("contains("+jpElemAdd+", "+jpString(c)+")", "contains("+jpElemDrop+", "+jpString(c)+")"))
			changed = append(changed, missing)
			extraAdd = append(extraAdd, "("+missing+" && "+jpString(c)+" || '')")
		}
		for _, c := range d.DropCapabilities {
			missing := jpNot("contains(" + jpElemDrop + ", " + jpString(c) + ")")
			changed = append(changed, missing)
			extraDrop = append(extraDrop, "("+missing+" && "+jpString(c)+" || '')")
		}
		list := func(cur string, extra []string) string {
			if len(extra) == 0 {
				return "{{ sort(" + cur + ") }}"
			}
			return "{{ sort([" + cur + ", [" + strings.Join(extra, ", ") + "][?@ != '']][]) }}"
		}
		add(jpOr(changed...), map[string]any{"capabilities": map[string]any{
			"add":  list(jpElemAdd, extraAdd),
			"drop": list(jpElemDrop, extraDrop),
		}})
	}
	if d.ReadOnlyRootFilesystem {
		add(isNull(jpElemSC+".readOnlyRootFilesystem"), map[string]any{"readOnlyRootFilesystem": true})
	}
	if d.AllowPrivilegeEscalation != nil {
		add(isNull(jpElemSC+".allowPrivilegeEscalation"), map[string]any{"allowPrivilegeEscalation": *d.AllowPrivilegeEscalation})
	}
	return out
}
