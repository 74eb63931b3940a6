package translate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Manifest is one object serialised, with the file it goes to.
type Manifest struct {
	FileName string
	YAML     []byte
}

// Marshal serialises every object, failing before anything is written if
// one cannot be, or if two would go to the same file.
func Marshal(objs []Object) ([]Manifest, error) {
	out := make([]Manifest, 0, len(objs))
	seen := map[string]bool{}
	for _, o := range objs {
		u, err := toUnstructured(o.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: convert %s: %w", o.Engine, o.FileName, err)
		}
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: marshal %s: %w", o.Engine, o.FileName, err)
		}
		if seen[o.FileName] {
			return nil, fmt.Errorf("%s: two objects would be written to %s", o.Engine, o.FileName)
		}
		seen[o.FileName] = true
		out = append(out, Manifest{FileName: o.FileName, YAML: b})
	}
	return out, nil
}

// WriteStream writes the manifests as one multi-document YAML stream,
// ready for `kubectl apply -f -`.
func WriteStream(w io.Writer, ms []Manifest) error {
	var buf bytes.Buffer
	for i, m := range ms {
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(m.YAML)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ManifestListFile is the file in an --output-dir that lists the files
// this tool wrote there, one per line. Only files named in it are ever
// reported stale or pruned: a user's own file in the directory is never
// touched.
const ManifestListFile = ".psp-migrate-files"

// tempMarker is in the name of every temporary file WriteDir creates, so
// that one left by a killed run can be recognised and removed. Its name
// ends in neither .yaml nor .json: `kubectl apply -f DIR` skips it.
const tempMarker = ".tmp-psp-migrate-"

// WriteOptions control WriteDir.
type WriteOptions struct {
	// Force overwrites existing files.
	Force bool
	// Prune removes the files an earlier run wrote that this run did not.
	Prune bool
}

// WriteResult says what WriteDir did besides writing.
type WriteResult struct {
	// Stale are files an earlier run wrote that this run did not, left in
	// place (without Prune) or removed (with Prune).
	Stale []string
	// Pruned reports whether Stale was removed.
	Pruned bool
}

// WriteDir writes one file per manifest into dir (created if missing).
//
// Nothing is written unless everything can be: an existing file is an
// error unless opts.Force, and every file is first written and synced to a
// temporary file in dir, then all are renamed into place, so a reader
// never sees a half-written manifest, even if the process is killed. A
// rename replaces a symbolic link rather than writing through it, so
// nothing outside dir is written. Temporary files a killed run left behind
// are removed. The list of files written is kept in ManifestListFile;
// files an earlier run wrote and this one did not are returned as stale,
// and removed when opts.Prune.
func WriteDir(dir string, ms []Manifest, opts WriteOptions) (*WriteResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	var existing []string
	current := map[string]bool{}
	for _, m := range ms {
		if !plainName(m.FileName) {
			return nil, fmt.Errorf("refusing file name %q: not a plain name", m.FileName)
		}
		current[m.FileName] = true
		_, err := os.Lstat(filepath.Join(dir, m.FileName))
		switch {
		case err == nil:
			existing = append(existing, m.FileName)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("check %s: %w", filepath.Join(dir, m.FileName), err)
		}
	}
	if len(existing) > 0 && !opts.Force {
		sort.Strings(existing)
		return nil, fmt.Errorf("%d file(s) already exist in %s (use --force to overwrite): %v", len(existing), dir, existing)
	}
	previous, err := readManifestList(dir)
	if err != nil {
		return nil, err
	}
	removeTemps(dir)

	res := &WriteResult{}
	for _, f := range previous {
		if current[f] {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			res.Stale = append(res.Stale, f)
		}
	}
	sort.Strings(res.Stale)

	list := slices.Sorted(maps.Keys(current))
	if !opts.Prune {
		// Still ours: a later run reports them again, or prunes them.
		list = append(list, res.Stale...)
		sort.Strings(list)
	}
	all := append(slices.Clone(ms), Manifest{FileName: ManifestListFile, YAML: []byte(strings.Join(list, "\n") + "\n")})

	temps := make([]string, 0, len(all))
	cleanup := func() {
		for _, t := range temps {
			if t != "" {
				_ = os.Remove(t)
			}
		}
	}
	for _, m := range all {
		f, err := os.CreateTemp(dir, "."+m.FileName+tempMarker+"*")
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("write %s: %w", m.FileName, err)
		}
		temps = append(temps, f.Name())
		_, werr := f.Write(m.YAML)
		if werr == nil {
			werr = f.Chmod(0o644)
		}
		if werr == nil {
			// Renamed into place only once on disk: a crash leaves the old
			// file or the new one, never an empty one.
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			cleanup()
			return nil, fmt.Errorf("write %s: %w", m.FileName, werr)
		}
	}
	// The list goes last: a run killed before it leaves the previous list,
	// which names every file this tool wrote before, still in place.
	for i, m := range all {
		if err := os.Rename(temps[i], filepath.Join(dir, m.FileName)); err != nil {
			cleanup()
			return nil, fmt.Errorf("write %s: %w", m.FileName, err)
		}
		temps[i] = "" // renamed; nothing to clean up
	}
	if opts.Prune {
		for _, f := range res.Stale {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, fmt.Errorf("prune %s: %w", f, err)
			}
		}
		res.Pruned = true
	}
	return res, nil
}

func plainName(name string) bool {
	return name != "" && filepath.Base(name) == name && name != "." && name != ".." &&
		!strings.ContainsAny(name, `/\`) && name != ManifestListFile
}

// readManifestList reads the files an earlier run wrote. Names that are
// not plain are ignored: the list is in a directory others may write to.
func readManifestList(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestListFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, ManifestListFile), err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); plainName(line) {
			out = append(out, line)
		}
	}
	return out, nil
}

// removeTemps removes the temporary files of a run that was killed.
func removeTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), tempMarker) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
