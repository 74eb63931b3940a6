package kyverno

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	gojmespath "github.com/kyverno/go-jmespath"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
)

// These tests evaluate the JMESPath rendering with the JMESPath library
// Kyverno uses (its go-jmespath fork, with the same NotFoundError
// behaviour), plus stand-ins for the five Kyverno functions the rendering
// calls, written after their documented behaviour. They hold every rule to
// its Go evaluator on many pods without the Kyverno CLI; the end-to-end
// test (test/e2e, engine kyverno) runs the real CLI on the corpus.

// functions are stand-ins for regex_match, replace, replace_all,
// split and items.
func functions() *gojmespath.FunctionCaller {
	fc := gojmespath.NewFunctionCaller()
	str := []gojmespath.JpType{gojmespath.JpString}
	fc.Register(gojmespath.FunctionEntry{Name: "regex_match",
		Arguments: []gojmespath.ArgSpec{{Types: str}, {Types: []gojmespath.JpType{gojmespath.JpString, gojmespath.JpNumber}}},
		Handler: func(a []any) (any, error) {
			s, ok := a[1].(string)
			if !ok {
				s = fmt.Sprint(a[1])
			}
			return regexp.MatchString(a[0].(string), s)
		}})
	fc.Register(gojmespath.FunctionEntry{Name: "replace",
		Arguments: []gojmespath.ArgSpec{{Types: str}, {Types: str}, {Types: str}, {Types: []gojmespath.JpType{gojmespath.JpNumber}}},
		Handler: func(a []any) (any, error) {
			return strings.Replace(a[0].(string), a[1].(string), a[2].(string), int(a[3].(float64))), nil
		}})
	fc.Register(gojmespath.FunctionEntry{Name: "replace_all",
		Arguments: []gojmespath.ArgSpec{{Types: str}, {Types: str}, {Types: str}},
		Handler: func(a []any) (any, error) {
			return strings.ReplaceAll(a[0].(string), a[1].(string), a[2].(string)), nil
		}})
	fc.Register(gojmespath.FunctionEntry{Name: "split",
		Arguments: []gojmespath.ArgSpec{{Types: str}, {Types: str}},
		Handler: func(a []any) (any, error) {
			var out []any
			for _, s := range strings.Split(a[0].(string), a[1].(string)) {
				out = append(out, s)
			}
			return out, nil
		}})
	fc.Register(gojmespath.FunctionEntry{Name: "items",
		Arguments: []gojmespath.ArgSpec{{Types: []gojmespath.JpType{gojmespath.JpObject}}, {Types: str}, {Types: str}},
		Handler: func(a []any) (any, error) {
			m, ok := a[0].(map[string]any)
			if !ok {
				return nil, errors.New("items: not an object")
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			// Kyverno returns a typed slice of maps; so does this.
			out := make([]map[string]any, 0, len(keys))
			for _, k := range keys {
				out = append(out, map[string]any{a[1].(string): k, a[2].(string): m[k]})
			}
			return out, nil
		}})
	return fc
}

// evalContext is Kyverno's context for a pod admission: request.object as
// JSON (numbers float64, as from the webhook) or as an unstructured object
// (numbers int64, as from a resource file).
func evalContext(t testing.TB, pod *corev1.Pod, unstructuredNumbers bool) map[string]any {
	t.Helper()
	var obj map[string]any
	if unstructuredNumbers {
		var err error
		if obj, err = runtime.DefaultUnstructuredConverter.ToUnstructured(pod); err != nil {
			t.Fatal(err)
		}
	} else {
		b, err := json.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]any{"request": map[string]any{"object": obj, "namespace": pod.Namespace, "operation": "CREATE"}}
}

type evaluator struct {
	fc    *gojmespath.FunctionCaller
	cache map[string]*gojmespath.JMESPath
}

func newJPEvaluator() *evaluator {
	return &evaluator{fc: functions(), cache: map[string]*gojmespath.JMESPath{}}
}

// truthy evaluates expr and reports JMESPath truthiness; an error (Kyverno
// would report the rule as errored) fails the test.
func (e *evaluator) eval(t testing.TB, expr string, ctx map[string]any) any {
	t.Helper()
	c, ok := e.cache[expr]
	if !ok {
		var err error
		if c, err = gojmespath.Compile(expr); err != nil {
			t.Fatalf("compile: %v\n%s", err, expr)
		}
		e.cache[expr] = c
	}
	v, err := c.Search(ctx, gojmespath.WithFunctionCaller(e.fc))
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, expr)
	}
	return v
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map {
		return rv.Len() > 0
	}
	return true
}

// pspVariants tighten a permissive PSP so that together they produce every
// rule type, with the variants each rendering distinguishes.
func pspVariants() map[string]func(*psp.PodSecurityPolicy) {
	return map[string]func(*psp.PodSecurityPolicy){
		"privileged": func(p *psp.PodSecurityPolicy) { p.Spec.Privileged = false },
		"host namespaces": func(p *psp.PodSecurityPolicy) {
			p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = false, false, false
		},
		"host ports": func(p *psp.PodSecurityPolicy) {
			p.Spec.HostPorts = []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 8080}}
		},
		"no host ports": func(p *psp.PodSecurityPolicy) { p.Spec.HostPorts = nil },
		"volumes with secret": func(p *psp.PodSecurityPolicy) {
			p.Spec.Volumes = []psp.FSType{psp.Secret, psp.ConfigMap, psp.HostPath, psp.FlexVolume, psp.CSI}
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}, {PathPrefix: "/var/log/app"}, {PathPrefix: "/data/"}}
			p.Spec.AllowedFlexVolumes = []psp.AllowedFlexVolume{{Driver: "x/lvm"}}
			p.Spec.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "csi.example.com"}}
		},
		"no volumes":        func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = nil },
		"volumes projected": func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.Projected, psp.EmptyDir} },
		"root path read-only": func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/", ReadOnly: true}}
		},
		"must run as": translatetest.MustRunAsUser,
		"non-root":    translatetest.NonRoot,
		"groups must": translatetest.Groups("MustRunAs"),
		"groups may":  translatetest.Groups("MayRunAs"),
		"selinux":     translatetest.SELinux,
		"selinux plain level": func(p *psp.PodSecurityPolicy) {
			p.Spec.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{User: "u", Role: "r", Level: "s0"}}
		},
		"capabilities": func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedCapabilities = []corev1.Capability{"CHOWN"}
			p.Spec.DefaultAddCapabilities = []corev1.Capability{"NET_RAW"}
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"ALL", "SYS_ADMIN"}
		},
		"no capabilities": func(p *psp.PodSecurityPolicy) { p.Spec.AllowedCapabilities = nil },
		"read-only root":  func(p *psp.PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true },
		"no escalation":   func(p *psp.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = new(false) },
		"escalation set":  func(p *psp.PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = new(false) },
		"sysctls": func(p *psp.PodSecurityPolicy) {
			p.Spec.ForbiddenSysctls = []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_*"}
			p.Spec.AllowedUnsafeSysctls = []string{"kernel.msg*", "net.core.somaxconn"}
		},
		"only safe sysctls": func(p *psp.PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = nil },
		"proc mount":        func(p *psp.PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = nil },
		"runtime class required": func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"gvisor", "kata"}, DefaultRuntimeClassName: new("gvisor")}
		},
		"runtime class any but set": func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}, DefaultRuntimeClassName: new("runc")}
		},
		"runtime class list": func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"kata"}}
		},
		"seccomp none": func(p *psp.PodSecurityPolicy) { delete(p.Annotations, psp.SeccompAllowedProfilesAnnotation) },
		"seccomp list": translatetest.Seccomp("runtime/default,localhost/profiles/a.json"),
		"seccomp any, required": func(p *psp.PodSecurityPolicy) {
			p.Annotations[psp.SeccompDefaultProfileAnnotation] = "unconfined"
		},
		"seccomp default": func(p *psp.PodSecurityPolicy) {
			p.Annotations[psp.SeccompDefaultProfileAnnotation] = "runtime/default"
		},
		"apparmor list": translatetest.AppArmor("runtime/default,localhost/k8s-deny-write"),
		"apparmor default": func(p *psp.PodSecurityPolicy) {
			p.Annotations[psp.AppArmorDefaultProfileAnnotation] = "runtime/default"
		},
		"apparmor empty list": translatetest.AppArmor(""),
	}
}

// testPod builds a pseudo-random pod out of the values the rules tell apart.
func testPod(r *rand.Rand) *corev1.Pod {
	pick := func(n int) int { return r.IntN(n) }
	maybeInt := func(vals ...int64) *int64 {
		i := pick(len(vals) + 1)
		if i == len(vals) {
			return nil
		}
		return new(vals[i])
	}
	maybeBool := func() *bool {
		switch pick(3) {
		case 0:
			return new(true)
		case 1:
			return new(false)
		}
		return nil
	}
	seccompP := func() *corev1.SeccompProfile {
		switch pick(6) {
		case 0:
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
		case 1:
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		case 2:
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("profiles/a.json")}
		case 3:
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("other.json")}
		}
		return nil
	}
	appArmorP := func() *corev1.AppArmorProfile {
		switch pick(7) {
		case 0:
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
		case 1:
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		case 2:
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: new("k8s-deny-write")}
		case 3:
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost}
		}
		return nil
	}
	seLinuxO := func() *corev1.SELinuxOptions {
		switch pick(6) {
		case 0:
			return &corev1.SELinuxOptions{Type: "t", Level: "s0:c1,c2"}
		case 1:
			return &corev1.SELinuxOptions{Type: "t", Level: "s0:c2,c1"}
		case 2:
			return &corev1.SELinuxOptions{Type: "t", Level: "s0:c1"}
		case 3:
			return &corev1.SELinuxOptions{User: "u", Role: "r", Level: "s0"}
		case 4:
			return &corev1.SELinuxOptions{}
		}
		return nil
	}
	caps := []corev1.Capability{"CHOWN", "NET_RAW", "SYS_ADMIN", "ALL"}
	someCaps := func() []corev1.Capability {
		var out []corev1.Capability
		for _, c := range caps {
			if pick(3) == 0 {
				out = append(out, c)
			}
		}
		return out
	}
	container := func(name string) corev1.Container {
		c := corev1.Container{Name: name, Image: "img"}
		if pick(4) == 0 {
			return c
		}
		sc := &corev1.SecurityContext{
			Privileged: maybeBool(), RunAsUser: maybeInt(0, 7, 1000, 1500, 5000), RunAsNonRoot: maybeBool(),
			RunAsGroup: maybeInt(0, 10, 15, 150, 300), ReadOnlyRootFilesystem: maybeBool(), AllowPrivilegeEscalation: maybeBool(),
			SeccompProfile: seccompP(), AppArmorProfile: appArmorP(), SELinuxOptions: seLinuxO(),
		}
		if pick(2) == 0 {
			sc.Capabilities = &corev1.Capabilities{Add: someCaps(), Drop: someCaps()}
		}
		if pick(4) == 0 {
			sc.ProcMount = new([]corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}[pick(2)])
		}
		c.SecurityContext = sc
		for range pick(3) {
			c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: 1, HostPort: []int32{0, 80, 81, 8000, 8080, 9000}[pick(6)]})
		}
		return c
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: []string{"ns", "monitoring", "apps"}[pick(3)]},
		Spec: corev1.PodSpec{
			ServiceAccountName: []string{"default", "node-exporter", "x"}[pick(3)],
			Containers:         []corev1.Container{container("app")},
			HostNetwork:        pick(4) == 0, HostPID: pick(4) == 0, HostIPC: pick(4) == 0,
		},
	}
	if pick(2) == 0 {
		pod.Spec.Containers = append(pod.Spec.Containers, container("side"))
	}
	if pick(3) == 0 {
		pod.Spec.InitContainers = []corev1.Container{container("init")}
	}
	if pick(4) == 0 {
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(container("debug"))}}
	}
	if pick(4) != 0 {
		psc := &corev1.PodSecurityContext{
			RunAsUser: maybeInt(0, 7, 1000, 5000), RunAsNonRoot: maybeBool(), RunAsGroup: maybeInt(0, 10, 150, 300),
			FSGroup: maybeInt(0, 10, 700, 2000), SeccompProfile: seccompP(), AppArmorProfile: appArmorP(), SELinuxOptions: seLinuxO(),
		}
		for range pick(3) {
			psc.SupplementalGroups = append(psc.SupplementalGroups, []int64{0, 10, 15, 100, 500}[pick(5)])
		}
		for range pick(3) {
			psc.Sysctls = append(psc.Sysctls, corev1.Sysctl{Name: []string{
				"kernel.shm_rmid_forced", "kernel/shm_rmid_forced", "net.ipv4.ip_local_port_range", "net/ipv4/ip_local_port_range",
				"kernel.msgmax", "kernel/msgmax", "net.core.somaxconn", "net.core.rmem_max", "net/ipv4/conf/eth0.100/rp_filter",
				"net.ipv4.ping_group_range",
			}[pick(10)], Value: "1"})
		}
		pod.Spec.SecurityContext = psc
	}
	if pick(3) == 0 {
		pod.Spec.RuntimeClassName = new([]string{"gvisor", "kata", "runc"}[pick(3)])
	}
	// Annotations: AppArmor per container, some for absent containers.
	if pick(2) == 0 {
		pod.Annotations = map[string]string{"other": "x"}
		for _, n := range []string{"app", "side", "init", "debug", "gone", "app.x"} {
			if pick(3) == 0 {
				pod.Annotations[translate.AppArmorContainerAnnotationPrefix+n] = []string{"runtime/default", "unconfined", "localhost/k8s-deny-write", "", "localhost/other"}[pick(5)]
			}
		}
	}
	// Volumes, with mounts in random containers.
	volumes := []corev1.Volume{
		{Name: "log", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
		{Name: "applog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log/app/x"}}},
		{Name: "logs2", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/logs"}}},
		{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}},
		{Name: "etc", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
		{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}}}},
		{Name: "vault", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}}}}}},
		{Name: "flex", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: []string{"x/lvm", "x/nfs"}[pick(2)]}}},
		{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: []string{"csi.example.com", "other"}[pick(2)]}}},
		{Name: "img", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}},
		{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
	}
	for _, v := range volumes {
		if pick(4) != 0 {
			continue
		}
		pod.Spec.Volumes = append(pod.Spec.Volumes, v)
		for range pick(3) {
			m := corev1.VolumeMount{Name: v.Name, MountPath: "/m", ReadOnly: pick(2) == 0}
			switch pick(3) {
			case 0:
				pod.Spec.Containers[0].VolumeMounts = append(pod.Spec.Containers[0].VolumeMounts, m)
			case 1:
				if len(pod.Spec.InitContainers) > 0 {
					pod.Spec.InitContainers[0].VolumeMounts = append(pod.Spec.InitContainers[0].VolumeMounts, m)
				}
			case 2:
				pod.Spec.Containers[len(pod.Spec.Containers)-1].VolumeMounts = append(pod.Spec.Containers[len(pod.Spec.Containers)-1].VolumeMounts, m)
			}
		}
	}
	return pod
}

// TestKyvernoRulesAgreeWithGo: every rule's JMESPath fails exactly when
// its Go evaluator does, on pseudo-random pods, with numbers as the webhook
// and as a resource file present them.
func TestKyvernoRulesAgreeWithGo(t *testing.T) {
	const pods = 400
	e := newJPEvaluator()
	variants := pspVariants()
	names := make([]string, 0, len(variants))
	for n := range variants {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p := translatetest.BasePSP()
			variants[name](p)
			if errs := psp.Validate(p); len(errs) > 0 {
				t.Fatalf("invalid PSP: %v", errs)
			}
			pol := translate.CompilePolicy(p)
			if len(pol.Rules) == 0 {
				t.Fatal("variant makes no rule")
			}
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			fails := map[string][2]int{}
			for i := range pods {
				pod := testPod(r)
				ctxs := []map[string]any{evalContext(t, pod, false), evalContext(t, pod, true)}
				for _, rule := range pol.Rules {
					expr, ok := failure(rule)
					if !ok {
						t.Fatalf("rule %s has no rendering", rule.ID())
					}
					want := !rule.Allows(pod)
					for j, ctx := range ctxs {
						if got := truthy(e.eval(t, expr, ctx)); got != want {
							b, _ := json.Marshal(pod)
							t.Fatalf("pod %d, rule %s (int64 numbers: %t): JMESPath fails = %t, Go = %t\npod: %s\nexpr: %s", i, rule.ID(), j == 1, got, want, b, expr)
						}
					}
					c := fails[rule.ID()]
					if want {
						c[0]++
					} else {
						c[1]++
					}
					fails[rule.ID()] = c
					seen[fmt.Sprintf("%T", rule)] = true
				}
			}
			for id, c := range fails {
				if c[0] == 0 || c[1] == 0 {
					t.Logf("rule %s: %d failing, %d passing pods (one side untested)", id, c[0], c[1])
				}
			}
		})
	}
	for _, typ := range []translate.Rule{translate.ForbidPrivileged{}, translate.ForbidHostNamespace{}, translate.HostPorts{}, translate.VolumeTypes{}, translate.HostPathPrefixes{}, translate.HostPathReadOnly{},
		translate.FlexVolumeDrivers{}, translate.CSIDrivers{}, translate.RunAsUser{}, translate.GroupRule{}, translate.SELinux{}, translate.AllowedCapabilities{}, translate.RequiredDropCapabilities{},
		translate.ReadOnlyRootFilesystem{}, translate.ForbidPrivilegeEscalation{}, translate.PrivilegeEscalationSet{}, translate.ForbiddenSysctls{}, translate.UnsafeSysctls{},
		translate.ProcMountTypes{}, translate.RuntimeClassNames{}, translate.SeccompProfiles{}, translate.AppArmorProfiles{}} {
		if n := fmt.Sprintf("%T", typ); !seen[n] {
			t.Errorf("no variant produces %s", n)
		}
	}
}

// TestKyvernoDenyAgreesWithEvaluate: the whole condition denies exactly the
// pods PolicySet.Evaluate rejects, for both scopes, on the PSPs and RBAC of
// testdata/input.yaml plus variants.
func TestKyvernoDenyAgreesWithEvaluate(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	e := newJPEvaluator()
	for _, scope := range translate.Scopes {
		t.Run(string(scope), func(t *testing.T) {
			set, err := translate.Compile(inv, translate.Options{Scope: scope, ExcludeNamespaces: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			expr, _ := denyExpression(set)
			r := rand.New(rand.NewPCG(2, 3))
			denied := 0
			for i := range 600 {
				pod := testPod(r)
				want := !set.Evaluate(pod, nil).Allowed
				got := e.eval(t, expr, evalContext(t, pod, i%2 == 0))
				if b, ok := got.(bool); !ok || b != want {
					pb, _ := json.Marshal(pod)
					t.Fatalf("pod %d: deny = %v, Go denies = %t\npod: %s", i, got, want, pb)
				}
				if want {
					denied++
				}
			}
			if denied == 0 || denied == 600 {
				t.Errorf("%d of 600 pods denied: the test does not tell the sides apart", denied)
			}
		})
	}
	t.Run("no usable PSP", func(t *testing.T) {
		set := &translate.PolicySet{Options: translate.Options{Scope: translate.ScopeRBAC}, Policies: []translate.Policy{{Name: "a"}}, Usability: rbac.UseTable{"a": {}}}
		expr, _ := denyExpression(set)
		if got := e.eval(t, expr, evalContext(t, translatetest.BasePod(), false)); got != true {
			t.Errorf("deny = %v, want true", got)
		}
	})
}

// TestKyvernoEdgeCases are the cases the rendering splits by hand.
func TestKyvernoEdgeCases(t *testing.T) {
	e := newJPEvaluator()
	ro := translate.HostPathReadOnly{Prefixes: []psp.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}}}
	aa := translate.AppArmorProfiles{Allowed: []string{"runtime/default"}, Required: true}
	tests := []struct {
		name string
		rule translate.Rule
		pod  func(*corev1.Pod)
	}{
		{"read-only volume mounted writable by an init container", ro, translatetest.All(
			translatetest.WithVolume(translatetest.HostPathVolume("/var/log")),
			translatetest.WithInit(corev1.Container{Name: "i", VolumeMounts: []corev1.VolumeMount{{Name: "h", MountPath: "/x"}}}))},
		{"read-only volume, writable mount of another volume with a longer name", ro, translatetest.All(
			translatetest.WithVolume(translatetest.HostPathVolume("/var/log"), corev1.VolumeMount{Name: "h", MountPath: "/l", ReadOnly: true}),
			translatetest.WithVolume(corev1.Volume{Name: "hh", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, corev1.VolumeMount{Name: "hh", MountPath: "/m"}))},
		{"apparmor annotation of a container with the field is ignored", aa, translatetest.All(
			func(p *corev1.Pod) {
				p.Annotations = map[string]string{translate.AppArmorContainerAnnotationPrefix + "app": "unconfined"}
			},
			translatetest.SC(func(s *corev1.SecurityContext) {
				s.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
			}))},
		{"apparmor annotation of another container does not count", aa, func(p *corev1.Pod) {
			p.Annotations = map[string]string{translate.AppArmorContainerAnnotationPrefix + "ap": "runtime/default"}
		}},
		{"apparmor pod field with an annotated container", aa, translatetest.All(
			func(p *corev1.Pod) {
				p.Annotations = map[string]string{translate.AppArmorContainerAnnotationPrefix + "app": "runtime/default"}
			},
			translatetest.PodSC(func(s *corev1.PodSecurityContext) {
				s.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
			}),
			translatetest.WithEphemeral(corev1.Container{Name: "debug"}))},
		{"apparmor empty annotation", aa, func(p *corev1.Pod) {
			p.Annotations = map[string]string{translate.AppArmorContainerAnnotationPrefix + "app": ""}
		}},
		{"apparmor unknown type", aa, translatetest.SC(func(s *corev1.SecurityContext) { s.AppArmorProfile = &corev1.AppArmorProfile{Type: "Other"} })},
		{"sysctl pattern with a slash-first name", translate.ForbiddenSysctls{Patterns: []string{"net.ipv4.conf.eth0/100.*"}}, translatetest.Sysctl("net/ipv4/conf/eth0.100/rp_filter")},
		{"odd characters in literals", translate.FlexVolumeDrivers{Drivers: []string{"it's{{a}}$(b)`c\\d"}},
			translatetest.WithVolume(corev1.Volume{Name: "f", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "it's{{a}}$(b)`c\\d"}}})},
		{"selinux level with duplicated categories", translate.SELinux{Options: corev1.SELinuxOptions{Level: "s0:c1,c1"}},
			translatetest.PodSC(func(s *corev1.PodSecurityContext) { s.SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c1,c2"} })},
		{"selinux level with a colon in the categories", translate.SELinux{Options: corev1.SELinuxOptions{Level: "s0:c1:x,c2"}},
			translatetest.PodSC(func(s *corev1.PodSecurityContext) { s.SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c2,c1:x"} })},
		{"non-root: container false overrides pod true", translate.RunAsUser{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}, translatetest.All(
			translatetest.PodSC(func(s *corev1.PodSecurityContext) { s.RunAsNonRoot = new(true) }),
			translatetest.SC(func(s *corev1.SecurityContext) { s.RunAsNonRoot = new(false) }))},
		{"non-root: pod UID 0, container non-root", translate.RunAsUser{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}, translatetest.All(
			translatetest.PodSC(func(s *corev1.PodSecurityContext) { s.RunAsUser = new(int64(0)) }),
			translatetest.SC(func(s *corev1.SecurityContext) { s.RunAsNonRoot = new(true) }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := translatetest.BasePod()
			tt.pod(pod)
			expr, _ := failure(tt.rule)
			want := !tt.rule.Allows(pod)
			for _, ints := range []bool{false, true} {
				if got := truthy(e.eval(t, expr, evalContext(t, pod, ints))); got != want {
					t.Errorf("JMESPath fails = %t, Go = %t\n%s", got, want, expr)
				}
			}
		})
	}
}

// TestKyvernoPSPSemantics pins the cases where the rendering must follow
// pkg/psp's v1.24 semantics rather than the obvious reading: host path
// prefixes ending in "//" (one slash is trimmed, no more) and projected
// sources that set several fields (each is checked, not only the first).
// want is the failure both the JMESPath and the Go evaluator must give.
func TestKyvernoPSPSemantics(t *testing.T) {
	e := newJPEvaluator()
	prefixes := translate.HostPathPrefixes{Prefixes: []psp.AllowedHostPath{{PathPrefix: "/srv/share//"}}}
	readOnly := translate.HostPathReadOnly{Prefixes: []psp.AllowedHostPath{{PathPrefix: "/srv/share//", ReadOnly: true}}}
	volumes := translate.VolumeTypes{Allowed: []psp.FSType{psp.Secret}, AllowServiceAccountToken: true}
	token := &corev1.ServiceAccountTokenProjection{Path: "token"}
	rootCA := &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}
	namespace := &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}
	projected := func(sources ...corev1.VolumeProjection) func(*corev1.Pod) {
		return translatetest.WithVolume(corev1.Volume{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}})
	}
	writable := func(path string) func(*corev1.Pod) {
		return translatetest.WithVolume(translatetest.HostPathVolume(path), corev1.VolumeMount{Name: "h", MountPath: "/h"})
	}
	tests := []struct {
		name string
		rule translate.Rule
		pod  func(*corev1.Pod)
		want bool // the pod fails the rule
	}{
		{"prefix ending in //: the path it trims to", prefixes, translatetest.WithVolume(translatetest.HostPathVolume("/srv/share/")), true},
		{"prefix ending in //: the path without slash", prefixes, translatetest.WithVolume(translatetest.HostPathVolume("/srv/share")), true},
		{"prefix ending in //: the prefix itself", prefixes, translatetest.WithVolume(translatetest.HostPathVolume("/srv/share//")), false},
		{"prefix ending in //: under it", prefixes, translatetest.WithVolume(translatetest.HostPathVolume("/srv/share//app")), false},
		{"prefix ending in //: one slash is not under it", prefixes, translatetest.WithVolume(translatetest.HostPathVolume("/srv/share/app")), true},
		{"read-only prefix ending in //: writable mount of the trimmed path", readOnly, writable("/srv/share/"), false},
		{"read-only prefix ending in //: writable mount under it", readOnly, writable("/srv/share//app"), true},
		{"token source with a foreign configmap", volumes, projected(corev1.VolumeProjection{ServiceAccountToken: token,
			ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}), true},
		{"root CA source with foreign downward API items", volumes, projected(corev1.VolumeProjection{ConfigMap: rootCA,
			DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels"}}}}}), true},
		{"one source with all three token fields", volumes, projected(corev1.VolumeProjection{ServiceAccountToken: token, ConfigMap: rootCA, DownwardAPI: namespace}), false},
		{"the injected token volume", volumes, projected(corev1.VolumeProjection{ServiceAccountToken: token}, corev1.VolumeProjection{ConfigMap: rootCA}, corev1.VolumeProjection{DownwardAPI: namespace}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := translatetest.BasePod()
			tt.pod(pod)
			if got := !tt.rule.Allows(pod); got != tt.want {
				t.Fatalf("Go evaluator fails = %t, want %t", got, tt.want)
			}
			expr, _ := failure(tt.rule)
			for _, ints := range []bool{false, true} {
				if got := truthy(e.eval(t, expr, evalContext(t, pod, ints))); got != tt.want {
					t.Errorf("JMESPath fails = %t, want %t\n%s", got, tt.want, expr)
				}
			}
		})
	}
}

// TestKyvernoOperations: the precondition admits pod creations and
// ephemeral container updates only, and reads absent request fields
// without an error. (JMESPath binds "!" tighter than ".": "!a.b" would be
// "(!a).b", always null.)
func TestKyvernoOperations(t *testing.T) {
	e := newJPEvaluator()
	expr := strings.TrimSuffix(strings.TrimPrefix(operations, "{{ "), " }}")
	for _, tc := range []struct {
		request map[string]any
		want    bool
	}{
		{map[string]any{"operation": "CREATE"}, true},
		{map[string]any{"operation": "CREATE", "subResource": ""}, true},
		{map[string]any{"operation": "UPDATE", "subResource": "ephemeralcontainers"}, true},
		{map[string]any{"operation": "UPDATE"}, false},
		{map[string]any{"operation": "UPDATE", "subResource": "status"}, false},
		{map[string]any{"operation": "CREATE", "subResource": "ephemeralcontainers"}, false}, // Kyverno's re-run of the old pod
		{map[string]any{"operation": "CREATE", "subResource": "eviction"}, false},
		{map[string]any{"operation": "DELETE"}, false},
		{map[string]any{}, false},
	} {
		if got := e.eval(t, expr, map[string]any{"request": tc.request}); got != tc.want {
			t.Errorf("request %v: %v, want %t", tc.request, got, tc.want)
		}
	}
}

// TestKyvernoRandomPodsCLI runs the real Kyverno CLI (hack/ensure-kyverno.sh)
// on the pseudo-random pods, one single-PSP ClusterPolicy per variant, all
// in one `kyverno test` suite: the CLI must judge every (policy, pod) pair
// as PolicySet.Evaluate does. It complements the corpus test in test/e2e
// with many more combinations, and checks the stand-in functions above
// against Kyverno's own.
func TestKyvernoRandomPodsCLI(t *testing.T) {
	cli := framework.Tool(t, "PSP_MIGRATE_KYVERNO", "the Kyverno CLI")
	const pods = 150
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	var docs []string
	var all []*corev1.Pod
	for i := range pods {
		pod := testPod(r)
		pod.Name = fmt.Sprintf("p%d", i)
		b, err := yaml.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, "apiVersion: v1\nkind: Pod\n"+string(b))
		all = append(all, pod)
	}
	if err := os.WriteFile(filepath.Join(dir, "pods.yaml"), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	variants := pspVariants()
	names := make([]string, 0, len(variants))
	for n := range variants {
		names = append(names, n)
	}
	sort.Strings(names)
	type result struct {
		Policy    string   `json:"policy"`
		Rule      string   `json:"rule"`
		Resources []string `json:"resources"`
		Kind      string   `json:"kind"`
		Result    string   `json:"result"`
	}
	test := struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   map[string]string `json:"metadata"`
		Policies   []string          `json:"policies"`
		Resources  []string          `json:"resources"`
		Results    []result          `json:"results"`
	}{APIVersion: "cli.kyverno.io/v1alpha1", Kind: "Test", Metadata: map[string]string{"name": "random-pods"}, Resources: []string{"pods.yaml"}}
	denied := 0
	for i, name := range names {
		p := translatetest.BasePSP()
		p.Name = fmt.Sprintf("v%02d", i)
		variants[name](p)
		set := &translate.PolicySet{Options: translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeEnforce, ExcludeNamespaces: []string{}, PSPs: []string{p.Name}},
			Policies: []translate.Policy{translate.CompilePolicy(p)}}
		out, err := Engine{}.Render(translate.Input{Set: set, Options: set.Options})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := translate.Marshal(out.Objects)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ms[0].FileName), ms[0].YAML, 0o644); err != nil {
			t.Fatal(err)
		}
		test.Policies = append(test.Policies, ms[0].FileName)
		for _, pod := range all {
			res := "pass"
			if !set.Evaluate(pod, nil).Allowed {
				res = "fail"
				denied++
			}
			test.Results = append(test.Results, result{Policy: translate.ObjectName(set), Rule: ruleName,
				Resources: []string{pod.Namespace + "/" + pod.Name}, Kind: "Pod", Result: res})
		}
	}
	b, err := yaml.Marshal(test)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kyverno-test.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), cli, "test", dir, "--remove-color")
	output, err := cmd.CombinedOutput()
	want := fmt.Sprintf("Test Summary: %d tests passed and 0 tests failed", len(test.Results))
	if err != nil || !strings.Contains(string(output), want) {
		t.Fatalf("kyverno test (%v): want %q; output:\n%s", err, want, output)
	}
	t.Logf("the Kyverno CLI agrees on %d (policy, pod) pairs, %d of them denials", len(test.Results), denied)
}
