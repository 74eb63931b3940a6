// Command gen writes the benchmark's synthetic cluster as one `kind: List`
// YAML document, as `kubectl get ... -A -o yaml` would print it.
//
//	go run ./hack/bench/gen -o /tmp/cluster.yaml            # 10,000 pods, 300 namespaces
//	go run ./hack/bench/gen -pods 2000 -namespaces 60 -o -  # smaller, to stdout
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
	flag.IntVar(&cfg.Pods, "pods", cfg.Pods, "number of pods")
	flag.IntVar(&cfg.Namespaces, "namespaces", cfg.Namespaces, "number of namespaces, built-in ones included")
	flag.IntVar(&cfg.PSPs, "psps", cfg.PSPs, "number of PodSecurityPolicies")
	flag.IntVar(&cfg.Bindings, "bindings", cfg.Bindings, "number of RoleBindings and ClusterRoleBindings granting use")
	flag.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "number of nodes (one DaemonSet pod and one static pod each)")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed; the same seed writes the same file")
	flag.Parse()
	if err := run(cfg, *out); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(cfg synth.Config, out string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	inv := synth.Generate(cfg)
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := synth.WriteList(w, inv); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if f, ok := w.(*os.File); ok && out != "-" {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
	}
	fmt.Fprintf(os.Stderr, "gen: %d objects (%d pods, %d namespaces, %d PSPs, %d bindings)\n",
		len(synth.Objects(inv)), len(inv.Pods), len(inv.Namespaces), len(inv.PodSecurityPolicies), len(inv.RoleBindings)+len(inv.ClusterRoleBindings))
	return nil
}
