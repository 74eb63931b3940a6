package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
)

// hostilePSP is a valid PodSecurityPolicy both commands accept: the rows
// that must succeed wrap it in the encoding under test.
const hostilePSP = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec:
  privileged: false
  seLinux: {rule: RunAsAny}
  runAsUser: {rule: MustRunAsNonRoot}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  volumes: ['*']
`

// hostileFile is one row: a file built at test time and what a careful
// operator expects of every command that reads it (docs/input.md).
type hostileFile struct {
	name string
	// build writes the file into dir and returns its path.
	build func(t *testing.T, dir string) string
	// wantCode per command; a command not listed expects ExitError.
	wantCode map[string]int
	// wantErr are substrings of stderr, after the file's path (which every
	// failing row must name) is checked.
	wantErr []string
	// maxAlloc bounds the bytes allocated by one run (0: not measured).
	maxAlloc uint64
	// unnamed lists the commands whose error may not name the file: the
	// error is about the whole input, not one object in it.
	unnamed map[string]bool
}

// hostileCommands are the commands that read -f, and the flags each needs.
var hostileCommands = map[string][]string{
	"audit":   {"audit"},
	"convert": {"convert", "-e", "vap", "--scope", "cluster"},
}

func content(name string, data []byte) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func text(name, s string) func(*testing.T, string) string { return content(name, []byte(s)) }

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var out []byte
	put := func(u uint16) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	if bom {
		put(0xFEFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		put(u)
	}
	return out
}

// psp returns hostilePSP with one line of its spec replaced or added.
func pspWith(old, new string) string {
	if old == "" {
		return hostilePSP + new
	}
	return strings.Replace(hostilePSP, old, new, 1)
}

const mib = 1 << 20

func hostileFiles() []hostileFile {
	ok := map[string]int{"audit": ExitOK, "convert": ExitOK}
	return []hostileFile{
		// Cut short.
		{name: "truncated YAML", build: text("t.yaml", hostilePSP+"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [web"),
			wantErr: []string{"document 2: invalid YAML"}},
		{name: "truncated JSON", build: text("t.json", `{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"x"},"spec":{"privi`),
			wantErr: []string{"document 1: invalid JSON"}},
		{name: "truncated mid UTF-8 character", build: content("t.yaml", []byte(hostilePSP+"# caf\xc3")),
			wantErr: []string{"invalid UTF-8 at offset"}},
		{name: "truncated UTF-16", build: content("t.yaml", utf16Bytes(hostilePSP, false, true)[:101]),
			wantErr: []string{"UTF-16 with an odd number of bytes"}},
		// Deep, big, endless.
		{name: "deeply nested YAML flow", build: text("deep.yaml", hostilePSP+"---\na: "+strings.Repeat("[", 100000)),
			wantErr: []string{"document 2: invalid YAML", "max depth"}, maxAlloc: 64 * mib},
		{name: "deeply nested YAML maps", build: text("deep.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: "+strings.Repeat("{a: ", 50000)+strings.Repeat("}", 50000)+"\n"),
			wantErr: []string{"document 1: invalid YAML", "max depth"}, maxAlloc: 64 * mib},
		{name: "deeply nested JSON", build: text("deep.json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":`+strings.Repeat(`{"a":`, 100000)+"1"+strings.Repeat("}", 100001)),
			wantErr: []string{"document 1: invalid JSON", "depth"}, maxAlloc: 64 * mib},
		{name: "100 MB line", build: func(t *testing.T, dir string) string {
			return content("big.yaml", []byte(pspWith("metadata: {name: restricted}", "metadata:\n  name: restricted\n  annotations:\n    a: "+strings.Repeat("x", 100*mib))))(t, dir)
		}, wantErr: []string{"document 1: line 6 is", "over the limit"}, maxAlloc: 160 * mib},
		{name: "100 MB of empty documents", build: text("empty-docs.yaml", strings.Repeat("---\n", 25*mib)),
			wantErr: []string{"no Kubernetes objects found"}, maxAlloc: 160 * mib},
		{name: "over the file size limit (sparse)", build: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "huge.yaml")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(hostilePSP); err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(manifest.MaxFileSize + 1); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantErr: []string{"over the limit"}, maxAlloc: 16 * mib},
		{name: "endless device", build: func(t *testing.T, dir string) string { return "/dev/zero" },
			wantErr: []string{"binary data: NUL byte at offset 0"}, maxAlloc: 16 * mib},
		// Not text.
		{name: "binary", build: content("a.out", []byte("\x7fELF\x02\x01\x01\x00\x00\x00")), wantErr: []string{"not a text manifest (binary data"}},
		{name: "gzip", build: content("cluster.yaml.gz", []byte{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03}), wantErr: []string{"binary data"}},
		{name: "Latin-1 text", build: content("latin1.yaml", []byte(hostilePSP+"# caf\xe9\n")), wantErr: []string{"invalid UTF-8"}},
		{name: "UTF-16 without BOM", build: content("u16.yaml", utf16Bytes(hostilePSP, false, false)), wantErr: []string{"UTF-16 without a byte-order mark"}},
		// Encodings a careful operator expects to work.
		{name: "CRLF line endings", build: text("crlf.yaml", strings.ReplaceAll("# from Windows\n---\n"+hostilePSP, "\n", "\r\n")), wantCode: ok},
		{name: "UTF-8 BOM", build: content("bom.yaml", append([]byte{0xEF, 0xBB, 0xBF}, hostilePSP...)), wantCode: ok},
		{name: "UTF-8 BOM on JSON", build: content("bom.json", append([]byte{0xEF, 0xBB, 0xBF}, `{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"j"},"spec":{"seLinux":{"rule":"RunAsAny"},"runAsUser":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}}}`...)), wantCode: ok},
		{name: "UTF-16LE with BOM (PowerShell)", build: content("u16le.yaml", utf16Bytes(hostilePSP, false, true)), wantCode: ok},
		{name: "UTF-16BE with BOM", build: content("u16be.yaml", utf16Bytes(hostilePSP, true, true)), wantCode: ok},
		{name: "unknown field in a pod (newer cluster)", build: text("pod.yaml", hostilePSP+"---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  futureField: 1\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: c, image: c}]\n"), wantCode: ok},
		// Not Kubernetes objects.
		{name: "wrong apiVersion syntax", build: text("v.yaml", pspWith("policy/v1beta1", "policy/v1beta1/extra")), wantErr: []string{"document 1", `apiVersion "policy/v1beta1/extra"`}},
		{name: "apiVersion not a string", build: text("v.yaml", pspWith("apiVersion: policy/v1beta1", "apiVersion: 1")), wantErr: []string{"document 1", "apiVersion must be a non-empty string"}},
		{name: "PSP under the core group", build: text("v.yaml", pspWith("policy/v1beta1", "v1")),
			// Skipped as an unknown kind with a warning: the audit of the
			// rest stands; convert has nothing to convert.
			wantCode: map[string]int{"audit": ExitOK}, wantErr: []string{"skipped 1 object(s) of kind v1 PodSecurityPolicy"},
			unnamed: map[string]bool{"convert": true}},
		{name: "kind missing in document 3", build: text("k.yaml", hostilePSP+"---\n# c\n---\napiVersion: v1\nmetadata: {name: x}\n"), wantErr: []string{"document 3: kind is missing"}},
		{name: "top-level list", build: text("l.yaml", "- "+strings.ReplaceAll(hostilePSP, "\n", "\n  ")), wantErr: []string{"document 1: expected a Kubernetes object, found a list"}},
		{name: "List items not a list", build: text("l.yaml", "apiVersion: v1\nkind: List\nitems: {a: b}\n"), wantErr: []string{"document 1: List items must be a list"}},
		{name: "List inside a List", build: text("l.yaml", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: List, items: []}\n"), wantErr: []string{"document 1, item 0: a List nested inside a List"}},
		{name: "non-string map key", build: text("k.yaml", hostilePSP+"---\n? [a, b]\n: c\n"), wantErr: []string{"document 2: invalid YAML"}},
		{name: "tab indentation", build: text("tab.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: a\n"), wantErr: []string{"document 1: invalid YAML"}},
		{name: "concatenated JSON objects", build: text("c.json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}`), wantErr: []string{"document 1: invalid JSON"}},
		// Ambiguous.
		{name: "duplicate key in YAML", build: text("d.yaml", pspWith("  privileged: false\n", "  privileged: false\n  privileged: true\n")), wantErr: []string{"document 1: invalid YAML", `"privileged" already set`}},
		{name: "duplicate key in JSON", build: text("d.json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}`), wantErr: []string{"document 1: invalid JSON", `duplicate field "metadata.name"`}},
		{name: "YAML alias bomb", build: text("bomb.yaml", hostilePSP+"---\n"+aliasBomb(9, 10)), wantErr: []string{"document 2: invalid YAML", "alias"}, maxAlloc: 64 * mib},
		{name: "YAML alias bomb (wide)", build: text("bomb.yaml", hostilePSP+"---\n"+aliasBomb(4, 400)), wantErr: []string{"document 2: invalid YAML", "alias"}, maxAlloc: 64 * mib},
		{name: "YAML aliases of a large string", build: text("bomb.yaml", hostilePSP+"---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\nx: &a \""+strings.Repeat("x", mib)+"\"\ny: ["+strings.Repeat("*a, ", 899)+"*a]\n"),
			wantErr: []string{"document 2: invalid YAML: aliases expand to more than"}, maxAlloc: 64 * mib},
		// Invalid PodSecurityPolicies.
		{name: "invalid PSP rule", build: text("p.yaml", pspWith("{rule: MustRunAsNonRoot}", "{rule: Sometimes}")), wantErr: []string{"document 1 (PodSecurityPolicy \"restricted\")", "invalid PodSecurityPolicy", "Sometimes"}},
		{name: "invalid PSP range", build: text("p.yaml", pspWith("{rule: MustRunAsNonRoot}", "{rule: MustRunAs, ranges: [{min: 10, max: 1}]}")), wantErr: []string{"document 1 (PodSecurityPolicy \"restricted\")", "invalid PodSecurityPolicy"}},
		{name: "PSP field of the wrong type", build: text("p.yaml", pspWith("privileged: false", "privileged: sometimes")), wantErr: []string{"document 1 (PodSecurityPolicy \"restricted\")"}},
		{name: "unknown field in a PSP", build: text("p.yaml", pspWith("privileged: false", "privilegd: false")), wantErr: []string{"document 1 (PodSecurityPolicy \"restricted\")", "privilegd"}},
		{name: "invalid PSP in a List", build: text("p.yaml", "apiVersion: v1\nkind: List\nitems:\n- "+strings.ReplaceAll(pspWith("volumes: ['*']", "volumes: [nfs, floppy]"), "\n", "\n  ")), wantErr: []string{"document 1, item 0 (PodSecurityPolicy \"restricted\")", "floppy"}},
		// Names that would be paths.
		{name: "PSP name with ../", build: text("n.yaml", pspWith("name: restricted", "name: ../../etc/passwd")), wantErr: []string{"document 1", `metadata.name "../../etc/passwd" is not a valid object name`}},
		{name: "pod name with /", build: text("n.yaml", hostilePSP+"---\napiVersion: v1\nkind: Pod\nmetadata: {name: a/b, namespace: x}\n"), wantErr: []string{"document 2", `metadata.name "a/b"`}},
		{name: "name ..", build: text("n.yaml", pspWith("name: restricted", `name: ".."`)), wantErr: []string{"document 1", `metadata.name ".."`}},
		{name: "namespace with ../", build: text("n.yaml", hostilePSP+"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: ../kube-system}\n"), wantErr: []string{"document 2", `metadata.namespace "../kube-system"`}},
		// Nothing in it.
		{name: "empty", build: text("e.yaml", ""), wantErr: []string{"file is empty"}},
		{name: "comments only", build: text("c.yaml", "# a\n---\n# b\n"), wantErr: []string{"no Kubernetes objects found"}},
		{name: "name missing in document 2", build: text("m.yaml", hostilePSP+"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: a}\n"), wantErr: []string{"document 2 (Pod): metadata.name is missing"}},
	}
}

// aliasBomb is the "billion laughs" document: depth levels, each a list of
// width aliases of the level below.
func aliasBomb(depth, width int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"lol\"]\n")
	for d := 1; d <= depth; d++ {
		fmt.Fprintf(&b, "a%d: &a%d [", d, d)
		for w := 0; w < width; w++ {
			if w > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", d-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// TestHostileFiles runs every hostile file through every command that reads
// files: a clear error naming the file (and document), exit 1, no panic,
// and, where the row says so, bounded allocation — or, for the encodings an
// operator's tools produce, success.
func TestHostileFiles(t *testing.T) {
	rows := hostileFiles()
	if len(rows) < 30 {
		t.Fatalf("only %d hostile files", len(rows))
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := t.TempDir()
			path := row.build(t, dir)
			for cmdName, args := range hostileCommands {
				want, listed := row.wantCode[cmdName]
				if !listed {
					want = ExitError
				}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				code, stdout, stderr := runCLIRecover(t, append(append([]string{}, args...), "-f", path)...)
				runtime.ReadMemStats(&after)
				if code != want {
					t.Errorf("%s: exit %d, want %d; stderr:\n%s", cmdName, code, want, hostileTrim(stderr))
					continue
				}
				if want == ExitError {
					if !row.unnamed[cmdName] && !strings.Contains(stderr, path) {
						t.Errorf("%s: the error does not name %s:\n%s", cmdName, path, hostileTrim(stderr))
					}
					if stdout != "" {
						t.Errorf("%s: wrote %d bytes to stdout on error", cmdName, len(stdout))
					}
					if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 3 {
						t.Errorf("%s: error is %d lines long:\n%s", cmdName, n+1, hostileTrim(stderr))
					}
				}
				for _, w := range row.wantErr {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr does not contain %q:\n%s", cmdName, w, hostileTrim(stderr))
					}
				}
				if row.maxAlloc > 0 {
					alloc := after.TotalAlloc - before.TotalAlloc
					t.Logf("%s: allocated %d MiB", cmdName, alloc/mib)
					if bound := row.maxAlloc * allocFactor; alloc > bound {
						t.Errorf("%s: allocated %d MiB, bound %d MiB", cmdName, alloc/mib, bound/mib)
					}
				}
			}
		})
	}
}

// runCLIRecover is runCLI that turns a panic into a test failure naming
// the command instead of killing the test binary.
func runCLIRecover(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%v panicked: %v", args, r)
		}
	}()
	return runCLI(t, "", args...)
}

func hostileTrim(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}
