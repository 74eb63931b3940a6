package framework

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// process is a child (etcd or kube-apiserver) whose output goes to a log file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the child has exited
	waitErr error         // valid after done is closed
}

// startProcess starts bin and registers a cleanup that SIGKILLs it: these
// servers hold nothing worth a graceful shutdown, and a kill takes 0.1 s.
func startProcess(t testing.TB, name, dir, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("framework: create %s: %v", logPath, err)
	}
	defer logFile.Close()

	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}

	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits, not
		// the process. Pinning this goroutine to its thread until the child
		// is gone keeps that thread alive exactly as long as it must be.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("framework: start %s: %v", name, err)
	}
	t.Cleanup(p.stop)
	return p
}

func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	killGroup(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// waitFor polls check until it succeeds, the process exits or timeout passes.
func (p *process) waitFor(timeout time.Duration, check func() error) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v (last check: %w)", p.name, p.waitErr, last)
		case <-deadline.C:
			return fmt.Errorf("%s not ready after %s: %w", p.name, timeout, last)
		case <-tick.C:
		}
	}
}

// tail returns the last n lines of the process's log, headed by its path.
func (p *process) tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("--- last %d lines of %s ---\n%s", len(lines), p.logPath, strings.Join(lines, "\n"))
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// The listeners stay open until all n are picked, so the kernel cannot hand
// out the same port twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free loopback port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portAttempts bounds the retries after losing a port race: a port free
// when picked may be taken (by any connect()) before the server binds it.
const portAttempts = 3

// lostPortRace reports whether the process exited because its port was taken.
func (p *process) lostPortRace() bool {
	select {
	case <-p.done:
	default:
		return false
	}
	data, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(data, []byte("address already in use"))
}

// startEtcd runs a single-member etcd on loopback, waits for it to be
// healthy (so an apiserver failure is never an etcd failure in disguise) and
// returns it with its client URL.
func startEtcd(t testing.TB, bin, dir string) (*process, string) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	for attempt := 1; ; attempt++ {
		dataDir, err := etcdDataDir()
		if err != nil {
			t.Fatalf("framework: %v", err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dataDir) })
		ports, err := freePorts(2)
		if err != nil {
			t.Fatalf("framework: %v", err)
		}
		clientURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
		p := startProcess(t, "etcd", dir, bin,
			"--name=default",
			"--data-dir="+dataDir,
			"--listen-client-urls="+clientURL,
			"--advertise-client-urls="+clientURL,
			"--listen-peer-urls="+peerURL,
			"--initial-advertise-peer-urls="+peerURL,
			"--initial-cluster=default="+peerURL,
			"--logger=zap",
			"--log-outputs=stderr",
			"--log-level=warn",
		)
		health := func() error {
			resp, err := client.Get(clientURL + "/health")
			if err != nil {
				return err
			}
			body, err := readAndClose(resp)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
				return fmt.Errorf("/health: %s: %s", resp.Status, bytes.TrimSpace(body))
			}
			return nil
		}
		err = p.waitFor(20*time.Second, health)
		if err == nil {
			return p, clientURL
		}
		if attempt < portAttempts && p.lostPortRace() {
			t.Logf("framework: etcd lost a port to another process; retrying")
			continue
		}
		t.Fatalf("framework: etcd not healthy: %v\n%s", err, p.tail(40))
	}
}

// etcdDataDir makes etcd's data folder on tmpfs when there is one: etcd 3.4
// has no --unsafe-no-fsync, and fsync on a real disk makes every write slow.
func etcdDataDir() (string, error) {
	parent := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		parent = "/dev/shm"
		sweepStaleDataDirs(parent)
	}
	// The pid in the name lets a later run remove folders of test binaries
	// that died before their cleanup could (tmpfs is memory).
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("%s%d-", dataDirPrefix, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("create etcd data dir: %w", err)
	}
	return dir, nil
}

const dataDirPrefix = "psp-migrate-etcd-"

func sweepStaleDataDirs(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), dataDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		var pid int
		if _, err := fmt.Sscan(pidText, &pid); err != nil || pid <= 0 || pidAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}

// readyz asks the API server's /readyz as the admin: ready means every
// post-start hook, RBAC's bootstrap roles included, has run.
func (c *Cluster) readyz() error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.caPEM) {
		return errors.New("CA certificate did not parse")
	}
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, c.host+"/readyz?verbose", nil)
	if err != nil {
		return fmt.Errorf("build /readyz request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tokens[AdminUser])
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := readAndClose(resp)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s: %s", resp.Status, failedChecks(string(body)))
	}
	return nil
}

func readAndClose(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	return body, nil
}

// failedChecks picks the "[-]name failed" lines out of a verbose /readyz body.
func failedChecks(body string) string {
	var failed []string
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "[-]") {
			failed = append(failed, strings.TrimSpace(line))
		}
	}
	if len(failed) == 0 {
		return strings.TrimSpace(body)
	}
	return strings.Join(failed, "; ")
}
