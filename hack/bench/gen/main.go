// Command gen writes the benchmark's synthetic cluster as one `kind: List`
// document, as `kubectl get ... -A -o yaml` (or -o json) would print it.
//
//	go run ./hack/bench/gen -o /tmp/cluster.yaml            # 10,000 pods, 300 namespaces
//	go run ./hack/bench/gen -pods 2000 -namespaces 60 -o -  # smaller, to stdout
//	go run ./hack/bench/gen -format json -shape small-pods -o /tmp/pods.json
//
// -shape small-pods writes only the pods, cut down to a few fields each
// (synth.SmallPods): the `kubectl get pods -A -o json` dump of the JSON
// benchmark.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/synth"
)

func main() {
	cfg := synth.Default()
	out := flag.String("o", "-", "output file, - for stdout")
	format := flag.String("format", "yaml", "yaml or json")
	shape := flag.String("shape", "cluster", "cluster (every object) or small-pods (only the pods, a few fields each)")
	flag.IntVar(&cfg.Pods, "pods", cfg.Pods, "number of pods")
	flag.IntVar(&cfg.Namespaces, "namespaces", cfg.Namespaces, "number of namespaces, built-in ones included")
	flag.IntVar(&cfg.PSPs, "psps", cfg.PSPs, "number of PodSecurityPolicies")
	flag.IntVar(&cfg.Bindings, "bindings", cfg.Bindings, "number of RoleBindings and ClusterRoleBindings granting use")
	flag.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "number of nodes (one DaemonSet pod and one static pod each)")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed; the same seed writes the same file")
	flag.Parse()
	if err := run(cfg, *out, *format, *shape); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(cfg synth.Config, out, format, shape string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if format != "yaml" && format != "json" {
		return fmt.Errorf("-format: want yaml or json, got %q", format)
	}
	if shape != "cluster" && shape != "small-pods" {
		return fmt.Errorf("-shape: want cluster or small-pods, got %q", shape)
	}
	if shape == "small-pods" && format != "json" {
		return fmt.Errorf("-shape small-pods is written as JSON only (-format json)")
	}
	inv := synth.Generate(cfg)
	write := func(w io.Writer) error {
		switch {
		case shape == "small-pods":
			return synth.WriteJSONList(w, synth.SmallPods(inv))
		case format == "json":
			return synth.WriteJSONList(w, synth.Objects(inv))
		}
		return synth.WriteList(w, inv)
	}
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := write(w); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if f, ok := w.(*os.File); ok && out != "-" {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
	}
	if shape == "small-pods" {
		fmt.Fprintf(os.Stderr, "gen: %d small pods\n", len(inv.Pods))
		return nil
	}
	fmt.Fprintf(os.Stderr, "gen: %d objects (%d pods, %d namespaces, %d PSPs, %d bindings)\n",
		len(synth.Objects(inv)), len(inv.Pods), len(inv.Namespaces), len(inv.PodSecurityPolicies), len(inv.RoleBindings)+len(inv.ClusterRoleBindings))
	return nil
}
