package report

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"

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

// Print writes rep to w in format, tables unfitted.
func Print(w io.Writer, rep *AuditReport, format string) error {
	return PrintWith(w, rep, format, PrintOptions{})
}

// PrintOptions tune the human-readable output.
type PrintOptions struct {
	// Width fits the default table to this many columns: long cells are
	// cut with "…" (-o wide and json keep the full text). 0 does not fit,
	// for output that is piped or saved.
	Width int
}

// PrintWith writes rep to w in format.
func PrintWith(w io.Writer, rep *AuditReport, format string, opts PrintOptions) error {
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
	case FormatTable:
		return printTables(w, rep, false, opts.Width)
	case FormatWide:
		return printTables(w, rep, true, 0)
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

func printTables(w io.Writer, rep *AuditReport, wide bool, width int) error {
	header := []string{"NAMESPACE", "WORKLOAD", "PODS", "PSP", "MUTATED", "PSS", "REASON"}
	// Columns given up first when the terminal is narrow: the free text
	// (reason, engine and PSP verdicts with theirs), then names, then the
	// free text again down to its verdict word.
	text := []int{6, 3}
	if wide {
		header = []string{"NAMESPACE", "WORKLOAD", "PODS", "SERVICE ACCOUNT", "PSP", "MUTATED", "PSS", "TEMPLATE", "BASELINE VIOLATIONS", "RESTRICTED VIOLATIONS", "FIELDS TO SET"}
	}
	for i, e := range rep.Metadata.Engines {
		header = append(header, strings.ToUpper(e))
		text = append(text, 7+i)
	}
	steps := []ShrinkStep{{Cols: text, Floor: 24}, {Cols: []int{1}, Floor: 24}, {Cols: text, Floor: 14}, {Cols: []int{1}, Floor: 16},
		{Cols: []int{0}, Floor: 11}, {Cols: text, Floor: 8}, {Cols: []int{0, 1}, Floor: 6}}
	rows := [][]string{header}
	custom := false
	for _, wl := range rep.Workloads {
		name := wl.Kind + "/" + wl.Name
		if wl.System {
			name += " (system)"
		}
		psp := pspColumn(wl.PSP)
		if wl.PSP == nil && !wl.TemplateFound {
			if v := podsPSPColumn(rep, wl); v != "" {
				psp, custom = v, true
			}
		}
		var row []string
		if wide {
			tmpl := "-"
			if wl.TemplatePSS != nil {
				tmpl = wl.TemplatePSS.Level
			} else if !wl.TemplateFound {
				tmpl = "not found"
			}
			row = []string{wl.Namespace, name, strconv.Itoa(wl.Pods), orDash(wl.ServiceAccount), psp, mutatedColumn(wl), wl.PSS.Level, tmpl,
				orDash(reasonSummary(wl.PSS.Baseline.Reasons)), orDash(reasonSummary(wl.PSS.Restricted.Reasons)), fieldsColumn(wl)}
		} else {
			row = []string{wl.Namespace, name, strconv.Itoa(wl.Pods), psp, mutatedColumn(wl), wl.PSS.Level, firstReason(wl.PSS)}
		}
		for _, e := range rep.Metadata.Engines {
			row = append(row, engineColumn(wl, e))
		}
		rows = append(rows, row)
	}
	if width > 0 && tableWidth(rows) > width {
		// kubectl's short kinds leave the names room; the namespace
		// table marks the system namespaces.
		for i, wl := range rep.Workloads {
			kind := wl.Kind
			if short, ok := shortKinds[kind]; ok {
				kind = short
			}
			rows[i+1][1] = kind + "/" + wl.Name
		}
	}
	writeTable(w, rows, width, steps)
	if len(rep.Workloads) > 0 {
		legend := []string{
			"REASON: the first check failed at the next level up; +N: how many more.",
			"MUTATED yes (N): N security fields the PSP set, for the workload to set.",
			"Full text: -o wide (every check and field) or -o json.",
		}
		if wide {
			legend = legend[1:2]
		}
		if custom {
			legend = append(legend, "(pods): owned by a custom controller: its pods' verdict, as created by",
				"an unknown authenticated requester with the pod's service account.")
		}
		for _, l := range legend {
			fmt.Fprintln(w, fitLine(l, width))
		}
	}
	fmt.Fprintln(w)

	nsRows := [][]string{{"NAMESPACE", "WORKLOADS", "PODS", "RECOMMENDED", "CURRENT ENFORCE", "NOTE"}}
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
		nsRows = append(nsRows, []string{name, strconv.Itoa(ns.Workloads), strconv.Itoa(ns.Pods), ns.RecommendedLevel, cur, note})
	}
	writeTable(w, nsRows, width, []ShrinkStep{{Cols: []int{5}, Floor: 12}, {Cols: []int{0}, Floor: 12}, {Cols: []int{5, 0}, Floor: 6}})
	printNamespaceLists(w, rep.Namespaces, width)
	if len(rep.DangerousGrants) > 0 {
		fmt.Fprintf(w, "\nDANGEROUS GRANTS:\n")
		for _, g := range groupGrants(rep.DangerousGrants) {
			fmt.Fprintln(w, fitLine("  - "+g, width))
		}
	}
	if len(rep.Incomplete) > 0 {
		fmt.Fprintf(w, "\nINCOMPLETE: this report is partial:\n")
		for _, i := range rep.Incomplete {
			fmt.Fprintf(w, "  - %s\n", i.String())
		}
	}
	fmt.Fprintf(w, "\n%s\n", fitLine(summaryLine(rep), width))
	return nil
}

// ShrinkStep narrows the columns Cols, widest first, down to Floor, when
// a table is fitted to a width.
type ShrinkStep struct {
	Cols  []int
	Floor int
}

// FitTable writes rows (the first is the header) as the plugin's tables
// look, fitted to width by steps (0: not fitted); see writeTable.
func FitTable(w io.Writer, rows [][]string, width int, steps ...ShrinkStep) {
	writeTable(w, rows, width, steps)
}

// FitLine cuts one line of prose to width with "…"; 0 leaves it whole.
func FitLine(s string, width int) string { return fitLine(s, width) }

// writeTable prints rows (the first is the header) in kubectl's style:
// left-aligned, three spaces between columns, no trailing blanks. With
// width > 0 the steps narrow their columns until the table fits, and the
// cells are cut with "…".
func writeTable(w io.Writer, rows [][]string, width int, steps []ShrinkStep) {
	if len(rows) == 0 {
		return
	}
	const gap = 3
	widths := naturalWidths(rows)
	total := gap * (len(widths) - 1)
	for _, n := range widths {
		total += n
	}
	for _, st := range steps {
		for width > 0 && total > width {
			// The widest column of the step above its floor gives one.
			best := -1
			for _, i := range st.Cols {
				if i < len(widths) && widths[i] > st.Floor && (best < 0 || widths[i] > widths[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			widths[best]--
			total--
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			c = truncate(c, widths[i])
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+gap))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// tableWidth is how wide rows print unfitted.
func tableWidth(rows [][]string) int {
	widths := naturalWidths(rows)
	total := 3 * (len(widths) - 1)
	for _, n := range widths {
		total += n
	}
	return total
}

func naturalWidths(rows [][]string) []int {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	return widths
}

// shortKinds are kubectl's short names, used for workloads when the table
// must be fitted to a narrow terminal.
var shortKinds = map[string]string{
	"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "CronJob": "cj", "Job": "job",
	"ReplicationController": "rc", "ReplicaSet": "rs", "Pod": "pod",
}

// truncate cuts s to n display columns, ending in "…" when cut.
func truncate(s string, n int) string {
	if runewidth.StringWidth(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return runewidth.Truncate(s, n, "…")
}

// fitLine cuts one line of prose to width; 0 leaves it whole.
func fitLine(s string, width int) string {
	if width <= 0 {
		return s
	}
	return truncate(s, width)
}

// summaryLine counts what the tables show, in one line.
func summaryLine(rep *AuditReport) string {
	levels := map[string]int{}
	var mutated, rejected int
	denied := map[string]int{}
	for _, wl := range rep.Workloads {
		levels[wl.PSS.Level]++
		if wl.ReliesOnMutation {
			mutated++
		}
		if wl.PSP != nil && wl.PSP.AdmittedBy == nil {
			rejected++
		}
		for _, e := range wl.RejectedBy {
			denied[e]++
		}
	}
	namespaces := map[string]bool{}
	for _, wl := range rep.Workloads {
		namespaces[wl.Namespace] = true
	}
	pods := 0
	for _, wl := range rep.Workloads {
		pods += wl.Pods
	}
	s := fmt.Sprintf("%d workload(s), %d pod(s) in %d namespace(s): %d restricted, %d baseline, %d privileged",
		len(rep.Workloads), pods, len(namespaces), levels[pss.Restricted], levels[pss.Baseline], levels[pss.Privileged])
	if mutated > 0 {
		s += fmt.Sprintf("; %d rely on PSP mutation", mutated)
	}
	if rejected > 0 {
		s += fmt.Sprintf("; %d rejected by PSP today", rejected)
	}
	for _, e := range rep.Metadata.Engines {
		s += fmt.Sprintf("; %s denies %d", e, denied[e])
	}
	return s + "."
}

// groupGrants merges the dangerous grants that differ only by subject:
// five controllers reaching a PSP through one binding are one finding.
func groupGrants(gs []DangerousGrant) []string {
	type key struct{ psp, allows, scope, via string }
	var order []key
	subjects := map[key][]string{}
	for _, g := range gs {
		scope := "every namespace"
		if g.Namespace != "" {
			scope = "namespace " + g.Namespace
		}
		k := key{g.PSP, strings.Join(g.Allows, ", "), scope, g.Via}
		if _, ok := subjects[k]; !ok {
			order = append(order, k)
		}
		subjects[k] = append(subjects[k], g.Subject)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		subs := subjects[k]
		who := subs[0]
		if len(subs) > 1 {
			who = fmt.Sprintf("%d subjects (%s)", len(subs), strings.Join(subs, ", "))
		}
		out = append(out, fmt.Sprintf("PSP %s (%s) usable by %s in %s via %s", k.psp, k.allows, who, k.scope, k.via))
	}
	return out
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
		// First, so that a cut cell still says there is more.
		s = fmt.Sprintf("+%d: %s", len(rs)-1, s)
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
		if r := pspRejection(v); r != "" {
			return "REJECTED (" + r + ")"
		}
		return "REJECTED"
	}
	s := *v.AdmittedBy
	if v.Drift != "" {
		s += " (" + v.Drift + ")"
	}
	return s
}

// pspRejection is the first reason PSP admission gives: the first error
// of the first usable PSP, or the error of the step after it.
func pspRejection(v *PSPVerdict) string {
	if v.RejectedAfter != "" && len(v.ValidationErrors) > 0 {
		return v.RejectedAfter + ", then: " + v.ValidationErrors[0]
	}
	for _, name := range slices.Sorted(maps.Keys(v.Errors)) {
		if errs := v.Errors[name]; len(errs) > 0 {
			return name + ": " + errs[0]
		}
	}
	if len(v.Usable) == 0 {
		return "no PSP usable"
	}
	return ""
}

// podsPSPColumn is the PSP verdict of a workload whose template was not
// read (a custom controller's): its pods' verdicts, marked as such.
func podsPSPColumn(rep *AuditReport, wl Workload) string {
	var names []string
	for _, p := range rep.Pods {
		if p.Namespace != wl.Namespace || p.Workload.Kind != wl.Kind || p.Workload.Name != wl.Name || p.PSP == nil {
			continue
		}
		v := pspColumn(p.PSP)
		if !slices.Contains(names, v) {
			names = append(names, v)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, ", ") + " (pods)"
}

// engineColumn says whether engine's converted policies admit the
// workload's template and every pod, and if not the first reason.
func engineColumn(w Workload, engine string) string {
	if !slices.Contains(w.RejectedBy, engine) {
		return "ok"
	}
	for _, p := range w.Policies {
		if p.Engine == engine && !p.Allowed && len(p.Reasons) > 0 {
			if p.PSP != "" {
				return "DENIED (" + p.PSP + ": " + p.Reasons[0] + ")"
			}
			return "DENIED (" + p.Reasons[0] + ")"
		}
	}
	return "DENIED"
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
func printNamespaceLists(w io.Writer, nss []Namespace, width int) {
	header := false
	for _, ns := range nss {
		for _, r := range ns.RejectedToday {
			if !header {
				fmt.Fprintf(w, "\nREJECTED TODAY (no pod runs; PSP rejects the template; not in RECOMMENDED):\n")
				header = true
			}
			fmt.Fprintln(w, fitLine(fmt.Sprintf("  - %s: %s/%s (%s): %s", ns.Name, r.Kind, r.Name, r.Level, r.Reason), width))
		}
	}
	header = false
	for _, ns := range nss {
		for _, l := range ns.ProtectionLost {
			if !header {
				fmt.Fprintf(w, "\nPROTECTION LOST (the recommended level allows what every usable PSP forbids):\n")
				header = true
			}
			fmt.Fprintln(w, fitLine(fmt.Sprintf("  - %s: %s", ns.Name, l.Message), width))
		}
	}
}
