// Package bench holds the live benchmark: a real kube-apiserver (from
// test/e2e/framework) loaded with the synthetic cluster of hack/bench, and
// the audit timed against `kubectl get` and a bare client-go lister.
// hack/bench.sh runs it; see BenchmarkLiveAudit.
package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// LoadStats says what Load did.
type LoadStats struct {
	// Objects counts objects created (or found already there).
	Objects int
	// Requests counts API calls made, status updates included.
	Requests int64
	Elapsed  time.Duration
}

// podSecurityLabelPrefix marks the namespace labels that Load applies only
// after the pods exist: PodSecurity admission would otherwise reject the
// very pods whose conflict with those labels the audit is meant to report.
const podSecurityLabelPrefix = "pod-security.kubernetes.io/"

// Load creates every object of inv in the cluster behind cfg, workers
// requests at a time: namespaces first, then service accounts, PSPs and
// RBAC, then controllers, then pods with their statuses (a pod's status
// cannot be set on create, yet it is a good part of what a LIST returns).
// Server-set metadata (uid, resourceVersion, timestamps) is dropped; owner
// references keep their file uids, which the API server does not check.
// Objects that already exist are left as they are. inv is modified.
//
// cfg should carry the caller's rate limits; Load uses protobuf.
func Load(ctx context.Context, cfg *rest.Config, inv *inventory.Inventory, workers int) (LoadStats, error) {
	start := time.Now()
	// Thousands of "PodSecurityPolicy is deprecated" and PodSecurity
	// warnings would bury the benchmark's output.
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{}
	pcfg := rest.CopyConfig(cfg)
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	kube, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		return LoadStats{}, fmt.Errorf("build client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return LoadStats{}, fmt.Errorf("build dynamic client: %w", err)
	}
	l := &loader{workers: workers}

	// Namespaces, without their Pod Security labels for now.
	late := map[string]map[string]string{}
	for i := range inv.Namespaces {
		ns := &inv.Namespaces[i]
		for k := range ns.Labels {
			if strings.HasPrefix(k, podSecurityLabelPrefix) {
				late[ns.Name] = ns.Labels
				ns.Labels = withoutPodSecurity(ns.Labels)
				break
			}
		}
	}
	if err := each(ctx, l, inv.Namespaces, func(ctx context.Context, o *corev1.Namespace) error {
		clean(&o.ObjectMeta)
		o.Status = corev1.NamespaceStatus{}
		_, err := kube.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
		return err
	}); err != nil {
		return l.stats(start), err
	}

	// Everything pods depend on, in parallel.
	err = all(
		func() error {
			return each(ctx, l, inv.ServiceAccounts, func(ctx context.Context, o *corev1.ServiceAccount) error {
				clean(&o.ObjectMeta)
				_, err := kube.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.PodSecurityPolicies, func(ctx context.Context, o *psp.PodSecurityPolicy) error {
				clean(&o.ObjectMeta)
				m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
				if err != nil {
					return err
				}
				_, err = dyn.Resource(psp.GroupVersionResource).Create(ctx, &unstructured.Unstructured{Object: m}, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.ClusterRoles, func(ctx context.Context, o *rbacv1.ClusterRole) error {
				clean(&o.ObjectMeta)
				_, err := kube.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.ClusterRoleBindings, func(ctx context.Context, o *rbacv1.ClusterRoleBinding) error {
				clean(&o.ObjectMeta)
				_, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.Roles, func(ctx context.Context, o *rbacv1.Role) error {
				clean(&o.ObjectMeta)
				_, err := kube.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.RoleBindings, func(ctx context.Context, o *rbacv1.RoleBinding) error {
				clean(&o.ObjectMeta)
				_, err := kube.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
	)
	if err != nil {
		return l.stats(start), err
	}

	// Controllers. Nothing runs them: they create no pods of their own.
	err = all(
		func() error {
			return each(ctx, l, inv.Deployments, func(ctx context.Context, o *appsv1.Deployment) error {
				clean(&o.ObjectMeta)
				o.Status = appsv1.DeploymentStatus{}
				_, err := kube.AppsV1().Deployments(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.ReplicaSets, func(ctx context.Context, o *appsv1.ReplicaSet) error {
				clean(&o.ObjectMeta)
				o.Status = appsv1.ReplicaSetStatus{}
				_, err := kube.AppsV1().ReplicaSets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.StatefulSets, func(ctx context.Context, o *appsv1.StatefulSet) error {
				clean(&o.ObjectMeta)
				o.Status = appsv1.StatefulSetStatus{}
				_, err := kube.AppsV1().StatefulSets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.DaemonSets, func(ctx context.Context, o *appsv1.DaemonSet) error {
				clean(&o.ObjectMeta)
				o.Status = appsv1.DaemonSetStatus{}
				_, err := kube.AppsV1().DaemonSets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.Jobs, func(ctx context.Context, o *batchv1.Job) error {
				clean(&o.ObjectMeta)
				o.Status = batchv1.JobStatus{}
				// A dump carries the selector the server generated; creating
				// a Job with a selector requires saying it is meant.
				manual := true
				o.Spec.ManualSelector = &manual
				_, err := kube.BatchV1().Jobs(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.CronJobs, func(ctx context.Context, o *batchv1.CronJob) error {
				clean(&o.ObjectMeta)
				o.Status = batchv1.CronJobStatus{}
				_, err := kube.BatchV1().CronJobs(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
		func() error {
			return each(ctx, l, inv.ReplicationControllers, func(ctx context.Context, o *corev1.ReplicationController) error {
				clean(&o.ObjectMeta)
				o.Status = corev1.ReplicationControllerStatus{}
				_, err := kube.CoreV1().ReplicationControllers(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
				return err
			})
		},
	)
	if err != nil {
		return l.stats(start), err
	}

	// Pods, then each one's status.
	if err := each(ctx, l, inv.Pods, func(ctx context.Context, o *corev1.Pod) error {
		clean(&o.ObjectMeta)
		status := o.Status
		o.Status = corev1.PodStatus{}
		created, err := kube.CoreV1().Pods(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		status.QOSClass = created.Status.QOSClass
		created.Status = status
		l.requests.Add(1)
		_, err = kube.CoreV1().Pods(o.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
		return err
	}); err != nil {
		return l.stats(start), err
	}

	// Now the Pod Security labels: PodSecurity admission only warns about
	// existing pods when a namespace is labelled.
	for name, labels := range late {
		l.requests.Add(2)
		ns, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return l.stats(start), fmt.Errorf("get namespace %s: %w", name, err)
		}
		ns.Labels = labels
		if _, err := kube.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
			return l.stats(start), fmt.Errorf("label namespace %s: %w", name, err)
		}
	}
	return l.stats(start), nil
}

type loader struct {
	workers  int
	objects  atomic.Int64
	requests atomic.Int64
}

func (l *loader) stats(start time.Time) LoadStats {
	return LoadStats{Objects: int(l.objects.Load()), Requests: l.requests.Load(), Elapsed: time.Since(start)}
}

// each runs create on every item with l.workers goroutines and returns the
// first error, naming the object. An object that already exists counts as
// created.
func each[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, l *loader, items []T, create func(context.Context, PT) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range max(1, l.workers) {
		wg.Go(func() {
			for i := range next {
				o := PT(&items[i])
				name := o.GetName()
				if ns := o.GetNamespace(); ns != "" {
					name = ns + "/" + name
				}
				l.requests.Add(1)
				err := create(ctx, o)
				if err != nil && !apierrors.IsAlreadyExists(err) {
					once.Do(func() {
						firstErr = fmt.Errorf("create %T %s: %w", o, name, err)
						cancel()
					})
					continue
				}
				l.objects.Add(1)
			}
		})
	}
feed:
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}

// all runs the functions concurrently and returns the first error.
func all(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// clean drops what the API server sets itself and refuses on create.
func clean(m *metav1.ObjectMeta) {
	m.UID = ""
	m.ResourceVersion = ""
	m.CreationTimestamp = metav1.Time{}
	m.Generation = 0
	m.ManagedFields = nil
}

func withoutPodSecurity(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		if !strings.HasPrefix(k, podSecurityLabelPrefix) {
			out[k] = v
		}
	}
	return out
}
