package translate

import (
	psp "github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// What the engine packages (pkg/translate/<engine>) use of the rule model's
// own helpers. They are exported here, by name, rather than where they are
// defined, so that the helpers stay where the model needs them and every
// engine reads the same definition.

// VolumeSource is a PSP volume type and the pod's volume field holding it.
type VolumeSource struct {
	Type  psp.FSType
	Field string
}

// VolumeSources lists every volume type a PSP can name, with its field
// (only cephFS differs from its field, cephfs).
func VolumeSources() []VolumeSource {
	out := make([]VolumeSource, len(volumeSources))
	for i, s := range volumeSources {
		out[i] = VolumeSource{Type: s.fsType, Field: s.field}
	}
	return out
}

// PathPrefixes lists the allowedHostPaths prefixes, all of them (readOnly
// nil) or those whose readOnly flag equals *readOnly.
func PathPrefixes(all []psp.AllowedHostPath, readOnly *bool) []string {
	return prefixes(all, readOnly)
}

// RangeString writes an ID or port range as "lo-hi", or "lo" when lo == hi.
func RangeString(lo, hi int64) string { return rangeString(lo, hi) }

// SortedKeys returns the keys of m, sorted.
func SortedKeys[V any](m map[string]V) []string { return sortedKeys(m) }

// GhostServiceAccount is a service account name no RBAC object can name:
// it stands for every account of a namespace that no binding names.
const GhostServiceAccount = ghost

// RequesterGrants are the requester-side grants of u that a converted
// policy must express through the admission request's userInfo (see
// requesterGrants).
func RequesterGrants(u *rbac.Usability) []rbac.RequesterGrant { return requesterGrants(u) }

// RequesterWarnings are the warnings of an engine that expresses requester
// grants.
func RequesterWarnings(set *PolicySet) []string { return requesterWarnings(set) }

// RequesterIgnoredWarnings are the warnings of an engine that cannot select
// pods by who creates them; consequence says what its output does instead.
func RequesterIgnoredWarnings(set *PolicySet, consequence string) []string {
	return requesterIgnoredWarnings(set, consequence)
}

// Usable reports whether PSP i of the set may be used by a pod of service
// account sa in namespace created by requester (nil: nobody in particular).
func (s *PolicySet) Usable(i int, namespace, sa string, requester *rbac.User) bool {
	return s.usable(i, namespace, sa, requester)
}

// WithDefaults fills in the defaults of unset options and checks them.
func (o Options) WithDefaults() (Options, error) { return o.withDefaults() }

// AppArmorContainerAnnotationPrefix starts the annotation naming a
// container's AppArmor profile.
const AppArmorContainerAnnotationPrefix = appArmorContainerAnnotationPrefix

// CELString is s as a CEL string literal.
func CELString(s string) string { return celString(s) }

// CELStrings is list as a CEL list of string literals.
func CELStrings(list []string) string { return celStrings(list) }

// CELOr is the CEL disjunction of terms.
func CELOr(terms []string) string { return celOr(terms) }

// IDRanges are ID ranges as [min, max] pairs.
func IDRanges(rs []psp.IDRange) [][2]int64 { return idRanges(rs) }

// SwapDotSlash turns a slash-written sysctl name into the dotted one, and
// back.
func SwapDotSlash(s string) string { return swapDotSlash(s) }

// AnyStrings is list as the []any an unstructured object holds.
func AnyStrings(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}
