package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/synth"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
)

// TestStreamMatchesRun: pods handed to a Stream page by page, in any
// order, some before Ready and some after, and a list restarted midway,
// give the report Run gives on the whole inventory, byte for byte.
func TestStreamMatchesRun(t *testing.T) {
	example := filepath.Join("..", "..", "examples", "cluster.yaml")
	mixed := filepath.Join("testdata", "mixed-input.yaml")
	tests := []struct {
		name string
		inv  func(t *testing.T) *inventory.Inventory
		opts Options
	}{
		{name: "example", inv: func(t *testing.T) *inventory.Inventory { return load(t, example) }, opts: Options{PSSVersion: "v1.24"}},
		{name: "example, controller-manager", inv: func(t *testing.T) *inventory.Inventory { return load(t, example) }, opts: Options{ControllerIdentity: "controller-manager"}},
		{name: "example, engine vap", inv: func(t *testing.T) *inventory.Inventory { return load(t, example) }, opts: Options{Engines: []string{"vap"}}},
		{name: "mixed", inv: func(t *testing.T) *inventory.Inventory { return load(t, mixed) }},
		{name: "mixed, one namespace", inv: func(t *testing.T) *inventory.Inventory { return load(t, mixed) }, opts: Options{Namespace: "data"}},
		{name: "unstored pods", inv: func(t *testing.T) *inventory.Inventory {
			return load(t, filepath.Join("testdata", "unstored-input.yaml"))
		}},
		{name: "synthetic cluster", inv: func(*testing.T) *inventory.Inventory {
			return synth.Generate(synth.Config{Pods: 1500, Namespaces: 40, PSPs: 20, Bindings: 200, Nodes: 5, Seed: 7})
		}},
	}
	for _, tt := range tests {
		for _, readyAfter := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s, ready after %d pages", tt.name, readyAfter), func(t *testing.T) {
				inv := tt.inv(t)
				want := reportJSON(t, func() (any, error) { return Run(inv, tt.opts) })

				pods := inv.Pods
				rest := *inv
				rest.Pods = nil
				rng := rand.New(rand.NewPCG(uint64(len(pods)), uint64(readyAfter)))
				s := NewStream(tt.opts)
				defer s.Close()
				// A first pass cut short, forgotten by the restart.
				first := shuffledPages(rng, pods)
				for _, page := range first[:len(first)/2] {
					if err := s.Add(page, false); err != nil {
						t.Fatal(err)
					}
				}
				pages := shuffledPages(rng, pods)
				for i, page := range pages {
					if i == min(readyAfter, len(pages)) {
						if err := s.Ready(&rest); err != nil {
							t.Fatal(err)
						}
					}
					if err := s.Add(page, i == 0); err != nil {
						t.Fatal(err)
					}
				}
				if !s.Started() {
					if err := s.Ready(&rest); err != nil {
						t.Fatal(err)
					}
				}
				got := reportJSON(t, func() (any, error) { return s.Finish(&rest) })
				if got != want {
					t.Errorf("the streamed report differs from Run's:\n got %.2000s\nwant %.2000s", got, want)
				}
			})
		}
	}
}

// shuffledPages copies pods in a random order into pages of random sizes,
// as a live list may return them (the API server orders by its storage
// key, not by namespace and name).
func shuffledPages(rng *rand.Rand, pods []corev1.Pod) [][]corev1.Pod {
	all := append([]corev1.Pod(nil), pods...)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var pages [][]corev1.Pod
	for len(all) > 0 {
		n := min(1+rng.IntN(200), len(all))
		pages = append(pages, all[:n:n])
		all = all[n:]
	}
	if len(pages) == 0 {
		pages = append(pages, nil)
	}
	return pages
}

func reportJSON(t *testing.T, run func() (any, error)) string {
	t.Helper()
	rep, err := run()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
