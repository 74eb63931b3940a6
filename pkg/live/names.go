package live

import (
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// NamespaceNames lists the cluster's namespaces by name, sorted: the shell
// completion of -n. One request, no retries: a shell waits for it.
func NamespaceNames(ctx context.Context, kube kubernetes.Interface) ([]string, error) {
	list, err := kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	out := make([]string, 0, len(list.Items))
	for _, n := range list.Items {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out, nil
}

// PSPNames lists the cluster's PodSecurityPolicies by name, sorted: the
// shell completion of --psp.
func PSPNames(ctx context.Context, dyn dynamic.Interface) ([]string, error) {
	list, err := dyn.Resource(psp.GroupVersionResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list podsecuritypolicies.policy: %w", err)
	}
	out := make([]string, 0, len(list.Items))
	for _, p := range list.Items {
		out = append(out, p.GetName())
	}
	sort.Strings(out)
	return out, nil
}
