package translate

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Rule is one check derived from one PSP field. Renderers switch on the
// concrete type to read its parameters; the Go evaluator and the CEL
// rendering are methods so that every engine shares one definition.
type Rule interface {
	// ID names the rule kind, stable across releases (e.g. "hostPorts");
	// docs/conversion.md lists them.
	ID() string
	// Field is the PSP field (or annotation) the rule comes from, e.g.
	// "spec.hostPorts".
	Field() string
	// Message is the reason reported when a pod fails the rule. It depends
	// only on the PSP, never on the pod, so every engine can state it as a
	// constant.
	Message() string
	// Allows is the Go evaluation of the rule on a pod as admission sees it
	// (defaulted, with ServiceAccount admission's changes).
	Allows(pod *corev1.Pod) bool
	// CEL is an expression over `object` (the pod) that is true exactly
	// when Allows is.
	CEL() string
}

// ForbidPrivileged: spec.privileged false (or unset) forbids privileged
// containers.
type ForbidPrivileged struct{}

// ForbidHostNamespace: spec.hostNetwork/hostPID/hostIPC false (or unset)
// forbids the pod field of the same name.
type ForbidHostNamespace struct {
	// Namespace is "hostNetwork", "hostPID" or "hostIPC".
	Namespace string
}

// HostPorts: every container hostPort must fall in one of Ranges (ORed);
// no ranges forbids host ports altogether.
type HostPorts struct{ Ranges []psp.HostPortRange }

// VolumeTypes: every volume must be of an allowed type. With
// AllowServiceAccountToken a projected volume holding only what
// ServiceAccount admission injects is allowed too, as PSP allowed it to
// policies that list secret.
type VolumeTypes struct {
	Allowed                  []psp.FSType
	AllowServiceAccountToken bool
}

// HostPathPrefixes: every hostPath volume must be under one of Prefixes.
type HostPathPrefixes struct{ Prefixes []psp.AllowedHostPath }

// HostPathReadOnly: a hostPath volume under a read-only prefix (and under no
// writable one) must be mounted read-only by every container.
type HostPathReadOnly struct{ Prefixes []psp.AllowedHostPath }

// FlexVolumeDrivers: flexVolume volumes must use one of Drivers.
type FlexVolumeDrivers struct{ Drivers []string }

// CSIDrivers: inline CSI volumes must use one of Drivers.
type CSIDrivers struct{ Drivers []string }

// RunAsUser is the runAsUser strategy. MustRunAsNonRoot ignores Ranges, as
// PSP did.
type RunAsUser struct {
	Rule   psp.RunAsUserStrategy
	Ranges []psp.IDRange
}

// GroupRule is one of the group strategies (MustRunAs, MayRunAs) of
// runAsGroup (per container), fsGroup or supplementalGroups (per pod).
type GroupRule struct {
	// Kind is "runAsGroup", "fsGroup" or "supplementalGroups".
	Kind string
	// Must is true for MustRunAs (the value must be set), false for MayRunAs.
	Must   bool
	Ranges []psp.IDRange
}

// SELinux is seLinux: MustRunAs: the pod-level options must be set and
// every container's effective options must equal Options.
type SELinux struct{ Options corev1.SELinuxOptions }

// AllowedCapabilities: containers may only add capabilities in Allowed
// (allowedCapabilities plus defaultAddCapabilities).
type AllowedCapabilities struct{ Allowed []string }

// RequiredDropCapabilities: every container must drop each of Required.
type RequiredDropCapabilities struct{ Required []string }

// ReadOnlyRootFilesystem: every container must set
// readOnlyRootFilesystem: true.
type ReadOnlyRootFilesystem struct{}

// ForbidPrivilegeEscalation: allowPrivilegeEscalation: false — every
// container must set allowPrivilegeEscalation: false.
type ForbidPrivilegeEscalation struct{}

// PrivilegeEscalationSet: defaultAllowPrivilegeEscalation: false in a PSP
// that allows escalation — every container must say whether it escalates,
// since the PSP's default no longer fills the field in.
type PrivilegeEscalationSet struct{}

// ForbiddenSysctls: no sysctl may match Patterns.
type ForbiddenSysctls struct{ Patterns []string }

// UnsafeSysctls: a sysctl that is neither safe nor matches Allowed is
// rejected (forbidden ones are ForbiddenSysctls' to report).
type UnsafeSysctls struct {
	Safe      []string
	Allowed   []string
	Forbidden []string
}

// ProcMountTypes: every container's procMount (unset meaning Default) must
// be in Allowed.
type ProcMountTypes struct{ Allowed []string }

// RuntimeClassNames: runtimeClassName must be in Allowed ("*" any); unset is
// allowed unless Required (the PSP had a default).
type RuntimeClassNames struct {
	Allowed  []string
	Required bool
}

// SeccompProfiles restricts the pod's and each container's seccompProfile
// field (the annotations are ignored by kubelets since v1.27, so they
// neither help nor hurt).
type SeccompProfiles struct {
	// Any allows every profile ("*").
	Any bool
	// Named are allowed profiles in annotation syntax ("runtime/default",
	// "unconfined", "localhost/<file>").
	Named []string
	// Unset allows leaving the profile out (container and pod).
	Unset bool
	// PodRequired demands the pod-level field (the PSP defaulted it).
	PodRequired bool
}

// AppArmorProfiles restricts each container's effective AppArmor profile
// (container field, container annotation, pod field).
type AppArmorProfiles struct {
	// Allowed profiles in annotation syntax; nil allows any.
	Allowed []string
	// Required demands a profile on every container.
	Required bool
}

// Rule IDs.
const (
	idPrivileged        = "privileged"
	idHostPorts         = "hostPorts"
	idVolumes           = "volumes"
	idHostPaths         = "allowedHostPaths"
	idHostPathsReadOnly = "allowedHostPaths.readOnly"
	idFlexVolumes       = "allowedFlexVolumes"
	idCSIDrivers        = "allowedCSIDrivers"
	idRunAsUser         = "runAsUser"
	idSELinux           = "seLinux"
	idAllowedCaps       = "allowedCapabilities"
	idRequiredDropCaps  = "requiredDropCapabilities"
	idReadOnlyRootFS    = "readOnlyRootFilesystem"
	idNoEscalation      = "allowPrivilegeEscalation"
	idEscalationSet     = "defaultAllowPrivilegeEscalation"
	idForbiddenSysctls  = "forbiddenSysctls"
	idUnsafeSysctls     = "allowedUnsafeSysctls"
	idProcMount         = "allowedProcMountTypes"
	idRuntimeClass      = "runtimeClass"
	idSeccomp           = "seccomp"
	idAppArmor          = "appArmor"
)

// ID implements Rule.
func (ForbidPrivileged) ID() string { return idPrivileged }

// Field implements Rule.
func (ForbidPrivileged) Field() string { return "spec.privileged" }

// Message implements Rule.
func (r ForbidPrivileged) Message() string {
	return r.Field() + ": privileged containers are not allowed"
}

// Allows implements Rule.
func (ForbidPrivileged) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool { return !isTrue(containerSC(c).Privileged) })
}

// ID implements Rule.
func (r ForbidHostNamespace) ID() string { return r.Namespace }

// Field implements Rule.
func (r ForbidHostNamespace) Field() string { return "spec." + r.Namespace }

// Message implements Rule.
func (r ForbidHostNamespace) Message() string {
	return fmt.Sprintf("%s: %s is not allowed", r.Field(), r.Namespace)
}

// Allows implements Rule.
func (r ForbidHostNamespace) Allows(pod *corev1.Pod) bool {
	switch r.Namespace {
	case "hostNetwork":
		return !pod.Spec.HostNetwork
	case "hostPID":
		return !pod.Spec.HostPID
	case "hostIPC":
		return !pod.Spec.HostIPC
	}
	return false
}

// ID implements Rule.
func (HostPorts) ID() string { return idHostPorts }

// Field implements Rule.
func (HostPorts) Field() string { return "spec.hostPorts" }

// Message implements Rule.
func (r HostPorts) Message() string {
	if len(r.Ranges) == 0 {
		return r.Field() + ": host ports are not allowed"
	}
	parts := make([]string, len(r.Ranges))
	for i, pr := range r.Ranges {
		parts[i] = rangeString(int64(pr.Min), int64(pr.Max))
	}
	return r.Field() + ": host ports must be in " + strings.Join(parts, ", ")
}

// Allows implements Rule.
func (r HostPorts) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		for _, p := range c.Ports {
			if p.HostPort != 0 && !psp.HostPortInRanges(p.HostPort, r.Ranges) {
				return false
			}
		}
		return true
	})
}

// volumeSources maps each PSP volume type to the pod field that holds it.
// Only cephFS differs from its JSON name.
var volumeSources = []struct {
	fsType psp.FSType
	field  string
}{
	{psp.HostPath, "hostPath"},
	{psp.EmptyDir, "emptyDir"},
	{psp.GCEPersistentDisk, "gcePersistentDisk"},
	{psp.AWSElasticBlockStore, "awsElasticBlockStore"},
	{psp.GitRepo, "gitRepo"},
	{psp.Secret, "secret"},
	{psp.NFS, "nfs"},
	{psp.ISCSI, "iscsi"},
	{psp.Glusterfs, "glusterfs"},
	{psp.PersistentVolumeClaim, "persistentVolumeClaim"},
	{psp.RBD, "rbd"},
	{psp.FlexVolume, "flexVolume"},
	{psp.Cinder, "cinder"},
	{psp.CephFS, "cephfs"},
	{psp.Flocker, "flocker"},
	{psp.DownwardAPI, "downwardAPI"},
	{psp.FC, "fc"},
	{psp.AzureFile, "azureFile"},
	{psp.ConfigMap, "configMap"},
	{psp.VsphereVolume, "vsphereVolume"},
	{psp.Quobyte, "quobyte"},
	{psp.AzureDisk, "azureDisk"},
	{psp.PhotonPersistentDisk, "photonPersistentDisk"},
	{psp.StorageOS, "storageos"},
	{psp.Projected, "projected"},
	{psp.PortworxVolume, "portworxVolume"},
	{psp.ScaleIO, "scaleIO"},
	{psp.CSI, "csi"},
	{psp.Ephemeral, "ephemeral"},
}

// ID implements Rule.
func (VolumeTypes) ID() string { return idVolumes }

// Field implements Rule.
func (VolumeTypes) Field() string { return "spec.volumes" }

// Message implements Rule.
func (r VolumeTypes) Message() string {
	if len(r.Allowed) == 0 {
		return r.Field() + ": volumes are not allowed"
	}
	names := make([]string, len(r.Allowed))
	for i, t := range r.Allowed {
		names[i] = string(t)
	}
	return r.Field() + ": only volumes of type " + strings.Join(names, ", ") + " are allowed"
}

// Allows implements Rule. A volume whose source PSP did not know (a type
// added after v1.24, such as image) is not allowed: only "*" allows it.
func (r VolumeTypes) Allows(pod *corev1.Pod) bool {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i].VolumeSource
		ok := slices.ContainsFunc(psp.VolumeFSTypes(v), func(t psp.FSType) bool { return slices.Contains(r.Allowed, t) })
		if !ok && !(r.AllowServiceAccountToken && v.Projected != nil && psp.IsServiceAccountTokenProjection(v.Projected)) {
			return false
		}
	}
	return true
}

// ID implements Rule.
func (HostPathPrefixes) ID() string { return idHostPaths }

// Field implements Rule.
func (HostPathPrefixes) Field() string { return "spec.allowedHostPaths" }

// Message implements Rule.
func (r HostPathPrefixes) Message() string {
	return r.Field() + ": hostPath volumes must be under " + strings.Join(prefixes(r.Prefixes, nil), ", ")
}

// Allows implements Rule.
func (r HostPathPrefixes) Allows(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil && !matchesAnyPrefix(r.Prefixes, v.HostPath.Path, nil) {
			return false
		}
	}
	return true
}

// prefixes lists the path prefixes, all of them (readOnly nil) or those
// whose readOnly flag equals *readOnly.
func prefixes(all []psp.AllowedHostPath, readOnly *bool) []string {
	var out []string
	for _, p := range all {
		if readOnly == nil || p.ReadOnly == *readOnly {
			out = append(out, p.PathPrefix)
		}
	}
	return out
}

func matchesAnyPrefix(all []psp.AllowedHostPath, path string, readOnly *bool) bool {
	for _, p := range prefixes(all, readOnly) {
		if psp.HostPathHasPrefix(path, p) {
			return true
		}
	}
	return false
}

// ID implements Rule.
func (HostPathReadOnly) ID() string { return idHostPathsReadOnly }

// Field implements Rule.
func (HostPathReadOnly) Field() string { return "spec.allowedHostPaths" }

// Message implements Rule.
func (r HostPathReadOnly) Message() string {
	return r.Field() + ": hostPath volumes under " + strings.Join(prefixes(r.Prefixes, new(true)), ", ") + " must be mounted read-only"
}

// Allows implements Rule. A path under a writable prefix is writable even
// when a read-only prefix matches too, as in PSP.
func (r HostPathReadOnly) Allows(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.HostPath == nil || !matchesAnyPrefix(r.Prefixes, v.HostPath.Path, new(true)) ||
			matchesAnyPrefix(r.Prefixes, v.HostPath.Path, new(false)) {
			continue
		}
		name := v.Name
		ok := allContainers(&pod.Spec, func(c *corev1.Container) bool {
			for _, m := range c.VolumeMounts {
				if m.Name == name && !m.ReadOnly {
					return false
				}
			}
			return true
		})
		if !ok {
			return false
		}
	}
	return true
}

// ID implements Rule.
func (FlexVolumeDrivers) ID() string { return idFlexVolumes }

// Field implements Rule.
func (FlexVolumeDrivers) Field() string { return "spec.allowedFlexVolumes" }

// Message implements Rule.
func (r FlexVolumeDrivers) Message() string {
	return r.Field() + ": flexVolume drivers must be one of " + strings.Join(r.Drivers, ", ")
}

// Allows implements Rule.
func (r FlexVolumeDrivers) Allows(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.FlexVolume != nil && !slices.Contains(r.Drivers, v.FlexVolume.Driver) {
			return false
		}
	}
	return true
}

// ID implements Rule.
func (CSIDrivers) ID() string { return idCSIDrivers }

// Field implements Rule.
func (CSIDrivers) Field() string { return "spec.allowedCSIDrivers" }

// Message implements Rule.
func (r CSIDrivers) Message() string {
	return r.Field() + ": inline CSI drivers must be one of " + strings.Join(r.Drivers, ", ")
}

// Allows implements Rule.
func (r CSIDrivers) Allows(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.CSI != nil && !slices.Contains(r.Drivers, v.CSI.Driver) {
			return false
		}
	}
	return true
}

// ID implements Rule.
func (RunAsUser) ID() string { return idRunAsUser }

// Field implements Rule.
func (RunAsUser) Field() string { return "spec.runAsUser" }

// Message implements Rule.
func (r RunAsUser) Message() string {
	if r.Rule == psp.RunAsUserStrategyMustRunAsNonRoot {
		return r.Field() + ": containers must run as non-root (runAsNonRoot: true or a non-zero runAsUser)"
	}
	return r.Field() + ": containers must set runAsUser in " + idRangesString(r.Ranges)
}

// Allows implements Rule.
func (r RunAsUser) Allows(pod *corev1.Pod) bool {
	psc := podSC(pod)
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		sc := containerSC(c)
		uid := effectiveInt64(sc.RunAsUser, psc.RunAsUser)
		switch r.Rule {
		case psp.RunAsUserStrategyMustRunAs:
			return uid != nil && psp.IDInRanges(*uid, r.Ranges)
		case psp.RunAsUserStrategyMustRunAsNonRoot:
			nonRoot := effectiveBool(sc.RunAsNonRoot, psc.RunAsNonRoot)
			return (nonRoot != nil || uid != nil) && (nonRoot == nil || *nonRoot) && (uid == nil || *uid != 0)
		}
		return true
	})
}

// ID implements Rule.
func (r GroupRule) ID() string { return r.Kind }

// Field implements Rule.
func (r GroupRule) Field() string { return "spec." + r.Kind }

// Message implements Rule.
func (r GroupRule) Message() string {
	what := map[string]string{
		"runAsGroup":         "containers must set runAsGroup in ",
		"fsGroup":            "the pod must set fsGroup in ",
		"supplementalGroups": "the pod must set supplementalGroups, each in ",
	}[r.Kind]
	if !r.Must {
		what = map[string]string{
			"runAsGroup":         "runAsGroup, when set, must be in ",
			"fsGroup":            "fsGroup, when set, must be in ",
			"supplementalGroups": "supplementalGroups must each be in ",
		}[r.Kind]
	}
	return r.Field() + ": " + what + idRangesString(r.Ranges)
}

// Allows implements Rule.
func (r GroupRule) Allows(pod *corev1.Pod) bool {
	psc := podSC(pod)
	one := func(g *int64) bool {
		if g == nil {
			return !r.Must
		}
		return psp.IDInRanges(*g, r.Ranges)
	}
	switch r.Kind {
	case "runAsGroup":
		return allContainers(&pod.Spec, func(c *corev1.Container) bool {
			return one(effectiveInt64(containerSC(c).RunAsGroup, psc.RunAsGroup))
		})
	case "fsGroup":
		return one(psc.FSGroup)
	case "supplementalGroups":
		if r.Must && len(psc.SupplementalGroups) == 0 {
			return false
		}
		for _, g := range psc.SupplementalGroups {
			if !psp.IDInRanges(g, r.Ranges) {
				return false
			}
		}
		return true
	}
	return false
}

func rangeString(lo, hi int64) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

func idRangesString(ranges []psp.IDRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = rangeString(r.Min, r.Max)
	}
	return strings.Join(parts, ", ")
}

// ID implements Rule.
func (SELinux) ID() string { return idSELinux }

// Field implements Rule.
func (SELinux) Field() string { return "spec.seLinux" }

// Message implements Rule.
func (r SELinux) Message() string {
	o := r.Options
	return fmt.Sprintf("%s: the pod must set seLinuxOptions and every container's must be user=%q role=%q type=%q level=%q",
		r.Field(), o.User, o.Role, o.Type, o.Level)
}

// Allows implements Rule.
func (r SELinux) Allows(pod *corev1.Pod) bool {
	psc := podSC(pod)
	if psc.SELinuxOptions == nil || !r.matches(psc.SELinuxOptions) {
		return false
	}
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		o := containerSC(c).SELinuxOptions
		return o == nil || r.matches(o)
	})
}

func (r SELinux) matches(o *corev1.SELinuxOptions) bool {
	return o.User == r.Options.User && o.Role == r.Options.Role && o.Type == r.Options.Type &&
		psp.SELinuxLevelsEqual(r.Options.Level, o.Level)
}

// ID implements Rule.
func (AllowedCapabilities) ID() string { return idAllowedCaps }

// Field implements Rule.
func (AllowedCapabilities) Field() string { return "spec.allowedCapabilities" }

// Message implements Rule.
func (r AllowedCapabilities) Message() string {
	if len(r.Allowed) == 0 {
		return r.Field() + ": containers may not add capabilities"
	}
	return r.Field() + ": containers may only add capabilities " + strings.Join(r.Allowed, ", ")
}

// Allows implements Rule.
func (r AllowedCapabilities) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		if caps := containerSC(c).Capabilities; caps != nil {
			for _, a := range caps.Add {
				if !slices.Contains(r.Allowed, string(a)) {
					return false
				}
			}
		}
		return true
	})
}

// ID implements Rule.
func (RequiredDropCapabilities) ID() string { return idRequiredDropCaps }

// Field implements Rule.
func (RequiredDropCapabilities) Field() string { return "spec.requiredDropCapabilities" }

// Message implements Rule.
func (r RequiredDropCapabilities) Message() string {
	return r.Field() + ": containers must drop " + strings.Join(r.Required, ", ")
}

// Allows implements Rule.
func (r RequiredDropCapabilities) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		var drop []corev1.Capability
		if caps := containerSC(c).Capabilities; caps != nil {
			drop = caps.Drop
		}
		for _, req := range r.Required {
			if !slices.Contains(drop, corev1.Capability(req)) {
				return false
			}
		}
		return true
	})
}

// ID implements Rule.
func (ReadOnlyRootFilesystem) ID() string { return idReadOnlyRootFS }

// Field implements Rule.
func (ReadOnlyRootFilesystem) Field() string { return "spec.readOnlyRootFilesystem" }

// Message implements Rule.
func (r ReadOnlyRootFilesystem) Message() string {
	return r.Field() + ": containers must set readOnlyRootFilesystem: true"
}

// Allows implements Rule.
func (ReadOnlyRootFilesystem) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool { return isTrue(containerSC(c).ReadOnlyRootFilesystem) })
}

// ID implements Rule.
func (ForbidPrivilegeEscalation) ID() string { return idNoEscalation }

// Field implements Rule.
func (ForbidPrivilegeEscalation) Field() string { return "spec.allowPrivilegeEscalation" }

// Message implements Rule.
func (r ForbidPrivilegeEscalation) Message() string {
	return r.Field() + ": containers must set allowPrivilegeEscalation: false"
}

// Allows implements Rule.
func (ForbidPrivilegeEscalation) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		ape := containerSC(c).AllowPrivilegeEscalation
		return ape != nil && !*ape
	})
}

// ID implements Rule.
func (PrivilegeEscalationSet) ID() string { return idEscalationSet }

// Field implements Rule.
func (PrivilegeEscalationSet) Field() string { return "spec.defaultAllowPrivilegeEscalation" }

// Message implements Rule.
func (r PrivilegeEscalationSet) Message() string {
	return r.Field() + ": containers must set allowPrivilegeEscalation (the PodSecurityPolicy defaulted it to false)"
}

// Allows implements Rule.
func (PrivilegeEscalationSet) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool { return containerSC(c).AllowPrivilegeEscalation != nil })
}

// ID implements Rule.
func (ForbiddenSysctls) ID() string { return idForbiddenSysctls }

// Field implements Rule.
func (ForbiddenSysctls) Field() string { return "spec.forbiddenSysctls" }

// Message implements Rule.
func (r ForbiddenSysctls) Message() string {
	return r.Field() + ": sysctls " + strings.Join(r.Patterns, ", ") + " are forbidden"
}

// Allows implements Rule.
func (r ForbiddenSysctls) Allows(pod *corev1.Pod) bool {
	for _, s := range podSC(pod).Sysctls {
		if psp.SysctlMatches(r.Patterns, normalizeSysctl(s.Name)) {
			return false
		}
	}
	return true
}

// ID implements Rule.
func (UnsafeSysctls) ID() string { return idUnsafeSysctls }

// Field implements Rule.
func (UnsafeSysctls) Field() string { return "spec.allowedUnsafeSysctls" }

// Message implements Rule.
func (r UnsafeSysctls) Message() string {
	if len(r.Allowed) == 0 {
		return r.Field() + ": only safe sysctls are allowed"
	}
	return r.Field() + ": only safe sysctls and " + strings.Join(r.Allowed, ", ") + " are allowed"
}

// Allows implements Rule.
func (r UnsafeSysctls) Allows(pod *corev1.Pod) bool {
	for _, s := range podSC(pod).Sysctls {
		n := normalizeSysctl(s.Name)
		if !psp.SysctlMatches(r.Forbidden, n) && !slices.Contains(r.Safe, n) && !psp.SysctlMatches(r.Allowed, n) {
			return false
		}
	}
	return true
}

// ID implements Rule.
func (ProcMountTypes) ID() string { return idProcMount }

// Field implements Rule.
func (ProcMountTypes) Field() string { return "spec.allowedProcMountTypes" }

// Message implements Rule.
func (r ProcMountTypes) Message() string {
	return r.Field() + ": containers must use procMount " + strings.Join(r.Allowed, " or ")
}

// Allows implements Rule.
func (r ProcMountTypes) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		pm := string(corev1.DefaultProcMount)
		if p := containerSC(c).ProcMount; p != nil {
			pm = string(*p)
		}
		return slices.Contains(r.Allowed, pm)
	})
}

// ID implements Rule.
func (RuntimeClassNames) ID() string { return idRuntimeClass }

// Field implements Rule.
func (RuntimeClassNames) Field() string { return "spec.runtimeClass" }

// Message implements Rule.
func (r RuntimeClassNames) Message() string {
	msg := r.Field() + ": runtimeClassName must be "
	if slices.Contains(r.Allowed, psp.AllowAllRuntimeClassNames) {
		msg += "set"
	} else {
		msg += "one of " + strings.Join(r.Allowed, ", ")
		if !r.Required {
			msg += " when set"
		}
	}
	return msg
}

// Allows implements Rule.
func (r RuntimeClassNames) Allows(pod *corev1.Pod) bool {
	if pod.Spec.RuntimeClassName == nil {
		return !r.Required
	}
	return psp.RuntimeClassAllowed(*pod.Spec.RuntimeClassName, r.Allowed)
}

// ID implements Rule.
func (SeccompProfiles) ID() string { return idSeccomp }

// Field implements Rule.
func (SeccompProfiles) Field() string {
	return "metadata.annotations[" + psp.SeccompAllowedProfilesAnnotation + "]"
}

// Message implements Rule.
func (r SeccompProfiles) Message() string {
	what := ""
	switch {
	case r.Any:
		what = "any profile"
	case len(r.Named) > 0:
		what = "one of " + strings.Join(r.Named, ", ")
	}
	switch {
	case what == "" && r.Unset && !r.PodRequired:
		return r.Field() + ": seccompProfile must not be set"
	case what == "":
		return r.Field() + ": no seccomp profile is allowed"
	case r.Unset && !r.PodRequired:
		return r.Field() + ": seccompProfile must be unset or " + what
	}
	return r.Field() + ": the pod must set securityContext.seccompProfile, and every seccompProfile must be " + what
}

// Allows implements Rule.
func (r SeccompProfiles) Allows(pod *corev1.Pod) bool {
	podProfile := podSC(pod).SeccompProfile
	if podProfile == nil && r.PodRequired || !r.allows(podProfile) {
		return false
	}
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		p := containerSC(c).SeccompProfile
		if p == nil {
			p = podProfile
		}
		return r.allows(p)
	})
}

func (r SeccompProfiles) allows(p *corev1.SeccompProfile) bool {
	if p == nil {
		return r.Unset
	}
	return r.Any || slices.Contains(r.Named, seccompProfileName(p))
}

// ID implements Rule.
func (AppArmorProfiles) ID() string { return idAppArmor }

// Field implements Rule.
func (AppArmorProfiles) Field() string {
	return "metadata.annotations[" + psp.AppArmorAllowedProfilesAnnotation + "]"
}

// Message implements Rule.
func (r AppArmorProfiles) Message() string {
	switch {
	case r.Allowed == nil:
		return r.Field() + ": every container must set an AppArmor profile"
	case len(r.Allowed) == 0:
		return r.Field() + ": no AppArmor profile is allowed"
	case r.Required:
		return r.Field() + ": every container must set an AppArmor profile in " + strings.Join(r.Allowed, ", ")
	}
	return r.Field() + ": AppArmor profiles must be in " + strings.Join(r.Allowed, ", ")
}

// Allows implements Rule.
func (r AppArmorProfiles) Allows(pod *corev1.Pod) bool {
	return allContainers(&pod.Spec, func(c *corev1.Container) bool {
		p := effectiveAppArmor(pod, c)
		if p == "" {
			return !r.Required
		}
		return r.Allowed == nil || slices.Contains(r.Allowed, p)
	})
}
