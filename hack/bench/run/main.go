// Command run measures the offline audit against its baseline and prints
// the benchmark table; hack/bench.sh drives it.
//
//	run offline -file cluster.yaml -plugin BIN -decodeonly BIN [-runs 5] [-section offline-json] -out offline.json
//	run measure -spec spec.json -out results.json
//	run table [-offline offline.json] [-offline-json offline-json.json] [-live live.json] [-strict]
//
// `offline` times `audit -f FILE -o json` and decodeonly (the same file
// decoded into unstructured objects and nothing else), round-robin, and
// records median wall time and peak RSS; -section offline-json files the
// figures as the JSON dump's (10,000 small pods, `kubectl get pods -A -o
// json`), which has its own target. The live figures come from the
// benchmark in test/bench, which has `run measure` time its programs (a
// process that loaded a cluster is too big to measure children's RSS, see
// package measure) and writes the same report format. `table`
// prints both with each target's ratio and PASS or MISS; with -strict it
// exits 1 when a target is missed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"text/tabwriter"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/measure"
)

// Program names shared with test/bench's live report.
const (
	nameAudit      = "audit"
	nameDecodeOnly = "decodeonly"
	nameListOnly   = "listonly"
	nameKubectl    = "kubectl get"
)

// target is one goal of the issue: a figure of the audit divided by the
// same figure of a baseline measured in the same run (or, for the memory
// targets, by the input's size) must not exceed max.
type target struct {
	section, baseline, what string
	max                     float64
}

// Baselines that are not programs: the input's size.
const (
	// perFile divides the audit's peak RSS by the size of the file read.
	perFile = "file size"
	// per10kPods divides the audit's peak RSS, in MiB, by the number of
	// pods in tens of thousands.
	per10kPods = "10,000 pods"
)

var targets = []target{
	{"offline", nameDecodeOnly, "time", 2},
	{"offline", nameDecodeOnly, "rss", 2},
	{"offline", perFile, "rss", 5},
	{"offline-json", nameDecodeOnly, "time", 1.5},
	{"live", nameListOnly, "time", 1.2},
	{"live", per10kPods, "rss (MiB)", 250},
	{"live", nameKubectl, "time", 0.5},
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "offline":
		err = offline(ctx, os.Args[2:])
	case "measure":
		err = measureCmd(ctx, os.Args[2:])
	case "table":
		var missed bool
		missed, err = table(os.Args[2:], os.Stdout)
		if err == nil && missed {
			os.Exit(1)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "run: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: run offline -file FILE -plugin BIN -decodeonly BIN [-runs N] [-section offline-json] -out JSON\n       run measure -spec JSON -out JSON\n       run table [-offline JSON] [-offline-json JSON] [-live JSON] [-strict]")
	os.Exit(2)
}

func offline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("offline", flag.ExitOnError)
	file := fs.String("file", "", "synthetic cluster file")
	plugin := fs.String("plugin", "", "kubectl-psp_migrate binary")
	decodeOnly := fs.String("decodeonly", "", "decodeonly binary")
	runs := fs.Int("runs", 5, "timed runs per program")
	section := fs.String("section", "offline", "offline (the cluster dump) or offline-json (the JSON dump of small pods)")
	out := fs.String("out", "", "report to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *plugin == "" || *decodeOnly == "" || *out == "" {
		return fmt.Errorf("offline: -file, -plugin, -decodeonly and -out are required")
	}
	if *section != "offline" && *section != "offline-json" {
		return fmt.Errorf("offline: -section must be offline or offline-json, not %q", *section)
	}
	st, err := os.Stat(*file)
	if err != nil {
		return err
	}
	dir := filepath.Dir(*out)
	programs := []measure.Program{
		{Name: nameDecodeOnly, Path: *decodeOnly, Args: []string{*file}, Output: filepath.Join(dir, *section+"-decodeonly.out")},
		{Name: nameAudit, Path: *plugin, Args: []string{"audit", "-f", *file, "-o", "json"}, Output: filepath.Join(dir, "audit-"+*section+".json")},
	}
	results, err := measure.Measure(ctx, programs, *runs, os.Stderr)
	if err != nil {
		return err
	}
	// Checked only now: reading the outputs earlier would raise this
	// process's peak RSS, which every later child would inherit.
	var objects int
	b, err := os.ReadFile(programs[0].Output)
	if err != nil {
		return err
	}
	if _, err := fmt.Sscanf(string(b), "%d objects", &objects); err != nil {
		return fmt.Errorf("decodeonly output: %w", err)
	}
	pods, err := reportPods(programs[1].Output)
	if err != nil {
		return fmt.Errorf("audit output: %w", err)
	}
	rep := &measure.Report{
		Section: *section,
		Info: map[string]string{
			"file":    *file,
			"bytes":   strconv.FormatInt(st.Size(), 10),
			"objects": strconv.Itoa(objects),
			"pods":    strconv.Itoa(pods),
			"runs":    strconv.Itoa(*runs),
		},
		Results: results,
	}
	return rep.Save(*out)
}

// reportPods returns summary.pods of an audit report.
func reportPods(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var rep struct {
		Summary struct{ Pods int } `json:"summary"`
	}
	if err := json.NewDecoder(f).Decode(&rep); err != nil {
		return 0, err
	}
	if rep.Summary.Pods == 0 {
		return 0, fmt.Errorf("the report counts no pods")
	}
	return rep.Summary.Pods, nil
}

// MeasureSpec is the input of `run measure`.
type MeasureSpec struct {
	Runs     int               `json:"runs"`
	Programs []measure.Program `json:"programs"`
}

// measureCmd measures programs for a caller too big to measure them itself
// (see package measure) and writes the results as JSON.
func measureCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("measure", flag.ExitOnError)
	specPath := fs.String("spec", "", "JSON MeasureSpec")
	out := fs.String("out", "", "where to write the []measure.Result JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	var spec MeasureSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", *specPath, err)
	}
	results, err := measure.Measure(ctx, spec.Programs, spec.Runs, os.Stderr)
	if err != nil {
		return err
	}
	b, err = json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

func table(args []string, w io.Writer) (missed bool, err error) {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	offlinePath := fs.String("offline", "", "offline report")
	offlineJSONPath := fs.String("offline-json", "", "offline report of the JSON dump")
	livePath := fs.String("live", "", "live report")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	fmt.Fprintf(w, "kubectl psp-migrate benchmark (%s/%s, %d CPUs, %s)\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	var buf bytes.Buffer
	for _, sec := range []struct{ name, path string }{{"offline", *offlinePath}, {"offline-json", *offlineJSONPath}, {"live", *livePath}} {
		if sec.path == "" {
			continue
		}
		rep, err := measure.Load(sec.path)
		if err != nil {
			return false, err
		}
		m, err := printSection(&buf, rep)
		if err != nil {
			return false, err
		}
		missed = missed || m
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return false, err
	}
	return missed && *strict, nil
}

func printSection(w io.Writer, rep *measure.Report) (missed bool, err error) {
	fmt.Fprintln(w)
	switch rep.Section {
	case "offline", "offline-json":
		title := "OFFLINE"
		if rep.Section == "offline-json" {
			title = "OFFLINE, JSON"
		}
		fmt.Fprintf(w, "%s: %s (%.1f MB, %s objects, %s pods), median of %s runs\n",
			title, rep.Info["file"], atof(rep.Info["bytes"])/1e6, rep.Info["objects"], rep.Info["pods"], rep.Info["runs"])
	case "live":
		fmt.Fprintf(w, "LIVE: kube-apiserver %s loaded with %s objects (%s pods), median of %s runs\n",
			rep.Info["server"], rep.Info["objects"], rep.Info["pods"], rep.Info["runs"])
		for _, k := range []string{"load", "client", "kubectl"} {
			if v := rep.Info[k]; v != "" {
				fmt.Fprintf(w, "  %s: %s\n", k, v)
			}
		}
	default:
		return false, fmt.Errorf("unknown section %q", rep.Section)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "  PROGRAM\tMEDIAN WALL\tMEDIAN CPU\tPEAK RSS\tCOMMAND")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "  %s\t%.2f s\t%.2f s\t%.0f MiB\t%s\n", r.Name, r.MedianWall.Seconds(), r.MedianCPU.Seconds(), float64(r.MaxRSS)/(1<<20), shortCommand(r.Command))
	}
	if err := tw.Flush(); err != nil {
		return false, err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "  TARGET\tRATIO\tLIMIT\tRESULT")
	audit := rep.Find(nameAudit)
	for _, t := range targets {
		if t.section != rep.Section {
			continue
		}
		if audit == nil {
			return false, fmt.Errorf("%s report lacks %q", rep.Section, nameAudit)
		}
		var ratio float64
		label := fmt.Sprintf("audit %s / %s %s", t.what, t.baseline, t.what)
		switch t.baseline {
		case perFile:
			size := atof(rep.Info["bytes"])
			if size <= 0 {
				return false, fmt.Errorf("%s report lacks the file size", rep.Section)
			}
			ratio = float64(audit.MaxRSS) / size
			label = fmt.Sprintf("audit %s / %s", t.what, t.baseline)
		case per10kPods:
			pods := atof(rep.Info["pods"])
			if pods <= 0 {
				return false, fmt.Errorf("%s report lacks the pod count", rep.Section)
			}
			ratio = float64(audit.MaxRSS) / (1 << 20) / (pods / 10000)
			label = fmt.Sprintf("audit %s per %s", t.what, t.baseline)
		default:
			base := rep.Find(t.baseline)
			if base == nil && t.baseline == nameKubectl {
				// Left out of a large run (-bench.kubectl none).
				fmt.Fprintf(tw, "  %s\t-\t<= %.2f\tnot measured\n", label, t.max)
				continue
			}
			if base == nil {
				return false, fmt.Errorf("%s report lacks %q", rep.Section, t.baseline)
			}
			switch t.what {
			case "time":
				ratio = audit.MedianWall.Seconds() / base.MedianWall.Seconds()
			case "rss":
				ratio = float64(audit.MaxRSS) / float64(base.MaxRSS)
			}
		}
		result := "PASS"
		if ratio > t.max {
			result, missed = "MISS", true
		}
		fmt.Fprintf(tw, "  %s\t%.2f\t<= %.2f\t%s\n", label, ratio, t.max, result)
	}
	return missed, tw.Flush()
}

func shortCommand(c []string) string {
	s := ""
	for i, a := range c {
		if i == 0 {
			a = baseName(a)
		}
		if len(a) > 40 {
			a = "…" + a[len(a)-39:]
		}
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
