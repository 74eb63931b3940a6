package cmd

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"
)

// fixHint ends every "no cluster" message: the two ways out.
const fixHint = "pick a cluster with --context (or --kubeconfig), or read manifests instead with -f FILE"

// clusterError is a cluster that could not be read at all, in one line: what
// was tried and how to fix it. The cause stays reachable with errors.As.
type clusterError struct {
	msg string
	err error
}

func (e *clusterError) Error() string { return e.msg }
func (e *clusterError) Unwrap() error { return e.err }

// explainClusterError turns the errors that mean "there is no cluster
// here" (no kubeconfig, an unknown context, a server that does not answer,
// credentials it refuses) into one line naming the server, context and
// kubeconfig tried; namespace, when set, is -n. Any other error is
// returned as it is.
func explainClusterError(cf *genericclioptions.ConfigFlags, namespace string, err error) error {
	if err == nil {
		return nil
	}
	loader := cf.ToRawKubeConfigLoader()
	raw, rawErr := loader.RawConfig()
	where := kubeconfigPaths(loader)
	if c := flagString(cf.Context); rawErr == nil && c != "" && raw.Contexts[c] == nil {
		have := "it has no contexts"
		if names := slices.Sorted(maps.Keys(raw.Contexts)); len(names) > 0 {
			have = "it has " + strings.Join(names, ", ")
		}
		return &clusterError{msg: fmt.Sprintf("context %q is not in the kubeconfig %s (%s); %s", c, where, have, fixHint), err: err}
	}
	if c := flagString(cf.ClusterName); rawErr == nil && c != "" && raw.Clusters[c] == nil {
		have := "it has no clusters"
		if names := slices.Sorted(maps.Keys(raw.Clusters)); len(names) > 0 {
			have = "it has " + strings.Join(names, ", ")
		}
		return &clusterError{msg: fmt.Sprintf("cluster %q is not in the kubeconfig %s (%s); %s", c, where, have, fixHint), err: err}
	}
	context := flagString(cf.Context)
	if context == "" && rawErr == nil {
		context = raw.CurrentContext
	}
	server := ""
	if cfg, cerr := cf.ToRESTConfig(); cerr == nil {
		server = cfg.Host
	}
	tried := "the cluster at " + server
	if context != "" {
		tried += fmt.Sprintf(" (context %q, kubeconfig %s)", context, where)
	}
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		if rawErr == nil && len(raw.Contexts) == 0 && flagString(cf.APIServer) == "" {
			return &clusterError{msg: fmt.Sprintf("no cluster to read: no kubeconfig names one (looked in %s) and %s does not answer; %s", where, server, fixHint), err: err}
		}
		return &clusterError{msg: fmt.Sprintf("cannot reach %s: %s; %s", tried, dialCause(op), fixHint), err: err}
	case apierrors.IsUnauthorized(err):
		return &clusterError{msg: fmt.Sprintf("%s refused the credentials (401 Unauthorized: expired or revoked?): log in again to refresh them, or %s", tried, fixHint), err: err}
	case namespace != "" && apierrors.IsNotFound(err) && strings.Contains(err.Error(), "namespaces"):
		return &clusterError{msg: fmt.Sprintf("namespace %q does not exist in %s: check the name with 'kubectl get namespaces', or drop -n to read every namespace", namespace, tried), err: err}
	}
	return err
}

// dialCause is the network's reason without the addresses the message
// already names ("connection refused", "no such host").
func dialCause(op *net.OpError) string {
	var dns *net.DNSError
	if errors.As(op.Err, &dns) {
		return "no such host " + dns.Name
	}
	msg := op.Err.Error()
	if _, after, ok := strings.Cut(msg, ": "); ok {
		return after
	}
	return msg
}

// kubeconfigPaths names where the kubeconfig was looked for.
func kubeconfigPaths(loader clientcmd.ClientConfig) string {
	if access := loader.ConfigAccess(); access != nil {
		if explicit := access.GetExplicitFile(); explicit != "" {
			return explicit
		}
		if paths := access.GetLoadingPrecedence(); len(paths) > 0 {
			return strings.Join(paths, ", ")
		}
	}
	return "the default kubeconfig"
}

func flagString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ignoredClusterFlags names the kubectl cluster flags set on flags (other
// than -n, which also filters files) that a command reading only -f files
// does not use.
func ignoredClusterFlags(flags *pflag.FlagSet) []string {
	names := pflag.NewFlagSet("cluster", pflag.ContinueOnError)
	genericclioptions.NewConfigFlags(false).AddFlags(names)
	var out []string
	names.VisitAll(func(f *pflag.Flag) {
		if f.Name == "namespace" {
			return
		}
		if set := flags.Lookup(f.Name); set != nil && set.Changed {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}
