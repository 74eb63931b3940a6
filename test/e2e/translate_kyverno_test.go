package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The Kyverno engines are checked with the real Kyverno CLI (`kyverno
// test`, built by hack/ensure-kyverno.sh), offline: it runs Kyverno's own
// policy engine on the rendered policies and the corpus pods, which proves
// each rendering and the prediction of `audit -e ENGINE` agree.
//
// What the CLI cannot show: it evaluates a pod as a CREATE of pods, and
// sends a ValidatingPolicy no subresource, so pods with ephemeral
// containers are judged whole, as a pod carrying them, not through a
// pods/ephemeralcontainers update. For kyverno-cel that exercises the very
// expression the subresource rule runs (one validation serves both
// resource rules); that the subresource rule matches at all is only proven
// by the policy's text (pkg/translate unit tests).

const envKyverno = "PSP_MIGRATE_KYVERNO"

// kyvernoEngines are the engines whose output the Kyverno CLI checks. An
// engine without a renderer yet is skipped.
var kyvernoEngines = []string{translate.EngineKyvernoCEL, translate.EngineKyverno}

// kyVariant is one way of converting the corpus.
type kyVariant struct {
	// key prefixes its policies' names in the suite; name describes it.
	key, name string
	// groups are the conversions to render into one suite; each is
	// judged on its own.
	groups []translate.Options
	// focus names, per group, the only PSP whose verdict counts (a
	// conversion of that PSP alone).
	focus []string
}

func kyvernoVariants(t *testing.T, c *trCorpus) []kyVariant {
	t.Helper()
	all, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	perPSP := kyVariant{key: "each", name: "each PSP alone, --scope cluster, no exclusions"}
	for _, name := range all.PSPNames() {
		perPSP.groups = append(perPSP.groups, translate.Options{Scope: translate.ScopeCluster, PSPs: []string{name}, ExcludeNamespaces: []string{}, ToolVersion: "e2e"})
		perPSP.focus = append(perPSP.focus, name)
	}
	one := func(key, name string, opts translate.Options) kyVariant {
		opts.ToolVersion = "e2e"
		return kyVariant{key: key, name: name, groups: []translate.Options{opts}, focus: []string{""}}
	}
	return []kyVariant{
		perPSP,
		one("cluster", "all PSPs, --scope cluster", translate.Options{Scope: translate.ScopeCluster}),
		one("rbac", "all PSPs, --scope rbac", translate.Options{Scope: translate.ScopeRBAC}),
		// The CLI reports a violation as "fail" whatever the policy does
		// with it; this shows the warn rendering loads and judges alike.
		one("warn", "all PSPs, --scope cluster --mode warn, no exclusions", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn, ExcludeNamespaces: []string{}}),
	}
}

// predictKyverno is what `audit -e engine` predicts for every pod under
// opts, keyed "namespace/name". focus, when set, names the PSP converted
// alone.
func predictKyverno(t *testing.T, c *trCorpus, engine string, opts translate.Options, focus string, pods []*corev1.Pod) map[string]kyWant {
	t.Helper()
	// The prediction decides usability among all PSPs; the conversion of
	// one PSP is that PSP's verdict.
	popts := opts
	popts.PSPs = nil
	p, err := translate.NewPredictor(c.inv, predicting(t, engine), focus, popts)
	if err != nil {
		t.Fatal(err)
	}
	set, err := translate.Compile(c.inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kyWant{}
	for _, pod := range pods {
		v := set.Evaluate(pod, nil)
		w := kyWant{excluded: v.Excluded, allowed: p.Admitted(p.Pod(pod, nil), engine)}
		if !w.allowed {
			// The CEL engines' message; engines that OR the PSPs must
			// also agree with the set on the verdict itself.
			w.message = v.Message
		}
		if engine == translate.EngineKyvernoCEL && v.Allowed != w.allowed {
			t.Fatalf("%s/%s: the predictor and PolicySet.Evaluate disagree (%t, %t)", pod.Namespace, pod.Name, w.allowed, v.Allowed)
		}
		out[pod.Namespace+"/"+pod.Name] = w
	}
	return out
}

// buildKyvernoSuite renders every group of the variants for engine into
// one suite in dir.
func buildKyvernoSuite(t *testing.T, c *trCorpus, engine string, variants []kyVariant, dir string) *kySuite {
	t.Helper()
	r, err := engines.ByName(engine)
	if err != nil {
		t.Fatal(err)
	}
	var pods []*corev1.Pod
	for _, pod := range append(slices.Clone(c.pods), c.offlinePods(t)...) {
		pods = append(pods, c.prepared(pod, pod.Namespace))
	}
	s := newKyvernoSuite(dir)
	for _, v := range variants {
		for i, opts := range v.groups {
			set, err := translate.Compile(c.inv, opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Render(translate.Input{Set: set, Options: set.Options})
			if err != nil {
				t.Fatalf("render %s: %v", engine, err)
			}
			label := v.key
			if v.focus[i] != "" {
				label += "/" + v.focus[i]
			}
			if err := s.addGroup(v.key, label, out, predictKyverno(t, c, engine, opts, v.focus[i], pods)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.writePods(pods); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTranslateKyverno renders the corpus for each Kyverno engine in
// several ways and has the Kyverno CLI judge every pod: its verdict must be
// the prediction's, for every (conversion, pod).
func TestTranslateKyverno(t *testing.T) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI")
	corpus := loadTranslateCorpus(t)
	variants := kyvernoVariants(t, corpus)
	for _, engine := range kyvernoEngines {
		t.Run(engine, func(t *testing.T) {
			if _, err := engines.ByName(engine); err != nil {
				t.Skipf("no renderer: %v", err)
			}
			s := buildKyvernoSuite(t, corpus, engine, variants, t.TempDir())
			run, err := runKyvernoSuite(t.Context(), cli, s.dir)
			if err != nil {
				t.Fatalf("%v\n%s", err, run.output)
			}
			c := checkKyvernoSuite(s, run, engine == translate.EngineKyvernoCEL)
			var denied, admitted, excluded int
			for _, v := range variants {
				st := c.stats[v.key]
				t.Logf("%s / %s: engine and prediction agree on %d of %d (conversion, pod) pairs (%d denied, %d excluded, %d with ephemeral containers)",
					engine, v.name, st.agree, st.pairs, st.denied, st.excluded, st.ephemeral)
				denied += st.denied
				excluded += st.excluded
				admitted += st.agree - st.denied - st.excluded
			}
			t.Logf("%s: %d policies applied to %d pods, %d result rows, one per expectation: %t",
				engine, run.policies, run.pods, len(run.rows), c.strict)
			if len(c.problems) > 0 {
				var buf bytes.Buffer
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CONVERSION\tPOD\tDISAGREEMENT")
				for _, p := range c.problems {
					fmt.Fprintln(tw, p)
				}
				_ = tw.Flush()
				t.Errorf("%s: %d problem(s):\n%s", engine, len(c.problems), buf.String())
			}
			// Every way of judging a pod was seen agreeing: the suite
			// proves the policies both ways.
			if denied == 0 || admitted == 0 || excluded == 0 {
				t.Errorf("%s: agreements on %d denied, %d admitted, %d excluded pods; want some of each", engine, denied, admitted, excluded)
			}
		})
	}
}

// TestTranslateKyvernoGuard proves the harness fails when the CLI does not
// really judge a policy: a policy it cannot load, or one it loads but
// cannot run, must never pass as "skipped".
func TestTranslateKyvernoGuard(t *testing.T) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI")
	corpus := loadTranslateCorpus(t)
	v := kyVariant{key: "guard", name: "restricted", groups: []translate.Options{{Scope: translate.ScopeCluster, PSPs: []string{"restricted"}, ExcludeNamespaces: []string{}}}, focus: []string{"restricted"}}
	tests := []struct {
		name string
		// edit breaks the rendered policy's YAML.
		edit func(string) string
		// flip turns the prediction for one denied pod into "allowed"
		// after the test file was written: the CLI then agrees with its
		// expectations, and only the comparison with the model can tell.
		flip bool
	}{
		{"unchanged policy passes", nil, false},
		{"a wrong prediction", nil, true},
		{"unknown field", func(y string) string {
			return strings.Replace(y, "\nspec:\n", "\nspec:\n  validationz: []\n", 1)
		}, false},
		{"unknown field deep inside", func(y string) string {
			return strings.Replace(y, "  - expression: size(", "  - expresion: size(", 1)
		}, false},
		{"invalid enum value", func(y string) string {
			return strings.Replace(y, "failurePolicy: Fail", "failurePolicy: Sometimes", 1)
		}, false},
		{"CEL that does not compile", func(y string) string {
			return strings.Replace(y, "  - expression: size(", "  - expression: (size(", 1)
		}, false},
		// The same two traps in the ClusterPolicy's JMESPath rendering.
		{"unknown field deep inside a deny rule", func(y string) string {
			return strings.Replace(y, "        conditions:\n", "        conditionz:\n", 1)
		}, false},
		{"JMESPath that does not compile", func(y string) string {
			return strings.Replace(y, "key: '{{ !(", "key: '{{ !((", 1)
		}, false},
	}
	for _, engine := range kyvernoEngines {
		if _, err := engines.ByName(engine); err != nil {
			continue
		}
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				s := buildKyvernoSuite(t, corpus, engine, []kyVariant{v}, t.TempDir())
				if tt.edit != nil && !editPolicies(t, s.dir, tt.edit) {
					t.Skipf("nothing to break this way in the %s rendering", engine)
				}
				broken := tt.edit != nil || tt.flip
				if tt.flip {
					g := s.groups[0]
					for _, key := range s.pods {
						if w := g.want[key]; !w.allowed {
							w.allowed, w.message = true, ""
							g.want[key] = w
							break
						}
					}
				}
				run, err := runKyvernoSuite(t.Context(), cli, s.dir)
				var problems []string
				if err != nil {
					problems = []string{err.Error()}
				} else {
					problems = checkKyvernoSuite(s, run, engine == translate.EngineKyvernoCEL).problems
				}
				if !broken && len(problems) > 0 {
					t.Fatalf("the unchanged policy fails: %v\n%s", problems, run.output)
				}
				if broken && len(problems) == 0 {
					t.Fatalf("the harness accepted a broken suite; CLI output:\n%s", run.output)
				}
				if len(problems) > 0 {
					first := problems[0]
					if len(first) > 300 {
						first = first[:300] + "…"
					}
					t.Logf("harness: %d problem(s), first: %s", len(problems), first)
				}
			})
		}
	}
}

// editPolicies applies edit to every rendered policy file of a suite and
// reports whether it changed any.
func editPolicies(t *testing.T, dir string, edit func(string) string) bool {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, path := range paths {
		if base := filepath.Base(path); base == "pods.yaml" || base == "kyverno-test.yaml" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := edit(string(b))
		if edited == string(b) {
			continue
		}
		changed = true
		if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return changed
}
