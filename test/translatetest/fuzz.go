package translatetest

import (
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

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/test/crdschema"
)

// CRDDirs are where each engine's module keeps its CRDs: the variable
// naming the module's directory (exported by hack/engines-env.sh) and the
// folder under it.
var CRDDirs = map[string]struct{ Env, Dir string }{
	"kyverno":     {"PSP_MIGRATE_KYVERNO_MODULE", "config/crds"},
	"kyverno-cel": {"PSP_MIGRATE_KYVERNO_MODULE", "config/crds"},
	"gatekeeper":  {"PSP_MIGRATE_GATEKEEPER_MODULE", "config/crd/bases"},
}

var fuzzCRDs = struct {
	sync.Mutex
	sets map[string]*crdschema.Set
	errs map[string]error
}{sets: map[string]*crdschema.Set{}, errs: map[string]error{}}

// CRDSet returns the CRDs of engine, or nil when its module is unknown
// (its variable is not set). Sets are loaded once per test binary.
func CRDSet(engine string) (*crdschema.Set, error) {
	d, ok := CRDDirs[engine]
	if !ok || os.Getenv(d.Env) == "" {
		return nil, nil
	}
	dir := filepath.Join(os.Getenv(d.Env), d.Dir)
	fuzzCRDs.Lock()
	defer fuzzCRDs.Unlock()
	if s, ok := fuzzCRDs.sets[dir]; ok || fuzzCRDs.errs[dir] != nil {
		return s, fuzzCRDs.errs[dir]
	}
	s, err := crdschema.Load(dir)
	fuzzCRDs.sets[dir], fuzzCRDs.errs[dir] = s, err
	return s, err
}

// OverrideFields sets the fields a renderer branches on from fuzzed
// primitives; an empty list string leaves the list alone.
func OverrideFields(p *psp.PodSecurityPolicy, privileged, hostNS bool, runAsRule uint8, minID, maxID int64, volumes, caps, hostPaths, sysctls string) {
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

// CheckBuiltin decodes a manifest (fileName, data) of a built-in kind
// strictly into its Go type; other kinds pass.
func CheckBuiltin(t *testing.T, fileName string, data []byte, u *unstructured.Unstructured) {
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
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	strict, err := sigsjson.UnmarshalStrict(j, into)
	if err != nil || len(strict) > 0 {
		t.Fatalf("%s does not decode as %s: %v %v", fileName, u.GetKind(), err, strict)
	}
}

// FuzzSeedPSPs are the shapes a conversion meets: everything allowed, the
// restricted profile, and one with every list and range filled in.
func FuzzSeedPSPs() []*psp.PodSecurityPolicy {
	restricted := BasePSP()
	MustRunAsUser(restricted)
	SELinux(restricted)
	Groups("MustRunAs")(restricted)
	restricted.Spec.Privileged, restricted.Spec.HostNetwork, restricted.Spec.HostPID, restricted.Spec.HostIPC = false, false, false, false
	restricted.Spec.AllowedCapabilities = nil
	restricted.Spec.HostPorts = nil
	restricted.Spec.Volumes = []psp.FSType{psp.Secret, psp.ConfigMap, psp.HostPath}
	restricted.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/a", ReadOnly: true}}
	restricted.Spec.ForbiddenSysctls = []string{"kernel.*"}
	restricted.Spec.AllowedUnsafeSysctls = []string{"net.*"}
	restricted.Annotations[psp.AppArmorAllowedProfilesAnnotation] = "runtime/default"
	return []*psp.PodSecurityPolicy{BasePSP(), restricted}
}
