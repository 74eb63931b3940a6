package audit

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
)

// permissivePSP allows everything a PSP can allow: compared with it, no
// level loses anything. Each test case takes one thing away.
func permissivePSP() map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": "open", "annotations": map[string]any{
			psp.SeccompAllowedProfilesAnnotation: "*",
		}},
		"spec": map[string]any{
			"privileged": true, "hostNetwork": true, "hostPID": true, "hostIPC": true,
			"hostPorts":             []any{map[string]any{"min": 0, "max": 65535}},
			"volumes":               []any{"*"},
			"allowedCapabilities":   []any{"*"},
			"runAsUser":             map[string]any{"rule": "RunAsAny"},
			"seLinux":               map[string]any{"rule": "RunAsAny"},
			"supplementalGroups":    map[string]any{"rule": "RunAsAny"},
			"fsGroup":               map[string]any{"rule": "RunAsAny"},
			"allowedUnsafeSysctls":  []any{"*"},
			"allowedProcMountTypes": []any{"Default", "Unmasked"},
		},
	}
}

func buildPSP(t *testing.T, name string, change func(spec, annotations map[string]any)) psp.PodSecurityPolicy {
	t.Helper()
	m := permissivePSP()
	m["metadata"].(map[string]any)["name"] = name
	if change != nil {
		change(m["spec"].(map[string]any), m["metadata"].(map[string]any)["annotations"].(map[string]any))
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var p psp.PodSecurityPolicy
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if errs := psp.Validate(&p); len(errs) > 0 {
		t.Fatalf("test PSP %s is invalid: %v", name, errs)
	}
	return p
}

// TestProtectionLost takes one dimension at a time away from a PSP that
// allows everything and checks that exactly that dimension is reported
// lost at the levels that allow it, with the items expected.
func TestProtectionLost(t *testing.T) {
	const anyItems = "*" // the dimension is lost, whatever its items
	tests := []struct {
		name   string
		level  string
		change func(spec, ann map[string]any)
		// extra PSPs usable besides the changed one
		others []func(spec, ann map[string]any)
		want   map[string][]string // dimension -> items (nil: none; {anyItems}: don't check)
	}{
		{name: "nothing forbidden", level: pss.Privileged, want: map[string][]string{}},

		{name: "privileged forbidden, privileged level", level: pss.Privileged,
			change: func(s, _ map[string]any) { s["privileged"] = false }, want: map[string][]string{"privileged": nil}},
		{name: "privileged forbidden, baseline level forbids it too", level: pss.Baseline,
			change: func(s, _ map[string]any) { s["privileged"] = false }, want: map[string][]string{}},
		{name: "privileged forbidden by one PSP, allowed by another", level: pss.Privileged,
			change: func(s, _ map[string]any) { s["privileged"] = false }, others: []func(s, _ map[string]any){nil}, want: map[string][]string{}},

		{name: "hostNetwork", level: pss.Privileged, change: func(s, _ map[string]any) { s["hostNetwork"] = false }, want: map[string][]string{"hostNetwork": nil}},
		{name: "hostPID", level: pss.Privileged, change: func(s, _ map[string]any) { s["hostPID"] = false }, want: map[string][]string{"hostPID": nil}},
		{name: "hostIPC", level: pss.Privileged, change: func(s, _ map[string]any) { s["hostIPC"] = false }, want: map[string][]string{"hostIPC": nil}},
		{name: "hostIPC at baseline", level: pss.Baseline, change: func(s, _ map[string]any) { s["hostIPC"] = false }, want: map[string][]string{}},

		{name: "no host ports", level: pss.Privileged, change: func(s, _ map[string]any) { delete(s, "hostPorts") }, want: map[string][]string{"hostPorts": nil}},
		{name: "host ports in a range", level: pss.Privileged,
			change: func(s, _ map[string]any) {
				s["hostPorts"] = []any{map[string]any{"min": 1, "max": 79}, map[string]any{"min": 81, "max": 65535}}
			},
			want: map[string][]string{"hostPorts": nil}},
		{name: "host ports: two PSPs cover every port between them", level: pss.Privileged,
			change: func(s, _ map[string]any) { s["hostPorts"] = []any{map[string]any{"min": 1, "max": 1000}} },
			others: []func(s, _ map[string]any){func(s, _ map[string]any) { s["hostPorts"] = []any{map[string]any{"min": 1001, "max": 65535}} }},
			want:   map[string][]string{}},
		{name: "no host ports at baseline", level: pss.Baseline, change: func(s, _ map[string]any) { delete(s, "hostPorts") }, want: map[string][]string{}},

		{name: "volumes: restricted list, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) {
				s["volumes"] = []any{"configMap", "secret", "emptyDir", "projected", "downwardAPI", "persistentVolumeClaim", "csi", "ephemeral"}
			},
			want: map[string][]string{"volumes": {"azureFile", "flocker", "flexVolume", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd", "cinder", "cephFS", "fc", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "storageos", "portworxVolume", "scaleIO"}}},
		{name: "volumes: configMap only, restricted level", level: pss.Restricted,
			change: func(s, _ map[string]any) { s["volumes"] = []any{"configMap"} },
			want:   map[string][]string{"volumes": {"emptyDir", "secret", "persistentVolumeClaim", "downwardAPI", "projected", "csi", "ephemeral"}}},
		{name: "volumes: no hostPath, privileged level", level: pss.Privileged,
			change: func(s, _ map[string]any) { s["volumes"] = []any{"configMap", "nfs"} },
			want:   map[string][]string{"volumes": {anyItems}}},

		{name: "hostPath under a prefix", level: pss.Privileged,
			change: func(s, _ map[string]any) { s["allowedHostPaths"] = []any{map[string]any{"pathPrefix": "/var/log"}} },
			want:   map[string][]string{"hostPath": nil}},
		{name: "hostPath read-only", level: pss.Privileged,
			change: func(s, _ map[string]any) {
				s["allowedHostPaths"] = []any{map[string]any{"pathPrefix": "/", "readOnly": true}}
			},
			want: map[string][]string{"hostPathWritable": nil}},
		{name: "hostPath under a prefix, baseline forbids hostPath anyway", level: pss.Baseline,
			change: func(s, _ map[string]any) { s["allowedHostPaths"] = []any{map[string]any{"pathPrefix": "/var/log"}} },
			want:   map[string][]string{}},

		{name: "flexVolume drivers", level: pss.Baseline,
			change: func(s, _ map[string]any) { s["allowedFlexVolumes"] = []any{map[string]any{"driver": "example/lvm"}} },
			want:   map[string][]string{"flexVolumeDrivers": nil}},
		{name: "CSI drivers", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				s["allowedCSIDrivers"] = []any{map[string]any{"name": "secrets-store.csi.k8s.io"}}
			},
			want: map[string][]string{"csiDrivers": nil}},

		{name: "capabilities: none, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) { delete(s, "allowedCapabilities") },
			want: map[string][]string{"capabilities": {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
				"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}}},
		{name: "capabilities: default-added ones are allowed", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				delete(s, "allowedCapabilities")
				s["defaultAddCapabilities"] = []any{"NET_BIND_SERVICE"}
			},
			want: map[string][]string{}},
		{name: "capabilities: none, restricted level", level: pss.Restricted,
			change: func(s, _ map[string]any) { delete(s, "allowedCapabilities") },
			want:   map[string][]string{"capabilities": {"NET_BIND_SERVICE"}}},
		{name: "capabilities: NET_ADMIN, privileged level", level: pss.Privileged,
			change: func(s, _ map[string]any) { s["allowedCapabilities"] = []any{"NET_ADMIN"} },
			want:   map[string][]string{"capabilities": {anyItems}}},

		{name: "required drop, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) {
				s["allowedCapabilities"] = []any{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
				s["requiredDropCapabilities"] = []any{"NET_RAW"}
			},
			want: map[string][]string{"requiredDropCapabilities": nil}},
		{name: "required drop ALL, restricted level requires it too", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				s["allowedCapabilities"] = []any{"NET_BIND_SERVICE"}
				s["requiredDropCapabilities"] = []any{"ALL"}
			},
			want: map[string][]string{}},

		{name: "MustRunAsNonRoot, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) { s["runAsUser"] = map[string]any{"rule": "MustRunAsNonRoot"} },
			want:   map[string][]string{"runAsRoot": nil}},
		{name: "MustRunAsNonRoot, restricted level", level: pss.Restricted,
			change: func(s, _ map[string]any) { s["runAsUser"] = map[string]any{"rule": "MustRunAsNonRoot"} },
			want:   map[string][]string{}},
		{name: "runAsUser ranges, restricted level", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				s["runAsUser"] = map[string]any{"rule": "MustRunAs", "ranges": []any{map[string]any{"min": 1000, "max": 2000}}}
			},
			want: map[string][]string{"runAsUser": nil}},
		{name: "runAsUser ranges with root, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) {
				s["runAsUser"] = map[string]any{"rule": "MustRunAs", "ranges": []any{map[string]any{"min": 0, "max": 2000}}}
			},
			want: map[string][]string{"runAsUser": nil}},
		{name: "runAsGroup", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				s["runAsGroup"] = map[string]any{"rule": "MustRunAs", "ranges": []any{map[string]any{"min": 1, "max": 65535}}}
			},
			want: map[string][]string{"runAsGroup": nil}},
		{name: "fsGroup MayRunAs", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				s["fsGroup"] = map[string]any{"rule": "MayRunAs", "ranges": []any{map[string]any{"min": 1, "max": 65535}}}
			},
			want: map[string][]string{"fsGroup": nil}},
		{name: "supplementalGroups", level: pss.Privileged,
			change: func(s, _ map[string]any) {
				s["supplementalGroups"] = map[string]any{"rule": "MustRunAs", "ranges": []any{map[string]any{"min": 1, "max": 65535}}}
			},
			want: map[string][]string{"supplementalGroups": nil}},

		{name: "no privilege escalation, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) { s["allowPrivilegeEscalation"] = false },
			want:   map[string][]string{"allowPrivilegeEscalation": nil}},
		{name: "no privilege escalation, restricted level", level: pss.Restricted,
			change: func(s, _ map[string]any) { s["allowPrivilegeEscalation"] = false },
			want:   map[string][]string{}},
		{name: "defaultAllowPrivilegeEscalation alone forbids nothing", level: pss.Baseline,
			change: func(s, _ map[string]any) { s["defaultAllowPrivilegeEscalation"] = false },
			want:   map[string][]string{}},

		{name: "read-only root filesystem", level: pss.Restricted,
			change: func(s, _ map[string]any) { s["readOnlyRootFilesystem"] = true },
			want:   map[string][]string{"readOnlyRootFilesystem": nil}},

		{name: "SELinux MustRunAs", level: pss.Baseline,
			change: func(s, _ map[string]any) {
				s["seLinux"] = map[string]any{"rule": "MustRunAs", "seLinuxOptions": map[string]any{"level": "s0:c1,c2"}}
			},
			want: map[string][]string{"seLinux": nil}},

		{name: "seccomp runtime/default only, baseline level", level: pss.Baseline,
			change: func(_, a map[string]any) { a[psp.SeccompAllowedProfilesAnnotation] = "runtime/default" },
			want:   map[string][]string{"seccomp": {"none (unconfined on most nodes)", "any Localhost profile"}}},
		{name: "seccomp runtime/default only, privileged level", level: pss.Privileged,
			change: func(_, a map[string]any) { a[psp.SeccompAllowedProfilesAnnotation] = "runtime/default" },
			want:   map[string][]string{"seccomp": {"Unconfined", "none (unconfined on most nodes)", "any Localhost profile"}}},
		{name: "seccomp localhost/* is a profile name, not a pattern", level: pss.Restricted,
			change: func(_, a map[string]any) { a[psp.SeccompAllowedProfilesAnnotation] = "runtime/default,localhost/*" },
			want:   map[string][]string{"seccomp": {"any Localhost profile"}}},
		{name: "seccomp defaulted, baseline level allows none", level: pss.Baseline,
			change: func(_, a map[string]any) {
				a[psp.SeccompAllowedProfilesAnnotation] = "runtime/default,localhost/*"
				a[psp.SeccompDefaultProfileAnnotation] = "runtime/default"
			},
			want: map[string][]string{"seccomp": {anyItems}}},

		{name: "AppArmor runtime/default only, privileged level", level: pss.Privileged,
			change: func(_, a map[string]any) { a[psp.AppArmorAllowedProfilesAnnotation] = "runtime/default" },
			want:   map[string][]string{"appArmor": {"unconfined", "any localhost profile"}}},
		{name: "AppArmor runtime/default only, baseline level", level: pss.Baseline,
			change: func(_, a map[string]any) { a[psp.AppArmorAllowedProfilesAnnotation] = "runtime/default" },
			want:   map[string][]string{"appArmor": {"any localhost profile"}}},

		{name: "unsafe sysctls, privileged level", level: pss.Privileged,
			change: func(s, _ map[string]any) { delete(s, "allowedUnsafeSysctls") },
			want:   map[string][]string{"sysctls": {anyItems}}},
		{name: "unsafe sysctls, baseline level allows only safe ones", level: pss.Baseline,
			change: func(s, _ map[string]any) { delete(s, "allowedUnsafeSysctls") },
			// v1.30's safe set is larger than v1.24's.
			want: map[string][]string{"sysctls": {"net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
				"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}}},
		{name: "forbidden safe sysctl, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) {
				s["allowedUnsafeSysctls"] = []any{"net.*"}
				s["forbiddenSysctls"] = []any{"kernel.shm_rmid_forced"}
			},
			want: map[string][]string{"sysctls": {"kernel.shm_rmid_forced"}}},

		{name: "procMount Default only, privileged level", level: pss.Privileged,
			change: func(s, _ map[string]any) { delete(s, "allowedProcMountTypes") },
			want:   map[string][]string{"procMount": nil}},
		{name: "procMount Default only, baseline level", level: pss.Baseline,
			change: func(s, _ map[string]any) { delete(s, "allowedProcMountTypes") },
			want:   map[string][]string{}},

		{name: "runtime classes", level: pss.Restricted,
			change: func(s, _ map[string]any) {
				s["runtimeClass"] = map[string]any{"allowedRuntimeClassNames": []any{"gvisor"}}
			},
			want: map[string][]string{"runtimeClass": nil}},
	}
	eval, err := pss.NewEvaluator("v1.30")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			psps := []psp.PodSecurityPolicy{buildPSP(t, "changed", tt.change)}
			names := []string{"changed"}
			for i, o := range tt.others {
				name := "other" + string(rune('a'+i))
				psps = append(psps, buildPSP(t, name, o))
				names = append(names, name)
			}
			c := newProtectionChecker(eval, psps)
			got := map[string][]string{}
			for _, l := range c.lost(tt.level, names) {
				got[l.Dimension] = l.Items
				if !reflect.DeepEqual(l.PSPs, names) {
					t.Errorf("%s: psps %v, want %v", l.Dimension, l.PSPs, names)
				}
				if !strings.Contains(l.Message, tt.level+" allows it") {
					t.Errorf("message %q does not name the level", l.Message)
				}
			}
			gotDims, wantDims := keys(got), keys(tt.want)
			if !reflect.DeepEqual(gotDims, wantDims) {
				t.Fatalf("lost %v, want %v (got %v)", gotDims, wantDims, got)
			}
			for d, want := range tt.want {
				if slices.Equal(want, []string{anyItems}) {
					if len(got[d]) == 0 {
						t.Errorf("%s: no items", d)
					}
					continue
				}
				if !reflect.DeepEqual(got[d], want) {
					t.Errorf("%s: items %q, want %q", d, got[d], want)
				}
			}
		})
	}
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOutside(t *testing.T) {
	tests := []struct {
		ranges [][2]int64
		lo, hi int64
		want   int64
		ok     bool
	}{
		{nil, 1, 10, 1, true},
		{[][2]int64{{1, 5}}, 1, 10, 6, true},
		{[][2]int64{{6, 10}, {1, 5}}, 1, 10, 0, false},
		{[][2]int64{{2, 5}}, 1, 10, 1, true},
		{[][2]int64{{1, 3}, {3, 7}, {9, 9}}, 1, 10, 8, true},
	}
	for _, tt := range tests {
		got, ok := outside(tt.ranges, tt.lo, tt.hi)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("outside(%v, %d, %d) = %d, %v; want %d, %v", tt.ranges, tt.lo, tt.hi, got, ok, tt.want, tt.ok)
		}
	}
}
