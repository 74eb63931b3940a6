package translate

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Defaults are what a PSP filled into a pod it admitted (the provider's
// defaulting in v1.24 PSP admission, as pkg/pspadmission models it). Only
// the kyverno engine's --mutate renders them; every engine validates that
// the resulting values are there.
type Defaults struct {
	// RunAsUser is the UID of runAsUser MustRunAs (first range's min),
	// written into each container that has none at either level.
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsNonRoot marks containers without a UID and without runAsNonRoot
	// (runAsUser MustRunAsNonRoot).
	RunAsNonRoot bool `json:"runAsNonRoot,omitempty"`
	// RunAsGroup is the container GID of runAsGroup MustRunAs.
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// FSGroup and SupplementalGroup are pod-level defaults (MustRunAs).
	FSGroup           *int64 `json:"fsGroup,omitempty"`
	SupplementalGroup *int64 `json:"supplementalGroup,omitempty"`
	// SELinux is the pod-level seLinuxOptions of seLinux MustRunAs. A pod
	// without them gets them at pod level, which then counts as set for
	// every container, so no container-level default is ever written.
	SELinux *corev1.SELinuxOptions `json:"seLinux,omitempty"`
	// ReadOnlyRootFilesystem defaults each container's field to true.
	ReadOnlyRootFilesystem bool `json:"readOnlyRootFilesystem,omitempty"`
	// AllowPrivilegeEscalation is the value of an unset container field:
	// defaultAllowPrivilegeEscalation, else false when the PSP forbids
	// escalation.
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
	// AddCapabilities (defaultAddCapabilities) and DropCapabilities
	// (requiredDropCapabilities), sorted and without duplicates.
	AddCapabilities  []string `json:"addCapabilities,omitempty"`
	DropCapabilities []string `json:"dropCapabilities,omitempty"`
	// SeccompProfile is the pod-level default profile annotation value.
	SeccompProfile string `json:"seccompProfile,omitempty"`
	// AppArmorProfile is the default profile of each container.
	AppArmorProfile string `json:"appArmorProfile,omitempty"`
	// RuntimeClassName is runtimeClass.defaultRuntimeClassName.
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`
}

// CompileDefaults reads the defaults of a PSP that admission could build.
func CompileDefaults(p *psp.PodSecurityPolicy) Defaults {
	spec := &p.Spec
	var d Defaults
	first := func(ranges []psp.IDRange) *int64 {
		if len(ranges) == 0 {
			return nil
		}
		v := ranges[0].Min
		return &v
	}
	switch spec.RunAsUser.Rule {
	case psp.RunAsUserStrategyMustRunAs:
		d.RunAsUser = first(spec.RunAsUser.Ranges)
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		d.RunAsNonRoot = true
	}
	if spec.RunAsGroup != nil && spec.RunAsGroup.Rule == psp.RunAsGroupStrategyMustRunAs {
		d.RunAsGroup = first(spec.RunAsGroup.Ranges)
	}
	if spec.FSGroup.Rule == psp.FSGroupStrategyMustRunAs {
		d.FSGroup = first(spec.FSGroup.Ranges)
	}
	if spec.SupplementalGroups.Rule == psp.SupplementalGroupsStrategyMustRunAs {
		d.SupplementalGroup = first(spec.SupplementalGroups.Ranges)
	}
	if spec.SELinux.Rule == psp.SELinuxStrategyMustRunAs && spec.SELinux.SELinuxOptions != nil {
		d.SELinux = spec.SELinux.SELinuxOptions.DeepCopy()
	}
	d.ReadOnlyRootFilesystem = spec.ReadOnlyRootFilesystem
	switch {
	case spec.DefaultAllowPrivilegeEscalation != nil:
		v := *spec.DefaultAllowPrivilegeEscalation
		d.AllowPrivilegeEscalation = &v
	case spec.AllowPrivilegeEscalation != nil && !*spec.AllowPrivilegeEscalation:
		d.AllowPrivilegeEscalation = new(false)
	}
	d.AddCapabilities = psp.SortedCapabilities(spec.DefaultAddCapabilities)
	d.DropCapabilities = psp.SortedCapabilities(spec.RequiredDropCapabilities)
	d.SeccompProfile = p.Annotations[psp.SeccompDefaultProfileAnnotation]
	d.AppArmorProfile = p.Annotations[psp.AppArmorDefaultProfileAnnotation]
	if rc := spec.RuntimeClass; rc != nil && rc.DefaultRuntimeClassName != nil {
		name := *rc.DefaultRuntimeClassName
		d.RuntimeClassName = &name
	}
	return d
}

// PodLevel reports whether any pod-level default is set.
func (d *Defaults) PodLevel() bool {
	return d.FSGroup != nil || d.SupplementalGroup != nil || d.SELinux != nil || d.RuntimeClassName != nil
}

// ContainerLevel reports whether any container-level default is set.
func (d *Defaults) ContainerLevel() bool {
	return d.RunAsUser != nil || d.RunAsNonRoot || d.RunAsGroup != nil || d.ReadOnlyRootFilesystem ||
		d.AllowPrivilegeEscalation != nil || len(d.AddCapabilities) > 0 || len(d.DropCapabilities) > 0 || d.AppArmorProfile != ""
}

// Empty reports whether the PSP fills in nothing.
func (d *Defaults) Empty() bool {
	return !d.PodLevel() && !d.ContainerLevel() && d.SeccompProfile == ""
}
