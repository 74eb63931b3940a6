// Package browser tests the browser converter end to end: the page served
// by `kubectl psp-migrate web`, run by a real headless Chromium (Debian's,
// hack/ensure-chromium.sh) driven over the DevTools protocol by chromedp.
// Every tab's output must equal the CLI's `convert` output for the same PSP
// and options, byte for byte.
//
//	CHROMIUM=$(bash hack/ensure-chromium.sh) PSP_MIGRATE_E2E=required \
//	  go test -C test/browser ./...
//
// Without a Chromium the test is skipped, unless PSP_MIGRATE_E2E=required.
// It is its own module so that chromedp stays out of the plugin's go.mod.
package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
)

const (
	// corpus is the PSPs the translation e2e tests convert.
	corpus = "../e2e/testdata/translate-corpus/psps.yaml"
	// EnvArtifacts is where the screenshots go; bin/artifacts/browser
	// under the repository by default.
	EnvArtifacts = "PSP_MIGRATE_ARTIFACTS"
)

// engines are the tabs the page must have, in order.
var engines = []string{"gatekeeper", "kubewarden", "kyverno", "kyverno-cel", "psa", "vap"}

// variant is a set of page options and the convert flags they stand for.
type variant struct {
	name      string
	mode      string
	mutate    bool
	templates bool
}

func (v variant) flags(engine string) []string {
	var out []string
	if v.mode != "enforce" {
		out = append(out, "--mode", v.mode)
	}
	if v.mutate && engine == "kyverno" {
		out = append(out, "--mutate")
	}
	if v.templates && engine == "gatekeeper" {
		out = append(out, "--gatekeeper-templates")
	}
	return out
}

var variants = []variant{
	{name: "defaults", mode: "enforce"},
	{name: "audit mode, mutate, templates", mode: "audit", mutate: true, templates: true},
}

func root(t testing.TB) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: set CHROMIUM or run hack/ensure-chromium.sh"
	if os.Getenv("PSP_MIGRATE_E2E") == "required" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// build runs hack/web.sh (which also writes the files the CLI embeds) and
// builds the CLI, both at the same version.
func build(t testing.TB, dir string) string {
	t.Helper()
	r := root(t)
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = r
		cmd.Env = append(os.Environ(), "VERSION=browser-test")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	start := time.Now()
	run("bash", "hack/web.sh", filepath.Join(dir, "site"))
	cli := filepath.Join(dir, "kubectl-psp_migrate")
	run("go", "build", "-trimpath", "-ldflags", "-X main.version=browser-test", "-o", cli, "./cmd/kubectl-psp_migrate")
	t.Logf("built the page and the CLI in %s", time.Since(start).Round(time.Millisecond))
	if fi, err := os.Stat(filepath.Join(dir, "site", "main.wasm")); err == nil {
		gz, _ := os.Stat(filepath.Join(dir, "site", "main.wasm.gz"))
		t.Logf("main.wasm: %d bytes, gzip %d bytes", fi.Size(), gz.Size())
	}
	return cli
}

// serve starts `kubectl psp-migrate web --port 0` and returns its URL.
func serve(t testing.TB, cli string) string {
	t.Helper()
	cmd := exec.Command(cli, "web", "--port", "0")
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s web: %v", cli, err)
	}
	t.Cleanup(func() {
		// Ctrl-C stops `web` cleanly: exit status 0.
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Errorf("interrupt %s web: %v", cli, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s web after Ctrl-C: %v\n%s", cli, err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s web still running 20s after Ctrl-C", cli)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s web printed no URL: %v\n%s", cli, err, stderr.String())
	}
	// "Serving the converter at http://127.0.0.1:PORT/ (Ctrl-C stops it)"
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "http://127.0.0.1:") {
			return f
		}
	}
	t.Fatalf("%s web: no URL in %q", cli, line)
	return ""
}

// pspsOfCorpus splits the corpus into one YAML document per PSP, as a user
// would paste them.
func pspsOfCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data, corpus)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		if o.Object.GetKind() != "PodSecurityPolicy" {
			continue
		}
		b, err := yaml.Marshal(o.Object.Object)
		if err != nil {
			t.Fatal(err)
		}
		out[o.Object.GetName()] = b
	}
	if len(out) < 5 {
		t.Fatalf("%s: only %d PSPs", corpus, len(out))
	}
	return out
}

// cliConvert is `convert -e engine --scope cluster FLAGS -f file`.
func cliConvert(t testing.TB, cli, file, engine string, flags []string) (stdout string, err error) {
	t.Helper()
	args := append([]string{"convert", "-e", engine, "--scope", "cluster"}, flags...)
	args = append(args, "-f", file)
	cmd := exec.Command(cli, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

func artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		dir = filepath.Join(root(t), "bin", "artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts a headless Chromium with a fresh profile and nothing it
// would fetch on its own (updates, sync, field trials, QUIC probes).
func browser(t testing.TB, exe string, listen func(ev any)) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(listen))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// requests records every URL the page asks for.
type requests struct {
	mu   sync.Mutex
	urls []string
}

func (r *requests) listen(ev any) {
	if e, ok := ev.(*network.EventRequestWillBeSent); ok {
		r.mu.Lock()
		r.urls = append(r.urls, e.Request.URL)
		r.mu.Unlock()
	}
}

func (r *requests) since(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.urls[n:]...)
}

func (r *requests) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.urls)
}

// waitReady waits until the converter has loaded.
func waitReady(ctx context.Context) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.body.dataset.state !== "loading"`, chromedp.WithPollingTimeout(2*time.Minute)))
	return err
}

// pageConvert sets the input and options, converts, and returns every
// tab's output and error.
func pageConvert(ctx context.Context, input string, v variant) (outputs, errs map[string]string, err error) {
	js := fmt.Sprintf(`(() => {
		document.getElementById("input").value = %s;
		document.getElementById("mode").value = %q;
		document.getElementById("mutate").checked = %t;
		document.getElementById("templates").checked = %t;
		window.pspMigrateApp.convert();
		const out = {}, errs = {};
		document.querySelectorAll("#panels .panel").forEach((p) => {
			out[p.dataset.engine] = p.querySelector("pre.output").textContent;
			errs[p.dataset.engine] = p.querySelector(".error").textContent;
		});
		return {out: out, errs: errs, state: document.body.dataset.state, error: document.getElementById("error").textContent};
	})()`, jsString(input), v.mode, v.mutate, v.templates)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Out   map[string]string `json:"out"`
		Errs  map[string]string `json:"errs"`
		State string            `json:"state"`
		Error string            `json:"error"`
	}](js))
	if err != nil {
		return nil, nil, err
	}
	if res.State != "done" {
		return nil, nil, fmt.Errorf("page state %q: %s", res.State, res.Error)
	}
	return res.Out, res.Errs, nil
}

// jsString quotes s for JavaScript (JSON strings are JavaScript strings).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestBrowserConverter(t *testing.T) {
	exe := chromiumPath(t)
	dir := t.TempDir()
	cli := build(t, dir)
	url := serve(t, cli)
	psps := pspsOfCorpus(t)
	reqs := &requests{}
	ctx := browser(t, exe, reqs.listen)

	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	if err := waitReady(ctx); err != nil {
		t.Fatalf("converter never loaded: %v", err)
	}
	timings, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`window.pspMigrateTimings`))
	if err != nil {
		t.Fatal(err)
	}
	if state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.state`)); state == "failed" {
		footer, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("footer").textContent`))
		t.Fatalf("the page could not load the converter: %s", footer)
	}
	t.Logf("page loaded in %s; converter ready %.0f ms after the script started", time.Since(start).Round(time.Millisecond), timings["ready"])
	for _, u := range reqs.since(0) {
		if !strings.HasPrefix(u, url) {
			t.Errorf("the page requested %s, outside %s", u, url)
		}
	}
	loaded := reqs.count()

	tabs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#panels .panel")].map((p) => p.dataset.engine)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tabs, ",") != strings.Join(engines, ",") {
		t.Fatalf("tabs %v, want %v", tabs, engines)
	}

	first := true
	nonEmpty := 0
	for _, name := range slices.Sorted(maps.Keys(psps)) {
		doc := psps[name]
		file := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(file, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, v := range variants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				convStart := time.Now()
				outputs, errs, err := pageConvert(ctx, string(doc), v)
				if err != nil {
					t.Fatalf("page: %v", err)
				}
				if first {
					first = false
					t.Logf("first conversion in the page: %s (all %d engines)", time.Since(convStart).Round(time.Millisecond), len(engines))
				}
				for _, e := range engines {
					want, cliErr := cliConvert(t, cli, file, e, v.flags(e))
					if cliErr != nil {
						if errs[e] == "" {
							t.Errorf("%s: the CLI fails (%v) but the page shows no error", e, cliErr)
						}
						continue
					}
					if errs[e] != "" {
						t.Errorf("%s: the page shows %q, the CLI succeeds", e, errs[e])
						continue
					}
					if want != "" {
						nonEmpty++
					}
					if outputs[e] != want {
						t.Errorf("%s: the page's output differs from `convert -e %s --scope cluster %s`:\n%s", e, e, strings.Join(v.flags(e), " "), firstDiff(outputs[e], want))
					}
				}
			})
		}
	}

	// Equal outputs prove little if they are all empty.
	if nonEmpty < len(psps)*len(variants) {
		t.Errorf("only %d non-empty CLI outputs compared", nonEmpty)
	}

	t.Run("bad input shows the error on its line", func(t *testing.T) {
		bad := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: x\nspec:\n  foo: [\n"
		js := fmt.Sprintf(`(() => {
			document.getElementById("input").value = %s;
			window.pspMigrateApp.convert();
			const e = document.getElementById("error");
			const bad = document.querySelector("#gutter .bad");
			return {hidden: e.hidden, text: e.textContent, state: document.body.dataset.state, badLine: bad ? bad.textContent : ""};
		})()`, jsString(bad))
		res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Hidden  bool   `json:"hidden"`
			Text    string `json:"text"`
			State   string `json:"state"`
			BadLine string `json:"badLine"`
		}](js))
		if err != nil {
			t.Fatal(err)
		}
		if res.Hidden || res.State != "error" {
			t.Fatalf("no error shown: %+v", res)
		}
		if !strings.HasPrefix(res.Text, "Line 11: input: document 2: invalid YAML") || res.BadLine != "11" {
			t.Errorf("error %q marked on line %q, want the message on line 11", res.Text, res.BadLine)
		}
		screenshot(t, ctx, "error.png")
	})

	t.Run("the URL fragment reproduces a conversion", func(t *testing.T) {
		input := string(psps[firstName(psps)])
		frag := "#psp=" + base64.RawURLEncoding.EncodeToString([]byte(input)) + "&engine=kyverno&mode=warn"
		if err := chromedp.Do(ctx, chromedp.Navigate(url+frag),
			chromedp.Poll[chromedp.Void](`document.body.dataset.state === "done"`, chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
			t.Fatal(err)
		}
		res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Input    string `json:"input"`
			Mode     string `json:"mode"`
			Selected string `json:"selected"`
			Output   string `json:"output"`
		}](`({input: document.getElementById("input").value, mode: document.getElementById("mode").value,
				selected: document.querySelector('#tabs [aria-selected="true"]').textContent,
				output: document.querySelector('pre.output[data-engine="kyverno"]').textContent})`))
		if err != nil {
			t.Fatal(err)
		}
		if ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.pspMigrateTimings.firstConversion`)); err == nil {
			t.Logf("time to the first conversion, page opened on a link: %.0f ms", ms)
		}
		if res.Input != input || res.Mode != "warn" || res.Selected != "kyverno" {
			t.Errorf("fragment gave input %d bytes (want %d), mode %q, tab %q", len(res.Input), len(input), res.Mode, res.Selected)
		}
		file := filepath.Join(dir, firstName(psps)+".yaml")
		want, err := cliConvert(t, cli, file, "kyverno", []string{"--mode", "warn"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Output != want {
			t.Errorf("kyverno from the link differs from the CLI:\n%s", firstDiff(res.Output, want))
		}
		screenshot(t, ctx, "converter.png")
	})

	t.Run("typing converts after a pause; an example fills the input", func(t *testing.T) {
		doc := string(psps[firstName(psps)])
		if err := chromedp.Do(ctx, chromedp.Steps(
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
					window.before = Number(document.body.dataset.conversions);
					const in_ = document.getElementById("input");
					in_.value = %s;
					in_.dispatchEvent(new Event("input", {bubbles: true}));
				})()`, jsString(doc)))(ctx, tg)
				return err
			}),
			chromedp.Poll[chromedp.Void](`Number(document.body.dataset.conversions) > window.before && document.body.dataset.state === "done"`, chromedp.WithPollingTimeout(time.Minute)),
		)); err != nil {
			t.Fatalf("typing: %v", err)
		}
		level, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const sel = document.getElementById("example");
			sel.value = "restricted";
			sel.dispatchEvent(new Event("change"));
			const row = document.querySelector("#levels tbody tr");
			return row ? row.cells[0].textContent + ":" + row.cells[1].textContent : "";
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if level != "restricted:restricted" {
			t.Errorf("the restricted example's level row is %q, want restricted:restricted", level)
		}
	})

	t.Run("zip of every engine", func(t *testing.T) {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
			const z = window.pspMigrate.zip(JSON.stringify({input: document.getElementById("input").value}));
			return typeof z === "string" ? -1 : z.length;
		})()`))
		if err != nil || n <= 0 {
			t.Fatalf("zip: %d bytes, %v", n, err)
		}
	})

	// Loading from the fragment reloads the page's own files; nothing else.
	for _, u := range reqs.since(loaded) {
		if !strings.HasPrefix(u, url) {
			t.Errorf("the page requested %s after loading", u)
		}
	}
}

func firstName(m map[string][]byte) string {
	best := ""
	for k := range m {
		if best == "" || k < best {
			best = k
		}
	}
	return best
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(artifacts(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// firstDiff shows where two texts part.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || (i >= len(g)) != (i >= len(w)) {
			return fmt.Sprintf("line %d:\n  page: %q\n  cli:  %q\n(page %d bytes, cli %d bytes)", i+1, gl, wl, len(got), len(want))
		}
	}
	return "equal lines, different bytes"
}
