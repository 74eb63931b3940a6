package cmd

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/fleet"
)

// fleetDir holds one dump per cluster: eu and us run the same Helm chart
// relying on PSP mutation, lab has nothing to fix.
const fleetDir = "testdata/fleet"

// checkGolden compares got with testdata/name: JSON semantically, text
// exactly.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(name, ".json") {
		var a, b any
		if err := json.Unmarshal([]byte(got), &a); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, got)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("output differs from %s (-update after checking):\n%s", path, got)
		}
		return
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update after checking):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestFleetFromDir(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		golden     string
		wantStdout []string
		wantStderr []string
	}{
		{name: "audit table", args: []string{"audit"}, wantCode: ExitOK, golden: "fleet-audit.txt"},
		{name: "audit json", args: []string{"audit", "-o", "json"}, wantCode: ExitOK, golden: "fleet-audit.json"},
		{name: "audit wide names the server column", args: []string{"audit", "-o", "wide"}, wantCode: ExitOK,
			wantStdout: []string{"CONTEXT   SERVER   VERSION"}},
		{name: "audit yaml", args: []string{"audit", "-o", "yaml"}, wantCode: ExitOK,
			wantStdout: []string{"kind: FleetReport", "kind: AuditReport", "  context: eu"}},
		{name: "a --fail-on failing in two clusters exits 2", args: []string{"audit", "--fail-on", "restricted"}, wantCode: ExitFindings,
			wantStdout: []string{"eu        -         FAIL", "lab       -         PASS", "fails the restricted level"}},
		{name: "readiness table", args: []string{"readiness"}, wantCode: ExitFindings, golden: "fleet-readiness.txt"},
		{name: "readiness json", args: []string{"readiness", "-o", "json"}, wantCode: ExitFindings, golden: "fleet-readiness.json"},
		{name: "readiness markdown nests each cluster's document", args: []string{"readiness", "-o", "markdown"}, wantCode: ExitFindings,
			wantStdout: []string{"# PodSecurityPolicy migration readiness of 3 clusters", "| eu | - | NOT READY | 2 |", "## Recurring blockers",
				"## lab: READY", "### PodSecurityPolicy migration readiness: READY", "#### Plan"}},
		{name: "--contexts selects sub-directories", args: []string{"audit", "--contexts", "/^(eu|us)$/"}, wantCode: ExitOK,
			wantStdout: []string{"2 clusters: 2 PASS; exit code 0", "chart/ingress-nginx"}},
		{name: "--list-contexts previews", args: []string{"readiness", "--contexts", "^lab", "--list-contexts"}, wantCode: ExitOK,
			wantStdout: []string{"CONTEXT   DIRECTORY\neu        testdata/fleet/eu\nus        testdata/fleet/us\n"}},
		{name: "a typo is an error", args: []string{"audit", "--contexts", "eu,uss"}, wantCode: ExitError,
			wantStderr: []string{`context "uss" is not in the kubeconfig`}},
		{name: "a selection of nothing is an error", args: []string{"audit", "--contexts", "/^qa/"}, wantCode: ExitError,
			wantStderr: []string{"--contexts /^qa/ selects none of eu, lab, us"}},
		{name: "markdown is readiness's", args: []string{"audit", "-o", "markdown"}, wantCode: ExitError,
			wantStderr: []string{`invalid argument "markdown" for "-o, --output" flag: want one of`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--cluster-from-dir", fleetDir)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, stdout)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// TestFleetSectionEqualsSingleRun: a cluster's report in the fleet is the
// report of the command run against it alone.
func TestFleetSectionEqualsSingleRun(t *testing.T) {
	for _, command := range []string{"audit", "readiness"} {
		t.Run(command, func(t *testing.T) {
			_, stdout, stderr := runCLI(t, "", command, "-o", "json", "--cluster-from-dir", fleetDir)
			var rep fleet.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("%v: %s", err, stderr)
			}
			for _, c := range rep.Clusters {
				code, single, _ := runCLI(t, "", command, "-o", "json", "-f", filepath.Join(fleetDir, c.Context), "-R")
				if code != c.ExitCode {
					t.Errorf("%s: exit %d alone, %d in the fleet", c.Context, code, c.ExitCode)
				}
				var a, b any
				if err := json.Unmarshal([]byte(single), &a); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(c.Report, &b); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("%s: the fleet's section differs from the single run:\n%s\n%s", c.Context, single, c.Report)
				}
			}
		})
	}
}

func TestFleetBrokenDirDoesNotStopTheOthers(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"eu", "lab"} {
		data, err := os.ReadFile(filepath.Join(fleetDir, name, "cluster.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "cluster.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken", "x.yaml"), []byte("kind: [unclosed"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "audit", "-o", "json", "--cluster-from-dir", dir)
	if code != ExitError {
		t.Fatalf("exit %d, want %d: %s", code, ExitError, stderr)
	}
	var rep fleet.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range rep.Clusters {
		got[c.Context] = c.Verdict
	}
	want := map[string]string{"broken": "INVALID", "eu": fleet.VerdictPass, "lab": fleet.VerdictPass}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if !strings.Contains(stderr, "Warning: [broken] no report (invalid): ") || !strings.Contains(stderr, "x.yaml") {
		t.Errorf("stderr does not name the broken cluster and its file:\n%s", stderr)
	}
	if !strings.Contains(stderr, "Error: 1 of 3 clusters have no report: broken (invalid)") {
		t.Errorf("stderr lacks the summary error:\n%s", stderr)
	}
}

// fakeServers starts API servers that fail in each way a fleet must
// survive, and a kubeconfig in two files (merged through KUBECONFIG)
// naming them: forbidden (403 on everything), unauthorized (401), slow
// (answers after the context timeout), down (a closed port) and broken
// (names a cluster the kubeconfig lacks).
func fakeServers(t *testing.T) string {
	t.Helper()
	status := func(code int, reason string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":%q,"code":%d,"message":"%s"}`, reason, code, strings.ToLower(reason))
		}
	}
	forbidden := httptest.NewServer(status(http.StatusForbidden, "Forbidden"))
	t.Cleanup(forbidden.Close)
	unauthorized := httptest.NewServer(status(http.StatusUnauthorized, "Unauthorized"))
	t.Cleanup(unauthorized.Close)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()

	dir := t.TempDir()
	write := func(name string, clusters map[string]string, contexts []string) string {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
		for n, server := range clusters {
			fmt.Fprintf(&b, "- name: %s\n  cluster: {server: %q}\n", n, server)
		}
		b.WriteString("users:\n- name: u\n  user: {token: t}\ncontexts:\n")
		for _, c := range contexts {
			cluster := c
			if c == "broken" {
				cluster = "nowhere"
			}
			fmt.Fprintf(&b, "- name: %s\n  context: {cluster: %s, user: u}\n", c, cluster)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.yaml", map[string]string{"forbidden": forbidden.URL, "unauthorized": unauthorized.URL}, []string{"forbidden", "unauthorized"})
	b := write("b.yaml", map[string]string{"slow": slow.URL, "down": down}, []string{"slow", "down", "broken"})
	return a + string(os.PathListSeparator) + b
}

func TestFleetFailingClusters(t *testing.T) {
	t.Setenv("KUBECONFIG", fakeServers(t))
	start := time.Now()
	code, stdout, stderr := runCLI(t, "", "audit", "--all-contexts", "-o", "json", "--context-timeout", "1s", "--parallel", "5")
	if code != ExitError {
		t.Fatalf("exit %d, want %d: %s", code, ExitError, stderr)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the fleet took %s: a slow cluster held it past its timeout", d)
	}
	var rep fleet.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	got := map[string]string{}
	for _, c := range rep.Clusters {
		if c.Context == "forbidden" {
			// A user who may list nothing gets what a single run gives
			// them: a report that is all incomplete, exit 3.
			if c.Error != nil || c.Verdict != fleet.VerdictIncomplete || c.ExitCode != ExitIncomplete || c.Counts.Incomplete != 16 {
				t.Errorf("forbidden: %+v", c)
			}
			continue
		}
		if c.Error == nil {
			t.Errorf("%s: no error", c.Context)
			continue
		}
		got[c.Context] = c.Error.Class
		if c.ExitCode != ExitError || c.Verdict != strings.ToUpper(c.Error.Class) {
			t.Errorf("%s: exit %d, verdict %s", c.Context, c.ExitCode, c.Verdict)
		}
	}
	want := map[string]string{"broken": fleet.ClassInvalid, "down": fleet.ClassUnreachable,
		"slow": fleet.ClassTimeout, "unauthorized": fleet.ClassForbidden}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if rep.Summary.Errors != 4 || rep.Summary.NotReady != 1 || rep.Summary.ExitCode != ExitError || rep.Summary.Verdicts["FORBIDDEN"] != 1 {
		t.Errorf("summary %+v", rep.Summary)
	}
	for _, c := range []string{"broken", "down", "slow", "unauthorized"} {
		if !strings.Contains(stderr, "Warning: ["+c+"] no report (") {
			t.Errorf("stderr does not name %s:\n%s", c, stderr)
		}
	}
	if !strings.Contains(stderr, "Warning: [forbidden] report incomplete: pods: permission denied") {
		t.Errorf("stderr does not carry forbidden's own warnings:\n%s", stderr)
	}
	if rep.Clusters[2].Server == "" {
		t.Errorf("the server of %s is not reported", rep.Clusters[2].Context)
	}

	t.Run("--list-contexts merges the KUBECONFIG files", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "", "audit", "--contexts", "^/^(slow|down)$/", "--list-contexts")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(stdout), "\n")[1:] {
			names = append(names, strings.Fields(l)[0])
		}
		if want := []string{"broken", "forbidden", "unauthorized"}; !reflect.DeepEqual(names, want) {
			t.Errorf("listed %v, want %v:\n%s", names, want, stdout)
		}
	})
	t.Run("table", func(t *testing.T) {
		_, stdout, _ := runCLI(t, "", "readiness", "--contexts", "down,unauthorized", "--context-timeout", "5s")
		for _, s := range []string{"CONTEXT        VERSION   VERDICT       EXIT", "down           -         UNREACHABLE   1", "unauthorized   -         FORBIDDEN     1"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("table lacks %q:\n%s", s, stdout)
			}
		}
	})
}

func TestFleetFlags(t *testing.T) {
	t.Setenv("KUBECONFIG", fakeServers(t))
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"--context with --contexts", []string{"audit", "--contexts", "down", "--context", "down"}, "--context names one cluster: use --contexts for several"},
		{"--all-contexts with --contexts", []string{"audit", "--contexts", "down", "--all-contexts"}, "--all-contexts and --contexts cannot be used together"},
		{"--server would point every context at one cluster", []string{"audit", "--all-contexts", "--server", "https://x"}, "--server would apply to every context"},
		{"--token too", []string{"readiness", "--all-contexts", "--token", "x"}, "--token would apply to every context"},
		{"-f without --live", []string{"audit", "--all-contexts", "-f", fleetDir}, "-f without --live reads no cluster: for one dump per cluster use --cluster-from-dir DIR"},
		{"stdin cannot be read per context", []string{"audit", "--all-contexts", "-f", "-", "--live"}, "-f - (stdin) can be read once"},
		{"--cluster-from-dir with -f", []string{"audit", "--cluster-from-dir", fleetDir, "-f", fleetDir}, "--cluster-from-dir reads one directory per cluster"},
		{"--parallel 0", []string{"audit", "--all-contexts", "--parallel", "0"}, "--parallel 0: want 1 or more"},
		{"a bad regex", []string{"audit", "--contexts", "/[/"}, "--contexts \"/[/\""},
		{"convert needs --output-dir", []string{"convert", "-e", "vap", "--all-contexts"}, "--output-dir is required"},
		{"no such directory", []string{"audit", "--cluster-from-dir", "testdata/nowhere"}, "--cluster-from-dir: open testdata/nowhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != ExitError || !strings.Contains(stderr, tt.wantStderr) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, tt.wantStderr)
			}
		})
	}
}

func TestFleetConvert(t *testing.T) {
	out := filepath.Join(t.TempDir(), "policies")
	args := []string{"convert", "-e", "vap", "--cluster-from-dir", fleetDir, "--contexts", "eu,us", "--output-dir", out}
	code, stdout, stderr := runCLI(t, "", args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, c := range []string{"eu", "us"} {
		if _, err := os.Stat(filepath.Join(out, c, "vap-validatingadmissionpolicy-psp-migrate.yaml")); err != nil {
			t.Errorf("%s: %v\n%s", c, err, stdout)
		}
	}
	before, err := os.ReadFile(filepath.Join(out, "eu", "vap-validatingadmissionpolicy-psp-migrate.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("nothing is overwritten without --force, and a failing cluster writes nothing", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(out, "eu", "vap-validatingadmissionpolicy-psp-migrate.yaml"), []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, "", "convert", "-e", "vap", "--cluster-from-dir", fleetDir, "--output-dir", out)
		if code != ExitError {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "eu", "vap-validatingadmissionpolicy-psp-migrate.yaml")); string(b) != "mine\n" {
			t.Errorf("eu's file was overwritten")
		}
		if _, err := os.Stat(filepath.Join(out, "lab")); !os.IsNotExist(err) {
			t.Errorf("lab (no PSP to convert) got a folder: %v", err)
		}
		for _, s := range []string{"eu        -         1      -", "lab       -         1      -"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("stdout lacks %q:\n%s", s, stdout)
			}
		}
		code, _, stderr = runCLI(t, "", append(args, "--force")...)
		if code != ExitOK {
			t.Fatalf("--force: exit %d: %s", code, stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "eu", "vap-validatingadmissionpolicy-psp-migrate.yaml")); string(b) != string(before) {
			t.Errorf("--force did not rewrite eu's file")
		}
	})
}

func TestFolderName(t *testing.T) {
	for in, want := range map[string]string{
		"prod-eu":                                "prod-eu",
		"arn:aws:eks:eu-west-1:123:cluster/prod": "arn_aws_eks_eu-west-1_123_cluster_prod",
		"gke_project_europe-west1_prod":          "gke_project_europe-west1_prod",
		"admin@kind":                             "admin_kind",
		"..":                                     "__",
		"prod.v2":                                "prod.v2",
		"über":                                   "__ber",
	} {
		if got := folderName(in); got != want {
			t.Errorf("folderName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFleetFolderCollision(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	data := `apiVersion: v1
kind: Config
clusters:
- {name: c, cluster: {server: "http://127.0.0.1:1"}}
users:
- {name: u, user: {token: t}}
contexts:
- {name: "p:q", context: {cluster: c, user: u}}
- {name: "p/q", context: {cluster: c, user: u}}
`
	if err := os.WriteFile(kubeconfig, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "", "convert", "-e", "vap", "--all-contexts", "--kubeconfig", kubeconfig, "--output-dir", t.TempDir())
	if code != ExitError || !strings.Contains(stderr, `contexts "p/q" and "p:q" would share the folder "p_q"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	// Without folders, the same contexts are a fleet like any other.
	code, stdout, _ := runCLI(t, "", "audit", "--all-contexts", "--kubeconfig", kubeconfig, "--context-timeout", "10s")
	if code != ExitError || !strings.Contains(stdout, "p/q") || !strings.Contains(stdout, "p:q") {
		t.Errorf("audit: exit %d:\n%s", code, stdout)
	}
}

func TestFleetReadinessOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plans")
	code, _, stderr := runCLI(t, "", "readiness", "--cluster-from-dir", fleetDir, "--output-dir", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, c := range []string{"eu", "lab", "us"} {
		if _, err := os.Stat(filepath.Join(dir, c, "plan.md")); err != nil {
			t.Errorf("%s: %v", c, err)
		}
		if !strings.Contains(stderr, "["+c+"] Wrote the plan") {
			t.Errorf("stderr does not say where %s's plan went:\n%s", c, stderr)
		}
	}
}
