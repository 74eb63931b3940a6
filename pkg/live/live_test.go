package live

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func newDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{psp.GroupVersionResource: "PodSecurityPolicyList"}, objs...)
}

func TestRead(t *testing.T) {
	pod := func(ns, name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	tests := []struct {
		name  string
		setup func(kube *fake.Clientset, dyn *dynamicfake.FakeDynamicClient)
		opts  Options
		check func(t *testing.T, inv *inventory.Inventory)
	}{
		{
			name: "reads everything",
			check: func(t *testing.T, inv *inventory.Inventory) {
				if len(inv.Pods) != 3 || len(inv.PodSecurityPolicies) != 1 || len(inv.Deployments) != 1 || len(inv.Namespaces) != 2 {
					t.Errorf("got pods=%d psps=%d deploys=%d ns=%d", len(inv.Pods), len(inv.PodSecurityPolicies), len(inv.Deployments), len(inv.Namespaces))
				}
				if !inv.PSPAPIServed || len(inv.Incomplete) != 0 {
					t.Errorf("PSPAPIServed=%v incomplete=%v", inv.PSPAPIServed, inv.Incomplete)
				}
				if inv.PodSecurityPolicies[0].Spec.Privileged != true {
					t.Errorf("PSP spec not decoded: %+v", inv.PodSecurityPolicies[0].Spec)
				}
			},
		},
		{
			name: "one namespace",
			opts: Options{Namespace: "b"},
			check: func(t *testing.T, inv *inventory.Inventory) {
				if len(inv.Pods) != 1 || inv.Pods[0].Name != "p3" || len(inv.Namespaces) != 1 || inv.Namespaces[0].Name != "b" {
					t.Errorf("got pods=%v namespaces=%v", inv.Pods, inv.Namespaces)
				}
			},
		},
		{
			name: "PSPs forbidden makes the report incomplete",
			setup: func(_ *fake.Clientset, dyn *dynamicfake.FakeDynamicClient) {
				dyn.PrependReactor("list", "podsecuritypolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "policy", Resource: "podsecuritypolicies"}, "", nil)
				})
			},
			check: func(t *testing.T, inv *inventory.Inventory) {
				if len(inv.Incomplete) != 1 || inv.Incomplete[0].Resource != "podsecuritypolicies.policy" || inv.Incomplete[0].Verb != "list" {
					t.Fatalf("incomplete = %+v", inv.Incomplete)
				}
				if !strings.Contains(inv.Incomplete[0].Message, "permission denied") {
					t.Errorf("message = %q", inv.Incomplete[0].Message)
				}
				if len(inv.Pods) != 3 {
					t.Errorf("the rest must still be read; pods=%d", len(inv.Pods))
				}
			},
		},
		{
			name: "PSP API not served (1.25+)",
			setup: func(_ *fake.Clientset, dyn *dynamicfake.FakeDynamicClient) {
				dyn.PrependReactor("list", "podsecuritypolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "policy", Resource: "podsecuritypolicies"}, "")
				})
			},
			check: func(t *testing.T, inv *inventory.Inventory) {
				if inv.PSPAPIServed || len(inv.Incomplete) != 0 || len(inv.Warnings) != 1 {
					t.Fatalf("PSPAPIServed=%v incomplete=%v warnings=%v", inv.PSPAPIServed, inv.Incomplete, inv.Warnings)
				}
			},
		},
		{
			name: "pods paginated",
			setup: func(kube *fake.Clientset, _ *dynamicfake.FakeDynamicClient) {
				kube.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
					opts := a.(k8stesting.ListActionImpl).ListOptions
					if opts.Limit != DefaultPageSize {
						t.Errorf("limit = %d, want %d", opts.Limit, DefaultPageSize)
					}
					switch opts.Continue {
					case "":
						return true, &corev1.PodList{ListMeta: metav1.ListMeta{Continue: "page2"}, Items: []corev1.Pod{*pod("a", "x1")}}, nil
					case "page2":
						return true, &corev1.PodList{Items: []corev1.Pod{*pod("a", "x2")}}, nil
					}
					t.Errorf("unexpected continue token %q", opts.Continue)
					return true, &corev1.PodList{}, nil
				})
			},
			check: func(t *testing.T, inv *inventory.Inventory) {
				if len(inv.Pods) != 2 || inv.Pods[1].Name != "x2" {
					t.Fatalf("pods = %v", inv.Pods)
				}
			},
		},
		{
			name: "other errors fail the read",
			setup: func(kube *fake.Clientset, _ *dynamicfake.FakeDynamicClient) {
				kube.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewInternalError(context.DeadlineExceeded)
				})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset(
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "b"}},
				pod("a", "p1"), pod("a", "p2"), pod("b", "p3"),
				&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "d"}},
				&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr"}},
			)
			dyn := newDynamic(pspObject("privileged"))
			if tt.setup != nil {
				tt.setup(kube, dyn)
			}
			inv, err := Read(context.Background(), kube, dyn, tt.opts)
			if tt.check == nil {
				if err == nil || !strings.Contains(err.Error(), "list deployments.apps") {
					t.Fatalf("Read() error = %v, want a list deployments.apps error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, inv)
			// Audit never writes: only get/list actions may reach the server.
			for _, a := range append(kube.Actions(), dyn.Actions()...) {
				if v := a.GetVerb(); v != "list" && v != "get" {
					t.Errorf("unexpected %s action on %s", v, a.GetResource())
				}
			}
		})
	}
}

func pspObject(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
		"metadata": map[string]interface{}{"name": name},
		"spec": map[string]interface{}{
			"privileged": true,
			"seLinux":    map[string]interface{}{"rule": "RunAsAny"}, "runAsUser": map[string]interface{}{"rule": "RunAsAny"},
			"supplementalGroups": map[string]interface{}{"rule": "RunAsAny"}, "fsGroup": map[string]interface{}{"rule": "RunAsAny"},
		},
	}}
}

// recordingSink is a PodSink that remembers what it was given.
type recordingSink struct {
	mu       sync.Mutex
	ready    []*inventory.Inventory
	pods     []corev1.Pod
	restarts int
	readyErr error
}

func (s *recordingSink) Ready(inv *inventory.Inventory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = append(s.ready, inv)
	return s.readyErr
}

func (s *recordingSink) Add(pods []corev1.Pod, restart bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if restart {
		s.restarts++
		s.pods = nil
	}
	s.pods = append(s.pods, pods...)
	return nil
}

// TestReadPodSink: with a sink, the pods go to it page by page, slimmed,
// and the rest of the inventory to Ready once it is complete; an expired
// continue token restarts the sink's pages.
func TestReadPodSink(t *testing.T) {
	pod := func(ns, name string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "u", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning},
		}
	}
	gone := apierrors.NewResourceExpired("The provided continue parameter is too old")
	tests := []struct {
		name      string
		setup     func(kube *fake.Clientset)
		readyErr  error
		wantErr   string
		wantReady int
		wantPods  []string
		restarts  int
		issues    []string
	}{
		{name: "pods to the sink, the rest to Ready", wantReady: 1, wantPods: []string{"a/p1", "a/p2", "b/p3"}},
		{
			name: "expired continue token: the sink starts again",
			setup: func(kube *fake.Clientset) {
				kube.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
					opts := a.(k8stesting.ListActionImpl).ListOptions
					switch {
					case opts.Continue == "" && opts.Limit > 0:
						return true, &corev1.PodList{ListMeta: metav1.ListMeta{Continue: "page2"}, Items: []corev1.Pod{*pod("a", "x1")}}, nil
					case opts.Continue == "page2":
						return true, nil, gone
					default: // the full relist
						return true, &corev1.PodList{Items: []corev1.Pod{*pod("a", "x1"), *pod("a", "x2")}}, nil
					}
				})
			},
			wantReady: 1, wantPods: []string{"a/x1", "a/x2"}, restarts: 1,
		},
		{
			name: "pods forbidden: Ready, no pods, an issue",
			setup: func(kube *fake.Clientset) {
				kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", nil)
				})
			},
			wantReady: 1, issues: []string{"pods"},
		},
		{
			name: "another list fails: no Ready",
			setup: func(kube *fake.Clientset) {
				kube.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewInternalError(context.DeadlineExceeded)
				})
			},
			wantErr: "list deployments.apps",
		},
		{name: "Ready fails: so does the read", readyErr: errors.New("sink says no"), wantReady: 1, wantErr: "sink says no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset(
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "b"}},
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
				pod("b", "p3"), pod("a", "p1"), pod("a", "p2"),
				&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "d"}},
			)
			if tt.setup != nil {
				tt.setup(kube)
			}
			sink := &recordingSink{readyErr: tt.readyErr}
			inv, err := Read(context.Background(), kube, newDynamic(pspObject("privileged")), Options{Pods: sink})
			if len(sink.ready) != tt.wantReady {
				t.Fatalf("Ready called %d times, want %d", len(sink.ready), tt.wantReady)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Read() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			partial := sink.ready[0]
			if len(partial.Pods) != 0 || len(inv.Pods) != 0 {
				t.Errorf("pods kept in the inventory: %d in Ready's, %d in Read's", len(partial.Pods), len(inv.Pods))
			}
			if len(partial.Deployments) != 1 || len(partial.PodSecurityPolicies) != 1 || len(partial.Namespaces) != 2 || partial.Namespaces[0].Name != "a" {
				t.Errorf("Ready's inventory is not complete and sorted: %+v", partial)
			}
			var got []string
			for _, p := range sink.pods {
				got = append(got, p.Namespace+"/"+p.Name)
				if p.ManagedFields != nil || p.Status.Phase != "" || p.UID == "" {
					t.Errorf("pod %s/%s not slimmed as it should be: %+v", p.Namespace, p.Name, p)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tt.wantPods) || sink.restarts != tt.restarts {
				t.Errorf("sink got pods %v with %d restarts, want %v with %d", got, sink.restarts, tt.wantPods, tt.restarts)
			}
			var issues []string
			for _, i := range inv.Incomplete {
				issues = append(issues, i.Resource)
			}
			if !slices.Equal(issues, tt.issues) {
				t.Errorf("incomplete = %v, want %v", issues, tt.issues)
			}
		})
	}
}
