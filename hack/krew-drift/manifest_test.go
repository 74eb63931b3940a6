package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const (
	templateFile   = "../../plugins/krew.yaml"
	goreleaserFile = "../../.goreleaser.yaml"
	helperName     = "kubectl_complete-psp_migrate"
)

// TestCheckedInManifest checks the invariants of plugins/krew.yaml that do
// not need a release build; hack/release-check.sh covers the rest with
// goreleaser, krew's validator and a real krew install.
func TestCheckedInManifest(t *testing.T) {
	m, err := loadManifest(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" {
		t.Errorf("apiVersion/kind = %s/%s", m.APIVersion, m.Kind)
	}
	if m.Metadata.Name != "psp-migrate" {
		t.Errorf("metadata.name = %q, want psp-migrate", m.Metadata.Name)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(m.Spec.Version) {
		t.Errorf("spec.version = %q, want semver with a leading v", m.Spec.Version)
	}
	if m.Spec.ShortDescription == "" || strings.ContainsAny(m.Spec.ShortDescription, "\r\n") {
		t.Errorf("spec.shortDescription = %q, want one non-empty line", m.Spec.ShortDescription)
	}
	if strings.TrimSpace(m.Spec.Description) == "" {
		t.Error("spec.description is empty")
	}
	if m.Spec.Homepage != "https://github.com/psp-migrate/kubectl-psp-migrate" {
		t.Errorf("spec.homepage = %q", m.Spec.Homepage)
	}

	// Every os/arch pair is served by exactly one platform: krew picks the
	// first match, so an overlap would hide a platform.
	for _, os := range []string{"linux", "darwin", "windows"} {
		for _, arch := range []string{"amd64", "arm64"} {
			want := labels.Set{"os": os, "arch": arch}
			var matched []Platform
			for _, p := range m.Spec.Platforms {
				sel, err := metav1.LabelSelectorAsSelector(p.Selector)
				if err != nil {
					t.Fatalf("platform %s: bad selector: %v", selectorKey(p), err)
				}
				if sel.Matches(want) {
					matched = append(matched, p)
				}
			}
			if len(matched) != 1 {
				t.Errorf("%s/%s: matched by %d platforms, want exactly 1", os, arch, len(matched))
				continue
			}
			checkPlatform(t, os, matched[0])
		}
	}
	if len(m.Spec.Platforms) != 6 {
		t.Errorf("%d platforms, want 6", len(m.Spec.Platforms))
	}
}

func checkPlatform(t *testing.T, goos string, p Platform) {
	t.Helper()
	key := selectorKey(p)
	for k := range p.Selector.MatchLabels {
		if k != "os" && k != "arch" {
			t.Errorf("platform %s: selector label %q; krew selects on os and arch only", key, k)
		}
	}
	if len(p.Selector.MatchExpressions) > 0 {
		t.Errorf("platform %s: use matchLabels, not matchExpressions", key)
	}
	wantBin, wantExt := "kubectl-psp_migrate", ".tar.gz"
	if goos == "windows" {
		wantBin, wantExt = "kubectl-psp_migrate.exe", ".zip"
	}
	if p.Bin != wantBin {
		t.Errorf("platform %s: bin = %q, want %q", key, p.Bin, wantBin)
	}
	if !strings.HasPrefix(p.URI, "https://github.com/psp-migrate/kubectl-psp-migrate/releases/download/") || !strings.HasSuffix(p.URI, wantExt) {
		t.Errorf("platform %s: uri = %q, want a %s release asset", key, p.URI, wantExt)
	}
	if !regexp.MustCompile(`^[a-f0-9]{64}$`).MatchString(p.Sha256) {
		t.Errorf("platform %s: sha256 = %q, want 64 lowercase hex digits", key, p.Sha256)
	}
	// The files the archive ships must all be installed.
	installed, err := installedFiles(p.Files, []string{wantBin, helperName, "LICENSE", "README.md"})
	if err != nil {
		t.Fatalf("platform %s: %v", key, err)
	}
	for _, want := range []string{wantBin, helperName, "LICENSE"} {
		if !slices.Contains(installed, want) {
			t.Errorf("platform %s: files do not install %s (installs %q)", key, want, installed)
		}
	}
}

// goreleaserConfig is the part of .goreleaser.yaml the template must agree
// with.
type goreleaserConfig struct {
	Builds []struct {
		GOOS   []string `json:"goos"`
		GOARCH []string `json:"goarch"`
	} `json:"builds"`
	Archives []struct {
		Files []struct {
			Src string `json:"src"`
		} `json:"files"`
	} `json:"archives"`
	Krews []struct {
		Name             string `json:"name"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"short_description"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
	} `json:"krews"`
}

// TestTemplateMatchesGoreleaserConfig is the quick form of the drift check:
// it reads .goreleaser.yaml instead of running goreleaser.
func TestTemplateMatchesGoreleaserConfig(t *testing.T) {
	m, err := loadManifest(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(goreleaserFile)
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("decode %s: %v", goreleaserFile, err)
	}
	if len(cfg.Krews) != 1 || len(cfg.Archives) != 1 {
		t.Fatalf("want one krews and one archives entry, got %d and %d", len(cfg.Krews), len(cfg.Archives))
	}
	k := cfg.Krews[0]
	for _, f := range []struct{ name, template, goreleaser string }{
		{"name", m.Metadata.Name, k.Name},
		{"homepage", m.Spec.Homepage, k.Homepage},
		{"shortDescription", m.Spec.ShortDescription, k.ShortDescription},
		{"description", m.Spec.Description, k.Description},
		{"caveats", m.Spec.Caveats, k.Caveats},
	} {
		if f.template != f.goreleaser {
			t.Errorf("%s differs:\nplugins/krew.yaml: %q\n.goreleaser.yaml:  %q", f.name, f.template, f.goreleaser)
		}
	}
	// The platforms goreleaser builds are the template's: `make test` builds
	// only the host's (hack/release-check.sh --host-only), so this is what
	// keeps the other five in step there.
	if len(cfg.Builds) != 1 {
		t.Fatalf("want one builds entry, got %d", len(cfg.Builds))
	}
	var built, listed []string
	for _, goos := range cfg.Builds[0].GOOS {
		for _, goarch := range cfg.Builds[0].GOARCH {
			built = append(built, "arch="+goarch+",os="+goos)
		}
	}
	for _, p := range m.Spec.Platforms {
		listed = append(listed, selectorKey(p))
	}
	slices.Sort(built)
	slices.Sort(listed)
	if !slices.Equal(built, listed) {
		t.Errorf(".goreleaser.yaml builds %q, plugins/krew.yaml lists %q", built, listed)
	}
	var archived []string
	for _, f := range cfg.Archives[0].Files {
		archived = append(archived, f.Src)
	}
	for _, p := range m.Spec.Platforms {
		for _, op := range p.Files {
			if op.From != p.Bin && !slices.Contains(archived, op.From) {
				t.Errorf("platform %s installs %s, which .goreleaser.yaml does not archive", selectorKey(p), op.From)
			}
		}
	}
	// The completion helper is installed from the repository root, executable.
	info, err := os.Stat("../../" + helperName)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v)", helperName, info.Mode())
	}
}

func TestInstalledFiles(t *testing.T) {
	flat := []string{"kubectl-psp_migrate", helperName, "LICENSE", "README.md"}
	tests := []struct {
		name    string
		ops     []FileOperation
		entries []string
		want    []string
		wantErr string
	}{
		{name: "unset files install everything", entries: flat, want: []string{"LICENSE", "README.md", "kubectl-psp_migrate", helperName}},
		{
			name:    "direct moves",
			ops:     []FileOperation{{From: "kubectl-psp_migrate", To: "."}, {From: "LICENSE", To: "docs/LICENSE"}},
			entries: flat,
			want:    []string{"docs/LICENSE", "kubectl-psp_migrate"},
		},
		{
			name:    "glob into a directory",
			ops:     []FileOperation{{From: "*.md", To: "doc"}},
			entries: flat,
			want:    []string{"doc/README.md"},
		},
		{
			name:    "a wrapping directory is moved whole",
			ops:     []FileOperation{{From: "pkg/*", To: "."}},
			entries: []string{"pkg/kubectl-psp_migrate", "pkg/LICENSE"},
			want:    []string{"LICENSE", "kubectl-psp_migrate"},
		},
		{name: "a missing file fails", ops: []FileOperation{{From: "NOTICE", To: "."}}, entries: flat, wantErr: `matches "NOTICE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := installedFiles(tt.ops, tt.entries)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("installedFiles() = %q, want %q", got, tt.want)
			}
		})
	}
}

// generatedFrom returns what goreleaser would make of the template: its own
// version, uris and checksums, no files, platforms in another order.
func generatedFrom(t *testing.T, tmpl *Manifest) *Manifest {
	t.Helper()
	gen := *tmpl
	gen.Spec.Version = "v0.1.0"
	gen.Spec.Platforms = nil
	for _, p := range slices.Backward(tmpl.Spec.Platforms) {
		p.URI = strings.ReplaceAll(p.URI, "0.0.0", "0.1.0")
		p.Sha256 = strings.Repeat("ab", 32)
		p.Files = nil
		gen.Spec.Platforms = append(gen.Spec.Platforms, p)
	}
	return &gen
}

func TestCompareAndRender(t *testing.T) {
	fullArchive := func(uri string) ([]string, error) {
		bin := "kubectl-psp_migrate"
		if strings.HasSuffix(uri, ".zip") {
			bin += ".exe"
		}
		return []string{bin, helperName, "LICENSE", "README.md"}, nil
	}
	tests := []struct {
		name      string
		edit      func(gen *Manifest)
		list      archiveLister
		partial   bool
		wantDiffs []string
	}{
		{name: "in step", list: fullArchive},
		{
			name:      "description edited on one side",
			edit:      func(gen *Manifest) { gen.Spec.Description += "More.\n" },
			list:      fullArchive,
			wantDiffs: []string{"spec.description"},
		},
		{
			name:      "platform dropped",
			edit:      func(gen *Manifest) { gen.Spec.Platforms = gen.Spec.Platforms[1:] },
			list:      fullArchive,
			wantDiffs: []string{"only in the template"},
		},
		{
			name:    "one platform built, with -partial",
			edit:    func(gen *Manifest) { gen.Spec.Platforms = gen.Spec.Platforms[2:3] },
			list:    fullArchive,
			partial: true,
		},
		{
			name:      "nothing built, with -partial",
			edit:      func(gen *Manifest) { gen.Spec.Platforms = nil },
			list:      fullArchive,
			partial:   true,
			wantDiffs: []string{"no platform"},
		},
		{
			name:      "binary renamed",
			edit:      func(gen *Manifest) { gen.Spec.Platforms[0].Bin = "psp-migrate" },
			list:      fullArchive,
			wantDiffs: []string{": bin:"},
		},
		{
			name: "archive gains a file the template does not install",
			list: func(uri string) ([]string, error) {
				entries, _ := fullArchive(uri)
				if strings.HasSuffix(uri, "_linux_amd64.tar.gz") {
					entries = append(entries, "NOTICE")
				}
				return entries, nil
			},
			wantDiffs: []string{"generated installs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := loadManifest(templateFile)
			if err != nil {
				t.Fatal(err)
			}
			gen := generatedFrom(t, tmpl)
			if tt.edit != nil {
				tt.edit(gen)
			}
			diffs := compare(tmpl, gen, tt.list, tt.partial)
			if len(diffs) != len(tt.wantDiffs) {
				t.Fatalf("compare() = %q, want %d difference(s) like %q", diffs, len(tt.wantDiffs), tt.wantDiffs)
			}
			for i, want := range tt.wantDiffs {
				if !strings.Contains(diffs[i], want) {
					t.Errorf("difference %q does not mention %q", diffs[i], want)
				}
			}
		})
	}

	t.Run("render", func(t *testing.T) {
		tmpl, err := loadManifest(templateFile)
		if err != nil {
			t.Fatal(err)
		}
		gen := generatedFrom(t, tmpl)
		out, err := render(tmpl, gen, false)
		if err != nil {
			t.Fatal(err)
		}
		if out.Spec.Version != "v0.1.0" {
			t.Errorf("version = %q", out.Spec.Version)
		}
		for _, p := range out.Spec.Platforms {
			if !strings.Contains(p.URI, "0.1.0") || p.Sha256 != strings.Repeat("ab", 32) || p.Files == nil {
				t.Errorf("platform %s not filled in from the generated manifest: %+v", selectorKey(p), p)
			}
		}
		if diffs := compare(out, gen, fullArchive, false); len(diffs) > 0 {
			t.Errorf("rendered manifest differs from the generated one: %q", diffs)
		}
		if tmpl.Spec.Platforms[0].Sha256 == out.Spec.Platforms[0].Sha256 {
			t.Error("render changed the template it was given")
		}
	})
	t.Run("render -partial", func(t *testing.T) {
		tmpl, err := loadManifest(templateFile)
		if err != nil {
			t.Fatal(err)
		}
		full := generatedFrom(t, tmpl)
		gen := *full
		gen.Spec.Platforms = nil
		for _, p := range full.Spec.Platforms {
			if p.Selector.MatchLabels["os"] == "linux" && p.Selector.MatchLabels["arch"] == "amd64" {
				gen.Spec.Platforms = append(gen.Spec.Platforms, p)
			}
		}
		if len(gen.Spec.Platforms) != 1 {
			t.Fatalf("no linux/amd64 platform in %+v", full.Spec.Platforms)
		}
		if _, err := render(tmpl, &gen, false); err == nil {
			t.Error("render without -partial accepted a generated manifest missing platforms")
		}
		out, err := render(tmpl, &gen, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Spec.Platforms) != len(tmpl.Spec.Platforms) {
			t.Fatalf("rendered %d platforms, want the template's %d", len(out.Spec.Platforms), len(tmpl.Spec.Platforms))
		}
		// Every uri is the one goreleaser names that archive with, as in
		// the full generated manifest; only the built one has a checksum.
		for i, p := range out.Spec.Platforms {
			want := full.Spec.Platforms[slices.IndexFunc(full.Spec.Platforms, func(f Platform) bool { return selectorKey(f) == selectorKey(p) })]
			if p.URI != want.URI {
				t.Errorf("platform %s: uri %q, want %q", selectorKey(p), p.URI, want.URI)
			}
			wantSum := tmpl.Spec.Platforms[i].Sha256
			if selectorKey(p) == selectorKey(gen.Spec.Platforms[0]) {
				wantSum = want.Sha256
			}
			if p.Sha256 != wantSum {
				t.Errorf("platform %s: sha256 %q, want %q", selectorKey(p), p.Sha256, wantSum)
			}
		}
	})
}
