package pspadmission

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// admitRuntimeClass reproduces the RuntimeClass admission plugin, which runs
// after PSP in the mutating chain (so it sees a runtimeClassName a PSP
// defaulted) and again in the validating chain. It returns the server's
// rejection message, or "" when the pod passes; pod is updated as the
// plugin updates it. Without RuntimeClass knowledge (no option given) only
// the class-independent overhead rule applies.
func (e *Evaluator) admitRuntimeClass(pod *corev1.Pod) string {
	rcName := pod.Spec.RuntimeClassName
	if rcName == nil {
		if pod.Spec.Overhead != nil {
			return "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"
		}
		return ""
	}
	if e.runtimeClasses == nil {
		return ""
	}
	rc, exists := e.runtimeClasses[*rcName]
	if !exists {
		return fmt.Sprintf("pod rejected: RuntimeClass %q not found", *rcName)
	}
	if rc == nil {
		// Known by name only: its overhead and scheduling are unknown.
		return ""
	}
	if rc.Overhead != nil {
		if pod.Spec.Overhead != nil && !apiequality.Semantic.DeepEqual(rc.Overhead.PodFixed, pod.Spec.Overhead) {
			return "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
		}
		pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	} else if pod.Spec.Overhead != nil {
		return "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"
	}
	if rc.Scheduling == nil {
		return ""
	}
	// The pod is a shallow security copy: its selector map may still be the
	// caller's, so merge into a fresh one.
	selector := make(map[string]string, len(pod.Spec.NodeSelector)+len(rc.Scheduling.NodeSelector))
	for k, v := range pod.Spec.NodeSelector {
		selector[k] = v
	}
	// Upstream walks the class's selector in map order, so with several
	// conflicting keys it names a random one; sorted keys keep this stable.
	keys := make([]string, 0, len(rc.Scheduling.NodeSelector))
	for k := range rc.Scheduling.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := rc.Scheduling.NodeSelector[k]
		if have, ok := selector[k]; ok && have != want {
			return fmt.Sprintf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, want, k, have)
		}
		selector[k] = want
	}
	pod.Spec.NodeSelector = selector
	pod.Spec.Tolerations = mergeTolerations(pod.Spec.Tolerations, rc.Scheduling.Tolerations)
	return ""
}

// mergeTolerations appends the class's tolerations the pod does not already
// carry. Tolerations are not security fields; this only keeps the stored pod
// faithful.
func mergeTolerations(pod, extra []corev1.Toleration) []corev1.Toleration {
	out := append([]corev1.Toleration(nil), pod...)
	for _, t := range extra {
		dup := false
		for _, have := range out {
			if apiequality.Semantic.DeepEqual(have, t) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}
