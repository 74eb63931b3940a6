package psp

import (
	"encoding/json"
	"reflect"
	"testing"
)

// validationCases are PSPs with the errors kube-apiserver v1.24.17 returned
// for them (recorded by running its registry validation).
var validationCases = []struct {
	name string
	psp  string
	want []string
}{
	{
		name: "valid permissive",
		psp:  `{"metadata": {"name": "permissive"}, "spec": {"privileged": true, "seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "hostPorts": [{"min": 0, "max": 65535}], "allowedCapabilities": ["*"]}}`,
	},
	{
		name: "valid restricted",
		psp: `{"metadata": {"name": "restricted", "annotations": {"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "docker/default,runtime/default", "apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default", "seccomp.security.alpha.kubernetes.io/defaultProfileName": "runtime/default", "apparmor.security.beta.kubernetes.io/defaultProfileName": "runtime/default"}},
		  "spec": {"privileged": false, "allowPrivilegeEscalation": false, "requiredDropCapabilities": ["ALL"], "volumes": ["configMap", "emptyDir", "projected", "secret", "downwardAPI", "csi", "persistentVolumeClaim", "ephemeral"],
		  "hostNetwork": false, "hostIPC": false, "hostPID": false, "runAsUser": {"rule": "MustRunAsNonRoot"}, "seLinux": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]},
		  "fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]}, "readOnlyRootFilesystem": false}}`,
	},
	{
		// Accepted by validation; admission later skips such a PSP.
		name: "valid but unusable: MustRunAs without ranges",
		psp:  `{"metadata": {"name": "unusable"}, "spec": {"seLinux": {"rule": "MustRunAs"}, "runAsUser": {"rule": "MustRunAs"}, "supplementalGroups": {"rule": "MayRunAs"}, "fsGroup": {"rule": "MustRunAs"}}}`,
	},
	{
		// The ProcMountType gate is off in v1.24: the field is dropped unvalidated.
		name: "procmount",
		psp:  `{"metadata": {"name": "procmount"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "allowedProcMountTypes": ["Default", "Weird"]}}`,
	},
	{
		name: "missing name",
		psp:  `{"spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}}}`,
		want: []string{"metadata.name: Required value: name or generateName is required"},
	},
	{
		name: "empty-rules",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "empty-rules"}, "spec": {"seLinux": {"rule": ""}, "runAsUser": {"rule": ""}, "supplementalGroups": {"rule": ""}, "fsGroup": {"rule": ""}, "volumes": ["*"]}}`,
		want: []string{
			"spec.runAsUser.rule: Unsupported value: \"\": supported values: \"MustRunAs\", \"MustRunAsNonRoot\", \"RunAsAny\"",
			"spec.seLinux.rule: Unsupported value: \"\": supported values: \"MustRunAs\", \"RunAsAny\"",
			"spec.supplementalGroups.rule: Unsupported value: \"\": supported values: \"MayRunAs\", \"MustRunAs\", \"RunAsAny\"",
			"spec.fsGroup.rule: Unsupported value: \"\": supported values: \"MayRunAs\", \"MustRunAs\", \"RunAsAny\"",
		},
	},
	{
		name: "bad-runasgroup",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "bad-runasgroup"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "runAsGroup": {"rule": "Foo"}}}`,
		want: []string{
			"spec.runAsGroup.rule: Unsupported value: \"Foo\": supported values: \"MustRunAs\", \"RunAsAny\", \"MayRunAs\"",
		},
	},
	{
		name: "runasgroup-ranges",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "runasgroup-ranges"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "runAsGroup": {"rule": "RunAsAny", "ranges": [{"min": 1, "max": 2}]}}}`,
		want: []string{
			"spec.runAsGroup.ranges: Invalid value: []policy.IDRange{policy.IDRange{Min:1, Max:2}}: Ranges must be empty",
		},
	},
	{
		name: "runasgroup-noranges",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "runasgroup-noranges"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "runAsGroup": {"rule": "MustRunAs"}}}`,
		want: []string{
			"spec.runAsGroup.ranges: Invalid value: []policy.IDRange(nil): must provide at least one range",
		},
	},
	{
		name: "bad-ranges",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "bad-ranges"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "MustRunAs", "ranges": [{"min": -1, "max": -2}, {"min": 5, "max": 1}]}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "MustRunAs", "ranges": [{"min": 3, "max": 2}]}, "volumes": ["*"]}}`,
		want: []string{
			"spec.runAsUser.ranges[0].min: Invalid value: -1: min cannot be negative",
			"spec.runAsUser.ranges[0].max: Invalid value: -2: max cannot be negative",
			"spec.runAsUser.ranges[0].min: Invalid value: -1: min cannot be greater than max",
			"spec.runAsUser.ranges[1].min: Invalid value: 5: min cannot be greater than max",
			"spec.fsGroup.ranges[0].min: Invalid value: 3: min cannot be greater than max",
		},
	},
	{
		name: "bad-volume",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "bad-volume"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["configMap", "nope"]}}`,
		want: []string{
			"spec.volumes: Unsupported value: \"nope\": supported values: \"*\", \"awsElasticBlockStore\", \"azureDisk\", \"azureFile\", \"cephFS\", \"cinder\", \"configMap\", \"csi\", \"downwardAPI\", \"emptyDir\", \"ephemeral\", \"fc\", \"flexVolume\", \"flocker\", \"gcePersistentDisk\", \"gitRepo\", \"glusterfs\", \"hostPath\", \"iscsi\", \"nfs\", \"persistentVolumeClaim\", \"photonPersistentDisk\", \"portworxVolume\", \"projected\", \"quobyte\", \"rbd\", \"scaleIO\", \"secret\", \"storageos\", \"vsphereVolume\"",
		},
	},
	{
		name: "caps",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "caps"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowedCapabilities": ["*", "NET_ADMIN"], "requiredDropCapabilities": ["NET_ADMIN", "SYS_TIME"], "defaultAddCapabilities": ["SYS_TIME"]}}`,
		want: []string{
			"requiredDropCapabilities: Invalid value: []core.Capability{\"NET_ADMIN\", \"SYS_TIME\"}: must be empty when all capabilities are allowed by a wildcard",
			"defaultAddCapabilities: Invalid value: \"SYS_TIME\": capability is listed in defaultAddCapabilities and requiredDropCapabilities",
			"allowedCapabilities: Invalid value: \"NET_ADMIN\": capability is listed in allowedCapabilities and requiredDropCapabilities",
		},
	},
	{
		name: "ape",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "ape"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowPrivilegeEscalation": false, "defaultAllowPrivilegeEscalation": true}}`,
		want: []string{
			"spec.defaultAllowPrivilegeEscalation: Invalid value: true: Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true",
		},
	},
	{
		name: "hostpaths",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "hostpaths"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowedHostPaths": [{"pathPrefix": "/a/../b"}, {"pathPrefix": ""}, {"pathPrefix": "/c/.."}]}}`,
		want: []string{
			"spec.allowedHostPaths[0]: Invalid value: \"/a/../b\": must not contain '..'",
			"spec.allowedHostPaths[1]: Required value: is required",
		},
	},
	{
		name: "flex",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "flex"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowedFlexVolumes": [{"driver": ""}]}}`,
		want: []string{
			"spec.allowedFlexVolumes.allowedFlexVolumes[0].driver: Required value: must specify a driver",
		},
	},
	{
		name: "csi",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "csi"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowedCSIDrivers": [{"name": ""}, {"name": "Bad_Driver"}, {"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}}`,
		want: []string{
			"spec.allowedCSIDrivers.allowedCSIDriver[0].name: Required value",
			"spec.allowedCSIDrivers.allowedCSIDriver[0].name: Invalid value: \"\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
			"spec.allowedCSIDrivers.allowedCSIDriver[1].name: Invalid value: \"Bad_Driver\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
			"spec.allowedCSIDrivers.allowedCSIDriver[2].name: Too long: must have at most 63 bytes",
		},
	},
	{
		name: "sysctls",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "sysctls"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowedUnsafeSysctls": ["", "Bad", "*", "kernel.*"], "forbiddenSysctls": ["kernel.msgmax", "net.*"]}}`,
		want: []string{
			"spec.allowedUnsafeSysctls[0]: Invalid value: \"\": empty sysctl not allowed",
			"spec.allowedUnsafeSysctls[1]: Invalid value: \"Bad\": must have at most 253 characters and match regex ([a-z0-9]([-_a-z0-9]*[a-z0-9])?\\.)*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]",
			"spec.allowedUnsafeSysctls.items: Forbidden: if '*' is present, must not specify other sysctls",
			"spec.forbiddenSysctls[0]: Invalid value: \"kernel.msgmax\": sysctl overlaps with *",
			"spec.forbiddenSysctls[1]: Invalid value: \"net.*\": sysctl overlaps with *",
			"spec.forbiddenSysctls[0]: Invalid value: \"kernel.msgmax\": sysctl overlaps with kernel.*",
		},
	},
	{
		name: "sysctl-overlap",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "sysctl-overlap"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "allowedUnsafeSysctls": ["kernel.msg*", "net.core.somaxconn", "a.b", "x.*"], "forbiddenSysctls": ["kernel.*", "net.core.*", "a.b", "x.y.*"]}}`,
		want: []string{
			"spec.allowedUnsafeSysctls[0]: Invalid value: \"kernel.msg*\": sysctl overlaps with kernel.*",
			"spec.allowedUnsafeSysctls[1]: Invalid value: \"net.core.somaxconn\": sysctl overlaps with net.core.*",
			"spec.allowedUnsafeSysctls[2]: Invalid value: \"a.b\": sysctl overlaps with a.b",
			"spec.forbiddenSysctls[3]: Invalid value: \"x.y.*\": sysctl overlaps with x.*",
		},
	},
	{
		name: "runtimeclass",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "runtimeclass"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "runtimeClass": {"allowedRuntimeClassNames": ["*", "gvisor", "gvisor", "Bad_Name"], "defaultRuntimeClassName": "kata"}}}`,
		want: []string{
			"spec.runtimeClass.allowedRuntimeClassNames[2]: Duplicate value: \"gvisor\"",
			"spec.runtimeClass.allowedRuntimeClassNames[3]: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
			"spec.runtimeClass.allowedRuntimeClassNames: Invalid value: []string{\"*\", \"gvisor\", \"gvisor\", \"Bad_Name\"}: if '*' is present, must not specify other RuntimeClass names",
		},
	},
	{
		name: "runtimeclass2",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "runtimeclass2"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"], "runtimeClass": {"allowedRuntimeClassNames": ["gvisor"], "defaultRuntimeClassName": "kata"}}}`,
		want: []string{
			"spec.runtimeClass.allowedRuntimeClassNames: Required value: default \"kata\" must be allowed",
		},
	},
	{
		name: "annotations",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "annotations", "annotations": {"apparmor.security.beta.kubernetes.io/defaultProfileName": "bad", "apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default,bad,worse", "seccomp.security.alpha.kubernetes.io/defaultProfileName": "localhost//abs", "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "runtime/default,,localhost/../x,*,foo"}}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"]}}`,
		want: []string{
			"metadata.annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]: Invalid value: \"bad\": invalid AppArmor profile name: \"bad\"",
			"metadata.annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]: Invalid value: \"runtime/default,bad,worse\": invalid AppArmor profile name: \"bad\"",
			"metadata.annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]: Invalid value: \"runtime/default,bad,worse\": invalid AppArmor profile name: \"worse\"",
			"metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]: Invalid value: \"/abs\": must be a relative path",
			"metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: \"\": must be a valid seccomp profile",
			"metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: \"../x\": must not contain '..'",
			"metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: \"foo\": must be a valid seccomp profile",
		},
	},
	{
		name: "Bad_Name",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "Bad_Name"}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"]}}`,
		want: []string{
			"metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		},
	},
	{
		name: "meta",
		psp:  `{"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "meta", "namespace": "ns", "finalizers": ["foo", "example.com/bar", "orphan"]}, "spec": {"seLinux": {"rule": "RunAsAny"}, "runAsUser": {"rule": "RunAsAny"}, "supplementalGroups": {"rule": "RunAsAny"}, "fsGroup": {"rule": "RunAsAny"}, "volumes": ["*"]}}`,
		want: []string{
			"metadata.namespace: Forbidden: not allowed on this type",
			"metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified",
		},
	},
}

func TestValidate(t *testing.T) {
	for _, tc := range validationCases {
		t.Run(tc.name, func(t *testing.T) {
			p := &PodSecurityPolicy{}
			if err := json.Unmarshal([]byte(tc.psp), p); err != nil {
				t.Fatal(err)
			}
			before := *p
			var got []string
			for _, e := range Validate(p) {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n got  %q\n want %q", got, tc.want)
			}
			if !reflect.DeepEqual(*p, before) {
				t.Errorf("Validate modified the PSP")
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	if errs := Validate(nil); len(errs) != 1 {
		t.Errorf("Validate(nil) = %v", errs)
	}
}

func TestAllFSTypes(t *testing.T) {
	types := AllFSTypes()
	if len(types) != 29 {
		t.Errorf("%d volume types", len(types))
	}
	types[0] = "changed"
	if AllFSTypes()[0] == "changed" {
		t.Errorf("AllFSTypes shares its slice")
	}
}
