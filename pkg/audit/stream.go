package audit

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Stream audits pods while they are still being read: on a large cluster
// the pods are most of the objects and most of the evaluation, and the
// other lists (PSPs, RBAC, service accounts, namespaces, controllers),
// which every pod's verdict needs, are complete long before the last page
// of pods. Pods handed to Add before Ready wait; from Ready on, they are
// evaluated as they come, on all CPUs, and only what the report needs of
// each is kept. Finish gives the report Run would give on the whole
// inventory. It is the live.PodSink of a live read.
type Stream struct {
	opts Options

	mu      sync.Mutex
	a       *auditor
	err     error
	pending [][]corev1.Pod
	gen     int
	// queue is the work not yet taken, unbounded: a reader waiting for
	// the evaluation would leave the API server idle meanwhile.
	queue   []batch
	wake    *sync.Cond
	done    sync.WaitGroup
	results [][]genRecord
	closed  bool
	// finished says Finish ran (and let the auditor go).
	finished bool
	// reading is how many workers take work before the stream is closed.
	reading int
	// templatesClaimed says every template was claimed by a worker.
	templatesClaimed bool
}

type batch struct {
	gen  int
	pods []corev1.Pod
	// templates asks for a claim of templates instead (see take).
	templates bool
}

type genRecord struct {
	gen int
	rec podRecord
}

// batchSize is how many pods a worker takes at a time: small enough to
// spread a page over all CPUs, large enough that handing over costs nothing.
const batchSize = 64

// NewStream returns a Stream that audits with opts.
func NewStream(opts Options) *Stream {
	return &Stream{opts: opts}
}

// Ready is told the inventory without its pods, once everything else in it
// is complete: the pods handed over so far, and all that follow, are
// evaluated from now on.
func (s *Stream) Ready(inv *inventory.Inventory) error {
	a, err := newAuditor(inv, s.opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.a != nil || s.closed {
		return errors.New("audit stream: Ready called twice or after Finish")
	}
	if err != nil {
		s.err = err
		return err
	}
	s.a = a
	s.wake = sync.NewCond(&s.mu)
	workers := runtime.GOMAXPROCS(0)
	// While the read goes on, one CPU is left to it: the pods' list is
	// the read's longest, each page waits for the one before, and workers
	// on every CPU would slow it down by more than they gain.
	s.reading = max(1, workers-1)
	s.results = make([][]genRecord, workers)
	for w := 0; w < workers; w++ {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			for {
				b, ok := s.take(w)
				if !ok {
					return
				}
				if b.templates {
					if !a.evaluateTemplates(templateChunk) {
						s.mu.Lock()
						s.templatesClaimed = true
						s.mu.Unlock()
					}
					continue
				}
				for i := range b.pods {
					p := &b.pods[i]
					if a.inScope(p.Namespace) {
						// Doubled ahead of need: append grows a large
						// slice by quarters, copying every record each time.
						if rs := s.results[w]; len(rs) == cap(rs) {
							s.results[w] = slices.Grow(rs, max(len(rs), batchSize))
						}
						s.results[w] = append(s.results[w], genRecord{b.gen, a.record(p)})
					}
				}
			}
		}()
	}
	for _, page := range s.pending {
		s.send(s.gen, page)
	}
	s.pending = nil
	return nil
}

// take waits for worker w's next batch of pods, or, when no pods wait,
// tells it to evaluate templates (they need nothing the pods' list brings,
// and left for the end they would delay the report); false once the
// stream is closed and drained. Until the stream is closed only the first
// s.reading workers take work.
func (s *Stream) take(w int) (batch, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		active := s.closed || w < s.reading
		switch {
		case active && len(s.queue) > 0:
			b := s.queue[0]
			s.queue[0] = batch{}
			s.queue = s.queue[1:]
			return b, true
		case active && !s.templatesClaimed && !s.closed:
			return batch{templates: true}, true
		case s.closed && len(s.queue) == 0:
			return batch{}, false
		}
		s.wake.Wait()
	}
}

// Add takes one page of pods. restart says that the pages handed over
// before are to be forgotten: the list started again (an expired continue
// token makes a live read list everything once more). The stream keeps
// the pods only until they are evaluated.
func (s *Stream) Add(pods []corev1.Pod, restart bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("audit stream: Add after Finish")
	}
	if restart {
		s.gen++
		s.pending = nil
		s.queue = nil
	}
	if s.a == nil {
		s.pending = append(s.pending, pods)
		return nil
	}
	s.send(s.gen, pods)
	return nil
}

// send queues pods for the workers; s.mu is held.
func (s *Stream) send(gen int, pods []corev1.Pod) {
	for len(pods) > 0 {
		n := min(batchSize, len(pods))
		s.queue = append(s.queue, batch{gen: gen, pods: pods[:n:n]})
		pods = pods[n:]
	}
	s.wake.Broadcast()
}

// Started reports whether Ready was called: whether the pods were handed
// to the stream rather than kept in the inventory.
func (s *Stream) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.a != nil || s.err != nil || s.finished
}

// Finish waits for every pod handed over and returns the report on inv,
// the complete inventory (its Pods empty: they went to the stream), as Run
// would have made it with the pods in inv.
func (s *Stream) Finish(inv *inventory.Inventory) (*report.AuditReport, error) {
	s.Close()
	if s.err != nil {
		return nil, s.err
	}
	if s.finished {
		return nil, errors.New("audit stream: Finish called twice")
	}
	if s.a == nil {
		return nil, errors.New("audit stream: Finish before Ready")
	}
	// The order Run's inventory has (inventory.Sort). The records are a
	// few hundred bytes each: pointers to them are sorted, not the records
	// (moving those was a third of the time between the read's end and
	// the report on a 10,000-pod cluster).
	var order []*podRecord
	for _, rs := range s.results {
		for i := range rs {
			if rs[i].gen == s.gen {
				order = append(order, &rs[i].rec)
			}
		}
	}
	slices.SortStableFunc(order, func(a, b *podRecord) int {
		if c := strings.Compare(a.pod.Namespace, b.pod.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.pod.Name, b.pod.Name)
	})
	recs := make([]podRecord, len(order))
	for i, r := range order {
		recs[i] = *r
	}
	order = nil
	s.results = nil
	// The complete inventory's sources, issues and warnings: a list that
	// failed after Ready (the pods') is in them.
	s.a.inv = inv
	rep, err := s.a.report(recs)
	// The report shares what it needs; the rest (the inventory, the
	// evaluators, the verdicts by shape) need not outlive Finish while the
	// report is printed.
	s.a, s.finished = nil, true
	// Collected now, the read's garbage and all the report does not keep
	// make room for the printing, which would otherwise grow the heap past
	// the read's peak: one collection of little more than the report.
	runtime.GC()
	return rep, err
}

// Close stops the workers once the pods handed over are evaluated. Finish
// closes the stream; a read that failed must, so that no worker is left.
func (s *Stream) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.wake != nil {
			s.wake.Broadcast()
		}
	}
	s.mu.Unlock()
	s.done.Wait()
}
