package fleet

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Reasons of audit blockers.
const (
	ReasonMutation = "relies on PSP mutation"
	reasonEngine   = "rejected by the converted policies of "
	reasonLevel    = "fails the %s level"
)

// LabelHelmChart is the label Helm charts conventionally put on what they
// install: "<chart>-<version>".
const LabelHelmChart = "helm.sh/chart"

// Target is a cluster as the caller knows it before reading it.
type Target struct {
	Context string
	Server  string
	// Version is the server's gitVersion, or "".
	Version string
}

// AuditSection builds the section of an audited cluster from what its
// single-context run printed with -o json (raw, which the section keeps as
// its report), the exit code it returned and the report it printed (nil:
// decoded from raw). inv (may be nil) is the
// inventory it read and bare (may be nil) the bare pods a streamed read
// passed on, for the images and charts of its blockers; failLevel (may be
// "") is the strictest level of --fail-on, whose failures are blockers too.
func AuditSection(t Target, raw *Spool, exitCode int, rep *report.AuditReport, inv *inventory.Inventory, bare *BarePods, failLevel string) (Cluster, error) {
	if rep == nil {
		rep = &report.AuditReport{}
		if err := json.NewDecoder(raw.Reader()).Decode(rep); err != nil {
			return Cluster{}, fmt.Errorf("decode the audit report of context %q: %w", t.Context, err)
		}
	}
	c := Cluster{Context: t.Context, Server: t.Server, KubernetesVersion: t.Version, ExitCode: exitCode, spool: nonEmpty(raw)}
	switch exitCode {
	case exitOK:
		c.Verdict = VerdictPass
	case exitFindings:
		c.Verdict = VerdictFail
	default:
		c.Verdict = VerdictIncomplete
	}
	c.Counts = &Counts{Workloads: rep.Summary.Workloads, Incomplete: len(rep.Incomplete), WorkloadsByLevel: rep.Summary.WorkloadsByLevel}
	ix := newWorkloadIndex(inv)
	bare.into(ix)
	var bs blockers
	for i := range rep.Workloads {
		w := &rep.Workloads[i]
		if w.ReliesOnMutation {
			c.Counts.ReliesOnMutation++
			if !rejectedToday(w) {
				bs.workload(ix, w.Namespace, w.Kind, w.Name, ReasonMutation)
			}
		}
		if w.System {
			continue
		}
		if len(w.RejectedBy) > 0 {
			bs.workload(ix, w.Namespace, w.Kind, w.Name, reasonEngine+strings.Join(w.RejectedBy, ", "))
		}
		if failLevel != "" && pss.Compare(w.PSS.Level, failLevel) < 0 {
			bs.workload(ix, w.Namespace, w.Kind, w.Name, fmt.Sprintf(reasonLevel, failLevel))
		}
	}
	c.Blockers = bs.sorted()
	return c, nil
}

// nonEmpty is s, or nil when nothing was written to it: a section
// without a report has none, as one with a nil Report.
func nonEmpty(s *Spool) *Spool {
	if s == nil || s.Len() == 0 {
		return nil
	}
	return s
}

// rejectedToday: PSP refuses the template and no pod runs, so it is not
// running today and nothing relies on its mutation (readiness skips it too).
func rejectedToday(w *report.Workload) bool {
	return w.PSP != nil && w.PSP.AdmittedBy == nil && w.Pods == 0
}

// ReadinessSection builds the section of a cluster checked by readiness
// from what its single-context run printed with -o json (raw, which the
// section keeps as its report), the exit code it returned and the report
// it printed (nil: decoded from raw). Every blocking check is a blocker, and so is every workload
// it names, with its images and chart.
func ReadinessSection(t Target, raw *Spool, exitCode int, rep *readiness.Report, inv *inventory.Inventory) (Cluster, error) {
	if rep == nil {
		rep = &readiness.Report{}
		if err := json.NewDecoder(raw.Reader()).Decode(rep); err != nil {
			return Cluster{}, fmt.Errorf("decode the readiness report of context %q: %w", t.Context, err)
		}
	}
	c := Cluster{Context: t.Context, Server: t.Server, KubernetesVersion: t.Version, ExitCode: exitCode,
		Verdict: rep.Verdict, spool: nonEmpty(raw)}
	c.Counts = &Counts{Incomplete: len(rep.Incomplete),
		Blocking: rep.Summary.Block, Warnings: rep.Summary.Warn, BlockedWorkloads: rep.Summary.BlockedWorkloads}
	ix := newWorkloadIndex(inv)
	var bs blockers
	for _, ch := range rep.Checks {
		if ch.ID == readiness.CheckMutation {
			c.Counts.ReliesOnMutation = ch.Count
		}
		if ch.Status != readiness.Block {
			continue
		}
		bs.add(Blocker{Kind: BlockerCheck, Name: ch.ID, Reason: "check failed: " + ch.Title})
		for _, it := range ch.Items {
			if workloadKinds[it.Kind] {
				bs.workload(ix, it.Namespace, it.Kind, it.Name, ch.ID)
			}
		}
	}
	c.Blockers = bs.sorted()
	return c, nil
}

var workloadKinds = map[string]bool{"Pod": true, "Deployment": true, "ReplicaSet": true, "StatefulSet": true,
	"DaemonSet": true, "Job": true, "CronJob": true, "ReplicationController": true}

type blockers struct{ list []Blocker }

func (b *blockers) add(x Blocker) {
	if !slices.Contains(b.list, x) {
		b.list = append(b.list, x)
	}
}

// workload adds the workload and what identifies it across clusters even
// when its name or namespace differs: its images and its Helm chart.
func (b *blockers) workload(ix workloadIndex, namespace, kind, name, reason string) {
	b.add(Blocker{Kind: BlockerWorkload, Name: namespace + "/" + kind + "/" + name, Reason: reason})
	w, ok := ix[namespace+"/"+kind+"/"+name]
	if !ok {
		return
	}
	if w.chart != "" {
		b.add(Blocker{Kind: BlockerChart, Name: w.chart, Reason: reason})
	}
	for _, img := range w.images {
		b.add(Blocker{Kind: BlockerImage, Name: img, Reason: reason})
	}
}

func (b *blockers) sorted() []Blocker {
	sort.Slice(b.list, func(i, j int) bool {
		x, y := b.list[i], b.list[j]
		if x.Kind != y.Kind {
			return blockerOrder[x.Kind] < blockerOrder[y.Kind]
		}
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.Reason < y.Reason
	})
	return b.list
}

type workloadInfo struct {
	chart  string
	images []string
}

// workloadIndex maps "namespace/Kind/name" to the workload's chart and images.
type workloadIndex map[string]workloadInfo

func newWorkloadIndex(inv *inventory.Inventory) workloadIndex {
	ix := workloadIndex{}
	if inv == nil {
		return ix
	}
	for _, t := range inv.PodTemplates() {
		info := workloadInfo{chart: ChartName(t.Meta.Labels[LabelHelmChart])}
		if t.Template != nil {
			if info.chart == "" {
				info.chart = ChartName(t.Template.Labels[LabelHelmChart])
			}
			info.images = images(&t.Template.Spec)
		}
		ix[t.Meta.Namespace+"/"+t.Kind+"/"+t.Meta.Name] = info
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		ix[podKey(p)] = podInfo(p)
	}
	return ix
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/Pod/" + p.Name }

func podInfo(p *corev1.Pod) workloadInfo {
	return workloadInfo{chart: ChartName(p.Labels[LabelHelmChart]), images: images(&p.Spec)}
}

// BarePods notes, of the pods a streamed read hands over and does not
// keep, what a blocker names the bare ones by (their images and chart):
// bare and static pods are their own workloads, and the inventory of a
// streamed read holds no pod. It keeps a few strings per pod, never the
// pod. Safe for concurrent use.
type BarePods struct {
	mu   sync.Mutex
	pods workloadIndex
}

// Add notes the pods no controller owns (a static pod's owner, its Node,
// is no controller of it); restart forgets those noted before, as a list
// that started again does.
func (b *BarePods) Add(pods []corev1.Pod, restart bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if restart || b.pods == nil {
		b.pods = workloadIndex{}
	}
	for i := range pods {
		p := &pods[i]
		if c := metav1.GetControllerOf(p); c != nil && c.Kind != "Node" {
			continue
		}
		b.pods[podKey(p)] = podInfo(p)
	}
}

// into adds the noted pods to ix; a nil b has none.
func (b *BarePods) into(ix workloadIndex) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range b.pods {
		ix[k] = v
	}
}

func images(spec *corev1.PodSpec) []string {
	var out []string
	add := func(image string) {
		if r := ImageRepository(image); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, c := range spec.InitContainers {
		add(c.Image)
	}
	for _, c := range spec.Containers {
		add(c.Image)
	}
	for _, c := range spec.EphemeralContainers {
		add(c.Image)
	}
	sort.Strings(out)
	return out
}

// ImageRepository drops an image reference's digest and tag: clusters run
// different versions of the same image, and it is the image's defaults that
// the PSP filled in.
func ImageRepository(image string) string {
	image, _, _ = strings.Cut(strings.TrimSpace(image), "@")
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		image = image[:colon]
	}
	return image
}

var chartVersion = regexp.MustCompile(`^(.+?)-v?[0-9]+\.[0-9]+(\.[0-9]+)?([-+][0-9A-Za-z.+-]*)?$`)

// ChartName drops the version from a helm.sh/chart label
// ("ingress-nginx-4.7.1" -> "ingress-nginx"): clusters run different
// releases of the same chart.
func ChartName(label string) string {
	label = strings.TrimSpace(label)
	if m := chartVersion.FindStringSubmatch(label); m != nil {
		return m[1]
	}
	return label
}
