package rbac

import (
	"testing"
)

// The scale evaluation must handle: 10,000 pods × 50 PSPs against 2,000
// bindings in 200 namespaces.
const (
	benchNamespaces = 200
	benchPSPs       = 50
	benchBindings   = 2000
	benchPods       = 10000
)

// BenchmarkCanUse measures the question PSP admission asks per (pod, PSP):
// may the pod's service account or its creator use the PSP here?
//
// "question" is one such question (service account, then creator, as the
// plugin orders them); "all-pods" is every pod against every PSP, which is
// what one evaluation run costs.
func BenchmarkCanUse(b *testing.B) {
	s := newSynthetic(42, benchNamespaces, benchPSPs, benchBindings, benchPods)
	ix := s.index()
	authorized := func(p *syntheticPod, name string) bool {
		return ix.CanUse(p.sa, p.namespace, name) || ix.CanUse(p.creator, p.namespace, name)
	}

	b.Run("question", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := &s.pods[i%len(s.pods)]
			authorized(p, s.psps[i%len(s.psps)])
			i++
		}
	})

	b.Run("all-pods", func(b *testing.B) {
		b.ReportAllocs()
		allowed := 0
		for b.Loop() {
			allowed = 0
			for i := range s.pods {
				for _, name := range s.psps {
					if authorized(&s.pods[i], name) {
						allowed++
					}
				}
			}
		}
		b.ReportMetric(float64(allowed), "allowed/op")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.pods)*len(s.psps)), "ns/question")
	})
}

// BenchmarkNewIndex measures resolving 2,000 bindings into the index, which
// happens once per run.
func BenchmarkNewIndex(b *testing.B) {
	s := newSynthetic(42, benchNamespaces, benchPSPs, benchBindings, 0)
	b.ReportAllocs()
	for b.Loop() {
		s.index()
	}
}
