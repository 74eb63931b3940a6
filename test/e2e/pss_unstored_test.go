package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"

	auditrun "github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

const pssUnstoredFile = "testdata/pss-unstored/objects.yaml"

// pssUnstoredLevels are the levels the real servers' PodSecurity enforced,
// as the corpus notes them: if a server ever disagrees, the corpus' claims
// (and the issue they come from) need a second look.
var pssUnstoredLevels = map[string]map[string]string{
	"v1.24": {
		"seccomp-annotation":           pss.Restricted,
		"seccomp-unconfined":           pss.Privileged,
		"seccomp-container-unconfined": pss.Privileged,
		"seccomp-field":                pss.Restricted,
		"procmount-unmasked":           pss.Baseline,
		"apparmor-field-unconfined":    pss.Baseline,
		"apparmor-annotation":          pss.Restricted,
		"no-token":                     pss.Restricted,
		"host-network-port":            pss.Privileged,
		"seccomp-annotation-deploy":    pss.Restricted,
	},
	"v1.30": {
		"seccomp-annotation":           pss.Baseline,
		"seccomp-unconfined":           pss.Baseline,
		"seccomp-container-unconfined": pss.Baseline,
		"seccomp-field":                pss.Restricted,
		"procmount-unmasked":           pss.Baseline,
		"apparmor-field-unconfined":    pss.Privileged,
		"apparmor-annotation":          pss.Restricted,
		"no-token":                     pss.Restricted,
		"host-network-port":            pss.Privileged,
		"seccomp-annotation-deploy":    pss.Baseline,
	},
}

// warningRecorder keeps the API server's warnings (the Warning response
// headers) of the last request.
type warningRecorder struct {
	mu   sync.Mutex
	last []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = append(w.last, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.last
	w.last = nil
	return out
}

// TestUnstoredPodsPSSAgainstRealAPIServer: pods never stored (manifests,
// no metadata.uid) are evaluated by the audit as the API server of the
// release they will be created on sees them: after defaulting,
// ServiceAccount admission and the pod registry's changes (the seccomp
// annotation/field sync, fields of disabled feature gates dropped). For
// every pod of testdata/pss-unstored and the pod its Deployment's
// controller submits, on a real v1.24 (PSP admission off, so PodSecurity
// decides alone) and v1.30:
//
//   - the level PodSecurity admission enforces (dry-run creates in
//     namespaces that enforce baseline and restricted at the server's
//     release) equals the audit's level with --pss-version at that release;
//   - the security fields the server stores equal those of
//     pspadmission.ValidatingView, and so does the token volume;
//   - on v1.30 the server warns that a seccomp annotation is
//     non-functional.
func TestUnstoredPodsPSSAgainstRealAPIServer(t *testing.T) {
	data, err := os.ReadFile(pssUnstoredFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"v1.24", "v1.30"} {
		t.Run(version, func(t *testing.T) {
			checkUnstoredPSS(t, version, data)
		})
	}
}

func checkUnstoredPSS(t *testing.T, version string, data []byte) {
	minor, err := pss.Minor(version)
	if err != nil {
		t.Fatal(err)
	}
	c := framework.Start(t, framework.Options{Version: version, WithoutPSP: true})
	ctx := t.Context()
	c.ApplyYAML(t, data[:strings.Index(string(data), "\n---\n")+1]) // the namespace
	levels := []string{pss.Baseline, pss.Restricted}
	for _, level := range levels {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "pss-" + level, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce":         level,
			"pod-security.kubernetes.io/enforce-version": version,
		}}}
		if _, err := c.AdminClient(t).CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "pss-" + level}}
		if _, err := c.AdminClient(t).CoreV1().ServiceAccounts("pss-"+level).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	warnings := &warningRecorder{}
	cfg := c.AdminConfig()
	cfg.WarningHandler = warnings
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// The model: the audit of the same file at the server's release.
	objs, err := manifest.Decode(data, filepath.Base(pssUnstoredFile))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := auditrun.Run(inv, auditrun.Options{PSSVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	modelLevel := map[string]string{}
	for _, p := range rep.Pods {
		modelLevel[p.Name] = p.PSS.Level
	}
	for _, w := range rep.Workloads {
		if w.Kind == "Deployment" && w.TemplatePSS != nil {
			modelLevel[w.Name] = w.TemplatePSS.Level
		}
	}

	// The pods to create: each Pod, and for the Deployment the pod its
	// controller would submit (template metadata and spec).
	// FromObjects consumed objs.
	if objs, err = manifest.Decode(data, filepath.Base(pssUnstoredFile)); err != nil {
		t.Fatal(err)
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		switch o.Object.GetKind() {
		case "Pod":
			var p corev1.Pod
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object.Object, &p); err != nil {
				t.Fatal(err)
			}
			pods = append(pods, &p)
		case "Deployment":
			tmpl, _, err := unstructured.NestedMap(o.Object.Object, "spec", "template")
			if err != nil {
				t.Fatal(err)
			}
			var p corev1.Pod
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &p); err != nil {
				t.Fatal(err)
			}
			p.Name, p.Namespace = o.Object.GetName(), o.Object.GetNamespace()
			pods = append(pods, &p)
		}
	}
	if len(pods) < 8 {
		t.Fatalf("corpus has %d pods, want the whole of %s", len(pods), pssUnstoredFile)
	}

	create := func(p *corev1.Pod, ns string) (*corev1.Pod, []string, error) {
		q := p.DeepCopy()
		q.Namespace = ns
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(q)
		if err != nil {
			return nil, nil, err
		}
		warnings.take()
		out, err := client.Resource(pspPodsGVR).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: u}, pspDryRun)
		w := warnings.take()
		if err != nil {
			return nil, w, err
		}
		var stored corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(out.Object, &stored); err != nil {
			return nil, w, err
		}
		return &stored, w, nil
	}

	var problems []string
	agree := 0
	for _, p := range pods {
		// The level PodSecurity enforces.
		server := pss.Privileged
		for _, level := range levels {
			_, _, err := create(p, "pss-"+level)
			switch {
			case err == nil:
				server = level
			case !strings.Contains(err.Error(), "violates PodSecurity"):
				t.Fatalf("pod %s in pss-%s: rejected by something other than PodSecurity (fix the corpus): %v", p.Name, level, err)
			}
		}
		t.Logf("%s %s: PodSecurity enforces %s, the audit says %s", version, p.Name, server, modelLevel[p.Name])
		ok := true
		if want := pssUnstoredLevels[version][p.Name]; want != server {
			t.Errorf("pod %s: the server's level is %s, the corpus says %s (fix the corpus note)", p.Name, server, want)
		}
		if modelLevel[p.Name] != server {
			problems = append(problems, p.Name+": server level "+server+", audit "+modelLevel[p.Name])
			ok = false
		}

		// The stored security fields and the token volume.
		stored, warns, err := create(p, "pss")
		if err != nil {
			t.Fatalf("pod %s in pss: %v", p.Name, err)
		}
		view := pspadmission.ValidatingView(p, nil, minor)
		want, got := pspSecurityFields(stored), pspSecurityFields(view)
		for _, k := range pssSortedKeys(want, got) {
			if want[k] != got[k] {
				problems = append(problems, p.Name+": "+k+": server "+quoteOrUnset(want, k)+", model "+quoteOrUnset(got, k))
				ok = false
			}
		}
		if hasTokenVolume(stored) != hasTokenVolume(view) {
			problems = append(problems, p.Name+": token volume: server "+boolString(hasTokenVolume(stored))+", model "+boolString(hasTokenVolume(view)))
			ok = false
		}
		_, annotated := p.Annotations["seccomp.security.alpha.kubernetes.io/pod"]
		for k := range p.Annotations {
			annotated = annotated || strings.HasPrefix(k, "container.seccomp.security.alpha.kubernetes.io/")
		}
		warned := strings.Contains(strings.Join(warns, "\n"), "non-functional in v1.27+")
		if annotated && minor >= 27 && !warned {
			problems = append(problems, p.Name+": no warning that the seccomp annotation is non-functional: "+strings.Join(warns, "; "))
			ok = false
		}
		if ok {
			agree++
		}
	}
	t.Logf("%s: the audit agrees with the real server on %d/%d pods never stored", version, agree, len(pods))
	for _, pr := range problems {
		t.Error(pr)
	}
}

func pssSortedKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func quoteOrUnset(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return "\"" + v + "\""
	}
	return "unset"
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func hasTokenVolume(p *corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") && v.Projected != nil {
			return true
		}
	}
	return false
}
