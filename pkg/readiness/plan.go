package readiness

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// Step folders under --output-dir.
const (
	dirFix     = "01-fix-templates"
	dirObserve = "02-observe"
	dirWatch   = "03-watch"
	dirEnforce = "04-enforce"
	dirRemove  = "05-remove-psp"
	dirUpgrade = "06-upgrade"
)

// planner collects what the checks find into the plan's steps.
type planner struct {
	in Input
	// patches are strategic-merge patches per workload, on its pod
	// template (fields set at template level, as the workload's pods get
	// them).
	patches map[workloadKey]map[string]any
	// roles and bindings that only grant PSP use, and the mixed roles.
	deleteRoles, mixedRoles, deleteBindings []string
	removedRoles                            map[string]bool
	psps                                    []string
}

func newPlanner(in Input) *planner {
	return &planner{in: in, patches: map[workloadKey]map[string]any{}, removedRoles: map[string]bool{}}
}

func (p *planner) hasFixes() bool { return len(p.patches) > 0 }

// templatePath is where a kind keeps its pod template.
func templatePath(kind string) []string {
	switch kind {
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template"}
	case "Pod":
		return nil
	}
	return []string{"spec", "template"}
}

// fieldPath parses the audit's field paths: "spec.securityContext.runAsUser",
// "spec.containers[name=app].securityContext.allowPrivilegeEscalation",
// "metadata.annotations[key]".
var fieldStep = regexp.MustCompile(`^([A-Za-z]+)(?:\[(?:name=)?([^\]]*)\])?$`)

// patchFor returns the patch of workload k, creating it.
func (p *planner) patchFor(k workloadKey) map[string]any {
	if p.patches[k] == nil {
		p.patches[k] = map[string]any{}
	}
	return p.patches[k]
}

// addFields turns a workload's fieldsToSet into its patch.
func (p *planner) addFields(w *report.Workload) {
	k := workloadKey{w.Namespace, w.Kind, w.Name}
	for _, f := range w.FieldsToSet {
		// The seccomp annotations are deprecated and ignored from v1.27:
		// the field (also in fieldsToSet) is what to set.
		if strings.HasPrefix(f.Path, "metadata.annotations[seccomp.") || strings.HasPrefix(f.Path, "metadata.annotations[container.seccomp.") {
			continue
		}
		p.set(k, f.Path, fieldValue(f.Path, f.After))
	}
}

// fieldValue reads the audit's text rendering of a value back: numbers,
// booleans, lists and objects as JSON, anything else (and every
// annotation and known string field) as a string.
func fieldValue(path, text string) any {
	if strings.HasPrefix(path, "metadata.annotations[") || strings.HasSuffix(path, ".type") || strings.HasSuffix(path, "Profile") ||
		strings.HasSuffix(path, "runtimeClassName") || strings.HasSuffix(path, "procMount") || strings.Contains(path, "seLinuxOptions.") {
		return text
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err == nil {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			return int64(f)
		}
		return v
	}
	return text
}

// set puts value at path (pod-relative) into workload k's patch.
func (p *planner) set(k workloadKey, path string, value any) {
	patch := p.patchFor(k)
	cur := patch
	for _, s := range templatePath(k.kind) {
		cur = child(cur, s)
	}
	steps := splitPath(path)
	for i, s := range steps {
		m := fieldStep.FindStringSubmatch(s)
		last := i == len(steps)-1
		switch {
		case m != nil && m[2] != "" && (m[1] == "containers" || m[1] == "initContainers"):
			cur = listItem(cur, m[1], m[2])
		case m != nil && m[2] != "" && m[1] == "annotations":
			child(cur, "annotations")[m[2]] = value
			return
		case last:
			cur[s] = value
		default:
			cur = child(cur, s)
		}
	}
}

// splitPath splits at dots outside brackets.
func splitPath(path string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range path {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				out = append(out, path[start:i])
				start = i + 1
			}
		}
	}
	return append(out, path[start:])
}

func child(m map[string]any, key string) map[string]any {
	c, ok := m[key].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[key] = c
	}
	return c
}

// listItem is the element named name of list key: a strategic-merge patch
// merges containers by name.
func listItem(m map[string]any, key, name string) map[string]any {
	list, _ := m[key].([]any)
	for _, e := range list {
		if em := e.(map[string]any); em["name"] == name {
			return em
		}
	}
	e := map[string]any{"name": name}
	m[key] = append(list, e)
	return e
}

// addSeccomp adds the seccompProfile fields a template sets only by
// annotation.
func (p *planner) addSeccomp(k workloadKey, t *corev1.PodTemplateSpec) {
	if v, ok := t.Annotations[psp.SeccompPodAnnotation]; ok && (t.Spec.SecurityContext == nil || t.Spec.SecurityContext.SeccompProfile == nil) {
		p.set(k, "spec.securityContext.seccompProfile", seccompProfile(v))
	}
	for _, c := range allContainers(&t.Spec) {
		list := "containers"
		if slices.ContainsFunc(t.Spec.InitContainers, func(x corev1.Container) bool { return x.Name == c.Name }) {
			list = "initContainers"
		}
		if v, ok := t.Annotations[psp.SeccompContainerAnnotationPrefix+c.Name]; ok && (c.SecurityContext == nil || c.SecurityContext.SeccompProfile == nil) {
			p.set(k, "spec."+list+"[name="+c.Name+"].securityContext.seccompProfile", seccompProfile(v))
		}
	}
}

// seccompProfile is the field an annotation value means.
func seccompProfile(v string) map[string]any {
	switch {
	case v == "runtime/default" || v == "docker/default":
		return map[string]any{"type": "RuntimeDefault"}
	case strings.HasPrefix(v, "localhost/"):
		return map[string]any{"type": "Localhost", "localhostProfile": strings.TrimPrefix(v, "localhost/")}
	default:
		return map[string]any{"type": "Unconfined"}
	}
}

func (p *planner) addRole(kind, namespace, name string, only bool) {
	ref := kind + " " + name
	if namespace != "" {
		ref = kind + " " + name + " -n " + namespace
	}
	if only {
		p.deleteRoles = append(p.deleteRoles, ref)
		p.removedRoles[kind+"/"+namespace+"/"+name] = true
	} else {
		p.mixedRoles = append(p.mixedRoles, ref)
	}
}

// roleRemoved reports whether a binding's role is deleted in step 5. A
// RoleBinding may name a ClusterRole.
func (p *planner) roleRemoved(namespace, refKind, refName string) bool {
	if refKind == "ClusterRole" {
		return p.removedRoles["clusterrole//"+refName]
	}
	return p.removedRoles["role/"+namespace+"/"+refName]
}

func (p *planner) addBinding(kind, namespace, name string) {
	ref := kind + " " + name
	if namespace != "" {
		ref += " -n " + namespace
	}
	p.deleteBindings = append(p.deleteBindings, ref)
}

func (p *planner) addPSP(name string) { p.psps = append(p.psps, name) }

// fileName is a workload's file: namespace-kind-name, lower case.
func fileName(k workloadKey) string {
	return strings.ToLower(k.namespace + "-" + k.kind + "-" + k.name + ".yaml")
}

func (p *planner) steps() []Step {
	return []Step{p.stepFix(), p.stepObserve(), p.stepWatch(), p.stepEnforce(), p.stepRemove(), p.stepUpgrade()}
}

func (p *planner) stepFix() Step {
	s := Step{Number: 1, Title: "Set in each template what the PSPs used to fill in", Folder: dirFix, Commands: []string{}, Files: []File{}}
	if len(p.patches) == 0 {
		s.Description = "Nothing to do: no workload relies on what a PSP filled in, and none sets seccomp by annotation only."
		return s
	}
	s.Description = "Each patch sets, in the workload's pod template, the security fields a PSP supplied (and the seccompProfile field for profiles set only by annotation), so the next pods keep them without PSP. The workloads roll out new pods; do it before step 2, and check each rollout. A bare pod cannot be patched: recreate it from its manifest with the fields in its file."
	for _, k := range sortedWorkloadKeys(p.patches) {
		b, err := yaml.Marshal(p.patches[k])
		if err != nil {
			continue // maps of strings, numbers and lists always marshal
		}
		path := dirFix + "/" + fileName(k)
		desc := fmt.Sprintf("strategic-merge patch for %s %s/%s", k.kind, k.namespace, k.name)
		if k.kind == "Pod" {
			desc = fmt.Sprintf("fields to add to bare pod %s/%s when recreating it", k.namespace, k.name)
			s.Commands = append(s.Commands, fmt.Sprintf("# pod %s/%s: recreate it from its manifest with the fields in %s", k.namespace, k.name, path))
		} else {
			s.Commands = append(s.Commands, fmt.Sprintf("kubectl patch %s %s -n %s --type strategic --patch-file %s", strings.ToLower(k.kind), k.name, k.namespace, path))
		}
		s.Files = append(s.Files, File{Path: path, Description: desc, Content: b})
	}
	return s
}

// psaNamespaces lists the namespaces whose labels the plan sets: those
// whose current labels do not conflict with the recommendation.
func (p *planner) psaNamespaces() (set []report.Namespace, conflicts []string) {
	for _, ns := range p.in.Audit.Namespaces {
		if len(ns.Conflicts) > 0 {
			conflicts = append(conflicts, ns.Name)
			continue
		}
		if len(ns.Labels) > 0 && ns.Found {
			set = append(set, ns)
		}
	}
	return set, conflicts
}

func labelPatch(labels map[string]string) []byte {
	m := map[string]any{}
	for k, v := range labels {
		m[k] = v
	}
	b, _ := yaml.Marshal(map[string]any{"metadata": map[string]any{"labels": m}})
	return b
}

func (p *planner) stepObserve() Step {
	s := Step{Number: 2, Title: "Roll out the replacement without enforcing", Folder: dirObserve, Commands: []string{}, Files: []File{}}
	if p.in.Engine != translate.EnginePSA {
		s.Description = fmt.Sprintf("Apply the converted %s policies in %s mode: they report what they would reject, and reject nothing. PSP stays in force meanwhile.", p.in.Engine, p.in.ObserveMode)
		for _, m := range p.in.Observe {
			s.Files = append(s.Files, File{Path: dirObserve + "/" + m.FileName, Description: p.in.Engine + " policy, " + p.in.ObserveMode + " mode", Content: m.YAML})
		}
		s.Commands = append(s.Commands, "kubectl apply -f "+dirObserve+"/")
		return s
	}
	set, conflicts := p.psaNamespaces()
	s.Description = "Label each namespace to warn and audit at the level step 4 enforces: clients get a warning and the audit log an annotation for every pod that level would reject; nothing is rejected. PSP stays in force meanwhile."
	if len(conflicts) > 0 {
		s.Description += " Namespaces whose current pod-security labels differ from the recommendation are left alone (see the audit's namespaces[].conflicts): " + strings.Join(conflicts, ", ") + "."
	}
	levels := planLevels(p.in.Audit)
	for _, ns := range set {
		level := levels[ns.Name]
		version := ns.Labels["pod-security.kubernetes.io/enforce-version"]
		if level == "" {
			continue
		}
		labels := map[string]string{"pod-security.kubernetes.io/warn": level, "pod-security.kubernetes.io/audit": level}
		if version != "" {
			labels["pod-security.kubernetes.io/warn-version"] = version
			labels["pod-security.kubernetes.io/audit-version"] = version
		}
		path := dirObserve + "/namespace-" + ns.Name + ".yaml"
		s.Files = append(s.Files, File{Path: path, Description: "warn and audit labels for namespace " + ns.Name, Content: labelPatch(labels)})
		s.Commands = append(s.Commands, fmt.Sprintf("kubectl patch namespace %s --type merge --patch-file %s", ns.Name, path))
	}
	return s
}

func (p *planner) stepWatch() Step {
	s := Step{Number: 3, Title: "Watch what the replacement would reject", Folder: dirWatch, Files: []File{}}
	rerun := fmt.Sprintf("kubectl psp-migrate readiness --to %s --engine %s", p.in.Target, p.in.Engine)
	switch p.in.Engine {
	case translate.EnginePSA:
		s.Description = "Deploy as usual for a while (a full release cycle, CronJobs included). Every pod the enforce level would reject produces a warning for the client and a pod-security.kubernetes.io/audit-violations annotation in the API server's audit log; the dry run below lists the running pods that violate it."
		s.Commands = []string{"kubectl label --dry-run=server --overwrite ns --all pod-security.kubernetes.io/enforce=restricted", rerun}
	case translate.EngineVAP:
		s.Description = "Every pod the policy would deny produces a validation.policy.admission.k8s.io/validation_failure annotation in the API server's audit log (audit mode) or a warning for the client (warn mode)."
		s.Commands = []string{rerun}
	case translate.EngineKyverno, translate.EngineKyvernoCEL:
		s.Description = "Kyverno records each violation in PolicyReports (background scans cover running pods)."
		s.Commands = []string{"kubectl get policyreports -A", rerun}
	case translate.EngineGatekeeper:
		s.Description = "Gatekeeper's audit records violations in each constraint's status."
		s.Commands = []string{"kubectl get constraints -o custom-columns=KIND:.kind,NAME:.metadata.name,VIOLATIONS:.status.totalViolations", rerun}
	case translate.EngineKubewarden:
		s.Description = "Kubewarden's audit scanner records violations in PolicyReports; policies in monitor mode log each one."
		s.Commands = []string{"kubectl get policyreports -A", rerun}
	}
	return s
}

func (p *planner) stepEnforce() Step {
	s := Step{Number: 4, Title: "Enforce", Folder: dirEnforce, Commands: []string{}, Files: []File{}}
	if p.in.Engine != translate.EnginePSA {
		s.Description = fmt.Sprintf("Once nothing is reported, apply the %s policies in enforce mode (the same objects, updated in place). Pods are now checked by both PSP and the replacement.", p.in.Engine)
		for _, m := range p.in.Enforce {
			s.Files = append(s.Files, File{Path: dirEnforce + "/" + m.FileName, Description: p.in.Engine + " policy, enforce mode", Content: m.YAML})
		}
		s.Commands = append(s.Commands, "kubectl apply -f "+dirEnforce+"/")
		return s
	}
	s.Description = "Once nothing is reported, set the recommended labels: enforce at the level every workload meets once step 1 is done, and warn and audit at restricted, each pinned to a version. Pods are now checked by both PSP and Pod Security Admission."
	set, _ := p.psaNamespaces()
	levels := planLevels(p.in.Audit)
	for _, ns := range set {
		labels := maps.Clone(ns.Labels)
		if l, ok := levels[ns.Name]; ok {
			labels["pod-security.kubernetes.io/enforce"] = l
		}
		path := dirEnforce + "/namespace-" + ns.Name + ".yaml"
		s.Files = append(s.Files, File{Path: path, Description: "recommended labels for namespace " + ns.Name, Content: labelPatch(labels)})
		s.Commands = append(s.Commands, fmt.Sprintf("kubectl patch namespace %s --type merge --patch-file %s", ns.Name, path))
	}
	return s
}

func (p *planner) stepRemove() Step {
	s := Step{Number: 5, Title: "Remove PodSecurityPolicy", Folder: dirRemove, Files: []File{}}
	s.Description = "Turn the PodSecurityPolicy admission plugin off (remove it from the API server's --enable-admission-plugins: a v1.25+ server refuses to start with it; on kubeadm, in /etc/kubernetes/manifests/kube-apiserver.yaml; managed clusters do this on upgrade), then delete the PSPs and the RBAC that only granted their use."
	if len(p.mixedRoles) > 0 {
		s.Description += " These roles also grant other things: remove only their podsecuritypolicies rule: " + strings.Join(p.mixedRoles, "; ") + "."
	}
	// The order matters: with the plugin on and no PSP left, the API
	// server rejects every new pod.
	s.Commands = append(s.Commands, "# first: remove PodSecurityPolicy from the API server's --enable-admission-plugins and restart it")
	for _, b := range uniqSorted(p.deleteBindings) {
		s.Commands = append(s.Commands, "kubectl delete "+b)
	}
	for _, r := range uniqSorted(p.deleteRoles) {
		s.Commands = append(s.Commands, "kubectl delete "+r)
	}
	if len(p.psps) > 0 {
		s.Commands = append(s.Commands, "kubectl delete podsecuritypolicies.policy "+strings.Join(uniqSorted(p.psps), " "))
	}
	return s
}

func (p *planner) stepUpgrade() Step {
	return Step{Number: 6, Title: "Upgrade to " + p.in.Target.String(), Folder: dirUpgrade, Files: []File{},
		Description: "Upgrade one minor release at a time (control plane first), then audit again at the new version.",
		Commands: []string{
			"kubeadm upgrade plan   # or your provider's upgrade to " + p.in.Target.String(),
			fmt.Sprintf("kubectl psp-migrate audit --pss-version %s", p.in.Target),
		}}
}

func uniqSorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}
