package pspadmission

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// A pod that PSP admission lets through is then validated by the API server
// (the pod registry validates after mutating admission), and a PSP's
// defaults can make a valid pod invalid: allowPrivilegeEscalation=false on a
// privileged container, runAsUser or fsGroup on a Windows pod, IDs beyond
// 2^31-1 from a policy's ranges. validateAfterAdmission repeats the v1.24
// pod validation rules that involve the fields a PSP sets, in the order the
// server reports them; the rest of pod validation is not reproduced.

const maxID = 1<<31 - 1

// pointerPlaceholder stands in for the heap addresses the server prints
// in one of these messages (%#v of its internal types).
const pointerPlaceholder = "0xc000000000"

func validateAfterAdmission(pod *corev1.Pod) []string {
	var errs []string
	spec := &pod.Spec
	// Regular containers are validated before init and ephemeral ones.
	for _, list := range []int{regularContainers, initContainers, ephemeralContainers} {
		n := [3]int{len(spec.InitContainers), len(spec.Containers), len(spec.EphemeralContainers)}[list]
		for i := 0; i < n; i++ {
			at := ctrPath{list, i}
			errs = validateContainerSecurityContext(errs, at.String()+".securityContext", containerAt(spec, at).SecurityContext)
		}
	}
	if sc := spec.SecurityContext; sc != nil {
		const path = "spec.securityContext"
		errs = checkID(errs, path+".fsGroup", sc.FSGroup)
		errs = checkID(errs, path+".runAsUser", sc.RunAsUser)
		errs = checkID(errs, path+".runAsGroup", sc.RunAsGroup)
		for i := range sc.SupplementalGroups {
			errs = checkID(errs, indexPath(path+".supplementalGroups", i), &sc.SupplementalGroups[i])
		}
	}
	if spec.OS != nil && spec.OS.Name == corev1.Windows {
		errs = validateWindowsPod(errs, pod)
	}
	return errs
}

func checkID(errs []string, path string, id *int64) []string {
	if id == nil || (*id >= 0 && *id <= maxID) {
		return errs
	}
	return append(errs, errInvalid(path, intValue(*id), fmt.Sprintf("must be between %d and %d, inclusive", 0, maxID)))
}

func validateContainerSecurityContext(errs []string, path string, sc *corev1.SecurityContext) []string {
	if sc == nil {
		return errs
	}
	errs = checkID(errs, path+".runAsUser", sc.RunAsUser)
	errs = checkID(errs, path+".runAsGroup", sc.RunAsGroup)
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, errInvalid(path, internalSecurityContextValue(sc), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				// Only this spelling: "SYS_ADMIN" is not caught.
				if c == "CAP_SYS_ADMIN" {
					errs = append(errs, errInvalid(path, internalSecurityContextValue(sc), "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				}
			}
		}
	}
	return errs
}

// internalSecurityContextValue is %#v of the internal SecurityContext the
// server prints as the bad value, with placeholder addresses.
func internalSecurityContextValue(sc *corev1.SecurityContext) string {
	ptr := func(typ string, isNil bool) string {
		if isNil {
			return "(*" + typ + ")(nil)"
		}
		return "(*" + typ + ")(" + pointerPlaceholder + ")"
	}
	fields := []string{
		"Capabilities:" + ptr("core.Capabilities", sc.Capabilities == nil),
		"Privileged:" + ptr("bool", sc.Privileged == nil),
		"SELinuxOptions:" + ptr("core.SELinuxOptions", sc.SELinuxOptions == nil),
		"WindowsOptions:" + ptr("core.WindowsSecurityContextOptions", sc.WindowsOptions == nil),
		"RunAsUser:" + ptr("int64", sc.RunAsUser == nil),
		"RunAsGroup:" + ptr("int64", sc.RunAsGroup == nil),
		"RunAsNonRoot:" + ptr("bool", sc.RunAsNonRoot == nil),
		"ReadOnlyRootFilesystem:" + ptr("bool", sc.ReadOnlyRootFilesystem == nil),
		"AllowPrivilegeEscalation:" + ptr("bool", sc.AllowPrivilegeEscalation == nil),
		"ProcMount:" + ptr("core.ProcMountType", sc.ProcMount == nil),
		"SeccompProfile:" + ptr("core.SeccompProfile", sc.SeccompProfile == nil),
	}
	return "core.SecurityContext{" + strings.Join(fields, ", ") + "}"
}

// validateWindowsPod forbids the Linux-only fields on a pod whose spec.os
// says windows.
func validateWindowsPod(errs []string, pod *corev1.Pod) []string {
	const msg = "cannot be set for a windows pod"
	spec := &pod.Spec
	if sc := spec.SecurityContext; sc != nil {
		forbid := func(cond bool, path string) {
			if cond {
				errs = append(errs, errForbidden(path, msg))
			}
		}
		forbid(sc.SELinuxOptions != nil, "spec.securityContext.seLinuxOptions")
		forbid(spec.HostPID, "spec.hostPID")
		forbid(spec.HostIPC, "spec.hostIPC")
		forbid(sc.SeccompProfile != nil, "spec.securityContext.seccompProfile")
		forbid(sc.FSGroup != nil, "spec.securityContext.fsGroup")
		forbid(sc.FSGroupChangePolicy != nil, "spec.securityContext.fsGroupChangePolicy")
		forbid(len(sc.Sysctls) > 0, "spec.securityContext.sysctls")
		forbid(spec.ShareProcessNamespace != nil, "spec.shareProcessNamespace")
		forbid(sc.RunAsUser != nil, "spec.securityContext.runAsUser")
		forbid(sc.RunAsGroup != nil, "spec.securityContext.runAsGroup")
		forbid(sc.SupplementalGroups != nil, "spec.securityContext.supplementalGroups")
	}
	visitContainers(spec, func(c *corev1.Container, at ctrPath) {
		sc := c.SecurityContext
		if sc == nil {
			return
		}
		path := at.String() + ".securityContext."
		forbid := func(cond bool, field string) {
			if cond {
				errs = append(errs, errForbidden(path+field, msg))
			}
		}
		forbid(sc.SELinuxOptions != nil, "seLinuxOptions")
		forbid(sc.SeccompProfile != nil, "seccompProfile")
		forbid(sc.Capabilities != nil, "capabilities")
		forbid(sc.ReadOnlyRootFilesystem != nil, "readOnlyRootFilesystem")
		forbid(sc.Privileged != nil, "privileged")
		forbid(sc.AllowPrivilegeEscalation != nil, "allowPrivilegeEscalation")
		forbid(sc.ProcMount != nil, "procMount")
		forbid(sc.RunAsUser != nil, "runAsUser")
		forbid(sc.RunAsGroup != nil, "runAsGroup")
	})
	return errs
}

// invalidPodMessage is the server's "Pod "x" is invalid: ..." message: one
// error bare, several in brackets, duplicates dropped. A pod without a name
// gets one generated by the server before validation; its generateName is
// used here instead.
func invalidPodMessage(pod *corev1.Pod, errs []string) string {
	name := pod.Name
	if name == "" {
		name = pod.GenerateName
	}
	return fmt.Sprintf("Pod %q is invalid: %s", name, aggregateErrors(errs))
}

func aggregateErrors(errs []string) string {
	seen := make(map[string]bool, len(errs))
	uniq := make([]string, 0, len(errs))
	for _, e := range errs {
		if !seen[e] {
			seen[e] = true
			uniq = append(uniq, e)
		}
	}
	if len(uniq) == 1 {
		return uniq[0]
	}
	return "[" + strings.Join(uniq, ", ") + "]"
}
