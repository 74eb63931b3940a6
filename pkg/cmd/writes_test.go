package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestConvertOutputDirStaleAndPrune: files an earlier run wrote and this
// one did not are reported, and removed only with --prune; a user's own
// file in the directory is never touched; a symbolic link in the
// directory is replaced, not written through.
func TestConvertOutputDirStaleAndPrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	base := []string{"convert", "-f", convertInput, "--output-dir", dir}
	run := func(t *testing.T, wantCode int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, "", append(slices.Clone(base), args...)...)
		if code != wantCode || stdout != "" {
			t.Fatalf("%v: code %d (want %d), stdout %q, stderr:\n%s", args, code, wantCode, stdout, stderr)
		}
		return stderr
	}
	run(t, ExitOK, "-e", "vap,kyverno")
	kyvernoFile := "kyverno-clusterpolicy-psp-migrate.yaml"
	if !slices.Contains(dirFiles(t, dir), kyvernoFile) {
		t.Fatalf("files %v, want %s", dirFiles(t, dir), kyvernoFile)
	}
	mine := filepath.Join(dir, "my-notes.yaml")
	if err := os.WriteFile(mine, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("stale files are reported, not removed", func(t *testing.T) {
		stderr := run(t, ExitOK, "-e", "vap", "--force")
		if !strings.Contains(stderr, "Warning: 1 stale file(s)") || !strings.Contains(stderr, kyvernoFile) || !strings.Contains(stderr, "--prune") {
			t.Errorf("stderr:\n%s", stderr)
		}
		if strings.Contains(stderr, "my-notes.yaml") {
			t.Errorf("a file this tool did not write is called stale:\n%s", stderr)
		}
		if !slices.Contains(dirFiles(t, dir), kyvernoFile) {
			t.Error("the stale file was removed without --prune")
		}
	})
	t.Run("still reported on the next run", func(t *testing.T) {
		if stderr := run(t, ExitOK, "-e", "vap", "--force"); !strings.Contains(stderr, kyvernoFile) {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("--prune removes them and only them", func(t *testing.T) {
		stderr := run(t, ExitOK, "-e", "vap", "--force", "--prune")
		if !strings.Contains(stderr, "Pruned 1 stale file(s)") {
			t.Errorf("stderr:\n%s", stderr)
		}
		got := dirFiles(t, dir)
		if slices.Contains(got, kyvernoFile) {
			t.Errorf("files %v: stale file not pruned", got)
		}
		if b, err := os.ReadFile(mine); err != nil || string(b) != "mine\n" {
			t.Errorf("the user's file: %q, %v", b, err)
		}
		if stderr := run(t, ExitOK, "-e", "vap", "--force"); strings.Contains(stderr, "stale") {
			t.Errorf("a pruned file is reported again:\n%s", stderr)
		}
	})
	t.Run("--prune without --output-dir", func(t *testing.T) {
		code, _, stderr := runCLI(t, "", "convert", "-f", convertInput, "-e", "vap", "--prune")
		if code != ExitError || !strings.Contains(stderr, "--prune needs --output-dir") {
			t.Errorf("code %d, stderr %s", code, stderr)
		}
	})
	t.Run("a forged list cannot prune outside the directory", func(t *testing.T) {
		outside := filepath.Join(t.TempDir(), "victim.yaml")
		if err := os.WriteFile(outside, []byte("victim\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		list := "../" + filepath.Base(filepath.Dir(outside)) + "/victim.yaml\n" + outside + "\nmy-notes.yaml\n"
		if err := os.WriteFile(filepath.Join(dir, translate.ManifestListFile), []byte(list), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, ExitOK, "-e", "vap", "--force", "--prune")
		if _, err := os.Stat(outside); err != nil {
			t.Errorf("a file outside the directory was removed: %v", err)
		}
		// my-notes.yaml is a plain name in the list: it is the list that
		// says what this tool wrote. A user who edits the list owns that.
	})
	t.Run("a symbolic link is replaced, its target untouched", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "target.yaml")
		if err := os.WriteFile(target, []byte("target\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "vap-validatingadmissionpolicy-psp-migrate.yaml")
		if err := os.Remove(link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		run(t, ExitError, "-e", "vap")
		run(t, ExitOK, "-e", "vap", "--force")
		if b, _ := os.ReadFile(target); string(b) != "target\n" {
			t.Errorf("written through the link: %q", b)
		}
		if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s is not a regular file now: %v", link, err)
		}
	})
}

// TestConvertOutputDirSIGKILL kills the real binary while it writes a
// large output and checks that every manifest in the directory is whole:
// either absent or complete, never cut. The next run removes what the
// killed one left behind.
func TestConvertOutputDirSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "kubectl-psp_migrate")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/kubectl-psp_migrate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Many PSPs, each with a long allowed host path list: hundreds of
	// gatekeeper constraints and megabytes of output.
	var in strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&in, "---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p%03d}\nspec:\n  seLinux: {rule: RunAsAny}\n  runAsUser: {rule: MustRunAs, ranges: [{min: %d, max: %d}]}\n  supplementalGroups: {rule: RunAsAny}\n  fsGroup: {rule: RunAsAny}\n  volumes: [hostPath, secret]\n  allowedHostPaths:\n", i, i+1, i+1000)
		for j := 0; j < 50; j++ {
			fmt.Fprintf(&in, "  - {pathPrefix: /data/%d/%d/%s}\n", i, j, strings.Repeat("x", 100))
		}
	}
	input := filepath.Join(tmp, "psps.yaml")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	args := []string{"convert", "-f", input, "-e", "gatekeeper,kyverno,vap", "--scope", "cluster", "--output-dir", out, "--force"}

	killedMidWrite := false
	for attempt := 0; attempt < 20 && !killedMidWrite; attempt++ {
		cmd := exec.CommandContext(ctx, bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill as soon as a temporary file shows: the process is between
		// writing its first file and renaming its last.
		for {
			entries, _ := os.ReadDir(out)
			if slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.Contains(e.Name(), ".tmp-") }) {
				killedMidWrite = true
				break
			}
			if cmd.ProcessState != nil || ctx.Err() != nil {
				break
			}
			if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		checkWhole(t, out)
	}
	if !killedMidWrite {
		t.Fatal("never caught the process mid-write in 20 attempts")
	}
	t.Logf("killed mid-write; %d file(s) were in place", len(dirFiles(t, out)))

	cmd := exec.CommandContext(ctx, bin, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, b)
	}
	checkWhole(t, out)
	for _, f := range dirFiles(t, out) {
		if strings.Contains(f, ".tmp-") {
			t.Errorf("the rerun left %s", f)
		}
	}
}

// checkWhole fails on any manifest in dir that does not parse completely.
func checkWhole(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // killed before the directory was made
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := yaml.UnmarshalStrict(b, &obj); err != nil || obj["kind"] == nil || obj["metadata"] == nil || !strings.HasSuffix(string(b), "\n") {
			t.Errorf("%s is not a whole manifest (%d bytes): %v", e.Name(), len(b), err)
		}
	}
}
