// Package measure runs programs as child processes and records their wall
// time and peak resident set size, for the benchmarks' comparisons of the
// plugin against baselines measured in the same run.
//
// Programs are run round-robin (A B C, A B C, …) rather than one after the
// other, so that a burst of load from elsewhere on the machine lands on
// every program alike instead of skewing one of them.
//
// The measuring process must stay small. On Linux, Go starts children with
// clone(CLONE_VM|CLONE_VFORK), and exec folds the RSS high-water mark of the
// address space it leaves (the parent's) into the child's ru_maxrss: a child
// never reports less than its parent's peak RSS. So nothing here buffers a
// child's output, and a big process (a test that loaded a cluster) measures
// through hack/bench/run's "measure" subcommand instead of calling Measure.
package measure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Program is one command to measure.
type Program struct {
	// Name labels the program in reports, e.g. "audit".
	Name string `json:"name"`
	// Path and Args are the command line.
	Path string   `json:"path"`
	Args []string `json:"args,omitempty"`
	// Env is appended to the current environment.
	Env []string `json:"env,omitempty"`
	// Output, when set, is a file that receives the standard output of the
	// warm-up run, for the caller to check once all runs are done.
	Output string `json:"output,omitempty"`
}

// Sample is one run.
type Sample struct {
	Wall time.Duration `json:"wallNs"`
	// MaxRSS is the peak resident set size in bytes (getrusage ru_maxrss).
	MaxRSS int64         `json:"maxRSSBytes"`
	User   time.Duration `json:"userNs"`
	Sys    time.Duration `json:"sysNs"`
}

// Result is every run of one program and the figures reported.
type Result struct {
	Name    string   `json:"name"`
	Command []string `json:"command"`
	Samples []Sample `json:"samples"`
	// MedianWall is the median of the samples' wall times.
	MedianWall time.Duration `json:"medianWallNs"`
	// MaxRSS is the largest peak RSS of any sample.
	MaxRSS int64 `json:"maxRSSBytes"`
	// MedianCPU is the median of user+system CPU time.
	MedianCPU time.Duration `json:"medianCPUNs"`
}

// Report is what one benchmark section writes and hack/bench/run prints.
type Report struct {
	// Section is "offline" or "live".
	Section string `json:"section"`
	// Info are facts about the run, e.g. the input's size.
	Info    map[string]string `json:"info"`
	Results []Result          `json:"results"`
}

// Find returns the result named name, or nil.
func (r *Report) Find(name string) *Result {
	for i := range r.Results {
		if r.Results[i].Name == name {
			return &r.Results[i]
		}
	}
	return nil
}

// Save writes the report as JSON.
func (r *Report) Save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Load reads a report written by Save.
func Load(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Report{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// RunOnce runs p with its standard output going to the file stdout, or
// to /dev/null when stdout is "", and measures it. A non-zero exit is an
// error that carries the tail of the program's standard error.
func RunOnce(ctx context.Context, p Program, stdout string) (Sample, error) {
	if stdout == "" {
		stdout = os.DevNull
	}
	out, err := os.Create(stdout)
	if err != nil {
		return Sample{}, err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	// An *os.File goes to the child as is: no goroutine here copies (and
	// buffers) the output while the program is measured.
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w\n%s", p.Name, err, tail(stderr.String(), 2000))
	}
	s := Sample{Wall: wall, User: cmd.ProcessState.UserTime(), Sys: cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
	}
	return s, out.Close()
}

// Measure runs each program once to warm caches (the page cache, kubectl's
// discovery cache), saving its output to Program.Output, then runs them
// all round-robin, runs times each, and summarises. progress, when not nil,
// gets one line per run.
func Measure(ctx context.Context, programs []Program, runs int, progress io.Writer) ([]Result, error) {
	if runs < 1 {
		return nil, fmt.Errorf("runs must be at least 1, got %d", runs)
	}
	if progress == nil {
		progress = io.Discard
	}
	for _, p := range programs {
		s, err := RunOnce(ctx, p, p.Output)
		if err != nil {
			return nil, fmt.Errorf("warm-up run: %w", err)
		}
		fmt.Fprintf(progress, "warm-up  %-12s %8.2f s %8.0f MiB\n", p.Name, s.Wall.Seconds(), mib(s.MaxRSS))
	}
	results := make([]Result, len(programs))
	for i, p := range programs {
		results[i] = Result{Name: p.Name, Command: append([]string{p.Path}, p.Args...)}
	}
	for r := range runs {
		for i, p := range programs {
			s, err := RunOnce(ctx, p, "")
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(progress, "run %-4d %-12s %8.2f s %8.0f MiB\n", r+1, p.Name, s.Wall.Seconds(), mib(s.MaxRSS))
			results[i].Samples = append(results[i].Samples, s)
		}
	}
	for i := range results {
		results[i].summarise()
	}
	return results, nil
}

func (r *Result) summarise() {
	walls := make([]time.Duration, len(r.Samples))
	cpus := make([]time.Duration, len(r.Samples))
	r.MaxRSS = 0
	for i, s := range r.Samples {
		walls[i] = s.Wall
		cpus[i] = s.User + s.Sys
		r.MaxRSS = max(r.MaxRSS, s.MaxRSS)
	}
	r.MedianWall = Median(walls)
	r.MedianCPU = Median(cpus)
}

// Median returns the middle value (the mean of the two middle values for
// an even count); 0 for none.
func Median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
