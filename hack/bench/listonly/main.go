// Command listonly is the live benchmark's lower baseline: a bare client-go
// program that pages through the same 16 LISTs as `audit` (all namespaces,
// 500 items a page, one goroutine per resource type, the same client rate
// limits and content types as pkg/cmd/audit.go), decodes each page and
// drops it. Whatever the audit spends beyond this is its own overhead.
//
//	go run ./hack/bench/listonly --kubeconfig FILE [-sequential]
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// Keep in step with pkg/cmd/audit.go (clientQPS, clientBurst) and
// pkg/live (DefaultPageSize): the comparison is only fair if both
// programs ask the server the same way.
const (
	clientQPS   = 100
	clientBurst = 200
	pageSize    = 500
)

// lister fetches one page of a resource type and returns its item count
// and continue token.
type lister func(ctx context.Context, opts metav1.ListOptions) (int, string, error)

func main() {
	config := genericclioptions.NewConfigFlags(true)
	var sequential, jsonOnly bool
	cmd := &cobra.Command{
		Use:          "listonly [--kubeconfig FILE]",
		Short:        "Page through the LISTs the audit makes, and nothing else",
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return run(c.Context(), config, sequential, jsonOnly)
		},
	}
	config.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&sequential, "sequential", false, "list the resource types one after the other instead of concurrently")
	cmd.Flags().BoolVar(&jsonOnly, "json", false, "ask for JSON instead of protobuf for built-in types")
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		os.Exit(1)
	}
}

func run(ctx context.Context, config *genericclioptions.ConfigFlags, sequential, jsonOnly bool) error {
	cfg, err := config.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("build dynamic client: %w", err)
	}
	pcfg := rest.CopyConfig(cfg)
	if !jsonOnly {
		pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
		pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	}
	kube, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		return fmt.Errorf("build client: %w", err)
	}

	listers := map[string]lister{
		"podsecuritypolicies": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := dyn.Resource(psp.GroupVersionResource).List(ctx, o)
			if err != nil {
				return 0, "", err
			}
			return len(l.Items), l.GetContinue(), nil
		},
		"clusterroles": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.RbacV1().ClusterRoles().List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"clusterrolebindings": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.RbacV1().ClusterRoleBindings().List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"roles": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.RbacV1().Roles("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"rolebindings": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.RbacV1().RoleBindings("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"serviceaccounts": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.CoreV1().ServiceAccounts("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"namespaces": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.CoreV1().Namespaces().List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"pods": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.CoreV1().Pods("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"replicasets": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.AppsV1().ReplicaSets("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"deployments": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.AppsV1().Deployments("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"statefulsets": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.AppsV1().StatefulSets("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"daemonsets": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.AppsV1().DaemonSets("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"jobs": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.BatchV1().Jobs("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"cronjobs": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.BatchV1().CronJobs("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"replicationcontrollers": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.CoreV1().ReplicationControllers("").List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
		"runtimeclasses": func(ctx context.Context, o metav1.ListOptions) (int, string, error) {
			l, err := kube.NodeV1().RuntimeClasses().List(ctx, o)
			return count(l, err, func() (int, string) { return len(l.Items), l.Continue })
		},
	}

	names := make([]string, 0, len(listers))
	for n := range listers {
		names = append(names, n)
	}
	sort.Strings(names)
	counts := make([]int, len(names))
	errs := make([]error, len(names))
	start := time.Now()
	var wg sync.WaitGroup
	for i, n := range names {
		do := func() { counts[i], errs[i] = pageAll(ctx, listers[n]) }
		if sequential {
			do()
			continue
		}
		wg.Go(do)
	}
	wg.Wait()
	total := 0
	for i, n := range names {
		if errs[i] != nil {
			return fmt.Errorf("list %s: %w", n, errs[i])
		}
		fmt.Printf("%-24s %d\n", n, counts[i])
		total += counts[i]
	}
	fmt.Printf("%-24s %d\n", "total", total)
	fmt.Fprintf(os.Stderr, "listonly: %d objects in %s\n", total, time.Since(start).Round(time.Millisecond))
	return nil
}

// pageAll follows continue tokens to the end, keeping only the count.
func pageAll(ctx context.Context, list lister) (int, error) {
	n := 0
	opts := metav1.ListOptions{Limit: pageSize}
	for {
		c, cont, err := list(ctx, opts)
		if err != nil {
			return 0, err
		}
		n += c
		if cont == "" {
			return n, nil
		}
		opts.Continue = cont
	}
}

func count[L any](l *L, err error, get func() (int, string)) (int, string, error) {
	if err != nil {
		return 0, "", err
	}
	n, cont := get()
	return n, cont, nil
}
