package cmd

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mattn/go-runewidth"
)

// buildPlugin builds the plugin binary once per test run.
func buildPlugin(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("pseudo-terminals are POSIX")
	}
	bin := filepath.Join(t.TempDir(), "kubectl-psp_migrate")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-psp_migrate").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runInPty runs bin in a pseudo-terminal of cols columns, as a user's
// shell would (COLUMNS unset, as bash does not export it), and returns
// everything written to the terminal.
func runInPty(t *testing.T, bin string, cols uint16, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COLUMNS=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: cols, Rows: 50})
	if err != nil {
		t.Fatalf("start in a pty: %v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		// Reading ends with EIO once the child has exited.
		_, _ = io.Copy(&out, f)
		close(done)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("%v did not finish", args)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return out.String()
}

// TestTerminal runs the built binary in a pseudo-terminal: the table takes
// the terminal's width, and a live read shows its progress with counts,
// then erases it; piped, neither happens.
func TestTerminal(t *testing.T) {
	bin := buildPlugin(t)

	t.Run("table fits the terminal", func(t *testing.T) {
		out := runInPty(t, bin, 100, "audit", "-f", "../../examples/cluster.yaml")
		if !strings.Contains(out, "…") {
			t.Errorf("nothing was cut at 100 columns:\n%s", out)
		}
		for _, line := range strings.Split(out, "\n") {
			// What stays on screen: the text after the last carriage
			// return, without the erase sequences.
			line = strings.TrimSuffix(line, "\r")
			if i := strings.LastIndex(line, "\r"); i >= 0 {
				line = line[i+1:]
			}
			line = strings.ReplaceAll(line, "\x1b[K", "")
			if n := runewidth.StringWidth(line); n > 100 {
				t.Errorf("line of %d columns in a 100-column terminal: %s", n, line)
			}
		}
	})

	api := &fakeAPI{calls: map[string]int{}, fault: func(_ http.ResponseWriter, r *http.Request, _ int) bool {
		if r.URL.Path == "/api/v1/pods" {
			// Slow pages, so that the progress is drawn mid-list.
			time.Sleep(300 * time.Millisecond)
		}
		return false
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	kubeconfig := writeKubeconfig(t, srv.URL, nil, "")

	t.Run("live read shows progress, then erases it", func(t *testing.T) {
		out := runInPty(t, bin, 120, "audit", "--kubeconfig", kubeconfig, "-o", "json")
		if !strings.Contains(out, "Reading the cluster: ") || !strings.Contains(out, "pods 1/2") {
			t.Fatalf("no progress with counts:\n%q", out)
		}
		lastStatus := strings.LastIndex(out, "Reading the cluster")
		erase := strings.LastIndex(out, "\r\x1b[K")
		report := strings.Index(out, `"kind": "AuditReport"`)
		if !(lastStatus < erase && erase < report) {
			t.Errorf("progress not erased before the report (status at %d, erase at %d, report at %d):\n%q", lastStatus, erase, report, out)
		}
	})

	t.Run("piped: no progress, no escapes", func(t *testing.T) {
		cmd := exec.Command(bin, "audit", "--kubeconfig", kubeconfig, "-o", "json")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %s", err, stderr.String())
		}
		if strings.Contains(stderr.String(), "\x1b[") || strings.Contains(stderr.String(), "Reading") {
			t.Errorf("progress on a pipe: %q", stderr.String())
		}
	})
}
