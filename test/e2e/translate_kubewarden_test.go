package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// kwVariant is one conversion of the corpus for the kubewarden engine.
type kwVariant struct {
	name string
	opts translate.Options
}

func kwVariants(c *trCorpus) []kwVariant {
	var out []kwVariant
	cluster, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err == nil {
		for _, name := range cluster.PSPNames() {
			out = append(out, kwVariant{"psp-" + name, translate.Options{Scope: translate.ScopeCluster, PSPs: []string{name}}})
		}
	}
	for _, m := range translate.Modes {
		out = append(out, kwVariant{"cluster-" + string(m), translate.Options{Scope: translate.ScopeCluster, Mode: m}})
		out = append(out, kwVariant{"rbac-" + string(m), translate.Options{Scope: translate.ScopeRBAC, Mode: m}})
	}
	out = append(out,
		kwVariant{"rbac-no-exclusions", translate.Options{Scope: translate.ScopeRBAC, ExcludeNamespaces: []string{}}},
		kwVariant{"rbac-one-psp", translate.Options{Scope: translate.ScopeRBAC, PSPs: []string{cluster.PSPNames()[0]}}},
	)
	return out
}

// kwClusterSet is the corpus compiled for every pod.
func kwClusterSet(t *testing.T, c *trCorpus) *translate.PolicySet {
	t.Helper()
	set, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// renderKubewarden renders one variant and returns its objects.
func renderKubewarden(t *testing.T, c *trCorpus, v kwVariant) []*unstructured.Unstructured {
	t.Helper()
	v.opts.ToolVersion = "e2e"
	set, err := translate.Compile(c.inv, v.opts)
	if err != nil {
		t.Fatalf("%s: compile: %v", v.name, err)
	}
	r, err := engines.ByName(translate.EngineKubewarden)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(translate.Input{Set: set, Options: set.Options})
	if err != nil {
		t.Fatalf("%s: render: %v", v.name, err)
	}
	var objs []*unstructured.Unstructured
	for _, o := range out.Objects {
		u, ok := o.Object.(*unstructured.Unstructured)
		if !ok {
			t.Fatalf("%s: %s is a %T", v.name, o.FileName, o.Object)
		}
		objs = append(objs, u)
	}
	return objs
}

func kwWriteObjects(t *testing.T, path string, objs []*unstructured.Unstructured) {
	t.Helper()
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var kwSummary = regexp.MustCompile(`kwcheck: (\d+) objects, (\d+) problems`)

// runKwcheck runs the checker; it returns the problems printed, the number
// of objects it checked, and whether it passed.
func runKwcheck(t *testing.T, bin, module string, files ...string) (problems string, objects int, ok bool) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-crds", filepath.Join(module, "config", "crd", "bases")}, files...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
	default:
		t.Fatalf("kwcheck: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	m := kwSummary.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("kwcheck printed no summary:\n%s", stderr.String())
	}
	objects, _ = strconv.Atoi(m[1])
	return stdout.String(), objects, err == nil
}

// TestTranslateKubewardenStructure renders the corpus in every variant
// (each PSP alone, all PSPs under both scopes and every mode, exclusions on
// and off) and holds the output to kubewarden-controller: strict decoding
// into its types, its CRD schemas, its validating webhook, and each policy
// module's documented settings. No Kubewarden engine runs offline (policies
// are WebAssembly on ghcr.io), so this proves structure, not verdicts; the
// verdicts are the rule model's (PolicySet.Evaluate), proven against a real
// API server for the same CEL by the vap suite.
func TestTranslateKubewardenStructure(t *testing.T) {
	bin := framework.Tool(t, "PSP_MIGRATE_KWCHECK", "kwcheck, built by hack/ensure-kwcheck.sh")
	module := framework.Tool(t, "PSP_MIGRATE_KUBEWARDEN_MODULE", "kubewarden-controller in the Go module cache")
	c := loadTranslateCorpus(t)
	dir := t.TempDir()

	var files []string
	total := 0
	kinds := map[string]int{}
	for _, v := range kwVariants(c) {
		objs := renderKubewarden(t, c, v)
		if len(objs) == 0 && !(len(v.opts.PSPs) == 1 && len(policyByName(kwClusterSet(t, c), v.opts.PSPs[0]).Rules) == 0) {
			t.Errorf("%s: no objects", v.name)
		}
		for _, o := range objs {
			kinds[o.GetKind()]++
		}
		total += len(objs)
		f := filepath.Join(dir, v.name+".yaml")
		kwWriteObjects(t, f, objs)
		files = append(files, f)
	}
	problems, checked, ok := runKwcheck(t, bin, module, files...)
	if !ok {
		t.Errorf("kwcheck rejected the kubewarden output:\n%s", problems)
	}
	if checked != total {
		t.Errorf("kwcheck checked %d objects, %d were rendered", checked, total)
	}
	if kinds["ClusterAdmissionPolicy"] == 0 || kinds["ClusterAdmissionPolicyGroup"] == 0 {
		t.Errorf("variants rendered %v: want both policies and groups", kinds)
	}
	t.Logf("kwcheck accepted %d objects from %d variants (%v)", checked, len(files), kinds)

	t.Run("negative", func(t *testing.T) {
		base := renderKubewarden(t, c, kwVariant{"rbac", translate.Options{Scope: translate.ScopeRBAC}})[0]
		single := renderKubewarden(t, c, kwVariant{"one", translate.Options{Scope: translate.ScopeCluster, PSPs: []string{c.inv.PodSecurityPolicies[0].Name}}})[0]
		member := func(u *unstructured.Unstructured, module string) string {
			ps, _, _ := unstructured.NestedMap(u.Object, "spec", "policies")
			for name, m := range ps {
				if strings.Contains(m.(map[string]any)["module"].(string), "/"+module+":") {
					return name
				}
			}
			t.Fatalf("no %s member in %s", module, u.GetName())
			return ""
		}
		cases := []struct {
			name   string
			obj    *unstructured.Unstructured
			mutate func(u *unstructured.Unstructured)
			want   string
		}{
			{"unknown spec field", base, func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, false, "spec", "mutatingg")
			}, "mutatingg"},
			{"misspelt setting", base, func(u *unstructured.Unstructured) {
				m := member(u, "host-namespaces-psp")
				_ = unstructured.SetNestedField(u.Object, true, "spec", "policies", m, "settings", "allow_host_ipcs")
			}, "allow_host_ipcs: unknown setting"},
			{"setting of the wrong type", base, func(u *unstructured.Unstructured) {
				m := member(u, "pod-privileged")
				_ = unstructured.SetNestedField(u.Object, "no", "spec", "policies", m, "settings", "skip_init_containers")
			}, "want a boolean"},
			{"value a module does not take", base, func(u *unstructured.Unstructured) {
				m := member(u, "user-group-psp")
				_ = unstructured.SetNestedField(u.Object, "MayRunAs", "spec", "policies", m, "settings", "run_as_user", "rule")
			}, `"MayRunAs" is not one of`},
			{"unpinned module", base, func(u *unstructured.Unstructured) {
				m := member(u, "pod-privileged")
				_ = unstructured.SetNestedField(u.Object, "registry://ghcr.io/kubewarden/policies/pod-privileged:latest", "spec", "policies", m, "module")
			}, "not a pinned"},
			{"expression calls no member", base, func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "nobody()", "spec", "expression")
			}, "spec.expression"},
			{"bad mode", single, func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, "warn", "spec", "mode")
			}, "spec.mode"},
			{"CEL that does not compile", base, func(u *unstructured.Unstructured) {
				m := member(u, "cel-policy")
				_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"expression": "object.spec.(", "message": "x"}}, "spec", "policies", m, "settings", "validations")
			}, "does not compile"},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := tc.obj.DeepCopy()
				tc.mutate(u)
				f := filepath.Join(dir, fmt.Sprintf("negative-%d.yaml", i))
				kwWriteObjects(t, f, []*unstructured.Unstructured{u})
				problems, _, ok := runKwcheck(t, bin, module, f)
				if ok || !strings.Contains(problems, tc.want) {
					t.Errorf("kwcheck passed=%t, want a problem containing %q; got:\n%s", ok, tc.want, problems)
				}
				if !strings.Contains(problems, f) || !strings.Contains(problems, u.GetName()) {
					t.Errorf("problems do not name the file and the object:\n%s", problems)
				}
			})
		}
	})
}
