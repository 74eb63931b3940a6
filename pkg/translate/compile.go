package translate

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Policy is one PSP in the rule model.
type Policy struct {
	// Name is the PSP's name.
	Name string
	// Rules are checked in this order; a pod passes the policy when it
	// passes every rule.
	Rules []Rule
	// Notes explain what the conversion changed on purpose (deviations).
	Notes []string
	// DefaultNotes name the defaults the PSP applied that validate-only
	// policies no longer apply: the workload's job now, unless kyverno
	// --mutate writes them.
	DefaultNotes []string
	// Defaults are what the PSP filled into pods (kyverno --mutate).
	Defaults Defaults
}

// CompilePolicy turns one valid PSP into its rules. The PSP must have passed
// psp.Validate and be buildable by admission (pspadmission.NewEvaluator
// reports those that are not); Compile checks that for callers.
//
// Every field is translated; an unset boolean is a rule (PSP denied what it
// did not allow), an empty list is a rule that allows nothing, and "*" is
// no rule. Defaults become requirements: see the package documentation.
func CompilePolicy(p *psp.PodSecurityPolicy) Policy {
	spec := &p.Spec
	pol := Policy{Name: p.Name, Defaults: CompileDefaults(p)}
	add := func(r Rule) { pol.Rules = append(pol.Rules, r) }
	note := func(s string) { pol.Notes = append(pol.Notes, s) }
	defaultNote := func(s string) { pol.DefaultNotes = append(pol.DefaultNotes, s) }

	if !spec.Privileged {
		add(ForbidPrivileged{})
	}
	for _, ns := range []struct {
		name    string
		allowed bool
	}{{"hostNetwork", spec.HostNetwork}, {"hostPID", spec.HostPID}, {"hostIPC", spec.HostIPC}} {
		if !ns.allowed {
			add(ForbidHostNamespace{Namespace: ns.name})
		}
	}
	if !allHostPorts(spec.HostPorts) {
		add(HostPorts{Ranges: slices.Clone(spec.HostPorts)})
	}

	volumesAll := slices.Contains(spec.Volumes, psp.All)
	allowsType := func(t psp.FSType) bool { return volumesAll || slices.Contains(spec.Volumes, t) }
	if !volumesAll {
		var allowed []psp.FSType
		for _, v := range spec.Volumes {
			if !slices.Contains(allowed, v) {
				allowed = append(allowed, v)
			}
		}
		add(VolumeTypes{
			Allowed:                  allowed,
			AllowServiceAccountToken: slices.Contains(allowed, psp.Secret) && !slices.Contains(allowed, psp.Projected),
		})
	}
	if allowsType(psp.HostPath) && len(spec.AllowedHostPaths) > 0 {
		add(HostPathPrefixes{Prefixes: slices.Clone(spec.AllowedHostPaths)})
		for _, hp := range spec.AllowedHostPaths {
			if hp.ReadOnly {
				add(HostPathReadOnly{Prefixes: slices.Clone(spec.AllowedHostPaths)})
				break
			}
		}
	}
	if allowsType(psp.FlexVolume) && len(spec.AllowedFlexVolumes) > 0 {
		drivers := make([]string, len(spec.AllowedFlexVolumes))
		for i, d := range spec.AllowedFlexVolumes {
			drivers[i] = d.Driver
		}
		add(FlexVolumeDrivers{Drivers: drivers})
	}
	if allowsType(psp.CSI) && len(spec.AllowedCSIDrivers) > 0 {
		drivers := make([]string, len(spec.AllowedCSIDrivers))
		for i, d := range spec.AllowedCSIDrivers {
			drivers[i] = d.Name
		}
		add(CSIDrivers{Drivers: drivers})
	}

	switch spec.RunAsUser.Rule {
	case psp.RunAsUserStrategyMustRunAs:
		add(RunAsUser{Rule: spec.RunAsUser.Rule, Ranges: slices.Clone(spec.RunAsUser.Ranges)})
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		add(RunAsUser{Rule: spec.RunAsUser.Rule})
		if len(spec.RunAsUser.Ranges) > 0 {
			note("runAsUser: MustRunAsNonRoot ignores its ranges, as PodSecurityPolicy did")
		}
	}
	if g := spec.RunAsGroup; g != nil {
		addGroup(&pol, "runAsGroup", string(g.Rule), g.Ranges)
	}
	if spec.SELinux.Rule == psp.SELinuxStrategyMustRunAs && spec.SELinux.SELinuxOptions != nil {
		add(SELinux{Options: *spec.SELinux.SELinuxOptions})
	}
	addGroup(&pol, "fsGroup", string(spec.FSGroup.Rule), spec.FSGroup.Ranges)
	addGroup(&pol, "supplementalGroups", string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges)

	allowedCaps := capStrings(spec.AllowedCapabilities)
	if !slices.Contains(allowedCaps, "*") {
		// Default-added capabilities were granted by the PSP, so a
		// container may ask for them; it need not (see package docs).
		for _, c := range capStrings(spec.DefaultAddCapabilities) {
			if !slices.Contains(allowedCaps, c) {
				allowedCaps = append(allowedCaps, c)
			}
		}
		add(AllowedCapabilities{Allowed: allowedCaps})
	}
	if len(spec.DefaultAddCapabilities) > 0 {
		defaultNote("defaultAddCapabilities: not added any more; containers that need " +
			strings.Join(capStrings(spec.DefaultAddCapabilities), ", ") + " must add them")
	}
	if len(spec.RequiredDropCapabilities) > 0 {
		add(RequiredDropCapabilities{Required: capStrings(spec.RequiredDropCapabilities)})
	}
	if spec.ReadOnlyRootFilesystem {
		add(ReadOnlyRootFilesystem{})
	}
	allowEscalation := spec.AllowPrivilegeEscalation == nil || *spec.AllowPrivilegeEscalation
	switch {
	case !allowEscalation:
		add(ForbidPrivilegeEscalation{})
	case spec.DefaultAllowPrivilegeEscalation != nil && !*spec.DefaultAllowPrivilegeEscalation:
		add(PrivilegeEscalationSet{})
	}

	if len(spec.ForbiddenSysctls) > 0 {
		add(ForbiddenSysctls{Patterns: slices.Clone(spec.ForbiddenSysctls)})
	}
	if !slices.Contains(spec.AllowedUnsafeSysctls, "*") {
		add(UnsafeSysctls{Safe: psp.SafeSysctls(), Allowed: slices.Clone(spec.AllowedUnsafeSysctls), Forbidden: slices.Clone(spec.ForbiddenSysctls)})
	}

	// Default is always allowed: with the ProcMountType gate off (v1.24's
	// default) it was the only proc mount there was, whatever the list said.
	procMounts := []string{string(corev1.DefaultProcMount)}
	for _, t := range spec.AllowedProcMountTypes {
		if !slices.Contains(procMounts, string(t)) {
			procMounts = append(procMounts, string(t))
		}
	}
	if !slices.Contains(procMounts, string(corev1.UnmaskedProcMount)) {
		add(ProcMountTypes{Allowed: procMounts})
	}

	if rc := spec.RuntimeClass; rc != nil {
		r := RuntimeClassNames{Allowed: slices.Clone(rc.AllowedRuntimeClassNames), Required: rc.DefaultRuntimeClassName != nil}
		if r.Required || !slices.Contains(r.Allowed, psp.AllowAllRuntimeClassNames) {
			add(r)
		}
		if rc.DefaultRuntimeClassName != nil {
			defaultNote("runtimeClass: defaultRuntimeClassName " + *rc.DefaultRuntimeClassName + " is not applied any more; pods must set runtimeClassName")
		}
	}

	if r, ok := seccompRule(p.Annotations); ok {
		add(r)
	}
	if d := p.Annotations[psp.SeccompDefaultProfileAnnotation]; d != "" {
		defaultNote("seccomp: defaultProfileName " + d + " is not applied any more; pods must set securityContext.seccompProfile")
	}
	if r, ok := appArmorRule(p.Annotations); ok {
		add(r)
	}
	if d := p.Annotations[psp.AppArmorDefaultProfileAnnotation]; d != "" {
		defaultNote("appArmor: defaultProfileName " + d + " is not applied any more; containers must set securityContext.appArmorProfile")
	}
	return pol
}

// allHostPorts reports whether the ranges cover every port a pod can ask
// for (1-65535), in which case no rule is needed.
func allHostPorts(ranges []psp.HostPortRange) bool {
	sorted := slices.Clone(ranges)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Min < sorted[j].Min })
	next := int32(1)
	for _, r := range sorted {
		if r.Min > next {
			return false
		}
		if r.Max >= next {
			next = r.Max + 1
		}
	}
	return next > 65535
}

func addGroup(pol *Policy, kind, rule string, ranges []psp.IDRange) {
	switch rule {
	case "MustRunAs", "MayRunAs":
		pol.Rules = append(pol.Rules, GroupRule{Kind: kind, Must: rule == "MustRunAs", Ranges: slices.Clone(ranges)})
	}
}

func capStrings(caps []corev1.Capability) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	return out
}

// seccompRule translates the seccomp annotations for the seccompProfile
// fields, which are all a v1.27+ kubelet reads.
//
// Without an allowedProfileNames annotation PSP rejected every profile
// ("seccomp may not be set"), runtime/default included. The conversion
// accepts runtime/default there: it is stricter than no profile, and the
// restricted Pod Security Standard demands it, so keeping PSP's quirk would
// make the converted policy and PSA restricted impossible to satisfy at once.
func seccompRule(annotations map[string]string) (SeccompProfiles, bool) {
	r := SeccompProfiles{PodRequired: annotations[psp.SeccompDefaultProfileAnnotation] != ""}
	list, ok := annotations[psp.SeccompAllowedProfilesAnnotation]
	if !ok {
		r.Unset = true
		r.Named = []string{psp.SeccompProfileRuntimeDefault}
		return r, true
	}
	for _, name := range strings.Split(list, ",") {
		switch name {
		case psp.SeccompAllowAny:
			r.Any, r.Unset = true, true
		case "":
			r.Unset = true
		case psp.SeccompProfileDockerDefault:
			// One profile since seccomp went GA; the field only says RuntimeDefault.
			name = psp.SeccompProfileRuntimeDefault
			fallthrough
		default:
			if !slices.Contains(r.Named, name) {
				r.Named = append(r.Named, name)
			}
		}
	}
	if r.Any {
		r.Named = nil
	}
	return r, !(r.Any && !r.PodRequired)
}

// appArmorRule translates the AppArmor annotations. A present
// allowedProfileNames list makes a profile mandatory (PSP rejected
// containers without one); a default profile makes one mandatory too,
// since nothing fills it in any more.
func appArmorRule(annotations map[string]string) (AppArmorProfiles, bool) {
	var r AppArmorProfiles
	list, listed := annotations[psp.AppArmorAllowedProfilesAnnotation]
	if listed {
		r.Allowed = []string{}
		for _, name := range strings.Split(list, ",") {
			if name != "" && !slices.Contains(r.Allowed, name) {
				r.Allowed = append(r.Allowed, name)
			}
		}
	}
	r.Required = listed || annotations[psp.AppArmorDefaultProfileAnnotation] != ""
	return r, r.Required
}
