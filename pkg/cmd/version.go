package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// versionOutputFormats are the values of `version -o`; "" is the text form.
var versionOutputFormats = []string{"json", "yaml"}

// VersionOptions holds the flags and state of `kubectl psp-migrate version`.
type VersionOptions struct {
	// Output is the -o flag: "" for text, "json" or "yaml".
	Output string

	info buildinfo.Info
	genericiooptions.IOStreams
}

// NewVersionOptions returns the defaults of the version command for a build
// stamped with info.
func NewVersionOptions(streams genericiooptions.IOStreams, info buildinfo.Info) *VersionOptions {
	return &VersionOptions{info: info, IOStreams: streams}
}

// NewCmdVersion returns `kubectl psp-migrate version`.
func NewCmdVersion(streams genericiooptions.IOStreams, info buildinfo.Info) *cobra.Command {
	o := NewVersionOptions(streams, info)
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version and the versions of the checks it was built with",
		Long: `Print the release, commit and build date of the plugin, the Go version that
built it, the k8s.io/pod-security-admission version whose checks it evaluates
with (and the newest Pod Security Standards version those checks know), and the
policy engine versions its converters target.`,
		Example: `  kubectl psp-migrate version
  kubectl psp-migrate version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	enumVar(cmd.Flags(), &o.Output, "output", "o", "output format; text when unset", func() []string { return versionOutputFormats }).emptyOK = true
	return cmd
}

// Complete has nothing to resolve: the report is read from the binary in Run.
func (o *VersionOptions) Complete(_ *cobra.Command, _ []string) error {
	return nil
}

// Validate rejects an unknown output format before anything is printed.
func (o *VersionOptions) Validate() error {
	if o.Output == "" || slices.Contains(versionOutputFormats, o.Output) {
		return nil
	}
	return invalidEnum("output", o.Output, strings.Join(versionOutputFormats, ", "))
}

// VersionKind is the kind of the `version -o json|yaml` document; its
// apiVersion is that of every report the plugin prints, report.APIVersion.
const VersionKind = "Version"

// versionDocument is the `version -o json|yaml` output: the build report
// under the apiVersion and kind every machine-readable output carries.
type versionDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	buildinfo.Report
}

// Run prints the version report to Out.
func (o *VersionOptions) Run() error {
	rep := buildinfo.NewReport(o.info, engines.Components())
	doc := versionDocument{APIVersion: report.APIVersion, Kind: VersionKind, Report: rep}
	switch o.Output {
	case "":
		return printVersionText(o.Out, rep)
	case report.FormatJSON, report.FormatYAML:
		return report.WriteDocument(o.Out, doc, o.Output, "version")
	default:
		// Validate keeps us from here; an error, never a panic, if it does not.
		return fmt.Errorf("invalid output format %q", o.Output)
	}
}

func printVersionText(out io.Writer, r buildinfo.Report) error {
	w := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	fmt.Fprintf(w, "Version:\t%s\n", r.Version)
	fmt.Fprintf(w, "Commit:\t%s\n", r.Commit)
	fmt.Fprintf(w, "Date:\t%s\n", r.Date)
	fmt.Fprintf(w, "Go:\t%s %s\n", r.GoVersion, r.Platform)
	fmt.Fprintf(w, "Pod Security Standards:\t%s %s (newest standard: %s)\n",
		r.PodSecurityStandards.Module, r.PodSecurityStandards.ModuleVersion, r.PodSecurityStandards.LatestVersion)
	if len(r.Components) == 0 {
		fmt.Fprintf(w, "Components:\tnone\n")
	}
	for i, c := range r.Components {
		label := ""
		if i == 0 {
			label = "Components:"
		}
		fmt.Fprintf(w, "%s\t%s %s\n", label, c.Name, c.Version)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write version: %w", err)
	}
	return nil
}
