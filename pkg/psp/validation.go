package psp

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Profile names and prefixes that the v1.24 API server accepted in the
// seccomp and AppArmor PSP annotations. k8s.io/api renamed or deprecated
// several of these constants after v1.24, so the project keeps its own.
const (
	SeccompProfileRuntimeDefault       = "runtime/default"
	SeccompProfileDockerDefault        = "docker/default"
	SeccompProfileUnconfined           = "unconfined"
	SeccompLocalhostProfilePrefix      = "localhost/"
	SeccompAllowAny                    = "*"
	AppArmorProfileRuntimeDefault      = "runtime/default"
	AppArmorProfileUnconfined          = "unconfined"
	AppArmorLocalhostProfilePrefix     = "localhost/"
	sysctlMaxLength                    = 253
	sysctlSegmentFmt                   = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
	sysctlPatternSegmentFmt            = "([a-z0-9][-_a-z0-9]*)?[a-z0-9*]"
	sysctlPatternFmt                   = "(" + sysctlSegmentFmt + "\\.)*" + sysctlPatternSegmentFmt
	csiDriverNameMaxLength             = 63
	defaultAllowPrivilegeEscalationMsg = "Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true"
)

var sysctlPatternRegexp = regexp.MustCompile("^" + sysctlPatternFmt + "$")

// legacyValue is a bad value pre-rendered the way kube-apiserver v1.24
// printed it. Its apimachinery printed composite values with %#v of the
// internal API types ([]core.Capability{"ALL"}); the apimachinery this project
// builds with prints JSON unless JSON encoding fails, in which case it uses
// String. legacyValue makes JSON fail on purpose so that messages match the
// server's.
type legacyValue string

var errLegacyValue = errors.New("rendered with String")

// MarshalJSON always fails; see legacyValue.
func (v legacyValue) MarshalJSON() ([]byte, error) { return nil, errLegacyValue }

func (v legacyValue) String() string { return string(v) }

// goSyntaxSlice renders a slice as %#v of a []typeName of strings would.
func goSyntaxStrings(typeName string, items []string, isNil bool) legacyValue {
	if isNil {
		return legacyValue("[]" + typeName + "(nil)")
	}
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = strconv.Quote(it)
	}
	return legacyValue("[]" + typeName + "{" + strings.Join(quoted, ", ") + "}")
}

func goSyntaxRanges(ranges []IDRange) legacyValue {
	if ranges == nil {
		return legacyValue("[]policy.IDRange(nil)")
	}
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = fmt.Sprintf("policy.IDRange{Min:%d, Max:%d}", r.Min, r.Max)
	}
	return legacyValue("[]policy.IDRange{" + strings.Join(parts, ", ") + "}")
}

// allFSTypes is every real volume type v1.24 knew (the "*" pseudo type is
// added where needed), sorted because the API server listed them sorted in
// its "supported values" message.
var allFSTypes = func() []string {
	types := []string{
		string(HostPath), string(AzureFile), string(Flocker), string(FlexVolume), string(EmptyDir),
		string(GCEPersistentDisk), string(AWSElasticBlockStore), string(GitRepo), string(Secret), string(NFS),
		string(ISCSI), string(Glusterfs), string(PersistentVolumeClaim), string(RBD), string(Cinder),
		string(CephFS), string(DownwardAPI), string(FC), string(ConfigMap), string(VsphereVolume),
		string(Quobyte), string(AzureDisk), string(PhotonPersistentDisk), string(StorageOS), string(Projected),
		string(PortworxVolume), string(ScaleIO), string(CSI), string(Ephemeral),
	}
	sort.Strings(types)
	return types
}()

// AllFSTypes returns every volume type name a v1.24 PSP could list, without
// the "*" wildcard, sorted.
func AllFSTypes() []string {
	return append([]string(nil), allFSTypes...)
}

// Validate checks a PSP the way the v1.24 API server did when the object was
// created: the policy/v1beta1 defaults are applied first (so an unset
// allowPrivilegeEscalation counts as true), then metadata, the seccomp and
// AppArmor annotations and every spec field are validated. Error paths and
// details follow upstream, including its quirks (some capability errors are
// reported without the "spec." prefix).
//
// Validate does not modify p. A PSP that passes can still be unusable by
// admission: strategies that need ranges or SELinux options but have none
// pass validation and only fail when admission builds them (see
// pspadmission.NewEvaluator).
func Validate(p *PodSecurityPolicy) field.ErrorList {
	if p == nil {
		return field.ErrorList{field.Required(field.NewPath(""), "PodSecurityPolicy is nil")}
	}
	meta := field.NewPath("metadata")
	allErrs := apimachineryvalidation.ValidateObjectMeta(&p.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, meta)
	allErrs = append(allErrs, validateFinalizerNames(p.Finalizers, meta.Child("finalizers"))...)
	allErrs = append(allErrs, validateProfileAnnotations(p.Annotations, meta.Child("annotations"))...)
	allErrs = append(allErrs, validateSpec(&p.Spec, field.NewPath("spec"))...)
	return allErrs
}

// validateFinalizerNames repeats the core API's extra finalizer check: a
// finalizer without a "/" must be one of the standard names.
func validateFinalizerNames(finalizers []string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, f := range finalizers {
		if strings.Contains(f, "/") {
			continue
		}
		switch f {
		case "kubernetes", metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents:
		default:
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return allErrs
}

func validateProfileAnnotations(annotations map[string]string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p := annotations[AppArmorDefaultProfileAnnotation]; p != "" {
		if err := validateAppArmorProfileFormat(p); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Key(AppArmorDefaultProfileAnnotation), p, err.Error()))
		}
	}
	if allowed := annotations[AppArmorAllowedProfilesAnnotation]; allowed != "" {
		for _, p := range strings.Split(allowed, ",") {
			if err := validateAppArmorProfileFormat(p); err != nil {
				allErrs = append(allErrs, field.Invalid(fldPath.Key(AppArmorAllowedProfilesAnnotation), allowed, err.Error()))
			}
		}
	}
	if p := annotations[SeccompDefaultProfileAnnotation]; p != "" {
		allErrs = append(allErrs, validateSeccompProfile(p, fldPath.Key(SeccompDefaultProfileAnnotation))...)
	}
	if allowed := annotations[SeccompAllowedProfilesAnnotation]; allowed != "" {
		// An empty entry (e.g. a trailing comma) is not a valid seccomp
		// profile name for v1.24, unlike for AppArmor.
		for _, p := range strings.Split(allowed, ",") {
			if p == SeccompAllowAny {
				continue
			}
			allErrs = append(allErrs, validateSeccompProfile(p, fldPath.Key(SeccompAllowedProfilesAnnotation))...)
		}
	}
	return allErrs
}

func validateAppArmorProfileFormat(profile string) error {
	if profile == "" || profile == AppArmorProfileRuntimeDefault || profile == AppArmorProfileUnconfined {
		return nil
	}
	if !strings.HasPrefix(profile, AppArmorLocalhostProfilePrefix) {
		return fmt.Errorf("invalid AppArmor profile name: %q", profile)
	}
	return nil
}

func validateSeccompProfile(p string, fldPath *field.Path) field.ErrorList {
	switch {
	case p == SeccompProfileRuntimeDefault, p == SeccompProfileDockerDefault, p == SeccompProfileUnconfined:
		return nil
	case strings.HasPrefix(p, SeccompLocalhostProfilePrefix):
		// A localhost profile is a path below the kubelet's seccomp root.
		target := strings.TrimPrefix(p, SeccompLocalhostProfilePrefix)
		var allErrs field.ErrorList
		if path.IsAbs(target) {
			allErrs = append(allErrs, field.Invalid(fldPath, target, "must be a relative path"))
		}
		if hasBackstep(target) {
			allErrs = append(allErrs, field.Invalid(fldPath, target, "must not contain '..'"))
		}
		return allErrs
	}
	return field.ErrorList{field.Invalid(fldPath, p, "must be a valid seccomp profile")}
}

func hasBackstep(p string) bool {
	for _, item := range strings.Split(filepath.ToSlash(p), "/") {
		if item == ".." {
			return true
		}
	}
	return false
}

func validateSpec(spec *PodSecurityPolicySpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateRunAsUser(fldPath.Child("runAsUser"), &spec.RunAsUser)...)
	allErrs = append(allErrs, validateRunAsGroup(fldPath.Child("runAsGroup"), spec.RunAsGroup)...)
	allErrs = append(allErrs, validateSELinux(fldPath.Child("seLinux"), &spec.SELinux)...)
	allErrs = append(allErrs, validateGroupRule(fldPath.Child("supplementalGroups"), string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges)...)
	allErrs = append(allErrs, validateGroupRule(fldPath.Child("fsGroup"), string(spec.FSGroup.Rule), spec.FSGroup.Ranges)...)
	allErrs = append(allErrs, validateVolumes(fldPath, spec.Volumes)...)
	// Upstream reports the three capability errors at top-level paths
	// (without "spec."); kept so messages match the server's.
	if len(spec.RequiredDropCapabilities) > 0 && hasCap("*", spec.AllowedCapabilities) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("requiredDropCapabilities"),
			goSyntaxStrings("core.Capability", capStrings(spec.RequiredDropCapabilities), spec.RequiredDropCapabilities == nil),
			"must be empty when all capabilities are allowed by a wildcard"))
	}
	allErrs = append(allErrs, validateCapsAgainstDrops(spec.RequiredDropCapabilities, spec.DefaultAddCapabilities, field.NewPath("defaultAddCapabilities"))...)
	allErrs = append(allErrs, validateCapsAgainstDrops(spec.RequiredDropCapabilities, spec.AllowedCapabilities, field.NewPath("allowedCapabilities"))...)
	// The policy/v1beta1 default for allowPrivilegeEscalation is true and is
	// applied before validation.
	allowEscalation := spec.AllowPrivilegeEscalation == nil || *spec.AllowPrivilegeEscalation
	if d := spec.DefaultAllowPrivilegeEscalation; d != nil && *d && !allowEscalation {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("defaultAllowPrivilegeEscalation"), *d, defaultAllowPrivilegeEscalationMsg))
	}
	// allowedProcMountTypes is not validated: with the ProcMountType feature
	// gate off (v1.24's default) the API server drops the field before
	// validating, so any value is accepted and ignored.
	allErrs = append(allErrs, validateAllowedHostPaths(fldPath.Child("allowedHostPaths"), spec.AllowedHostPaths)...)
	// The doubled path segments below are upstream's.
	for i, fv := range spec.AllowedFlexVolumes {
		if fv.Driver == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("allowedFlexVolumes").Child("allowedFlexVolumes").Index(i).Child("driver"), "must specify a driver"))
		}
	}
	for i, d := range spec.AllowedCSIDrivers {
		allErrs = append(allErrs, validateCSIDriverName(d.Name, fldPath.Child("allowedCSIDrivers").Child("allowedCSIDriver").Index(i).Child("name"))...)
	}
	allErrs = append(allErrs, validateSysctlPatterns(fldPath.Child("allowedUnsafeSysctls"), spec.AllowedUnsafeSysctls)...)
	allErrs = append(allErrs, validateSysctlPatterns(fldPath.Child("forbiddenSysctls"), spec.ForbiddenSysctls)...)
	allErrs = append(allErrs, validateSysctlOverlap(fldPath.Child("allowedUnsafeSysctls"), fldPath.Child("forbiddenSysctls"), spec.AllowedUnsafeSysctls, spec.ForbiddenSysctls)...)
	allErrs = append(allErrs, validateRuntimeClass(fldPath.Child("runtimeClass"), spec.RuntimeClass)...)
	return allErrs
}

func validateRunAsUser(fldPath *field.Path, o *RunAsUserStrategyOptions) field.ErrorList {
	var allErrs field.ErrorList
	switch o.Rule {
	case RunAsUserStrategyMustRunAs, RunAsUserStrategyMustRunAsNonRoot, RunAsUserStrategyRunAsAny:
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), string(o.Rule),
			[]string{string(RunAsUserStrategyMustRunAs), string(RunAsUserStrategyMustRunAsNonRoot), string(RunAsUserStrategyRunAsAny)}))
	}
	for i, r := range o.Ranges {
		allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(i), r)...)
	}
	return allErrs
}

func validateRunAsGroup(fldPath *field.Path, o *RunAsGroupStrategyOptions) field.ErrorList {
	if o == nil {
		return nil
	}
	var allErrs field.ErrorList
	switch o.Rule {
	case RunAsGroupStrategyRunAsAny:
		if len(o.Ranges) != 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ranges"), goSyntaxRanges(o.Ranges), "Ranges must be empty"))
		}
	case RunAsGroupStrategyMustRunAs, RunAsGroupStrategyMayRunAs:
		if len(o.Ranges) == 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ranges"), goSyntaxRanges(o.Ranges), "must provide at least one range"))
		}
		for i, r := range o.Ranges {
			allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(i), r)...)
		}
	default:
		// Upstream lists these three unsorted.
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), string(o.Rule),
			[]string{string(RunAsGroupStrategyMustRunAs), string(RunAsGroupStrategyRunAsAny), string(RunAsGroupStrategyMayRunAs)}))
	}
	return allErrs
}

func validateSELinux(fldPath *field.Path, o *SELinuxStrategyOptions) field.ErrorList {
	switch o.Rule {
	case SELinuxStrategyMustRunAs, SELinuxStrategyRunAsAny:
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath.Child("rule"), string(o.Rule),
		[]string{string(SELinuxStrategyMustRunAs), string(SELinuxStrategyRunAsAny)})}
}

// validateGroupRule covers fsGroup and supplementalGroups, which share their
// rule names. Missing ranges for MustRunAs/MayRunAs are not a validation
// error in v1.24; admission skips such a policy instead.
func validateGroupRule(fldPath *field.Path, rule string, ranges []IDRange) field.ErrorList {
	var allErrs field.ErrorList
	switch rule {
	case "MustRunAs", "MayRunAs", "RunAsAny":
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), rule, []string{"MayRunAs", "MustRunAs", "RunAsAny"}))
	}
	for i, r := range ranges {
		allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(i), r)...)
	}
	return allErrs
}

func validateIDRange(fldPath *field.Path, r IDRange) field.ErrorList {
	var allErrs field.ErrorList
	if r.Min < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), r.Min, "min cannot be negative"))
	}
	if r.Max < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("max"), r.Max, "max cannot be negative"))
	}
	if r.Min > r.Max {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), r.Min, "min cannot be greater than max"))
	}
	return allErrs
}

func validateVolumes(fldPath *field.Path, volumes []FSType) field.ErrorList {
	var allErrs field.ErrorList
	for _, v := range volumes {
		if v == All {
			continue
		}
		if i := sort.SearchStrings(allFSTypes, string(v)); i < len(allFSTypes) && allFSTypes[i] == string(v) {
			continue
		}
		supported := append(AllFSTypes(), string(All))
		sort.Strings(supported)
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("volumes"), string(v), supported))
	}
	return allErrs
}

func validateCapsAgainstDrops(requiredDrops, caps []corev1.Capability, fldPath *field.Path) field.ErrorList {
	// Upstream skips the check only for a nil list, not an empty one; both
	// behave the same because an empty list matches nothing.
	var allErrs field.ErrorList
	for _, c := range caps {
		if hasCap(c, requiredDrops) {
			allErrs = append(allErrs, field.Invalid(fldPath, string(c),
				fmt.Sprintf("capability is listed in %s and requiredDropCapabilities", fldPath.String())))
		}
	}
	return allErrs
}

// validateAllowedHostPaths stops at the first empty prefix, as upstream does.
func validateAllowedHostPaths(fldPath *field.Path, paths []AllowedHostPath) field.ErrorList {
	var allErrs field.ErrorList
	for i, p := range paths {
		if p.PathPrefix == "" {
			allErrs = append(allErrs, field.Required(fldPath.Index(i), "is required"))
			break
		}
		if hasBackstep(p.PathPrefix) {
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), p.PathPrefix, "must not contain '..'"))
		}
	}
	return allErrs
}

func validateCSIDriverName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath, ""))
	}
	if len(name) > csiDriverNameMaxLength {
		// v1.24 worded this "must have at most N bytes".
		allErrs = append(allErrs, &field.Error{Type: field.ErrorTypeTooLong, Field: fldPath.String(), BadValue: name,
			Detail: fmt.Sprintf("must have at most %d bytes", csiDriverNameMaxLength)})
	}
	for _, msg := range utilvalidation.IsDNS1123Subdomain(strings.ToLower(name)) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

func validateSysctlPatterns(fldPath *field.Path, sysctls []string) field.ErrorList {
	var allErrs field.ErrorList
	coversAll := false
	for i, s := range sysctls {
		switch {
		case s == "":
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), s, "empty sysctl not allowed"))
		case len(s) > sysctlMaxLength || !sysctlPatternRegexp.MatchString(s):
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), s,
				fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlPatternFmt)))
		case s[0] == '*':
			coversAll = true
		}
	}
	if coversAll && len(sysctls) > 1 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("items"), "if '*' is present, must not specify other sysctls"))
	}
	return allErrs
}

// validateSysctlOverlap rejects a sysctl (or pattern) that is both allowed
// and forbidden, reporting it on whichever side is the narrower one.
func validateSysctlOverlap(allowedPath, forbiddenPath *field.Path, allowed, forbidden []string) field.ErrorList {
	var allErrs field.ErrorList
	for i, a := range allowed {
		aPrefix, aIsPattern := strings.CutSuffix(a, "*")
		for j, f := range forbidden {
			fPrefix, fIsPattern := strings.CutSuffix(f, "*")
			switch {
			case aIsPattern && fIsPattern:
				if strings.HasPrefix(aPrefix, fPrefix) {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), a, fmt.Sprintf("sysctl overlaps with %v", f)))
				} else if strings.HasPrefix(fPrefix, aPrefix) {
					allErrs = append(allErrs, field.Invalid(forbiddenPath.Index(j), f, fmt.Sprintf("sysctl overlaps with %v", a)))
				}
			case aIsPattern:
				if strings.HasPrefix(f, aPrefix) {
					allErrs = append(allErrs, field.Invalid(forbiddenPath.Index(j), f, fmt.Sprintf("sysctl overlaps with %v", a)))
				}
			case fIsPattern:
				if strings.HasPrefix(a, fPrefix) {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), a, fmt.Sprintf("sysctl overlaps with %v", f)))
				}
			default:
				if a == f {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), a, fmt.Sprintf("sysctl overlaps with %v", f)))
				}
			}
		}
	}
	return allErrs
}

func validateRuntimeClass(fldPath *field.Path, rc *RuntimeClassStrategyOptions) field.ErrorList {
	if rc == nil {
		return nil
	}
	var allErrs field.ErrorList
	allowed := map[string]bool{}
	for i, name := range rc.AllowedRuntimeClassNames {
		if name != AllowAllRuntimeClassNames {
			allErrs = append(allErrs, validateRuntimeClassName(name, fldPath.Child("allowedRuntimeClassNames").Index(i))...)
		}
		if allowed[name] {
			allErrs = append(allErrs, field.Duplicate(fldPath.Child("allowedRuntimeClassNames").Index(i), name))
		}
		allowed[name] = true
	}
	if d := rc.DefaultRuntimeClassName; d != nil {
		allErrs = append(allErrs, validateRuntimeClassName(*d, fldPath.Child("defaultRuntimeClassName"))...)
		if !allowed[*d] && !allowed[AllowAllRuntimeClassNames] {
			allErrs = append(allErrs, field.Required(fldPath.Child("allowedRuntimeClassNames"), fmt.Sprintf("default %q must be allowed", *d)))
		}
	}
	if allowed[AllowAllRuntimeClassNames] && len(rc.AllowedRuntimeClassNames) > 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("allowedRuntimeClassNames"),
			goSyntaxStrings("string", rc.AllowedRuntimeClassNames, rc.AllowedRuntimeClassNames == nil),
			"if '*' is present, must not specify other RuntimeClass names"))
	}
	return allErrs
}

func validateRuntimeClassName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, false) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

func hasCap(needle corev1.Capability, haystack []corev1.Capability) bool {
	for _, c := range haystack {
		if c == needle {
			return true
		}
	}
	return false
}

func capStrings(caps []corev1.Capability) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}
