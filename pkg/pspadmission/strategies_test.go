package pspadmission

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// strategyCase runs one PSP (permissive plus a change) against one prepared
// pod. The expected texts are the v1.24 server's, checked against the real
// v1.24.17 admission code.
type strategyCase struct {
	name        string
	psp         func(*psp.PodSecurityPolicy)
	pod         []func(*corev1.Pod)
	wantErrs    []string
	wantMutated bool
	check       func(t *testing.T, out *corev1.Pod)
}

func runStrategyCases(t *testing.T, cases []strategyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := permissive("test")
			if tc.psp != nil {
				tc.psp(&p)
			}
			if errs := psp.Validate(&p); len(errs) > 0 {
				t.Fatalf("test PSP is invalid: %v", errs)
			}
			pol, cerrs := compilePolicy(&p)
			if len(cerrs) > 0 {
				t.Fatalf("compile: %v", cerrs)
			}
			pod := Prepare(newPod(tc.pod...), nil)
			before := pod.DeepCopy()
			out, mutated, errs := pol.admit(pod)
			if !reflect.DeepEqual(errs, tc.wantErrs) {
				t.Errorf("errors:\n got  %q\n want %q", errs, tc.wantErrs)
			}
			if mutated != tc.wantMutated {
				t.Errorf("mutated = %v, want %v", mutated, tc.wantMutated)
			}
			if !reflect.DeepEqual(pod, before) {
				t.Errorf("admit modified its input pod")
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

func ctrSC(t *testing.T, out *corev1.Pod, i int) *corev1.SecurityContext {
	t.Helper()
	sc := out.Spec.Containers[i].SecurityContext
	if sc == nil {
		t.Fatalf("container %d has no securityContext", i)
	}
	return sc
}

func TestRunAsUser(t *testing.T) {
	mustRunAs := func(ranges ...psp.IDRange) func(*psp.PodSecurityPolicy) {
		return func(p *psp.PodSecurityPolicy) {
			p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: ranges}
		}
	}
	nonRoot := func(p *psp.PodSecurityPolicy) {
		p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAsNonRoot}
	}
	runStrategyCases(t, []strategyCase{{
		name:        "MustRunAs sets the first range's min on every container",
		psp:         mustRunAs(psp.IDRange{Min: 1000, Max: 2000}, psp.IDRange{Min: 5, Max: 6}),
		pod:         []func(*corev1.Pod){withInit},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := *ctrSC(t, out, 0).RunAsUser; got != 1000 {
				t.Errorf("runAsUser = %d", got)
			}
			if got := *out.Spec.InitContainers[0].SecurityContext.RunAsUser; got != 1000 {
				t.Errorf("init runAsUser = %d", got)
			}
			if out.Spec.SecurityContext.RunAsUser != nil {
				t.Errorf("pod-level runAsUser set")
			}
		},
	}, {
		name:     "MustRunAs rejects a pod-level UID outside the ranges",
		psp:      mustRunAs(psp.IDRange{Min: 1000, Max: 2000}),
		pod:      []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.RunAsUser = ptr(int64(0)) })},
		wantErrs: []string{"spec.containers[0].securityContext.runAsUser: Invalid value: 0: must be in the ranges: [{1000 2000}]"},
	}, {
		name: "MustRunAs ORs the ranges",
		psp:  mustRunAs(psp.IDRange{Min: 100, Max: 200}, psp.IDRange{Min: 1000, Max: 1000}),
		pod:  []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.RunAsUser = ptr(int64(1000)) })},
	}, {
		name:        "MustRunAsNonRoot marks containers without a UID",
		psp:         nonRoot,
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if sc := ctrSC(t, out, 0); sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				t.Errorf("runAsNonRoot not set: %+v", sc)
			}
		},
	}, {
		name: "MustRunAsNonRoot accepts a pod-level runAsNonRoot",
		psp:  nonRoot,
		pod:  []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.RunAsNonRoot = ptr(true) })},
	}, {
		name:     "MustRunAsNonRoot rejects runAsNonRoot false",
		psp:      nonRoot,
		pod:      []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.RunAsNonRoot = ptr(false) })},
		wantErrs: []string{"spec.containers[0].securityContext.runAsNonRoot: Invalid value: false: must be true"},
	}, {
		name: "MustRunAsNonRoot rejects UID 0 without adding runAsNonRoot",
		psp:  nonRoot,
		pod: []func(*corev1.Pod){withInit, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr(int64(0))}
		}},
		wantErrs: []string{"spec.initContainers[0].securityContext.runAsUser: Invalid value: 0: running with the root UID is forbidden"},
		// The regular container still gets runAsNonRoot.
		wantMutated: true,
	}, {
		name: "RunAsAny accepts root",
		pod:  []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.RunAsUser = ptr(int64(0)) })},
	}})
}

func TestGroups(t *testing.T) {
	ranges := []psp.IDRange{{Min: 1000, Max: 2000}}
	runStrategyCases(t, []strategyCase{{
		name: "runAsGroup MustRunAs sets every container",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 5}}}
		},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := *ctrSC(t, out, 0).RunAsGroup; got != 1 {
				t.Errorf("runAsGroup = %d", got)
			}
		},
	}, {
		name: "runAsGroup MayRunAs reports at the security context",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMayRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 5}}}
		},
		pod:      []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.RunAsGroup = ptr(int64(1500)) })},
		wantErrs: []string{"spec.containers[0].securityContext: Invalid value: []int64{1500}: group 1500 must be in the ranges: [{1 5}]"},
	}, {
		name: "runAsGroup MayRunAs leaves an unset group alone",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMayRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 5}}}
		},
	}, {
		name: "fsGroup MustRunAs defaults",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: ranges}
		},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := *out.Spec.SecurityContext.FSGroup; got != 1000 {
				t.Errorf("fsGroup = %d", got)
			}
		},
	}, {
		name: "fsGroup MustRunAs rejects out of range",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: ranges}
		},
		pod:      []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.FSGroup = ptr(int64(5000)) })},
		wantErrs: []string{"spec.securityContext.fsGroup: Invalid value: []int64{5000}: group 5000 must be in the ranges: [{1000 2000}]"},
	}, {
		name: "fsGroup MayRunAs does not default",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.FSGroup = psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMayRunAs, Ranges: ranges}
		},
	}, {
		name: "supplementalGroups MustRunAs defaults",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: ranges}
		},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := out.Spec.SecurityContext.SupplementalGroups; !reflect.DeepEqual(got, []int64{1000}) {
				t.Errorf("supplementalGroups = %v", got)
			}
		},
	}, {
		name: "supplementalGroups MustRunAs: an empty list counts as set",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMustRunAs, Ranges: ranges}
		},
		pod:      []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.SupplementalGroups = []int64{} })},
		wantErrs: []string{"spec.securityContext.supplementalGroups: Invalid value: []int64{}: unable to validate empty groups against required ranges"},
	}, {
		name: "supplementalGroups MayRunAs reports each bad group with the whole list",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMayRunAs, Ranges: ranges}
		},
		pod:      []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.SupplementalGroups = []int64{5, 1500, 7} })},
		wantErrs: []string{"spec.securityContext.supplementalGroups: Invalid value: []int64{5, 1500, 7}: group 5 must be in the ranges: [{1000 2000}]", "spec.securityContext.supplementalGroups: Invalid value: []int64{5, 1500, 7}: group 7 must be in the ranges: [{1000 2000}]"},
	}})
}

func TestSELinux(t *testing.T) {
	mustRunAs := func(o corev1.SELinuxOptions) func(*psp.PodSecurityPolicy) {
		return func(p *psp.PodSecurityPolicy) {
			p.Spec.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &o}
		}
	}
	runStrategyCases(t, []strategyCase{{
		name:        "MustRunAs sets the pod level only",
		psp:         mustRunAs(corev1.SELinuxOptions{Level: "s0:c1,c2"}),
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if o := out.Spec.SecurityContext.SELinuxOptions; o == nil || o.Level != "s0:c1,c2" {
				t.Errorf("pod seLinuxOptions = %+v", o)
			}
			if out.Spec.Containers[0].SecurityContext != nil {
				t.Errorf("container got a security context")
			}
		},
	}, {
		name: "levels compare categories in any order",
		psp:  mustRunAs(corev1.SELinuxOptions{Level: "s0:c1,c2"}),
		pod:  []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) { sc.SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c2,c1"} })},
	}, {
		name: "every differing part is reported",
		psp:  mustRunAs(corev1.SELinuxOptions{Level: "s0:c1,c2", Type: "container_t"}),
		pod: []func(*corev1.Pod){podSC(func(sc *corev1.PodSecurityContext) {
			sc.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t", User: "u"}
		})},
		wantErrs: []string{
			`spec.securityContext.seLinuxOptions.level: Invalid value: "": must be s0:c1,c2`,
			`spec.securityContext.seLinuxOptions.type: Invalid value: "spc_t": must be container_t`,
			`spec.securityContext.seLinuxOptions.user: Invalid value: "u": must be `,
			`spec.containers[0].securityContext.seLinuxOptions.level: Invalid value: "": must be s0:c1,c2`,
			`spec.containers[0].securityContext.seLinuxOptions.type: Invalid value: "spc_t": must be container_t`,
			`spec.containers[0].securityContext.seLinuxOptions.user: Invalid value: "u": must be `,
		},
	}})
}

func TestCapabilities(t *testing.T) {
	caps := func(add, drop []corev1.Capability) func(*corev1.Pod) {
		return containerSC(func(sc *corev1.SecurityContext) { sc.Capabilities = &corev1.Capabilities{Add: add, Drop: drop} })
	}
	runStrategyCases(t, []strategyCase{{
		name: "defaultAdd and requiredDrop merge into sorted sets",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.DefaultAddCapabilities = []corev1.Capability{"SYS_TIME", "CHOWN"}
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
		},
		pod:         []func(*corev1.Pod){caps(nil, []corev1.Capability{"MKNOD", "AUDIT_WRITE"})},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			want := &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "SYS_TIME"}, Drop: []corev1.Capability{"AUDIT_WRITE", "MKNOD", "NET_RAW"}}
			if got := ctrSC(t, out, 0).Capabilities; !reflect.DeepEqual(got, want) {
				t.Errorf("capabilities = %+v", got)
			}
		},
	}, {
		name: "a default add the container drops is not added",
		psp:  func(p *psp.PodSecurityPolicy) { p.Spec.DefaultAddCapabilities = []corev1.Capability{"CHOWN"} },
		pod:  []func(*corev1.Pod){caps(nil, []corev1.Capability{"CHOWN"})},
	}, {
		name:     "adding a capability that is not allowed",
		psp:      func(p *psp.PodSecurityPolicy) { p.Spec.AllowedCapabilities = []corev1.Capability{"NET_BIND_SERVICE"} },
		pod:      []func(*corev1.Pod){caps([]corev1.Capability{"NET_BIND_SERVICE", "NET_ADMIN"}, nil)},
		wantErrs: []string{`spec.containers[0].securityContext.capabilities.add: Invalid value: "NET_ADMIN": capability may not be added`},
	}, {
		name: "defaultAdd capabilities count as allowed",
		psp:  func(p *psp.PodSecurityPolicy) { p.Spec.DefaultAddCapabilities = []corev1.Capability{"NET_ADMIN"} },
		pod:  []func(*corev1.Pod){caps([]corev1.Capability{"NET_ADMIN"}, nil)},
	}, {
		name: "the * wildcard allows any capability",
		psp:  func(p *psp.PodSecurityPolicy) { p.Spec.AllowedCapabilities = []corev1.Capability{"*"} },
		pod:  []func(*corev1.Pod){caps([]corev1.Capability{"SYS_ADMIN"}, nil)},
	}, {
		name:     "privileged containers",
		pod:      []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.Privileged = ptr(true) })},
		wantErrs: []string{"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"},
	}, {
		name: "privileged allowed",
		psp:  func(p *psp.PodSecurityPolicy) { p.Spec.Privileged = true },
		pod:  []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.Privileged = ptr(true) })},
	}})
}

// TestRequiredDropValidation covers the check that mutation normally makes
// unreachable: a container whose drops lack a required one.
func TestRequiredDropValidation(t *testing.T) {
	p := permissive("x", func(p *psp.PodSecurityPolicy) { p.Spec.RequiredDropCapabilities = []corev1.Capability{"ALL"} })
	pol, _ := compilePolicy(&p)
	pod := newPod(containerSC(func(sc *corev1.SecurityContext) {
		sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW"}}
	}))
	want := []string{`spec.containers[0].securityContext.capabilities.drop: Invalid value: []core.Capability{"NET_RAW"}: ALL is required to be dropped but was not found`}
	if got := pol.validatePod(pod); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	pod.Spec.Containers[0].SecurityContext = nil
	want = []string{`spec.containers[0].securityContext.capabilities: Invalid value: "null": required capabilities are not set on the securityContext`}
	if got := pol.validatePod(pod); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func TestEscalationAndRootFilesystem(t *testing.T) {
	runStrategyCases(t, []strategyCase{{
		name:        "allowPrivilegeEscalation false defaults containers to false",
		psp:         func(p *psp.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = ptr(false) },
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if v := ctrSC(t, out, 0).AllowPrivilegeEscalation; v == nil || *v {
				t.Errorf("allowPrivilegeEscalation = %v", v)
			}
		},
	}, {
		name:     "allowPrivilegeEscalation false rejects true",
		psp:      func(p *psp.PodSecurityPolicy) { p.Spec.AllowPrivilegeEscalation = ptr(false) },
		pod:      []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.AllowPrivilegeEscalation = ptr(true) })},
		wantErrs: []string{"spec.containers[0].securityContext.allowPrivilegeEscalation: Invalid value: true: Allowing privilege escalation for containers is not allowed"},
	}, {
		name:        "defaultAllowPrivilegeEscalation fills unset containers",
		psp:         func(p *psp.PodSecurityPolicy) { p.Spec.DefaultAllowPrivilegeEscalation = ptr(false) },
		pod:         []func(*corev1.Pod){withInit},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if v := out.Spec.InitContainers[0].SecurityContext.AllowPrivilegeEscalation; v == nil || *v {
				t.Errorf("init allowPrivilegeEscalation = %v", v)
			}
		},
	}, {
		name:        "readOnlyRootFilesystem defaults to true",
		psp:         func(p *psp.PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true },
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if v := ctrSC(t, out, 0).ReadOnlyRootFilesystem; v == nil || !*v {
				t.Errorf("readOnlyRootFilesystem = %v", v)
			}
		},
	}, {
		name:     "readOnlyRootFilesystem rejects false",
		psp:      func(p *psp.PodSecurityPolicy) { p.Spec.ReadOnlyRootFilesystem = true },
		pod:      []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.ReadOnlyRootFilesystem = ptr(false) })},
		wantErrs: []string{"spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true"},
	}, {
		// The ProcMountType gate is off in v1.24, so the PSP's list is dropped.
		name: "Unmasked proc mount is never allowed",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{"Default", "Unmasked"}
		},
		pod:      []func(*corev1.Pod){containerSC(func(sc *corev1.SecurityContext) { sc.ProcMount = ptr(corev1.UnmaskedProcMount) })},
		wantErrs: []string{`spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`},
	}})
}

func TestHostNamespacesAndPorts(t *testing.T) {
	hostNetwork := func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
	}
	runStrategyCases(t, []strategyCase{{
		name: "host namespaces",
		pod:  []func(*corev1.Pod){func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC = true, true, true }},
		wantErrs: []string{
			"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used",
			"spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used",
			"spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used",
		},
	}, {
		name:     "hostNetwork turns container ports into host ports",
		psp:      func(p *psp.PodSecurityPolicy) { p.Spec.HostNetwork = true },
		pod:      []func(*corev1.Pod){hostNetwork},
		wantErrs: []string{"spec.containers[0].hostPort: Invalid value: 8080: Host port 8080 is not allowed to be used. Allowed ports: []"},
	}, {
		name: "host port ranges are ORed",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.HostNetwork = true
			p.Spec.HostPorts = []psp.HostPortRange{{Min: 443, Max: 443}, {Min: 8000, Max: 9000}}
		},
		pod: []func(*corev1.Pod){hostNetwork},
	}, {
		name: "init container host ports",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.HostPorts = []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 9000}}
		},
		pod: []func(*corev1.Pod){withInit, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].Ports = []corev1.ContainerPort{{ContainerPort: 443, HostPort: 443}}
		}},
		wantErrs: []string{"spec.initContainers[0].hostPort: Invalid value: 443: Host port 443 is not allowed to be used. Allowed ports: [80,8000-9000]"},
	}})
}

func TestVolumes(t *testing.T) {
	volumes := func(v ...psp.FSType) func(*psp.PodSecurityPolicy) {
		return func(p *psp.PodSecurityPolicy) { p.Spec.Volumes = v }
	}
	withToken := func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = nil }
	runStrategyCases(t, []strategyCase{{
		name:     "a type the PSP does not list",
		psp:      volumes(psp.ConfigMap),
		pod:      []func(*corev1.Pod){withVolume(hostPathVolume("h", "/etc"), true)},
		wantErrs: []string{`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`},
	}, {
		name:     "the service account token is a projected volume",
		psp:      volumes(psp.ConfigMap, psp.EmptyDir),
		pod:      []func(*corev1.Pod){withToken},
		wantErrs: []string{`spec.volumes[0]: Invalid value: "projected": projected volumes are not allowed to be used`},
	}, {
		name: "allowing secret allows the token volume",
		psp:  volumes(psp.Secret),
		pod:  []func(*corev1.Pod){withToken},
	}, {
		name: "but no other projected volume",
		psp:  volumes(psp.Secret),
		pod: []func(*corev1.Pod){withVolume(corev1.Volume{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		}}}, true)},
		wantErrs: []string{`spec.volumes[0]: Invalid value: "projected": projected volumes are not allowed to be used`},
	}, {
		name: "a volume without a source is an emptyDir",
		psp:  volumes(psp.EmptyDir),
		pod:  []func(*corev1.Pod){withVolume(corev1.Volume{Name: "e"}, false)},
	}, {
		name: "allowed host paths match whole path segments",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/foo/"}}
		},
		pod:      []func(*corev1.Pod){withVolume(hostPathVolume("a", "/foo"), false), withVolume(hostPathVolume("b", "/foo/bar/"), false), withVolume(hostPathVolume("c", "/foobar"), false)},
		wantErrs: []string{`spec.volumes[2].hostPath.pathPrefix: Invalid value: "/foobar": is not allowed to be used`},
	}, {
		name: "a read-only prefix requires read-only mounts",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}}
		},
		pod: []func(*corev1.Pod){withVolume(hostPathVolume("logs", "/var/log/app"), false), withInit, func(p *corev1.Pod) {
			p.Spec.InitContainers[0].VolumeMounts = []corev1.VolumeMount{{Name: "logs", MountPath: "/l", ReadOnly: true}}
		}},
		wantErrs: []string{"spec.containers[0].volumeMounts[0].readOnly: Invalid value: false: must be read-only"},
	}, {
		name: "a writable prefix wins over a read-only one",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/var", ReadOnly: true}, {PathPrefix: "/var/log"}}
		},
		pod: []func(*corev1.Pod){withVolume(hostPathVolume("logs", "/var/log/app"), false)},
	}, {
		name: "flexVolume drivers",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedFlexVolumes = []psp.AllowedFlexVolume{{Driver: "example/lvm"}}
		},
		pod: []func(*corev1.Pod){withVolume(corev1.Volume{Name: "f", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "other/x"}}}, false),
			withVolume(corev1.Volume{Name: "g", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "example/lvm"}}}, false)},
		wantErrs: []string{`spec.volumes[0].driver: Invalid value: "other/x": Flexvolume driver is not allowed to be used`},
	}, {
		name: "inline CSI drivers",
		psp: func(p *psp.PodSecurityPolicy) {
			p.Spec.AllowedCSIDrivers = []psp.AllowedCSIDriver{{Name: "csi.example.com"}}
		},
		pod:      []func(*corev1.Pod){withVolume(corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "other.csi"}}}, false)},
		wantErrs: []string{`spec.volumes[0].csi.driver: Invalid value: "other.csi": Inline CSI driver is not allowed to be used`},
	}})
}

func TestSysctls(t *testing.T) {
	sysctls := func(names ...string) func(*corev1.Pod) {
		return podSC(func(sc *corev1.PodSecurityContext) {
			for _, n := range names {
				sc.Sysctls = append(sc.Sysctls, corev1.Sysctl{Name: n, Value: "1"})
			}
		})
	}
	runStrategyCases(t, []strategyCase{{
		name:     "safe sysctls are allowed, unsafe ones are not",
		pod:      []func(*corev1.Pod){sysctls("net.ipv4.tcp_syncookies", "net.core.somaxconn")},
		wantErrs: []string{`pod.spec.securityContext.sysctls[1]: Forbidden: unsafe sysctl "net.core.somaxconn" is not allowed`},
	}, {
		name: "allowed unsafe sysctls with a glob",
		psp:  func(p *psp.PodSecurityPolicy) { p.Spec.AllowedUnsafeSysctls = []string{"kernel.msg*"} },
		pod:  []func(*corev1.Pod){sysctls("kernel.msgmax")},
	}, {
		name:     "forbidden wins even for a safe sysctl",
		psp:      func(p *psp.PodSecurityPolicy) { p.Spec.ForbiddenSysctls = []string{"kernel.shm_rmid_forced"} },
		pod:      []func(*corev1.Pod){sysctls("kernel.shm_rmid_forced")},
		wantErrs: []string{`pod.spec.securityContext.sysctls[0]: Forbidden: sysctl "kernel.shm_rmid_forced" is not allowed`},
	}})
}

func TestSeccompAndAppArmor(t *testing.T) {
	annotations := func(kv ...string) func(*psp.PodSecurityPolicy) {
		return func(p *psp.PodSecurityPolicy) {
			p.Annotations = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				p.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	runtimeDefault := podSC(func(sc *corev1.PodSecurityContext) {
		sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	})
	runStrategyCases(t, []strategyCase{{
		name:        "a seccomp field without allowed profiles: seccomp may not be set",
		pod:         []func(*corev1.Pod){runtimeDefault},
		wantMutated: true, // the field is copied into the pod annotation
		wantErrs: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: seccomp may not be set",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: seccomp may not be set",
		},
	}, {
		name:        "docker/default allows runtime/default",
		psp:         annotations(psp.SeccompAllowedProfilesAnnotation, "docker/default"),
		pod:         []func(*corev1.Pod){runtimeDefault},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := out.Annotations[psp.SeccompPodAnnotation]; got != "runtime/default" {
				t.Errorf("pod annotation = %q", got)
			}
		},
	}, {
		name: "a required profile the pod lacks",
		psp:  annotations(psp.SeccompAllowedProfilesAnnotation, "localhost/prof"),
		wantErrs: []string{
			"pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden:  is not an allowed seccomp profile. Valid values are localhost/prof",
			"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden:  is not an allowed seccomp profile. Valid values are localhost/prof",
		},
	}, {
		name: "container field is checked against the list",
		psp:  annotations(psp.SeccompAllowedProfilesAnnotation, "runtime/default"),
		pod: []func(*corev1.Pod){annotate(psp.SeccompPodAnnotation, "runtime/default"), containerSC(func(sc *corev1.SecurityContext) {
			sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("x.json")}
		})},
		wantErrs: []string{"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: localhost/x.json is not an allowed seccomp profile. Valid values are runtime/default"},
	}, {
		name:        "default seccomp profile",
		psp:         annotations(psp.SeccompAllowedProfilesAnnotation, "runtime/default", psp.SeccompDefaultProfileAnnotation, "runtime/default"),
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := out.Annotations[psp.SeccompPodAnnotation]; got != "runtime/default" {
				t.Errorf("pod annotation = %q", got)
			}
		},
	}, {
		name:        "default AppArmor profile for every container",
		psp:         annotations(psp.AppArmorDefaultProfileAnnotation, "runtime/default"),
		pod:         []func(*corev1.Pod){withInit, annotate(psp.AppArmorContainerAnnotationPrefix+"app", "localhost/mine")},
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := out.Annotations[psp.AppArmorContainerAnnotationPrefix+"init"]; got != "runtime/default" {
				t.Errorf("init annotation = %q", got)
			}
			if got := out.Annotations[psp.AppArmorContainerAnnotationPrefix+"app"]; got != "localhost/mine" {
				t.Errorf("app annotation = %q", got)
			}
		},
	}, {
		name:     "AppArmor profile not allowed",
		psp:      annotations(psp.AppArmorAllowedProfilesAnnotation, "runtime/default"),
		pod:      []func(*corev1.Pod){annotate(psp.AppArmorContainerAnnotationPrefix+"app", "unconfined")},
		wantErrs: []string{`pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: Forbidden: unconfined is not an allowed profile. Allowed values: "runtime/default"`},
	}, {
		name:     "AppArmor profile required",
		psp:      annotations(psp.AppArmorAllowedProfilesAnnotation, "runtime/default"),
		wantErrs: []string{"pod.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: Forbidden: AppArmor profile must be set"},
	}})
}

func TestRuntimeClass(t *testing.T) {
	rc := func(def *string, allowed ...string) func(*psp.PodSecurityPolicy) {
		return func(p *psp.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: allowed, DefaultRuntimeClassName: def}
		}
	}
	runStrategyCases(t, []strategyCase{{
		name:        "default runtime class",
		psp:         rc(ptr("gvisor"), "gvisor"),
		wantMutated: true,
		check: func(t *testing.T, out *corev1.Pod) {
			if got := out.Spec.RuntimeClassName; got == nil || *got != "gvisor" {
				t.Errorf("runtimeClassName = %v", got)
			}
		},
	}, {
		name:     "runtime class not allowed",
		psp:      rc(nil, "gvisor"),
		pod:      []func(*corev1.Pod){func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr("kata") }},
		wantErrs: []string{`spec.runtimeClassName: Invalid value: "kata"`},
	}, {
		name: "the * wildcard",
		psp:  rc(nil, "*"),
		pod:  []func(*corev1.Pod){func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr("kata") }},
	}})
}
