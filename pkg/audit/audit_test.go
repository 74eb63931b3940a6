package audit

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

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
	return inv
}

// TestGolden compares whole reports with testdata/*-want.json semantically
// (as decoded JSON), so formatting changes do not churn the files.
func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  Options
	}{
		{name: "mixed", input: "mixed-input.yaml", opts: Options{PSSVersion: "v1.24", ToolVersion: "test"}},
		{name: "mixed-latest", input: "mixed-input.yaml", opts: Options{PSSVersion: "latest", ToolVersion: "test"}},
		{name: "mixed-namespace", input: "mixed-input.yaml", opts: Options{PSSVersion: "v1.24", ToolVersion: "test", Namespace: "data"}},
		// The bundled example is what README's first command shows: its
		// report is pinned too, PSP admission model included.
		{name: "example", input: "../../../examples/cluster.yaml", opts: Options{PSSVersion: "v1.24", ToolVersion: "test"}},
		{name: "example-engine-vap", input: "../../../examples/cluster.yaml", opts: Options{PSSVersion: "v1.24", ToolVersion: "test", Engines: []string{"vap"}}},
		{name: "example-controller-manager", input: "../../../examples/cluster.yaml", opts: Options{PSSVersion: "v1.24", ToolVersion: "test", ControllerIdentity: "controller-manager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := load(t, filepath.Join("testdata", tt.input))
			inv.Sources = []string{filepath.Base(tt.input)}
			rep, err := Run(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+"-want.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			var g, w interface{}
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("report differs from %s (run go test ./pkg/audit -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

func TestGrouping(t *testing.T) {
	inv := load(t, filepath.Join("testdata", "mixed-input.yaml"))
	rep, err := Run(inv, Options{PSSVersion: "v1.24"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]report.Workload{}
	for _, w := range rep.Workloads {
		byName[w.Namespace+"/"+w.Kind+"/"+w.Name] = w
	}
	tests := []struct {
		key           string
		pods          int
		level         string
		templateFound bool
		hasTemplate   bool
	}{
		{"web/Deployment/frontend", 2, pss.Privileged, true, true},
		{"web/ReplicaSet/api-7c9b", 1, pss.Restricted, false, false},
		{"data/CronJob/backup", 1, pss.Restricted, true, true},
		{"data/StatefulSet/db", 1, pss.Privileged, true, true},
		{"kube-system/DaemonSet/node-agent", 0, pss.Privileged, true, true},
		{"kube-system/Pod/kube-apiserver-node1", 1, pss.Privileged, true, false},
		{"tools/Pod/debug", 1, pss.Baseline, true, false},
	}
	if len(rep.Workloads) != len(tests) {
		t.Errorf("got %d workloads, want %d: %v", len(rep.Workloads), len(tests), byName)
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			w, ok := byName[tt.key]
			if !ok {
				t.Fatalf("workload missing")
			}
			if w.Pods != tt.pods || w.PSS.Level != tt.level || w.TemplateFound != tt.templateFound || (w.TemplatePSS != nil) != tt.hasTemplate {
				t.Errorf("got pods=%d level=%s templateFound=%v template=%v", w.Pods, w.PSS.Level, w.TemplateFound, w.TemplatePSS != nil)
			}
			if strings.HasPrefix(tt.key, "kube-system/") != w.System {
				t.Errorf("system = %v", w.System)
			}
		})
	}
	for _, p := range rep.Pods {
		if p.Name == "kube-apiserver-node1" && !p.Static {
			t.Errorf("mirror pod not flagged static")
		}
		if p.Name == "frontend-5d8f-abcde" && (p.Owner == nil || p.Owner.Kind != "ReplicaSet" || p.Workload.Kind != "Deployment") {
			t.Errorf("owner/workload of %s = %v / %v", p.Name, p.Owner, p.Workload)
		}
	}
}

func TestNamespaces(t *testing.T) {
	inv := load(t, filepath.Join("testdata", "mixed-input.yaml"))
	rep, err := Run(inv, Options{PSSVersion: "v1.24"})
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string]report.Namespace{}
	for _, n := range rep.Namespaces {
		ns[n.Name] = n
	}
	if n := ns["web"]; n.RecommendedLevel != pss.Privileged || len(n.Conflicts) == 0 || n.Conflicts[0].Key != LabelEnforce {
		t.Errorf("web: %+v", n)
	}
	if n := ns["tools"]; n.Found || n.RecommendedLevel != pss.Baseline {
		t.Errorf("tools: %+v", n)
	}
	if n := ns["kube-system"]; !n.System {
		t.Errorf("kube-system not flagged system")
	}
	if n := ns["data"]; n.Labels[LabelEnforce] != pss.Privileged || n.Labels[LabelEnforceVersion] != "v1.24" || n.Labels[LabelWarn] != pss.Restricted {
		t.Errorf("data labels: %v", n.Labels)
	}
}

func TestBadVersion(t *testing.T) {
	if _, err := Run(&inventory.Inventory{}, Options{PSSVersion: "1.24"}); err == nil {
		t.Fatal("want error for version without v")
	}
}

func TestEmptyInventory(t *testing.T) {
	rep, err := Run(&inventory.Inventory{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	// Empty lists, not null: CI scripts iterate them.
	for _, k := range []string{`"pods":[]`, `"workloads":[]`, `"namespaces":[]`, `"incomplete":[]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("report JSON lacks %s: %s", k, b)
		}
	}
}

func TestPSPIntegration(t *testing.T) {
	inv := load(t, filepath.Join("..", "..", "examples", "cluster.yaml"))
	rep, err := Run(inv, Options{PSSVersion: "v1.24"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.PSPs) == 0 || len(rep.DangerousGrants) == 0 {
		t.Fatalf("psps=%d dangerousGrants=%d", len(rep.PSPs), len(rep.DangerousGrants))
	}
	var relies []string
	for _, w := range rep.Workloads {
		if w.ReliesOnMutation {
			relies = append(relies, w.Namespace+"/"+w.Kind+"/"+w.Name)
			if len(w.FieldsToSet) == 0 {
				t.Errorf("%s relies on mutation but names no field to set", w.Name)
			}
		}
	}
	if len(relies) == 0 {
		t.Errorf("the example must show a workload relying on PSP mutation")
	}
	for _, p := range rep.Pods {
		if p.PSP == nil {
			t.Fatalf("pod %s/%s has no PSP verdict though PSPs are in play", p.Namespace, p.Name)
		}
		if p.Static && p.PSP.AdmittedBy == nil {
			t.Errorf("static pod %s: the kubelet's node identity must be used as requester", p.Name)
		}
	}

	// Without PSPs and without the PSP API, no PSP verdict at all.
	inv2 := load(t, filepath.Join("testdata", "mixed-input.yaml"))
	rep2, err := Run(inv2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep2.Pods {
		if p.PSP != nil {
			t.Fatalf("pod %s has a PSP verdict though no PSP is in play", p.Name)
		}
	}
}

// TestUnstoredPods: pods and templates from files (no metadata.uid) are
// evaluated as the API server of each release would see them on create;
// a stored pod as it is. The levels are those real servers gave (see
// test/e2e/pss_unstored_test.go).
func TestUnstoredPods(t *testing.T) {
	inv := load(t, filepath.Join("testdata", "unstored-input.yaml"))
	pssLevels := map[string]map[string]string{ // version -> pod -> level
		"v1.24": {
			"seccomp-annotation":            pss.Restricted, // the annotation becomes the field
			"seccomp-unconfined":            pss.Privileged,
			"procmount-unmasked":            pss.Baseline, // ProcMountType off: dropped
			"Deployment/seccomp-annotation": pss.Restricted,
		},
		"v1.30": {
			"seccomp-annotation":            pss.Baseline, // annotations non-functional since v1.27
			"seccomp-unconfined":            pss.Baseline,
			"procmount-unmasked":            pss.Baseline,
			"Deployment/seccomp-annotation": pss.Baseline,
		},
		"latest": {
			"seccomp-annotation":            pss.Baseline,
			"seccomp-unconfined":            pss.Baseline,
			"procmount-unmasked":            pss.Privileged, // ProcMountType on from v1.33
			"Deployment/seccomp-annotation": pss.Baseline,
		},
	}
	for version, want := range pssLevels {
		t.Run("pss "+version, func(t *testing.T) {
			rep, err := Run(inv, Options{PSSVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range rep.Pods {
				got[p.Name] = p.PSS.Level
			}
			for _, w := range rep.Workloads {
				if w.Kind == "Deployment" && w.TemplatePSS != nil {
					got["Deployment/"+w.Name] = w.TemplatePSS.Level
				}
			}
			for name, level := range want {
				if got[name] != level {
					t.Errorf("%s: level %q, want %q", name, got[name], level)
				}
			}
		})
	}
	t.Run("psp: the token volume of a pod not yet created", func(t *testing.T) {
		rep, err := Run(inv, Options{PSSVersion: "v1.24"})
		if err != nil {
			t.Fatal(err)
		}
		admitted := map[string]bool{}
		for _, p := range rep.Pods {
			admitted[p.Name] = p.PSP != nil && p.PSP.AdmittedBy != nil
		}
		if admitted["file-plain"] {
			t.Errorf("file-plain admitted, want rejected: its token volume is projected")
		}
		if !admitted["stored-plain"] {
			t.Errorf("stored-plain rejected, want admitted: a stored pod is evaluated as stored")
		}
		if admitted["procmount-unmasked"] {
			t.Errorf("procmount-unmasked admitted, want rejected: PSP sees procMount before the registry drops it")
		}
	})
}
