package translate

import (
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
)

// The fixtures live in test/translatetest, shared with the engines' tests.
var (
	basePSP        = translatetest.BasePSP
	basePod        = translatetest.BasePod
	sc             = translatetest.SC
	podSCSet       = translatetest.PodSC
	withVolume     = translatetest.WithVolume
	hostPathVolume = translatetest.HostPathVolume
	withInit       = translatetest.WithInit
	withEphemeral  = translatetest.WithEphemeral
	all            = translatetest.All
	mustRunAsUser  = translatetest.MustRunAsUser
	nonRoot        = translatetest.NonRoot
	groups         = translatetest.Groups
	seLinux        = translatetest.SELinux
	sysctl         = translatetest.Sysctl
	seccomp        = translatetest.Seccomp
	apparmor       = translatetest.AppArmor
)

func failedRuleIDs(pol Policy, pod *corev1.Pod) []string {
	var out []string
	for _, r := range pol.Rules {
		if !r.Allows(pod) {
			out = append(out, r.ID())
		}
	}
	sort.Strings(out)
	return out
}

// TestRules tightens one PSP field at a time and checks the pod that
// passes and the pod that fails the resulting rule.
func TestRules(t *testing.T) {
	tests := []struct {
		name string
		psp  func(*psp.PodSecurityPolicy)
		pod  func(*corev1.Pod)
		want []string // failed rule IDs
	}{
		{name: "permissive PSP has no rules", want: nil},
		{name: "unset privileged denies privileged", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Privileged = false },
			pod: sc(func(s *corev1.SecurityContext) { s.Privileged = new(true) }), want: []string{"privileged"}},
		{name: "unset privileged allows privileged: false", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Privileged = false },
			pod: sc(func(s *corev1.SecurityContext) { s.Privileged = new(false) })},
		{name: "privileged init container", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Privileged = false },
			pod: withInit(corev1.Container{Name: "i", SecurityContext: &corev1.SecurityContext{Privileged: new(true)}}), want: []string{"privileged"}},
		{name: "privileged ephemeral container", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Privileged = false },
			pod: withEphemeral(corev1.Container{Name: "e", SecurityContext: &corev1.SecurityContext{Privileged: new(true)}}), want: []string{"privileged"}},
		{name: "host namespaces unset deny", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = false, false, false
		},
			pod:  func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true },
			want: []string{"hostIPC", "hostNetwork", "hostPID"}},
		{name: "host ports ORed: in second range", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.HostPorts = []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 8080}}
		},
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 1, HostPort: 8080}}
			}},
		{name: "host ports ORed: in none", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.HostPorts = []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 8080}}
		},
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 1, HostPort: 81}}
			}, want: []string{"hostPorts"}},
		{name: "no host port ranges deny host ports", psp: func(p *psp.PodSecurityPolicy) { p.Spec.HostPorts = nil },
			pod: withInit(corev1.Container{Name: "i", Ports: []corev1.ContainerPort{{ContainerPort: 1, HostPort: 1}}}), want: []string{"hostPorts"}},
		{name: "no host port ranges allow container ports", psp: func(p *psp.PodSecurityPolicy) { p.Spec.HostPorts = nil },
			pod: func(p *corev1.Pod) { p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}} }},
		{name: "volumes list", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.ConfigMap} },
			pod: withVolume(corev1.Volume{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}), want: []string{"volumes"}},
		{name: "cephFS maps to cephfs", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.CephFS} },
			pod: withVolume(corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{CephFS: &corev1.CephFSVolumeSource{Monitors: []string{"m"}}}})},
		{name: "empty volumes list denies every volume", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = nil },
			pod: withVolume(corev1.Volume{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}), want: []string{"volumes"}},
		{name: "volume type newer than PSP needs *", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.ConfigMap} },
			pod: withVolume(corev1.Volume{Name: "i", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}}), want: []string{"volumes"}},
		{name: "secret admits the service account token", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.Secret} },
			pod: withVolume(corev1.Volume{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
			}}}})},
		{name: "secret does not admit a token with an audience", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.Secret} },
			pod: withVolume(corev1.Volume{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}}}}}}), want: []string{"volumes"}},
		// What the renderers follow (and the engines are checked against):
		// every field a projected source sets counts, not only the first.
		{name: "secret does not admit a token source with a foreign configmap", psp: func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = []psp.FSType{psp.Secret} },
			pod: withVolume(corev1.Volume{Name: "t", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
				ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"},
				ConfigMap:           &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}}}}}), want: []string{"volumes"}},
		{name: "host path prefix ending in // does not cover the path it trims to", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/srv/share//"}}
		}, pod: withVolume(hostPathVolume("/srv/share/")), want: []string{"allowedHostPaths"}},
		{name: "host path prefix ending in // covers paths under it", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/srv/share//"}}
		}, pod: withVolume(hostPathVolume("/srv/share//app"))},
		{name: "host path prefix is a path segment", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/data"}} },
			pod: withVolume(hostPathVolume("/database")), want: []string{"allowedHostPaths"}},
		{name: "host path under prefix", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/data/"}}
		},
			pod: withVolume(hostPathVolume("/data/x"))},
		{name: "read-only prefix needs read-only mounts", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}}
		}, pod: withVolume(hostPathVolume("/var/log"), corev1.VolumeMount{Name: "h", MountPath: "/l"}), want: []string{"allowedHostPaths.readOnly"}},
		{name: "read-only prefix with read-only mount", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}}
		}, pod: withVolume(hostPathVolume("/var/log"), corev1.VolumeMount{Name: "h", MountPath: "/l", ReadOnly: true})},
		{name: "writable prefix wins over read-only one", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var", ReadOnly: true}, {PathPrefix: "/var/lib"}}
		}, pod: withVolume(hostPathVolume("/var/lib/x"), corev1.VolumeMount{Name: "h", MountPath: "/l"})},
		{name: "host paths unchecked when hostPath is not allowed", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.Volumes = []psp.FSType{psp.EmptyDir}
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/data"}}
		}, pod: withVolume(hostPathVolume("/etc")), want: []string{"volumes"}},
		{name: "flex drivers", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedFlexVolumes = []psp.AllowedFlexVolume{{Driver: "a"}, {Driver: "b"}}
		},
			pod: withVolume(corev1.Volume{Name: "f", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "c"}}}), want: []string{"allowedFlexVolumes"}},
		{name: "csi drivers (second of two)", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "a"}, {Name: "b"}}
		},
			pod: withVolume(corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "b"}}})},
		{name: "csi driver denied", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "a"}} },
			pod: withVolume(corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "x"}}}), want: []string{"allowedCSIDrivers"}},
		{name: "MustRunAs needs a UID", psp: mustRunAsUser, want: []string{"runAsUser"}},
		{name: "MustRunAs second range, pod level", psp: mustRunAsUser, pod: podSCSet(func(s *corev1.PodSecurityContext) { s.RunAsUser = new(int64(5000)) })},
		{name: "MustRunAs container overrides pod", psp: mustRunAsUser, pod: all(
			podSCSet(func(s *corev1.PodSecurityContext) { s.RunAsUser = new(int64(1000)) }),
			sc(func(s *corev1.SecurityContext) { s.RunAsUser = new(int64(0)) })), want: []string{"runAsUser"}},
		{name: "MustRunAsNonRoot without ranges, nothing set", psp: nonRoot, want: []string{"runAsUser"}},
		{name: "MustRunAsNonRoot, UID only", psp: nonRoot, pod: sc(func(s *corev1.SecurityContext) { s.RunAsUser = new(int64(7)) })},
		{name: "MustRunAsNonRoot, UID 0 and runAsNonRoot", psp: nonRoot, pod: sc(func(s *corev1.SecurityContext) { s.RunAsUser, s.RunAsNonRoot = new(int64(0)), new(true) }), want: []string{"runAsUser"}},
		{name: "MustRunAsNonRoot ignores ranges", psp: func(p *psp.PodSecurityPolicy) {
			nonRoot(p)
			p.Spec.RunAsUser.Ranges = []psp.IDRange{{Min: 1, Max: 2}}
		}, pod: podSCSet(func(s *corev1.PodSecurityContext) { s.RunAsNonRoot = new(true) })},
		{name: "runAsGroup MayRunAs unset", psp: groups("MayRunAs"), pod: podSCSet(func(s *corev1.PodSecurityContext) { s.SupplementalGroups = []int64{10} })},
		{name: "groups MayRunAs out of range", psp: groups("MayRunAs"), pod: podSCSet(func(s *corev1.PodSecurityContext) {
			s.RunAsGroup, s.FSGroup, s.SupplementalGroups = new(int64(1)), new(int64(1)), []int64{10, 1}
		}), want: []string{"fsGroup", "runAsGroup", "supplementalGroups"}},
		{name: "groups MustRunAs unset", psp: groups("MustRunAs"), want: []string{"fsGroup", "runAsGroup", "supplementalGroups"}},
		{name: "groups MustRunAs set", psp: groups("MustRunAs"), pod: podSCSet(func(s *corev1.PodSecurityContext) {
			s.RunAsGroup, s.FSGroup, s.SupplementalGroups = new(int64(20)), new(int64(10)), []int64{10, 20}
		})},
		{name: "SELinux levels compare categories as a set", psp: seLinux, pod: podSCSet(func(s *corev1.PodSecurityContext) {
			s.SELinuxOptions = &corev1.SELinuxOptions{Type: "t", Level: "s0:c2,c1"}
		})},
		{name: "SELinux container differs", psp: seLinux, pod: all(
			podSCSet(func(s *corev1.PodSecurityContext) {
				s.SELinuxOptions = &corev1.SELinuxOptions{Type: "t", Level: "s0:c1,c2"}
			}),
			sc(func(s *corev1.SecurityContext) {
				s.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t", Level: "s0:c1,c2"}
			})), want: []string{"seLinux"}},
		{name: "SELinux unset at pod level", psp: seLinux, pod: sc(func(s *corev1.SecurityContext) {
			s.SELinuxOptions = &corev1.SELinuxOptions{Type: "t", Level: "s0:c1,c2"}
		}), want: []string{"seLinux"}},
		{name: "default-added capabilities are allowed, not required", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedCapabilities = []corev1.Capability{"A"}
			p.Spec.DefaultAddCapabilities = []corev1.Capability{"B"}
		}, pod: sc(func(s *corev1.SecurityContext) { s.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"B"}} })},
		{name: "capability not allowed", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowedCapabilities = nil },
			pod: sc(func(s *corev1.SecurityContext) { s.Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"A"}} }), want: []string{"allowedCapabilities"}},
		{name: "required drops", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedCapabilities = nil
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"ALL"}
		}, pod: sc(func(s *corev1.SecurityContext) {
			s.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW"}}
		}), want: []string{"requiredDropCapabilities"}},
		{name: "read-only root unset", psp: func(p *psp.PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true }, want: []string{"readOnlyRootFilesystem"}},
		{name: "escalation false needs explicit false", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = new(false) }, want: []string{"allowPrivilegeEscalation"}},
		{name: "escalation default false needs the field", psp: func(p *psp.PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = new(false) },
			want: []string{"defaultAllowPrivilegeEscalation"}},
		{name: "escalation default true needs nothing", psp: func(p *psp.PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = new(true) }},
		{name: "forbidden safe sysctl", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedUnsafeSysctls = nil
			p.Spec.ForbiddenSysctls = []string{"kernel.shm_rmid_forced"}
		}, pod: sysctl("kernel.shm_rmid_forced"), want: []string{"forbiddenSysctls"}},
		{name: "unsafe sysctl glob", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = []string{"kernel.msg*"} }, pod: sysctl("kernel.msgmax")},
		{name: "slash sysctl normalised", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedUnsafeSysctls = []string{"net.*"}
			p.Spec.ForbiddenSysctls = []string{"kernel.*"}
		}, pod: sysctl("kernel/msgmax"), want: []string{"forbiddenSysctls"}},
		{name: "unsafe sysctl", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = nil }, pod: sysctl("kernel.msgmax"), want: []string{"allowedUnsafeSysctls"}},
		{name: "proc mount", psp: func(p *psp.PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = nil },
			pod: sc(func(s *corev1.SecurityContext) { s.ProcMount = new(corev1.UnmaskedProcMount) }), want: []string{"allowedProcMountTypes"}},
		{name: "runtime class default makes it required", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a"}, DefaultRuntimeClassName: new("a")}
		}, want: []string{"runtimeClass"}},
		{name: "runtime class optional without default", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a"}}
		}},
		{name: "runtime class not allowed", psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a"}}
		}, pod: func(p *corev1.Pod) { p.Spec.RuntimeClassName = new("b") }, want: []string{"runtimeClass"}},
		{name: "seccomp without annotation allows runtime/default", psp: func(p *psp.PodSecurityPolicy) { p.Annotations = nil },
			pod: podSCSet(func(s *corev1.PodSecurityContext) {
				s.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			})},
		{name: "seccomp without annotation denies unconfined", psp: func(p *psp.PodSecurityPolicy) { p.Annotations = nil },
			pod: sc(func(s *corev1.SecurityContext) {
				s.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
			}), want: []string{"seccomp"}},
		{name: "seccomp docker/default is runtime/default", psp: seccomp("docker/default"),
			pod: podSCSet(func(s *corev1.PodSecurityContext) {
				s.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			})},
		{name: "seccomp list requires a profile", psp: seccomp("runtime/default"), want: []string{"seccomp"}},
		{name: "seccomp annotation on the pod does not count", psp: seccomp("runtime/default"),
			pod: func(p *corev1.Pod) {
				p.Annotations = map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}
			}, want: []string{"seccomp"}},
		{name: "seccomp localhost", psp: seccomp("localhost/a.json"),
			pod: podSCSet(func(s *corev1.PodSecurityContext) {
				s.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("a.json")}
			})},
		{name: "apparmor annotation counts", psp: apparmor("runtime/default"),
			pod: func(p *corev1.Pod) {
				p.Annotations = map[string]string{appArmorContainerAnnotationPrefix + "app": "runtime/default"}
			}},
		{name: "apparmor field counts", psp: apparmor("localhost/x"),
			pod: sc(func(s *corev1.SecurityContext) {
				s.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: new("x")}
			})},
		{name: "apparmor required", psp: apparmor("runtime/default"), want: []string{"appArmor"}},
		{name: "apparmor default only requires any profile", psp: func(p *psp.PodSecurityPolicy) {
			p.Annotations[psp.AppArmorDefaultProfileAnnotation] = "runtime/default"
		}, pod: podSCSet(func(s *corev1.PodSecurityContext) {
			s.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePSP()
			if tt.psp != nil {
				tt.psp(p)
			}
			if errs := psp.Validate(p); len(errs) > 0 {
				t.Fatalf("test PSP is invalid: %v", errs)
			}
			pod := basePod()
			if tt.pod != nil {
				tt.pod(pod)
			}
			pol := CompilePolicy(p)
			if got := failedRuleIDs(pol, pod); !slices.Equal(got, tt.want) {
				t.Errorf("failed rules = %v, want %v", got, tt.want)
			}
			for _, r := range pol.Rules {
				if r.CEL() == "" || r.Message() == "" || r.Field() == "" {
					t.Errorf("rule %s lacks a CEL expression, message or field", r.ID())
				}
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	t.Run("normalizeSysctl", func(t *testing.T) {
		for in, want := range map[string]string{
			"kernel.msgmax":                    "kernel.msgmax",
			"kernel/msgmax":                    "kernel.msgmax",
			"net/ipv4/conf/eno2.100/rp_filter": "net.ipv4.conf.eno2/100.rp_filter",
			"net.ipv4.conf.eno2/100.rp_filter": "net.ipv4.conf.eno2/100.rp_filter",
			"":                                 "",
			"plain":                            "plain",
		} {
			if got := normalizeSysctl(in); got != want {
				t.Errorf("normalizeSysctl(%q) = %q, want %q", in, got, want)
			}
		}
	})
	t.Run("allHostPorts", func(t *testing.T) {
		for _, tc := range []struct {
			ranges []psp.HostPortRange
			want   bool
		}{
			{[]psp.HostPortRange{{Min: 0, Max: 65535}}, true},
			{[]psp.HostPortRange{{Min: 30000, Max: 65535}, {Min: 1, Max: 29999}}, true},
			{[]psp.HostPortRange{{Min: 1, Max: 100}, {Min: 102, Max: 65535}}, false},
			{nil, false},
		} {
			if got := allHostPorts(tc.ranges); got != tc.want {
				t.Errorf("allHostPorts(%v) = %t", tc.ranges, got)
			}
		}
	})
}
