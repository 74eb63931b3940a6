package translate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func loadInput(t testing.TB) *inventory.Inventory {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data, "input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// checkGolden compares YAML streams semantically (document by document, as
// decoded maps) and rewrites the golden file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	g, w := decodeDocs(t, got), decodeDocs(t, want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func decodeDocs(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			break
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

func render(t *testing.T, engine string, in Input) (Output, []byte) {
	t.Helper()
	r, err := RendererFor(engine)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Marshal(out.Objects)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteStream(&buf, ms); err != nil {
		t.Fatal(err)
	}
	return out, buf.Bytes()
}

func TestRenderVAP(t *testing.T) {
	inv := loadInput(t)
	tests := []struct {
		name   string
		opts   Options
		golden string
	}{
		{"rbac scope, enforce, default exclusions", Options{Scope: ScopeRBAC, ToolVersion: "1.2.3"}, "vap-rbac.yaml"},
		{"cluster scope, warn, no exclusions", Options{Scope: ScopeCluster, Mode: ModeWarn, ExcludeNamespaces: []string{}, ToolVersion: "1.2.3"}, "vap-cluster-warn.yaml"},
		{"one PSP, audit", Options{Scope: ScopeCluster, Mode: ModeAudit, PSPs: []string{"agents.host"}, ToolVersion: "1.2.3+dirty"}, "vap-one-psp-audit.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, data := render(t, EngineVAP, Input{Set: set, Options: set.Options})
			checkGolden(t, tt.golden, data)

			// Every object decodes strictly into the API types: an unknown
			// or misspelt field would be silently dropped by the server.
			ms, _ := Marshal(out.Objects)
			for _, m := range ms {
				var obj any = &admissionregistrationv1.ValidatingAdmissionPolicy{}
				if strings.Contains(m.FileName, "binding") {
					obj = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
				}
				if err := yaml.UnmarshalStrict(m.YAML, obj); err != nil {
					t.Errorf("%s: strict decode: %v", m.FileName, err)
				}
				if !strings.HasPrefix(m.FileName, "vap-") {
					t.Errorf("file name %s does not start with the engine", m.FileName)
				}
			}
			for _, o := range out.Objects {
				u, err := toUnstructured(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				if u.GetLabels()[LabelManagedBy] != ManagedByValue || u.GetAnnotations()[AnnotationSourcePSPs] == "" ||
					u.GetAnnotations()[AnnotationToolVersion] != tt.opts.ToolVersion {
					t.Errorf("%s lacks provenance: labels %v annotations %v", o.FileName, u.GetLabels(), u.GetAnnotations())
				}
			}
		})
	}
}

func TestRenderPSA(t *testing.T) {
	plans := []NamespacePlan{
		{Name: "apps", Found: true, PSPs: []string{"restricted"},
			Labels: map[string]string{
				"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.30",
				"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.30",
				"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.30",
			},
			Conflicts: map[string]string{"pod-security.kubernetes.io/enforce": "pod-security.kubernetes.io/enforce: privileged, recommended baseline (looser)"}},
		{Name: "monitoring", Found: false, Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/enforce-version": "v1.30"}},
		{Name: "kube-system", Found: true, Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}},
	}
	tests := []struct {
		name       string
		opts       Options
		golden     string
		namespaces []string
		warnings   int
	}{
		{"conflicts are not overwritten", Options{ToolVersion: "1.2.3"}, "psa-enforce.yaml", []string{"monitoring"}, 2},
		{"--force overwrites", Options{ToolVersion: "1.2.3", Force: true}, "psa-enforce-force.yaml", []string{"apps", "monitoring"}, 2},
		{"audit mode writes audit labels only", Options{ToolVersion: "1.2.3", Mode: ModeAudit, ExcludeNamespaces: []string{}}, "psa-audit.yaml", []string{"apps"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, data := render(t, EnginePSA, Input{Namespaces: plans, Options: tt.opts})
			checkGolden(t, tt.golden, data)
			var names []string
			for _, o := range out.Objects {
				ns := o.Object.(*corev1.Namespace)
				names = append(names, ns.Name)
				if ns.Annotations[AnnotationToolVersion] == "" {
					t.Errorf("namespace %s lacks the tool version", ns.Name)
				}
			}
			if !slices.Equal(names, tt.namespaces) {
				t.Errorf("namespaces = %v, want %v", names, tt.namespaces)
			}
			if len(out.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", out.Warnings, tt.warnings)
			}
		})
	}
}

func TestRendererFor(t *testing.T) {
	for _, tc := range []struct{ engine, errPart string }{
		{"vap", ""}, {"psa", ""}, {"kyverno", ""}, {"nope", "unknown engine"},
	} {
		_, err := RendererFor(tc.engine)
		if tc.errPart == "" && err != nil || tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)) {
			t.Errorf("RendererFor(%q) = %v, want error containing %q", tc.engine, err, tc.errPart)
		}
	}
}

func TestCompile(t *testing.T) {
	inv := loadInput(t)
	t.Run("unknown PSP", func(t *testing.T) {
		if _, err := Compile(inv, Options{PSPs: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad scope and mode", func(t *testing.T) {
		if _, err := Compile(inv, Options{Scope: "x"}); err == nil {
			t.Error("scope x accepted")
		}
		if _, err := Compile(inv, Options{Mode: "x"}); err == nil {
			t.Error("mode x accepted")
		}
	})
	t.Run("nothing to convert", func(t *testing.T) {
		if _, err := Compile(&inventory.Inventory{}, Options{}); err != ErrNoPSPs {
			t.Errorf("err = %v, want ErrNoPSPs", err)
		}
	})
	t.Run("usability follows RBAC", func(t *testing.T) {
		set, err := Compile(inv, Options{Scope: ScopeRBAC})
		if err != nil {
			t.Fatal(err)
		}
		want := rbac.UseTable{
			"restricted": {Everywhere: true, Requesters: []rbac.RequesterGrant{{Kind: "Group", Name: "system:serviceaccounts"}}},
			// node-exporter may also use it for the pods it creates; the
			// renderers do not convert that (see requesterGrants).
			"agents.host": {ServiceAccounts: []string{"monitoring/node-exporter"},
				Requesters: []rbac.RequesterGrant{{Kind: "User", Name: "system:serviceaccount:monitoring:node-exporter", Namespaces: []string{"monitoring"}}}},
		}
		for name, u := range set.Usability {
			if w := want[name]; w == nil || !reflect.DeepEqual(*u, *w) {
				t.Errorf("usability of %s = %+v, want %+v", name, *u, w)
			}
		}
	})
}

// TestUsabilityAgreesWithIndex checks the rendered table against the RBAC
// index for every candidate and some identities nobody mentioned.
func TestUsabilityAgreesWithIndex(t *testing.T) {
	inv := loadInput(t)
	ix := rbac.NewIndex(inv.ClusterRoles, inv.ClusterRoleBindings, inv.Roles, inv.RoleBindings)
	table := inv.UseTable(ix, []string{"restricted", "agents.host"})
	accounts := []string{"elsewhere/someone", "monitoring/other", "monitoring/node-exporter"}
	for i := range inv.ServiceAccounts {
		accounts = append(accounts, inv.ServiceAccounts[i].Namespace+"/"+inv.ServiceAccounts[i].Name)
	}
	for _, a := range accounts {
		ns, sa, _ := strings.Cut(a, "/")
		for name, u := range table {
			// Grants to system:authenticated are part of the pod side.
			want := ix.CanUse(rbac.PodServiceAccountUser(ns, sa), ns, name) || ix.CanUse(*rbac.Unknown(), ns, name)
			if got := u.PodServiceAccount(ns, sa); got != want {
				t.Errorf("%s may use %s: table %t, index %t", a, name, got, want)
			}
		}
	}
}
