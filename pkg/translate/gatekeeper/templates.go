package gatekeeper

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

// The project's own ConstraintTemplates (--gatekeeper-templates). Each one
// has the kind name and the parameter schema of the gatekeeper-library
// template of the same kind, so the constraints the renderer writes work
// with either; the Rego is written from the rule model (rules.go) and
// decides exactly as Rule.Allows does for the parameters the renderer
// writes. The Rego uses only syntax every Gatekeeper release with
// templates.gatekeeper.sh/v1 parses (Rego v0, no future keywords), since
// clusters leaving PSP run releases of that era.
//
// Where the library gives a parameter no fixed meaning for an input the PSP
// knew, the templates use PSP's own syntax: an empty string in
// allowedProfiles (seccomp, AppArmor) allows an unset profile, "*" any set
// one; profile names are in annotation syntax ("runtime/default",
// "localhost/<file>"). exemptImages is honoured ("prefix*" globs) where the
// library schema has it; the renderer never sets it.

// Gatekeeper kinds the renderer uses (the gatekeeper-library's names).
const (
	kindPrivileged     = "K8sPSPPrivilegedContainer"
	kindHostNamespace  = "K8sPSPHostNamespace"
	kindHostNetwork    = "K8sPSPHostNetworkingPorts"
	kindVolumes        = "K8sPSPVolumeTypes"
	kindHostFilesystem = "K8sPSPHostFilesystem"
	kindFlexVolumes    = "K8sPSPFlexVolumes"
	kindUsers          = "K8sPSPAllowedUsers"
	kindSELinux        = "K8sPSPSELinuxV2"
	kindCapabilities   = "K8sPSPCapabilities"
	kindReadOnlyFS     = "K8sPSPReadOnlyRootFilesystem"
	kindEscalation     = "K8sPSPAllowPrivilegeEscalationContainer"
	kindSysctls        = "K8sPSPForbiddenSysctls"
	kindProcMount      = "K8sPSPProcMount"
	kindSeccomp        = "K8sPSPSeccomp"
	kindAppArmor       = "K8sPSPAppArmor"
)

// template is one kind's description and parameter schema; its Rego is in
// rego/.
type template struct {
	description string
	// params are the properties of the parameter schema.
	params map[string]any
}

func stringsSchema(desc string) map[string]any {
	return map[string]any{"type": "array", "description": desc, "items": map[string]any{"type": "string"}}
}

func idRangesSchema(desc string) map[string]any {
	return map[string]any{"type": "array", "description": desc, "items": map[string]any{
		"type": "object",
		"properties": map[string]any{
			"min": map[string]any{"type": "integer", "description": "First ID of the range, inclusive."},
			"max": map[string]any{"type": "integer", "description": "Last ID of the range, inclusive."},
		},
	}}
}

func idRuleSchema(desc string, rules ...any) map[string]any {
	return map[string]any{"type": "object", "description": desc, "properties": map[string]any{
		"rule":   map[string]any{"type": "string", "enum": rules},
		"ranges": idRangesSchema("ID ranges; an ID must fall in one of them."),
	}}
}

var exemptImages = stringsSchema("Containers whose image equals an entry, or starts with an entry's text before a trailing *, are not checked.")

// templates are the own templates, by kind.
var templates = map[string]template{
	kindPrivileged: {
		description: "Forbids privileged containers (PodSecurityPolicy spec.privileged: false).",
		params:      map[string]any{"exemptImages": exemptImages},
	},
	kindHostNamespace: {
		description: "Forbids the host PID and IPC namespaces (PodSecurityPolicy spec.hostPID and spec.hostIPC: false).",
		params:      map[string]any{},
	},
	kindHostNetwork: {
		description: "Restricts the host network namespace and host ports (PodSecurityPolicy spec.hostNetwork and spec.hostPorts). Host ports must lie in min..max; an unset bound does not restrict.",
		params: map[string]any{
			"exemptImages": exemptImages,
			"hostNetwork":  map[string]any{"type": "boolean", "description": "Whether pods may use the host network namespace."},
			"min":          map[string]any{"type": "integer", "description": "Lowest allowed host port, inclusive."},
			"max":          map[string]any{"type": "integer", "description": "Highest allowed host port, inclusive."},
		},
	},
	kindVolumes: {
		description: "Restricts volume types to a list in PodSecurityPolicy syntax (spec.volumes; * allows all). When secret is listed and projected is not, the projected service account token volume is allowed, as PodSecurityPolicy allowed it.",
		params:      map[string]any{"volumes": stringsSchema("Allowed volume types, e.g. configMap, cephFS, csi; * allows every type.")},
	},
	kindHostFilesystem: {
		description: "Restricts hostPath volumes to path prefixes (PodSecurityPolicy spec.allowedHostPaths; an empty list allows every path). A volume under a readOnly prefix and under no writable one must be mounted read-only by every container.",
		params: map[string]any{"allowedHostPaths": map[string]any{"type": "array", "description": "Allowed path prefixes.", "items": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"pathPrefix": map[string]any{"type": "string", "description": "Path prefix, matched by whole path segments."},
				"readOnly":   map[string]any{"type": "boolean", "description": "Volumes under the prefix must be mounted read-only."},
			},
		}}},
	},
	kindFlexVolumes: {
		description: "Restricts flexVolume drivers (PodSecurityPolicy spec.allowedFlexVolumes; an empty list allows every driver).",
		params: map[string]any{"allowedFlexVolumes": map[string]any{"type": "array", "description": "Allowed drivers.", "items": map[string]any{
			"type":       "object",
			"properties": map[string]any{"driver": map[string]any{"type": "string", "description": "Driver name."}},
		}}},
	},
	kindUsers: {
		description: "Restricts user and group IDs (PodSecurityPolicy spec.runAsUser, runAsGroup, supplementalGroups, fsGroup). Container values fall back to the pod's. MustRunAs: the ID must be set and in a range; MayRunAs: in a range when set; MustRunAsNonRoot: runAsNonRoot true or a non-zero runAsUser.",
		params: map[string]any{
			"exemptImages":       exemptImages,
			"runAsUser":          idRuleSchema("runAsUser strategy.", "MustRunAs", "MustRunAsNonRoot", "RunAsAny"),
			"runAsGroup":         idRuleSchema("runAsGroup strategy.", "MustRunAs", "MayRunAs", "RunAsAny"),
			"supplementalGroups": idRuleSchema("supplementalGroups strategy.", "MustRunAs", "MayRunAs", "RunAsAny"),
			"fsGroup":            idRuleSchema("fsGroup strategy.", "MustRunAs", "MayRunAs", "RunAsAny"),
		},
	},
	kindSELinux: {
		description: "Requires SELinux options (PodSecurityPolicy seLinux: MustRunAs): the pod must set seLinuxOptions and they, and every container's own, must equal one allowed entry (unset fields are empty; MLS categories compare in any order).",
		params: map[string]any{
			"exemptImages": exemptImages,
			"allowedSELinuxOptions": map[string]any{"type": "array", "description": "Allowed option sets.", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"level": map[string]any{"type": "string", "description": "MLS level."},
					"role":  map[string]any{"type": "string", "description": "SELinux role."},
					"type":  map[string]any{"type": "string", "description": "SELinux type."},
					"user":  map[string]any{"type": "string", "description": "SELinux user."},
				},
			}},
		},
	},
	kindCapabilities: {
		description: "Restricts capabilities (PodSecurityPolicy spec.allowedCapabilities and requiredDropCapabilities). Containers may add only allowedCapabilities (* any; unset none) and must drop each of requiredDropCapabilities, compared exactly.",
		params: map[string]any{
			"exemptImages":             exemptImages,
			"allowedCapabilities":      stringsSchema("Capabilities containers may add; * allows any."),
			"requiredDropCapabilities": stringsSchema("Capabilities every container must drop."),
		},
	},
	kindReadOnlyFS: {
		description: "Requires readOnlyRootFilesystem: true on every container (PodSecurityPolicy spec.readOnlyRootFilesystem: true).",
		params:      map[string]any{"exemptImages": exemptImages},
	},
	kindEscalation: {
		description: "Requires allowPrivilegeEscalation: false on every container (PodSecurityPolicy spec.allowPrivilegeEscalation: false).",
		params:      map[string]any{"exemptImages": exemptImages},
	},
	kindSysctls: {
		description: "Restricts sysctls (PodSecurityPolicy spec.forbiddenSysctls and allowedUnsafeSysctls). A sysctl matching forbiddenSysctls is rejected; when allowedSysctls is set, one matching none of it is too. Entries are names or prefix* globs; slash-separated names are read as the kubelet reads them.",
		params: map[string]any{
			"allowedSysctls":   stringsSchema("Allowed sysctls (the safe set is not implied); * allows all."),
			"forbiddenSysctls": stringsSchema("Forbidden sysctls; they win over allowedSysctls."),
		},
	},
	kindProcMount: {
		description: "Restricts procMount (PodSecurityPolicy spec.allowedProcMountTypes): Default requires the default proc mount (unset means Default); Unmasked allows both.",
		params: map[string]any{
			"exemptImages": exemptImages,
			"procMount":    map[string]any{"type": "string", "enum": []any{"Default", "Unmasked"}, "description": "Most exposed proc mount allowed."},
		},
	},
	kindSeccomp: {
		description: "Restricts seccomp profiles (PodSecurityPolicy annotation seccomp.security.alpha.kubernetes.io/allowedProfileNames) on the pod and every container's effective seccompProfile field. Names are in annotation syntax (runtime/default, unconfined, localhost/<file>); * allows any set profile, an empty entry allows none to be set. allowedLocalhostFiles is accepted for compatibility and not read.",
		params: map[string]any{
			"exemptImages":          exemptImages,
			"allowedProfiles":       stringsSchema("Allowed profiles in annotation syntax; * any set profile; an empty entry allows an unset profile."),
			"allowedLocalhostFiles": stringsSchema("Accepted for compatibility with the gatekeeper-library; not read."),
		},
	},
	kindAppArmor: {
		description: "Restricts AppArmor profiles (PodSecurityPolicy annotation apparmor.security.beta.kubernetes.io/allowedProfileNames) by each container's effective profile: its appArmorProfile field, else its container.apparmor.security.beta.kubernetes.io annotation, else the pod's field. Names are in annotation syntax; * allows any set profile, an empty entry allows none.",
		params: map[string]any{
			"exemptImages":    exemptImages,
			"allowedProfiles": stringsSchema("Allowed profiles in annotation syntax (runtime/default, localhost/<name>, unconfined); * any set profile; an empty entry allows an unset profile."),
		},
	},
}

// regoFiles are the Rego modules of the own templates, one file per kind,
// named after it, as gatekeeper-library keeps its templates' sources. Each
// is a complete module, so that Rego tooling reads it as it is; the shared
// helpers (has_key, and for per-container kinds the containers PSP checked
// less the exempt ones) are repeated in each, and the package's tests hold
// the copies to one text.
//
//go:embed rego/*.rego
var regoFiles embed.FS

// rego is the full Rego module of a kind's own template, from rego/.
func rego(kind string) (string, error) {
	b, err := regoFiles.ReadFile("rego/" + strings.ToLower(kind) + ".rego")
	if err != nil {
		return "", fmt.Errorf("gatekeeper: no Rego for kind %s: %w", kind, err)
	}
	// Spaces, not tabs: YAML writes a string with tabs quoted on one line,
	// which nobody can review.
	return strings.ReplaceAll(string(b), "\t", "    "), nil
}

// templateKinds lists the kinds with an own template, sorted.
func templateKinds() []string {
	out := make([]string, 0, len(templates))
	for k := range templates {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
