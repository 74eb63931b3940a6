package audit

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/synth"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
)

// TestSharedVerdictsMatchPerPod: pods of one shape share a verdict, and
// the report is byte for byte the one evaluating every pod on its own
// gives, also where a shared verdict would be wrong (it names the pod, or
// the node decides the requester).
func TestSharedVerdictsMatchPerPod(t *testing.T) {
	shapesInput := filepath.Join("testdata", "shapes-input.yaml")
	tests := []struct {
		name string
		inv  func(t *testing.T) *inventory.Inventory
		opts Options
		// verdicts is how many distinct verdicts the pods get; 0: fewer
		// than there are pods; -1: not checked.
		verdicts int
	}{
		{name: "shapes", inv: func(t *testing.T) *inventory.Inventory { return load(t, shapesInput) }, verdicts: 5},
		{name: "shapes, engine vap", inv: func(t *testing.T) *inventory.Inventory { return load(t, shapesInput) }, opts: Options{Engines: []string{"vap"}}, verdicts: 5},
		{name: "example", inv: func(t *testing.T) *inventory.Inventory {
			return load(t, filepath.Join("..", "..", "examples", "cluster.yaml"))
		}},
		{name: "example, controller-manager", inv: func(t *testing.T) *inventory.Inventory {
			return load(t, filepath.Join("..", "..", "examples", "cluster.yaml"))
		}, opts: Options{ControllerIdentity: "controller-manager"}},
		{name: "mixed", inv: func(t *testing.T) *inventory.Inventory { return load(t, filepath.Join("testdata", "mixed-input.yaml")) }, verdicts: -1},
		{name: "synthetic cluster", inv: func(*testing.T) *inventory.Inventory {
			return synth.Generate(synth.Config{Pods: 1500, Namespaces: 40, PSPs: 20, Bindings: 200, Nodes: 5, Seed: 7})
		}},
		{name: "synthetic cluster, v1.24", inv: func(*testing.T) *inventory.Inventory {
			return synth.Generate(synth.Config{Pods: 600, Namespaces: 20, PSPs: 10, Bindings: 100, Nodes: 3, Seed: 3})
		}, opts: Options{PSSVersion: "v1.24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := tt.inv(t)
			each, err := newAuditor(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			each.shapes.off = true
			want := reportJSON(t, func() (any, error) { return each.report(each.evaluatePods(inv.Pods)) })

			shared, err := newAuditor(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			recs := shared.evaluatePods(inv.Pods)
			distinct := map[*verdict]bool{}
			for _, r := range recs {
				distinct[r.verdict] = true
			}
			got := reportJSON(t, func() (any, error) { return shared.report(recs) })
			if got != want {
				t.Errorf("the report with shared verdicts differs from the one evaluating each pod:\n got %.3000s\nwant %.3000s", got, want)
			}
			switch {
			case tt.verdicts > 0 && len(distinct) != tt.verdicts:
				t.Errorf("%d pods got %d distinct verdicts, want %d", len(recs), len(distinct), tt.verdicts)
			case tt.verdicts == 0 && len(recs) > 1 && len(distinct) >= len(recs):
				t.Errorf("no verdict shared among %d pods", len(recs))
			}
			t.Logf("%d pods, %d distinct verdicts", len(recs), len(distinct))
		})
	}
}

// TestShapesFixture pins what the shapes fixture is for: each rejected
// replica's verdict names the pod itself, and the mirror pods' verdicts
// differ by node.
func TestShapesFixture(t *testing.T) {
	inv := load(t, filepath.Join("testdata", "shapes-input.yaml"))
	rep, err := Run(inv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	admitted := map[string]string{}
	for _, p := range rep.Pods {
		if p.PSP == nil {
			t.Fatalf("pod %s: no PSP verdict", p.Name)
		}
		if strings.HasPrefix(p.Name, "priv-") && !strings.Contains(p.PSP.Reason, `Pod "`+p.Name+`" is invalid`) {
			t.Errorf("pod %s: reason %q does not name the pod", p.Name, p.PSP.Reason)
		}
		if p.PSP.AdmittedBy != nil {
			admitted[p.Name] = *p.PSP.AdmittedBy
		}
	}
	if admitted["static-node-one"] == admitted["static-node-two"] {
		t.Errorf("mirror pods admitted alike (%q), want the node to decide", admitted["static-node-one"])
	}
}
