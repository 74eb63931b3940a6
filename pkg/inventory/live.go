package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// DefaultPageSize is the LIST page size: large enough that 10,000 pods take
// 20 round trips, small enough that the API server streams each page quickly.
const DefaultPageSize = 500

// LiveOptions tune a live read.
type LiveOptions struct {
	// Namespace limits namespaced lists to one namespace; "" reads all.
	Namespace string
	// PageSize is the LIST limit; 0 means DefaultPageSize.
	PageSize int64
}

// FromCluster reads a live cluster. It only ever issues GET and LIST.
// Each resource type is listed concurrently and paginated. A type the
// caller may not list, or that the server does not serve, is recorded in
// Incomplete (or, for PSPs on 1.25+, PSPAPIServed=false) and the rest is
// still read; any other failure is returned as an error.
func FromCluster(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, opts LiveOptions) (*Inventory, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	inv := &Inventory{Sources: []string{"cluster"}, PSPAPIServed: true}
	ns := opts.Namespace
	l := &lister{ctx: ctx, pageSize: opts.PageSize}

	tasks := []func() error{
		func() error {
			items, err := listAll(l, "podsecuritypolicies.policy", "", func(o metav1.ListOptions) ([]psp.PodSecurityPolicy, string, error) {
				list, err := dyn.Resource(psp.GroupVersionResource).List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				out := make([]psp.PodSecurityPolicy, 0, len(list.Items))
				for i := range list.Items {
					p, err := psp.FromUnstructured(&list.Items[i])
					if err != nil {
						return nil, "", err
					}
					out = append(out, *p)
				}
				return out, list.GetContinue(), nil
			})
			if err != nil && apierrors.IsNotFound(err) {
				l.mu.Lock()
				inv.PSPAPIServed = false
				l.mu.Unlock()
				return nil
			}
			inv.PodSecurityPolicies = items
			return err
		},
		func() (err error) {
			inv.ClusterRoles, err = listAll(l, "clusterroles.rbac.authorization.k8s.io", "", func(o metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
				r, err := kube.RbacV1().ClusterRoles().List(ctx, o)
				return items(r, err, func(r *rbacv1.ClusterRoleList) ([]rbacv1.ClusterRole, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.ClusterRoleBindings, err = listAll(l, "clusterrolebindings.rbac.authorization.k8s.io", "", func(o metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
				r, err := kube.RbacV1().ClusterRoleBindings().List(ctx, o)
				return items(r, err, func(r *rbacv1.ClusterRoleBindingList) ([]rbacv1.ClusterRoleBinding, string) {
					return r.Items, r.Continue
				})
			})
			return err
		},
		func() (err error) {
			inv.Roles, err = listAll(l, "roles.rbac.authorization.k8s.io", ns, func(o metav1.ListOptions) ([]rbacv1.Role, string, error) {
				r, err := kube.RbacV1().Roles(ns).List(ctx, o)
				return items(r, err, func(r *rbacv1.RoleList) ([]rbacv1.Role, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.RoleBindings, err = listAll(l, "rolebindings.rbac.authorization.k8s.io", ns, func(o metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
				r, err := kube.RbacV1().RoleBindings(ns).List(ctx, o)
				return items(r, err, func(r *rbacv1.RoleBindingList) ([]rbacv1.RoleBinding, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.ServiceAccounts, err = listAll(l, "serviceaccounts", ns, func(o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
				r, err := kube.CoreV1().ServiceAccounts(ns).List(ctx, o)
				return items(r, err, func(r *corev1.ServiceAccountList) ([]corev1.ServiceAccount, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			if ns != "" {
				// A namespace-scoped user may GET its namespace but not LIST all.
				n, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
				if err == nil {
					inv.Namespaces = []corev1.Namespace{*n}
					return nil
				}
				return l.record("namespaces", "", "get", err)
			}
			inv.Namespaces, err = listAll(l, "namespaces", "", func(o metav1.ListOptions) ([]corev1.Namespace, string, error) {
				r, err := kube.CoreV1().Namespaces().List(ctx, o)
				return items(r, err, func(r *corev1.NamespaceList) ([]corev1.Namespace, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.Pods, err = listAll(l, "pods", ns, func(o metav1.ListOptions) ([]corev1.Pod, string, error) {
				r, err := kube.CoreV1().Pods(ns).List(ctx, o)
				return items(r, err, func(r *corev1.PodList) ([]corev1.Pod, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.ReplicaSets, err = listAll(l, "replicasets.apps", ns, func(o metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
				r, err := kube.AppsV1().ReplicaSets(ns).List(ctx, o)
				return items(r, err, func(r *appsv1.ReplicaSetList) ([]appsv1.ReplicaSet, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.Deployments, err = listAll(l, "deployments.apps", ns, func(o metav1.ListOptions) ([]appsv1.Deployment, string, error) {
				r, err := kube.AppsV1().Deployments(ns).List(ctx, o)
				return items(r, err, func(r *appsv1.DeploymentList) ([]appsv1.Deployment, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.StatefulSets, err = listAll(l, "statefulsets.apps", ns, func(o metav1.ListOptions) ([]appsv1.StatefulSet, string, error) {
				r, err := kube.AppsV1().StatefulSets(ns).List(ctx, o)
				return items(r, err, func(r *appsv1.StatefulSetList) ([]appsv1.StatefulSet, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.DaemonSets, err = listAll(l, "daemonsets.apps", ns, func(o metav1.ListOptions) ([]appsv1.DaemonSet, string, error) {
				r, err := kube.AppsV1().DaemonSets(ns).List(ctx, o)
				return items(r, err, func(r *appsv1.DaemonSetList) ([]appsv1.DaemonSet, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.Jobs, err = listAll(l, "jobs.batch", ns, func(o metav1.ListOptions) ([]batchv1.Job, string, error) {
				r, err := kube.BatchV1().Jobs(ns).List(ctx, o)
				return items(r, err, func(r *batchv1.JobList) ([]batchv1.Job, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.CronJobs, err = listAll(l, "cronjobs.batch", ns, func(o metav1.ListOptions) ([]batchv1.CronJob, string, error) {
				r, err := kube.BatchV1().CronJobs(ns).List(ctx, o)
				return items(r, err, func(r *batchv1.CronJobList) ([]batchv1.CronJob, string) { return r.Items, r.Continue })
			})
			return err
		},
		func() (err error) {
			inv.ReplicationControllers, err = listAll(l, "replicationcontrollers", ns, func(o metav1.ListOptions) ([]corev1.ReplicationController, string, error) {
				r, err := kube.CoreV1().ReplicationControllers(ns).List(ctx, o)
				return items(r, err, func(r *corev1.ReplicationControllerList) ([]corev1.ReplicationController, string) {
					return r.Items, r.Continue
				})
			})
			return err
		},
		func() (err error) {
			inv.RuntimeClasses, err = listAll(l, "runtimeclasses.node.k8s.io", "", func(o metav1.ListOptions) ([]nodev1.RuntimeClass, string, error) {
				r, err := kube.NodeV1().RuntimeClasses().List(ctx, o)
				return items(r, err, func(r *nodev1.RuntimeClassList) ([]nodev1.RuntimeClass, string) { return r.Items, r.Continue })
			})
			if err == nil && !l.failed("runtimeclasses.node.k8s.io") {
				l.mu.Lock()
				inv.RuntimeClassesKnown = true
				l.mu.Unlock()
			}
			return err
		},
	}

	var wg sync.WaitGroup
	errs := make([]error, len(tasks))
	for i, task := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = task()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	inv.Incomplete = l.issues
	if !inv.PSPAPIServed {
		inv.Warnings = append(inv.Warnings, "the cluster does not serve policy/v1beta1 PodSecurityPolicy (Kubernetes 1.25+): auditing Pod Security Standards only, plus any PSPs given with -f")
	}
	sortIssues(inv.Incomplete)
	inv.Sort()
	return inv, nil
}

// lister collects the per-type problems that make a read partial.
type lister struct {
	ctx      context.Context
	pageSize int64
	mu       sync.Mutex
	issues   []Issue
}

// record turns a Forbidden or NotFound error into an Issue and returns nil;
// other errors are returned wrapped, naming the resource.
func (l *lister) record(resource, namespace, verb string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		l.mu.Lock()
		defer l.mu.Unlock()
		l.issues = append(l.issues, Issue{Resource: resource, Namespace: namespace, Verb: verb,
			Message: fmt.Sprintf("permission denied: cannot %s %s (%s)", verb, resource, apierrors.ReasonForError(err))})
		return nil
	case apierrors.IsNotFound(err) && verb == "list":
		l.mu.Lock()
		defer l.mu.Unlock()
		l.issues = append(l.issues, Issue{Resource: resource, Namespace: namespace, Verb: verb,
			Message: "the server does not serve this resource"})
		return nil
	}
	if namespace != "" {
		return fmt.Errorf("%s %s in %q: %w", verb, resource, namespace, err)
	}
	return fmt.Errorf("%s %s: %w", verb, resource, err)
}

// failed reports whether resource was recorded as unreadable.
func (l *lister) failed(resource string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, i := range l.issues {
		if i.Resource == resource {
			return true
		}
	}
	return false
}

// listAll pages through one resource type with limit/continue.
func listAll[T any](l *lister, resource, namespace string, page func(metav1.ListOptions) ([]T, string, error)) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: l.pageSize}
	for {
		items, cont, err := page(opts)
		if err != nil {
			if apierrors.IsResourceExpired(err) && opts.Continue != "" {
				// The continue token outlived etcd's compaction window: start
				// over rather than return a list missing its tail.
				out, opts.Continue = nil, ""
				continue
			}
			if resource == "podsecuritypolicies.policy" && apierrors.IsNotFound(err) {
				return nil, err
			}
			return nil, l.record(resource, namespace, "list", err)
		}
		if out == nil {
			out = items
		} else {
			out = append(out, items...)
		}
		if cont == "" {
			return out, nil
		}
		opts.Continue = cont
		if err := l.ctx.Err(); err != nil {
			return nil, fmt.Errorf("list %s: %w", resource, err)
		}
	}
}

func items[L any, T any](list *L, err error, get func(*L) ([]T, string)) ([]T, string, error) {
	if err != nil {
		return nil, "", err
	}
	its, cont := get(list)
	return its, cont, nil
}

func sortIssues(s []Issue) {
	sortByKey(s, func(i *Issue) (string, string) { return i.Resource, i.Namespace })
}
