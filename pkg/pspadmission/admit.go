package pspadmission

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// admit is one provider's turn in v1.24 admission: apply the policy's
// defaults to a copy of the pod, then validate the copy. mutated is the
// plugin's notion: the copy differs semantically from the pod in any way.
//
// The copy shares everything the policy cannot change with pod; the
// annotations, the pod security context and each container's security
// context are copied when first written, and every write that changes a
// value sets mutated (the property test checks this against
// apiequality.Semantic.DeepEqual).
func (p *policy) admit(pod *corev1.Pod) (out *corev1.Pod, mutated bool, errs []string) {
	return p.admitInto(pod, new(corev1.Pod))
}

// admitInto is admit with the copy's top-level struct provided by the
// caller, so that evaluating many policies can reuse one (a Pod struct is
// large, and most copies are thrown away).
func (p *policy) admitInto(pod, scratch *corev1.Pod) (out *corev1.Pod, mutated bool, errs []string) {
	*scratch = *pod
	m := mutation{pod: scratch}
	p.mutatePod(&m)
	return m.pod, m.mutated, p.validatePod(m.pod)
}

type mutation struct {
	pod            *corev1.Pod
	ownAnnotations bool
	ownLists       [3]bool // init, regular, ephemeral container lists copied
	mutated        bool
}

// Container lists, in the order upstream visits them.
const (
	initContainers = iota
	regularContainers
	ephemeralContainers
)

var containerListPaths = [3]string{"spec.initContainers", "spec.containers", "spec.ephemeralContainers"}

// ctrPath names a container for error messages; the string is only built
// when an error is reported.
type ctrPath struct {
	list  int
	index int
}

func (p ctrPath) String() string { return indexPath(containerListPaths[p.list], p.index) }

// container returns a container of the working pod, shared with the input
// pod until ownContainer is called.
func (m *mutation) container(at ctrPath) *corev1.Container {
	return containerAt(&m.pod.Spec, at)
}

// ownContainer copies the container's list on first use, so that the
// container can be changed without touching the input pod.
func (m *mutation) ownContainer(at ctrPath) *corev1.Container {
	if !m.ownLists[at.list] {
		spec := &m.pod.Spec
		switch at.list {
		case initContainers:
			spec.InitContainers = append([]corev1.Container(nil), spec.InitContainers...)
		case regularContainers:
			spec.Containers = append([]corev1.Container(nil), spec.Containers...)
		case ephemeralContainers:
			spec.EphemeralContainers = append([]corev1.EphemeralContainer(nil), spec.EphemeralContainers...)
		}
		m.ownLists[at.list] = true
	}
	return m.container(at)
}

func containerAt(spec *corev1.PodSpec, at ctrPath) *corev1.Container {
	switch at.list {
	case initContainers:
		return &spec.InitContainers[at.index]
	case regularContainers:
		return &spec.Containers[at.index]
	default:
		return (*corev1.Container)(&spec.EphemeralContainers[at.index].EphemeralContainerCommon)
	}
}

func (m *mutation) setAnnotation(key, value string) {
	if cur, ok := m.pod.Annotations[key]; ok && cur == value {
		return
	}
	if !m.ownAnnotations {
		a := make(map[string]string, len(m.pod.Annotations)+1)
		for k, v := range m.pod.Annotations {
			a[k] = v
		}
		m.pod.Annotations = a
		m.ownAnnotations = true
	}
	m.pod.Annotations[key] = value
	m.mutated = true
}

// visitContainers walks init, regular and ephemeral containers in that
// order with their field paths, as upstream does for both mutation and
// validation.
func visitContainers(spec *corev1.PodSpec, fn func(c *corev1.Container, at ctrPath)) {
	for i := range spec.InitContainers {
		fn(&spec.InitContainers[i], ctrPath{initContainers, i})
	}
	for i := range spec.Containers {
		fn(&spec.Containers[i], ctrPath{regularContainers, i})
	}
	for i := range spec.EphemeralContainers {
		fn((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon), ctrPath{ephemeralContainers, i})
	}
}

func (p *policy) mutatePod(m *mutation) {
	pod := m.pod
	sc := pod.Spec.SecurityContext
	owned := false
	own := func() {
		if !owned {
			if sc == nil {
				sc = &corev1.PodSecurityContext{}
			} else {
				sc = sc.DeepCopy()
			}
			pod.Spec.SecurityContext = sc
			owned = true
		}
	}
	// Pod-level fields are only generated when unset (nil; an empty
	// supplementalGroups list counts as set).
	if sc == nil || sc.SupplementalGroups == nil {
		if g := p.supplementalGroups.generate(); len(g) > 0 {
			own()
			sc.SupplementalGroups = g
			m.mutated = true
		}
	}
	if sc == nil || sc.FSGroup == nil {
		if g := p.fsGroup.generateSingle(); g != nil {
			own()
			sc.FSGroup = g
			m.mutated = true
		}
	}
	if (sc == nil || sc.SELinuxOptions == nil) && p.seLinux != nil {
		own()
		sc.SELinuxOptions = p.seLinux.DeepCopy()
		m.mutated = true
	}
	// The seccomp profile is only generated at pod level, into the legacy
	// annotation, and is translated from the pod's seccompProfile field when
	// that is set: a pod with the field but no annotation is therefore
	// mutated by every policy.
	if profile := p.seccomp.generate(pod); profile != "" {
		m.setAnnotation(psp.SeccompPodAnnotation, profile)
	}
	if rc := p.spec.RuntimeClass; rc != nil && pod.Spec.RuntimeClassName == nil && rc.DefaultRuntimeClassName != nil {
		name := *rc.DefaultRuntimeClassName
		pod.Spec.RuntimeClassName = &name
		m.mutated = true
	}
	// The lists may be replaced by copies while visiting, so walk by index.
	for _, at := range containerPaths(&pod.Spec) {
		p.mutateContainer(m, at)
	}
}

// mutateContainer fills a container's unset fields. runAsUser, runAsGroup,
// runAsNonRoot and seLinuxOptions count as set when the pod level sets them;
// the generated values are written at container level.
func (p *policy) mutateContainer(m *mutation, at ctrPath) {
	podSC := m.pod.Spec.SecurityContext
	c := m.container(at)
	sc := c.SecurityContext
	owned := false
	own := func() {
		if !owned {
			c = m.ownContainer(at)
			if sc == nil {
				sc = &corev1.SecurityContext{}
			} else {
				sc = sc.DeepCopy()
			}
			c.SecurityContext = sc
			owned = true
		}
	}
	if effectiveRunAsUser(podSC, sc) == nil {
		if uid := p.runAsUser.generate(); uid != nil {
			own()
			sc.RunAsUser = uid
			m.mutated = true
		}
	}
	if effectiveRunAsGroup(podSC, sc) == nil {
		if gid := p.runAsGroup.generateSingle(); gid != nil {
			own()
			sc.RunAsGroup = gid
			m.mutated = true
		}
	}
	if effectiveSELinux(podSC, sc) == nil && p.seLinux != nil {
		own()
		sc.SELinuxOptions = p.seLinux.DeepCopy()
		m.mutated = true
	}
	if p.appArmor.defaultProfile != "" {
		key := psp.AppArmorContainerAnnotationPrefix + c.Name
		if m.pod.Annotations[key] == "" {
			m.setAnnotation(key, p.appArmor.defaultProfile)
		}
	}
	// MustRunAsNonRoot marks containers without a UID so that the kubelet
	// checks the image's user.
	if p.runAsUser.rule == psp.RunAsUserStrategyMustRunAsNonRoot &&
		effectiveRunAsNonRoot(podSC, sc) == nil && effectiveRunAsUser(podSC, sc) == nil {
		own()
		t := true
		sc.RunAsNonRoot = &t
		m.mutated = true
	}
	var cur *corev1.Capabilities
	if sc != nil {
		cur = sc.Capabilities
	}
	if caps, changed := p.caps.generate(cur); changed {
		own()
		sc.Capabilities = caps
		m.mutated = true
	}
	if p.spec.ReadOnlyRootFilesystem && (sc == nil || sc.ReadOnlyRootFilesystem == nil) {
		own()
		t := true
		sc.ReadOnlyRootFilesystem = &t
		m.mutated = true
	}
	if d := p.spec.DefaultAllowPrivilegeEscalation; d != nil && (sc == nil || sc.AllowPrivilegeEscalation == nil) {
		own()
		v := *d
		sc.AllowPrivilegeEscalation = &v
		m.mutated = true
	}
	// A policy that forbids escalation defaults it to false.
	if !p.allowEscalation && (sc == nil || sc.AllowPrivilegeEscalation == nil) {
		own()
		f := false
		sc.AllowPrivilegeEscalation = &f
		m.mutated = true
	}
}

func containerPaths(spec *corev1.PodSpec) []ctrPath {
	n := len(spec.InitContainers) + len(spec.Containers) + len(spec.EphemeralContainers)
	out := make([]ctrPath, 0, n)
	for i := range spec.InitContainers {
		out = append(out, ctrPath{initContainers, i})
	}
	for i := range spec.Containers {
		out = append(out, ctrPath{regularContainers, i})
	}
	for i := range spec.EphemeralContainers {
		out = append(out, ctrPath{ephemeralContainers, i})
	}
	return out
}

func effectiveRunAsUser(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) *int64 {
	if c != nil && c.RunAsUser != nil {
		return c.RunAsUser
	}
	if pod != nil {
		return pod.RunAsUser
	}
	return nil
}

func effectiveRunAsGroup(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) *int64 {
	if c != nil && c.RunAsGroup != nil {
		return c.RunAsGroup
	}
	if pod != nil {
		return pod.RunAsGroup
	}
	return nil
}

func effectiveRunAsNonRoot(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) *bool {
	if c != nil && c.RunAsNonRoot != nil {
		return c.RunAsNonRoot
	}
	if pod != nil {
		return pod.RunAsNonRoot
	}
	return nil
}

func effectiveSELinux(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) *corev1.SELinuxOptions {
	if c != nil && c.SELinuxOptions != nil {
		return c.SELinuxOptions
	}
	if pod != nil {
		return pod.SELinuxOptions
	}
	return nil
}

// validatePod checks the (mutated) pod in upstream's order: pod-level
// strategies, host namespaces, sysctls, volumes, runtime class, then every
// container.
func (p *policy) validatePod(pod *corev1.Pod) []string {
	var errs []string
	sc := pod.Spec.SecurityContext
	const scPath = "spec.securityContext"

	var fsGroups, supplementalGroups []int64
	var seLinux *corev1.SELinuxOptions
	if sc != nil {
		if sc.FSGroup != nil {
			fsGroups = []int64{*sc.FSGroup}
		}
		supplementalGroups = sc.SupplementalGroups
		seLinux = sc.SELinuxOptions
	}
	errs = p.fsGroup.validate(errs, func() string { return scPath + ".fsGroup" }, fsGroups)
	errs = p.supplementalGroups.validate(errs, func() string { return scPath + ".supplementalGroups" }, supplementalGroups)
	errs = p.seccomp.validatePod(errs, pod)
	errs = p.validateSELinux(errs, func() string { return scPath + ".seLinuxOptions" }, seLinux)
	// The internal API keeps the host namespace flags in the pod security
	// context, hence these paths.
	if !p.spec.HostNetwork && pod.Spec.HostNetwork {
		errs = append(errs, errInvalid(scPath+".hostNetwork", "true", "Host network is not allowed to be used"))
	}
	if !p.spec.HostPID && pod.Spec.HostPID {
		errs = append(errs, errInvalid(scPath+".hostPID", "true", "Host PID is not allowed to be used"))
	}
	if !p.spec.HostIPC && pod.Spec.HostIPC {
		errs = append(errs, errInvalid(scPath+".hostIPC", "true", "Host IPC is not allowed to be used"))
	}
	errs = p.sysctls.validate(errs, pod)
	errs = p.validateVolumes(errs, pod)
	if rc := p.spec.RuntimeClass; rc != nil && pod.Spec.RuntimeClassName != nil {
		if !psp.RuntimeClassAllowed(*pod.Spec.RuntimeClassName, rc.AllowedRuntimeClassNames) {
			errs = append(errs, errInvalid("spec.runtimeClassName", strValue(*pod.Spec.RuntimeClassName), ""))
		}
	}
	visitContainers(&pod.Spec, func(c *corev1.Container, at ctrPath) {
		errs = p.validateContainer(errs, pod, c, at)
	})
	return errs
}

func (p *policy) validateSELinux(errs []string, path func() string, o *corev1.SELinuxOptions) []string {
	want := p.seLinux
	if want == nil {
		return errs
	}
	if o == nil {
		return append(errs, errRequired(path(), ""))
	}
	if !psp.SELinuxLevelsEqual(want.Level, o.Level) {
		errs = append(errs, errInvalid(path()+".level", strValue(o.Level), "must be "+want.Level))
	}
	if o.Role != want.Role {
		errs = append(errs, errInvalid(path()+".role", strValue(o.Role), "must be "+want.Role))
	}
	if o.Type != want.Type {
		errs = append(errs, errInvalid(path()+".type", strValue(o.Type), "must be "+want.Type))
	}
	if o.User != want.User {
		errs = append(errs, errInvalid(path()+".user", strValue(o.User), "must be "+want.User))
	}
	return errs
}

func (p *policy) validateContainer(errs []string, pod *corev1.Pod, c *corev1.Container, at ctrPath) []string {
	podSC := pod.Spec.SecurityContext
	sc := c.SecurityContext
	// Paths are only rendered for errors.
	scPath := func() string { return at.String() + ".securityContext" }

	errs = p.runAsUser.validate(errs, scPath, effectiveRunAsNonRoot(podSC, sc), effectiveRunAsUser(podSC, sc))
	var runAsGroups []int64
	if g := effectiveRunAsGroup(podSC, sc); g != nil {
		runAsGroups = []int64{*g}
	}
	// Upstream reports runAsGroup errors at the security context itself.
	errs = p.runAsGroup.validate(errs, scPath, runAsGroups)
	errs = p.validateSELinux(errs, func() string { return scPath() + ".seLinuxOptions" }, effectiveSELinux(podSC, sc))
	errs = p.appArmor.validate(errs, pod, c)
	errs = p.seccomp.validateContainer(errs, pod, c)

	if sc != nil && sc.Privileged != nil && *sc.Privileged && !p.spec.Privileged {
		errs = append(errs, errInvalid(scPath()+".privileged", "true", "Privileged containers are not allowed"))
	}
	// With the ProcMountType feature gate off (v1.24's default) the API
	// server drops allowedProcMountTypes from every PSP, so only the default
	// proc mount is ever allowed.
	procMount := corev1.DefaultProcMount
	if sc != nil && sc.ProcMount != nil {
		procMount = *sc.ProcMount
	}
	if procMount != corev1.DefaultProcMount {
		errs = append(errs, errInvalid(scPath()+".procMount", strValue(string(procMount)), "ProcMountType is not allowed"))
	}
	var caps *corev1.Capabilities
	if sc != nil {
		caps = sc.Capabilities
	}
	errs = p.caps.validate(errs, func() string { return scPath() + ".capabilities" }, caps)
	for _, port := range c.Ports {
		if port.HostPort > 0 && !psp.HostPortInRanges(port.HostPort, p.spec.HostPorts) {
			errs = append(errs, errInvalid(at.String()+".hostPort", intValue(int64(port.HostPort)),
				fmt.Sprintf("Host port %d is not allowed to be used. Allowed ports: [%s]", port.HostPort, p.hostPortsAllowed)))
		}
	}
	if p.spec.ReadOnlyRootFilesystem {
		switch {
		case sc == nil || sc.ReadOnlyRootFilesystem == nil:
			errs = append(errs, errInvalid(scPath()+".readOnlyRootFilesystem", nullValue, "ReadOnlyRootFilesystem may not be nil and must be set to true"))
		case !*sc.ReadOnlyRootFilesystem:
			errs = append(errs, errInvalid(scPath()+".readOnlyRootFilesystem", "false", "ReadOnlyRootFilesystem must be set to true"))
		}
	}
	if !p.allowEscalation {
		var ape *bool
		if sc != nil {
			ape = sc.AllowPrivilegeEscalation
		}
		if ape == nil || *ape {
			errs = append(errs, errInvalid(scPath()+".allowPrivilegeEscalation", boolPtrValue(ape), "Allowing privilege escalation for containers is not allowed"))
		}
	}
	return errs
}

func (p *policy) validateVolumes(errs []string, pod *corev1.Pod) []string {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		path := func() string { return indexPath("spec.volumes", i) }
		fsType := psp.VolumeFSType(&v.VolumeSource)
		if fsType == "" {
			errs = append(errs, errInvalid(path(), strValue(""), fmt.Sprintf("unknown volume type for volume: %s", v.Name)))
			continue
		}
		if !p.volumesAll && !p.allowsVolumeType(fsType, v) {
			errs = append(errs, errInvalid(path(), strValue(string(fsType)), fmt.Sprintf("%s volumes are not allowed to be used", fsType)))
			continue
		}
		switch fsType {
		case psp.HostPath:
			allowed, mustBeReadOnly := allowsHostPath(p.spec.AllowedHostPaths, v.HostPath.Path)
			if !allowed {
				errs = append(errs, errInvalid(path()+".hostPath.pathPrefix", strValue(v.HostPath.Path), "is not allowed to be used"))
			} else if mustBeReadOnly {
				visitContainers(&pod.Spec, func(c *corev1.Container, at ctrPath) {
					for j, vm := range c.VolumeMounts {
						if vm.Name == v.Name && !vm.ReadOnly {
							errs = append(errs, errInvalid(indexPath(at.String()+".volumeMounts", j)+".readOnly", "false", "must be read-only"))
						}
					}
				})
			}
		case psp.FlexVolume:
			if len(p.spec.AllowedFlexVolumes) > 0 && !flexDriverAllowed(p.spec.AllowedFlexVolumes, v.FlexVolume.Driver) {
				errs = append(errs, errInvalid(path()+".driver", strValue(v.FlexVolume.Driver), "Flexvolume driver is not allowed to be used"))
			}
		case psp.CSI:
			if len(p.spec.AllowedCSIDrivers) > 0 && !csiDriverAllowed(p.spec.AllowedCSIDrivers, v.CSI.Driver) {
				errs = append(errs, errInvalid(path()+".csi.driver", strValue(v.CSI.Driver), "Inline CSI driver is not allowed to be used"))
			}
		}
	}
	return errs
}

func flexDriverAllowed(allowed []psp.AllowedFlexVolume, driver string) bool {
	for _, a := range allowed {
		if a.Driver == driver {
			return true
		}
	}
	return false
}

func csiDriverAllowed(allowed []psp.AllowedCSIDriver, driver string) bool {
	for _, a := range allowed {
		if a.Name == driver {
			return true
		}
	}
	return false
}

// allowsVolumeType also lets a policy that allows secret volumes admit the
// projected volume ServiceAccount admission injects (token, kube-root-ca.crt
// and namespace only), so that PSPs written before bound tokens keep working.
func (p *policy) allowsVolumeType(fsType psp.FSType, v *corev1.Volume) bool {
	if p.volumes[fsType] {
		return true
	}
	return p.volumes[psp.Secret] && fsType == psp.Projected && psp.IsServiceAccountTokenProjection(v.Projected)
}

// allowsHostPath matches path-segment prefixes ("/foo" allows "/foo" and
// "/foo/bar", not "/foobar"). A path under a writable prefix is allowed
// read-write even if a read-only prefix also matches.
func allowsHostPath(allowed []psp.AllowedHostPath, hostPath string) (ok, mustBeReadOnly bool) {
	if len(allowed) == 0 {
		return true, false
	}
	for _, a := range allowed {
		if psp.HostPathHasPrefix(hostPath, a.PathPrefix) {
			if !a.ReadOnly {
				return true, false
			}
			ok, mustBeReadOnly = true, true
		}
	}
	return ok, mustBeReadOnly
}
