package pspadmission

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// policy is one PSP compiled into the strategies that v1.24 admission built
// for it (the "provider"). Compiling once per audit instead of once per pod
// is what makes evaluating thousands of pods cheap.
type policy struct {
	name string
	spec *psp.PodSecurityPolicySpec // a copy; never modified

	allowEscalation bool // spec.allowPrivilegeEscalation after the v1beta1 default (true)

	runAsUser          userStrategy
	runAsGroup         groupStrategy
	fsGroup            groupStrategy
	supplementalGroups groupStrategy
	seLinux            *corev1.SELinuxOptions // non-nil only for MustRunAs
	caps               capStrategy
	sysctls            sysctlStrategy
	seccomp            seccompStrategy
	appArmor           appArmorStrategy

	volumesAll       bool
	volumes          map[psp.FSType]bool
	hostPortsAllowed string // the "Allowed ports: [...]" list of the host port error
}

// compilePolicy builds the strategies of a PSP that passed validation. The
// errors are the ones v1.24 admission hit when creating its provider; such a
// PSP is silently skipped by admission (the API server accepts it, but no pod
// is ever admitted by it).
func compilePolicy(p *psp.PodSecurityPolicy) (*policy, []string) {
	spec, err := copySpec(&p.Spec)
	if err != nil {
		return nil, []string{err.Error()}
	}
	pol := &policy{
		name:            p.Name,
		spec:            spec,
		allowEscalation: spec.AllowPrivilegeEscalation == nil || *spec.AllowPrivilegeEscalation,
	}
	var errs []string
	add := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}

	pol.runAsUser, err = newUserStrategy(&spec.RunAsUser)
	add(err)
	if spec.RunAsGroup == nil {
		pol.runAsGroup = groupStrategy{rule: groupRunAsAny}
	} else {
		pol.runAsGroup, err = newGroupStrategy("RunAsGroup", string(spec.RunAsGroup.Rule), spec.RunAsGroup.Ranges)
		add(err)
	}
	switch spec.SELinux.Rule {
	case psp.SELinuxStrategyMustRunAs:
		if spec.SELinux.SELinuxOptions == nil {
			add(fmt.Errorf("MustRunAs requires SELinuxOptions"))
		} else {
			pol.seLinux = spec.SELinux.SELinuxOptions.DeepCopy()
		}
	case psp.SELinuxStrategyRunAsAny:
	default:
		//lint:ignore ST1005 the API server's own wording, which the report quotes
		add(fmt.Errorf("Unrecognized SELinuxContext strategy type %s", spec.SELinux.Rule))
	}
	pol.fsGroup, err = newGroupStrategy("FSGroup", string(spec.FSGroup.Rule), spec.FSGroup.Ranges)
	add(err)
	pol.supplementalGroups, err = newGroupStrategy("SupplementalGroups", string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges)
	add(err)
	pol.caps = newCapStrategy(spec.DefaultAddCapabilities, spec.RequiredDropCapabilities, spec.AllowedCapabilities)
	pol.sysctls = sysctlStrategy{allowedUnsafe: spec.AllowedUnsafeSysctls, forbidden: spec.ForbiddenSysctls}
	pol.seccomp = newSeccompStrategy(p.Annotations)
	pol.appArmor = newAppArmorStrategy(p.Annotations)

	pol.volumes = make(map[psp.FSType]bool, len(spec.Volumes))
	for _, v := range spec.Volumes {
		pol.volumes[v] = true
		if v == psp.All {
			pol.volumesAll = true
		}
	}
	ranges := make([]string, 0, len(spec.HostPorts))
	for _, r := range spec.HostPorts {
		if r.Min == r.Max {
			ranges = append(ranges, fmt.Sprintf("%d", r.Min))
		} else {
			ranges = append(ranges, fmt.Sprintf("%d-%d", r.Min, r.Max))
		}
	}
	pol.hostPortsAllowed = strings.Join(ranges, ",")

	if len(errs) > 0 {
		return nil, errs
	}
	return pol, nil
}

// copySpec deep-copies a spec (the project's PSP types have no generated
// DeepCopy) so that later changes to the caller's objects cannot change a
// compiled policy.
func copySpec(in *psp.PodSecurityPolicySpec) (*psp.PodSecurityPolicySpec, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("copy PodSecurityPolicy spec: %w", err)
	}
	out := &psp.PodSecurityPolicySpec{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("copy PodSecurityPolicy spec: %w", err)
	}
	return out, nil
}

// userStrategy is the runAsUser strategy.
type userStrategy struct {
	rule   psp.RunAsUserStrategy
	ranges []psp.IDRange
}

func newUserStrategy(o *psp.RunAsUserStrategyOptions) (userStrategy, error) {
	s := userStrategy{rule: o.Rule, ranges: o.Ranges}
	switch o.Rule {
	case psp.RunAsUserStrategyMustRunAs:
		if len(o.Ranges) == 0 {
			return s, fmt.Errorf("MustRunAs requires at least one range")
		}
	case psp.RunAsUserStrategyMustRunAsNonRoot, psp.RunAsUserStrategyRunAsAny:
	default:
		//lint:ignore ST1005 the API server's own wording, which the report quotes
		return s, fmt.Errorf("Unrecognized RunAsUser strategy type %s", o.Rule)
	}
	return s, nil
}

// generate is the UID given to a container that has none: MustRunAs gives
// the first range's minimum, the other rules give nothing (MustRunAsNonRoot
// sets runAsNonRoot instead, elsewhere).
func (s *userStrategy) generate() *int64 {
	if s.rule != psp.RunAsUserStrategyMustRunAs {
		return nil
	}
	v := s.ranges[0].Min
	return &v
}

func (s *userStrategy) validate(errs []string, scPath func() string, runAsNonRoot *bool, runAsUser *int64) []string {
	switch s.rule {
	case psp.RunAsUserStrategyMustRunAs:
		if runAsUser == nil {
			return append(errs, errRequired(scPath()+".runAsUser", ""))
		}
		if !psp.IDInRanges(*runAsUser, s.ranges) {
			errs = append(errs, errInvalid(scPath()+".runAsUser", intValue(*runAsUser), fmt.Sprintf("must be in the ranges: %v", s.ranges)))
		}
	case psp.RunAsUserStrategyMustRunAsNonRoot:
		// Passing without a UID assumes the kubelet checks the image's user.
		switch {
		case runAsNonRoot == nil && runAsUser == nil:
			errs = append(errs, errRequired(scPath()+".runAsNonRoot", "must be true"))
		case runAsNonRoot != nil && !*runAsNonRoot:
			errs = append(errs, errInvalid(scPath()+".runAsNonRoot", "false", "must be true"))
		case runAsUser != nil && *runAsUser == 0:
			errs = append(errs, errInvalid(scPath()+".runAsUser", "0", "running with the root UID is forbidden"))
		}
	}
	return errs
}

type groupRule uint8

const (
	groupRunAsAny groupRule = iota
	groupMayRunAs
	groupMustRunAs
)

// groupStrategy serves runAsGroup, fsGroup and supplementalGroups, which
// upstream implements with the same three strategies.
type groupStrategy struct {
	rule   groupRule
	ranges []psp.IDRange
}

func newGroupStrategy(kind, rule string, ranges []psp.IDRange) (groupStrategy, error) {
	switch rule {
	case "RunAsAny":
		return groupStrategy{rule: groupRunAsAny}, nil
	case "MayRunAs":
		if len(ranges) == 0 {
			return groupStrategy{}, fmt.Errorf("ranges must be supplied for MayRunAs")
		}
		return groupStrategy{rule: groupMayRunAs, ranges: ranges}, nil
	case "MustRunAs":
		if len(ranges) == 0 {
			return groupStrategy{}, fmt.Errorf("ranges must be supplied for MustRunAs")
		}
		return groupStrategy{rule: groupMustRunAs, ranges: ranges}, nil
	}
	//lint:ignore ST1005 the API server's own wording, which the report quotes
	return groupStrategy{}, fmt.Errorf("Unrecognized %s strategy type %s", kind, rule)
}

// generate gives the first range's minimum for MustRunAs; MayRunAs only
// validates values the pod sets.
func (s *groupStrategy) generate() []int64 {
	if s.rule != groupMustRunAs {
		return nil
	}
	return []int64{s.ranges[0].Min}
}

func (s *groupStrategy) generateSingle() *int64 {
	if s.rule != groupMustRunAs {
		return nil
	}
	v := s.ranges[0].Min
	return &v
}

func (s *groupStrategy) validate(errs []string, path func() string, groups []int64) []string {
	if s.rule == groupRunAsAny {
		return errs
	}
	if s.rule == groupMustRunAs && len(groups) == 0 {
		errs = append(errs, errInvalid(path(), int64SliceValue(groups), "unable to validate empty groups against required ranges"))
	}
	for _, g := range groups {
		if !psp.IDInRanges(g, s.ranges) {
			// Upstream reports the whole list as the value, once per bad group.
			errs = append(errs, errInvalid(path(), int64SliceValue(groups), fmt.Sprintf("group %d must be in the ranges: %v", g, s.ranges)))
		}
	}
	return errs
}

// capStrategy adds defaultAddCapabilities, appends requiredDropCapabilities
// and checks additions against the allowed set.
type capStrategy struct {
	defaultAdd   []string // sorted, unique
	requiredDrop []corev1.Capability
	allowed      map[string]bool
	allowAll     bool
}

func newCapStrategy(defaultAdd, requiredDrop, allowed []corev1.Capability) capStrategy {
	s := capStrategy{requiredDrop: requiredDrop, allowed: make(map[string]bool, len(allowed))}
	s.defaultAdd = psp.SortedCapabilities(defaultAdd)
	for _, c := range allowed {
		s.allowed[string(c)] = true
	}
	s.allowAll = s.allowed["*"]
	return s
}

// generate returns the container's capabilities after the policy's defaults
// and whether they changed. Upstream rebuilds both lists as sorted, duplicate
// free sets when anything is added, and leaves them untouched otherwise; a
// default add the container explicitly drops is not added.
func (s *capStrategy) generate(cur *corev1.Capabilities) (*corev1.Capabilities, bool) {
	if len(s.defaultAdd) == 0 && len(s.requiredDrop) == 0 {
		return cur, false
	}
	add := map[string]bool{}
	drop := map[string]bool{}
	if cur != nil {
		for _, c := range cur.Add {
			add[string(c)] = true
		}
		for _, c := range cur.Drop {
			drop[string(c)] = true
		}
	}
	nAdd, nDrop := len(add), len(drop)
	for _, c := range s.defaultAdd {
		if !drop[c] {
			add[c] = true
		}
	}
	for _, c := range s.requiredDrop {
		drop[string(c)] = true
	}
	if len(add) == nAdd && len(drop) == nDrop {
		return cur, false
	}
	return &corev1.Capabilities{Add: sortedCaps(add), Drop: sortedCaps(drop)}, true
}

func sortedCaps(set map[string]bool) []corev1.Capability {
	if len(set) == 0 {
		return nil
	}
	names := make([]string, 0, len(set))
	for c := range set {
		names = append(names, c)
	}
	sort.Strings(names)
	out := make([]corev1.Capability, len(names))
	for i, c := range names {
		out[i] = corev1.Capability(c)
	}
	return out
}

func (s *capStrategy) validate(errs []string, path func() string, caps *corev1.Capabilities) []string {
	if caps == nil {
		if len(s.defaultAdd) == 0 && len(s.requiredDrop) == 0 {
			return errs
		}
		return append(errs, errInvalid(path(), nullValue, "required capabilities are not set on the securityContext"))
	}
	if s.allowAll {
		return errs
	}
	for _, c := range caps.Add {
		if !s.allowed[string(c)] && !containsString(s.defaultAdd, string(c)) {
			errs = append(errs, errInvalid(path()+".add", strValue(string(c)), "capability may not be added"))
		}
	}
	for _, req := range s.requiredDrop {
		found := false
		for _, d := range caps.Drop {
			if d == req {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, errInvalid(path()+".drop", capSliceValue(caps.Drop), fmt.Sprintf("%s is required to be dropped but was not found", req)))
		}
	}
	return errs
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type sysctlStrategy struct {
	allowedUnsafe []string
	forbidden     []string
}

// validate checks forbidden first, so a forbidden safe sysctl is rejected.
func (s *sysctlStrategy) validate(errs []string, pod *corev1.Pod) []string {
	sc := pod.Spec.SecurityContext
	if sc == nil {
		return errs
	}
	for i, sysctl := range sc.Sysctls {
		switch {
		case psp.SysctlMatches(s.forbidden, sysctl.Name):
			errs = append(errs, errForbidden(indexPath("pod.spec.securityContext.sysctls", i), fmt.Sprintf("sysctl %q is not allowed", sysctl.Name)))
		case psp.IsSafeSysctl(sysctl.Name), psp.SysctlMatches(s.allowedUnsafe, sysctl.Name):
		default:
			errs = append(errs, errForbidden(indexPath("pod.spec.securityContext.sysctls", i), fmt.Sprintf("unsafe sysctl %q is not allowed", sysctl.Name)))
		}
	}
	return errs
}

type seccompStrategy struct {
	defaultProfile string
	allowed        map[string]bool
	allowedString  string // the annotation as written, for messages
	allowAny       bool
}

func newSeccompStrategy(annotations map[string]string) seccompStrategy {
	s := seccompStrategy{
		defaultProfile: annotations[psp.SeccompDefaultProfileAnnotation],
		allowedString:  annotations[psp.SeccompAllowedProfilesAnnotation],
	}
	allowed, ok := annotations[psp.SeccompAllowedProfilesAnnotation]
	if !ok {
		return s
	}
	profiles := strings.Split(allowed, ",")
	s.allowed = make(map[string]bool, len(profiles))
	for _, p := range profiles {
		if p == psp.SeccompAllowAny {
			s.allowAny = true
			continue
		}
		// Since seccomp went GA, docker/default and runtime/default name the
		// same profile, so allowing one allows both.
		if p == psp.SeccompProfileDockerDefault || p == psp.SeccompProfileRuntimeDefault {
			s.allowed[psp.SeccompProfileDockerDefault] = true
			s.allowed[psp.SeccompProfileRuntimeDefault] = true
		}
		s.allowed[p] = true
	}
	return s
}

// generate is the pod-level profile the policy writes into the pod
// annotation: an existing annotation, else the one derived from the pod's
// seccompProfile field, else the policy's default.
func (s *seccompStrategy) generate(pod *corev1.Pod) string {
	if a := pod.Annotations[psp.SeccompPodAnnotation]; a != "" {
		return a
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		return seccompAnnotationForField(sc.SeccompProfile)
	}
	return s.defaultProfile
}

func (s *seccompStrategy) profileAllowed(profile string) bool {
	// A PSP without a list of allowed profiles allows the empty profile
	// (the runtime's default).
	if len(s.allowed) == 0 && profile == "" {
		return true
	}
	return s.allowAny || s.allowed[profile]
}

func (s *seccompStrategy) check(errs []string, path func() string, profile string) []string {
	if !s.allowAny && len(s.allowed) == 0 && profile != "" {
		return append(errs, errForbidden(path(), "seccomp may not be set"))
	}
	if !s.profileAllowed(profile) {
		errs = append(errs, errForbidden(path(), fmt.Sprintf("%s is not an allowed seccomp profile. Valid values are %v", profile, s.allowedString)))
	}
	return errs
}

func (s *seccompStrategy) validatePod(errs []string, pod *corev1.Pod) []string {
	profile := pod.Annotations[psp.SeccompPodAnnotation]
	if profile == "" {
		if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
			profile = seccompAnnotationForField(sc.SeccompProfile)
		}
	}
	return s.check(errs, func() string { return "pod.metadata.annotations[" + psp.SeccompPodAnnotation + "]" }, profile)
}

func (s *seccompStrategy) validateContainer(errs []string, pod *corev1.Pod, c *corev1.Container) []string {
	path := func() string {
		return "pod.metadata.annotations[" + psp.SeccompContainerAnnotationPrefix + c.Name + "]"
	}
	return s.check(errs, path, containerSeccompProfile(pod, c))
}

// containerSeccompProfile resolves a container's profile in upstream's
// order: container field, container annotation (even if empty), pod field,
// pod annotation.
func containerSeccompProfile(pod *corev1.Pod, c *corev1.Container) string {
	if c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil {
		return seccompAnnotationForField(c.SecurityContext.SeccompProfile)
	}
	if len(pod.Annotations) > 0 {
		if p, ok := pod.Annotations[psp.SeccompContainerAnnotationPrefix+c.Name]; ok {
			return p
		}
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		return seccompAnnotationForField(sc.SeccompProfile)
	}
	return pod.Annotations[psp.SeccompPodAnnotation]
}

// seccompAnnotationForField is the legacy annotation value of a
// seccompProfile field; "" for a Localhost profile without a file or an
// unknown type.
func seccompAnnotationForField(f *corev1.SeccompProfile) string {
	switch f.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return psp.SeccompProfileUnconfined
	case corev1.SeccompProfileTypeRuntimeDefault:
		return psp.SeccompProfileRuntimeDefault
	case corev1.SeccompProfileTypeLocalhost:
		if f.LocalhostProfile != nil {
			return psp.SeccompLocalhostProfilePrefix + *f.LocalhostProfile
		}
	}
	return ""
}

type appArmorStrategy struct {
	defaultProfile string
	allowed        map[string]bool // nil: no restriction
	allowedString  string
}

func newAppArmorStrategy(annotations map[string]string) appArmorStrategy {
	s := appArmorStrategy{
		defaultProfile: annotations[psp.AppArmorDefaultProfileAnnotation],
		allowedString:  annotations[psp.AppArmorAllowedProfilesAnnotation],
	}
	if allowed, ok := annotations[psp.AppArmorAllowedProfilesAnnotation]; ok {
		// Present but empty still restricts: it allows only "" and then
		// demands a profile, which no container can satisfy.
		profiles := strings.Split(allowed, ",")
		s.allowed = make(map[string]bool, len(profiles))
		for _, p := range profiles {
			s.allowed[p] = true
		}
	}
	return s
}

func (s *appArmorStrategy) validate(errs []string, pod *corev1.Pod, c *corev1.Container) []string {
	if s.allowed == nil {
		return errs
	}
	key := psp.AppArmorContainerAnnotationPrefix + c.Name
	path := func() string { return "pod.metadata.annotations[" + key + "]" }
	profile := pod.Annotations[key]
	if profile == "" {
		if len(s.allowed) > 0 {
			errs = append(errs, errForbidden(path(), "AppArmor profile must be set"))
		}
		return errs
	}
	if !s.allowed[profile] {
		errs = append(errs, errForbidden(path(), fmt.Sprintf("%s is not an allowed profile. Allowed values: %q", profile, s.allowedString)))
	}
	return errs
}
