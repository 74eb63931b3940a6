package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The engines judge a pod as their validating webhook or CEL admission
// sees it: after API defaulting, ServiceAccount admission's token volume
// and the pod registry's changes (on v1.24 the seccomp annotation/field
// sync and procMount dropped). The audit's predictions (`audit -e ENGINE`)
// for pods never stored must be made on that same pod. These tests convert
// each PSP of the PSP admission corpus alone and have the real Kyverno CLI
// and gator judge every corpus pod as a v1.24 API server would hand it to
// them (pspadmission.ValidatingView); the prediction, made from the pod as
// written, must agree on every (PSP, pod) pair. They also count how often
// the prediction made on the pod as written, as the audit did before,
// would have agreed.

// unstoredEngineVersion is the release the pods are prepared for: the
// release PSP runs on, where the seccomp sync still happens.
const unstoredEngineVersion = "v1.24"

// unstoredEnginePods returns the corpus pods as written and as the engines
// see them on create, in the same order.
func unstoredEnginePods(t *testing.T, inv *inventory.Inventory) (raw, views []*corev1.Pod) {
	t.Helper()
	minor, err := pss.Minor(unstoredEngineVersion)
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]*corev1.ServiceAccount{}
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		accounts[sa.Namespace+"/"+sa.Name] = sa
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if pspadmission.Stored(p) {
			t.Fatalf("corpus pod %s/%s has a uid: the corpus is pods never stored", p.Namespace, p.Name)
		}
		v := pspadmission.ValidatingView(p, accounts[p.Namespace+"/"+serviceAccountName(p)], minor)
		if v == p {
			v = p.DeepCopy()
		}
		v.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		raw = append(raw, p)
		views = append(views, v)
	}
	return raw, views
}

// asStored is pod as the audit used to predict on it: as it is.
func asStored(pod *corev1.Pod) *corev1.Pod {
	q := *pod
	q.UID = "00000000-0000-0000-0000-000000000001"
	return &q
}

func unstoredOptions(psp string) translate.Options {
	return translate.Options{Scope: translate.ScopeCluster, PSPs: []string{psp}, ExcludeNamespaces: []string{}, PSSVersion: unstoredEngineVersion}
}

func unstoredPredictor(t *testing.T, inv *inventory.Inventory, engine, psp string) *translate.Predictor {
	t.Helper()
	opts := unstoredOptions(psp)
	opts.PSPs = nil // usability is decided among all PSPs; focus is the verdict
	p, err := translate.NewPredictor(inv, predicting(t, engine), psp, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEnginesKyvernoOnUnstoredPods is the Kyverno CLI's side.
func TestEnginesKyvernoOnUnstoredPods(t *testing.T) {
	cli := framework.Tool(t, envKyverno, "the Kyverno CLI")
	corpus, err := loadPSPCorpus()
	if err != nil {
		t.Fatal(err)
	}
	raw, views := unstoredEnginePods(t, corpus.inv)
	all, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	// A few PSPs per `kyverno test` run: the CLI compiles a
	// ValidatingPolicy anew for every pod, and one run has a time limit.
	const perRun = 6
	names := all.PSPNames()
	for _, engine := range kyvernoEngines {
		t.Run(engine, func(t *testing.T) {
			r, err := engines.ByName(engine)
			if err != nil {
				t.Skipf("no renderer: %v", err)
			}
			pairs, agreeAfter, agreeBefore, converted := 0, 0, 0, 0
			for from := 0; from < len(names); from += perRun {
				chunk := names[from:min(from+perRun, len(names))]
				s := newKyvernoSuite(t.TempDir())
				before := map[[2]string]bool{} // (PSP, pod) -> prediction on the pod as written
				after := map[[2]string]bool{}
				for i, name := range chunk {
					set, err := translate.Compile(corpus.inv, unstoredOptions(name))
					if err != nil {
						t.Fatal(err)
					}
					out, err := r.Render(translate.Input{Set: set, Options: set.Options})
					if err != nil {
						t.Fatalf("render %s: %v", name, err)
					}
					if !hasKyvernoPolicy(out) {
						continue // a PSP that allows everything renders nothing
					}
					pred := unstoredPredictor(t, corpus.inv, engine, name)
					want := map[string]kyWant{}
					for _, p := range raw {
						key := p.Namespace + "/" + p.Name
						now := pred.Admitted(pred.Pod(p, nil), engine)
						want[key] = kyWant{allowed: now}
						after[[2]string{name, key}] = now
						before[[2]string{name, key}] = pred.Admitted(pred.Pod(asStored(p), nil), engine)
					}
					if err := s.addGroup(fmt.Sprintf("p%02d", from+i), name, out, want); err != nil {
						t.Fatal(err)
					}
					converted++
				}
				if len(s.groups) == 0 {
					continue
				}
				if err := s.writePods(views); err != nil {
					t.Fatal(err)
				}
				run, err := runKyvernoSuite(t.Context(), cli, s.dir)
				if err != nil {
					t.Fatalf("%v\n%s", err, run.output)
				}
				c := checkKyvernoSuite(s, run, false)
				// The engine's verdict per pair: the prediction's unless the
				// pair is among the disagreements.
				disagree := map[[2]string]bool{}
				for _, pr := range c.problems {
					f := strings.SplitN(pr, "\t", 3)
					if len(f) == 3 {
						disagree[[2]string{f[0], f[1]}] = true
					}
					t.Error(pr)
				}
				for k, now := range after {
					pairs++
					engineAllowed := now != disagree[k]
					if now == engineAllowed {
						agreeAfter++
					}
					if before[k] == engineAllowed {
						agreeBefore++
					}
				}
			}
			t.Logf("%s, each of %d PSPs alone, %d pods prepared for %s: engine and prediction agree on %d/%d pairs (%.2f%%); predicting on the pod as written: %d/%d (%.2f%%)",
				engine, converted, len(raw), unstoredEngineVersion, agreeAfter, pairs, pct(agreeAfter, pairs), agreeBefore, pairs, pct(agreeBefore, pairs))
		})
	}
}

func hasKyvernoPolicy(out translate.Output) bool {
	for _, o := range out.Objects {
		if u, ok := o.Object.(*unstructured.Unstructured); ok {
			for _, k := range kyvernoPolicyKinds {
				if u.GetKind() == k {
					return true
				}
			}
			continue
		}
		return true
	}
	return false
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// TestEnginesGatorOnUnstoredPods is gator's side.
func TestEnginesGatorOnUnstoredPods(t *testing.T) {
	gator := framework.Tool(t, "PSP_MIGRATE_GATOR", "Gatekeeper's gator CLI; hack/ensure-gator.sh")
	corpus, err := loadPSPCorpus()
	if err != nil {
		t.Fatal(err)
	}
	raw, views := unstoredEnginePods(t, corpus.inv)
	all, err := translate.Compile(corpus.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	podFile := filepath.Join(dir, "pods.yaml")
	var podObjs []any
	for _, v := range views {
		podObjs = append(podObjs, v)
	}
	writeYAML(t, podFile, podObjs)
	r, err := engines.ByName(translate.EngineGatekeeper)
	if err != nil {
		t.Fatal(err)
	}
	pairs, agreeAfter, agreeBefore, psps := 0, 0, 0, 0
	for _, name := range all.PSPNames() {
		opts := unstoredOptions(name)
		opts.GatekeeperTemplates = true
		set, err := translate.Compile(corpus.inv, opts)
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(translate.Input{Set: set, Options: set.Options})
		if err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		pred := unstoredPredictor(t, corpus.inv, translate.EngineGatekeeper, name)
		rejected := map[string]bool{}
		if len(out.Objects) > 0 {
			var objs []any
			for _, o := range out.Objects {
				objs = append(objs, o.Object.(*unstructured.Unstructured).Object)
			}
			policyFile := filepath.Join(dir, name+".yaml")
			writeYAML(t, policyFile, objs)
			vs, err := runGator(t, gator, policyFile, podFile)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, x := range vs {
				rejected[x.ViolatingObject.Metadata.Namespace+"/"+x.ViolatingObject.Metadata.Name] = true
			}
		}
		psps++
		for _, p := range raw {
			key := p.Namespace + "/" + p.Name
			engineAllowed := !rejected[key]
			now := pred.Admitted(pred.Pod(p, nil), translate.EngineGatekeeper)
			then := pred.Admitted(pred.Pod(asStored(p), nil), translate.EngineGatekeeper)
			pairs++
			if now == engineAllowed {
				agreeAfter++
			} else {
				var reasons []string
				for _, v := range pred.Pod(p, nil) {
					reasons = append(reasons, v.Reasons...)
				}
				t.Errorf("psp %s, pod %s: gator allowed=%t, prediction allowed=%t (%s)", name, key, engineAllowed, now, strings.Join(reasons, "; "))
			}
			if then == engineAllowed {
				agreeBefore++
			}
		}
	}
	t.Logf("gatekeeper, each of %d PSPs alone, %d pods prepared for %s: gator and prediction agree on %d/%d pairs (%.2f%%); predicting on the pod as written: %d/%d (%.2f%%)",
		psps, len(raw), unstoredEngineVersion, agreeAfter, pairs, pct(agreeAfter, pairs), agreeBefore, pairs, pct(agreeBefore, pairs))
}
