package translate

import "github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"

// The versions every renderer targets, pinned here and only here so that a
// bump is one reviewed change (and shows in `kubectl psp-migrate version`).
const (
	// VAPAPIVersion is the API version of the ValidatingAdmissionPolicy and
	// ValidatingAdmissionPolicyBinding objects written by the vap engine.
	VAPAPIVersion = "admissionregistration.k8s.io/v1"
	// VAPMinKubernetes is the oldest Kubernetes release that serves
	// VAPAPIVersion and the CEL features the rendering uses (optional types,
	// the strings extension's split/replace/indexOf, HomogeneousAggregateLiterals).
	VAPMinKubernetes = "v1.30"
	// PSAMinKubernetes is the oldest release whose PodSecurity admission is
	// on by default (GA in 1.25).
	PSAMinKubernetes = "v1.25"
	// SafeSysctlsVersion names the kubelet whose safe sysctl list the
	// converted policies accept without allowedUnsafeSysctls: the v1.24 list,
	// so that a migration keeps exactly what PSP admitted.
	SafeSysctlsVersion = "v1.24"
)

func init() {
	buildinfo.RegisterComponent("vap", VAPAPIVersion+" (Kubernetes >= "+VAPMinKubernetes+")")
	buildinfo.RegisterComponent("psa", "pod-security.kubernetes.io labels (Kubernetes >= "+PSAMinKubernetes+")")
}
