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

// VolumeFSType names a volume's type as v1.24 PSP admission detected it:
// the first set source in upstream's order; "" when none is set (a source
// added after v1.24, such as image, which only "*" allows).
func VolumeFSType(v *corev1.VolumeSource) FSType {
	switch {
	case v.HostPath != nil:
		return HostPath
	case v.EmptyDir != nil:
		return EmptyDir
	case v.GCEPersistentDisk != nil:
		return GCEPersistentDisk
	case v.AWSElasticBlockStore != nil:
		return AWSElasticBlockStore
	case v.GitRepo != nil:
		return GitRepo
	case v.Secret != nil:
		return Secret
	case v.NFS != nil:
		return NFS
	case v.ISCSI != nil:
		return ISCSI
	case v.Glusterfs != nil:
		return Glusterfs
	case v.PersistentVolumeClaim != nil:
		return PersistentVolumeClaim
	case v.RBD != nil:
		return RBD
	case v.FlexVolume != nil:
		return FlexVolume
	case v.Cinder != nil:
		return Cinder
	case v.CephFS != nil:
		return CephFS
	case v.Flocker != nil:
		return Flocker
	case v.DownwardAPI != nil:
		return DownwardAPI
	case v.FC != nil:
		return FC
	case v.AzureFile != nil:
		return AzureFile
	case v.ConfigMap != nil:
		return ConfigMap
	case v.VsphereVolume != nil:
		return VsphereVolume
	case v.Quobyte != nil:
		return Quobyte
	case v.AzureDisk != nil:
		return AzureDisk
	case v.PhotonPersistentDisk != nil:
		return PhotonPersistentDisk
	case v.StorageOS != nil:
		return StorageOS
	case v.Projected != nil:
		return Projected
	case v.PortworxVolume != nil:
		return PortworxVolume
	case v.ScaleIO != nil:
		return ScaleIO
	case v.CSI != nil:
		return CSI
	case v.Ephemeral != nil:
		return Ephemeral
	}
	return ""
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
