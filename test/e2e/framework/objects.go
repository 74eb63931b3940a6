package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// objectCreator turns YAML into API calls. The REST mapper is shared by all
// users of a cluster: which resources exist does not depend on who asks.
type objectCreator struct {
	cluster *Cluster
	once    sync.Once
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	err     error
}

func (o *objectCreator) restMapper() (*restmapper.DeferredDiscoveryRESTMapper, error) {
	o.once.Do(func() {
		dc, err := discovery.NewDiscoveryClientForConfig(o.cluster.AdminConfig())
		if err != nil {
			o.err = fmt.Errorf("build discovery client: %w", err)
			return
		}
		o.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	})
	return o.mapper, o.err
}

// mapping resolves an object's kind, rediscovering once on a miss so that
// kinds of CRDs created after the first call are found.
func (o *objectCreator) mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	mapper, err := o.restMapper()
	if err != nil {
		return nil, err
	}
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		mapper.Reset()
		m, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", gvk, err)
	}
	return m, nil
}

// ApplyYAML creates, as AdminUser, every object in a multi-document YAML (or
// JSON) stream, in order, and fails t at the first error. An object that
// already exists is an error: clusters are per test, so that is a test bug.
// A namespaced object without a namespace goes to "default". Every Namespace
// created gets a "default" ServiceAccount, as a controller-manager would add.
func (c *Cluster) ApplyYAML(t testing.TB, data []byte) []*unstructured.Unstructured {
	t.Helper()
	objs, err := c.CreateYAML(t.Context(), c.AdminConfig(), data)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}
	return objs
}

// CreateYAML is ApplyYAML with a caller-chosen identity (say Impersonate's
// config) that returns the error instead of failing the test, for tests that
// expect admission to reject an object. It returns the objects created
// before the first error, as the server stored them.
func (c *Cluster) CreateYAML(ctx context.Context, cfg *rest.Config, data []byte) ([]*unstructured.Unstructured, error) {
	objs, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build dynamic client: %w", err)
	}
	created := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		m, err := c.objects.mapping(obj)
		if err != nil {
			return created, err
		}
		var ri dynamic.ResourceInterface = client.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(metav1.NamespaceDefault)
			}
			ri = client.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		out, err := ri.Create(ctx, obj, metav1.CreateOptions{})
		if err != nil {
			return created, fmt.Errorf("create %s %s: %w", obj.GetKind(), objectName(obj), err)
		}
		created = append(created, out)
		if m.GroupVersionKind.Group == "" && m.GroupVersionKind.Kind == "Namespace" {
			if err := c.ensureDefaultServiceAccount(ctx, out.GetName()); err != nil {
				return created, err
			}
		}
	}
	return created, nil
}

// CreateNamespace creates a namespace and its "default" ServiceAccount as
// AdminUser, failing t on error.
func (c *Cluster) CreateNamespace(t testing.TB, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.AdminClient(t).CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("framework: create namespace %s: %v", name, err)
	}
	if err := c.ensureDefaultServiceAccount(t.Context(), name); err != nil {
		t.Fatalf("framework: %v", err)
	}
}

// ensureDefaultServiceAccount stands in for the controller-manager that is
// not running: without a "default" ServiceAccount the ServiceAccount
// admission plugin rejects every pod that names none.
func (c *Cluster) ensureDefaultServiceAccount(ctx context.Context, namespace string) error {
	cs, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		return fmt.Errorf("build admin clientset: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: namespace}}
	_, err = cs.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create serviceaccount %s/default: %w", namespace, err)
	}
	return nil
}

// decodeYAML splits a multi-document YAML or JSON stream into objects,
// dropping empty documents and unrolling v1 Lists.
func decodeYAML(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode YAML document %d: %w", i+1, err)
		}
		if len(raw) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: raw}
		if obj.GetKind() == "" || obj.GetAPIVersion() == "" {
			return nil, fmt.Errorf("YAML document %d has no kind or apiVersion", i+1)
		}
		if obj.IsList() {
			err := obj.EachListItem(func(item runtime.Object) error {
				u, ok := item.(*unstructured.Unstructured)
				if !ok {
					return fmt.Errorf("list item of type %T", item)
				}
				objs = append(objs, u)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("YAML document %d: %w", i+1, err)
			}
			continue
		}
		objs = append(objs, obj)
	}
}

func objectName(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns + "/" + obj.GetName()
	}
	return obj.GetName()
}

// WaitForAccess waits until the API server's authorizer allows every one of
// reviews (SubjectAccessReviews asked as admin). RBAC objects take effect
// when the server's informers see them, a moment after they are created;
// a test that acts at once can meet a spurious "forbidden".
func (c *Cluster) WaitForAccess(t testing.TB, reviews ...authorizationv1.SubjectAccessReviewSpec) {
	t.Helper()
	kube := c.AdminClient(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, spec := range reviews {
		for {
			out, err := kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
			if err == nil && out.Status.Allowed {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("framework: access never granted to %s %v (last error %v)", spec.User, spec.ResourceAttributes, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
