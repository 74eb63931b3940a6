package main

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Manifest is the part of a krew plugin manifest
// (krew.googlecontainertools.github.com/v1alpha2, kind Plugin) this tool
// reads. Decoding is strict, so a misspelt field in plugins/krew.yaml fails
// here rather than being dropped by krew.
type Manifest struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata holds the plugin name.
type Metadata struct {
	Name string `json:"name"`
}

// Spec is the plugin description and its platforms.
type Spec struct {
	Version          string     `json:"version"`
	Homepage         string     `json:"homepage,omitempty"`
	ShortDescription string     `json:"shortDescription"`
	Description      string     `json:"description,omitempty"`
	Caveats          string     `json:"caveats,omitempty"`
	Platforms        []Platform `json:"platforms"`
}

// Platform is one downloadable archive and the os/arch it serves.
type Platform struct {
	Selector *metav1.LabelSelector `json:"selector"`
	URI      string                `json:"uri"`
	Sha256   string                `json:"sha256"`
	Bin      string                `json:"bin"`
	// Files is nil when the manifest does not say, which krew reads as
	// "install the whole archive" (see installedFiles).
	Files []FileOperation `json:"files,omitempty"`
}

// FileOperation moves From (a path or glob in the archive) to To (a path in
// the plugin's install directory).
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// loadManifest reads and strictly decodes the manifest at file.
func loadManifest(file string) (*Manifest, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return nil, fmt.Errorf("decode manifest %s: %w", file, err)
	}
	return &m, nil
}

// selectorKey names a platform by its selector, the identity krew matches
// platforms by.
func selectorKey(p Platform) string {
	return metav1.FormatLabelSelector(p.Selector)
}

// archiveLister returns the file paths inside the archive a platform's uri
// names.
type archiveLister func(uri string) ([]string, error)

// compare lists every difference between the checked-in template and the
// manifest a release generated, except the fields a release is meant to
// fill in: spec.version and each platform's uri and sha256. The files each
// platform installs are compared by their effect on the real archive,
// because goreleaser cannot write `files` and krew then installs it all.
// With partial, a template platform the generated manifest lacks (not
// built) is not a difference; the generated manifest must still have one.
func compare(tmpl, gen *Manifest, list archiveLister, partial bool) []string {
	var diffs []string
	field := func(name, want, got string) {
		if want != got {
			diffs = append(diffs, fmt.Sprintf("%s: template has %q, generated has %q", name, want, got))
		}
	}
	field("apiVersion", tmpl.APIVersion, gen.APIVersion)
	field("kind", tmpl.Kind, gen.Kind)
	field("metadata.name", tmpl.Metadata.Name, gen.Metadata.Name)
	field("spec.homepage", tmpl.Spec.Homepage, gen.Spec.Homepage)
	field("spec.shortDescription", tmpl.Spec.ShortDescription, gen.Spec.ShortDescription)
	field("spec.description", tmpl.Spec.Description, gen.Spec.Description)
	field("spec.caveats", tmpl.Spec.Caveats, gen.Spec.Caveats)

	genBySelector := map[string]Platform{}
	for _, p := range gen.Spec.Platforms {
		genBySelector[selectorKey(p)] = p
	}
	seen := map[string]bool{}
	for _, tp := range tmpl.Spec.Platforms {
		key := selectorKey(tp)
		seen[key] = true
		gp, ok := genBySelector[key]
		if !ok {
			if !partial {
				diffs = append(diffs, fmt.Sprintf("platform %s: only in the template", key))
			}
			continue
		}
		field("platform "+key+": bin", tp.Bin, gp.Bin)
		entries, err := list(gp.URI)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("platform %s: %v", key, err))
			continue
		}
		want, werr := installedFiles(tp.Files, entries)
		got, gerr := installedFiles(gp.Files, entries)
		switch {
		case werr != nil:
			diffs = append(diffs, fmt.Sprintf("platform %s: template files: %v", key, werr))
		case gerr != nil:
			diffs = append(diffs, fmt.Sprintf("platform %s: generated files: %v", key, gerr))
		case !slices.Equal(want, got):
			diffs = append(diffs, fmt.Sprintf("platform %s: template installs %q, generated installs %q", key, want, got))
		}
	}
	for _, gp := range gen.Spec.Platforms {
		if key := selectorKey(gp); !seen[key] {
			diffs = append(diffs, fmt.Sprintf("platform %s: only in the generated manifest", key))
		}
	}
	if len(gen.Spec.Platforms) == 0 {
		diffs = append(diffs, "the generated manifest has no platform")
	}
	return diffs
}

// render returns the template with what a release fills in taken from gen:
// the version, and each platform's uri and sha256. That is the manifest to
// submit to the krew index. With partial, a platform that was not built gets
// the uri its archive would have (see archiveURI) and keeps the template's
// placeholder sha256: enough for krew's validator, not for a release.
func render(tmpl, gen *Manifest, partial bool) (*Manifest, error) {
	out := *tmpl
	out.Spec.Version = gen.Spec.Version
	out.Spec.Platforms = slices.Clone(tmpl.Spec.Platforms)
	genBySelector := map[string]Platform{}
	for _, p := range gen.Spec.Platforms {
		genBySelector[selectorKey(p)] = p
	}
	for i, p := range out.Spec.Platforms {
		gp, ok := genBySelector[selectorKey(p)]
		if ok {
			out.Spec.Platforms[i].URI = gp.URI
			out.Spec.Platforms[i].Sha256 = gp.Sha256
			continue
		}
		if !partial || len(gen.Spec.Platforms) == 0 {
			return nil, fmt.Errorf("platform %s: not in the generated manifest", selectorKey(p))
		}
		uri, err := archiveURI(gen.Spec.Platforms[0], p)
		if err != nil {
			return nil, err
		}
		out.Spec.Platforms[i].URI = uri
	}
	return &out, nil
}

// archiveURI returns the uri goreleaser gives the archive of platform want,
// derived from a built platform's: the archive names differ only in their
// "_OS_ARCH.EXT" tail (.goreleaser.yaml: name_template, zip for windows).
func archiveURI(built, want Platform) (string, error) {
	tail := func(p Platform) (string, error) {
		if p.Selector == nil || p.Selector.MatchLabels["os"] == "" || p.Selector.MatchLabels["arch"] == "" {
			return "", fmt.Errorf("platform %s: want a selector with os and arch labels", selectorKey(p))
		}
		os, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		ext := ".tar.gz"
		if os == "windows" {
			ext = ".zip"
		}
		return "_" + os + "_" + arch + ext, nil
	}
	builtTail, err := tail(built)
	if err != nil {
		return "", err
	}
	wantTail, err := tail(want)
	if err != nil {
		return "", err
	}
	stem, ok := strings.CutSuffix(built.URI, builtTail)
	if !ok {
		return "", fmt.Errorf("platform %s: uri %q does not end in %q", selectorKey(built), built.URI, builtTail)
	}
	return stem + wantTail, nil
}

// installedFiles returns, sorted, the paths krew would leave in a plugin's
// install directory after applying ops to an archive holding entries. It
// follows krew v0.5's rules: nil ops means everything at the archive's top
// level; an op whose From exists is a direct move (To "." keeps the name);
// otherwise From is a glob, every match goes into To under its own name, and
// no match fails the install.
func installedFiles(ops []FileOperation, entries []string) ([]string, error) {
	if ops == nil {
		ops = []FileOperation{{From: "*", To: "."}}
	}
	left := map[string]bool{}
	for _, e := range entries {
		left[path.Clean(e)] = true
	}
	var out []string
	// move re-roots every remaining entry at or below from under to.
	move := func(from, to string) {
		for e := range left {
			rest, ok := strings.CutPrefix(e, from)
			if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
				continue
			}
			out = append(out, path.Join(to+rest))
			delete(left, e)
		}
	}
	for _, op := range ops {
		from := path.Clean(op.From)
		if exists(left, from) {
			to := path.Clean(op.To)
			if to == "." {
				to = path.Base(from)
			}
			move(from, to)
			continue
		}
		var matches []string
		for _, candidate := range candidates(left, strings.Count(from, "/")+1) {
			if ok, err := path.Match(from, candidate); err != nil {
				return nil, fmt.Errorf("bad pattern %q: %w", op.From, err)
			} else if ok {
				matches = append(matches, candidate)
			}
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("no file in the archive matches %q", op.From)
		}
		for _, m := range matches {
			move(m, path.Join(op.To, path.Base(m)))
		}
	}
	slices.Sort(out)
	return out, nil
}

// exists reports whether p is an entry or a directory holding entries.
func exists(entries map[string]bool, p string) bool {
	for e := range entries {
		if e == p || strings.HasPrefix(e, p+"/") {
			return true
		}
	}
	return false
}

// candidates returns the paths with depth components (files or the
// directories above them), the ones a glob of that depth can match.
func candidates(entries map[string]bool, depth int) []string {
	set := map[string]bool{}
	for e := range entries {
		parts := strings.Split(e, "/")
		if len(parts) >= depth {
			set[strings.Join(parts[:depth], "/")] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
