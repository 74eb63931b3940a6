package readiness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PlanFile is the plan's own file under --output-dir.
const PlanFile = "plan.md"

// Files lists everything --output-dir writes: plan.md, and one numbered
// folder per step holding a README.md (what the step does and its
// commands, run from the plan's directory) and the step's files, by path
// relative to the directory.
func Files(rep *Report) []File {
	out := []File{{Path: PlanFile, Description: "the report as markdown", Content: Markdown(rep)}}
	for _, s := range rep.Plan {
		if s.Folder != "" {
			out = append(out, File{Path: s.Folder + "/README.md", Description: "step " + fmt.Sprint(s.Number), Content: stepReadme(s)})
		}
		out = append(out, s.Files...)
	}
	return out
}

func stepReadme(s Step) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d. %s\n\n%s\n", s.Number, s.Title, s.Description)
	if len(s.Commands) > 0 {
		b.WriteString("\nRun from the plan's directory:\n\n```sh\n")
		for _, c := range s.Commands {
			b.WriteString(c + "\n")
		}
		b.WriteString("```\n")
	}
	return []byte(b.String())
}

// WriteDir writes Files(rep) under dir. Nothing is written unless all can
// be: a path that would leave dir is refused, an existing file is an error
// unless force, and every file is first written to a temporary file beside
// its target and then renamed into place, so a reader never sees a
// half-written file.
func WriteDir(dir string, rep *Report, force bool) error {
	files := Files(rep)
	var existing []string
	seen := map[string]bool{}
	for _, f := range files {
		// Names come from objects read from files, which may be hostile.
		if !filepath.IsLocal(f.Path) || strings.Contains(f.Path, `\`) {
			return fmt.Errorf("refusing to write %q: it would leave %s", f.Path, dir)
		}
		if seen[f.Path] {
			return fmt.Errorf("two files of the plan would be written to %s", f.Path)
		}
		seen[f.Path] = true
		_, err := os.Lstat(filepath.Join(dir, f.Path))
		switch {
		case err == nil:
			existing = append(existing, f.Path)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("check %s: %w", f.Path, err)
		}
	}
	if len(existing) > 0 && !force {
		return fmt.Errorf("%d file(s) already exist in %s (%s): pass --force to overwrite", len(existing), dir, strings.Join(existing, ", "))
	}
	var temps []string
	cleanup := func() {
		for _, t := range temps {
			_ = os.Remove(t)
		}
	}
	for _, f := range files {
		target := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			cleanup()
			return fmt.Errorf("create %s: %w", filepath.Dir(target), err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
		if err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		temps = append(temps, tmp.Name())
		_, err = tmp.Write(f.Content)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.Path)); err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}
