package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// The corpus of the translation suite (test/e2e/testdata/translate-corpus).
const (
	trCorpusDir = "testdata/translate-corpus"
	// trExpectAnnotation lists, per PSP, the rule IDs a pod should fail:
	// "restricted:privileged,hostPorts baseline:".
	trExpectAnnotation = "psp-migrate.test/expect"
	// trExpectRBACAnnotation is "allow" or "deny" under --scope rbac.
	trExpectRBACAnnotation = "psp-migrate.test/expect-rbac"
	trMinPods              = 60
)

// trCorpus is the translation corpus, typed.
type trCorpus struct {
	clusterYAML []byte
	pspYAML     []byte
	// pods as written, in file order, with their ephemeral containers.
	pods []*corev1.Pod
	// inv holds the PSPs, the cluster objects and the pods.
	inv *inventory.Inventory
	// serviceAccounts by "namespace/name".
	serviceAccounts map[string]*corev1.ServiceAccount
}

func loadTranslateCorpus(t testing.TB) *trCorpus {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(trCorpusDir, name))
		if err != nil {
			t.Fatalf("read corpus: %v", err)
		}
		return b
	}
	c := &trCorpus{clusterYAML: read("cluster.yaml"), pspYAML: read("psps.yaml"), serviceAccounts: map[string]*corev1.ServiceAccount{}}
	podYAML := read("pods.yaml")
	var all []manifest.Object
	for _, f := range []struct {
		name string
		data []byte
	}{{"psps.yaml", c.pspYAML}, {"cluster.yaml", c.clusterYAML}, {"pods.yaml", podYAML}} {
		objs, err := manifest.Decode(f.data, f.name)
		if err != nil {
			t.Fatalf("decode corpus: %v", err)
		}
		for _, o := range objs {
			if f.name != "pods.yaml" {
				continue
			}
			pod := &corev1.Pod{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object.Object, pod, true); err != nil {
				t.Fatalf("%s: %v", o.Location(), err)
			}
			c.pods = append(c.pods, pod)
		}
		all = append(all, objs...)
	}
	inv, err := inventory.FromObjects(all)
	if err != nil {
		t.Fatalf("corpus inventory: %v", err)
	}
	c.inv = inv
	for i := range inv.ServiceAccounts {
		sa := &inv.ServiceAccounts[i]
		c.serviceAccounts[sa.Namespace+"/"+sa.Name] = sa
	}
	return c
}

// prepared is the pod as validating admission (the engines' webhooks and
// CEL admission) will see it when created in namespace on the release the
// predictions assume (translate.Options.PSSVersion's default, "latest";
// the VAP tests' v1.30 server turns ProcMountType on, as "latest" has it):
// API defaults, ServiceAccount admission and the pod registry's changes
// (pspadmission.ValidatingView). Ephemeral containers stay, as they are
// after the pods/ephemeralcontainers update.
func (c *trCorpus) prepared(pod *corev1.Pod, namespace string) *corev1.Pod {
	p := pod.DeepCopy()
	p.Namespace = namespace
	// The service account object of the pod's own namespace decides the
	// token; the per-PSP namespaces get copies of every account.
	sa := c.serviceAccounts[pod.Namespace+"/"+serviceAccountName(p)]
	latest := buildinfo.LatestPSSVersion()
	return pspadmission.ValidatingView(p, sa, latest.Minor())
}

func serviceAccountName(p *corev1.Pod) string {
	if p.Spec.ServiceAccountName != "" {
		return p.Spec.ServiceAccountName
	}
	return "default"
}

// parseExpect reads the expect annotation: PSP name -> rule IDs.
func parseExpect(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range strings.Fields(s) {
		name, ids, ok := strings.Cut(f, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("bad entry %q: want psp:rule,rule", f)
		}
		var list []string
		if ids != "" {
			list = strings.Split(ids, ",")
		}
		sort.Strings(list)
		out[name] = list
	}
	return out, nil
}

// failedIDs runs one PSP's rules on a pod and returns the IDs of the failed
// rules, sorted.
func failedIDs(pol *translate.Policy, pod *corev1.Pod) []string {
	var out []string
	for _, r := range pol.Rules {
		if !r.Allows(pod) {
			out = append(out, r.ID())
		}
	}
	sort.Strings(out)
	return out
}

func policyByName(set *translate.PolicySet, name string) *translate.Policy {
	for i := range set.Policies {
		if set.Policies[i].Name == name {
			return &set.Policies[i]
		}
	}
	return nil
}

// TestTranslateCorpusIntent checks the corpus' stated intentions against the
// Go evaluator, without a cluster: each pod fails exactly the rules its
// annotation names, and --scope rbac admits or rejects it as stated. The
// cluster tests then hold the evaluator to what the API server does.
func TestTranslateCorpusIntent(t *testing.T) {
	c := loadTranslateCorpus(t)
	if len(c.pods) < trMinPods {
		t.Errorf("corpus has %d pods, want at least %d", len(c.pods), trMinPods)
	}
	cluster, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	rbacSet, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeRBAC})
	if err != nil {
		t.Fatal(err)
	}
	if len(cluster.Skipped) != 1 || cluster.Skipped[0].Name != "zz-broken" {
		t.Errorf("skipped PSPs = %+v, want zz-broken only", cluster.Skipped)
	}
	seen := map[string]bool{}
	for _, pod := range c.pods {
		key := pod.Namespace + "/" + pod.Name
		if seen[key] {
			t.Errorf("%s: duplicate pod", key)
		}
		seen[key] = true
		t.Run(pod.Name, func(t *testing.T) {
			want, err := parseExpect(pod.Annotations[trExpectAnnotation])
			if err != nil {
				t.Fatalf("%s: %v", trExpectAnnotation, err)
			}
			if len(want) == 0 {
				t.Fatalf("no %s annotation", trExpectAnnotation)
			}
			p := c.prepared(pod, pod.Namespace)
			for name, ids := range want {
				pol := policyByName(cluster, name)
				if pol == nil {
					t.Fatalf("expectation names unknown PSP %q", name)
				}
				if got := failedIDs(pol, p); !slices.Equal(got, ids) {
					t.Errorf("%s: fails %v, want %v", name, got, ids)
				}
			}
			if exp, ok := pod.Annotations[trExpectRBACAnnotation]; ok {
				v := rbacSet.Evaluate(p, nil)
				if got := map[bool]string{true: "allow", false: "deny"}[v.Allowed]; got != exp {
					t.Errorf("--scope rbac: %s (%s), want %s", got, v.Message, exp)
				}
			}
		})
	}
}

// TestTranslateCorpusCoversEveryRule: every rule ID of the model is failed by
// some pod and passed by another, for some PSP of the corpus.
func TestTranslateCorpusCoversEveryRule(t *testing.T) {
	c := loadTranslateCorpus(t)
	set, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	passed, failed := map[string]int{}, map[string]int{}
	for _, pod := range c.pods {
		p := c.prepared(pod, pod.Namespace)
		for _, pol := range set.Policies {
			for _, r := range pol.Rules {
				if r.Allows(p) {
					passed[r.ID()]++
				} else {
					failed[r.ID()]++
				}
			}
		}
	}
	for _, id := range trAllRuleIDs {
		if passed[id] == 0 || failed[id] == 0 {
			t.Errorf("rule %s: passed by %d, failed by %d (pod, PSP) pairs; want both", id, passed[id], failed[id])
		}
	}
	for id := range failed {
		if !slices.Contains(trAllRuleIDs, id) {
			t.Errorf("rule %s is not in trAllRuleIDs", id)
		}
	}
}

// trAllRuleIDs is every rule ID the model has.
var trAllRuleIDs = []string{
	"privileged", "hostNetwork", "hostPID", "hostIPC", "hostPorts", "volumes",
	"allowedHostPaths", "allowedHostPaths.readOnly", "allowedFlexVolumes", "allowedCSIDrivers",
	"runAsUser", "runAsGroup", "fsGroup", "supplementalGroups", "seLinux",
	"allowedCapabilities", "requiredDropCapabilities", "readOnlyRootFilesystem",
	"allowPrivilegeEscalation", "defaultAllowPrivilegeEscalation",
	"forbiddenSysctls", "allowedUnsafeSysctls", "allowedProcMountTypes", "runtimeClass",
	"seccomp", "appArmor",
}

// offlinePods are pods the API server's validation rejects before any
// webhook or CEL admission sees them, so only the offline engines (the
// Kyverno CLI, gator) judge them: their verdicts must still follow the
// model, as an audit of manifests relies on them. Each is h-ok (which
// hostaccess admits; hostaccess allows secret volumes and not projected
// ones, so only the service account token's projection is admitted)
// without the host PID namespace and host port that gatekeeper's rendering
// of hostaccess must reject (approximations), with one projected volume whose single source sets several fields, which the
// server refuses ("may not specify more than 1 volume type"). Every field
// set counts: a token beside a foreign ConfigMap is not the token volume.
func (c *trCorpus) offlinePods(t testing.TB) []*corev1.Pod {
	t.Helper()
	var base *corev1.Pod
	for _, p := range c.pods {
		if p.Name == "h-ok" {
			base = p
		}
	}
	if base == nil {
		t.Fatal("corpus has no pod h-ok")
	}
	token := &corev1.ServiceAccountTokenProjection{Path: psp.ServiceAccountTokenPath}
	rootCA := &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: psp.RootCAConfigMap}}
	namespace := &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: psp.NamespaceFilePath, FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}
	foreign := &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}
	var out []*corev1.Pod
	for _, tc := range []struct {
		name   string
		source corev1.VolumeProjection
		expect string
	}{
		{"x-token-source-with-foreign-configmap", corev1.VolumeProjection{ServiceAccountToken: token, ConfigMap: foreign}, "hostaccess:volumes"},
		{"x-token-source-with-root-ca-and-namespace", corev1.VolumeProjection{ServiceAccountToken: token, ConfigMap: rootCA, DownwardAPI: namespace}, "hostaccess:"},
	} {
		p := base.DeepCopy()
		p.Name = tc.name
		p.Annotations = map[string]string{trExpectAnnotation: tc.expect}
		p.Spec.HostPID = false
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].Ports = nil
		}
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{
			Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{tc.source}}}})
		out = append(out, p)
	}
	return out
}

// TestTranslateOfflinePodsIntent holds offlinePods to their stated
// intentions with the Go evaluator, as TestTranslateCorpusIntent does for
// the corpus.
func TestTranslateOfflinePodsIntent(t *testing.T) {
	c := loadTranslateCorpus(t)
	set, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range c.offlinePods(t) {
		t.Run(pod.Name, func(t *testing.T) {
			want, err := parseExpect(pod.Annotations[trExpectAnnotation])
			if err != nil {
				t.Fatal(err)
			}
			p := c.prepared(pod, pod.Namespace)
			for name, ids := range want {
				if got := failedIDs(policyByName(set, name), p); !slices.Equal(got, ids) {
					t.Errorf("%s: fails %v, want %v", name, got, ids)
				}
			}
		})
	}
}
