package psp_test

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
)

// fuzzPods exercise every strategy of whatever PSP the fuzzer builds.
var fuzzPods = func() []*corev1.Pod {
	t, f := true, false
	uid, gid := int64(0), int64(1500)
	plain := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}},
	}
	busy := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "busy", Namespace: "ns", Annotations: map[string]string{
			"seccomp.security.alpha.kubernetes.io/pod":                "localhost/p",
			"container.apparmor.security.beta.kubernetes.io/app":      "runtime/default",
			"container.seccomp.security.alpha.kubernetes.io/init":     "",
			"container.apparmor.security.beta.kubernetes.io/missing":  "x",
			"container.seccomp.security.alpha.kubernetes.io/debugger": "unconfined",
		}},
		Spec: corev1.PodSpec{
			HostNetwork: true, HostPID: true, HostIPC: true,
			RuntimeClassName: &[]string{"kata"}[0],
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &gid, SupplementalGroups: []int64{},
				SELinuxOptions: &corev1.SELinuxOptions{Level: "s0:c1"},
				Sysctls:        []corev1.Sysctl{{Name: "kernel.msgmax"}, {Name: "net.ipv4.tcp_syncookies"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost},
			},
			InitContainers: []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{ContainerPort: 53}}}},
			Containers: []corev1.Container{{Name: "app",
				Ports:        []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}},
				VolumeMounts: []corev1.VolumeMount{{Name: "host", MountPath: "/h"}},
				SecurityContext: &corev1.SecurityContext{
					Privileged: &t, AllowPrivilegeEscalation: &t, ReadOnlyRootFilesystem: &f, RunAsNonRoot: &f,
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}, Drop: []corev1.Capability{"NET_RAW"}},
					ProcMount:    &[]corev1.ProcMountType{corev1.UnmaskedProcMount}[0],
				}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger"}}},
			Volumes: []corev1.Volume{
				{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log/x"}}},
				{Name: "flex", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "d"}}},
				{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "c"}}},
				{Name: "none"},
			},
		},
	}
	return []*corev1.Pod{plain, busy}
}()

// FuzzValidate feeds arbitrary PSP JSON (PSPs are user input: files and
// cluster objects) to Validate and, when it passes, to admission. Neither
// may panic, and a PSP that fails validation must never be evaluated.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{"metadata":{"name":"restricted","annotations":{"seccomp.security.alpha.kubernetes.io/allowedProfileNames":"docker/default,runtime/default","seccomp.security.alpha.kubernetes.io/defaultProfileName":"runtime/default","apparmor.security.beta.kubernetes.io/allowedProfileNames":"runtime/default","apparmor.security.beta.kubernetes.io/defaultProfileName":"runtime/default"}},"spec":{"allowPrivilegeEscalation":false,"requiredDropCapabilities":["ALL"],"volumes":["configMap","emptyDir","projected","secret","downwardAPI","persistentVolumeClaim"],"runAsUser":{"rule":"MustRunAsNonRoot"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"MustRunAs","ranges":[{"min":1,"max":65535}]},"fsGroup":{"rule":"MustRunAs","ranges":[{"min":1,"max":65535}]}}}`,
		`{"metadata":{"name":"privileged"},"spec":{"privileged":true,"allowedCapabilities":["*"],"volumes":["*"],"hostNetwork":true,"hostPorts":[{"min":0,"max":65535}],"hostIPC":true,"hostPID":true,"runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"},"allowedUnsafeSysctls":["*"]}}`,
		`{"metadata":{"name":"mustrunas"},"spec":{"runAsUser":{"rule":"MustRunAs","ranges":[{"min":1000,"max":2000},{"min":5,"max":5}]},"runAsGroup":{"rule":"MustRunAs","ranges":[{"min":1,"max":5}]},"seLinux":{"rule":"MustRunAs","seLinuxOptions":{"level":"s0:c1,c2","type":"container_t"}},"supplementalGroups":{"rule":"MayRunAs","ranges":[{"min":1,"max":5}]},"fsGroup":{"rule":"MustRunAs","ranges":[{"min":7,"max":9}]},"defaultAddCapabilities":["CHOWN"],"readOnlyRootFilesystem":true,"defaultAllowPrivilegeEscalation":false,"allowedHostPaths":[{"pathPrefix":"/var/log","readOnly":true}],"allowedFlexVolumes":[{"driver":"d"}],"allowedCSIDrivers":[{"name":"c"}],"forbiddenSysctls":["kernel.*"],"allowedProcMountTypes":["Unmasked"],"runtimeClass":{"allowedRuntimeClassNames":["gvisor"],"defaultRuntimeClassName":"gvisor"}}}`,
		`{"metadata":{"name":"unusable"},"spec":{"runAsUser":{"rule":"MustRunAs"},"seLinux":{"rule":"MustRunAs"},"supplementalGroups":{"rule":"MustRunAs"},"fsGroup":{"rule":"MayRunAs"}}}`,
		`{"metadata":{"name":"Bad_Name","namespace":"x"},"spec":{"runAsUser":{"rule":""},"runAsGroup":{"rule":"RunAsAny","ranges":[{"min":-1,"max":-5}]},"volumes":["nope"],"allowedCapabilities":["*"],"requiredDropCapabilities":["ALL"],"allowPrivilegeEscalation":false,"defaultAllowPrivilegeEscalation":true,"allowedUnsafeSysctls":["a.*","*"],"forbiddenSysctls":["a.b"],"runtimeClass":{"allowedRuntimeClassNames":["*","x","x"],"defaultRuntimeClassName":"y"}}}`,
		`{"metadata":{"name":"annotations","annotations":{"seccomp.security.alpha.kubernetes.io/allowedProfileNames":"*,","apparmor.security.beta.kubernetes.io/allowedProfileNames":"","seccomp.security.alpha.kubernetes.io/defaultProfileName":"localhost/../x"}},"spec":{"runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}}}`,
		`{}`,
		`{"spec":{"runAsUser":{"ranges":[{}]}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p psp.PodSecurityPolicy
		if err := json.Unmarshal(data, &p); err != nil {
			return
		}
		errs := psp.Validate(&p)
		for _, e := range errs {
			_ = e.Error()
		}
		e, invalid := pspadmission.NewEvaluator([]psp.PodSecurityPolicy{p}, nil)
		if len(errs) > 0 && len(invalid) == 0 {
			t.Fatalf("a PSP failing validation was not reported: %v", errs)
		}
		for _, pod := range fuzzPods {
			for _, prepared := range []bool{false, true} {
				r := e.Evaluate(pspadmission.Request{Pod: pod, Prepared: prepared})
				if r.AdmittedBy == nil && r.Reason == "" {
					t.Fatalf("rejected without a reason")
				}
			}
		}
	})
}
