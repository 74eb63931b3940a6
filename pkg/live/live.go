// Package live reads an inventory from a running cluster. It is the only
// package that lists through client-go, so the inventory types and everything
// that converts PSPs carry no cluster client (and build for the browser).
package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// DefaultPageSize is the LIST page size: large enough that 10,000 pods take
// 20 round trips, small enough that the API server streams each page quickly.
const DefaultPageSize = 500

// Options tune a live read.
type Options struct {
	// Namespace limits namespaced lists to one namespace; "" reads all.
	Namespace string
	// PageSize is the LIST limit; 0 means DefaultPageSize.
	PageSize int64
	// PageTimeout bounds each page, retries included; 0 means
	// DefaultPageTimeout.
	PageTimeout time.Duration
	// Pods, when set, takes the pods page by page as they are read,
	// instead of the returned inventory's Pods (left empty): a sink that
	// evaluates each page and keeps only its verdicts never holds every
	// pod of a large cluster at once.
	Pods PodSink
	// Progress, when set, is told after every page how far the list of
	// resource is: listed so far, total when the server said (-1 when
	// not), done when it ended (listed or failed). It is called from
	// several goroutines at once.
	Progress func(resource string, listed, total int, done bool)
}

// PodSink takes the pods of a live read (see Options.Pods).
type PodSink interface {
	// Ready is called once every list but the pods' is complete (and
	// none has failed), with the inventory so far: the pods' verdicts
	// depend on all of it. The inventory Read returns is a later copy.
	Ready(inv *inventory.Inventory) error
	// Add takes one page of pods, possibly before Ready. restart says
	// that the pages given before are to be forgotten: the list started
	// again in full after its continue token expired.
	Add(pods []corev1.Pod, restart bool) error
}

// Read reads a live cluster. It only ever issues GET and LIST.
// Each resource type is listed concurrently and paginated. A type the
// caller may not list, or that the server does not serve, is recorded in
// Incomplete (or, for PSPs on 1.25+, PSPAPIServed=false) and the rest is
// still read; any other failure is returned as an error.
func Read(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, opts Options) (*inventory.Inventory, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	inv := &inventory.Inventory{Sources: []string{"cluster"}, PSPAPIServed: true}
	ns := opts.Namespace
	if opts.PageTimeout <= 0 {
		opts.PageTimeout = DefaultPageTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &lister{ctx: ctx, cancel: cancel, pageSize: opts.PageSize, pageTimeout: opts.PageTimeout, progress: opts.Progress}
	if l.progress == nil {
		l.progress = func(string, int, int, bool) {}
	}

	tasks := []func() error{
		func() error {
			list, err := listAll[unstructured.Unstructured](l, "podsecuritypolicies.policy", "", func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return dyn.Resource(psp.GroupVersionResource).List(ctx, o)
			}, nil)
			items := make([]psp.PodSecurityPolicy, 0, len(list))
			for i := range list {
				p, perr := psp.FromUnstructured(&list[i])
				if perr != nil {
					return fmt.Errorf("list podsecuritypolicies.policy: %w", perr)
				}
				items = append(items, *p)
			}
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
			inv.ClusterRoles, err = listAll[rbacv1.ClusterRole](l, "clusterroles.rbac.authorization.k8s.io", "", pagesOf[rbacv1.ClusterRoleList](l, kube.RbacV1().RESTClient(), "clusterroles", "", false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.RbacV1().ClusterRoles().List(ctx, o)
			}), func(o *rbacv1.ClusterRole) { slimMeta(&o.ObjectMeta) })
			return err
		},
		func() (err error) {
			inv.ClusterRoleBindings, err = listAll[rbacv1.ClusterRoleBinding](l, "clusterrolebindings.rbac.authorization.k8s.io", "", pagesOf[rbacv1.ClusterRoleBindingList](l, kube.RbacV1().RESTClient(), "clusterrolebindings", "", false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.RbacV1().ClusterRoleBindings().List(ctx, o)
			}), func(o *rbacv1.ClusterRoleBinding) { slimMeta(&o.ObjectMeta) })
			return err
		},
		func() (err error) {
			inv.Roles, err = listAll[rbacv1.Role](l, "roles.rbac.authorization.k8s.io", ns, pagesOf[rbacv1.RoleList](l, kube.RbacV1().RESTClient(), "roles", ns, false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.RbacV1().Roles(ns).List(ctx, o)
			}), func(o *rbacv1.Role) { slimMeta(&o.ObjectMeta) })
			return err
		},
		func() (err error) {
			inv.RoleBindings, err = listAll[rbacv1.RoleBinding](l, "rolebindings.rbac.authorization.k8s.io", ns, pagesOf[rbacv1.RoleBindingList](l, kube.RbacV1().RESTClient(), "rolebindings", ns, false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.RbacV1().RoleBindings(ns).List(ctx, o)
			}), func(o *rbacv1.RoleBinding) { slimMeta(&o.ObjectMeta) })
			return err
		},
		func() (err error) {
			inv.ServiceAccounts, err = listAll[corev1.ServiceAccount](l, "serviceaccounts", ns, pagesOf[corev1.ServiceAccountList](l, kube.CoreV1().RESTClient(), "serviceaccounts", ns, false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.CoreV1().ServiceAccounts(ns).List(ctx, o)
			}), func(o *corev1.ServiceAccount) { slimMeta(&o.ObjectMeta) })
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
			inv.Namespaces, err = listAll[corev1.Namespace](l, "namespaces", "", pagesOf[corev1.NamespaceList](l, kube.CoreV1().RESTClient(), "namespaces", "", false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.CoreV1().Namespaces().List(ctx, o)
			}), func(o *corev1.Namespace) { slimMeta(&o.ObjectMeta) })
			return err
		},
		func() (err error) {
			inv.ReplicaSets, err = listAll[appsv1.ReplicaSet](l, "replicasets.apps", ns, pagesOf[appsv1.ReplicaSetList](l, kube.AppsV1().RESTClient(), "replicasets", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.AppsV1().ReplicaSets(ns).List(ctx, o)
			}), func(o *appsv1.ReplicaSet) {
				slimController(&o.ObjectMeta, &o.Spec.Template, &o.Spec.Selector, &o.Status)
			})
			return err
		},
		func() (err error) {
			inv.Deployments, err = listAll[appsv1.Deployment](l, "deployments.apps", ns, pagesOf[appsv1.DeploymentList](l, kube.AppsV1().RESTClient(), "deployments", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.AppsV1().Deployments(ns).List(ctx, o)
			}), func(o *appsv1.Deployment) {
				slimController(&o.ObjectMeta, &o.Spec.Template, &o.Spec.Selector, &o.Status)
			})
			return err
		},
		func() (err error) {
			inv.StatefulSets, err = listAll[appsv1.StatefulSet](l, "statefulsets.apps", ns, pagesOf[appsv1.StatefulSetList](l, kube.AppsV1().RESTClient(), "statefulsets", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.AppsV1().StatefulSets(ns).List(ctx, o)
			}), func(o *appsv1.StatefulSet) {
				slimController(&o.ObjectMeta, &o.Spec.Template, &o.Spec.Selector, &o.Status)
			})
			return err
		},
		func() (err error) {
			inv.DaemonSets, err = listAll[appsv1.DaemonSet](l, "daemonsets.apps", ns, pagesOf[appsv1.DaemonSetList](l, kube.AppsV1().RESTClient(), "daemonsets", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.AppsV1().DaemonSets(ns).List(ctx, o)
			}), func(o *appsv1.DaemonSet) {
				slimController(&o.ObjectMeta, &o.Spec.Template, &o.Spec.Selector, &o.Status)
			})
			return err
		},
		func() (err error) {
			inv.Jobs, err = listAll[batchv1.Job](l, "jobs.batch", ns, pagesOf[batchv1.JobList](l, kube.BatchV1().RESTClient(), "jobs", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.BatchV1().Jobs(ns).List(ctx, o)
			}), func(o *batchv1.Job) { slimController(&o.ObjectMeta, &o.Spec.Template, &o.Spec.Selector, &o.Status) })
			return err
		},
		func() (err error) {
			inv.CronJobs, err = listAll[batchv1.CronJob](l, "cronjobs.batch", ns, pagesOf[batchv1.CronJobList](l, kube.BatchV1().RESTClient(), "cronjobs", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.BatchV1().CronJobs(ns).List(ctx, o)
			}), func(o *batchv1.CronJob) {
				slimController(&o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template, &o.Spec.JobTemplate.Spec.Selector, &o.Status)
			})
			return err
		},
		func() (err error) {
			inv.ReplicationControllers, err = listAll[corev1.ReplicationController](l, "replicationcontrollers", ns, pagesOf[corev1.ReplicationControllerList](l, kube.CoreV1().RESTClient(), "replicationcontrollers", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.CoreV1().ReplicationControllers(ns).List(ctx, o)
			}), func(o *corev1.ReplicationController) {
				slimMeta(&o.ObjectMeta)
				if o.Spec.Template != nil {
					slimTemplate(o.Spec.Template)
				}
				o.Spec.Selector, o.Status = nil, corev1.ReplicationControllerStatus{}
			})
			return err
		},
		func() (err error) {
			inv.RuntimeClasses, err = listAll[nodev1.RuntimeClass](l, "runtimeclasses.node.k8s.io", "", pagesOf[nodev1.RuntimeClassList](l, kube.NodeV1().RESTClient(), "runtimeclasses", "", false, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return kube.NodeV1().RuntimeClasses().List(ctx, o)
			}), func(o *nodev1.RuntimeClass) { slimMeta(&o.ObjectMeta) })
			if err == nil && !l.failed("runtimeclasses.node.k8s.io") {
				l.mu.Lock()
				inv.RuntimeClassesKnown = true
				l.mu.Unlock()
			}
			return err
		},
	}

	// The pods are listed alongside the rest, and a sink is told when the
	// rest is in, to evaluate the pods while their later pages are read.
	listPods := func() (err error) {
		pageFn := pagesOf[corev1.PodList](l, kube.CoreV1().RESTClient(), "pods", ns, true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return kube.CoreV1().Pods(ns).List(ctx, o)
		})
		if opts.Pods == nil {
			inv.Pods, err = listAll[corev1.Pod](l, "pods", ns, pageFn, slimPod)
			return err
		}
		return listEach(l, "pods", ns, pageFn, func(pods []corev1.Pod, restart bool) error {
			for i := range pods {
				slimPod(&pods[i])
			}
			return opts.Pods.Add(pods, restart)
		})
	}

	errs := make([]error, len(tasks)+1)
	var podsDone sync.WaitGroup
	podsDone.Add(1)
	go func() {
		defer podsDone.Done()
		errs[len(tasks)] = listPods()
	}()
	var wg sync.WaitGroup
	for i, task := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = task()
		}()
	}
	wg.Wait()
	if opts.Pods != nil && firstError(errs[:len(tasks)]) == nil {
		// A snapshot: the pods' list may yet record an issue in l.
		l.mu.Lock()
		partial := *inv
		partial.Incomplete = append([]inventory.Issue(nil), l.issues...)
		l.mu.Unlock()
		finish(&partial)
		if err := opts.Pods.Ready(&partial); err != nil {
			// Not the cluster's fault: stop reading, say why.
			l.cancel()
			podsDone.Wait()
			return nil, err
		}
	}
	podsDone.Wait()
	// One line: a server that went away fails every list the same way,
	// and sixteen copies of one error hide it.
	first := firstError(errs)
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed > 1 {
		return nil, fmt.Errorf("%w (and %d other resource type(s) failed)", first, failed-1)
	}
	if first != nil {
		return nil, first
	}
	inv.Incomplete = l.issues
	finish(inv)
	return inv, nil
}

// finish gives a read inventory its warnings and order.
func finish(inv *inventory.Inventory) {
	if !inv.PSPAPIServed {
		inv.Warnings = append(inv.Warnings, "the cluster does not serve policy/v1beta1 PodSecurityPolicy (Kubernetes 1.25+): auditing Pod Security Standards only, plus any PSPs given with -f")
	}
	inv.Sort()
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lister collects the per-type problems that make a read partial.
type lister struct {
	ctx         context.Context
	cancel      context.CancelFunc
	pageSize    int64
	pageTimeout time.Duration
	progress    func(resource string, listed, total int, done bool)
	mu          sync.Mutex
	issues      []inventory.Issue
}

// record turns a Forbidden or NotFound error into an Issue and returns nil;
// other errors are returned wrapped, naming the resource.
func (l *lister) record(resource, namespace, verb string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		l.mu.Lock()
		defer l.mu.Unlock()
		l.issues = append(l.issues, inventory.Issue{Resource: resource, Namespace: namespace, Verb: verb,
			Message: fmt.Sprintf("permission denied: cannot %s %s (%s)", verb, resource, apierrors.ReasonForError(err))})
		return nil
	case apierrors.IsNotFound(err) && verb == "list":
		l.mu.Lock()
		defer l.mu.Unlock()
		l.issues = append(l.issues, inventory.Issue{Resource: resource, Namespace: namespace, Verb: verb,
			Message: "the server does not serve this resource"})
		return nil
	}
	// Say what happened in words an operator acts on; the cause follows.
	var netErr net.Error
	switch {
	case apierrors.IsTooManyRequests(err):
		err = fmt.Errorf("the API server kept throttling the request (429 Too Many Requests, retried as it asked): %w", err)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		err = fmt.Errorf("timed out (--request-timeout bounds each request): %w", err)
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

// DefaultPageTimeout bounds one page of a LIST, retries included. client-go
// retries a throttled request (429) as often as ten times, each after the
// server's Retry-After, however long; --request-timeout bounds each
// attempt, not the retries. A page of 500 objects takes well under a second.
const DefaultPageTimeout = 2 * time.Minute

// listAll pages through one resource type, keeping each item as its page
// arrives and letting the page go: client-go's pager.List would hold every
// page until the last one, then this function would copy them all, twice
// the list at the peak. Each item goes through slim (when not nil) first,
// so that only what the audit reads outlives its page.
//
// A continue token that expired mid-list (410 Gone, when the list outlives
// etcd's compaction window) makes it list once more in full, unpaged, as
// client-go's pager does with FullListIfExpired, rather than return a list
// missing its tail; the items of the expired pages are dropped first.
func listAll[T any](l *lister, resource, namespace string, page func(context.Context, metav1.ListOptions) (runtime.Object, error), slim func(*T)) ([]T, error) {
	var out []T
	err := l.eachPage(resource, page, func(list runtime.Object, restart bool) error {
		if restart {
			out = nil
		}
		if out == nil {
			// The first page says how many follow: one allocation for the
			// whole list rather than append's quarter steps (a few
			// thousand controllers are megabytes).
			n := meta.LenList(list)
			if lm, err := meta.ListAccessor(list); err == nil && lm.GetRemainingItemCount() != nil {
				if rest := *lm.GetRemainingItemCount(); rest > 0 {
					// Bounded: the count is the server's word.
					n += int(min(rest, 1<<16))
				}
			}
			out = make([]T, 0, n)
		}
		return meta.EachListItem(list, func(o runtime.Object) error {
			v, ok := any(o).(*T)
			if !ok {
				return fmt.Errorf("list %s: unexpected item type %T", resource, o)
			}
			if slim != nil {
				slim(v)
			}
			out = append(out, *v)
			return nil
		})
	})
	if err != nil {
		if resource == "podsecuritypolicies.policy" && apierrors.IsNotFound(err) {
			return nil, err
		}
		var itemErr itemError
		if errors.As(err, &itemErr) {
			return nil, itemErr.err
		}
		return nil, l.record(resource, namespace, "list", err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// listEach pages through one resource type like listAll, handing each
// page's items to fn as the page arrives and keeping none of them.
func listEach[T any](l *lister, resource, namespace string, page func(context.Context, metav1.ListOptions) (runtime.Object, error), fn func(items []T, restart bool) error) error {
	err := l.eachPage(resource, page, func(list runtime.Object, restart bool) error {
		// The page's items are handed over as decoded, not copied one by
		// one: the list is this read's own.
		p, err := meta.GetItemsPtr(list)
		if err != nil {
			return fmt.Errorf("list %s: %w", resource, err)
		}
		items, ok := p.(*[]T)
		if !ok {
			return fmt.Errorf("list %s: unexpected items type %T", resource, p)
		}
		return fn(*items, restart)
	})
	if err != nil {
		var itemErr itemError
		if errors.As(err, &itemErr) {
			return itemErr.err
		}
		return l.record(resource, namespace, "list", err)
	}
	return nil
}

// itemError carries a failure of the page callback, which is not the
// server's and must not be recorded as a permission or availability issue.
type itemError struct{ err error }

func (e itemError) Error() string { return e.err.Error() }
func (e itemError) Unwrap() error { return e.err }

// eachPage lists one resource type page by page, calling fn with each page
// as it arrives (restart is true when the pages fn has seen so far are to be
// forgotten: the continue token expired and the list starts again in full).
// Each page is bounded by the lister's page timeout, retries included.
func (l *lister) eachPage(resource string, page func(context.Context, metav1.ListOptions) (runtime.Object, error), fn func(list runtime.Object, restart bool) error) error {
	listed, total := 0, -1
	defer func() { l.progress(resource, listed, total, true) }()
	get := func(o metav1.ListOptions) (runtime.Object, error) {
		ctx, cancel := context.WithTimeout(l.ctx, l.pageTimeout)
		defer cancel()
		obj, err := page(ctx, o)
		if err != nil && ctx.Err() != nil && l.ctx.Err() == nil {
			return nil, fmt.Errorf("no complete answer within %s: %w", l.pageTimeout, err)
		}
		if err == nil {
			if o.Continue == "" {
				// A first page (or a relist after an expired token).
				listed, total = 0, -1
			}
			listed += meta.LenList(obj)
			if lm, lerr := meta.ListAccessor(obj); lerr == nil && lm.GetRemainingItemCount() != nil {
				total = listed + int(*lm.GetRemainingItemCount())
			}
			l.progress(resource, listed, total, false)
		}
		return obj, err
	}
	opts := metav1.ListOptions{Limit: l.pageSize}
	restart := false
	for {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		obj, err := get(opts)
		if err != nil {
			// Once, and only past the first page: a first page cannot
			// expire, and a full list that fails is the answer.
			if !apierrors.IsResourceExpired(err) || opts.Continue == "" || restart {
				return err
			}
			restart = true
			obj, err = get(metav1.ListOptions{})
			if err != nil {
				return err
			}
			if err := fn(obj, true); err != nil {
				return itemError{err}
			}
			return nil
		}
		m, err := meta.ListAccessor(obj)
		if err != nil {
			return fmt.Errorf("returned object must be a list: %w", err)
		}
		if err := fn(obj, false); err != nil {
			return itemError{err}
		}
		if m.GetContinue() == "" {
			return nil
		}
		opts.Continue = m.GetContinue()
	}
}

// lastApplied is the annotation kubectl apply keeps the whole applied
// object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// slimMeta drops what no command reads and every object carries: managed
// fields, and the last-applied copy of the object, are often the larger
// part of a small object.
func slimMeta(m *metav1.ObjectMeta) {
	m.ManagedFields = nil
	if _, ok := m.Annotations[lastApplied]; ok {
		a := make(map[string]string, len(m.Annotations)-1)
		for k, v := range m.Annotations {
			if k != lastApplied {
				a[k] = v
			}
		}
		m.Annotations = a
	}
}

// slimPod keeps of a pod what the commands read: its metadata (but managed
// fields) and spec (see slimSpec). Its status (conditions, container
// statuses, IPs) is most of a running pod and is read by none of them.
func slimPod(p *corev1.Pod) {
	slimMeta(&p.ObjectMeta)
	slimSpec(&p.Spec)
	p.Status = corev1.PodStatus{}
}

// slimController slims a controller's metadata and pod template, and
// drops its status and selector: pods are matched to their controllers by
// owner references, and no command reads replica counts or conditions. A
// large cluster's controllers (ten old ReplicaSets per Deployment by
// default) stay in memory until every pod is evaluated.
func slimController[S any](m *metav1.ObjectMeta, t *corev1.PodTemplateSpec, selector **metav1.LabelSelector, status *S) {
	slimMeta(m)
	slimTemplate(t)
	*selector = nil
	var zero S
	*status = zero
}

// slimTemplate is slimPod for a controller's pod template.
func slimTemplate(t *corev1.PodTemplateSpec) {
	slimMeta(&t.ObjectMeta)
	slimSpec(&t.Spec)
}

// slimSpec drops from the containers what no command reads, neither the
// checks (security contexts, ports, mounts, probes) nor the reports
// (names, images): their environment, commands and resources, a good part
// of a large cluster's pods and templates.
func slimSpec(s *corev1.PodSpec) {
	for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range cs {
			c := &cs[i]
			c.Env, c.EnvFrom = nil, nil
			c.Command, c.Args, c.WorkingDir = nil, nil, ""
			c.Resources = corev1.ResourceRequirements{}
		}
	}
}
