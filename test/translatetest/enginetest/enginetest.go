// Package enginetest holds the test helpers of the engine packages under
// pkg/translate that need the core: rendering to YAML and the renderers'
// fuzz target.
package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
)

// Render renders in with e and serialises the objects as `convert` writes
// them to standard output; it fails the test on any error.
func Render(t *testing.T, e translate.Engine, in translate.Input) (translate.Output, []byte) {
	t.Helper()
	out, err := e.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := translate.Marshal(out.Objects)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := translate.WriteStream(&buf, ms); err != nil {
		t.Fatal(err)
	}
	return out, buf.Bytes()
}

// FuzzRender is the fuzz target of an engine's renderer: whatever a valid
// PodSecurityPolicy is, the engine's output is YAML that parses back into
// objects, built-in kinds decode strictly into their Go types, and custom
// resources pass the engine's CRD schema when its module is known
// (translatetest.CRDDirs; without it the schema check is skipped and says
// so once).
func FuzzRender(f *testing.F, r translate.Engine) {
	engine := r.Name()
	for _, p := range translatetest.FuzzSeedPSPs() {
		b, _ := json.Marshal(p)
		f.Add(b, false, p.Spec.Privileged, p.Spec.HostNetwork, uint8(0), int64(0), int64(0), "", "", "", "")
		f.Add(b, true, false, false, uint8(1), int64(1000), int64(2000), "secret,hostPath,csi", "NET_ADMIN,-ALL", "/var/log,/data/", "net.core.somaxconn,!kernel.*")
	}
	set, err := translatetest.CRDSet(engine)
	if err != nil {
		f.Fatalf("load %s CRDs: %v", engine, err)
	}
	if set == nil && translatetest.CRDDirs[engine].Env != "" {
		f.Logf("%s not set: the CRD schema check is skipped", translatetest.CRDDirs[engine].Env)
	}
	// Random bytes are rarely a valid PSP: the fields a renderer branches on
	// are also fuzzed directly, over the PSP the bytes decode to (or a
	// permissive one).
	f.Fuzz(func(t *testing.T, pspJSON []byte, rbacScope, privileged, hostNS bool, runAsRule uint8, minID, maxID int64, volumes, caps, hostPaths, sysctls string) {
		p := &psp.PodSecurityPolicy{}
		if json.Unmarshal(pspJSON, p) != nil {
			p = translatetest.BasePSP()
		}
		p.APIVersion, p.Kind = "policy/v1beta1", "PodSecurityPolicy"
		translatetest.OverrideFields(p, privileged, hostNS, runAsRule, minID, maxID, volumes, caps, hostPaths, sysctls)
		if len(psp.Validate(p)) > 0 {
			return
		}
		scope := translate.ScopeCluster
		if rbacScope {
			scope = translate.ScopeRBAC
		}
		opts := translate.Options{Scope: scope, ToolVersion: "v0.0.0-fuzz", ExcludeNamespaces: translate.DefaultExcludedNamespaces}
		ps, err := translate.Compile(&inventory.Inventory{PodSecurityPolicies: []psp.PodSecurityPolicy{*p}}, opts)
		if err != nil {
			return // refusing a selection is an error, not a bad output
		}
		out, err := r.Render(translate.Input{Set: ps, Options: ps.Options})
		if err != nil {
			return
		}
		ms, err := translate.Marshal(out.Objects)
		if err != nil {
			// YAML cannot carry some control characters (DEL, C1) that a
			// PSP's strings may hold: convert then fails naming the file,
			// and writes nothing. Any other failure is a bug.
			if strings.Contains(err.Error(), "control characters are not allowed") {
				return
			}
			t.Fatalf("marshal: %v", err)
		}
		for _, m := range ms {
			u := &unstructured.Unstructured{}
			if err := yaml.UnmarshalStrict(m.YAML, &u.Object); err != nil {
				t.Fatalf("%s does not parse back: %v\n%s", m.FileName, err, m.YAML)
			}
			if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
				t.Fatalf("%s: apiVersion, kind or name missing\n%s", m.FileName, m.YAML)
			}
			translatetest.CheckBuiltin(t, m.FileName, m.YAML, u)
			if set != nil && set.Has(u.GroupVersionKind().GroupKind()) {
				if _, err := set.Validate(context.Background(), u); err != nil {
					t.Fatalf("%s fails the %s CRD schema: %v\nPSP: %s", m.FileName, engine, err, pspJSON)
				}
			}
		}
	})
}
