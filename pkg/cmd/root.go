// Package cmd wires the plugin's cobra commands. Each command follows the
// kubectl pattern: an Options struct, NewXOptions for defaults, NewCmdX for
// the flags, and Complete → Validate → Run.
package cmd

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
)

// NewCmdPSPMigrate returns the root command, `kubectl psp-migrate`.
func NewCmdPSPMigrate(streams genericiooptions.IOStreams, info buildinfo.Info) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-psp_migrate",
		Short: "Plan the move off PodSecurityPolicy: audit workloads, convert PSPs",
		Long: `kubectl psp-migrate reads a cluster's PodSecurityPolicies, the RBAC that grants
their use, and the running workloads, and tells workload by workload which PSP
admits it today, what that PSP mutated, and whether it passes each Pod Security
Standard level — before the upgrade that removes PodSecurityPolicy.`,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl psp-migrate",
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(NewCmdAudit(streams, info))
	root.AddCommand(NewCmdConvert(streams, info))
	root.AddCommand(NewCmdReadiness(streams, info))
	root.AddCommand(NewCmdVersion(streams, info))
	root.AddCommand(NewCmdWeb(streams))
	root.AddCommand(NewCmdCompletion(streams))
	registerFlagCompletions(root)
	return root
}
