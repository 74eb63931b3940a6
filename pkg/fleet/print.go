package fleet

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Output formats of a fleet report.
const (
	FormatTable    = "table"
	FormatWide     = "wide"
	FormatJSON     = "json"
	FormatYAML     = "yaml"
	FormatMarkdown = "markdown"
)

// Formats lists the -o values a fleet run of command accepts: audit's
// table|wide|json|yaml, readiness's table|json|yaml|markdown.
func Formats(command string) []string {
	if command == CommandReadiness {
		return []string{FormatTable, FormatJSON, FormatYAML, FormatMarkdown}
	}
	return []string{FormatTable, FormatWide, FormatJSON, FormatYAML}
}

// Print writes rep to w in format.
func Print(w io.Writer, rep *Report, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, rep)
	case FormatYAML:
		b, err := yaml.Marshal(joined(rep))
		if err != nil {
			return fmt.Errorf("encode fleet report as YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	case FormatTable, FormatWide:
		return printTable(w, rep, format == FormatWide)
	case FormatMarkdown:
		b, err := Markdown(joined(rep))
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats(rep.Metadata.Command), ", "))
}

// joined is rep with every cluster's report in its Report field, for the
// encoders that need it whole.
func joined(rep *Report) *Report {
	out := *rep
	out.Clusters = slices.Clone(rep.Clusters)
	for i := range out.Clusters {
		c := &out.Clusters[i]
		c.Report, c.spool = c.ReportJSON(), nil
	}
	return &out
}

// writeJSON prints rep as json.MarshalIndent(rep, "", "  ") would, but
// splices each cluster's report in as its single-context run printed it,
// shifting its lines right: re-encoding tens of megabytes of reports would
// cost the fleet more than reading a cluster.
func writeJSON(w io.Writer, rep *Report) error {
	shell := *rep
	shell.Clusters = slices.Clone(rep.Clusters)
	placeholders := make([]string, len(shell.Clusters))
	for i := range shell.Clusters {
		if shell.Clusters[i].Report == nil && shell.Clusters[i].spool == nil {
			continue
		}
		placeholders[i] = fmt.Sprintf(`"\u0000report %d\u0000"`, i)
		shell.Clusters[i].Report, shell.Clusters[i].spool = json.RawMessage(placeholders[i]), nil
	}
	b, err := json.MarshalIndent(&shell, "", "  ")
	if err != nil {
		return fmt.Errorf("encode fleet report as JSON: %w", err)
	}
	for _, ph := range placeholders {
		if ph != "" && bytes.Count(b, []byte(ph)) != 1 {
			// A context name spelled like a placeholder: encode it all.
			if b, err = json.MarshalIndent(joined(rep), "", "  "); err != nil {
				return fmt.Errorf("encode fleet report as JSON: %w", err)
			}
			_, err = w.Write(append(b, '\n'))
			return err
		}
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	// The clusters' reports sit at depth 3: clusters, [ ], { }.
	const indent = "      "
	for i, ph := range placeholders {
		if ph == "" {
			continue
		}
		before, after, ok := bytes.Cut(b, []byte(ph))
		if !ok {
			return fmt.Errorf("encode fleet report as JSON: the report of context %q went missing", rep.Clusters[i].Context)
		}
		bw.Write(before)
		// Not validated again: it is what our own encoder printed.
		if sp := rep.Clusters[i].spool; sp != nil {
			for _, chunk := range sp.trimmed() {
				writeShifted(bw, chunk, indent)
			}
		} else {
			writeShifted(bw, bytes.TrimSpace(rep.Clusters[i].Report), indent)
		}
		b = after
	}
	bw.Write(b)
	bw.WriteString("\n")
	return bw.Flush()
}

// writeShifted writes raw with indent after each newline, in place: a
// copy of each cluster's report would cost the fleet megabytes more. JSON
// strings cannot hold a raw newline, so every newline here is between
// tokens.
func writeShifted(bw *bufio.Writer, raw []byte, indent string) {
	for {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			bw.Write(raw)
			return
		}
		bw.Write(raw[:i+1])
		bw.WriteString(indent)
		raw = raw[i+1:]
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// note is the last column of a cluster's row: the error, or what makes the
// report partial.
func note(c Cluster) string {
	switch {
	case c.Error != nil:
		return c.Error.Class + ": " + firstLine(c.Error.Message)
	case c.Counts != nil && c.Counts.Incomplete > 0:
		return fmt.Sprintf("incomplete read (%d)", c.Counts.Incomplete)
	}
	return "-"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func count(c Cluster, f func(*Counts) int) string {
	if c.Counts == nil {
		return "-"
	}
	return strconv.Itoa(f(c.Counts))
}

// Headline sums the fleet up in one line: "4 clusters: 2 READY, 1 NOT
// READY, 1 UNREACHABLE; exit code 1".
func Headline(rep *Report) string {
	var parts []string
	verdicts := make([]string, 0, len(rep.Summary.Verdicts))
	for v := range rep.Summary.Verdicts {
		verdicts = append(verdicts, v)
	}
	slices.Sort(verdicts)
	for _, v := range verdicts {
		parts = append(parts, fmt.Sprintf("%d %s", rep.Summary.Verdicts[v], v))
	}
	s := fmt.Sprintf("%d cluster", rep.Summary.Clusters)
	if rep.Summary.Clusters != 1 {
		s += "s"
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s + fmt.Sprintf("; exit code %d", rep.Summary.ExitCode)
}

func printTable(out io.Writer, rep *Report, wide bool) error {
	var w bytes.Buffer
	t := report.NewTable(&w)
	header := []string{"CONTEXT"}
	if wide {
		header = append(header, "SERVER")
	}
	header = append(header, "VERSION", "VERDICT", "EXIT")
	readinessCols := rep.Metadata.Command == CommandReadiness
	if readinessCols {
		header = append(header, "BLOCKING", "WARNINGS", "BLOCKED WORKLOADS", "MUTATION")
	} else {
		header = append(header, "WORKLOADS", "RESTRICTED", "BASELINE", "PRIVILEGED", "MUTATION")
	}
	t.Header(append(header, "NOTE"))
	for _, c := range rep.Clusters {
		row := []string{c.Context}
		if wide {
			row = append(row, dash(c.Server))
		}
		row = append(row, dash(c.KubernetesVersion), c.Verdict, strconv.Itoa(c.ExitCode))
		if readinessCols {
			row = append(row, count(c, func(n *Counts) int { return n.Blocking }), count(c, func(n *Counts) int { return n.Warnings }),
				count(c, func(n *Counts) int { return n.BlockedWorkloads }))
		} else {
			row = append(row, count(c, func(n *Counts) int { return n.Workloads }))
			for _, level := range []string{"restricted", "baseline", "privileged"} {
				row = append(row, count(c, func(n *Counts) int { return n.WorkloadsByLevel[level] }))
			}
		}
		row = append(row, count(c, func(n *Counts) int { return n.ReliesOnMutation }))
		if err := t.Append(append(row, note(c))); err != nil {
			return fmt.Errorf("render fleet table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render fleet table: %w", err)
	}
	fmt.Fprintf(&w, "\n%s\n", Headline(rep))
	if len(rep.Summary.Recurring) > 0 {
		fmt.Fprintln(&w)
		rt := report.NewTable(&w)
		rt.Header([]string{"RECURRING BLOCKER", "CLUSTERS", "REASON", "CONTEXTS"})
		for _, r := range rep.Summary.Recurring {
			if err := rt.Append([]string{r.String(), fmt.Sprintf("%d/%d", len(r.Contexts), rep.Summary.Clusters),
				strings.Join(r.Reasons, "; "), strings.Join(r.Contexts, ", ")}); err != nil {
				return fmt.Errorf("render recurring blockers: %w", err)
			}
		}
		if err := rt.Render(); err != nil {
			return fmt.Errorf("render recurring blockers: %w", err)
		}
	}
	_, err := out.Write(report.TrimTrailingSpace(w.Bytes()))
	return err
}

// mdCell keeps a cell on one line and its pipes literal.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Markdown renders a readiness fleet as one change ticket: the fleet table,
// the recurring blockers, then each cluster's own readiness markdown,
// folded and with its headings moved two levels down.
func Markdown(rep *Report) ([]byte, error) {
	if rep.Metadata.Command != CommandReadiness {
		return nil, fmt.Errorf("markdown is the output of readiness, not %s", rep.Metadata.Command)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# PodSecurityPolicy migration readiness of %d clusters\n\n%s.\n\n", rep.Summary.Clusters, Headline(rep))
	b.WriteString("| context | version | verdict | exit | blocking | warnings | blocked workloads | note |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range rep.Clusters {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s | %s | %s |\n", mdCell(c.Context), mdCell(dash(c.KubernetesVersion)), c.Verdict, c.ExitCode,
			count(c, func(n *Counts) int { return n.Blocking }), count(c, func(n *Counts) int { return n.Warnings }),
			count(c, func(n *Counts) int { return n.BlockedWorkloads }), mdCell(note(c)))
	}
	if len(rep.Summary.Recurring) > 0 {
		b.WriteString("\n## Recurring blockers\n\n| blocker | clusters | reason | contexts |\n|---|---|---|---|\n")
		for _, r := range rep.Summary.Recurring {
			fmt.Fprintf(&b, "| `%s` | %d/%d | %s | %s |\n", mdCell(r.String()), len(r.Contexts), rep.Summary.Clusters,
				mdCell(strings.Join(r.Reasons, "; ")), mdCell(strings.Join(r.Contexts, ", ")))
		}
	}
	for _, c := range rep.Clusters {
		fmt.Fprintf(&b, "\n## %s: %s\n\n", mdCell(c.Context), c.Verdict)
		if c.Error != nil {
			fmt.Fprintf(&b, "No report (%s): %s\n", c.Error.Class, mdCell(c.Error.Message))
			continue
		}
		var one readiness.Report
		if err := json.Unmarshal(c.Report, &one); err != nil {
			return nil, fmt.Errorf("decode the readiness report of context %q: %w", c.Context, err)
		}
		b.WriteString("<details><summary>the cluster's readiness report and plan</summary>\n\n")
		b.Write(demote(readiness.Markdown(&one), "##"))
		b.WriteString("\n</details>\n")
	}
	return b.Bytes(), nil
}

// demote prefixes the markdown headings of md, outside code blocks, so
// that a cluster's document nests under the fleet's.
func demote(md []byte, prefix string) []byte {
	lines := bytes.Split(md, []byte("\n"))
	fenced := false
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("```")) {
			fenced = !fenced
			continue
		}
		if !fenced && bytes.HasPrefix(l, []byte("#")) {
			lines[i] = append([]byte(prefix), l...)
		}
	}
	return bytes.Join(lines, []byte("\n"))
}
