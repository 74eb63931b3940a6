package fleet

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// KindContextList is the kind of what --list-contexts prints with -o json
// or yaml; its apiVersion is APIVersion, with the same promise.
const KindContextList = "FleetContextList"

// ContextList is the selection --list-contexts previews (docs/fleet.md):
// what the command would run against, read from the kubeconfig (or the
// --cluster-from-dir directory) only, no cluster asked.
type ContextList struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Source is "kubeconfig" or "directory", as in a FleetReport.
	Source string `json:"source"`
	// Selector is the --contexts terms; empty for every context.
	Selector []string `json:"selector,omitempty"`
	// Contexts are the selected ones, sorted, as a fleet run takes them.
	Contexts []ListedContext `json:"contexts"`
	// NotSelected are the others, sorted.
	NotSelected []Skipped `json:"notSelected,omitempty"`
}

// ListedContext is one selected context as the kubeconfig describes it.
type ListedContext struct {
	Context string `json:"context"`
	// Cluster, Server, User and Namespace are the context's entries in the
	// kubeconfig; empty offline.
	Cluster   string `json:"cluster,omitempty"`
	Server    string `json:"server,omitempty"`
	User      string `json:"user,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Directory is the cluster's sub-directory with --cluster-from-dir.
	Directory string `json:"directory,omitempty"`
	// Error is why a run could not reach it (the kubeconfig lacks the
	// cluster it names): a run reports it as invalid.
	Error string `json:"error,omitempty"`
}

// NewContextList stamps the list's apiVersion and kind.
func NewContextList(source string, selector []string, contexts []ListedContext, notSelected []Skipped) *ContextList {
	if contexts == nil {
		contexts = []ListedContext{}
	}
	return &ContextList{APIVersion: APIVersion, Kind: KindContextList, Source: source, Selector: selector,
		Contexts: contexts, NotSelected: notSelected}
}

// ContextListFormats are the -o values --list-contexts takes.
var ContextListFormats = []string{FormatTable, FormatWide, FormatJSON, FormatYAML}

// PrintContextList writes l in format: the table has CONTEXT and SERVER
// (or DIRECTORY); wide adds the context's cluster, user and namespace.
func PrintContextList(w io.Writer, l *ContextList, format string) error {
	switch format {
	case FormatJSON, FormatYAML:
		return report.WriteDocument(w, l, format, "context list")
	case FormatTable, FormatWide:
		return printContextTable(w, l, format == FormatWide)
	}
	return fmt.Errorf("--list-contexts prints %s, not %q", strings.Join(ContextListFormats, ", "), format)
}

func printContextTable(out io.Writer, l *ContextList, wide bool) error {
	var w bytes.Buffer
	t := report.NewTable(&w)
	offline := l.Source == SourceDirectory
	switch {
	case offline:
		t.Header([]string{"CONTEXT", "DIRECTORY"})
	case wide:
		t.Header([]string{"CONTEXT", "SERVER", "CLUSTER", "USER", "NAMESPACE"})
	default:
		t.Header([]string{"CONTEXT", "SERVER"})
	}
	for _, c := range l.Contexts {
		row := []string{c.Context, dash(c.Server)}
		switch {
		case offline:
			row = []string{c.Context, dash(c.Directory)}
		case wide:
			row = append(row, dash(c.Cluster), dash(c.User), dash(c.Namespace))
		}
		if err := t.Append(row); err != nil {
			return fmt.Errorf("render context list: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render context list: %w", err)
	}
	_, err := out.Write(report.TrimTrailingSpace(w.Bytes()))
	return err
}
