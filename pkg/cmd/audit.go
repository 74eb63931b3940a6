package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// fail-on conditions.
const (
	failOnBaseline   = "baseline"
	failOnRestricted = "restricted"
	failOnMutated    = "mutated"
	failOnEngine     = "engine"
)

var failOnValues = []string{failOnBaseline, failOnRestricted, failOnMutated, failOnEngine}

var controllerIdentityValues = []string{string(rbac.ControllerServiceAccounts), string(rbac.ControllerManager)}

// AuditOptions holds the flags and resolved state of `audit`.
type AuditOptions struct {
	sourceOptions
	genericiooptions.IOStreams

	Output           string
	PSSVersion       string
	FailOn           []string
	SystemNamespaces []string
	// ControllerIdentity is how kube-controller-manager authenticates.
	ControllerIdentity string
	// Engines are the converted-policy engines to predict per workload.
	Engines []string
	// PSP focuses the engine verdicts on one PSP.
	PSP string
	// Scope is where each converted PSP applies: rbac or cluster.
	Scope string

	// ToolVersion is stamped into the report.
	ToolVersion string

	// scopeSet is --scope given, which needs --engine as --psp does.
	scopeSet bool
}

// NewAuditOptions returns the defaults.
func NewAuditOptions(streams genericiooptions.IOStreams) *AuditOptions {
	o := &AuditOptions{
		sourceOptions:    newSourceOptions(streams.ErrOut),
		IOStreams:        streams,
		Output:           report.FormatTable,
		PSSVersion:       "latest",
		SystemNamespaces: append([]string{}, audit.DefaultSystemNamespaces...),
		// kubeadm and most distributions run the controller-manager with
		// --use-service-account-credentials, so each controller has its own
		// identity and RBAC grants.
		ControllerIdentity: string(rbac.ControllerServiceAccounts),
		Scope:              string(translate.ScopeRBAC),
	}
	return o
}

// NewCmdAudit returns `kubectl psp-migrate audit`.
func NewCmdAudit(streams genericiooptions.IOStreams, info buildinfo.Info) *cobra.Command {
	o := NewAuditOptions(streams)
	o.ToolVersion = info.Version
	o.setVersion(info.Version)
	cmd := &cobra.Command{
		Use:   "audit [flags]",
		Short: "Show which Pod Security Standard level each workload and namespace meets",
		Long: `Audit every pod and every controller template (Deployments, StatefulSets,
DaemonSets, Jobs, CronJobs, ReplicaSets, ReplicationControllers) against the Pod
Security Standards, using the same checks as the API server's PodSecurity
admission. Pods are grouped under their top-level owner; each namespace gets the
Pod Security Admission labels it can carry without rejecting anything.

Reads the current cluster by default (all namespaces; -n limits it), or the
manifests given with -f (add --live to read both). The audit never writes to
the cluster.

Exit codes: 0 ok, 1 error, 2 a --fail-on condition matched, 3 the report is
incomplete (e.g. a resource could not be listed).`,
		Example: `  # Audit the current cluster
  kubectl psp-migrate audit

  # Audit a dump made with 'kubectl get ... -o yaml', no cluster needed
  kubectl psp-migrate audit -f cluster.yaml

  # CI gate: fail when a workload outside system namespaces is below baseline
  kubectl psp-migrate audit --pss-version v1.25 --fail-on baseline -o json`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	flags := cmd.Flags()
	o.addFlags(flags, "audit")
	enumVar(flags, &o.Output, "output", "o", "output format", func() []string { return report.Formats })
	pssVersionVar(flags, &o.PSSVersion, "Pod Security Standards version to evaluate; use your target cluster's version")
	enumSliceVar(flags, &o.FailOn, "fail-on", "", "exit 2 when a workload outside system namespaces fails this level, relies on PSP mutation, or would be rejected by an --engine", func() []string { return failOnValues })
	enumSliceVar(flags, &o.Engines, "engine", "e", "also predict, per pod and workload, what the policies written by convert -e ENGINE would do", engines.PredictingNames)
	flags.StringVar(&o.PSP, "psp", "", "with --engine, only the verdicts of this PSP's converted rules")
	enumVar(flags, &o.Scope, "scope", "", "with --engine, where each converted PSP applies, as in convert", scopeValues)
	enumVar(flags, &o.ControllerIdentity, "controller-identity", "", "how kube-controller-manager authenticates, which decides the PSPs controller-made pods may use: service-accounts (--use-service-account-credentials, kubeadm's default) or controller-manager (one shared identity)", func() []string { return controllerIdentityValues })
	flags.StringSliceVar(&o.SystemNamespaces, "system-namespaces", o.SystemNamespaces, "namespaces flagged as system and ignored by --fail-on")
	addAuditFleet(cmd, o)
	return cmd
}

// Complete resolves the namespace scope and whether to read the cluster.
func (o *AuditOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("audit takes no arguments, got %q", args)
	}
	o.complete(cmd.Flags())
	o.scopeSet = cmd.Flags().Changed("scope")
	return nil
}

// Validate rejects bad flags before anything is read.
func (o *AuditOptions) Validate() error {
	if err := checkValues("output", report.Formats, o.Output); err != nil {
		return err
	}
	if err := checkPSSVersion(o.PSSVersion); err != nil {
		return err
	}
	if err := checkValues("fail-on", failOnValues, o.FailOn...); err != nil {
		return err
	}
	if err := checkValues("controller-identity", controllerIdentityValues, o.ControllerIdentity); err != nil {
		return err
	}
	if err := checkValues("engine", engines.PredictingNames(), o.Engines...); err != nil {
		return err
	}
	if o.PSP != "" && len(o.Engines) == 0 {
		return errors.New("--psp needs --engine")
	}
	if o.scopeSet && len(o.Engines) == 0 {
		return errors.New("--scope needs --engine")
	}
	if err := checkValues("scope", scopeValues(), o.Scope); err != nil {
		return err
	}
	if slices.Contains(o.FailOn, failOnEngine) && len(o.Engines) == 0 {
		return errors.New("--fail-on engine needs --engine")
	}
	return o.sourceOptions.validate()
}

// Run reads the inventory, audits it and prints the report.
func (o *AuditOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	opts := audit.Options{
		PSSVersion:         pinnedPSSVersion(o.PSSVersion),
		Namespace:          o.namespace,
		SystemNamespaces:   o.SystemNamespaces,
		ToolVersion:        o.ToolVersion,
		ControllerIdentity: rbac.ControllerIdentityMode(o.ControllerIdentity),
		Engines:            o.Engines,
		PSP:                o.PSP,
		Scope:              translate.Scope(o.Scope),
	}
	// A live read hands the pods over page by page, evaluated while the
	// rest is read and dropped once evaluated.
	stream := audit.NewStream(opts)
	defer stream.Close()
	o.podSink = stream
	inv, err := o.read(ctx, o.In, o.namespace)
	if err != nil {
		return err
	}
	status := newStatusLine(o.ErrOut)
	status.set("Evaluating…")
	var rep *report.AuditReport
	if stream.Started() {
		rep, err = stream.Finish(inv)
	} else {
		rep, err = audit.Run(inv, opts)
	}
	status.clear()
	if err != nil {
		return err
	}
	if o.onAudit != nil {
		o.onAudit(rep)
	}
	for _, w := range rep.Warnings {
		warn(o.ErrOut, "%s", w)
	}
	for _, i := range rep.Incomplete {
		warn(o.ErrOut, "report incomplete: %s", i.String())
	}
	if err := report.PrintWith(o.Out, rep, o.Output, report.PrintOptions{Width: outputWidth(o.Out)}); err != nil {
		return err
	}
	if o.Output == report.FormatTable || o.Output == report.FormatWide {
		fmt.Fprintln(o.ErrOut, "Next: kubectl psp-migrate readiness, for the upgrade verdict and the migration plan")
	}
	if reason := o.findings(rep); reason != "" {
		return withExitCode(ExitFindings, reason)
	}
	if len(rep.Incomplete) > 0 {
		return withExitCode(ExitIncomplete, "report incomplete")
	}
	return nil
}

// findings returns why a --fail-on condition matched, or "", after
// listing on ErrOut every workload each matching condition caught: a CI
// log then says what to fix, not only that something is wrong.
func (o *AuditOptions) findings(rep *report.AuditReport) string {
	var reasons []string
	for _, cond := range o.FailOn {
		var hits []string
		for _, w := range rep.Workloads {
			if w.System {
				continue
			}
			var why string
			switch cond {
			case failOnMutated:
				if w.ReliesOnMutation {
					why = fmt.Sprintf("relies on PSP mutation (%d field(s) to set)", len(w.FieldsToSet))
				}
			case failOnEngine:
				if len(w.RejectedBy) > 0 {
					why = "rejected by " + strings.Join(w.RejectedBy, ", ")
				}
			default:
				if pss.Compare(w.PSS.Level, cond) < 0 {
					why = w.PSS.Level + ": " + pss.Summary(failedChecks(w.PSS))
				}
			}
			if why != "" {
				hits = append(hits, fmt.Sprintf("  - %s %s/%s: %s", w.Namespace, w.Kind, w.Name, why))
			}
		}
		if len(hits) == 0 {
			continue
		}
		var reason string
		switch cond {
		case failOnMutated:
			reason = fmt.Sprintf("%d workload(s) rely on PSP mutation", len(hits))
		case failOnEngine:
			reason = fmt.Sprintf("%d workload(s) would be rejected by the converted policies", len(hits))
		default:
			reason = fmt.Sprintf("%d workload(s) fail the %s level", len(hits), cond)
		}
		fmt.Fprintf(o.ErrOut, "%s--fail-on %s: %s (outside system namespaces):\n%s\n", prefixFindings, cond, reason, strings.Join(hits, "\n"))
		reasons = append(reasons, reason)
	}
	return strings.Join(reasons, "; ")
}

// failedChecks are the checks a workload fails at the level above its own.
func failedChecks(r report.PSSResult) []pss.Reason {
	rs := r.Restricted.Reasons
	if r.Level == pss.Privileged {
		rs = r.Baseline.Reasons
	}
	out := make([]pss.Reason, len(rs))
	for i, x := range rs {
		out[i] = pss.Reason{Reason: x.Reason, Detail: x.Detail}
	}
	return out
}
