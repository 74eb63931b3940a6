package e2e

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// BenchmarkFleet measures `audit --contexts` over three real clusters
// (v1.24, v1.24, v1.30, each holding FLEET_BENCH_PODS pods, default 300)
// against the slowest of the three single-context audits, run one after
// the other in the same iteration. The target is a ratio of at most 1.3:
// a fleet costs about its slowest cluster, not their sum. Run it with
//
//	PSP_MIGRATE_E2E=required go test ./test/e2e -run '^$' -bench BenchmarkFleet -benchtime 3x
//
// and read fleet/slowest, the median ratio of the iterations. Local API
// servers answer at once, so the runs are bound by CPU, which a fleet can
// only share: FLEET_BENCH_LATENCY=20ms puts each cluster behind a proxy
// that delays every chunk by that much each way, as a remote cluster does.
//
// Every run is the plugin's binary in a process of its own, as a user
// runs it, writing its report to /dev/null, and its CPU time (user+sys of
// that process) is reported beside the wall times: on a shared machine
// fleet-cpu/sum-cpu, the fleet's CPU against the three single runs',
// says what the fleet itself costs when the wall times cannot. In one
// process the comparison was unfair: client-go's transport cache handed
// each single run the warm connections of the one before (cobra's global
// table of completions keeps every command's options, and so its clients,
// alive), while the fleet's per-context clients were collected and each
// fleet run paid new TLS handshakes.
func BenchmarkFleet(b *testing.B) {
	pods := 300
	if s := os.Getenv("FLEET_BENCH_PODS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("FLEET_BENCH_PODS=%q: want a positive number", s)
		}
		pods = n
	}
	var latency time.Duration
	if s := os.Getenv("FLEET_BENCH_LATENCY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("FLEET_BENCH_LATENCY=%q: %v", s, err)
		}
		latency = d
	}
	dir := b.TempDir()
	var files, names []string
	for i, version := range []string{"v1.24", "v1.24", "v1.30"} {
		c := framework.Start(b, framework.Options{Version: version})
		if version == "v1.24" {
			c.ApplyYAML(b, []byte(permissivePSP))
		}
		loadPods(b, c, pods)
		name := fmt.Sprintf("bench-%d-%s", i, strings.ReplaceAll(version, ".", ""))
		files = append(files, benchContext(b, dir, name, c, latency))
		names = append(names, name)
	}
	kubeconfig := strings.Join(files, string(os.PathListSeparator))
	bin := buildPlugin(b)
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { devNull.Close() })
	// run times one audit: the same binary, flags and output for the
	// single runs and the fleet.
	run := func(args ...string) (wall, cpu time.Duration) {
		c := exec.Command(bin, append([]string{"audit", "-o", "json", "--pss-version", serverPSSVersion}, args...)...)
		c.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		var errOut bytes.Buffer
		c.Stdout, c.Stderr = devNull, &errOut
		start := time.Now()
		if err := c.Run(); err != nil {
			b.Fatalf("audit %v: %v: %s", args, err, errOut.String())
		}
		return time.Since(start), c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	}
	// Warm up the API servers and the binary's pages, for each cluster
	// alone and for the fleet.
	for _, n := range names {
		run("--context", n)
	}
	run("--all-contexts")
	var ratios []float64
	var fleetTotal, slowestTotal, sumTotal, serialTotal, fleetCPU, sumCPU, serialCPU time.Duration
	for b.Loop() {
		var slowest, sum, cpuSum time.Duration
		for _, n := range names {
			d, c := run("--context", n)
			slowest, sum, cpuSum = max(slowest, d), sum+d, cpuSum+c
		}
		d, c := run("--all-contexts")
		serial, serialC := run("--all-contexts", "--parallel", "1")
		ratios = append(ratios, float64(d)/float64(slowest))
		fleetTotal, slowestTotal, sumTotal, serialTotal = fleetTotal+d, slowestTotal+slowest, sumTotal+sum, serialTotal+serial
		fleetCPU, sumCPU, serialCPU = fleetCPU+c, sumCPU+cpuSum, serialCPU+serialC
		b.Logf("wall: fleet %s, slowest single %s (ratio %.2f), singles' sum %s, fleet with --parallel 1 %s; CPU: fleet %s, singles' sum %s, --parallel 1 %s",
			d.Round(time.Millisecond), slowest.Round(time.Millisecond), ratios[len(ratios)-1], sum.Round(time.Millisecond), serial.Round(time.Millisecond),
			c.Round(time.Millisecond), cpuSum.Round(time.Millisecond), serialC.Round(time.Millisecond))
	}
	n := float64(len(ratios))
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "fleet/slowest")
	b.ReportMetric(float64(fleetTotal.Milliseconds())/n, "fleet-ms")
	b.ReportMetric(float64(slowestTotal.Milliseconds())/n, "slowest-ms")
	b.ReportMetric(float64(sumTotal.Milliseconds())/n, "sum-ms")
	b.ReportMetric(float64(serialTotal.Milliseconds())/n, "serial-fleet-ms")
	b.ReportMetric(float64(fleetCPU.Milliseconds())/n, "fleet-cpu-ms")
	b.ReportMetric(float64(sumCPU.Milliseconds())/n, "sum-cpu-ms")
	b.ReportMetric(float64(serialCPU.Milliseconds())/n, "serial-fleet-cpu-ms")
	b.ReportMetric(float64(fleetCPU)/float64(sumCPU), "fleet-cpu/sum-cpu")
}

// buildPlugin builds the plugin's binary for the benchmark to run.
func buildPlugin(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "kubectl-psp_migrate")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/psp-migrate/kubectl-psp-migrate/cmd/kubectl-psp_migrate").CombinedOutput()
	if err != nil {
		b.Fatalf("build the plugin: %v\n%s", err, out)
	}
	return bin
}

// loadPods creates n pods across ten namespaces, half restricted, half
// baseline, as bare pods: the audit reads and evaluates each.
func loadPods(b *testing.B, c *framework.Cluster, n int) {
	b.Helper()
	kube := c.AdminClient(b)
	for i := 0; i < 10; i++ {
		c.CreateNamespace(b, fmt.Sprintf("bench-%d", i))
	}
	for i := 0; i < n; i++ {
		spec := restrictedSpec()
		if i%2 == 1 {
			spec = baselineSpec()
		}
		ns := fmt.Sprintf("bench-%d", i%10)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%d", i)}, Spec: spec}
		if _, err := kube.CoreV1().Pods(ns).Create(b.Context(), pod, metav1.CreateOptions{}); err != nil {
			b.Fatalf("create pod %d: %v", i, err)
		}
	}
}

// benchContext writes a kubeconfig file with one context, name, for the
// admin of c.
func benchContext(b *testing.B, dir, name string, c *framework.Cluster, latency time.Duration) string {
	b.Helper()
	in, err := clientcmd.LoadFromFile(c.Kubeconfig(framework.AdminUser))
	if err != nil {
		b.Fatal(err)
	}
	ctx := in.Contexts[in.CurrentContext]
	out := clientcmdapi.NewConfig()
	out.Clusters[name] = in.Clusters[ctx.Cluster]
	if latency > 0 {
		u, err := url.Parse(c.Host())
		if err != nil {
			b.Fatal(err)
		}
		out.Clusters[name].Server = "https://" + delayProxy(b, u.Host, latency)
	}
	out.AuthInfos[name] = in.AuthInfos[ctx.AuthInfo]
	out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	path := filepath.Join(dir, name+".yaml")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// delayProxy forwards TCP connections to upstream, delivering every chunk
// latency after it was read, in each direction, and returns its address.
// TLS passes through: the server's certificate names 127.0.0.1, as the
// proxy's address does.
func delayProxy(b *testing.B, upstream string, latency time.Duration) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	pipe := func(dst, src net.Conn) {
		type chunk struct {
			at   time.Time
			data []byte
		}
		ch := make(chan chunk, 1024)
		go func() {
			defer close(ch)
			for {
				buf := make([]byte, 32<<10)
				n, err := src.Read(buf)
				if n > 0 {
					ch <- chunk{time.Now(), buf[:n]}
				}
				if err != nil {
					return
				}
			}
		}()
		for c := range ch {
			time.Sleep(time.Until(c.at.Add(latency)))
			if _, err := dst.Write(c.data); err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				conn.Close()
				continue
			}
			go pipe(up, conn)
			go pipe(conn, up)
		}
	}()
	return l.Addr().String()
}
