// Package buildinfo describes the build of the plugin: what goreleaser
// stamped into main, and the versions of the checks it was compiled with.
//
// The versions of the engine schemas or modules the translators target are
// passed to NewReport by the caller (pkg/translate/engines.Components), so
// that this package knows no engine and nothing registers from init.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// Info is the identity of this build, set from main's ldflags variables.
type Info struct {
	Version string
	Commit  string
	Date    string
}

// Component is a versioned part the plugin was built with, such as the
// policy engine a translator targets ("kyverno", "v1.14.0").
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// readBuildInfo is replaced in tests.
var readBuildInfo = debug.ReadBuildInfo

// ModuleVersion returns the version of module path linked into this binary,
// following a replace directive, or "unknown" when the binary carries no
// module information (or does not contain the module).
func ModuleVersion(path string) string {
	bi, ok := readBuildInfo()
	if !ok {
		return unknown
	}
	for _, dep := range bi.Deps {
		if dep.Path != path {
			continue
		}
		if r := dep.Replace; r != nil {
			if r.Version != "" {
				return r.Version
			}
			// A replace by a local directory has no version.
			return "(replaced by " + r.Path + ")"
		}
		return dep.Version
	}
	return unknown
}

const unknown = "unknown"

// Report is what `kubectl psp-migrate version` prints. Its JSON keys are a
// contract for scripts: they are only ever added, never renamed or removed.
type Report struct {
	// Version is the release, without a leading "v" ("1.2.0"), or "dev".
	Version string `json:"version"`
	// Commit is the git commit the release was built from.
	Commit string `json:"commit"`
	// Date is the build time, RFC 3339.
	Date string `json:"date"`
	// GoVersion is the Go toolchain that compiled the binary.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH of the binary.
	Platform string `json:"platform"`
	// PodSecurityStandards describes the PSS checks compiled in.
	PodSecurityStandards PSS `json:"podSecurityStandards"`
	// Components lists the engine pins NewReport was given.
	Components []Component `json:"components"`
}

// NewReport gathers the version report for a build stamped with info and
// carrying components (sorted by name here; never nil in the report).
func NewReport(info Info, components []Component) Report {
	components = slices.Clone(components)
	if components == nil {
		components = []Component{}
	}
	slices.SortFunc(components, func(a, b Component) int { return strings.Compare(a.Name, b.Name) })
	return Report{
		Version:              info.Version,
		Commit:               info.Commit,
		Date:                 info.Date,
		GoVersion:            runtime.Version(),
		Platform:             runtime.GOOS + "/" + runtime.GOARCH,
		PodSecurityStandards: PodSecurityStandards(),
		Components:           components,
	}
}
