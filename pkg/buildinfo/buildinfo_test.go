package buildinfo

import (
	"runtime/debug"
	"slices"
	"testing"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

func TestNewReportComponents(t *testing.T) {
	tests := []struct {
		name string
		in   []Component
		want []Component
	}{
		{name: "none", in: nil, want: []Component{}},
		{name: "sorted by name", in: []Component{{Name: "kyverno", Version: "v1.14.0"}, {Name: "gatekeeper", Version: "v3.19.0"}},
			want: []Component{{Name: "gatekeeper", Version: "v3.19.0"}, {Name: "kyverno", Version: "v1.14.0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := NewReport(Info{}, in).Components
			if got == nil || !slices.Equal(got, tt.want) {
				t.Fatalf("NewReport().Components = %#v, want %#v", got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("NewReport changed its argument: %v, was %v", in, tt.in)
			}
		})
	}
}

func TestModuleVersion(t *testing.T) {
	deps := []*debug.Module{
		{Path: "example.com/plain", Version: "v1.2.3"},
		{Path: "example.com/fork", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/other", Version: "v1.0.1"}},
		{Path: "example.com/local", Version: "v1.0.0", Replace: &debug.Module{Path: "../local"}},
	}
	tests := []struct {
		name   string
		noInfo bool
		path   string
		want   string
	}{
		{name: "dependency", path: "example.com/plain", want: "v1.2.3"},
		{name: "replaced by a module", path: "example.com/fork", want: "v1.0.1"},
		{name: "replaced by a directory", path: "example.com/local", want: "(replaced by ../local)"},
		{name: "not linked in", path: "example.com/absent", want: "unknown"},
		{name: "binary without build info", noInfo: true, path: "example.com/plain", want: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := readBuildInfo
			t.Cleanup(func() { readBuildInfo = saved })
			readBuildInfo = func() (*debug.BuildInfo, bool) {
				if tt.noInfo {
					return nil, false
				}
				return &debug.BuildInfo{Deps: deps}, true
			}
			if got := ModuleVersion(tt.path); got != tt.want {
				t.Errorf("ModuleVersion(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// TestPodSecurityStandardsOfThisBuild uses the checks linked into the test
// binary. A test binary carries no dependency list, so the module version
// itself is covered by TestModuleVersion and, on a real binary, by
// hack/release-check.sh.
func TestPodSecurityStandardsOfThisBuild(t *testing.T) {
	got := PodSecurityStandards()
	latest := LatestPSSVersion()
	if got.Module != PSSModule || got.LatestVersion != latest.String() {
		t.Fatalf("PodSecurityStandards() = %+v, want module %s, latest %v", got, PSSModule, latest)
	}
	if latest.Latest() {
		t.Fatalf("LatestPSSVersion() = %v, want a numbered version", latest)
	}
	for _, check := range policy.DefaultChecks() {
		for _, vc := range check.Versions {
			if !vc.MinimumVersion.Latest() && latest.Older(vc.MinimumVersion) {
				t.Errorf("check %s changes in %v, newer than LatestPSSVersion() %v", check.ID, vc.MinimumVersion, latest)
			}
		}
	}
}

func TestLatestPSSVersionFollowsModule(t *testing.T) {
	saved := readBuildInfo
	t.Cleanup(func() { readBuildInfo = saved })
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Deps: []*debug.Module{{Path: PSSModule, Version: "v0.99.0"}}}, true
	}
	if got := LatestPSSVersion().String(); got != "v1.99" {
		t.Errorf("LatestPSSVersion() with module v0.99.0 = %s, want v1.99", got)
	}
}

func TestPSSVersions(t *testing.T) {
	got := PSSVersions()
	latest := LatestPSSVersion()
	if got[0] != "latest" || got[1] != latest.String() || got[len(got)-1] != "v1.0" {
		t.Fatalf("PSSVersions() = %q, want latest, %v … v1.0", got, latest)
	}
	if len(got) != latest.Minor()+2 {
		t.Fatalf("PSSVersions() has %d values, want latest plus v1.0 … %v", len(got), latest)
	}
	for _, v := range got {
		if _, err := api.ParseVersion(v); err != nil {
			t.Errorf("PSSVersions() offers %q, which --pss-version would reject: %v", v, err)
		}
	}
}
