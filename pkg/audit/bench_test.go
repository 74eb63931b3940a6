package audit_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/synth"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// benchCluster is a fifth of hack/bench.sh's cluster: small enough for a
// quick -bench run, large enough that per-object costs dominate.
var benchCluster = synth.Config{Pods: 2000, Namespaces: 60, PSPs: 50, Bindings: 400, Nodes: 10, Seed: 1}

// BenchmarkAuditOffline measures the offline audit of a generated cluster
// of 2,000 pods:
//
//   - Run: audit.Run on a ready inventory, the evaluation alone;
//   - File: what `audit -f cluster.yaml -o json` does, from the file's
//     bytes: decode, typed inventory, audit, JSON report.
//
// Speed targets are checked by hack/bench.sh against baselines measured in
// the same run, not here. To profile:
//
//	go test ./pkg/audit -run '^$' -bench BenchmarkAuditOffline/File -cpuprofile cpu.out -memprofile mem.out
func BenchmarkAuditOffline(b *testing.B) {
	inv := synth.Generate(benchCluster)
	pods := float64(len(inv.Pods))

	b.Run("Run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rep, err := audit.Run(inv, audit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if rep.Summary.Pods != len(inv.Pods) {
				b.Fatalf("report has %d pods, want %d", rep.Summary.Pods, len(inv.Pods))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pods, "ns/pod")
	})

	b.Run("File", func(b *testing.B) {
		var file bytes.Buffer
		if err := synth.WriteList(&file, inv); err != nil {
			b.Fatal(err)
		}
		data := file.Bytes()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			objs, err := manifest.Decode(data, "cluster.yaml")
			if err != nil {
				b.Fatal(err)
			}
			fromFile, err := inventory.FromObjects(objs)
			if err != nil {
				b.Fatal(err)
			}
			rep, err := audit.Run(fromFile, audit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := report.Print(io.Discard, rep, report.FormatJSON); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pods, "ns/pod")
	})
}
