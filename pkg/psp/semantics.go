package psp

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// This file holds the PSP semantics that both the v1.24 admission model
// (pkg/pspadmission) and the converters (pkg/translate) need. Kept in one
// place so that what the audit predicts and what the converted policies
// enforce cannot drift apart.

// systemNamespaces are the namespaces kubeadm-style clusters create for the
// control plane: reports flag them and converted policies leave them alone
// by default.
var systemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// SystemNamespaces returns the default system namespace list, a fresh
// slice each call so that callers may keep and change it.
func SystemNamespaces() []string { return slices.Clone(systemNamespaces) }

// HostPathHasPrefix is allowedHostPaths' pathPrefix match as v1.24 did it:
// one trailing slash is dropped from both sides, then the prefix must match
// whole path segments ("/foo" covers "/foo", "/foo/" and "/foo/bar", not
// "/foobar").
func HostPathHasPrefix(path, prefix string) bool {
	path = strings.TrimSuffix(path, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// HostPathPrefixMatch spells HostPathHasPrefix for prefix as string tests a
// policy language has (equality and starts-with), where trimming the path
// is awkward: path matches exactly when
//
//	(hasExact && path == exact) || strings.HasPrefix(path, under)
//
// hasExact is false for a prefix ending in "//": the trimmed path can then
// never equal the trimmed prefix without also starting with under.
func HostPathPrefixMatch(prefix string) (exact string, hasExact bool, under string) {
	p := strings.TrimSuffix(prefix, "/")
	return p, !strings.HasSuffix(p, "/"), p + "/"
}

// SELinuxLevelsEqual compares MLS/MCS levels "sensitivity:categories" the
// way PSP's MustRunAs did: the sensitivities must be equal and the
// categories equal as a multiset ("s0:c6,c0" equals "s0:c0,c6"). A level
// without a colon only equals itself.
func SELinuxLevelsEqual(want, got string) bool {
	if want == got {
		return true
	}
	ws, wc, wok := strings.Cut(want, ":")
	gs, gc, gok := strings.Cut(got, ":")
	if !wok || !gok || ws != gs {
		return false
	}
	a, b := strings.Split(wc, ","), strings.Split(gc, ",")
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// Pod annotations the seccomp and AppArmor strategies read and set, from
// before those settings were fields; the API server still syncs them with
// the fields in v1.24.
const (
	SeccompPodAnnotation              = "seccomp.security.alpha.kubernetes.io/pod"
	SeccompContainerAnnotationPrefix  = "container.seccomp.security.alpha.kubernetes.io/"
	AppArmorContainerAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"
)

// SeccompProfileForAnnotation is the seccompProfile field the API server
// derives from a legacy seccomp annotation value when it syncs the two (up
// to v1.26): "docker/default" becomes RuntimeDefault too, and a value it
// cannot translate ("localhost/" without a file, anything unknown) gives
// nil, leaving the field unset. The admission model syncs pods with it and
// the kyverno mutation writes the field PSP's default would have produced.
func SeccompProfileForAnnotation(a string) *corev1.SeccompProfile {
	switch {
	case a == SeccompProfileUnconfined:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case a == SeccompProfileRuntimeDefault, a == SeccompProfileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(a, SeccompLocalhostProfilePrefix):
		if name := strings.TrimPrefix(a, SeccompLocalhostProfilePrefix); name != "" {
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}
		}
	}
	return nil
}

// Names in the projected volume the ServiceAccount admission plugin injects.
const (
	// ServiceAccountTokenPath is the token's path in the volume.
	ServiceAccountTokenPath = "token"
	// RootCAConfigMap holds the cluster CA bundle every namespace gets.
	RootCAConfigMap = "kube-root-ca.crt"
	// NamespaceFilePath is the downward API file with the pod's namespace.
	NamespaceFilePath = "namespace"
)

// IsServiceAccountTokenProjection reports whether v holds only what the
// ServiceAccount admission plugin puts in its token volume, in any
// combination: a token with no audience at path "token", the
// kube-root-ca.crt ConfigMap and the namespace from the downward API. A PSP
// that allows secret volumes admits such a volume even without projected.
// Every source set in a projection is checked, as upstream does (the API
// server allows one per projection anyway).
func IsServiceAccountTokenProjection(v *corev1.ProjectedVolumeSource) bool {
	if v == nil {
		return false
	}
	for _, s := range v.Sources {
		if s.ServiceAccountToken == nil && s.ConfigMap == nil && s.DownwardAPI == nil {
			return false
		}
		if t := s.ServiceAccountToken; t != nil && (t.Path != ServiceAccountTokenPath || t.Audience != "") {
			return false
		}
		if s.ConfigMap != nil && s.ConfigMap.Name != RootCAConfigMap {
			return false
		}
		if s.DownwardAPI != nil {
			for _, d := range s.DownwardAPI.Items {
				if d.Path != NamespaceFilePath || d.FieldRef == nil || d.FieldRef.APIVersion != "v1" || d.FieldRef.FieldPath != "metadata.namespace" {
					return false
				}
			}
		}
	}
	return true
}

// volumeSources are the volume types v1.24 knew, in the order its
// admission looked for them, each with the test for its pod field.
var volumeSources = []struct {
	fsType FSType
	set    func(*corev1.VolumeSource) bool
}{
	{HostPath, func(v *corev1.VolumeSource) bool { return v.HostPath != nil }},
	{EmptyDir, func(v *corev1.VolumeSource) bool { return v.EmptyDir != nil }},
	{GCEPersistentDisk, func(v *corev1.VolumeSource) bool { return v.GCEPersistentDisk != nil }},
	{AWSElasticBlockStore, func(v *corev1.VolumeSource) bool { return v.AWSElasticBlockStore != nil }},
	{GitRepo, func(v *corev1.VolumeSource) bool { return v.GitRepo != nil }},
	{Secret, func(v *corev1.VolumeSource) bool { return v.Secret != nil }},
	{NFS, func(v *corev1.VolumeSource) bool { return v.NFS != nil }},
	{ISCSI, func(v *corev1.VolumeSource) bool { return v.ISCSI != nil }},
	{Glusterfs, func(v *corev1.VolumeSource) bool { return v.Glusterfs != nil }},
	{PersistentVolumeClaim, func(v *corev1.VolumeSource) bool { return v.PersistentVolumeClaim != nil }},
	{RBD, func(v *corev1.VolumeSource) bool { return v.RBD != nil }},
	{FlexVolume, func(v *corev1.VolumeSource) bool { return v.FlexVolume != nil }},
	{Cinder, func(v *corev1.VolumeSource) bool { return v.Cinder != nil }},
	{CephFS, func(v *corev1.VolumeSource) bool { return v.CephFS != nil }},
	{Flocker, func(v *corev1.VolumeSource) bool { return v.Flocker != nil }},
	{DownwardAPI, func(v *corev1.VolumeSource) bool { return v.DownwardAPI != nil }},
	{FC, func(v *corev1.VolumeSource) bool { return v.FC != nil }},
	{AzureFile, func(v *corev1.VolumeSource) bool { return v.AzureFile != nil }},
	{ConfigMap, func(v *corev1.VolumeSource) bool { return v.ConfigMap != nil }},
	{VsphereVolume, func(v *corev1.VolumeSource) bool { return v.VsphereVolume != nil }},
	{Quobyte, func(v *corev1.VolumeSource) bool { return v.Quobyte != nil }},
	{AzureDisk, func(v *corev1.VolumeSource) bool { return v.AzureDisk != nil }},
	{PhotonPersistentDisk, func(v *corev1.VolumeSource) bool { return v.PhotonPersistentDisk != nil }},
	{StorageOS, func(v *corev1.VolumeSource) bool { return v.StorageOS != nil }},
	{Projected, func(v *corev1.VolumeSource) bool { return v.Projected != nil }},
	{PortworxVolume, func(v *corev1.VolumeSource) bool { return v.PortworxVolume != nil }},
	{ScaleIO, func(v *corev1.VolumeSource) bool { return v.ScaleIO != nil }},
	{CSI, func(v *corev1.VolumeSource) bool { return v.CSI != nil }},
	{Ephemeral, func(v *corev1.VolumeSource) bool { return v.Ephemeral != nil }},
}

// VolumeFSType names a volume's type as v1.24 PSP admission detected it:
// the first set source in upstream's order; "" when none is set (a source
// added after v1.24, such as image, which only "*" allows).
func VolumeFSType(v *corev1.VolumeSource) FSType {
	for _, s := range volumeSources {
		if s.set(v) {
			return s.fsType
		}
	}
	return ""
}

// VolumeFSTypes lists every source set in v, in the same order. The API
// server accepts exactly one; policies that test each field separately
// (has(v.hostPath) || has(v.secret) ...) see them all.
func VolumeFSTypes(v *corev1.VolumeSource) []FSType {
	var out []FSType
	for _, s := range volumeSources {
		if s.set(v) {
			out = append(out, s.fsType)
		}
	}
	return out
}

// SortedCapabilities returns the capability names in caps, sorted and
// without duplicates; nil when caps is empty. Names are compared as
// written: PSP admission did not fold case or the CAP_ prefix.
func SortedCapabilities(caps []corev1.Capability) []string {
	if len(caps) == 0 {
		return nil
	}
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// IDInRanges reports whether id is in any of ranges (bounds included): a
// PSP's ranges are alternatives, never all required at once.
func IDInRanges(id int64, ranges []IDRange) bool {
	for _, r := range ranges {
		if id >= r.Min && id <= r.Max {
			return true
		}
	}
	return false
}

// HostPortInRanges reports whether port is in any of ranges (bounds
// included), as hostPorts allowed it.
func HostPortInRanges(port int32, ranges []HostPortRange) bool {
	for _, r := range ranges {
		if port >= r.Min && port <= r.Max {
			return true
		}
	}
	return false
}

// RuntimeClassAllowed reports whether allowedRuntimeClassNames lets a pod
// use the runtime class name: listed, or "*" listed.
func RuntimeClassAllowed(name string, allowed []string) bool {
	return slices.Contains(allowed, AllowAllRuntimeClassNames) || slices.Contains(allowed, name)
}
