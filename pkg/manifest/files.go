package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Stdin is the path that means "read standard input", as in kubectl.
const Stdin = "-"

// manifestExtensions are the file endings read when walking a directory,
// the same set kubectl reads.
var manifestExtensions = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// ReadPaths decodes every manifest named by paths: files, directories (their
// manifest files; subdirectories too when recursive) and "-" for stdin.
// Files named explicitly are read whatever their extension. Any failure
// stops the read: an audit of half the input would look complete.
func ReadPaths(paths []string, recursive bool, stdin io.Reader) ([]Object, error) {
	var out []Object
	stdinRead := false
	for _, p := range paths {
		if p == Stdin {
			if stdinRead {
				return nil, errors.New("standard input (-) given more than once")
			}
			stdinRead = true
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			objs, err := Decode(data, Stdin)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
			continue
		}
		files, err := expandPath(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			objs, err := Decode(data, f)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func expandPath(p string, recursive bool) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if d.IsDir() {
			if path != p && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if manifestExtensions[strings.ToLower(filepath.Ext(path))] {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		hint := ""
		if !recursive {
			hint = " (use -R to read subdirectories)"
		}
		return nil, fmt.Errorf("%s: directory holds no manifest files (.yaml, .yml, .json)%s: %w", p, hint, ErrNoObjects)
	}
	sort.Strings(files)
	return files, nil
}
