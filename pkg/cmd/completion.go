package cmd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// completionShells are the shells `completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

const completionLong = `Write the shell completion script of kubectl psp-migrate to standard output.

Two ways to complete, pick what you type:

  kubectl psp-migrate <TAB>   needs kubectl 1.26 or newer with kubectl's own
                              completion loaded, and the kubectl_complete-psp_migrate
                              helper (shipped in every release archive) on PATH.
                              Nothing from this command is needed.
  kubectl-psp_migrate <TAB>   the binary called directly: load the script this
                              command prints.

bash (needs the bash-completion package):
  source <(kubectl psp-migrate completion bash)                       # this shell
  kubectl psp-migrate completion bash > ~/.local/share/bash-completion/completions/kubectl-psp_migrate

zsh:
  source <(kubectl psp-migrate completion zsh)                        # this shell
  kubectl psp-migrate completion zsh > "${fpath[1]}/_kubectl-psp_migrate"

fish:
  kubectl psp-migrate completion fish > ~/.config/fish/completions/kubectl-psp_migrate.fish

powershell:
  kubectl psp-migrate completion powershell | Out-String | Invoke-Expression  # this session
  # add that line to $PROFILE for every session`

// CompletionOptions holds the flags and state of `kubectl psp-migrate completion`.
type CompletionOptions struct {
	// NoDescriptions leaves the help text of each candidate out of the script.
	NoDescriptions bool

	shell string
	root  *cobra.Command
	genericiooptions.IOStreams
}

// NewCompletionOptions returns the defaults of the completion command.
func NewCompletionOptions(streams genericiooptions.IOStreams) *CompletionOptions {
	return &CompletionOptions{IOStreams: streams}
}

// NewCmdCompletion returns `kubectl psp-migrate completion SHELL`. It
// replaces cobra's default completion command, whose help names the binary
// rather than the way users run a kubectl plugin.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewCompletionOptions(streams)
	cmd := &cobra.Command{
		Use:                   "completion SHELL",
		DisableFlagsInUseLine: true,
		Short:                 "Print the shell completion script for bash, zsh, fish or powershell",
		Long:                  completionLong,
		Example: `  kubectl psp-migrate completion bash
  kubectl psp-migrate completion zsh --no-descriptions`,
		ValidArgs: completionShells,
		Args:      cobra.MaximumNArgs(1),
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
	cmd.Flags().BoolVar(&o.NoDescriptions, "no-descriptions", o.NoDescriptions, "Leave the description of each candidate out of the completions.")
	return cmd
}

// Complete takes the shell from the arguments and the command tree the
// script describes from cmd.
func (o *CompletionOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.shell = args[0]
	}
	o.root = cmd.Root()
	return nil
}

// Validate rejects a missing or unknown shell.
func (o *CompletionOptions) Validate() error {
	if o.shell == "" {
		return fmt.Errorf("name a shell: one of %s", strings.Join(completionShells, ", "))
	}
	if !slices.Contains(completionShells, o.shell) {
		return fmt.Errorf("unsupported shell %q: must be one of %s", o.shell, strings.Join(completionShells, ", "))
	}
	return nil
}

// Run writes the completion script to Out.
func (o *CompletionOptions) Run() error {
	desc := !o.NoDescriptions
	var err error
	switch o.shell {
	case "bash":
		err = o.root.GenBashCompletionV2(o.Out, desc)
	case "zsh":
		if desc {
			err = o.root.GenZshCompletion(o.Out)
		} else {
			err = o.root.GenZshCompletionNoDesc(o.Out)
		}
	case "fish":
		err = o.root.GenFishCompletion(o.Out, desc)
	case "powershell":
		if desc {
			err = o.root.GenPowerShellCompletionWithDesc(o.Out)
		} else {
			err = o.root.GenPowerShellCompletion(o.Out)
		}
	default:
		return fmt.Errorf("unsupported shell %q", o.shell)
	}
	if err != nil {
		return fmt.Errorf("write %s completion: %w", o.shell, err)
	}
	return nil
}

// registerFlagCompletions walks root and every command below it and
// registers value completions for each enumerated flag (enumFlag: -o,
// -e, --scope, --mode, --fail-on, --pss-version, ...) from the list the flag
// validates against, and the cluster-backed completions of the read flags
// (-n, --context, --cluster, --psp, -f). A completion the command registered
// itself is kept.
func registerFlagCompletions(root *cobra.Command) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		// LocalFlags: each flag once, on the command that defines it;
		// persistent flags reach subcommands by pointer.
		cmd.LocalFlags().VisitAll(func(flag *pflag.Flag) {
			if _, ok := cmd.GetFlagCompletionFunc(flag.Name); ok {
				return
			}
			fn := flagCompletion(cmd, flag)
			if fn == nil {
				return
			}
			// The flag was just seen on cmd and has no function yet, so
			// registration cannot fail.
			_ = cmd.RegisterFlagCompletionFunc(flag.Name, fn)
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// flagCompletion is the completion of flag on cmd, or nil when the shell's
// default (nothing, or files) is right.
func flagCompletion(cmd *cobra.Command, flag *pflag.Flag) cobra.CompletionFunc {
	if e, ok := flag.Value.(*enumFlag); ok {
		return enumCompletion(e)
	}
	return clusterCompletion(cmd, flag)
}
