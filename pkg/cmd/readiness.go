package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// failOnWarn makes readiness exit 2 on warnings too.
const failOnWarn = "warn"

// ReadinessOptions holds the flags and resolved state of `readiness`.
type ReadinessOptions struct {
	sourceOptions
	genericiooptions.IOStreams

	// To is the target version ("v1.25"); empty means the next minor after
	// the live server's, or v1.25 offline.
	To     string
	Engine string
	Output string
	// OutputDir receives plan.md and a folder per step.
	OutputDir string
	Force     bool
	// ObserveMode is the mode of the engine's policies in step 2.
	ObserveMode string
	FailOn      []string

	ToolVersion string
	// now is swapped in tests.
	now func() time.Time
}

// NewReadinessOptions returns the defaults.
func NewReadinessOptions(streams genericiooptions.IOStreams) *ReadinessOptions {
	return &ReadinessOptions{
		sourceOptions: newSourceOptions(streams.ErrOut),
		IOStreams:     streams,
		Engine:        translate.EnginePSA,
		Output:        readiness.FormatTable,
		ObserveMode:   string(translate.ModeAudit),
		now:           time.Now,
	}
}

// readinessEngines are the replacements readiness plans for.
func readinessEngines() []string {
	return append([]string{translate.EnginePSA}, engines.PredictingNames()...)
}

// NewCmdReadiness returns `kubectl psp-migrate readiness`.
func NewCmdReadiness(streams genericiooptions.IOStreams, info buildinfo.Info) *cobra.Command {
	o := NewReadinessOptions(streams)
	o.ToolVersion = info.Version
	o.setVersion(info.Version)
	cmd := &cobra.Command{
		Use:   "readiness [flags]",
		Short: "Say whether the cluster can leave PodSecurityPolicy now, and plan the migration",
		Long: `Check whether the cluster can move past PodSecurityPolicy (removed in v1.25) to
a replacement (--engine, default psa: Pod Security Admission), and write the
plan that gets it there: fix the templates that rely on PSP mutation, roll the
replacement out without enforcing, watch, enforce, remove PSP, upgrade.

The verdict is READY, READY WITH WARNINGS or NOT READY. Every check is listed,
passing ones included; MANUAL rows are what the tool cannot see (such as the
API server's flags) and never change the verdict.

Reads the current cluster by default, or the manifests given with -f. It never
writes to the cluster; --output-dir writes plan.md and one folder per step,
every file ready for 'kubectl apply -f' or 'kubectl patch --patch-file'.

Exit codes: 0 ready (with or without warnings), 1 error, 2 not ready (or
warnings with --fail-on warn), 3 the cluster could not be read completely.`,
		Example: `  # Can this cluster be upgraded past PSP, with Pod Security Admission?
  kubectl psp-migrate readiness

  # With Kyverno instead, as a pull request comment
  kubectl psp-migrate readiness --engine kyverno -o markdown

  # From a dump, to v1.30 with ValidatingAdmissionPolicy, writing the plan
  kubectl psp-migrate readiness -f cluster.yaml --to v1.30 --engine vap --output-dir plan/`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("readiness takes no arguments, got %q", args)
			}
			o.complete(c.Flags())
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	flags := cmd.Flags()
	o.addFlags(flags, "check")
	flags.StringVar(&o.To, "to", "", "target Kubernetes version, e.g. v1.25 (default: the next minor after the cluster's, or v1.25 offline)")
	enumVar(flags, &o.Engine, "engine", "e", "the replacement", readinessEngines)
	enumVar(flags, &o.Output, "output", "o", "output format", func() []string { return readiness.Formats })
	flags.StringVar(&o.OutputDir, "output-dir", "", "write plan.md and one folder per step of the plan into this directory")
	flags.BoolVar(&o.Force, "force", false, "with --output-dir, overwrite existing files")
	enumVar(flags, &o.ObserveMode, "observe-mode", "", "mode of the engine's policies in step 2", observeModes)
	enumSliceVar(flags, &o.FailOn, "fail-on", "", "also exit 2 on warnings", func() []string { return []string{failOnWarn} })
	addReadinessFleet(cmd, o)
	return cmd
}

// Validate rejects bad flags before anything is read.
func (o *ReadinessOptions) Validate() error {
	if o.namespace != "" {
		return errors.New("-n: readiness judges the whole cluster, every namespace; use audit -n for one namespace")
	}
	if err := checkValues("output", readiness.Formats, o.Output); err != nil {
		return err
	}
	if err := checkValues("engine", readinessEngines(), o.Engine); err != nil {
		return err
	}
	if o.To != "" {
		if _, err := readiness.ParseVersion(o.To); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	if err := checkValues("observe-mode", observeModes(), o.ObserveMode); err != nil {
		return err
	}
	if err := checkValues("fail-on", []string{failOnWarn}, o.FailOn...); err != nil {
		return err
	}
	return o.sourceOptions.validate()
}

// target settles the version to check against.
func (o *ReadinessOptions) target(cluster *readiness.Cluster) (readiness.Version, error) {
	if o.To != "" {
		return readiness.ParseVersion(o.To)
	}
	if cluster != nil {
		return readiness.Version{Minor: cluster.Version.Minor + 1}, nil
	}
	return readiness.PSPRemoved, nil
}

// pssVersion is the Pod Security Standards version of target, or the
// newest this build knows when target is newer.
func pssVersion(target readiness.Version) string {
	latest, err := readiness.ParseVersion(buildinfo.LatestPSSVersion().String())
	if err == nil && target.Minor > latest.Minor {
		return latest.String()
	}
	return target.String()
}

// Run reads the cluster, judges it and prints the verdict and the plan.
func (o *ReadinessOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := o.read(ctx, o.In, "")
	if err != nil {
		return err
	}
	var cluster *readiness.Cluster
	if o.readsLive() {
		if cluster, err = o.discover(); err != nil {
			return err
		}
	}
	target, err := o.target(cluster)
	if err != nil {
		return err
	}
	if err := checkEngineForTarget(o.Engine, cluster, target, func(w string) { warn(o.ErrOut, "%s", w) }); err != nil {
		return err
	}
	aopts := audit.Options{PSSVersion: pssVersion(target), ToolVersion: o.ToolVersion, Scope: translate.ScopeRBAC}
	if o.Engine != translate.EnginePSA {
		aopts.Engines = []string{o.Engine}
	}
	rep, err := audit.Run(inv, aopts)
	if err != nil {
		return err
	}
	in := readiness.Input{Audit: rep, Inventory: inv, Engine: o.Engine, Target: target, Cluster: cluster,
		ObserveMode: o.ObserveMode, Now: o.now(), ToolVersion: o.ToolVersion}
	if o.Engine != translate.EnginePSA {
		if in.Observe, err = renderEngine(inv, o.Engine, translate.Mode(o.ObserveMode)); err != nil {
			return err
		}
		if in.Enforce, err = renderEngine(inv, o.Engine, translate.ModeEnforce); err != nil {
			return err
		}
	}
	res, err := readiness.Evaluate(in)
	if err != nil {
		return err
	}
	if o.onReadiness != nil {
		o.onReadiness(res)
	}
	for _, i := range res.Incomplete {
		warn(o.ErrOut, "incomplete read: %s", i)
	}
	if o.OutputDir != "" {
		if err := readiness.WriteDir(o.OutputDir, res, o.Force); err != nil {
			return fmt.Errorf("--output-dir: %w", err)
		}
		fmt.Fprintf(o.ErrOut, "Wrote the plan (%d files) to %s\n", len(readiness.Files(res)), o.OutputDir)
	}
	if err := readiness.PrintWith(o.Out, res, o.Output, outputWidth(o.Out)); err != nil {
		return err
	}
	switch {
	case len(res.Incomplete) > 0:
		return withExitCode(ExitIncomplete, "the cluster could not be read completely")
	case res.Verdict == readiness.NotReady:
		return withExitCode(ExitFindings, "not ready")
	case res.Verdict == readiness.ReadyWithWarnings && slices.Contains(o.FailOn, failOnWarn):
		return withExitCode(ExitFindings, "ready with warnings (--fail-on warn)")
	}
	return nil
}

// checkEngineForTarget refuses a replacement the path to target cannot
// use: vap is on by default only from v1.30, and upgrades go one minor at a
// time while PSP is gone at v1.25, so a live cluster below v1.30 (or a
// target below it) needs another replacement first. Offline the cluster's
// version is unknown: a target of v1.30 or later is taken at its word,
// with a warning.
func checkEngineForTarget(engine string, cluster *readiness.Cluster, target readiness.Version, warn func(string)) error {
	if target.Minor < readiness.PSPRemoved.Minor {
		return fmt.Errorf("--to %s: PodSecurityPolicy is still served there; readiness checks a move to %s or later", target, readiness.PSPRemoved)
	}
	if engine != translate.EngineVAP {
		return nil
	}
	advice := fmt.Sprintf("upgrades go one minor at a time and PSP is gone at %s, so the releases in between need another replacement: use --engine psa (or kyverno, kyverno-cel, gatekeeper, kubewarden) now, and convert to vap once on %s", readiness.PSPRemoved, readiness.VAPGA)
	switch {
	case cluster != nil && cluster.Version.Minor < readiness.VAPGA.Minor:
		return fmt.Errorf("--engine vap: ValidatingAdmissionPolicy is on by default from %s and the cluster runs %s; %s", readiness.VAPGA, cluster.Version, advice)
	case target.Minor < readiness.VAPGA.Minor:
		return fmt.Errorf("--engine vap: ValidatingAdmissionPolicy is on by default from %s, the target is %s; %s", readiness.VAPGA, target, advice)
	case cluster == nil:
		warn(fmt.Sprintf("--engine vap offline: this assumes the cluster already runs %s or later; if it does not, %s", readiness.VAPGA, advice))
	}
	return nil
}

// renderEngine converts the inventory's PSPs for engine in mode, as
// `convert --scope rbac` does.
func renderEngine(inv *inventory.Inventory, engine string, mode translate.Mode) ([]translate.Manifest, error) {
	r, err := engines.ByName(engine)
	if err != nil {
		return nil, err
	}
	set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeRBAC, Mode: mode})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", engine, err)
	}
	out, err := r.Render(translate.Input{Set: set, Options: set.Options})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", engine, err)
	}
	return translate.Marshal(out.Objects)
}

// discover asks the live server its version and what it serves.
func (o *ReadinessOptions) discover() (*readiness.Cluster, error) {
	kube, _, err := o.clients()
	if err != nil {
		return nil, err
	}
	info, err := kube.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("read the server version: %w", err)
	}
	v, err := readiness.ParseVersion(info.GitVersion)
	if err != nil {
		// Some distributions add suffixes ("v1.24.17-eks-1234"): read the
		// minor field.
		if v, err = readiness.ParseVersion("v1." + strings.TrimRight(info.Minor, "+")); err != nil {
			return nil, fmt.Errorf("read the server version %q: %w", info.GitVersion, err)
		}
	}
	c := &readiness.Cluster{Version: v, Served: map[string]bool{}}
	// A failing aggregated API must not hide the rest: discovery returns
	// what it could read with the error.
	_, lists, err := kube.Discovery().ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discover the server's resources: %w", err)
	}
	for _, l := range lists {
		for _, r := range l.APIResources {
			c.Served[l.GroupVersion+"/"+r.Name] = true
		}
	}
	return c, nil
}
