package cmd

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/live"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
)

// completionTimeout bounds a completion that asks the cluster: a shell
// that hangs on <TAB> is worse than one that offers nothing.
const completionTimeout = 5 * time.Second

// manifestExtensions are the files -f completes to (directories too).
var manifestExtensions = []string{"yaml", "yml", "json"}

// clusterCompletion completes the read flags: -n from the cluster's
// namespaces, --context/--cluster from the kubeconfig, --psp from the files
// given with -f or else the cluster, -f from manifest files. Any failure
// offers nothing rather than an error in the middle of the command line.
func clusterCompletion(_ *cobra.Command, flag *pflag.Flag) cobra.CompletionFunc {
	switch flag.Name {
	case "namespace":
		return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			kube, _, err := completionClients(cmd)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
			defer cancel()
			names, _ := live.NamespaceNames(ctx, kube)
			return names, cobra.ShellCompDirectiveNoFileComp
		}
	case "context", "cluster":
		return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cfg, err := completionConfigFlags(cmd).ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			if flag.Name == "context" {
				for name := range cfg.Contexts {
					names = append(names, name)
				}
			} else {
				for name := range cfg.Clusters {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			return names, cobra.ShellCompDirectiveNoFileComp
		}
	case "psp":
		return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return pspNames(cmd), cobra.ShellCompDirectiveNoFileComp
		}
	case "filename":
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return manifestExtensions, cobra.ShellCompDirectiveFilterFileExt
		}
	}
	return nil
}

// pspNames are the PSPs of the -f files when there are any (the PSPs the
// command will read), else of the cluster.
func pspNames(cmd *cobra.Command) []string {
	if files, err := cmd.Flags().GetStringSlice("filename"); err == nil && len(files) > 0 {
		recursive, _ := cmd.Flags().GetBool("recursive")
		objs, err := manifest.ReadPaths(files, recursive, strings.NewReader(""))
		if err != nil {
			return nil
		}
		inv, err := inventory.FromObjects(objs)
		if err != nil {
			return nil
		}
		var names []string
		for _, p := range inv.PodSecurityPolicies {
			names = append(names, p.Name)
		}
		sort.Strings(names)
		return names
	}
	_, dyn, err := completionClients(cmd)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	names, _ := live.PSPNames(ctx, dyn)
	return names
}

// completionConfigFlags rebuilds the kubectl cluster flags from what the
// command line being completed set (--kubeconfig, --context, ...), so that
// completion asks the cluster the command itself would read.
func completionConfigFlags(cmd *cobra.Command) *genericclioptions.ConfigFlags {
	cf := genericclioptions.NewConfigFlags(false)
	fs := pflag.NewFlagSet("completion", pflag.ContinueOnError)
	cf.AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		set := cmd.Flags().Lookup(f.Name)
		if set == nil || !set.Changed {
			return
		}
		switch f.Value.Type() {
		case "string", "bool":
			_ = fs.Set(f.Name, set.Value.String())
		}
	})
	return cf
}

// completionClients builds clients for completion: short timeout, no
// retries beyond client-go's own.
func completionClients(cmd *cobra.Command) (kubernetes.Interface, dynamic.Interface, error) {
	cfg, err := completionConfigFlags(cmd).ToRESTConfig()
	if err != nil {
		return nil, nil, err
	}
	cfg.Timeout = completionTimeout
	cfg.UserAgent = userAgent("")
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return kube, dyn, nil
}
