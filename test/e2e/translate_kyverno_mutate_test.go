package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/kyverno"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// TestTranslateKyvernoMutate proves `convert -e kyverno --mutate` against
// the admission model: for each corpus PSP converted alone, the real
// Kyverno CLI (`kyverno apply -o`) runs the mutate policy on every corpus
// pod as it is created, and for every pod the PSP admits the
// security-relevant fields Kyverno changed (annotations for seccomp and
// AppArmor, runtimeClassName, the pod's and every container's security
// context) must be exactly those pspadmission says the PSP changed, with
// the same values.
//
// The corpus PSPs admit few pods with their defaults in play (locked
// admits none: its default seccomp profile is not allowed by itself), so
// each PSP is also converted "relaxed": with the same defaults and
// strategies, but every other check opened up (any volume, host namespace,
// host port, capability, sysctl, seccomp and AppArmor profile), so that
// many more pods are admitted and compared.
//
// Pods are created without their ephemeral containers (those arrive by a
// later update, which PSP did not mutate). Both sides are compared as the
// API server stores them: it syncs the seccomp field and annotations and
// forces procMount to Default after mutating admission, for Kyverno's
// output as for the PSP's.
func TestTranslateKyvernoMutate(t *testing.T) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI")
	m := newMutateCorpus(t)
	var totalMutated, totalAgree int
	// fields are the paths of every default seen applied alike.
	fields := map[string]bool{}
	for _, name := range m.names {
		t.Run(name, func(t *testing.T) {
			r := m.compare(t, cli, name, nil)
			t.Logf("%s: kyverno and pspadmission agree on %d of %d admitted pods (%d of them mutated); %d pods rejected by the PSP not compared",
				name, r.agree, r.admitted, r.changed, len(m.pods)-r.admitted)
			totalMutated += r.changed
			totalAgree += r.agree
			for f := range r.fields {
				fields[f] = true
			}
			if len(r.problems) > 0 {
				t.Errorf("%s: %d disagreement(s):\n%s", name, len(r.problems), strings.Join(r.problems, "\n"))
			}
			if strings.HasSuffix(name, "-relaxed") && r.hasDefaults && r.changed == 0 {
				t.Errorf("%s has defaults but no corpus pod it admits was mutated: the comparison proves nothing", name)
			}
		})
	}
	t.Logf("all PSPs: %d agreements, %d of them on mutated pods; fields defaulted alike: %s", totalAgree, totalMutated, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
	if totalMutated == 0 {
		t.Error("no mutated pod was compared")
	}
}

// TestTranslateKyvernoMutateRBAC checks the mutate policy of PSPs whose
// users do not overlap under --scope rbac: each pod gets the defaults of
// the one PSP its service account may use, and no other.
func TestTranslateKyvernoMutateRBAC(t *testing.T) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI")
	m := newMutateCorpus(t)
	all, err := translate.Compile(&m.inv, translate.Options{Scope: translate.ScopeRBAC})
	if err != nil {
		t.Fatal(err)
	}
	// Every pair of corpus PSPs that --mutate accepts under --scope rbac.
	var pairs [][]string
	for i, a := range all.PSPNames() {
		for _, b := range all.PSPNames()[i+1:] {
			if strings.HasSuffix(a, "-relaxed") || strings.HasSuffix(b, "-relaxed") {
				continue
			}
			set, err := translate.Compile(&m.inv, translate.Options{Scope: translate.ScopeRBAC, PSPs: []string{a, b}, Mutate: true})
			if err != nil {
				t.Fatal(err)
			}
			r, _ := engines.ByName(translate.EngineKyverno)
			if _, err := r.Render(translate.Input{Set: set, Options: set.Options}); errors.Is(err, kyverno.ErrMutateAmbiguous) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, []string{a, b})
		}
	}
	var changed int
	for _, names := range pairs {
		// No comma in the name: the CLI splits --resource paths on commas.
		t.Run(strings.Join(names, "+"), func(t *testing.T) {
			r := m.compareScope(t, cli, translate.ScopeRBAC, names, nil)
			t.Logf("%v, --scope rbac: kyverno and pspadmission agree on %d of %d admitted pods (%d of them mutated)", names, r.agree, r.admitted, r.changed)
			if len(r.problems) > 0 {
				t.Errorf("%d disagreement(s):\n%s", len(r.problems), strings.Join(r.problems, "\n"))
			}
			changed += r.changed
		})
	}
	if changed == 0 {
		t.Errorf("pairs %v: no mutated pod compared", pairs)
	}
}

// TestTranslateKyvernoMutateGuard proves the comparison notices a mutate
// policy that leaves a default out: without its container rule, the
// restricted defaults must disagree with the model.
func TestTranslateKyvernoMutateGuard(t *testing.T) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI")
	m := newMutateCorpus(t)
	r := m.compare(t, cli, "restricted-relaxed", func(policy *unstructured.Unstructured) {
		rules, _, _ := unstructured.NestedSlice(policy.Object, "spec", "rules")
		rules = slices.DeleteFunc(rules, func(r any) bool { return r.(map[string]any)["name"] == "container-defaults" })
		if err := unstructured.SetNestedSlice(policy.Object, rules, "spec", "rules"); err != nil {
			t.Fatal(err)
		}
	})
	if len(r.problems) == 0 {
		t.Fatalf("a mutate policy without container defaults agreed with the model on all %d admitted pods", r.admitted)
	}
	t.Logf("without container defaults: %d disagreements of %d admitted pods", len(r.problems), r.admitted)
}

// mutateCorpus is the corpus with a relaxed copy of every PSP.
type mutateCorpus struct {
	inv   inventory.Inventory
	names []string
	// pods as created: prepared, without ephemeral containers.
	pods []*corev1.Pod
}

func newMutateCorpus(t *testing.T) *mutateCorpus {
	t.Helper()
	c := loadTranslateCorpus(t)
	all, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	m := &mutateCorpus{inv: *c.inv, names: all.PSPNames()}
	m.inv.PodSecurityPolicies = slices.Clone(c.inv.PodSecurityPolicies)
	for _, name := range all.PSPNames() {
		i := slices.IndexFunc(c.inv.PodSecurityPolicies, func(p psp.PodSecurityPolicy) bool { return p.Name == name })
		r := relaxedPSP(c.inv.PodSecurityPolicies[i])
		m.inv.PodSecurityPolicies = append(m.inv.PodSecurityPolicies, r)
		m.names = append(m.names, r.Name)
	}
	for _, pod := range c.pods {
		p := c.prepared(pod, pod.Namespace)
		p.Spec.EphemeralContainers = nil
		m.pods = append(m.pods, p)
	}
	return m
}

// mutateResult counts one PSP's comparison.
type mutateResult struct {
	admitted, agree, changed int
	hasDefaults              bool
	problems                 []string
	fields                   map[string]bool
}

// compare converts PSP name alone with --mutate, has the Kyverno CLI
// mutate every pod (after edit changes the policy, if given) and compares
// the result with the model for the pods the PSP admits.
func (m *mutateCorpus) compare(t *testing.T, cli, name string, edit func(*unstructured.Unstructured)) mutateResult {
	t.Helper()
	return m.compareScope(t, cli, translate.ScopeCluster, []string{name}, edit)
}

// compareScope is compare for several PSPs under scope; the model then
// chooses among the PSPs each pod may use (by its service account under
// --scope rbac).
func (m *mutateCorpus) compareScope(t *testing.T, cli string, scope translate.Scope, names []string, edit func(*unstructured.Unstructured)) mutateResult {
	t.Helper()
	opts := translate.Options{Scope: scope, PSPs: names, ExcludeNamespaces: []string{}, ToolVersion: "e2e", Mutate: true}
	set, err := translate.Compile(&m.inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := engines.ByName(translate.EngineKyverno)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(translate.Input{Set: set, Options: set.Options})
	if err != nil {
		t.Fatal(err)
	}
	var policy *unstructured.Unstructured
	for _, o := range out.Objects {
		if u, ok := o.Object.(*unstructured.Unstructured); ok && strings.HasSuffix(u.GetName(), "-defaults") {
			policy = u
		}
	}
	res := mutateResult{fields: map[string]bool{}}
	for _, p := range set.Policies {
		res.hasDefaults = res.hasDefaults || !p.Defaults.Empty()
	}
	if res.hasDefaults != (policy != nil) {
		t.Fatalf("%v: defaults %t, mutate policy rendered %t", names, res.hasDefaults, policy != nil)
	}
	var selected []psp.PodSecurityPolicy
	for _, name := range names {
		i := slices.IndexFunc(m.inv.PodSecurityPolicies, func(p psp.PodSecurityPolicy) bool { return p.Name == name })
		selected = append(selected, m.inv.PodSecurityPolicies[i])
	}
	var use pspadmission.Authorizer
	if scope == translate.ScopeRBAC {
		use = m.inv.UseTable(m.inv.RBACIndex(), names)
	}
	ev, invalid := pspadmission.NewEvaluator(selected, use)
	if len(invalid) > 0 {
		t.Fatalf("invalid: %v", invalid)
	}
	mutated := map[string]*corev1.Pod{}
	if policy != nil {
		if edit != nil {
			edit(policy)
		}
		mutated = kyvernoMutate(t, cli, policy, m.pods)
	}
	for _, pod := range m.pods {
		key := pod.Namespace + "/" + pod.Name
		ar := ev.Evaluate(pspadmission.Request{Pod: pod, Prepared: true})
		if ar.AdmittedBy == nil {
			// The validate policy rejects it; what the mutation did does
			// not matter.
			continue
		}
		res.admitted++
		want := fieldChanges(ar.MutatedFields)
		got := ""
		if policy != nil {
			kp, ok := mutated[key]
			if !ok {
				res.problems = append(res.problems, key+": the CLI wrote no resource")
				continue
			}
			got = fieldChanges(pspadmission.TemplateReliance(pspadmission.PrepareForCreate(kp), &corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}))
		}
		if got != want {
			res.problems = append(res.problems, fmt.Sprintf("%s:\n  kyverno:      %s\n  pspadmission: %s", key, got, want))
			continue
		}
		res.agree++
		if want != "" {
			res.changed++
		}
		for _, f := range ar.MutatedFields {
			res.fields[apparmorKeyRE.ReplaceAllString(containerNameRE.ReplaceAllString(f.Path, "[name=*]"), "${1}*")] = true
		}
	}
	return res
}

// relaxedPSP keeps p's defaults and the strategies that check them, and
// allows everything else.
func relaxedPSP(p psp.PodSecurityPolicy) psp.PodSecurityPolicy {
	r := p
	r.Name = p.Name + "-relaxed"
	r.Annotations = map[string]string{psp.SeccompAllowedProfilesAnnotation: psp.SeccompAllowAny}
	for _, k := range []string{psp.SeccompDefaultProfileAnnotation, psp.AppArmorDefaultProfileAnnotation} {
		if v, ok := p.Annotations[k]; ok {
			r.Annotations[k] = v
		}
	}
	s := &r.Spec
	s.Privileged = false
	s.Volumes = []psp.FSType{psp.All}
	s.AllowedHostPaths, s.AllowedFlexVolumes, s.AllowedCSIDrivers = nil, nil, nil
	s.HostNetwork, s.HostPID, s.HostIPC = true, true, true
	s.HostPorts = []psp.HostPortRange{{Min: 0, Max: 65535}}
	if len(s.RequiredDropCapabilities) == 0 {
		// "*" and required drops are mutually exclusive.
		s.AllowedCapabilities = []corev1.Capability{"*"}
	}
	s.AllowedUnsafeSysctls, s.ForbiddenSysctls = []string{"*"}, nil
	if s.RuntimeClass != nil {
		rc := *s.RuntimeClass
		rc.AllowedRuntimeClassNames = []string{"*"}
		s.RuntimeClass = &rc
	}
	return r
}

// fieldChanges renders changes in a canonical order for comparison.
func fieldChanges(fc []pspadmission.FieldChange) string {
	var parts []string
	for _, f := range fc {
		parts = append(parts, fmt.Sprintf("%s: %q -> %q", f.Path, f.Before, f.After))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

var (
	containerNameRE = regexp.MustCompile(`\[name=[^]]*\]`)
	apparmorKeyRE   = regexp.MustCompile(`(apparmor\.security\.beta\.kubernetes\.io/)[^]]*`)
)

var kyApplyRulesRE = regexp.MustCompile(`Applying (\d+) policy rule\(s\) to (\d+) resource\(s\)`)

// kyvernoMutate runs `kyverno apply` with policy on pods and returns the
// resources it wrote, by "namespace/name". It fails the test unless the CLI
// applied every rule of the policy to every pod.
func kyvernoMutate(t *testing.T, cli string, policy *unstructured.Unstructured, pods []*corev1.Pod) map[string]*corev1.Pod {
	t.Helper()
	dir := t.TempDir()
	pb, err := yaml.Marshal(policy.Object)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i, pod := range pods {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
		if err != nil {
			t.Fatal(err)
		}
		u["apiVersion"], u["kind"] = "v1", "Pod"
		unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u, "status")
		b, err := yaml.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), pb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pods.yaml"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	outFile := filepath.Join(dir, "mutated.yaml")
	cmd := exec.CommandContext(ctx, cli, "apply", filepath.Join(dir, "policy.yaml"), "--resource", filepath.Join(dir, "pods.yaml"), "-o", outFile, "--remove-color")
	cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null", "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kyverno apply: %v\n%s", err, out.String())
	}
	rules, _, _ := unstructured.NestedSlice(policy.Object, "spec", "rules")
	m := kyApplyRulesRE.FindStringSubmatch(out.String())
	if m == nil || m[1] != strconv.Itoa(len(rules)) || m[2] != strconv.Itoa(len(pods)) {
		t.Fatalf("kyverno apply did not apply %d rules to %d pods:\n%s", len(rules), len(pods), out.String())
	}
	if strings.Contains(out.String(), "error: 0") == false {
		t.Fatalf("kyverno apply reported errors:\n%s", out.String())
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data, "mutated.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*corev1.Pod{}
	for _, o := range objs {
		pod := &corev1.Pod{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object.Object, pod, true); err != nil {
			t.Fatalf("mutated pod %s: %v", o.Location(), err)
		}
		got[pod.Namespace+"/"+pod.Name] = pod
	}
	if len(got) != len(pods) {
		t.Fatalf("kyverno apply wrote %d pods, want %d", len(got), len(pods))
	}
	return got
}

// TestTranslateKyvernoMutateCRD validates the output of --mutate for each
// corpus PSP alone, in both scopes, against the ClusterPolicy CRD of the
// pinned Kyverno: a field the CRD does not know would be refused by
// `kubectl apply`.
func TestTranslateKyvernoMutateCRD(t *testing.T) {
	c := loadTranslateCorpus(t)
	r := crdRenderer(t, translate.EngineKyverno)
	_, set := crdEngineSet(t, crdEngines[0])
	all, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	tally := newCRDTally()
	mutatePolicies := 0
	for _, scope := range translate.Scopes {
		for _, name := range all.PSPNames() {
			variant := fmt.Sprintf("psp=%s,scope=%s,mutate", name, scope)
			objs, _, ok := crdRender(t, r, c, variant, translate.Options{Scope: scope, PSPs: []string{name}, Mutate: true, ToolVersion: crdToolVersion})
			if !ok {
				continue
			}
			for _, o := range objs {
				if strings.HasSuffix(o.obj.GetName(), "-defaults") {
					mutatePolicies++
				}
				crdCheckProvenance(t, translate.EngineKyverno, variant, o)
				crdValidate(t, set, variant, o, tally)
			}
		}
	}
	if mutatePolicies == 0 {
		t.Fatal("no mutate policy rendered")
	}
	t.Logf("validated %s, %d of them mutate policies", tally, mutatePolicies)
}
