package kyverno

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// unsafeDefault returns a default text value that Kyverno would take for a
// variable or a reference.
func unsafeDefault(d *translate.Defaults) (string, bool) {
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
func mutateUsable(s *translate.PolicySet) ([]bool, error) {
	out := make([]bool, len(s.Policies))
	if len(s.Policies) == 1 {
		out[0] = true
		return out, nil
	}
	if s.Options.Scope != translate.ScopeRBAC {
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
		if g := translate.RequesterGrants(a[0]); len(g) > 0 {
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

// createOnly limits mutation to pod creation: PSP mutated on CREATE
// only (on UPDATE it refused any change).
const createOnly = "{{ request.operation == 'CREATE' && !(request.subResource) }}"

// mutateName is the name of the mutate policy next to the validate policy
// name.
func mutateName(name string) string {
	const suffix = "-defaults"
	if len(name)+len(suffix) <= 63 {
		return name + suffix
	}
	return name[:63-len(suffix)] + suffix
}

// mutatePolicy renders the defaults of the converted PSPs as a
// mutate ClusterPolicy, or nil when no PSP has any.
func mutatePolicy(s *translate.PolicySet, name string) (*unstructured.Unstructured, []string, error) {
	rendered, err := mutateUsable(s)
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
		conds := []clusterPolicyCondition{{Key: createOnly, Operator: "Equals", Value: true}}
		if s.Options.Scope == translate.ScopeRBAC && len(s.Policies) > 1 {
			if u := usabilityJMESPath(s.Usability[p.Name]); u != trueLiteral {
				conds = append(conds, clusterPolicyCondition{Key: "{{ " + u + " }}", Operator: "Equals", Value: true})
			}
		}
		prefix := ""
		if len(s.Policies) > 1 {
			prefix = "psp" + strconv.Itoa(i) + "-"
		}
		for _, r := range defaultRules(&p.Defaults) {
			r.Name = prefix + r.Name
			r.Match = clusterPolicyMatch{Any: []clusterPolicyFilter{{Resources: clusterPolicyResources{Kinds: []string{"Pod"}}}}}
			r.Preconditions = &clusterPolicyConditions{All: append(slices.Clone(conds), r.Preconditions.All...)}
			if ex := s.Options.ExcludeNamespaces; len(ex) > 0 {
				r.Exclude = &clusterPolicyMatch{Any: []clusterPolicyFilter{{Resources: clusterPolicyResources{Namespaces: slices.Clone(ex)}}}}
			}
			rules = append(rules, r)
		}
		if v, bad := unsafeDefault(&p.Defaults); bad {
			return nil, nil, fmt.Errorf("PodSecurityPolicy %q default %q holds \"{{\" or \"$(\", which Kyverno would read as a variable", p.Name, v)
		}
		if d := p.Defaults; d.SeccompProfile != "" && seccompField(d.SeccompProfile) == nil {
			warnings = append(warnings, fmt.Sprintf("kyverno: PodSecurityPolicy %q default seccomp profile %q has no seccompProfile field equivalent: --mutate writes the annotation only", p.Name, d.SeccompProfile))
		}
	}
	if len(rules) == 0 {
		return nil, warnings, nil
	}
	warnings = append(warnings, "kyverno: --mutate: the mutate policy uses only fields Kyverno "+MinVersion+" knows (foreach with preconditions and strategic merge patches), but is proven against Kyverno's own CLI of a current release only; releases before v1.10 had known bugs with several foreach mutations on one resource: check it with `kyverno apply` of your release")
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
	labels, annotations := translate.Provenance(translate.EngineKyverno, names, s.Options)
	annotations[translate.AnnotationScope] = string(s.Options.Scope)
	annotations[autogenAnnotation] = "none"
	policy := &unstructured.Unstructured{Object: map[string]any{"spec": specMap}}
	policy.SetAPIVersion(APIVersion)
	policy.SetKind(Kind)
	policy.SetName(name)
	policy.SetLabels(labels)
	policy.SetAnnotations(annotations)
	return policy, warnings, nil
}

// JMESPath pieces of the container rules; element is the container.
const (
	elemSC   = "element.securityContext"
	elemAdd  = "(element.securityContext.capabilities.add || `[]`)"
	elemDrop = "(element.securityContext.capabilities.drop || `[]`)"
	podSC    = "request.object.spec.securityContext"
)

func isNull(x string) string { return x + " == " + null }

// defaultRules are the mutate rules of one PSP's defaults, in the order PSP
// applied them: pod level, then each container.
func defaultRules(d *translate.Defaults) []mutateRule {
	var out []mutateRule
	cond := func(expr string) *clusterPolicyConditions {
		return &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: "{{ " + expr + " }}", Operator: "Equals", Value: true}}}
	}
	if d.PodLevel() {
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
		patch := map[string]any{"metadata": map[string]any{"annotations": map[string]any{psp.SeccompPodAnnotation: d.SeccompProfile}}}
		if f := seccompField(d.SeccompProfile); f != nil {
			patch["spec"] = map[string]any{"securityContext": map[string]any{"seccompProfile": f}}
		}
		out = append(out, mutateRule{Name: "seccomp-default", Preconditions: cond(and(
			"(request.object.metadata.annotations."+quotedKey(psp.SeccompPodAnnotation)+" || '') == ''",
			isNull(podSC+".seccompProfile"))),
			Mutate: mutateSpec{PatchStrategicMerge: patch}})
	}
	if d.ContainerLevel() {
		var each []mutateEach
		for _, list := range []string{"initContainers", "containers"} {
			each = append(each, containerEach(d, list)...)
		}
		out = append(out, mutateRule{Name: "container-defaults", Preconditions: &clusterPolicyConditions{}, Mutate: mutateSpec{ForEach: each}})
	}
	return out
}

// quotedKey quotes a map key for a JMESPath identifier.
func quotedKey(k string) string { return `"` + k + `"` }

// seccompField is psp.SeccompProfileForAnnotation as a patch value, so
// that the mutation writes the field the API server would have synced from
// the annotation PSP set; nil when there is none.
func seccompField(a string) map[string]any {
	f := psp.SeccompProfileForAnnotation(a)
	if f == nil {
		return nil
	}
	out := map[string]any{"type": string(f.Type)}
	if f.LocalhostProfile != nil {
		out["localhostProfile"] = *f.LocalhostProfile
	}
	return out
}

// containerEach renders the container defaults for one container list:
// one foreach entry per field, each with the condition under which PSP
// wrote it.
func containerEach(d *translate.Defaults, list string) []mutateEach {
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
		add(and(isNull(elemSC+".runAsUser"), isNull(podSC+".runAsUser")), map[string]any{"runAsUser": *d.RunAsUser})
	}
	if d.RunAsGroup != nil {
		add(and(isNull(elemSC+".runAsGroup"), isNull(podSC+".runAsGroup")), map[string]any{"runAsGroup": *d.RunAsGroup})
	}
	if d.AppArmorProfile != "" {
		// An annotation with an empty value counts as unset.
		set := "items(not_null(request.object.metadata.annotations, request.object.metadata), 'key', 'value')[?value != ''].key"
		out = append(out, mutateEach{
			List:          "request.object.spec." + list + " || `[]`",
			Preconditions: &clusterPolicyConditions{All: []clusterPolicyCondition{{Key: "{{ !contains(" + set + ", join('', [" + quote(translate.AppArmorContainerAnnotationPrefix) + ", element.name])) }}", Operator: "Equals", Value: true}}},
			PatchStrategicMerge: map[string]any{"metadata": map[string]any{"annotations": map[string]any{
				translate.AppArmorContainerAnnotationPrefix + "{{ element.name }}": d.AppArmorProfile,
			}}},
		})
	}
	if d.RunAsNonRoot {
		add(and(isNull(elemSC+".runAsNonRoot"), isNull(podSC+".runAsNonRoot"), isNull(elemSC+".runAsUser"), isNull(podSC+".runAsUser")),
			map[string]any{"runAsNonRoot": true})
	}
	if len(d.AddCapabilities) > 0 || len(d.DropCapabilities) > 0 {
		// PSP rebuilt both lists, sorted, when a default add (not dropped
		// by the container) or a required drop was missing, and left them
		// alone otherwise.
		var changed, extraAdd, extraDrop []string
		for _, c := range d.AddCapabilities {
			missing := not(or("contains("+elemAdd+", "+quote(c)+")", "contains("+elemDrop+", "+quote(c)+")"))
			changed = append(changed, missing)
			extraAdd = append(extraAdd, "("+missing+" && "+quote(c)+" || '')")
		}
		for _, c := range d.DropCapabilities {
			missing := not("contains(" + elemDrop + ", " + quote(c) + ")")
			changed = append(changed, missing)
			extraDrop = append(extraDrop, "("+missing+" && "+quote(c)+" || '')")
		}
		list := func(cur string, extra []string) string {
			if len(extra) == 0 {
				return "{{ sort(" + cur + ") }}"
			}
			return "{{ sort([" + cur + ", [" + strings.Join(extra, ", ") + "][?@ != '']][]) }}"
		}
		add(or(changed...), map[string]any{"capabilities": map[string]any{
			"add":  list(elemAdd, extraAdd),
			"drop": list(elemDrop, extraDrop),
		}})
	}
	if d.ReadOnlyRootFilesystem {
		add(isNull(elemSC+".readOnlyRootFilesystem"), map[string]any{"readOnlyRootFilesystem": true})
	}
	if d.AllowPrivilegeEscalation != nil {
		add(isNull(elemSC+".allowPrivilegeEscalation"), map[string]any{"allowPrivilegeEscalation": *d.AllowPrivilegeEscalation})
	}
	return out
}
