// Package psp holds the project's own copy of the policy/v1beta1
// PodSecurityPolicy API types.
//
// k8s.io/api dropped these types in v0.29, but clusters being migrated still
// serve them (up to Kubernetes 1.24) and teams keep them in Git, so the tool
// reads them by group/version/resource into these structs. Field names and
// JSON tags match the upstream API exactly so that objects round-trip.
package psp

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group, Version and Resource under which the API server served PSPs.
const (
	Group    = "policy"
	Version  = "v1beta1"
	Resource = "podsecuritypolicies"
	Kind     = "PodSecurityPolicy"
)

// GroupVersionResource is what the dynamic client lists.
var GroupVersionResource = schema.GroupVersionResource{Group: Group, Version: Version, Resource: Resource}

// GroupVersionKind identifies PSP manifests in files.
var GroupVersionKind = schema.GroupVersionKind{Group: Group, Version: Version, Kind: Kind}

// Annotations that PSPs used for fields never promoted to the spec.
const (
	SeccompAllowedProfilesAnnotation  = "seccomp.security.alpha.kubernetes.io/allowedProfileNames"
	SeccompDefaultProfileAnnotation   = "seccomp.security.alpha.kubernetes.io/defaultProfileName"
	AppArmorAllowedProfilesAnnotation = "apparmor.security.beta.kubernetes.io/allowedProfileNames"
	AppArmorDefaultProfileAnnotation  = "apparmor.security.beta.kubernetes.io/defaultProfileName"
	// PodAnnotation is set on each admitted pod to the name of the PSP that admitted it.
	PodAnnotation = "kubernetes.io/psp"
)

// PodSecurityPolicy governs the ability to make requests that affect the
// security context applied to a pod and container.
type PodSecurityPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              PodSecurityPolicySpec `json:"spec,omitempty"`
}

// PodSecurityPolicySpec is the policy/v1beta1 PSP spec, every field.
type PodSecurityPolicySpec struct {
	Privileged                      bool                              `json:"privileged,omitempty"`
	DefaultAddCapabilities          []corev1.Capability               `json:"defaultAddCapabilities,omitempty"`
	RequiredDropCapabilities        []corev1.Capability               `json:"requiredDropCapabilities,omitempty"`
	AllowedCapabilities             []corev1.Capability               `json:"allowedCapabilities,omitempty"`
	Volumes                         []FSType                          `json:"volumes,omitempty"`
	HostNetwork                     bool                              `json:"hostNetwork,omitempty"`
	HostPorts                       []HostPortRange                   `json:"hostPorts,omitempty"`
	HostPID                         bool                              `json:"hostPID,omitempty"`
	HostIPC                         bool                              `json:"hostIPC,omitempty"`
	SELinux                         SELinuxStrategyOptions            `json:"seLinux"`
	RunAsUser                       RunAsUserStrategyOptions          `json:"runAsUser"`
	RunAsGroup                      *RunAsGroupStrategyOptions        `json:"runAsGroup,omitempty"`
	SupplementalGroups              SupplementalGroupsStrategyOptions `json:"supplementalGroups"`
	FSGroup                         FSGroupStrategyOptions            `json:"fsGroup"`
	ReadOnlyRootFilesystem          bool                              `json:"readOnlyRootFilesystem,omitempty"`
	DefaultAllowPrivilegeEscalation *bool                             `json:"defaultAllowPrivilegeEscalation,omitempty"`
	AllowPrivilegeEscalation        *bool                             `json:"allowPrivilegeEscalation,omitempty"`
	AllowedHostPaths                []AllowedHostPath                 `json:"allowedHostPaths,omitempty"`
	AllowedFlexVolumes              []AllowedFlexVolume               `json:"allowedFlexVolumes,omitempty"`
	AllowedCSIDrivers               []AllowedCSIDriver                `json:"allowedCSIDrivers,omitempty"`
	AllowedUnsafeSysctls            []string                          `json:"allowedUnsafeSysctls,omitempty"`
	ForbiddenSysctls                []string                          `json:"forbiddenSysctls,omitempty"`
	AllowedProcMountTypes           []corev1.ProcMountType            `json:"allowedProcMountTypes,omitempty"`
	RuntimeClass                    *RuntimeClassStrategyOptions      `json:"runtimeClass,omitempty"`
}

// AllowedHostPath is a host path prefix a pod may mount.
type AllowedHostPath struct {
	PathPrefix string `json:"pathPrefix,omitempty"`
	ReadOnly   bool   `json:"readOnly,omitempty"`
}

// AllowedFlexVolume names a flexVolume driver a pod may use.
type AllowedFlexVolume struct {
	Driver string `json:"driver"`
}

// AllowedCSIDriver names an inline CSI driver a pod may use.
type AllowedCSIDriver struct {
	Name string `json:"name"`
}

// FSType is a volume type name as used in PSP.spec.volumes.
type FSType string

// Volume type names a PSP may allow; All ("*") allows every type.
const (
	AzureFile             FSType = "azureFile"
	Flocker               FSType = "flocker"
	FlexVolume            FSType = "flexVolume"
	HostPath              FSType = "hostPath"
	EmptyDir              FSType = "emptyDir"
	GCEPersistentDisk     FSType = "gcePersistentDisk"
	AWSElasticBlockStore  FSType = "awsElasticBlockStore"
	GitRepo               FSType = "gitRepo"
	Secret                FSType = "secret"
	NFS                   FSType = "nfs"
	ISCSI                 FSType = "iscsi"
	Glusterfs             FSType = "glusterfs"
	PersistentVolumeClaim FSType = "persistentVolumeClaim"
	RBD                   FSType = "rbd"
	Cinder                FSType = "cinder"
	CephFS                FSType = "cephFS"
	DownwardAPI           FSType = "downwardAPI"
	FC                    FSType = "fc"
	ConfigMap             FSType = "configMap"
	VsphereVolume         FSType = "vsphereVolume"
	Quobyte               FSType = "quobyte"
	AzureDisk             FSType = "azureDisk"
	PhotonPersistentDisk  FSType = "photonPersistentDisk"
	StorageOS             FSType = "storageos"
	Projected             FSType = "projected"
	PortworxVolume        FSType = "portworxVolume"
	ScaleIO               FSType = "scaleIO"
	CSI                   FSType = "csi"
	Ephemeral             FSType = "ephemeral"
	All                   FSType = "*"
)

// HostPortRange is an inclusive range of host ports.
type HostPortRange struct {
	Min int32 `json:"min"`
	Max int32 `json:"max"`
}

// SELinuxStrategyOptions selects the SELinux strategy.
type SELinuxStrategyOptions struct {
	Rule           SELinuxStrategy        `json:"rule"`
	SELinuxOptions *corev1.SELinuxOptions `json:"seLinuxOptions,omitempty"`
}

// SELinuxStrategy is MustRunAs or RunAsAny.
type SELinuxStrategy string

// SELinux strategies.
const (
	SELinuxStrategyMustRunAs SELinuxStrategy = "MustRunAs"
	SELinuxStrategyRunAsAny  SELinuxStrategy = "RunAsAny"
)

// RunAsUserStrategyOptions selects the runAsUser strategy.
type RunAsUserStrategyOptions struct {
	Rule   RunAsUserStrategy `json:"rule"`
	Ranges []IDRange         `json:"ranges,omitempty"`
}

// RunAsGroupStrategyOptions selects the runAsGroup strategy.
type RunAsGroupStrategyOptions struct {
	Rule   RunAsGroupStrategy `json:"rule"`
	Ranges []IDRange          `json:"ranges,omitempty"`
}

// IDRange is an inclusive range of user or group IDs.
type IDRange struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// RunAsUserStrategy is MustRunAs, MustRunAsNonRoot or RunAsAny.
type RunAsUserStrategy string

// runAsUser strategies.
const (
	RunAsUserStrategyMustRunAs        RunAsUserStrategy = "MustRunAs"
	RunAsUserStrategyMustRunAsNonRoot RunAsUserStrategy = "MustRunAsNonRoot"
	RunAsUserStrategyRunAsAny         RunAsUserStrategy = "RunAsAny"
)

// RunAsGroupStrategy is MayRunAs, MustRunAs or RunAsAny.
type RunAsGroupStrategy string

// runAsGroup strategies.
const (
	RunAsGroupStrategyMayRunAs  RunAsGroupStrategy = "MayRunAs"
	RunAsGroupStrategyMustRunAs RunAsGroupStrategy = "MustRunAs"
	RunAsGroupStrategyRunAsAny  RunAsGroupStrategy = "RunAsAny"
)

// FSGroupStrategyOptions selects the fsGroup strategy.
type FSGroupStrategyOptions struct {
	Rule   FSGroupStrategyType `json:"rule,omitempty"`
	Ranges []IDRange           `json:"ranges,omitempty"`
}

// FSGroupStrategyType is MayRunAs, MustRunAs or RunAsAny.
type FSGroupStrategyType string

// fsGroup strategies.
const (
	FSGroupStrategyMayRunAs  FSGroupStrategyType = "MayRunAs"
	FSGroupStrategyMustRunAs FSGroupStrategyType = "MustRunAs"
	FSGroupStrategyRunAsAny  FSGroupStrategyType = "RunAsAny"
)

// SupplementalGroupsStrategyOptions selects the supplementalGroups strategy.
type SupplementalGroupsStrategyOptions struct {
	Rule   SupplementalGroupsStrategyType `json:"rule,omitempty"`
	Ranges []IDRange                      `json:"ranges,omitempty"`
}

// SupplementalGroupsStrategyType is MayRunAs, MustRunAs or RunAsAny.
type SupplementalGroupsStrategyType string

// supplementalGroups strategies.
const (
	SupplementalGroupsStrategyMayRunAs  SupplementalGroupsStrategyType = "MayRunAs"
	SupplementalGroupsStrategyMustRunAs SupplementalGroupsStrategyType = "MustRunAs"
	SupplementalGroupsStrategyRunAsAny  SupplementalGroupsStrategyType = "RunAsAny"
)

// RuntimeClassStrategyOptions restricts and defaults runtimeClassName.
type RuntimeClassStrategyOptions struct {
	AllowedRuntimeClassNames []string `json:"allowedRuntimeClassNames"`
	DefaultRuntimeClassName  *string  `json:"defaultRuntimeClassName,omitempty"`
}

// AllowAllRuntimeClassNames ("*") in AllowedRuntimeClassNames allows any class.
const AllowAllRuntimeClassNames = "*"
