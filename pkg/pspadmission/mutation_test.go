package pspadmission

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func TestMutationNotions(t *testing.T) {
	seccompAllowed := func(name string) psp.PodSecurityPolicy {
		return permissive(name, func(p *psp.PodSecurityPolicy) {
			p.Annotations = map[string]string{psp.SeccompAllowedProfilesAnnotation: "runtime/default"}
		})
	}
	runtimeDefault := podSC(func(sc *corev1.PodSecurityContext) {
		sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	})
	tests := []struct {
		name        string
		psps        []psp.PodSecurityPolicy
		pod         *corev1.Pod
		want        string
		wantMutated bool
		wantFields  []FieldChange
	}{{
		// The plugin copies the seccomp field into the pod annotation, so
		// every PSP "mutates" the pod and the first by name wins, but the
		// API server would have added that annotation anyway.
		name: "seccomp field: mutated for the plugin, not for the user",
		psps: []psp.PodSecurityPolicy{seccompAllowed("b"), seccompAllowed("a")},
		pod:  newPod(runtimeDefault),
		want: "a",
	}, {
		name:        "runAsNonRoot injected",
		psps:        []psp.PodSecurityPolicy{mutating("a")},
		pod:         newPod(),
		want:        "a",
		wantMutated: true,
		wantFields:  []FieldChange{{Path: "spec.containers[name=app].securityContext.runAsNonRoot", Before: "", After: "true"}},
	}, {
		name:        "the restricted PSP",
		psps:        []psp.PodSecurityPolicy{restricted("restricted")},
		pod:         newPod(),
		want:        "restricted",
		wantMutated: true,
		wantFields: []FieldChange{
			{Path: "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]", Before: "", After: "runtime/default"},
			{Path: "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", Before: "", After: "runtime/default"},
			{Path: "spec.securityContext.fsGroup", Before: "", After: "1"},
			{Path: "spec.securityContext.seccompProfile.type", Before: "", After: "RuntimeDefault"},
			{Path: "spec.securityContext.supplementalGroups", Before: "", After: "[1]"},
			{Path: "spec.containers[name=app].securityContext.allowPrivilegeEscalation", Before: "", After: "false"},
			{Path: "spec.containers[name=app].securityContext.capabilities.drop", Before: "", After: `["ALL"]`},
			{Path: "spec.containers[name=app].securityContext.runAsNonRoot", Before: "", After: "true"},
		},
	}, {
		name: "a pod that already complies with restricted",
		psps: []psp.PodSecurityPolicy{restricted("restricted")},
		pod: newPod(
			annotate(psp.AppArmorContainerAnnotationPrefix+"app", "runtime/default"),
			podSC(func(sc *corev1.PodSecurityContext) {
				sc.FSGroup = ptr(int64(1000))
				sc.SupplementalGroups = []int64{1000}
				sc.RunAsNonRoot = ptr(true)
				sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			}),
			containerSC(func(sc *corev1.SecurityContext) {
				sc.AllowPrivilegeEscalation = ptr(false)
				sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
			})),
		want: "restricted",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := NewEvaluator(tt.psps, nil)
			r := e.Evaluate(Request{Pod: tt.pod})
			if got := admittedBy(r); got != tt.want {
				t.Fatalf("admitted by %q, want %q: %s", got, tt.want, r.Reason)
			}
			if r.Mutated != tt.wantMutated {
				t.Errorf("Mutated = %v", r.Mutated)
			}
			want := tt.wantFields
			if want == nil {
				want = []FieldChange{}
			}
			if !reflect.DeepEqual(r.MutatedFields, want) {
				t.Errorf("MutatedFields:\n got  %+v\n want %+v", r.MutatedFields, want)
			}
		})
	}
}

// TestMutatedFlagIsSemanticEquality checks the tracked mutation flag
// against what upstream computes, apiequality.Semantic.DeepEqual of the pod
// before and after, on random pods and policies.
func TestMutatedFlagIsSemanticEquality(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		p := randomPSP(rng, fmt.Sprintf("p%d", i))
		pol, errs := compilePolicy(&p)
		if len(errs) > 0 {
			continue
		}
		pod := Prepare(randomPod(rng), nil)
		before := pod.DeepCopy()
		out, mutated, _ := pol.admit(pod)
		if semantic := !apiequality.Semantic.DeepEqual(pod, out); semantic != mutated {
			t.Fatalf("case %d: mutated = %v, semantic difference = %v\nPSP %+v\npod %+v\nout %+v", i, mutated, semantic, p.Spec, pod.Spec, out.Spec)
		}
		if !apiequality.Semantic.DeepEqual(pod, before) {
			t.Fatalf("case %d: admit changed its input", i)
		}
	}
}

func pickOne[T any](rng *rand.Rand, xs ...T) T { return xs[rng.Intn(len(xs))] }

func randomPSP(rng *rand.Rand, name string) psp.PodSecurityPolicy {
	ranges := []psp.IDRange{{Min: 1000, Max: 2000}}
	return permissive(name, func(p *psp.PodSecurityPolicy) {
		s := &p.Spec
		s.RunAsUser.Rule = pickOne(rng, psp.RunAsUserStrategyRunAsAny, psp.RunAsUserStrategyMustRunAsNonRoot, psp.RunAsUserStrategyMustRunAs)
		s.RunAsUser.Ranges = ranges
		if rng.Intn(2) == 0 {
			s.RunAsGroup = &psp.RunAsGroupStrategyOptions{Rule: pickOne(rng, psp.RunAsGroupStrategyMustRunAs, psp.RunAsGroupStrategyMayRunAs), Ranges: ranges}
		}
		s.FSGroup = psp.FSGroupStrategyOptions{Rule: pickOne(rng, psp.FSGroupStrategyRunAsAny, psp.FSGroupStrategyMustRunAs), Ranges: ranges}
		s.SupplementalGroups = psp.SupplementalGroupsStrategyOptions{Rule: pickOne(rng, psp.SupplementalGroupsStrategyRunAsAny, psp.SupplementalGroupsStrategyMustRunAs), Ranges: ranges}
		if rng.Intn(3) == 0 {
			s.SELinux = psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Level: "s0:c1,c2"}}
		}
		s.DefaultAddCapabilities = pickOne(rng, nil, []corev1.Capability{"CHOWN"}, []corev1.Capability{"NET_BIND_SERVICE", "CHOWN"})
		s.RequiredDropCapabilities = pickOne(rng, nil, []corev1.Capability{"ALL"}, []corev1.Capability{"NET_RAW"})
		s.ReadOnlyRootFilesystem = rng.Intn(3) == 0
		s.AllowPrivilegeEscalation = pickOne(rng, nil, ptr(true), ptr(false))
		if s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
			s.DefaultAllowPrivilegeEscalation = pickOne(rng, nil, ptr(true), ptr(false))
		}
		if rng.Intn(3) == 0 {
			s.RuntimeClass = &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}, DefaultRuntimeClassName: pickOne(rng, nil, ptr("gvisor"))}
		}
		p.Annotations = map[string]string{}
		if rng.Intn(2) == 0 {
			p.Annotations[psp.SeccompDefaultProfileAnnotation] = "runtime/default"
		}
		if rng.Intn(2) == 0 {
			p.Annotations[psp.AppArmorDefaultProfileAnnotation] = "runtime/default"
		}
	})
}

func randomPod(rng *rand.Rand) *corev1.Pod {
	return newPod(func(p *corev1.Pod) {
		if rng.Intn(3) == 0 {
			withInit(p)
		}
		if rng.Intn(4) == 0 {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}
		if rng.Intn(2) == 0 {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{
				RunAsUser:          pickOne(rng, nil, ptr(int64(0)), ptr(int64(1500))),
				RunAsNonRoot:       pickOne(rng, nil, ptr(true), ptr(false)),
				RunAsGroup:         pickOne(rng, nil, ptr(int64(1500))),
				FSGroup:            pickOne(rng, nil, ptr(int64(1500))),
				SupplementalGroups: pickOne(rng, nil, []int64{}, []int64{1500}),
				SELinuxOptions:     pickOne(rng, nil, &corev1.SELinuxOptions{Level: "s0:c2,c1"}),
				SeccompProfile:     pickOne(rng, nil, &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}),
			}
		}
		if rng.Intn(3) == 0 {
			p.Annotations = map[string]string{}
			if rng.Intn(2) == 0 {
				p.Annotations[psp.SeccompPodAnnotation] = pickOne(rng, "", "runtime/default")
			}
			if rng.Intn(2) == 0 {
				p.Annotations[psp.AppArmorContainerAnnotationPrefix+"app"] = pickOne(rng, "", "runtime/default")
			}
		}
		if rng.Intn(4) == 0 {
			p.Spec.RuntimeClassName = ptr("kata")
		}
		for i := range p.Spec.Containers {
			if rng.Intn(2) == 0 {
				continue
			}
			p.Spec.Containers[i].SecurityContext = &corev1.SecurityContext{
				RunAsUser:                pickOne(rng, nil, ptr(int64(1000))),
				RunAsNonRoot:             pickOne(rng, nil, ptr(true)),
				ReadOnlyRootFilesystem:   pickOne(rng, nil, ptr(true), ptr(false)),
				AllowPrivilegeEscalation: pickOne(rng, nil, ptr(true), ptr(false)),
				Capabilities: pickOne(rng, nil, &corev1.Capabilities{}, &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
					&corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "CHOWN"}, Drop: []corev1.Capability{"NET_RAW"}}),
			}
		}
	})
}
