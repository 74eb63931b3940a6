package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/gatekeeper"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// gatorViolation is the part of one `gator test -o json` result the test
// reads.
type gatorViolation struct {
	Msg        string `json:"msg"`
	Constraint struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	} `json:"constraint"`
	EnforcementAction string `json:"enforcementAction"`
	ViolatingObject   struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	} `json:"violatingObject"`
}

// runGator runs `gator test -o json` on files. Violations come back as
// JSON on stdout (exit 1); anything on stderr, or stdout that is not a
// JSON list, is an error: a template that does not compile or a constraint
// whose parameters do not fit its schema also exits 1, and would otherwise
// pass for "no violations".
func runGator(t *testing.T, gator string, files ...string) ([]gatorViolation, error) {
	t.Helper()
	args := []string{"test", "-o", "json"}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	cmd := exec.CommandContext(t.Context(), gator, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return nil, fmt.Errorf("gator test: %v: %s", runErr, s)
	}
	out := bytes.TrimSpace(stdout.Bytes())
	if len(out) == 0 || string(out) == "null" {
		if runErr != nil {
			return nil, fmt.Errorf("gator test: %w without output", runErr)
		}
		return nil, nil
	}
	var vs []gatorViolation
	if err := json.Unmarshal(out, &vs); err != nil {
		return nil, fmt.Errorf("gator test: output is not a list of violations: %w\n%s", err, out)
	}
	if len(vs) > 0 && runErr == nil {
		return nil, fmt.Errorf("gator test: %d violations but exit 0", len(vs))
	}
	return vs, nil
}

// writeYAML writes objects as one multi-document YAML file.
func writeYAML(t *testing.T, path string, objs []any) {
	t.Helper()
	var buf bytes.Buffer
	for i, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gkCanary breaks rules of every kind a restricting PSP converts to, so
// that gator must report it wherever a constraint matches its namespace:
// a run in which it passes checked nothing.
func gkCanary() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "x-gatekeeper-canary", Namespace: "team-a"},
		Spec: corev1.PodSpec{
			HostNetwork: true, HostPID: true, HostIPC: true,
			Containers: []corev1.Container{{
				Name: "bad", Image: "registry.example/bad:1",
				Ports: []corev1.ContainerPort{{ContainerPort: 1, HostPort: 1}},
				SecurityContext: &corev1.SecurityContext{Privileged: new(true), RunAsUser: new(int64(0)),
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_MODULE"}}},
			}},
			Volumes: []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		},
	}
}

// gkVariant is one conversion checked with gator.
type gkVariant struct {
	name  string
	opts  translate.Options
	focus string // --psp for the prediction
}

// TestTranslateGatekeeper renders the corpus for the gatekeeper engine with
// the project's own ConstraintTemplates and runs Gatekeeper's gator on the
// templates, the constraints and every corpus pod as admission sees it:
// each PSP alone, all PSPs with --scope cluster, and --scope rbac. For
// every pod, the PSPs whose constraints gator reports must be exactly the
// PSPs the audit's gatekeeper prediction (translate.Predictor) says the pod
// fails, both ways.
func TestTranslateGatekeeper(t *testing.T) {
	gator := framework.Tool(t, "PSP_MIGRATE_GATOR", "Gatekeeper's gator CLI; hack/ensure-gator.sh")
	corpus := loadTranslateCorpus(t)
	all, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}

	// The pods as admission sees them, in their own namespaces.
	pods := make([]*corev1.Pod, 0, len(corpus.pods)+1)
	var podObjs []any
	for _, pod := range append(append(slices.Clone(corpus.pods), corpus.offlinePods(t)...), gkCanary()) {
		p := corpus.prepared(pod, pod.Namespace)
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		pods = append(pods, p)
		podObjs = append(podObjs, p)
	}
	dir := t.TempDir()
	podFile := filepath.Join(dir, "pods.yaml")
	writeYAML(t, podFile, podObjs)

	var variants []gkVariant
	for _, name := range all.PSPNames() {
		variants = append(variants, gkVariant{name: "psp " + name, focus: name,
			opts: translate.Options{Scope: translate.ScopeCluster, PSPs: []string{name}, ExcludeNamespaces: []string{}}})
	}
	variants = append(variants,
		gkVariant{name: "all PSPs, --scope cluster", opts: translate.Options{Scope: translate.ScopeCluster}},
		gkVariant{name: "--scope rbac", opts: translate.Options{Scope: translate.ScopeRBAC}},
	)

	var policyFiles []string
	fired := map[string]bool{} // kind/name of constraints that reported a pod
	rendered := map[string]bool{}
	total := 0
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			v.opts.GatekeeperTemplates = true
			set, err := translate.Compile(corpus.inv, v.opts)
			if err != nil {
				t.Fatal(err)
			}
			r, err := engines.ByName(translate.EngineGatekeeper)
			if err != nil {
				t.Fatal(err)
			}
			pred, err := translate.NewPredictor(corpus.inv, predicting(t, translate.EngineGatekeeper), v.focus, v.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Render(translate.Input{Set: set, Options: set.Options})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if len(out.Objects) == 0 {
				// Only a PSP that allows everything renders nothing; then
				// the prediction must admit every pod.
				for _, p := range pods {
					if !pred.Admitted(pred.Pod(p, nil), translate.EngineGatekeeper) {
						t.Errorf("%s/%s: nothing rendered, but the prediction rejects it", p.Namespace, p.Name)
					}
				}
				t.Logf("nothing rendered (%q); prediction admits all %d pods", out.Warnings, len(pods))
				return
			}
			var objs []any
			constraints := 0
			for _, o := range out.Objects {
				u := o.Object.(*unstructured.Unstructured)
				objs = append(objs, u.Object)
				if u.GetKind() != "ConstraintTemplate" {
					constraints++
					rendered[u.GetKind()+"/"+u.GetName()] = true
				}
			}
			policyFile := filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "", "/", "-").Replace(v.name)+".yaml")
			writeYAML(t, policyFile, objs)
			policyFiles = append(policyFiles, policyFile)

			vs, err := runGator(t, gator, policyFile, podFile)
			if err != nil {
				t.Fatal(err)
			}
			// gator's verdict: pod -> PSPs whose constraints it violates.
			got := map[string]map[string]bool{}
			for _, x := range vs {
				if x.ViolatingObject.Kind != "Pod" {
					t.Errorf("violation on a %s: %s", x.ViolatingObject.Kind, x.Msg)
					continue
				}
				if x.EnforcementAction != "deny" {
					t.Errorf("%s/%s: enforcementAction %q, want deny", x.Constraint.Kind, x.Constraint.Metadata.Name, x.EnforcementAction)
				}
				key := x.ViolatingObject.Metadata.Namespace + "/" + x.ViolatingObject.Metadata.Name
				psp := x.Constraint.Metadata.Annotations[translate.AnnotationSourcePSPs]
				if psp == "" {
					t.Errorf("constraint %s/%s has no %s annotation", x.Constraint.Kind, x.Constraint.Metadata.Name, translate.AnnotationSourcePSPs)
				}
				if got[key] == nil {
					got[key] = map[string]bool{}
				}
				got[key][psp] = true
				fired[x.Constraint.Kind+"/"+x.Constraint.Metadata.Name] = true
			}

			var rows []string
			agree, denied := 0, 0
			var approximated []string
			exact := policyByName(all, v.focus)
			for _, p := range pods {
				key := p.Namespace + "/" + p.Name
				verdicts := pred.Pod(p, nil)
				var want []string
				for _, pv := range verdicts {
					if !pv.Allowed {
						want = append(want, pv.PSP)
					}
				}
				var have []string
				for psp := range got[key] {
					have = append(have, psp)
				}
				sort.Strings(want)
				sort.Strings(have)
				if admitted := translate.Admitted(verdicts, gatekeeper.Engine{}); admitted != (len(want) == 0) {
					t.Errorf("%s: Admitted=%t but failing PSPs %v", key, admitted, want)
				}
				if len(have) > 0 {
					denied++
				}
				// Where a kind cannot express a rule, the constraints and the
				// prediction follow what was rendered, not the PSP.
				if exact != nil && exact.Evaluate(p).Allowed != (len(have) == 0) {
					approximated = append(approximated, p.Name)
				}
				if slices.Equal(want, have) {
					agree++
					continue
				}
				var msgs []string
				for _, x := range vs {
					if x.ViolatingObject.Metadata.Namespace+"/"+x.ViolatingObject.Metadata.Name == key {
						msgs = append(msgs, x.Msg)
					}
				}
				var reasons []string
				for _, pv := range verdicts {
					reasons = append(reasons, pv.Reasons...)
				}
				rows = append(rows, fmt.Sprintf("%s\tgator %v\tmodel %v\tgator: %s | model: %s", key, have, want, strings.Join(msgs, "; "), strings.Join(reasons, "; ")))
			}
			if denied == 0 || denied == len(pods) {
				t.Errorf("gator denied %d of %d pods: the corpus must show both verdicts", denied, len(pods))
			}
			canary := gkCanary()
			canaryKey := canary.Namespace + "/" + canary.Name
			if len(got[canaryKey]) == 0 {
				t.Errorf("gator reports nothing for %s, which breaks every kind: the constraints checked nothing", canaryKey)
			}
			t.Logf("%s: %d templates, %d constraints; gator and prediction agree on %d of %d pods (%d denied by gator, %d admitted)",
				v.name, len(out.Objects)-constraints, constraints, agree, len(pods), denied, len(pods)-denied)
			if exact != nil {
				t.Logf("%s: %d pods decided otherwise than by the PSP's exact rules, because of the %d approximation warning(s): %v", v.name, len(approximated), len(out.Warnings), approximated)
			}
			total += agree
			if len(rows) > 0 {
				var buf bytes.Buffer
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "POD\tGATOR\tMODEL\tDETAILS")
				for _, r := range rows {
					fmt.Fprintln(tw, r)
				}
				_ = tw.Flush()
				t.Errorf("%s: %d disagreement(s):\n%s", v.name, len(rows), buf.String())
			}
		})
	}

	var never []string
	for c := range rendered {
		if !fired[c] {
			never = append(never, c)
		}
	}
	sort.Strings(never)
	t.Logf("total agreements: %d; %d constraints rendered, %d reported some pod", total, len(rendered), len(fired))
	if len(never) > 0 {
		t.Errorf("constraints that reported no pod in any variant (a template that checks nothing?): %v", never)
	}

	t.Run("exemptImages exempts a container", func(t *testing.T) {
		set, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster, PSPs: []string{"restricted"}, GatekeeperTemplates: true})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := engines.ByName(translate.EngineGatekeeper)
		out, err := r.Render(translate.Input{Set: set, Options: set.Options})
		if err != nil {
			t.Fatal(err)
		}
		var objs []any
		for _, o := range out.Objects {
			u := o.Object.(*unstructured.Unstructured)
			if u.GetKind() != "K8sPSPPrivilegedContainer" && u.GetName() != "k8spspprivilegedcontainer" {
				continue
			}
			objs = append(objs, u.Object)
			if u.GetKind() == "K8sPSPPrivilegedContainer" {
				exempt := u.DeepCopy()
				exempt.SetName("exempt")
				if err := unstructured.SetNestedStringSlice(exempt.Object, []string{"registry.example/bad*"}, "spec", "parameters", "exemptImages"); err != nil {
					t.Fatal(err)
				}
				objs = append(objs, exempt.Object)
			}
		}
		if len(objs) != 3 {
			t.Fatalf("want the privileged template and two constraints, got %d objects", len(objs))
		}
		policy, pods := filepath.Join(t.TempDir(), "policy.yaml"), filepath.Join(t.TempDir(), "pods.yaml")
		writeYAML(t, policy, objs)
		writeYAML(t, pods, []any{gkCanary()})
		vs, err := runGator(t, gator, policy, pods)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].Constraint.Metadata.Name == "exempt" {
			t.Errorf("want one violation, from the constraint without exemptImages; got %+v", vs)
		}
	})

	t.Run("gator errors are not taken for verdicts", func(t *testing.T) {
		if len(policyFiles) == 0 {
			t.Skip("nothing rendered")
		}
		data, err := os.ReadFile(policyFiles[len(policyFiles)-1])
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, from, to, want string }{
			{"template that does not compile", "violation[{\"msg\": msg}] {", "violation[{\"msg\": msg}] { = ", "rego_parse_error"},
			{"parameter of the wrong type", "rule: MustRunAs", "rule: 7", "spec.parameters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if !bytes.Contains(data, []byte(tc.from)) {
					t.Fatalf("rendered policies lack %q", tc.from)
				}
				bad := filepath.Join(t.TempDir(), "bad.yaml")
				if err := os.WriteFile(bad, bytes.Replace(data, []byte(tc.from), []byte(tc.to), 1), 0o644); err != nil {
					t.Fatal(err)
				}
				_, err := runGator(t, gator, bad, podFile)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("want an error mentioning %q, got %v", tc.want, err)
				}
			})
		}
	})
}
