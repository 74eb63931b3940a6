package readiness

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Output formats accepted by -o.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatYAML     = "yaml"
	FormatMarkdown = "markdown"
)

// Formats lists the valid -o values, in help order.
var Formats = []string{FormatTable, FormatJSON, FormatYAML, FormatMarkdown}

// maxItems is how many items a table or markdown row names before "and N
// more"; JSON always has them all.
const maxItems = 5

// Print writes rep to w in format, the table unfitted.
func Print(w io.Writer, rep *Report, format string) error {
	return PrintWith(w, rep, format, 0)
}

// PrintWith writes rep to w in format; width > 0 fits the table of checks
// to that many columns (-o json, yaml and markdown keep the full text).
func PrintWith(w io.Writer, rep *Report, format string, width int) error {
	switch format {
	case FormatJSON, FormatYAML:
		return report.WriteDocument(w, rep, format, "readiness report")
	case FormatTable:
		return printTable(w, rep, width)
	case FormatMarkdown:
		_, err := w.Write(Markdown(rep))
		return err
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func headline(rep *Report) string {
	s := fmt.Sprintf("%s for %s with %s", rep.Verdict, rep.Metadata.Target, rep.Metadata.Engine)
	if rep.Metadata.ClusterVersion != "" {
		s += " (cluster " + rep.Metadata.ClusterVersion + ")"
	}
	return s + fmt.Sprintf(": %d blocking, %d warning, %d manual, %d passed", rep.Summary.Block, rep.Summary.Warn, rep.Summary.Manual, rep.Summary.Pass)
}

func itemList(c Check, max int) string {
	var names []string
	for i, it := range c.Items {
		if i == max {
			names = append(names, fmt.Sprintf("and %d more", len(c.Items)-max))
			break
		}
		names = append(names, it.String())
	}
	return strings.Join(names, ", ")
}

func printTable(out io.Writer, rep *Report, width int) error {
	var w bytes.Buffer
	fmt.Fprintln(&w, headline(rep))
	fmt.Fprintln(&w)
	rows := [][]string{{"STATUS", "CHECK", "COUNT", "CONCERNS", "STEP"}}
	for _, c := range rep.Checks {
		step := "-"
		if c.Step > 0 {
			step = fmt.Sprint(c.Step)
		}
		concerns := itemList(c, 3)
		if concerns == "" {
			concerns = "-"
		}
		rows = append(rows, []string{c.Status, c.Title, fmt.Sprint(c.Count), concerns, step})
	}
	// Concerns give way first, then the check titles.
	report.FitTable(&w, rows, width, report.ShrinkStep{Cols: []int{3}, Floor: 20}, report.ShrinkStep{Cols: []int{1}, Floor: 30},
		report.ShrinkStep{Cols: []int{3, 1}, Floor: 8})
	fmt.Fprintln(&w)
	for _, c := range rep.Checks {
		if c.Status == Block || c.Status == Warn || c.Status == Manual {
			fmt.Fprintf(&w, "%s %s: %s\n", c.Status, c.ID, c.Detail)
		}
	}
	fmt.Fprintln(&w)
	fmt.Fprintln(&w, "Plan:")
	for _, s := range rep.Plan {
		fmt.Fprintf(&w, "  %d. %s (%s, %s)\n", s.Number, s.Title, plural(len(s.Commands), "command"), plural(len(s.Files), "file"))
	}
	fmt.Fprintln(&w, "Write it with --output-dir DIR (plan.md and a folder per step), or read it with -o markdown.")
	_, err := out.Write(report.TrimTrailingSpace(w.Bytes()))
	return err
}

// mdEscape keeps a cell on one line and its pipes literal.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Markdown renders rep as a change ticket or pull request comment:
// verdict, summary table, checks, and the plan with collapsible details.
func Markdown(rep *Report) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# PodSecurityPolicy migration readiness: %s\n\n", rep.Verdict)
	fmt.Fprintf(&b, "%s.\n\n", headline(rep))
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| target | %s |\n| replacement | %s |\n| Pod Security Standards | %s |\n", rep.Metadata.Target, rep.Metadata.Engine, rep.Metadata.PSSVersion)
	if rep.Metadata.ClusterVersion != "" {
		fmt.Fprintf(&b, "| cluster | %s |\n", rep.Metadata.ClusterVersion)
	}
	fmt.Fprintf(&b, "| sources | %s |\n| tool | %s |\n\n", mdEscape(strings.Join(rep.Metadata.Sources, ", ")), mdEscape(rep.Metadata.ToolVersion))

	fmt.Fprintf(&b, "## Checks\n\n| status | check | count | concerns | step |\n|---|---|---|---|---|\n")
	for _, c := range rep.Checks {
		step := ""
		if c.Step > 0 {
			step = fmt.Sprint(c.Step)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", c.Status, mdEscape(c.Title), c.Count, mdEscape(itemList(c, maxItems)), step)
	}
	b.WriteString("\n")
	for _, c := range rep.Checks {
		if len(c.Items) == 0 && c.Status != Manual {
			continue
		}
		fmt.Fprintf(&b, "<details><summary>%s %s (%d)</summary>\n\n%s\n\n", c.Status, mdEscape(c.Title), c.Count, c.Detail)
		for _, it := range c.Items {
			fmt.Fprintf(&b, "- `%s`", it.String())
			if it.Reason != "" {
				fmt.Fprintf(&b, ": %s", mdEscape(it.Reason))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n</details>\n\n")
	}

	b.WriteString("## Plan\n\n")
	for _, s := range rep.Plan {
		fmt.Fprintf(&b, "### %d. %s\n\n%s\n\n", s.Number, s.Title, s.Description)
		if len(s.Commands) > 0 {
			b.WriteString("```sh\n")
			for _, c := range s.Commands {
				b.WriteString(c + "\n")
			}
			b.WriteString("```\n\n")
		}
		if len(s.Files) > 0 {
			fmt.Fprintf(&b, "<details><summary>%d files</summary>\n\n", len(s.Files))
			for _, f := range s.Files {
				fmt.Fprintf(&b, "- `%s`: %s\n", f.Path, mdEscape(f.Description))
			}
			b.WriteString("\n</details>\n\n")
		}
	}
	if len(rep.Incomplete) > 0 {
		b.WriteString("## Incomplete read\n\n")
		for _, i := range rep.Incomplete {
			fmt.Fprintf(&b, "- %s\n", mdEscape(i))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
