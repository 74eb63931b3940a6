package translate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

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

// WriteDir writes one file per manifest into dir (created if missing).
//
// Nothing is written unless everything can be: an existing file is an
// error unless force, and every file is first written to a temporary file
// in dir, then all are renamed into place, so a reader never sees a
// half-written manifest. On a failed rename the temporary files left are
// removed; files already renamed stay (a rename within one directory does
// not fail in practice).
func WriteDir(dir string, ms []Manifest, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	var existing []string
	for _, m := range ms {
		if filepath.Base(m.FileName) != m.FileName || m.FileName == "." || m.FileName == ".." {
			return fmt.Errorf("refusing file name %q: not a plain name", m.FileName)
		}
		_, err := os.Lstat(filepath.Join(dir, m.FileName))
		switch {
		case err == nil:
			existing = append(existing, m.FileName)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("check %s: %w", filepath.Join(dir, m.FileName), err)
		}
	}
	if len(existing) > 0 && !force {
		sort.Strings(existing)
		return fmt.Errorf("%d file(s) already exist in %s (use --force to overwrite): %v", len(existing), dir, existing)
	}

	temps := make([]string, 0, len(ms))
	cleanup := func() {
		for _, t := range temps {
			_ = os.Remove(t)
		}
	}
	for _, m := range ms {
		f, err := os.CreateTemp(dir, "."+m.FileName+".tmp-*")
		if err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", m.FileName, err)
		}
		temps = append(temps, f.Name())
		_, werr := f.Write(m.YAML)
		if werr == nil {
			werr = f.Chmod(0o644)
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", m.FileName, werr)
		}
	}
	for i, m := range ms {
		if err := os.Rename(temps[i], filepath.Join(dir, m.FileName)); err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", m.FileName, err)
		}
		temps[i] = "" // renamed; nothing to clean up
	}
	return nil
}
