package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/convert"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// ConvertOptions holds the flags and resolved state of `convert`.
type ConvertOptions struct {
	sourceOptions
	genericiooptions.IOStreams

	// Engines are the -e values; at least one.
	Engines           []string
	Scope             string
	Mode              string
	ExcludeNamespaces []string
	// PSPs limits the conversion to these PodSecurityPolicies.
	PSPs []string
	// OutputDir receives one file per object; empty writes a YAML stream
	// to Out.
	OutputDir string
	// Force overwrites existing files, and lets psa overwrite namespace
	// labels that differ from the recommendation.
	Force bool
	// Prune removes files an earlier run wrote to OutputDir that this run
	// did not.
	Prune      bool
	PSSVersion string
	// GatekeeperTemplates adds the project's own ConstraintTemplates to the
	// gatekeeper output.
	GatekeeperTemplates bool
	// Mutate adds the kyverno mutate policy that applies the PSPs' defaults.
	Mutate bool
	// AllowDenyAll writes policies that would deny every running pod of a
	// namespace; without it that is an error (see denyAllGuard).
	AllowDenyAll bool

	// ToolVersion is stamped into every object.
	ToolVersion string

	// resolved in Complete
	renderers []translate.Engine
}

// NewConvertOptions returns the defaults.
func NewConvertOptions(streams genericiooptions.IOStreams) *ConvertOptions {
	o := &ConvertOptions{
		sourceOptions:     newSourceOptions(streams.ErrOut),
		IOStreams:         streams,
		Scope:             string(translate.ScopeRBAC),
		Mode:              string(translate.ModeEnforce),
		ExcludeNamespaces: slices.Clone(translate.DefaultExcludedNamespaces),
		PSSVersion:        "latest",
	}
	return o
}

// NewCmdConvert returns `kubectl psp-migrate convert`.
func NewCmdConvert(streams genericiooptions.IOStreams, info buildinfo.Info) *cobra.Command {
	o := NewConvertOptions(streams)
	o.ToolVersion = info.Version
	o.setVersion(info.Version)
	cmd := &cobra.Command{
		Use:   "convert -e ENGINE [flags]",
		Short: "Write the policies that replace the PodSecurityPolicies",
		Long: `Translate every PodSecurityPolicy into the policies of a replacement engine and
write them as manifests, ready for 'kubectl apply -f'. The cluster is never
changed.

Engines:
  vap          built-in ValidatingAdmissionPolicy with CEL (Kubernetes 1.30+)
  kyverno      Kyverno ClusterPolicy (kyverno.io/v1, JMESPath deny rules that
               the Kyverno releases of Kubernetes 1.24/1.25 clusters run)
  kyverno-cel  Kyverno ValidatingPolicy (policies.kyverno.io/v1, CEL)
  gatekeeper   gatekeeper-library constraints (K8sPSP* kinds); with
               --gatekeeper-templates also the ConstraintTemplates
  kubewarden   Kubewarden ClusterAdmissionPolicy / ClusterAdmissionPolicyGroup
               with the PSP-family policy modules, versions pinned
  psa          Pod Security Admission labels per namespace, from the audit

A pod is admitted when ANY PodSecurityPolicy it may use admits it, so the
PSPs are rendered as one policy that ORs them (Gatekeeper cannot OR
constraints: its output ANDs the PSPs that match a pod, and says where that
differs). With --scope rbac (the default) each PSP applies where the pod's
service account could use it today; with --scope cluster every PSP applies
to every pod. Anything an engine cannot express exactly is named on stderr
as "Warning: ...", with the PSP and field.

The policies validate only: what a PSP filled in (runAsUser, fsGroup,
seccomp and AppArmor profiles, runtime class, ...) must now be set by the
workload; 'kubectl psp-migrate audit' lists those fields per workload and
docs/conversion.md explains every PSP field. With -e kyverno --mutate a
mutate policy also fills them in, when each pod may use exactly one of the
converted PSPs (PSP chose per pod whose defaults applied).

psa does not overwrite a namespace whose current pod-security labels differ
from the recommendation unless --force is given; it says so on stderr.

Reads the current cluster by default, or the manifests given with -f (add
--live to read both).

With --output-dir an existing file is never overwritten without --force, and
files are written whole or not at all. The directory's ` + "`" + translate.ManifestListFile + "`" + ` lists the
files this command wrote there: one an earlier run wrote and this run did not
is reported as stale, and removed with --prune; other files are never touched.

Exit codes: 0 ok, 1 error (nothing is written then), 3 written from an
incomplete read of the cluster.`,
		Example: `  # Preview the ValidatingAdmissionPolicy for the current cluster
  kubectl psp-migrate convert -e vap

  # Apply it in warn mode first, from a dump of the cluster
  kubectl psp-migrate convert -e vap --mode warn -f cluster.yaml | kubectl apply -f -

  # One file per object, and the namespace labels, into a directory
  kubectl psp-migrate convert -e vap,psa --output-dir policies/

  # Kyverno policies for the PSPs of a dump, audit mode first
  kubectl psp-migrate convert -e kyverno --mode audit -f cluster.yaml

  # Gatekeeper constraints plus their templates, for a cluster without the library
  kubectl psp-migrate convert -e gatekeeper --gatekeeper-templates --output-dir gatekeeper/`,
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
	o.addFlags(flags, "read")
	enumSliceVar(flags, &o.Engines, "engine", "e", "engine to write policies for; repeatable or comma separated", engines.Names)
	enumVar(flags, &o.Scope, "scope", "", "where each PSP applies: rbac (where the pod's service account could use it) or cluster (every pod)", scopeValues)
	enumVar(flags, &o.Mode, "mode", "", "what the policies do with a pod they would reject", modeValues)
	flags.StringSliceVar(&o.ExcludeNamespaces, "exclude-namespaces", o.ExcludeNamespaces, `namespaces the policies leave alone; "" excludes none`)
	flags.StringSliceVar(&o.PSPs, "psp", nil, "convert only these PodSecurityPolicies; repeatable")
	flags.StringVar(&o.OutputDir, "output-dir", "", "write one file per object into this directory instead of a YAML stream to stdout")
	flags.BoolVar(&o.Prune, "prune", false, "with --output-dir, remove the files an earlier run wrote there that this run did not (only files listed in the directory's "+translate.ManifestListFile+")")
	flags.BoolVar(&o.Force, "force", false, "overwrite existing files in --output-dir, and namespace labels psa would otherwise leave alone")
	pssVersionVar(flags, &o.PSSVersion, `Pod Security Standards version for psa, your target cluster's version; "latest" is pinned to the newest version this build knows`)
	flags.BoolVar(&o.GatekeeperTemplates, "gatekeeper-templates", false, "gatekeeper: also write ConstraintTemplates for every constraint kind used, so the output installs on a cluster without the gatekeeper-library")
	flags.BoolVar(&o.AllowDenyAll, "allow-deny-all", false, "write the policies even when they would deny every running pod of some namespace (without it, convert refuses and writes nothing)")
	flags.BoolVar(&o.Mutate, "mutate", false, "kyverno: also write a mutate ClusterPolicy that fills in what the PSPs defaulted (runAsUser, fsGroup, capabilities, seccomp/AppArmor profiles, ...); only when each pod may use exactly one converted PSP (use --psp)")
	addConvertFleet(cmd, o)
	return cmd
}

// Complete resolves the renderers and whether to read the cluster.
func (o *ConvertOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("convert takes no arguments, got %q", args)
	}
	renderers, err := convert.Renderers(o.Engines)
	if err != nil {
		return fmt.Errorf("-e: %w", err)
	}
	o.renderers = renderers
	o.complete(cmd.Flags())
	// `--exclude-namespaces ""` parses as one empty name: it means none.
	o.ExcludeNamespaces = slices.DeleteFunc(o.ExcludeNamespaces, func(s string) bool { return strings.TrimSpace(s) == "" })
	if o.ExcludeNamespaces == nil {
		o.ExcludeNamespaces = []string{}
	}
	return nil
}

// Validate rejects bad flags before anything is read.
func (o *ConvertOptions) Validate() error {
	if len(o.renderers) == 0 {
		return fmt.Errorf("no engine given: use -e with one of %s", strings.Join(engines.Names(), ", "))
	}
	if err := checkValues("scope", scopeValues(), o.Scope); err != nil {
		return err
	}
	if err := checkValues("mode", modeValues(), o.Mode); err != nil {
		return err
	}
	if o.namespace != "" && slices.ContainsFunc(o.renderers, func(r translate.Engine) bool { return r.Name() != translate.EnginePSA }) {
		// The policies apply to the whole cluster and, with --scope rbac,
		// follow every namespace's RBAC: a read of one namespace would
		// write them wrong.
		return errors.New("-n limits only -e psa (the namespace's labels); the policies of the other engines are cluster-wide: drop -n")
	}
	if o.Prune && o.OutputDir == "" {
		return errors.New("--prune needs --output-dir")
	}
	if o.Mutate && slices.ContainsFunc(o.renderers, func(r translate.Engine) bool { return r.Name() != translate.EngineKyverno }) {
		return fmt.Errorf("--mutate is only supported for -e kyverno")
	}
	if err := checkPSSVersion(o.PSSVersion); err != nil {
		return err
	}
	return o.sourceOptions.validate()
}

func (o *ConvertOptions) options() translate.Options {
	return translate.Options{
		Scope:             translate.Scope(o.Scope),
		Mode:              translate.Mode(o.Mode),
		ExcludeNamespaces: o.ExcludeNamespaces,
		PSPs:              o.PSPs,
		ToolVersion:       o.ToolVersion,
		PSSVersion:        o.PSSVersion,
		Force:             o.Force,

		GatekeeperTemplates: o.GatekeeperTemplates,
		Mutate:              o.Mutate,
	}
}

// Run reads the inventory, renders every engine, and writes the result
// only when all of it rendered.
func (o *ConvertOptions) Run(ctx context.Context) error {
	inv, err := o.read(ctx, o.In, o.namespace)
	if err != nil {
		return err
	}
	for _, w := range inv.Warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
	}
	for _, i := range inv.Incomplete {
		fmt.Fprintf(o.ErrOut, "Warning: incomplete read: %s\n", i.String())
		// Missing PSPs or RBAC would silently widen or narrow the policies.
		if strings.HasSuffix(i.Resource, ".policy") || strings.HasSuffix(i.Resource, ".rbac.authorization.k8s.io") {
			return fmt.Errorf("cannot convert without %s: %s", i.Resource, i.Message)
		}
	}

	manifests, err := convert.Run(inv, o.renderers, convert.Options{Options: o.options(), AllowDenyAll: o.AllowDenyAll, Namespace: o.namespace}, o.ErrOut)
	if err != nil {
		return err
	}
	if o.OutputDir != "" {
		res, err := translate.WriteDir(o.OutputDir, manifests, translate.WriteOptions{Force: o.Force, Prune: o.Prune})
		if err != nil {
			return fmt.Errorf("--output-dir: %w", err)
		}
		fmt.Fprintf(o.ErrOut, "Wrote %d file(s) to %s\n", len(manifests), o.OutputDir)
		switch {
		case len(res.Stale) > 0 && res.Pruned:
			fmt.Fprintf(o.ErrOut, "Pruned %d stale file(s) an earlier run wrote: %s\n", len(res.Stale), strings.Join(res.Stale, ", "))
		case len(res.Stale) > 0:
			fmt.Fprintf(o.ErrOut, "Warning: %d stale file(s) an earlier run wrote are not part of this output (remove them with --prune): %s\n", len(res.Stale), strings.Join(res.Stale, ", "))
		}
	} else if err := translate.WriteStream(o.Out, manifests); err != nil {
		return err
	}
	fmt.Fprintln(o.ErrOut, "Next: kubectl psp-migrate readiness --engine ENGINE, for the upgrade verdict and the plan that rolls these policies out (observe, then enforce)")
	if len(inv.Incomplete) > 0 {
		return withExitCode(ExitIncomplete, "written from an incomplete read")
	}
	return nil
}
