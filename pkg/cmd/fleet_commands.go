package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/fleet"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

func checkFleetFormat(command, output string) error {
	if !slices.Contains(fleet.Formats(command), output) {
		return fmt.Errorf("invalid output format %q for a fleet: want one of %s", output, strings.Join(fleet.Formats(command), ", "))
	}
	return nil
}

// failLevel is the strictest level of --fail-on, or "".
func failLevel(failOn []string) string {
	level := ""
	for _, f := range failOn {
		if (f == pss.Baseline || f == pss.Restricted) && (level == "" || pss.Compare(f, level) > 0) {
			level = f
		}
	}
	return level
}

// addAuditFleet lets `audit` run over many clusters (docs/fleet.md): each
// cluster's section is the report of `audit -o json` against it alone.
func addAuditFleet(cmd *cobra.Command, o *AuditOptions) {
	f := &fleetOptions{}
	addFleet(cmd, f, func(c *cobra.Command, args []string) error {
		if err := o.Complete(c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if err := checkFleetFormat(fleet.CommandAudit, o.Output); err != nil {
			return err
		}
		if err := f.validate(c.Flags(), &o.sourceOptions); err != nil {
			return err
		}
		r := &fleetRun{command: fleet.CommandAudit, opts: f, src: &o.sourceOptions, streams: o.IOStreams, toolVersion: o.ToolVersion, format: o.Output,
			single: func(ctx context.Context, src sourceOptions, streams genericiooptions.IOStreams, _ fleetTarget) error {
				one := *o
				one.sourceOptions, one.IOStreams, one.Output = src, streams, report.FormatJSON
				return one.Run(ctx)
			}}
		level := failLevel(o.FailOn)
		r.section = func(t fleetTarget, out *fleetOutcome) (fleet.Cluster, error) {
			return fleet.AuditSection(t.Target, &out.out, out.code, out.audit, out.inv, out.bare, level)
		}
		return r.print(c.Context(), o.Out, o.Output)
	})
}

// addReadinessFleet lets `readiness` run over many clusters: each
// cluster's section is the report of `readiness -o json` against it alone,
// and --output-dir gets one folder per cluster.
func addReadinessFleet(cmd *cobra.Command, o *ReadinessOptions) {
	f := &fleetOptions{}
	addFleet(cmd, f, func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("readiness takes no arguments, got %q", args)
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if err := checkFleetFormat(fleet.CommandReadiness, o.Output); err != nil {
			return err
		}
		if err := f.validate(c.Flags(), &o.sourceOptions); err != nil {
			return err
		}
		r := &fleetRun{command: fleet.CommandReadiness, opts: f, src: &o.sourceOptions, streams: o.IOStreams, toolVersion: o.ToolVersion, folders: o.OutputDir != "", format: o.Output,
			single: func(ctx context.Context, src sourceOptions, streams genericiooptions.IOStreams, t fleetTarget) error {
				one := *o
				one.sourceOptions, one.IOStreams, one.Output = src, streams, readiness.FormatJSON
				if o.OutputDir != "" {
					one.OutputDir = filepath.Join(o.OutputDir, t.folder)
				}
				return one.Run(ctx)
			}}
		r.section = func(t fleetTarget, out *fleetOutcome) (fleet.Cluster, error) {
			return fleet.ReadinessSection(t.Target, &out.out, out.code, out.readiness, out.inv)
		}
		return r.print(c.Context(), o.Out, o.Output)
	})
}

// addConvertFleet lets `convert` write the policies of many clusters, one
// folder per cluster under --output-dir, each with convert's guarantees:
// written whole or not at all, nothing overwritten without --force. A
// cluster that fails gets no folder and never stops the others.
func addConvertFleet(cmd *cobra.Command, o *ConvertOptions) {
	f := &fleetOptions{}
	addFleet(cmd, f, func(c *cobra.Command, args []string) error {
		if err := o.Complete(c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if err := f.validate(c.Flags(), &o.sourceOptions); err != nil {
			return err
		}
		if o.OutputDir == "" && !f.ListContexts {
			return errors.New("convert over several clusters writes one folder per cluster: --output-dir is required")
		}
		r := &fleetRun{command: commandConvert, opts: f, src: &o.sourceOptions, streams: o.IOStreams, toolVersion: o.ToolVersion, folders: true,
			single: func(ctx context.Context, src sourceOptions, streams genericiooptions.IOStreams, t fleetTarget) error {
				one := *o
				one.sourceOptions, one.IOStreams = src, streams
				one.OutputDir = filepath.Join(o.OutputDir, t.folder)
				return one.Run(ctx)
			}}
		targets, results, ran, err := r.run(c.Context())
		if err != nil || !ran {
			return err
		}
		var w bytes.Buffer
		tw := report.NewTable(&w)
		tw.Header([]string{"CONTEXT", "VERSION", "EXIT", "FOLDER", "NOTE"})
		codes := make([]int, len(results))
		var failed []string
		for i, res := range results {
			version, folder, note := "-", filepath.Join(o.OutputDir, targets[i].folder), "-"
			codes[i] = ExitOK
			if res.Value != nil {
				codes[i] = res.Value.code
				version = dashIfEmpty(res.Value.version)
			}
			if res.Err != nil {
				codes[i] = ExitError
				class := classify(res.Err)
				folder, note = "-", class+": "+strings.SplitN(res.Err.Error(), "\n", 2)[0]
				failed = append(failed, fmt.Sprintf("%s (%s)", res.Context, class))
			} else if codes[i] == ExitIncomplete {
				note = "written from an incomplete read"
			}
			if err := tw.Append([]string{res.Context, version, strconv.Itoa(codes[i]), folder, note}); err != nil {
				return fmt.Errorf("render convert table: %w", err)
			}
		}
		if err := tw.Render(); err != nil {
			return fmt.Errorf("render convert table: %w", err)
		}
		if _, err := o.Out.Write(report.TrimTrailingSpace(w.Bytes())); err != nil {
			return err
		}
		switch code := fleet.WorstExitCode(codes...); code {
		case ExitOK:
			return nil
		case ExitError:
			return withExitCode(code, fmt.Sprintf("%d of %d clusters were not converted: %s", len(failed), len(results), strings.Join(failed, ", ")))
		default:
			return withExitCode(code, "some clusters were converted from an incomplete read")
		}
	})
}
