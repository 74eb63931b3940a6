package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/measure"
	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/synth"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

var (
	flagFile     = flag.String("bench.file", "", "synthetic cluster file to load (default: generate the default cluster in memory)")
	flagPlugin   = flag.String("bench.plugin", "", "kubectl-psp_migrate binary (default: build it)")
	flagListOnly = flag.String("bench.listonly", "", "hack/bench/listonly binary (default: build it)")
	flagRun      = flag.String("bench.run", "", "hack/bench/run binary, which does the measuring (default: build it)")
	flagKubectl  = flag.String("bench.kubectl", "", "kubectl binary (default: $"+framework.EnvKubectl+"); \"none\" leaves kubectl out (it takes about 0.2 GB per 1,000 pods)")
	flagRuns     = flag.Int("bench.runs", 5, "timed runs per program; the median is reported")
	flagWorkers  = flag.Int("bench.workers", 16, "concurrent requests while loading the cluster")
	flagOut      = flag.String("bench.out", "", "write the report (hack/bench/measure JSON) here")
	flagHold     = flag.String("bench.hold", "", "after loading, write the admin kubeconfig's path to this file and keep the server up until the file is removed (for profiling by hand, and for -bench.kubeconfig); nothing is measured")
)

// Rate limits for loading only: the programs measured use their own.
const (
	loadQPS   = 5000
	loadBurst = 10000
)

// The resource types the audit lists, in kubectl's short names.
const kubectlTypes = "ns,psp,clusterroles,clusterrolebindings,roles,rolebindings,sa,pods,rs,deploy,sts,ds,jobs,cronjobs,rc,runtimeclasses"

// BenchmarkLiveAudit loads the synthetic cluster into a real kube-apiserver
// v1.24 and times, round-robin in one run, three programs reading it whole:
// the plugin (`audit -o json`), listonly (the same paged LISTs, nothing
// else) and `kubectl get <the same types> -A -o json`. It needs the e2e
// environment (eval "$(hack/e2e-env.sh)") and minutes; run it with
//
//	go test ./test/bench -run '^$' -bench BenchmarkLiveAudit -benchtime 1x -timeout 60m [-args -bench.file=FILE ...]
//
// or through hack/bench.sh, which prints the figures as ratios against the
// targets. Speed targets are asserted nowhere else: timed tests flake.
func BenchmarkLiveAudit(b *testing.B) {
	ctx := b.Context()
	kubectl := *flagKubectl
	if kubectl == "" {
		kubectl = os.Getenv(framework.EnvKubectl)
	}
	if kubectl == "" {
		b.Skipf("no kubectl: set -bench.kubectl or $%s (eval \"$(hack/e2e-env.sh)\")", framework.EnvKubectl)
	}
	inv := readInventory(b)
	pods := len(inv.Pods)
	objects := len(synth.Objects(inv))

	kubeconfig, server, load := *flagKubeconfig, "held: "+*flagKubeconfig, "held cluster (-bench.kubeconfig)"
	if kubeconfig == "" {
		c := framework.Start(b, framework.Options{Version: "v1.24"})
		cfg := c.AdminConfig()
		cfg.QPS, cfg.Burst = loadQPS, loadBurst
		stats, err := Load(ctx, cfg, inv, *flagWorkers)
		if err != nil {
			b.Fatalf("load: %v", err)
		}
		b.Logf("loaded %d objects with %d requests in %s (%.0f requests/s)", stats.Objects, stats.Requests, stats.Elapsed.Round(1e6), float64(stats.Requests)/stats.Elapsed.Seconds())
		server = c.Version() + " (" + filepath.Base(os.Getenv(framework.EnvKubeAPIServer(c.Version()))) + ")"
		load = fmt.Sprintf("%d objects, %d requests in %.1f s", stats.Objects, stats.Requests, stats.Elapsed.Seconds())
		kubeconfig = c.Kubeconfig(framework.AdminUser)
		if *flagHold != "" {
			hold(b, *flagHold, kubeconfig)
			return
		}
	}
	dir := b.TempDir()
	plugin := binary(b, *flagPlugin, "./cmd/kubectl-psp_migrate", dir)
	listOnly := binary(b, *flagListOnly, "./hack/bench/listonly", dir)
	runner := binary(b, *flagRun, "./hack/bench/run", dir)

	programs := []measure.Program{
		{Name: "audit", Path: plugin, Args: []string{"audit", "--kubeconfig", kubeconfig, "-o", "json"}, Output: filepath.Join(dir, "audit.json")},
		{Name: "listonly", Path: listOnly, Args: []string{"--kubeconfig", kubeconfig}, Output: filepath.Join(dir, "listonly.out")},
	}
	if kubectl != "none" {
		programs = append(programs, measure.Program{
			Name: "kubectl get", Path: kubectl,
			// A cache dir of its own: the warm-up run fills it, as a
			// user's earlier kubectl calls would have.
			Args:   []string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(dir, "kubectl-cache"), "get", kubectlTypes, "-A", "-o", "json"},
			Output: filepath.Join(dir, "kubectl.json"),
		})
	}
	checks := map[string]func([]byte, int) error{"audit": checkReport, "listonly": checkListOnly, "kubectl get": checkKubectl}

	var results []measure.Result
	for b.Loop() {
		results = measureApart(b, runner, programs, *flagRuns, dir)
	}
	for _, p := range programs {
		out, err := os.ReadFile(p.Output)
		if err != nil {
			b.Fatal(err)
		}
		if err := checks[p.Name](out, pods); err != nil {
			b.Fatalf("%s did not read the whole cluster: %v", p.Name, err)
		}
	}
	byName := map[string]measure.Result{}
	for _, r := range results {
		byName[r.Name] = r
		b.ReportMetric(r.MedianWall.Seconds(), strings.ReplaceAll(r.Name, " ", "-")+"-s")
	}
	b.ReportMetric(byName["audit"].MedianWall.Seconds()/byName["listonly"].MedianWall.Seconds(), "audit/listonly")
	if k, ok := byName["kubectl get"]; ok {
		b.ReportMetric(byName["audit"].MedianWall.Seconds()/k.MedianWall.Seconds(), "audit/kubectl")
	}

	if *flagOut != "" {
		rep := &measure.Report{
			Section: "live",
			Info: map[string]string{
				"server":  server,
				"objects": strconv.Itoa(objects),
				"pods":    strconv.Itoa(pods),
				"runs":    strconv.Itoa(*flagRuns),
				"load":    load,
				"client":  "audit and listonly: QPS 100, burst 200, pages of 500, protobuf (PSPs JSON), 16 types listed concurrently",
				"kubectl": kubectlVersion(kubectl),
			},
			Results: results,
		}
		if kubectl == "none" {
			rep.Info["kubectl"] = "left out (-bench.kubectl none)"
		}
		if err := rep.Save(*flagOut); err != nil {
			b.Fatal(err)
		}
	}
}

// hold writes kubeconfig's path to file and waits until file is removed
// or the benchmark is interrupted: loading takes minutes, profiling a
// change to the read takes seconds.
func hold(b *testing.B, file, kubeconfig string) {
	b.Helper()
	if err := os.WriteFile(file, []byte(kubeconfig+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("holding the cluster: KUBECONFIG=%s; remove %s to stop", kubeconfig, file)
	for {
		if _, err := os.Stat(file); err != nil {
			return
		}
		select {
		case <-b.Context().Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// measureApart has `run measure` time the programs: this process has
// loaded a cluster, and its peak RSS would show up in every child's.
func measureApart(b *testing.B, runner string, programs []measure.Program, runs int, dir string) []measure.Result {
	b.Helper()
	spec, err := json.Marshal(map[string]any{"runs": runs, "programs": programs})
	if err != nil {
		b.Fatal(err)
	}
	specPath, outPath := filepath.Join(dir, "spec.json"), filepath.Join(dir, "results.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.CommandContext(b.Context(), runner, "measure", "-spec", specPath, "-out", outPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("run measure: %v", err)
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		b.Fatal(err)
	}
	var results []measure.Result
	if err := json.Unmarshal(data, &results); err != nil {
		b.Fatal(err)
	}
	return results
}

// readInventory decodes -bench.file with the plugin's own reader, or
// generates the default synthetic cluster.
func readInventory(b *testing.B) *inventory.Inventory {
	b.Helper()
	if *flagFile == "" {
		return synth.Generate(synth.Default())
	}
	inv, err := inventory.ReadPaths([]string{*flagFile}, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

// binary returns path, or builds pkg into dir when path is empty.
func binary(b *testing.B, path, pkg, dir string) string {
	b.Helper()
	if path != "" {
		return path
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(b.Context(), "go", "build", "-o", out, pkg)
	cmd.Dir = filepath.Join("..", "..")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

func checkReport(out []byte, pods int) error {
	var rep struct {
		Summary    struct{ Pods int } `json:"summary"`
		Incomplete []json.RawMessage  `json:"incomplete"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return err
	}
	if rep.Summary.Pods != pods || len(rep.Incomplete) > 0 {
		return fmt.Errorf("report has %d pods (want %d) and %d incomplete entries", rep.Summary.Pods, pods, len(rep.Incomplete))
	}
	return nil
}

func checkListOnly(out []byte, pods int) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "pods" {
			if f[1] != strconv.Itoa(pods) {
				return fmt.Errorf("listed %s pods, want %d", f[1], pods)
			}
			return nil
		}
	}
	return fmt.Errorf("no pods line in output")
}

func checkKubectl(out []byte, pods int) error {
	var list struct {
		Items []struct {
			Kind string `json:"kind"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return err
	}
	n := 0
	for _, it := range list.Items {
		if it.Kind == "Pod" {
			n++
		}
	}
	if n != pods {
		return fmt.Errorf("kubectl printed %d pods, want %d", n, pods)
	}
	return nil
}

func kubectlVersion(kubectl string) string {
	out, err := exec.Command(kubectl, "version", "--client").Output()
	if err != nil {
		return filepath.Base(kubectl)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return kubectl + ": " + first
}
