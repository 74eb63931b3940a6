package bench

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/live"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

var (
	flagKubeconfig = flag.String("bench.kubeconfig", "", "a loaded cluster's kubeconfig (such as the one -bench.hold keeps up): BenchmarkLiveAudit measures against it instead of starting and loading one (-bench.file must be the file it was loaded from), and BenchmarkAuditInProcess needs it")
	flagAuditOut   = flag.String("bench.audit-out", "", "BenchmarkAuditInProcess: write the last run's report here, to compare before and after a change")
	flagHeap       = flag.String("bench.heap", "", "BenchmarkLivePhases: write heap profiles of what is live when the pods' sink is ready (FILE.ready), when the read ends (FILE.read) and when the report is built (FILE)")
)

// BenchmarkAuditInProcess runs `audit -o json` in this process against a
// loaded cluster that BenchmarkLiveAudit -bench.hold keeps up, so that go
// test's own profiles see the plugin's whole live audit: loading takes
// minutes, a run seconds.
//
//	go test ./test/bench -run '^$' -bench BenchmarkLiveAudit -benchtime 1x -timeout 0 -args -bench.hold /tmp/hold &
//	go test ./test/bench -run '^$' -bench BenchmarkAuditInProcess -benchtime 3x \
//	    -cpuprofile cpu.out -memprofile mem.out -trace trace.out \
//	    -args -bench.kubeconfig "$(cat /tmp/hold)" -bench.audit-out audit.json
//
// It reports the peak of the live heap (runtime/metrics, sampled every
// millisecond) alongside the time: the process's RSS is the test
// binary's, not the plugin's (hack/bench.sh measures that).
func BenchmarkAuditInProcess(b *testing.B) {
	kubeconfig := *flagKubeconfig
	if kubeconfig == "" {
		b.Skip("no -bench.kubeconfig: keep a loaded cluster up with BenchmarkLiveAudit -bench.hold first")
	}
	out := *flagAuditOut
	if out == "" {
		out = filepath.Join(b.TempDir(), "audit.json")
	}
	var peak uint64
	for b.Loop() {
		runtime.GC()
		stop := sampleHeap(&peak)
		code, stderr := auditInProcess(b, kubeconfig, out)
		stop()
		if code != cmd.ExitOK {
			b.Fatalf("audit exit %d: %s", code, stderr)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// auditInProcess runs the command as main would, its report to out.
func auditInProcess(b *testing.B, kubeconfig, out string) (int, string) {
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<16)
	var stderr bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: w, ErrOut: &stderr}
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "bench"})
	root.SetArgs([]string{"audit", "--kubeconfig", kubeconfig, "-o", "json"})
	code := cmd.Execute(root, streams)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return code, stderr.String()
}

// sampleHeap records into peak the largest live heap (bytes in objects)
// seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// BenchmarkLivePhases reads the held cluster (-bench.kubeconfig) the way
// the audit command does, with the command's client settings, and logs
// when each list ended, when the pods' evaluation was ready to start and
// when the report was built and printed: where the audit's wall time goes
// beyond the lists. Sub-benchmarks: "list" drops the pods unevaluated (a
// sink that keeps nothing), "audit" evaluates them (audit.Stream).
func BenchmarkLivePhases(b *testing.B) {
	kubeconfig := *flagKubeconfig
	if kubeconfig == "" {
		b.Skip("no -bench.kubeconfig: keep a loaded cluster up with BenchmarkLiveAudit -bench.hold first")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	// As pkg/cmd's clientsFromFlags sets them.
	cfg.QPS, cfg.Burst = 100, 200
	cfg.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	pcfg := rest.CopyConfig(cfg)
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	kube, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"list", "audit"} {
		b.Run(mode, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				runtime.GC()
				stop := sampleHeap(&peak)
				start := time.Now()
				var mu sync.Mutex
				var ended []string
				opts := live.Options{Progress: func(resource string, listed, _ int, done bool) {
					if done {
						mu.Lock()
						ended = append(ended, fmt.Sprintf("%s %d %.2fs", resource, listed, time.Since(start).Seconds()))
						mu.Unlock()
					}
				}}
				var stream *audit.Stream
				if mode == "audit" {
					stream = audit.NewStream(audit.Options{ToolVersion: "bench"})
					opts.Pods = &timedSink{PodSink: stream, start: start, b: b}
				} else {
					opts.Pods = &timedSink{PodSink: dropSink{}, start: start, b: b}
				}
				inv, err := live.Read(b.Context(), kube, dyn, opts)
				if err != nil {
					b.Fatal(err)
				}
				read := time.Since(start)
				if *flagHeap != "" {
					writeHeap(b, *flagHeap+".read")
				}
				if stream != nil {
					rep, err := stream.Finish(inv)
					if err != nil {
						b.Fatal(err)
					}
					built := time.Since(start)
					if *flagHeap != "" {
						writeHeap(b, *flagHeap)
					}
					if err := report.Print(io.Discard, rep, report.FormatJSON); err != nil {
						b.Fatal(err)
					}
					b.Logf("read %.2fs, report built %.2fs, printed %.2fs", read.Seconds(), built.Seconds(), time.Since(start).Seconds())
				} else {
					b.Logf("read %.2fs", read.Seconds())
				}
				stop()
				b.Logf("lists ended: %s", strings.Join(ended, ", "))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// timedSink logs when the pods' sink was told the rest is in.
type timedSink struct {
	live.PodSink
	start time.Time
	b     *testing.B
}

func (s *timedSink) Ready(inv *inventory.Inventory) error {
	s.b.Logf("ready after %.2fs", time.Since(s.start).Seconds())
	if *flagHeap != "" {
		writeHeap(s.b, *flagHeap+".ready")
	}
	return s.PodSink.Ready(inv)
}

// dropSink takes pods and keeps nothing.
type dropSink struct{}

func (dropSink) Ready(*inventory.Inventory) error { return nil }
func (dropSink) Add([]corev1.Pod, bool) error     { return nil }

// writeHeap writes a heap profile of what is live now to path.
func writeHeap(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}
