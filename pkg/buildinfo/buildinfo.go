// Package buildinfo describes the build of the plugin: what goreleaser
// stamped into main, and the versions of the checks it was compiled with.
//
// Packages that bring a policy engine (pkg/translate and below) record the
// version of the engine schema or module they target with RegisterComponent,
// from an init function, so that `kubectl psp-migrate version` can report it
// without this package knowing about them.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
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

var (
	componentsMu sync.Mutex
	components   = map[string]string{}
)

// RegisterComponent records that this build carries component name at
// version. Call it from an init function. Registering the same name twice
// with different versions is a programming error and panics, because the
// version report would otherwise depend on package initialisation order.
func RegisterComponent(name, version string) {
	if name == "" || version == "" {
		panic("buildinfo: RegisterComponent needs a name and a version")
	}
	componentsMu.Lock()
	defer componentsMu.Unlock()
	if old, ok := components[name]; ok && old != version {
		panic(fmt.Sprintf("buildinfo: component %q registered as %s and %s", name, old, version))
	}
	components[name] = version
}

// Components returns the registered components sorted by name; it is empty,
// not nil, when nothing registered.
func Components() []Component {
	componentsMu.Lock()
	defer componentsMu.Unlock()
	out := make([]Component, 0, len(components))
	for name, version := range components {
		out = append(out, Component{Name: name, Version: version})
	}
	slices.SortFunc(out, func(a, b Component) int { return strings.Compare(a.Name, b.Name) })
	return out
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
	// Components lists the engine pins registered with RegisterComponent.
	Components []Component `json:"components"`
}

// NewReport gathers the version report for a build stamped with info.
func NewReport(info Info) Report {
	return Report{
		Version:              info.Version,
		Commit:               info.Commit,
		Date:                 info.Date,
		GoVersion:            runtime.Version(),
		Platform:             runtime.GOOS + "/" + runtime.GOARCH,
		PodSecurityStandards: PodSecurityStandards(),
		Components:           Components(),
	}
}
