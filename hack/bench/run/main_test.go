package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psp-migrate/kubectl-psp-migrate/hack/bench/measure"
)

func report(section string, results map[string][2]float64) *measure.Report {
	r := &measure.Report{Section: section, Info: map[string]string{"runs": "1", "bytes": "100", "pods": "5000"}}
	for name, v := range results {
		r.Results = append(r.Results, measure.Result{Name: name, MedianWall: time.Duration(v[0] * float64(time.Second)), MaxRSS: int64(v[1])})
	}
	return r
}

func TestTable(t *testing.T) {
	dir := t.TempDir()
	offline := filepath.Join(dir, "offline.json")
	live := filepath.Join(dir, "live.json")
	// Offline passes the ratios to decodeonly and misses 5x the file (300
	// bytes of RSS for a 100-byte file); live is 2x listonly (MISS), 0.2x
	// kubectl (PASS), and 200 MiB for 5,000 pods is 400 per 10,000 (MISS).
	if err := report("offline", map[string][2]float64{nameAudit: {3, 300}, nameDecodeOnly: {2, 200}}).Save(offline); err != nil {
		t.Fatal(err)
	}
	if err := report("live", map[string][2]float64{nameAudit: {4, 200 << 20}, nameListOnly: {2, 50 << 20}, nameKubectl: {20, 900 << 20}}).Save(live); err != nil {
		t.Fatal(err)
	}
	// The JSON dump: 1.4x decodeonly's time passes 1.5x; 1.6x misses.
	jsonPass := filepath.Join(dir, "offline-json-pass.json")
	jsonMiss := filepath.Join(dir, "offline-json-miss.json")
	if err := report("offline-json", map[string][2]float64{nameAudit: {1.4, 300}, nameDecodeOnly: {1, 200}}).Save(jsonPass); err != nil {
		t.Fatal(err)
	}
	if err := report("offline-json", map[string][2]float64{nameAudit: {1.6, 300}, nameDecodeOnly: {1, 200}}).Save(jsonMiss); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		args       []string
		wantFailed bool
		want       []string
	}{
		{"report only", []string{"-offline", offline, "-live", live}, false, []string{
			"audit time / decodeonly time   1.50", "audit rss / decodeonly rss     1.50", "audit rss / file size           3.00    <= 5.00   PASS",
			"audit time / listonly time      2.00    <= 1.20     MISS", "audit rss (MiB) per 10,000 pods   400.00   <= 250.00   MISS", "audit time / kubectl get time    0.20     <= 0.50     PASS",
		}},
		{"strict", []string{"-offline", offline, "-live", live, "-strict"}, true, nil},
		{"offline only strict", []string{"-offline", offline, "-strict"}, false, []string{"PASS"}},
		{"json dump", []string{"-offline-json", jsonPass, "-strict"}, false, []string{"OFFLINE, JSON:", "audit time / decodeonly time 1.40 <= 1.50 PASS"}},
		{"json dump missed", []string{"-offline-json", jsonMiss, "-strict"}, true, []string{"audit time / decodeonly time 1.60 <= 1.50 MISS"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			failed, err := table(tt.args, &out)
			if err != nil {
				t.Fatal(err)
			}
			if failed != tt.wantFailed {
				t.Errorf("failed = %v, want %v", failed, tt.wantFailed)
			}
			// Column widths depend on the longest row: compare words.
			flat := strings.Join(strings.Fields(out.String()), " ")
			for _, w := range tt.want {
				if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
