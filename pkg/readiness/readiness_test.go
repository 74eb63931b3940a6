package readiness

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// now is the fixed clock of the golden files.
var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func load(t *testing.T, path string) *inventory.Inventory {
	t.Helper()
	objs, err := manifest.ReadPaths([]string{path}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	inv.Sources = []string{filepath.Base(path)}
	return inv
}

func evaluate(t *testing.T, inv *inventory.Inventory, engine string, target Version, cluster *Cluster) *Report {
	t.Helper()
	opts := audit.Options{PSSVersion: target.String(), ToolVersion: "test", Scope: translate.ScopeRBAC}
	in := Input{Inventory: inv, Engine: engine, Target: target, Cluster: cluster, Now: now, ToolVersion: "test", ObserveMode: "audit"}
	if engine != translate.EnginePSA {
		opts.Engines = []string{engine}
		r, err := engines.ByName(engine)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []translate.Mode{translate.ModeAudit, translate.ModeEnforce} {
			set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeRBAC, Mode: mode, ToolVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Render(translate.Input{Set: set, Options: set.Options})
			if err != nil {
				t.Fatal(err)
			}
			ms, err := translate.Marshal(out.Objects)
			if err != nil {
				t.Fatal(err)
			}
			if mode == translate.ModeAudit {
				in.Observe = ms
			} else {
				in.Enforce = ms
			}
		}
	}
	rep, err := audit.Run(inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	in.Audit = rep
	res, err := Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestGolden pins the readiness of the bundled example: the JSON report
// (compared as decoded JSON), the table and the markdown (compared as text:
// they are what people read).
func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		engine  string
		target  Version
		cluster *Cluster
	}{
		{name: "example-psa", engine: translate.EnginePSA, target: Version{25}},
		{name: "example-kyverno-live", engine: translate.EngineKyverno, target: Version{25}, cluster: &Cluster{Version: Version{24}, Served: map[string]bool{}}},
		{name: "example-vap-v1.30", engine: translate.EngineVAP, target: Version{30}, cluster: &Cluster{Version: Version{30},
			Served: map[string]bool{"admissionregistration.k8s.io/v1/validatingadmissionpolicies": true, "admissionregistration.k8s.io/v1/validatingadmissionpolicybindings": true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := evaluate(t, load(t, "../../examples/cluster.yaml"), tt.engine, tt.target, tt.cluster)
			for _, format := range []string{FormatJSON, FormatTable, FormatMarkdown} {
				var buf bytes.Buffer
				if err := Print(&buf, rep, format); err != nil {
					t.Fatal(err)
				}
				ext := map[string]string{FormatJSON: ".json", FormatTable: ".txt", FormatMarkdown: ".md"}[format]
				golden := filepath.Join("testdata", tt.name+ext)
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("read golden (run with -update to create): %v", err)
				}
				same := bytes.Equal(buf.Bytes(), want)
				if format == FormatJSON {
					var g, w any
					if err := json.Unmarshal(buf.Bytes(), &g); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(want, &w); err != nil {
						t.Fatal(err)
					}
					same = reflect.DeepEqual(g, w)
				}
				if !same {
					t.Errorf("%s differs from %s (run go test ./pkg/readiness -update and review the diff):\n%s", format, golden, buf.String())
				}
			}
		})
	}
}

func check(rep *Report, id string) Check {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	return Check{}
}

func TestChecks(t *testing.T) {
	inv := load(t, "../../examples/cluster.yaml")
	t.Run("the example is not ready for psa: mutation and a stricter label block", func(t *testing.T) {
		rep := evaluate(t, inv, translate.EnginePSA, Version{25}, nil)
		if rep.Verdict != NotReady {
			t.Errorf("verdict %s", rep.Verdict)
		}
		if c := check(rep, CheckMutation); c.Status != Block || c.Count == 0 || c.Step != 1 {
			t.Errorf("mutation check %+v", c)
		}
		if c := check(rep, CheckAdmissionPlugin); c.Status != Manual {
			t.Errorf("admission plugin check %+v", c)
		}
		for _, c := range rep.Checks {
			if c.Items == nil {
				t.Errorf("check %s: items null, want a list", c.ID)
			}
		}
	})
	t.Run("an engine the live cluster does not serve blocks", func(t *testing.T) {
		rep := evaluate(t, inv, translate.EngineKyverno, Version{25}, &Cluster{Version: Version{24}, Served: map[string]bool{}})
		if c := check(rep, CheckInstalled); c.Status != Block || c.Count != 1 {
			t.Errorf("installed check %+v", c)
		}
		rep = evaluate(t, inv, translate.EngineKyverno, Version{25}, &Cluster{Version: Version{24}, Served: map[string]bool{"kyverno.io/v1/clusterpolicies": true}})
		if c := check(rep, CheckInstalled); c.Status != Pass {
			t.Errorf("installed check %+v", c)
		}
		rep = evaluate(t, inv, translate.EngineKyverno, Version{25}, nil)
		if c := check(rep, CheckInstalled); c.Status != Manual {
			t.Errorf("offline installed check %+v", c)
		}
	})
	t.Run("seccomp set by annotation only: warn before v1.27, block from it, patched in step 1", func(t *testing.T) {
		inv := load(t, "testdata/seccomp-annotation.yaml")
		for _, tt := range []struct {
			target Version
			want   string
		}{{Version{25}, Warn}, {Version{27}, Block}} {
			rep := evaluate(t, inv, translate.EnginePSA, tt.target, nil)
			c := check(rep, CheckSeccomp)
			if c.Status != tt.want || c.Count != 1 || c.Step != 1 {
				t.Errorf("to %s: seccomp check %+v, want %s", tt.target, c, tt.want)
			}
			var patch map[string]any
			for _, f := range rep.Plan[0].Files {
				if strings.Contains(f.Path, "legacy-deployment-web") {
					if err := yaml.Unmarshal(f.Content, &patch); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"securityContext": map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}}}}}}
			if !reflect.DeepEqual(patch, want) {
				t.Errorf("to %s: patch %v, want %v", tt.target, patch, want)
			}
		}
	})
}

func TestPatchPaths(t *testing.T) {
	p := newPlanner(Input{})
	k := workloadKey{"ns", "CronJob", "nightly"}
	p.addFields(&report.Workload{Namespace: "ns", Kind: "CronJob", Name: "nightly", FieldsToSet: []report.FieldChange{
		{Path: "spec.securityContext.runAsUser", After: "1000"},
		{Path: "spec.securityContext.seccompProfile.type", After: "RuntimeDefault"},
		{Path: "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", After: "runtime/default"},
		{Path: "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]", After: "runtime/default"},
		{Path: "spec.containers[name=app].securityContext.allowPrivilegeEscalation", After: "false"},
		{Path: "spec.containers[name=app].securityContext.capabilities.drop", After: `["ALL"]`},
		{Path: "spec.initContainers[name=init].securityContext.readOnlyRootFilesystem", After: "true"},
		{Path: "spec.containers[name=side].securityContext.procMount", After: "Default"},
	}})
	want := map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}},
		"spec": map[string]any{
			"securityContext": map[string]any{"runAsUser": int64(1000), "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{
				map[string]any{"name": "app", "securityContext": map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}},
				map[string]any{"name": "side", "securityContext": map[string]any{"procMount": "Default"}},
			},
			"initContainers": []any{map[string]any{"name": "init", "securityContext": map[string]any{"readOnlyRootFilesystem": true}}},
		},
	}}}}}
	if got := p.patches[k]; !reflect.DeepEqual(got, want) {
		gb, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("patch:\n%s", gb)
	}
}

func TestWriteDir(t *testing.T) {
	rep := &Report{Plan: []Step{{Number: 1, Folder: "01-fix-templates", Commands: []string{"kubectl patch x"}, Files: []File{{Path: "01-fix-templates/a.yaml", Content: []byte("a: 1\n")}}}}}
	dir := t.TempDir()
	if err := WriteDir(dir, rep, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{PlanFile, "01-fix-templates/a.yaml", "01-fix-templates/README.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if err := WriteDir(dir, rep, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second write without --force: %v", err)
	}
	if err := WriteDir(dir, rep, true); err != nil {
		t.Errorf("--force: %v", err)
	}
	for _, bad := range []string{"../escape.yaml", "/abs.yaml", "01-fix-templates/../../x.yaml"} {
		empty := t.TempDir()
		rep := &Report{Plan: []Step{{Files: []File{{Path: "ok.yaml"}, {Path: bad}}}}}
		if err := WriteDir(empty, rep, false); err == nil {
			t.Errorf("%s: written", bad)
		}
		entries, _ := os.ReadDir(empty)
		if len(entries) != 0 {
			t.Errorf("%s: a refused plan left %d entries", bad, len(entries))
		}
	}
	// No temporary file is left behind.
	var temps []string
	_ = filepath.WalkDir(dir, func(p string, _ os.DirEntry, _ error) error {
		if strings.Contains(filepath.Base(p), ".tmp-") {
			temps = append(temps, p)
		}
		return nil
	})
	if len(temps) > 0 {
		t.Errorf("temporary files left: %v", temps)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]int{"v1.25": 25, "1.30": 30, "v1.24.17": 24, "v1.24.17-eks-1": 24} {
		v, err := ParseVersion(in)
		if err != nil || v.Minor != want {
			t.Errorf("%q: %v, %v", in, v, err)
		}
	}
	for _, bad := range []string{"", "v2.1", "1", "v1.x", "v1.25.3.4"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !slices.Contains(Formats, FormatMarkdown) {
		t.Error("markdown is not a format")
	}
}

// TestIncompleteBlocks: a partial read can hide any workload, so it blocks.
func TestIncompleteBlocks(t *testing.T) {
	inv := load(t, "../../examples/cluster.yaml")
	inv.Incomplete = append(inv.Incomplete, inventory.Issue{Resource: "pods", Namespace: "web", Verb: "list", Message: "forbidden"})
	rep := evaluate(t, inv, translate.EnginePSA, Version{25}, nil)
	if c := check(rep, CheckIncomplete); c.Status != Block || c.Count != 1 || c.Items[0].Name != "pods" {
		t.Errorf("incomplete check %+v", c)
	}
	if rep.Verdict != NotReady || len(rep.Incomplete) != 1 {
		t.Errorf("verdict %s, incomplete %v", rep.Verdict, rep.Incomplete)
	}
}
