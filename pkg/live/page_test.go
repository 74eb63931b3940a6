package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// podPage is a page of pods with the fields whose decoding copies out of
// the body (strings, quantities, raw managed fields, int-or-strings).
func podPage(page, n int, cont string) *corev1.PodList {
	l := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: cont}}
	for i := range n {
		l.Items = append(l.Items, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("p%d-%d", page, i), Namespace: "ns", UID: "u",
				Labels:        map[string]string{"app": fmt.Sprintf("a%d", i)},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)}},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "c", Image: fmt.Sprintf("img:%d", page),
				Command: []string{"run"}, Args: []string{"-v"}, WorkingDir: "/w",
				Env:             []corev1.EnvVar{{Name: "A", Value: "b"}},
				EnvFrom:         []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
				Resources:       corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
				LivenessProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}}},
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}},
			}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		})
	}
	return l
}

func encodeProtobuf(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "PodList"})
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pagesServer answers a pods LIST with handler and counts the requests.
func pagesServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int32)) (*kubernetes.Clientset, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(w, r, n.Add(1))
	}))
	t.Cleanup(srv.Close)
	kube, err := kubernetes.NewForConfig(&rest.Config{
		Host:               srv.URL,
		ContentConfig:      rest.ContentConfig{AcceptContentTypes: "application/vnd.kubernetes.protobuf,application/json", ContentType: "application/vnd.kubernetes.protobuf"},
		QPS:                -1,
		DisableCompression: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return kube, &n
}

func podPages(kube *kubernetes.Clientset) func(context.Context, metav1.ListOptions) (runtime.Object, error) {
	return pagesOf[corev1.PodList](&lister{ctx: context.Background(), pageTimeout: time.Minute}, kube.CoreV1().RESTClient(), "pods", "", true, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return kube.CoreV1().Pods("").List(ctx, o)
	})
}

// TestPageReaderMatchesTypedClient: the in-place reader returns what the
// typed client returns, protobuf or JSON, page after page through the one
// buffer, and answered errors are the typed client's errors.
func TestPageReaderMatchesTypedClient(t *testing.T) {
	pages := []*corev1.PodList{podPage(0, 3, "next"), podPage(1, 2, "")}
	status := func(w http.ResponseWriter, code int, st *metav1.Status) {
		st.Kind, st.APIVersion = "Status", "v1"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		b, _ := runtime.Encode(scheme.Codecs.LegacyCodec(metav1.SchemeGroupVersion), st)
		w.Write(b)
	}
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, n int32)
		// requests is how many requests the two pages take: one each,
		// the second asked for while the first is decoded; two for a page
		// the reader gets again through the typed client.
		requests int32
		wantErr  func(error) bool
	}{
		{name: "protobuf", requests: 2, handler: func(w http.ResponseWriter, r *http.Request, _ int32) {
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			w.Write(encodeProtobuf(t, pages[pageIndex(r)]))
		}},
		{name: "json", requests: 2, handler: func(w http.ResponseWriter, r *http.Request, _ int32) {
			w.Header().Set("Content-Type", "application/json")
			b, _ := runtime.Encode(scheme.Codecs.LegacyCodec(corev1.SchemeGroupVersion), pages[pageIndex(r)])
			w.Write(b)
		}},
		{name: "forbidden", requests: 1, wantErr: apierrors.IsForbidden, handler: func(w http.ResponseWriter, r *http.Request, _ int32) {
			status(w, http.StatusForbidden, &metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonForbidden, Code: 403, Message: `pods is forbidden: User "u" cannot list resource "pods"`})
		}},
		{name: "expired", requests: 1, wantErr: apierrors.IsResourceExpired, handler: func(w http.ResponseWriter, r *http.Request, _ int32) {
			status(w, http.StatusGone, &metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonExpired, Code: 410, Message: "The provided continue parameter is too old"})
		}},
		{name: "body cut short, then whole", requests: 4, handler: func(w http.ResponseWriter, r *http.Request, n int32) {
			b := encodeProtobuf(t, pages[pageIndex(r)])
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			if n%2 == 1 {
				// The connection closes with half the promised body sent.
				w.Header().Set("Content-Length", fmt.Sprint(len(b)))
				w.Write(b[:len(b)/2])
				return
			}
			w.Write(b)
		}},
		{name: "not a list, then a list", requests: 4, handler: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			if n%2 == 1 {
				w.Write(append(bytes.Clone(protobufPrefix), 0xff, 0xff))
				return
			}
			w.Write(encodeProtobuf(t, pages[pageIndex(r)]))
		}},
		{name: "page asked for ahead fails, then asked in turn", requests: 3, handler: func(w http.ResponseWriter, r *http.Request, n int32) {
			if n == 2 {
				status(w, http.StatusInternalServerError, &metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReasonInternalError, Code: 500, Message: "once"})
				return
			}
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			w.Write(encodeProtobuf(t, pages[pageIndex(r)]))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kube, n := pagesServer(t, tt.handler)
			page := podPages(kube)
			var got []runtime.Object
			opts := metav1.ListOptions{Limit: 3}
			for range pages {
				obj, err := page(context.Background(), opts)
				if tt.wantErr != nil {
					if calls := n.Load(); calls != 1 {
						t.Errorf("the failed page took %d requests, want 1", calls)
					}
					_, typedErr := kube.CoreV1().Pods("").List(context.Background(), opts)
					if err == nil || !tt.wantErr(err) || err.Error() != typedErr.Error() {
						t.Fatalf("error %v, want the typed client's %v", err, typedErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, obj)
				opts.Continue = obj.(*corev1.PodList).Continue
			}
			if calls := n.Load(); calls != tt.requests {
				t.Errorf("the pages took %d requests, want %d", calls, tt.requests)
			}
			for i, want := range pages {
				list := got[i].(*corev1.PodList)
				if p := list.Items[0]; tt.name == "protobuf" && (p.ManagedFields != nil || p.Status.Phase != "" || p.Spec.Containers[0].Env != nil || p.Spec.Containers[0].Resources.Limits != nil) {
					t.Errorf("page %d: managed fields or status decoded: %+v", i, list.Items[0])
				}
				if !reflect.DeepEqual(slimmed(list), slimmed(want)) {
					t.Errorf("page %d (checked after every page was read):\ngot  %+v\nwant %+v", i, list, want)
				}
			}
		})
	}
}

// slimmed is l without what the page reader may leave out: the items'
// managed fields and status, and what slimSpec drops.
func slimmed(l *corev1.PodList) *corev1.PodList {
	l = l.DeepCopy()
	for i := range l.Items {
		l.Items[i].ManagedFields = nil
		l.Items[i].Status = corev1.PodStatus{}
		slimSpec(&l.Items[i].Spec)
	}
	return l
}

// pageIndex is the page a request asks for: the second after "next".
func pageIndex(r *http.Request) int {
	if r.URL.Query().Get("continue") == "next" {
		return 1
	}
	return 0
}

// TestPagesOfFakeClient: a fake clientset has no REST client to read
// through; its typed List is used as it is.
func TestPagesOfFakeClient(t *testing.T) {
	typed := func(context.Context, metav1.ListOptions) (runtime.Object, error) { return &corev1.PodList{}, nil }
	var rc *rest.RESTClient
	got := pagesOf[corev1.PodList](&lister{ctx: context.Background()}, rc, "pods", "", true, typed)
	if reflect.ValueOf(got).Pointer() != reflect.ValueOf(typed).Pointer() {
		t.Error("a nil REST client did not get the typed page function")
	}
}

// FuzzDecodeList: whatever the body, decodeList does not panic, and a
// protobuf body the standard deserializer decodes into a PodList decodes
// in place to the same list, less the items' managed fields and status.
func FuzzDecodeList(f *testing.F) {
	f.Add(encodeProtobuf(f, podPage(0, 2, "c")))
	f.Add(encodeProtobuf(f, &corev1.PodList{}))
	f.Add(append(bytes.Clone(protobufPrefix), 0x12, 0x00))
	f.Add([]byte(`{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got corev1.PodList
		err := decodeList(data, &got, &slimmer{dropStatus: true, podSpec: true})
		if !bytes.HasPrefix(data, protobufPrefix) {
			return
		}
		var want corev1.PodList
		if _, _, werr := scheme.Codecs.UniversalDeserializer().Decode(data, nil, &want); werr != nil {
			return
		}
		want.TypeMeta = metav1.TypeMeta{}
		if err != nil {
			t.Fatalf("the deserializer decodes %q, decodeList fails: %v", data, err)
		}
		if !reflect.DeepEqual(slimmed(&got), slimmed(&want)) {
			t.Fatalf("decodeList(%q):\ngot  %+v\nwant %+v", data, got, want)
		}
	})
}

// TestPageReaderTimeout: a page past --request-timeout fails at once, as
// the typed client's would, rather than being asked for a second time.
func TestPageReaderTimeout(t *testing.T) {
	var n atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, QPS: -1, Timeout: 100 * time.Millisecond,
		ContentConfig: rest.ContentConfig{AcceptContentTypes: "application/vnd.kubernetes.protobuf", ContentType: "application/vnd.kubernetes.protobuf"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = podPages(kube)(context.Background(), metav1.ListOptions{Limit: 3})
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("error %v, want a timeout", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
