package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
)

// Output formats accepted by -o.
const (
	FormatTable = "table"
	FormatWide  = "wide"
	FormatJSON  = "json"
	FormatYAML  = "yaml"
)

// Formats lists the valid -o values, in help order.
var Formats = []string{FormatTable, FormatWide, FormatJSON, FormatYAML}

// ValidFormat reports whether f is an accepted -o value.
func ValidFormat(f string) bool {
	for _, v := range Formats {
		if v == f {
			return true
		}
	}
	return false
}

// Print writes rep to w in format.
func Print(w io.Writer, rep *AuditReport, format string) error {
	switch format {
	case FormatJSON:
		return writeJSON(w, rep)
	case FormatYAML:
		b, err := yaml.Marshal(rep)
		if err != nil {
			return fmt.Errorf("encode report as YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	case FormatTable, FormatWide:
		return printTables(w, rep, format == FormatWide)
	default:
		return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
}

// NewTable is the plugin's table style, kubectl's: no borders, left-aligned,
// no wrapping. Every table the plugin prints uses it.
func NewTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
			Symbols: tw.NewSymbols(tw.StyleNone),
		})),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   "}),
	)
}

func printTables(out io.Writer, rep *AuditReport, wide bool) error {
	// Rendered into a buffer so the padding tablewriter leaves after the
	// last column can be trimmed: trailing blanks upset diff-based tests
	// and copy-paste alike.
	w := &bytes.Buffer{}
	defer func() { _, _ = out.Write(TrimTrailingSpace(w.Bytes())) }()
	t := NewTable(w)
	header := []string{"NAMESPACE", "WORKLOAD", "PODS", "PSP", "MUTATED", "PSS", "REASON"}
	if wide {
		header = []string{"NAMESPACE", "WORKLOAD", "PODS", "SERVICE ACCOUNT", "PSP", "MUTATED", "PSS", "TEMPLATE", "BASELINE VIOLATIONS", "RESTRICTED VIOLATIONS", "FIELDS TO SET"}
	}
	for _, e := range rep.Metadata.Engines {
		header = append(header, strings.ToUpper(e))
	}
	t.Header(header)
	for _, wl := range rep.Workloads {
		name := wl.Kind + "/" + wl.Name
		if wl.System {
			name += " (system)"
		}
		var row []string
		if wide {
			tmpl := "-"
			if wl.TemplatePSS != nil {
				tmpl = wl.TemplatePSS.Level
			} else if !wl.TemplateFound {
				tmpl = "not found"
			}
			row = []string{wl.Namespace, name, strconv.Itoa(wl.Pods), orDash(wl.ServiceAccount), pspColumn(wl.PSP), mutatedColumn(wl), wl.PSS.Level, tmpl,
				orDash(reasonSummary(wl.PSS.Baseline.Reasons)), orDash(reasonSummary(wl.PSS.Restricted.Reasons)), fieldsColumn(wl)}
		} else {
			row = []string{wl.Namespace, name, strconv.Itoa(wl.Pods), pspColumn(wl.PSP), mutatedColumn(wl), wl.PSS.Level, firstReason(wl.PSS)}
		}
		for _, e := range rep.Metadata.Engines {
			row = append(row, engineColumn(wl, e))
		}
		if err := t.Append(row); err != nil {
			return fmt.Errorf("render workload table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render workload table: %w", err)
	}
	fmt.Fprintln(w)

	nt := NewTable(w)
	nt.Header([]string{"NAMESPACE", "WORKLOADS", "PODS", "RECOMMENDED", "CURRENT ENFORCE", "NOTE"})
	for _, ns := range rep.Namespaces {
		name := ns.Name
		if ns.System {
			name += " (system)"
		}
		cur := ns.CurrentLabels["pod-security.kubernetes.io/enforce"]
		if cur == "" {
			cur = "-"
		}
		var notes []string
		if len(ns.Conflicts) > 0 {
			notes = append(notes, ns.Conflicts[0].Effect)
		} else if !ns.Found {
			notes = append(notes, "namespace object not read")
		}
		if n := len(ns.RejectedToday); n > 0 {
			notes = append(notes, fmt.Sprintf("%d rejected today; not counted", n))
		}
		if n := len(ns.ProtectionLost); n > 0 {
			notes = append(notes, fmt.Sprintf("protection lost (%d)", n))
		}
		note := "-"
		if len(notes) > 0 {
			note = strings.Join(notes, "; ")
		}
		if err := nt.Append([]string{name, strconv.Itoa(ns.Workloads), strconv.Itoa(ns.Pods), ns.RecommendedLevel, cur, note}); err != nil {
			return fmt.Errorf("render namespace table: %w", err)
		}
	}
	if err := nt.Render(); err != nil {
		return fmt.Errorf("render namespace table: %w", err)
	}
	printNamespaceLists(w, rep.Namespaces)
	if len(rep.DangerousGrants) > 0 {
		fmt.Fprintf(w, "\nDANGEROUS GRANTS:\n")
		for _, g := range rep.DangerousGrants {
			scope := "every namespace"
			if g.Namespace != "" {
				scope = "namespace " + g.Namespace
			}
			fmt.Fprintf(w, "  - PSP %s (%s) usable by %s in %s via %s\n", g.PSP, strings.Join(g.Allows, ", "), g.Subject, scope, g.Via)
		}
	}
	if len(rep.Incomplete) > 0 {
		fmt.Fprintf(w, "\nINCOMPLETE: this report is partial:\n")
		for _, i := range rep.Incomplete {
			fmt.Fprintf(w, "  - %s\n", i.String())
		}
	}
	return nil
}

// firstReason is the first failed check at the next level up from the one
// met: what to fix first to climb a level.
func firstReason(r PSSResult) string {
	var rs []PSSReason
	switch r.Level {
	case pss.Privileged:
		rs = r.Baseline.Reasons
	case pss.Baseline:
		rs = r.Restricted.Reasons
	}
	if len(rs) == 0 {
		return "-"
	}
	s := reasonSummary(rs[:1])
	if len(rs) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(rs)-1)
	}
	return s
}

// TrimTrailingSpace drops the padding tablewriter leaves after the last
// column: trailing blanks upset diff-based tests and copy-paste alike.
func TrimTrailingSpace(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimRight(l, " ")
	}
	return bytes.Join(lines, []byte("\n"))
}

// pspColumn names the PSP that admits the workload today, or says that
// none does ("REJECTED") or that no PSP is in play ("-").
func pspColumn(v *PSPVerdict) string {
	switch {
	case v == nil:
		return "-"
	case v.AdmittedBy == nil:
		return "REJECTED"
	}
	s := *v.AdmittedBy
	if v.Drift != "" {
		s += " (" + v.Drift + ")"
	}
	return s
}

// engineColumn says whether engine's converted policies admit the
// workload's template and every pod.
func engineColumn(w Workload, engine string) string {
	for _, e := range w.RejectedBy {
		if e == engine {
			return "DENIED"
		}
	}
	return "ok"
}

func mutatedColumn(w Workload) string {
	if w.PSP == nil && !w.ReliesOnMutation {
		return "-"
	}
	if w.ReliesOnMutation {
		return fmt.Sprintf("yes (%d)", len(w.FieldsToSet))
	}
	return "no"
}

func fieldsColumn(w Workload) string {
	if len(w.FieldsToSet) == 0 {
		return "-"
	}
	parts := make([]string, len(w.FieldsToSet))
	for i, f := range w.FieldsToSet {
		parts[i] = f.Path + "=" + f.After
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printNamespaceLists prints what the namespace table only counts: the
// workloads left out of the recommendation, and the protection it loses.
func printNamespaceLists(w io.Writer, nss []Namespace) {
	header := false
	for _, ns := range nss {
		for _, r := range ns.RejectedToday {
			if !header {
				fmt.Fprintf(w, "\nREJECTED TODAY (no pod runs, PSP rejects the template; not counted in RECOMMENDED):\n")
				header = true
			}
			fmt.Fprintf(w, "  - %s: %s/%s (%s): %s\n", ns.Name, r.Kind, r.Name, r.Level, r.Reason)
		}
	}
	header = false
	for _, ns := range nss {
		for _, l := range ns.ProtectionLost {
			if !header {
				fmt.Fprintf(w, "\nPROTECTION LOST (the recommended level allows what every PSP usable there forbids today):\n")
				header = true
			}
			fmt.Fprintf(w, "  - %s: %s\n", ns.Name, l.Message)
		}
	}
}
