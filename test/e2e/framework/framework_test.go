package framework_test

import (
	"context"
	"errors"
	"fmt"
	authorizationv1 "k8s.io/api/authorization/v1"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// k8s.io/api no longer has PSP types; the v1.24 server still serves them.
var pspResource = schema.GroupVersionResource{Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies"}

const restrictedPSP = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: ["ALL"]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  volumes: ["configMap", "emptyDir", "projected", "secret", "downwardAPI"]
`

// podRBAC lets the namespace's service accounts create pods and `use` the
// restricted PSP. A Role suffices for `use`: PSP admission asks RBAC in the
// pod's namespace.
// saReview asks whether namespace's default service account may do verb.
func saReview(ns, verb, group, resource, name string) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + ns + ":default",
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Name: name},
	}
}

func podRBAC(ns string) string {
	return fmt.Sprintf(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods-restricted, namespace: %[1]s}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "get", "list"]
- apiGroups: ["policy"]
  resources: ["podsecuritypolicies"]
  resourceNames: ["restricted"]
  verbs: ["use"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pods-restricted, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods-restricted}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:%[1]s"}
`, ns)
}

func pod(ns, name string, privileged bool) *corev1.Pod {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: new(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if privileged {
		sc = &corev1.SecurityContext{Privileged: new(true)}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: new(true), RunAsUser: new(int64(1000))},
			Containers:      []corev1.Container{{Name: "app", Image: "registry.example/app:1", SecurityContext: sc}},
		},
	}
}

func clientset(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("build clientset: %v", err)
	}
	return cs
}

func checkServerVersion(t *testing.T, c *framework.Cluster) {
	t.Helper()
	info, err := c.AdminClient(t).Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("get server version: %v", err)
	}
	if !strings.HasPrefix(info.GitVersion, c.Version()+".") {
		t.Errorf("server version %s, want %s.x", info.GitVersion, c.Version())
	}
}

func TestStartV124PodSecurityPolicy(t *testing.T) {
	const ns = "psp-smoke"
	c := framework.Start(t, framework.Options{
		Version: "v1.24",
		Users:   map[string][]string{"alice": {"developers"}},
	})
	checkServerVersion(t, c)
	c.CreateNamespace(t, ns)

	dyn, err := dynamic.NewForConfig(c.AdminConfig())
	if err != nil {
		t.Fatalf("build dynamic client: %v", err)
	}
	objs, err := c.CreateYAML(t.Context(), c.AdminConfig(), []byte(restrictedPSP))
	if err != nil {
		t.Fatalf("create PSP: %v", err)
	}
	if _, err := dyn.Resource(pspResource).Get(t.Context(), objs[0].GetName(), metav1.GetOptions{}); err != nil {
		t.Fatalf("get PSP via dynamic client: %v", err)
	}
	c.ApplyYAML(t, []byte(podRBAC(ns)))
	c.WaitForAccess(t, saReview(ns, "create", "", "pods", ""), saReview(ns, "use", "policy", "podsecuritypolicies", "restricted"))

	sa := clientset(t, c.Impersonate(ns, "default"))

	t.Run("unprivileged pod is admitted by the restricted PSP", func(t *testing.T) {
		got, err := sa.CoreV1().Pods(ns).Create(t.Context(), pod(ns, "plain", false), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create unprivileged pod as service account: %v", err)
		}
		if psp := got.Annotations["kubernetes.io/psp"]; psp != "restricted" {
			t.Errorf("annotation kubernetes.io/psp = %q, want %q", psp, "restricted")
		}
	})

	t.Run("privileged pod is rejected by PodSecurityPolicy", func(t *testing.T) {
		_, err := sa.CoreV1().Pods(ns).Create(t.Context(), pod(ns, "privileged", true), metav1.CreateOptions{})
		if err == nil {
			t.Fatal("privileged pod was admitted")
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurityPolicy: unable to admit pod") ||
			!strings.Contains(err.Error(), "Privileged containers are not allowed") {
			t.Fatalf("want a PodSecurityPolicy rejection of the privileged container, got: %v", err)
		}
	})

	t.Run("kubectl uses the per-user kubeconfigs", func(t *testing.T) {
		out, errOut, err := c.Kubectl(t, framework.AdminUser, "get", "pods", "-n", ns, "-o", "name")
		if err != nil {
			t.Fatalf("kubectl get pods as admin: %v\n%s", err, errOut)
		}
		if strings.TrimSpace(out) != "pod/plain" {
			t.Errorf("kubectl get pods = %q, want pod/plain", out)
		}
		_, errOut, err = c.Kubectl(t, "alice", "get", "pods", "-n", ns)
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || !strings.Contains(errOut, `User "alice" cannot list resource "pods"`) {
			t.Errorf("kubectl get pods as alice: want forbidden, got err=%v stderr=%q", err, errOut)
		}
	})
}

const denyPrivilegedVAP = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: deny-privileged}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods"]
  validations:
  - expression: >-
      object.spec.containers.all(c, !has(c.securityContext) ||
      !has(c.securityContext.privileged) || !c.securityContext.privileged)
    message: privileged containers are not allowed here
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: deny-privileged}
spec:
  policyName: deny-privileged
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: vap-smoke}
`

// TestStartV130ValidatingAdmissionPolicy is skipped unless the v1.30
// kube-apiserver is configured:
// PSP_MIGRATE_E2E_VERSIONS="v1.24.17 v1.30.14" hack/e2e-env.sh.
func TestStartV130ValidatingAdmissionPolicy(t *testing.T) {
	const ns = "vap-smoke"
	c := framework.Start(t, framework.Options{Version: "v1.30"})
	checkServerVersion(t, c)

	if _, err := c.AdminClient(t).Discovery().ServerResourcesForGroupVersion("policy/v1beta1"); !apierrors.IsNotFound(err) {
		t.Errorf("policy/v1beta1 discovery on v1.30: want NotFound (PSP removed in v1.25), got %v", err)
	}

	c.CreateNamespace(t, ns)
	c.ApplyYAML(t, []byte(denyPrivilegedVAP))
	c.ApplyYAML(t, []byte(podRBAC(ns)))
	c.WaitForAccess(t, saReview(ns, "create", "", "pods", ""))
	sa := clientset(t, c.Impersonate(ns, "default"))

	// A new policy is enforced once the server's informer has loaded and
	// type-checked it, a moment after the create returns.
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, err = sa.CoreV1().Pods(ns).Create(t.Context(), pod(ns, "privileged", true), dryRun)
		if err != nil {
			break
		}
		sleep(t.Context(), 200*time.Millisecond)
	}
	if err == nil || !strings.Contains(err.Error(), "privileged containers are not allowed here") {
		t.Fatalf("privileged pod: want the ValidatingAdmissionPolicy's denial, got %v", err)
	}

	if _, err := sa.CoreV1().Pods(ns).Create(t.Context(), pod(ns, "plain", false), metav1.CreateOptions{}); err != nil {
		t.Fatalf("unprivileged pod: %v", err)
	}
	list, err := c.AdminClient(t).CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	if len(list.Items) != 1 {
		t.Errorf("pods stored: %d, want 1 (the dry run must store nothing)", len(list.Items))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
