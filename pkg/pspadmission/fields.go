package pspadmission

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// FieldChange is one security-relevant field that differs between two
// versions of a pod. Values are rendered as text: strings as they are,
// numbers and booleans as literals, lists and objects as compact JSON, an
// unset field as "".
type FieldChange struct {
	Path   string `json:"path"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// isSecurityAnnotation selects the annotations a PSP reads or writes.
func isSecurityAnnotation(key string) bool {
	return key == psp.SeccompPodAnnotation ||
		strings.HasPrefix(key, psp.SeccompContainerAnnotationPrefix) ||
		strings.HasPrefix(key, psp.AppArmorContainerAnnotationPrefix)
}

// diffOptions narrows securityDiff for template comparisons.
type diffOptions struct {
	// onlyBeforeContainers skips containers (and their annotations) that
	// before does not have, and ephemeral containers: a template cannot set
	// fields of containers that something else added.
	onlyBeforeContainers bool
}

// securityDiff lists the security-relevant fields that differ between
// before and after: the seccomp and AppArmor annotations, runtimeClassName,
// the pod security context and every container's security context
// (containers matched by name). The order is annotations, runtime class,
// pod security context, then containers in after's order, each with its
// fields sorted by path.
func securityDiff(before, after *corev1.Pod, opts diffOptions) []FieldChange {
	var out []FieldChange
	add := func(path, b, a string) {
		if a != b {
			out = append(out, FieldChange{Path: path, Before: b, After: a})
		}
	}

	beforeNames := map[string]bool{}
	visitContainers(&before.Spec, func(c *corev1.Container, _ ctrPath) { beforeNames[c.Name] = true })
	keys := map[string]bool{}
	for _, m := range []map[string]string{before.Annotations, after.Annotations} {
		for k := range m {
			if !isSecurityAnnotation(k) {
				continue
			}
			if opts.onlyBeforeContainers && k != psp.SeccompPodAnnotation {
				name := strings.TrimPrefix(strings.TrimPrefix(k, psp.SeccompContainerAnnotationPrefix), psp.AppArmorContainerAnnotationPrefix)
				if !beforeNames[name] {
					continue
				}
			}
			keys[k] = true
		}
	}
	for _, k := range sortedKeys(keys) {
		add("metadata.annotations["+k+"]", before.Annotations[k], after.Annotations[k])
	}

	add("spec.runtimeClassName", derefString(before.Spec.RuntimeClassName), derefString(after.Spec.RuntimeClassName))
	out = diffContexts(out, "spec.securityContext", before.Spec.SecurityContext, after.Spec.SecurityContext)

	lists := []struct {
		name          string
		before, after []corev1.Container
	}{
		{"initContainers", before.Spec.InitContainers, after.Spec.InitContainers},
		{"containers", before.Spec.Containers, after.Spec.Containers},
	}
	if !opts.onlyBeforeContainers {
		lists = append(lists, struct {
			name          string
			before, after []corev1.Container
		}{"ephemeralContainers", ephemeralAsContainers(before.Spec.EphemeralContainers), ephemeralAsContainers(after.Spec.EphemeralContainers)})
	}
	for _, l := range lists {
		for i := range l.after {
			a := &l.after[i]
			var bsc *corev1.SecurityContext
			found := false
			for j := range l.before {
				if l.before[j].Name == a.Name {
					bsc, found = l.before[j].SecurityContext, true
					break
				}
			}
			if !found && opts.onlyBeforeContainers {
				continue
			}
			prefix := "spec." + l.name + "[name=" + a.Name + "].securityContext"
			out = diffContexts(out, prefix, bsc, a.SecurityContext)
		}
	}
	return out
}

func ephemeralAsContainers(in []corev1.EphemeralContainer) []corev1.Container {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(in))
	for i := range in {
		out[i] = corev1.Container(in[i].EphemeralContainerCommon)
	}
	return out
}

func appendFlatDiff(out []FieldChange, prefix string, before, after map[string]string) []FieldChange {
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		if before[k] != after[k] {
			out = append(out, FieldChange{Path: prefix + "." + k, Before: before[k], After: after[k]})
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// diffContexts appends the differences between two security contexts.
// Most pairs are equal (a pod and its template, a pod its PSP left alone),
// and a deep comparison of the structs is far cheaper than flattening both.
func diffContexts[T any](out []FieldChange, prefix string, before, after *T) []FieldChange {
	if reflect.DeepEqual(before, after) {
		return out
	}
	return appendFlatDiff(out, prefix, flatten(before), flatten(after))
}

// flatten turns a security context into leaf paths and rendered values by
// way of its JSON form, so that every field (including ones added to the API
// later) is compared and unset or empty values vanish the way omitempty
// makes them vanish; lists are leaves.
func flatten(v any) map[string]string {
	b, err := json.Marshal(v)
	if err != nil || bytes.Equal(b, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep int64 IDs exact
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, child)
			}
		case string:
			out[prefix] = t
		case json.Number:
			out[prefix] = t.String()
		case bool:
			if t {
				out[prefix] = "true"
			} else {
				out[prefix] = "false"
			}
		case nil:
		default:
			if raw, err := json.Marshal(t); err == nil {
				out[prefix] = string(raw)
			}
		}
	}
	walk("", root)
	return out
}

// TemplateReliance compares a running pod with the pod template its
// controller creates pods from and returns the security-relevant fields
// whose running values the template does not produce by itself: what the
// admitting PSP injected (runAsUser, runAsNonRoot, capabilities,
// allowPrivilegeEscalation, readOnlyRootFilesystem, fsGroup, seccomp and
// AppArmor defaults, runtime class, ...). Under a validating-only
// replacement for PSP these must be written into the template, or new pods
// will be rejected or run with weaker settings.
//
// The template is first given everything the API server adds to every pod
// regardless of PSP (Prepare, and the seccomp field/annotation sync), so
// those differences are not reported. Only containers that the template
// defines are compared (sidecars injected by webhooks and ephemeral debug
// containers are ignored). Differences can also come from mutating webhooks
// or from a template that changed after the pod was created; compare a pod
// with the template revision that created it (for Deployments, the
// ReplicaSet with its pod-template-hash).
func TemplateReliance(running *corev1.Pod, template *corev1.PodTemplateSpec) []FieldChange {
	if running == nil || template == nil {
		return nil
	}
	return NewTemplateBaseline(template, running.Namespace).Reliance(running)
}

// TemplateBaseline is a pod template prepared once (API defaulting,
// ServiceAccount admission, the seccomp sync) so that the many pods of one
// controller are compared with it without preparing it again for each.
// It is safe for concurrent use.
type TemplateBaseline struct {
	pod *corev1.Pod
}

// NewTemplateBaseline prepares template as a pod in namespace.
func NewTemplateBaseline(template *corev1.PodTemplateSpec, namespace string) *TemplateBaseline {
	// A shallow copy is enough: Prepare copies deeply before changing it.
	fromTemplate := &corev1.Pod{ObjectMeta: template.ObjectMeta, Spec: template.Spec}
	fromTemplate.Namespace = namespace
	before := Prepare(fromTemplate, nil)
	prepareForCreate(before)
	return &TemplateBaseline{pod: before}
}

// Reliance is TemplateReliance against the prepared template.
func (b *TemplateBaseline) Reliance(running *corev1.Pod) []FieldChange {
	if running == nil {
		return nil
	}
	if d := securityDiff(b.pod, running, diffOptions{onlyBeforeContainers: true}); len(d) > 0 {
		return d
	}
	return []FieldChange{}
}

// FieldsToSet turns the fields a PSP supplied into what a template should
// set instead. The seccomp annotations are rewritten as the
// securityContext.seccompProfile fields they stand for: kubelets ignore the
// annotations since v1.27 and API servers stop syncing them into the field,
// so a template that copies the annotation runs unconfined after the
// upgrade. spec tells whether a container annotation's container is an
// init container; nil assumes a regular one. A field already in changes
// (the server's own sync of the annotation) is not repeated.
func FieldsToSet(changes []FieldChange, spec *corev1.PodSpec) []FieldChange {
	if !slices.ContainsFunc(changes, func(c FieldChange) bool { return isSeccompAnnotationPath(c.Path) }) {
		return changes
	}
	have := map[string]bool{}
	for _, c := range changes {
		if !isSeccompAnnotationPath(c.Path) {
			have[c.Path] = true
		}
	}
	out := make([]FieldChange, 0, len(changes))
	for _, c := range changes {
		if !isSeccompAnnotationPath(c.Path) {
			out = append(out, c)
			continue
		}
		key := strings.TrimSuffix(strings.TrimPrefix(c.Path, "metadata.annotations["), "]")
		prefix := "spec.securityContext"
		if name, ok := strings.CutPrefix(key, psp.SeccompContainerAnnotationPrefix); ok {
			prefix = "spec." + containerList(spec, name) + "[name=" + name + "].securityContext"
		}
		bType, bLocal := seccompFieldValues(c.Before)
		aType, aLocal := seccompFieldValues(c.After)
		for _, f := range []FieldChange{
			{Path: prefix + ".seccompProfile.type", Before: bType, After: aType},
			{Path: prefix + ".seccompProfile.localhostProfile", Before: bLocal, After: aLocal},
		} {
			if f.Before == f.After || have[f.Path] {
				continue
			}
			have[f.Path] = true
			out = append(out, f)
		}
	}
	return out
}

func isSeccompAnnotationPath(path string) bool {
	key, ok := strings.CutPrefix(path, "metadata.annotations[")
	if !ok {
		return false
	}
	key = strings.TrimSuffix(key, "]")
	return key == psp.SeccompPodAnnotation || strings.HasPrefix(key, psp.SeccompContainerAnnotationPrefix)
}

// containerList names the list holding the container called name.
func containerList(spec *corev1.PodSpec, name string) string {
	if spec != nil {
		for i := range spec.InitContainers {
			if spec.InitContainers[i].Name == name {
				return "initContainers"
			}
		}
	}
	return "containers"
}

// seccompFieldValues maps an annotation value to the seccompProfile type
// and localhostProfile the API server's own sync derives from it.
func seccompFieldValues(annotation string) (profileType, localhost string) {
	switch {
	case annotation == "":
		return "", ""
	case annotation == "runtime/default" || annotation == "docker/default":
		return string(corev1.SeccompProfileTypeRuntimeDefault), ""
	case annotation == "unconfined":
		return string(corev1.SeccompProfileTypeUnconfined), ""
	case strings.HasPrefix(annotation, "localhost/"):
		return string(corev1.SeccompProfileTypeLocalhost), strings.TrimPrefix(annotation, "localhost/")
	}
	// Not a value the API server accepts; say so rather than guess.
	return "(annotation " + annotation + ")", ""
}
