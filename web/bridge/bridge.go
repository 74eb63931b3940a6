// Package bridge is the browser page's entry into the converter: it takes
// the pasted YAML and the page's options, and returns what the CLI's
// `convert` would write for each engine, through the same code
// (pkg/convert). It knows nothing of JavaScript, so that it is tested like
// any Go package; web/wasm exposes it to the page.
package bridge

import (
	"archive/zip"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/convert"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// Source names the pasted input in errors, as a file name does in the CLI.
const Source = "input"

// Request is what the page asks for. The zero value of each option is the
// CLI's default.
type Request struct {
	// Input is the pasted YAML or JSON: PSPs, a List, and optionally RBAC.
	Input string `json:"input"`
	// Engines to render; empty means every engine.
	Engines []string `json:"engines,omitempty"`
	// Mode is --mode: enforce (default), audit or warn.
	Mode string `json:"mode,omitempty"`
	// Mutate is --mutate, for the kyverno engine only.
	Mutate bool `json:"mutate,omitempty"`
	// GatekeeperTemplates is --gatekeeper-templates, for gatekeeper only.
	GatekeeperTemplates bool `json:"gatekeeperTemplates,omitempty"`
	// Version is stamped into every object, as the CLI stamps its own.
	Version string `json:"-"`
}

// Response is the conversion of every engine asked for.
type Response struct {
	Version string `json:"version"`
	// Scope is cluster when the input has no RBAC, else rbac: as
	// `convert --scope cluster|rbac`.
	Scope string `json:"scope,omitempty"`
	// Error is set when the input cannot be read at all; nothing else is.
	Error *InputError `json:"error,omitempty"`
	// Warnings are about the input as a whole (duplicates, ...).
	Warnings []string         `json:"warnings,omitempty"`
	PSPs     []audit.PSPLevel `json:"psps,omitempty"`
	Engines  []EngineOutput   `json:"engines,omitempty"`
}

// InputError is a bad input, with the line of the input it is on when the
// decoder names one.
type InputError struct {
	Message string `json:"message"`
	// Line is 1-based in the pasted text; 0 when unknown.
	Line int `json:"line,omitempty"`
}

// EngineOutput is one engine's tab.
type EngineOutput struct {
	Engine string `json:"engine"`
	// Command is the CLI command that writes Output.
	Command string `json:"command"`
	// Output is the YAML stream `convert` prints on stdout, byte for byte.
	Output string `json:"output"`
	Files  []File `json:"files"`
	// Diagnostics are the lines `convert` prints on stderr: the per-field
	// notes and the warnings.
	Diagnostics []string `json:"diagnostics,omitempty"`
	// Error is set when convert would fail for this engine.
	Error string `json:"error,omitempty"`
}

// File is one object, under the name `convert --output-dir` gives it.
type File struct {
	Name string `json:"name"`
	YAML string `json:"yaml"`
}

// Engines are the engines the page shows, in tab order.
func Engines() []string { return engines.Names() }

// Convert renders every engine asked for. It never fails: a bad input or
// an engine that cannot render is reported in the response.
func Convert(req Request) Response {
	resp := Response{Version: req.Version}
	inv, err := convert.FromYAML([]byte(req.Input), Source)
	if err != nil {
		resp.Error = inputError([]byte(req.Input), err)
		return resp
	}
	if len(inv.PodSecurityPolicies) == 0 {
		resp.Error = &InputError{Message: Source + ": no PodSecurityPolicy found (paste one, or the output of `kubectl get psp -o yaml`)"}
		return resp
	}
	resp.Warnings = inv.Warnings
	opts := Options(req, inv)
	resp.Scope = string(opts.Scope)
	if resp.PSPs, err = audit.ClosestLevels(inv.PodSecurityPolicies, opts.PSSVersion); err != nil {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("closest Pod Security Standard levels: %v", err))
	}
	names := req.Engines
	if len(names) == 0 {
		names = Engines()
	}
	for _, e := range names {
		resp.Engines = append(resp.Engines, render(inv, e, req, opts))
	}
	return resp
}

// Options are the CLI's convert options for req: the defaults, the scope
// the input calls for, and the page's options.
func Options(req Request, inv *inventory.Inventory) translate.Options {
	scope := translate.ScopeCluster
	if hasRBAC(inv) {
		scope = translate.ScopeRBAC
	}
	mode := translate.ModeEnforce
	if req.Mode != "" {
		mode = translate.Mode(req.Mode)
	}
	return translate.Options{
		Scope:             scope,
		Mode:              mode,
		ExcludeNamespaces: slices.Clone(translate.DefaultExcludedNamespaces),
		ToolVersion:       req.Version,
		PSSVersion:        "latest",
	}
}

// hasRBAC reports whether the input grants anything: then it scopes the
// PSPs as --scope rbac does.
func hasRBAC(inv *inventory.Inventory) bool {
	return len(inv.RoleBindings) > 0 || len(inv.ClusterRoleBindings) > 0
}

// render is `convert -e engine` for one engine, with the options that
// engine takes.
func render(inv *inventory.Inventory, engine string, req Request, opts translate.Options) EngineOutput {
	out := EngineOutput{Engine: engine, Files: []File{}}
	if err := validMode(req.Mode); err != nil {
		out.Error = err.Error()
		return out
	}
	args := []string{"kubectl psp-migrate convert -e " + engine, "--scope " + string(opts.Scope)}
	if opts.Mode != translate.ModeEnforce {
		args = append(args, "--mode "+string(opts.Mode))
	}
	switch engine {
	case translate.EngineKyverno:
		opts.Mutate = req.Mutate
		if req.Mutate {
			args = append(args, "--mutate")
		}
	case translate.EngineGatekeeper:
		opts.GatekeeperTemplates = req.GatekeeperTemplates
		if req.GatekeeperTemplates {
			args = append(args, "--gatekeeper-templates")
		}
	}
	out.Command = strings.Join(append(args, "-f input.yaml"), " ")
	renderers, err := convert.Renderers([]string{engine})
	if err != nil {
		out.Error = err.Error()
		return out
	}
	var diag bytes.Buffer
	manifests, err := convert.Run(inv, renderers, convert.Options{Options: opts}, &diag)
	out.Diagnostics = lines(diag.String())
	if err != nil {
		out.Error = err.Error()
		return out
	}
	var stream bytes.Buffer
	if err := translate.WriteStream(&stream, manifests); err != nil {
		out.Error = err.Error()
		return out
	}
	out.Output = stream.String()
	for _, m := range manifests {
		out.Files = append(out.Files, File{Name: m.FileName, YAML: string(m.YAML)})
	}
	return out
}

func validMode(mode string) error {
	if mode == "" || slices.Contains(translate.Modes, translate.Mode(mode)) {
		return nil
	}
	return fmt.Errorf("invalid mode %q: want enforce, audit or warn", mode)
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

var (
	docRE  = regexp.MustCompile(`: document (\d+)`)
	lineRE = regexp.MustCompile(`\bline (\d+)\b`)
)

// inputError finds the line of the pasted text an error of the decoder
// names: it counts lines within a document, the page within the text.
func inputError(input []byte, err error) *InputError {
	e := &InputError{Message: err.Error()}
	doc, line := 1, 0
	if m := docRE.FindStringSubmatch(e.Message); m != nil {
		doc, _ = strconv.Atoi(m[1])
	}
	if m := lineRE.FindStringSubmatch(e.Message); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	if line > 0 {
		e.Line = manifest.DocumentLine(input, doc, line)
		// The YAML parser names the line after the last one for an
		// unexpected end: point at the last line there is.
		e.Line = min(e.Line, bytes.Count(input, []byte("\n"))+1)
	}
	return e
}

// Zip is every engine's files of resp, one folder per engine, as
// `convert -e ENGINE --output-dir ENGINE/` would write them. Engines that
// failed are left out; with none left it is an error.
func Zip(resp Response) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	n := 0
	for _, e := range resp.Engines {
		if e.Error != "" {
			continue
		}
		for _, f := range e.Files {
			// A fixed time keeps the archive the same for the same input.
			hdr := &zip.FileHeader{Name: path.Join(e.Engine, f.Name), Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
			fw, err := w.CreateHeader(hdr)
			if err != nil {
				return nil, fmt.Errorf("zip %s/%s: %w", e.Engine, f.Name, err)
			}
			if _, err := fw.Write([]byte(f.YAML)); err != nil {
				return nil, fmt.Errorf("zip %s/%s: %w", e.Engine, f.Name, err)
			}
			n++
		}
	}
	if n == 0 {
		return nil, errors.New("no engine produced any file")
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}

//go:embed examples/*.yaml
var examples embed.FS

// Example is a bundled input.
type Example struct {
	Name string `json:"name"`
	YAML string `json:"yaml"`
}

// Examples are the bundled inputs, by name.
func Examples() []Example {
	names, _ := fs.Glob(examples, "examples/*.yaml")
	out := make([]Example, 0, len(names))
	for _, n := range names {
		b, _ := examples.ReadFile(n)
		out = append(out, Example{Name: strings.TrimSuffix(path.Base(n), ".yaml"), YAML: string(b)})
	}
	return out
}
