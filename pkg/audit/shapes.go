package audit

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// verdict is what the Pod Security Standards and the PSP model say of a
// pod, in the forms the report needs. Pods of one controller are mostly
// copies of its template, so one verdict is shared by every pod of the
// same shape (see shapeKey) and is never changed once made.
type verdict struct {
	pss pss.Result
	psp *pspadmission.Result
	// fields are the fields its PSP set, as the template should set them.
	fields []pspadmission.FieldChange
	// reportPSS and reportPSP are pss and psp converted for the report
	// once, not once per pod.
	reportPSS report.PSSResult
	reportPSP *report.PSPVerdict
}

// shapes remembers the verdict of each pod shape evaluated: on a large
// cluster most pods are replicas whose evaluation would repeat another's,
// and the verdicts (PSP errors by the dozen per pod) are most of what an
// audit keeps.
type shapes struct {
	// off evaluates every pod on its own (tests compare).
	off bool

	mu    sync.Mutex
	known map[[sha256.Size]byte]*verdict
}

// tokenVolumePlaceholder replaces the name of a pod's service account
// token volume in its shape: the API server names it kube-api-access-
// and five random characters, different for every replica. A NUL is in
// no valid volume name, so no real volume has it.
const tokenVolumePlaceholder = "kube-api-access-\x00"

// shapeKey is the identity of a stored pod as far as its evaluation goes:
// the pod without what differs between replicas and that no check reads
// (its name and uid, resourceVersion, creation time, node, the token
// volume's random name, and what specShape leaves out), with the requester
// the PSP model evaluates it for, which the node decides for mirror pods.
// Pods of one shape get the same verdict, except where a verdict names the
// pod, its node or its token volume: such a verdict is not shared (see
// shareable). ok is false for pods not yet created, whose token volume
// name is derived from their name (pspadmission.Prepare).
func shapeKey(p *corev1.Pod, requester *rbac.User) (key [sha256.Size]byte, ok bool) {
	if !pspadmission.Stored(p) || len(p.Spec.EphemeralContainers) > 0 {
		// Ephemeral containers are rare enough not to rename mounts in.
		return key, false
	}
	q := *p
	q.Name, q.UID, q.ResourceVersion, q.Generation = "", "", "", 0
	q.CreationTimestamp = metav1.Time{}
	q.ManagedFields = nil
	q.Status = corev1.PodStatus{}
	q.Spec.NodeName = ""
	specShape(&q.ObjectMeta, &q.Spec, tokenVolume(p))
	return hashShape("pod", &q, requester)
}

// specShape leaves out of a shallow copy of a pod (its slices are copied
// before they are changed) what no check reads and what differs between
// replicas: labels; a StatefulSet replica's hostname, subdomain and claim
// names; a DaemonSet replica's affinity; the containers' images, commands,
// environment and resources (a live read drops the last three anyway); the
// token volume's name, renamed to the placeholder in the volumes and
// mounts.
func specShape(m *metav1.ObjectMeta, s *corev1.PodSpec, token string) {
	m.Labels = nil
	s.Hostname, s.Subdomain = "", ""
	s.Affinity = nil
	s.Volumes = volumesShape(s.Volumes, token)
	s.InitContainers = containersShape(s.InitContainers, token)
	s.Containers = containersShape(s.Containers, token)
}

// shapeBuffers are the buffers shapes are serialized into, reused: every
// pod of a large cluster goes through one. The requester comes first, its
// name and groups NUL-terminated (no name holds a NUL), then the pod.
var shapeBuffers = sync.Pool{New: func() any { return new([]byte) }}

func hashShape(kind string, q *corev1.Pod, requester *rbac.User) (key [sha256.Size]byte, ok bool) {
	bp := shapeBuffers.Get().(*[]byte)
	defer shapeBuffers.Put(bp)
	buf := append((*bp)[:0], kind...)
	buf = append(buf, 0)
	if requester != nil {
		buf = append(buf, requester.Name...)
		for _, g := range requester.Groups {
			buf = append(buf, 0)
			buf = append(buf, g...)
		}
	}
	buf = append(buf, 0)
	head := len(buf)
	buf = slices.Grow(buf, q.Size())[:head+q.Size()]
	if _, err := q.MarshalToSizedBuffer(buf[head:]); err != nil {
		return key, false
	}
	*bp = buf
	return sha256.Sum256(buf), true
}

// tokenVolume returns the name of the pod's projected service account
// token volume, "" when it has none.
func tokenVolume(p *corev1.Pod) string {
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") && v.Projected != nil {
			return v.Name
		}
	}
	return ""
}

// volumesShape returns the volumes with the token volume renamed to the
// placeholder and claim names left out, copied where that changes them.
func volumesShape(in []corev1.Volume, token string) []corev1.Volume {
	var out []corev1.Volume
	for i := range in {
		v := &in[i]
		if (token == "" || v.Name != token) && v.PersistentVolumeClaim == nil {
			continue
		}
		if out == nil {
			out = make([]corev1.Volume, len(in))
			copy(out, in)
		}
		if token != "" && v.Name == token {
			out[i].Name = tokenVolumePlaceholder
		}
		if v.PersistentVolumeClaim != nil {
			c := *v.PersistentVolumeClaim
			c.ClaimName = ""
			out[i].PersistentVolumeClaim = &c
		}
	}
	if out == nil {
		return in
	}
	return out
}

// containersShape copies the containers without what no check reads, the
// mounts of the token volume renamed to the placeholder.
func containersShape(in []corev1.Container, token string) []corev1.Container {
	if in == nil {
		return nil
	}
	out := make([]corev1.Container, len(in))
	copy(out, in)
	for i := range out {
		c := &out[i]
		c.Image, c.ImagePullPolicy = "", ""
		c.Command, c.Args, c.WorkingDir = nil, nil, ""
		c.Env, c.EnvFrom = nil, nil
		c.Resources = corev1.ResourceRequirements{}
		if token == "" {
			continue
		}
		for j := range c.VolumeMounts {
			if c.VolumeMounts[j].Name == token {
				mounts := make([]corev1.VolumeMount, len(c.VolumeMounts))
				copy(mounts, c.VolumeMounts)
				for k := range mounts {
					if mounts[k].Name == token {
						mounts[k].Name = tokenVolumePlaceholder
					}
				}
				c.VolumeMounts = mounts
				break
			}
		}
	}
	return out
}

// shareable reports whether v can stand for every pod of p's shape: none
// of its words names what shapeKey leaves out of the shape. The checks
// only print those names (a pod validation message quotes the pod's name,
// a volume check the volume's), so a verdict that does not print them is
// the verdict of every pod of the shape.
func shareable(v *verdict, p *corev1.Pod) bool {
	names := []string{p.Name, string(p.UID), p.Spec.NodeName, tokenVolume(p)}
	hit := func(s string) bool {
		for _, n := range names {
			if n != "" && strings.Contains(s, n) {
				return true
			}
		}
		return false
	}
	for _, l := range []pss.LevelResult{v.pss.Baseline, v.pss.Restricted} {
		for _, r := range l.Reasons {
			if hit(r.Reason) || hit(r.Detail) {
				return false
			}
		}
	}
	for _, f := range v.fields {
		if hit(f.Path) || hit(f.Before) || hit(f.After) {
			return false
		}
	}
	r := v.psp
	if r == nil {
		return true
	}
	if hit(r.Reason) || hit(r.RejectedAfter) || hit(r.Annotation) || hit(r.Drift) {
		return false
	}
	for _, s := range r.Usable {
		if hit(s) {
			return false
		}
	}
	for _, s := range r.ValidationErrors {
		if hit(s) {
			return false
		}
	}
	for k, errs := range r.Errors {
		if hit(k) {
			return false
		}
		for _, s := range errs {
			if hit(s) {
				return false
			}
		}
	}
	for _, f := range r.MutatedFields {
		if hit(f.Path) || hit(f.Before) || hit(f.After) {
			return false
		}
	}
	return true
}

// verdictOf returns p's verdict, evaluated by eval unless a pod of the
// same shape was.
func (s *shapes) verdictOf(p *corev1.Pod, requester *rbac.User, eval func() *verdict) *verdict {
	if s.off {
		return eval()
	}
	key, ok := shapeKey(p, requester)
	if !ok {
		return eval()
	}
	s.mu.Lock()
	v := s.known[key]
	s.mu.Unlock()
	if v != nil {
		return v
	}
	v = eval()
	if shareable(v, p) {
		s.mu.Lock()
		if s.known == nil {
			s.known = map[[sha256.Size]byte]*verdict{}
		}
		s.known[key] = v
		s.mu.Unlock()
	}
	return v
}
