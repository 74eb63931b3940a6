package buildinfo

import (
	"regexp"
	"strconv"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// PSSModule is the Go module whose checks implement the Pod Security
// Standards in this plugin.
const PSSModule = "k8s.io/pod-security-admission"

// PSS describes the Pod Security Standards checks compiled into the binary.
type PSS struct {
	// Module is PSSModule.
	Module string `json:"module"`
	// ModuleVersion is the version of Module in the build, e.g. "v0.37.2".
	ModuleVersion string `json:"moduleVersion"`
	// LatestVersion is the newest standard version these checks know by
	// number, e.g. "v1.37"; `--pss-version latest` evaluates against it.
	LatestVersion string `json:"latestVersion"`
}

// PodSecurityStandards reports the PSS checks compiled into the binary.
func PodSecurityStandards() PSS {
	return PSS{
		Module:        PSSModule,
		ModuleVersion: ModuleVersion(PSSModule),
		LatestVersion: LatestPSSVersion().String(),
	}
}

// stagingVersion matches a published Kubernetes staging module version,
// v0.MINOR.PATCH, which ships with Kubernetes v1.MINOR.
var stagingVersion = regexp.MustCompile(`^v0\.(\d+)\.\d+`)

// LatestPSSVersion returns the newest numbered Pod Security Standards
// version this build can evaluate. api.LatestVersion() only names the alias
// "latest", so the number comes from the checks themselves (the newest
// version any check changed in) and, when the module carries a release
// version, from the Kubernetes minor it was released with: a standard with
// no check changes in that minor is still a valid, known version.
func LatestPSSVersion() api.Version {
	newest := api.MajorMinorVersion(1, 0)
	for _, check := range policy.DefaultChecks() {
		for _, vc := range check.Versions {
			v := vc.MinimumVersion
			if v.Latest() {
				continue
			}
			if newest.Older(v) {
				newest = v
			}
		}
	}
	if m := stagingVersion.FindStringSubmatch(ModuleVersion(PSSModule)); m != nil {
		if minor, err := strconv.Atoi(m[1]); err == nil {
			if v := api.MajorMinorVersion(1, minor); newest.Older(v) {
				newest = v
			}
		}
	}
	return newest
}

// PSSVersions returns the values `--pss-version` accepts, for completion:
// "latest", then every numbered version from the newest down to v1.0.
func PSSVersions() []string {
	latest := LatestPSSVersion()
	out := []string{api.LatestVersion().String()}
	for minor := latest.Minor(); minor >= 0; minor-- {
		out = append(out, api.MajorMinorVersion(1, minor).String())
	}
	return out
}
