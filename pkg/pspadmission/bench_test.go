package pspadmission

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// syntheticCluster is 50 PSPs (restricted, baseline-like and privileged
// variants), RBAC that gives every service account about ten of them, and
// 10,000 pods in 20 namespaces with a mix of compliant, mutated and
// rejected specs.
func syntheticCluster() ([]psp.PodSecurityPolicy, *rbac.Index, []*corev1.Pod) {
	var psps []psp.PodSecurityPolicy
	var roles []rbacv1.ClusterRole
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("psp-%02d", i)
		var p psp.PodSecurityPolicy
		switch i % 5 {
		case 0:
			p = restricted(name)
		case 1:
			p = mutating(name)
		case 2:
			p = permissive(name, func(p *psp.PodSecurityPolicy) {
				p.Spec.Volumes = []psp.FSType{psp.ConfigMap, psp.Secret, psp.EmptyDir, psp.Projected}
				p.Spec.AllowedCapabilities = []corev1.Capability{"NET_BIND_SERVICE"}
				p.Spec.HostPorts = []psp.HostPortRange{{Min: 8000, Max: 9000}}
			})
		case 3:
			p = permissive(name, func(p *psp.PodSecurityPolicy) {
				p.Spec.RunAsUser = psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1000, Max: 65535}}}
				p.Spec.ReadOnlyRootFilesystem = true
				p.Spec.DefaultAddCapabilities = []corev1.Capability{"CHOWN"}
			})
		case 4:
			p = permissive(name, func(p *psp.PodSecurityPolicy) {
				p.Spec.Privileged, p.Spec.HostNetwork, p.Spec.HostPID = true, true, true
				p.Spec.AllowedCapabilities = []corev1.Capability{"*"}
				p.Spec.HostPorts = []psp.HostPortRange{{Min: 0, Max: 65535}}
			})
		}
		psps = append(psps, p)
		roles = append(roles, rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "use-" + name},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{name}}},
		})
	}
	var bindings []rbacv1.RoleBinding
	for ns := 0; ns < 20; ns++ {
		for k := 0; k < 10; k++ {
			bindings = append(bindings, rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b%d", k), Namespace: fmt.Sprintf("ns%d", ns)},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: fmt.Sprintf("use-psp-%02d", (ns*3+k*5)%50)},
				Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:serviceaccounts:" + fmt.Sprintf("ns%d", ns)}},
			})
		}
	}
	ix := rbac.NewIndex(roles, nil, nil, bindings)

	pods := make([]*corev1.Pod, 10000)
	for i := range pods {
		pod := newPod(func(p *corev1.Pod) {
			p.Name = fmt.Sprintf("pod-%d", i)
			p.Namespace = fmt.Sprintf("ns%d", i%20)
			p.Spec.AutomountServiceAccountToken = nil
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Image: "envoy:1",
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}}})
			p.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}
			switch i % 4 {
			case 0: // complies with restricted
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), FSGroup: ptr(int64(1000)), SupplementalGroups: []int64{1000},
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
				for j := range p.Spec.Containers {
					p.Spec.Containers[j].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false),
						Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
				}
			case 1: // needs defaults
			case 2: // privileged
				p.Spec.HostNetwork = true
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
			case 3: // host path
				p.Spec.Volumes = append(p.Spec.Volumes, hostPathVolume("logs", "/var/log"))
			}
		})
		pods[i] = pod
	}
	return psps, ix, pods
}

// BenchmarkEvaluate decides on 10,000 pods against 50 PSPs per iteration.
func BenchmarkEvaluate(b *testing.B) {
	psps, ix, pods := syntheticCluster()
	for _, bc := range []struct {
		name     string
		prepared bool
	}{{"templates", false}, {"stored", true}} {
		b.Run(bc.name, func(b *testing.B) {
			reqs := make([]Request, len(pods))
			for i, p := range pods {
				reqs[i] = Request{Pod: p, Prepared: bc.prepared}
				if bc.prepared {
					reqs[i].Pod = Prepare(p, nil)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for n := 0; n < b.N; n++ {
				// A fresh evaluator per iteration, as per audit.
				e, _ := NewEvaluator(psps, tableFor(ix, psps))
				for i := range reqs {
					e.Evaluate(reqs[i])
				}
			}
			b.ReportMetric(float64(b.N*len(reqs))/time.Since(start).Seconds(), "pods/s")
		})
	}
}

func TestSyntheticClusterOutcomes(t *testing.T) {
	psps, ix, pods := syntheticCluster()
	e, invalid := NewEvaluator(psps, tableFor(ix, psps))
	if len(invalid) > 0 {
		t.Fatalf("invalid: %+v", invalid)
	}
	admitted, mutated := 0, 0
	for _, p := range pods {
		r := e.Evaluate(Request{Pod: p})
		if r.AdmittedBy != nil {
			admitted++
		}
		if r.Mutated {
			mutated++
		}
	}
	// The benchmark should exercise all three outcomes.
	if admitted == 0 || admitted == len(pods) || mutated == 0 {
		t.Errorf("admitted %d, mutated %d of %d", admitted, mutated, len(pods))
	}
	t.Logf("admitted %d, mutated %d of %d", admitted, mutated, len(pods))
}
