package audit

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
)

type workloadKey struct{ namespace, kind, name string }

func (k workloadKey) less(o workloadKey) bool {
	if k.namespace != o.namespace {
		return k.namespace < o.namespace
	}
	if k.kind != o.kind {
		return k.kind < o.kind
	}
	return k.name < o.name
}

// controller is a pod-owning object with the template its pods come from.
type controller struct {
	key   workloadKey
	owner *metav1.OwnerReference
	// template is the controller's, without its namespace (key's): every
	// use of it says the namespace.
	template *corev1.PodTemplateSpec
}

// ownerIndex resolves pods to their top-level owner: Pod → ReplicaSet →
// Deployment, Pod → Job → CronJob, and the one-level StatefulSet, DaemonSet
// and ReplicationController.
type ownerIndex struct {
	byKey map[workloadKey]*controller
	list  []*controller
}

// maxOwnerDepth bounds the owner walk; real chains are at most three deep,
// and a cycle in hand-written manifests must not hang the audit.
const maxOwnerDepth = 8

func newOwnerIndex(inv *inventory.Inventory, namespace string) *ownerIndex {
	ix := &ownerIndex{byKey: map[workloadKey]*controller{}}
	add := func(kind string, meta *metav1.ObjectMeta, tmpl *corev1.PodTemplateSpec) {
		if namespace != "" && meta.Namespace != namespace {
			return
		}
		if tmpl == nil {
			tmpl = &corev1.PodTemplateSpec{}
		}
		c := &controller{
			key:      workloadKey{meta.Namespace, kind, meta.Name},
			owner:    metav1.GetControllerOfNoCopy(meta),
			template: tmpl,
		}
		ix.byKey[c.key] = c
		ix.list = append(ix.list, c)
	}
	for _, t := range inv.PodTemplates() {
		add(t.Kind, t.Meta, t.Template)
	}
	return ix
}

// parent returns the known controller that owns c, if any.
func (ix *ownerIndex) parent(c *controller) *controller {
	if c.owner == nil {
		return nil
	}
	return ix.byKey[workloadKey{c.key.namespace, c.owner.Kind, c.owner.Name}]
}

// topLevel returns the controllers that no known controller owns.
func (ix *ownerIndex) topLevel() []*controller {
	var out []*controller
	for _, c := range ix.list {
		if ix.parent(c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// top returns the key of the workload a pod belongs to: its highest known
// owner; the owner reference itself when the owner was not read (a custom
// controller, or a type the caller may not list); the pod for bare and
// static pods.
func (ix *ownerIndex) top(p *corev1.Pod) workloadKey {
	self := workloadKey{p.Namespace, "Pod", p.Name}
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil || ref.Kind == "Node" {
		return self
	}
	c := ix.byKey[workloadKey{p.Namespace, ref.Kind, ref.Name}]
	if c == nil {
		return workloadKey{p.Namespace, ref.Kind, ref.Name}
	}
	for depth := 0; depth < maxOwnerDepth; depth++ {
		up := ix.parent(c)
		if up == nil {
			break
		}
		c = up
	}
	return c.key
}

// baselineOf returns the prepared template of the pod's direct controller,
// the one the pod was made from, or nil when that controller was not read.
// It is prepared anew each time rather than kept: a controller's pods
// mostly share one verdict (see shapes), so it is asked once or twice per
// controller, and a prepared copy of every controller's template would be
// a good part of what a large audit holds.
func (ix *ownerIndex) baselineOf(p *corev1.Pod) *pspadmission.TemplateBaseline {
	ref := metav1.GetControllerOfNoCopy(p)
	if ref == nil {
		return nil
	}
	c := ix.byKey[workloadKey{p.Namespace, ref.Kind, ref.Name}]
	if c == nil {
		return nil
	}
	return pspadmission.NewTemplateBaseline(c.template, c.key.namespace)
}
