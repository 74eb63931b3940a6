package translate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/test/crdschema"
)

// Renderer fuzz targets: whatever a valid PodSecurityPolicy is, each
// engine's output is YAML that parses back into objects, built-in kinds
// decode strictly into their Go types, and custom resources pass the
// engine's CRD schema when its module is known (PSP_MIGRATE_KYVERNO_MODULE,
// PSP_MIGRATE_GATEKEEPER_MODULE, exported by hack/engines-env.sh; without
// them the schema check is skipped and says so once).

func FuzzRenderVAP(f *testing.F)        { fuzzRender(f, EngineVAP) }
func FuzzRenderKyverno(f *testing.F)    { fuzzRender(f, EngineKyverno) }
func FuzzRenderKyvernoCEL(f *testing.F) { fuzzRender(f, EngineKyvernoCEL) }
func FuzzRenderGatekeeper(f *testing.F) { fuzzRender(f, EngineGatekeeper) }
func FuzzRenderKubewarden(f *testing.F) { fuzzRender(f, EngineKubewarden) }

// fuzzCRDDirs are where each engine module keeps its CRDs.
var fuzzCRDDirs = map[string]struct{ env, dir string }{
	EngineKyverno:    {"PSP_MIGRATE_KYVERNO_MODULE", "config/crds"},
	EngineKyvernoCEL: {"PSP_MIGRATE_KYVERNO_MODULE", "config/crds"},
	EngineGatekeeper: {"PSP_MIGRATE_GATEKEEPER_MODULE", "config/crd/bases"},
}

var fuzzCRDs = struct {
	sync.Mutex
	sets map[string]*crdschema.Set
	errs map[string]error
}{sets: map[string]*crdschema.Set{}, errs: map[string]error{}}

// fuzzCRDSet returns the engine's CRDs, or nil when its module is unknown.
func fuzzCRDSet(engine string) (*crdschema.Set, error) {
	d, ok := fuzzCRDDirs[engine]
	if !ok || os.Getenv(d.env) == "" {
		return nil, nil
	}
	dir := filepath.Join(os.Getenv(d.env), d.dir)
	fuzzCRDs.Lock()
	defer fuzzCRDs.Unlock()
	if s, ok := fuzzCRDs.sets[dir]; ok || fuzzCRDs.errs[dir] != nil {
		return s, fuzzCRDs.errs[dir]
	}
	s, err := crdschema.Load(dir)
	fuzzCRDs.sets[dir], fuzzCRDs.errs[dir] = s, err
	return s, err
}

func fuzzRender(f *testing.F, engine string) {
	r, err := RendererFor(engine)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range fuzzSeedPSPs() {
		b, _ := json.Marshal(p)
		f.Add(b, false, p.Spec.Privileged, p.Spec.HostNetwork, uint8(0), int64(0), int64(0), "", "", "", "")
		f.Add(b, true, false, false, uint8(1), int64(1000), int64(2000), "secret,hostPath,csi", "NET_ADMIN,-ALL", "/var/log,/data/", "net.core.somaxconn,!kernel.*")
	}
	set, err := fuzzCRDSet(engine)
	if err != nil {
		f.Fatalf("load %s CRDs: %v", engine, err)
	}
	if set == nil && fuzzCRDDirs[engine].env != "" {
		f.Logf("%s not set: the CRD schema check is skipped", fuzzCRDDirs[engine].env)
	}
	// Random bytes are rarely a valid PSP: the fields a renderer branches on
	// are also fuzzed directly, over the PSP the bytes decode to (or a
	// permissive one).
	f.Fuzz(func(t *testing.T, pspJSON []byte, rbacScope, privileged, hostNS bool, runAsRule uint8, minID, maxID int64, volumes, caps, hostPaths, sysctls string) {
		p := &psp.PodSecurityPolicy{}
		if json.Unmarshal(pspJSON, p) != nil {
			p = basePSP()
		}
		p.APIVersion, p.Kind = "policy/v1beta1", "PodSecurityPolicy"
		overrideFields(p, privileged, hostNS, runAsRule, minID, maxID, volumes, caps, hostPaths, sysctls)
		if len(psp.Validate(p)) > 0 {
			return
		}
		scope := ScopeCluster
		if rbacScope {
			scope = ScopeRBAC
		}
		opts := Options{Scope: scope, ToolVersion: "v0.0.0-fuzz", ExcludeNamespaces: DefaultExcludedNamespaces}
		ps, err := Compile(&inventory.Inventory{PodSecurityPolicies: []psp.PodSecurityPolicy{*p}}, opts)
		if err != nil {
			return // refusing a selection is an error, not a bad output
		}
		out, err := r.Render(Input{Set: ps, Options: ps.Options})
		if err != nil {
			return
		}
		ms, err := Marshal(out.Objects)
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
			checkBuiltin(t, m, u)
			if set != nil && set.Has(u.GroupVersionKind().GroupKind()) {
				if _, err := set.Validate(context.Background(), u); err != nil {
					t.Fatalf("%s fails the %s CRD schema: %v\nPSP: %s", m.FileName, engine, err, pspJSON)
				}
			}
		}
	})
}

// overrideFields sets the fields a renderer branches on from fuzzed
// primitives; an empty list string leaves the list alone.
func overrideFields(p *psp.PodSecurityPolicy, privileged, hostNS bool, runAsRule uint8, minID, maxID int64, volumes, caps, hostPaths, sysctls string) {
	s := &p.Spec
	s.Privileged = privileged
	s.HostNetwork, s.HostPID, s.HostIPC = hostNS, hostNS, !hostNS
	switch runAsRule % 4 {
	case 1:
		s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: minID, Max: maxID}}}
	case 2:
		s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
	case 3:
		s.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny}
	}
	split := func(v string) []string {
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	if vs := split(volumes); vs != nil {
		s.Volumes = nil
		for _, v := range vs {
			s.Volumes = append(s.Volumes, psp.FSType(v))
		}
	}
	if cs := split(caps); cs != nil {
		s.AllowedCapabilities, s.RequiredDropCapabilities = nil, nil
		for _, c := range cs {
			if d, ok := strings.CutPrefix(c, "-"); ok {
				s.RequiredDropCapabilities = append(s.RequiredDropCapabilities, corev1.Capability(d))
			} else {
				s.AllowedCapabilities = append(s.AllowedCapabilities, corev1.Capability(c))
			}
		}
	}
	if hs := split(hostPaths); hs != nil {
		s.AllowedHostPaths = nil
		for i, h := range hs {
			s.AllowedHostPaths = append(s.AllowedHostPaths, psp.AllowedHostPath{PathPrefix: h, ReadOnly: i%2 == 0})
		}
	}
	if ss := split(sysctls); ss != nil {
		s.AllowedUnsafeSysctls, s.ForbiddenSysctls = nil, nil
		for _, x := range ss {
			if f, ok := strings.CutPrefix(x, "!"); ok {
				s.ForbiddenSysctls = append(s.ForbiddenSysctls, f)
			} else {
				s.AllowedUnsafeSysctls = append(s.AllowedUnsafeSysctls, x)
			}
		}
	}
}

// checkBuiltin decodes built-in kinds strictly into their Go types.
func checkBuiltin(t *testing.T, m Manifest, u *unstructured.Unstructured) {
	t.Helper()
	var into any
	switch u.GroupVersionKind().GroupKind().String() {
	case "ValidatingAdmissionPolicy.admissionregistration.k8s.io":
		into = &admissionregistrationv1.ValidatingAdmissionPolicy{}
	case "ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io":
		into = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	default:
		return
	}
	j, err := yaml.YAMLToJSON(m.YAML)
	if err != nil {
		t.Fatal(err)
	}
	strict, err := sigsjson.UnmarshalStrict(j, into)
	if err != nil || len(strict) > 0 {
		t.Fatalf("%s does not decode as %s: %v %v", m.FileName, u.GetKind(), err, strict)
	}
}

// fuzzSeedPSPs are the shapes a conversion meets: everything allowed, the
// restricted profile, and one with every list and range filled in.
func fuzzSeedPSPs() []*psp.PodSecurityPolicy {
	restricted := basePSP()
	mustRunAsUser(restricted)
	seLinux(restricted)
	groups("MustRunAs")(restricted)
	restricted.Spec.Privileged, restricted.Spec.HostNetwork, restricted.Spec.HostPID, restricted.Spec.HostIPC = false, false, false, false
	restricted.Spec.AllowedCapabilities = nil
	restricted.Spec.HostPorts = nil
	restricted.Spec.Volumes = []psp.FSType{psp.Secret, psp.ConfigMap, psp.HostPath}
	restricted.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/a", ReadOnly: true}}
	restricted.Spec.ForbiddenSysctls = []string{"kernel.*"}
	restricted.Spec.AllowedUnsafeSysctls = []string{"net.*"}
	restricted.Annotations[psp.AppArmorAllowedProfilesAnnotation] = "runtime/default"
	return []*psp.PodSecurityPolicy{basePSP(), restricted}
}
