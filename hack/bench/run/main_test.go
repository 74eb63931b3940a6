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
	r := &measure.Report{Section: section, Info: map[string]string{"runs": "1"}}
	for name, v := range results {
		r.Results = append(r.Results, measure.Result{Name: name, MedianWall: time.Duration(v[0] * float64(time.Second)), MaxRSS: int64(v[1])})
	}
	return r
}

func TestTable(t *testing.T) {
	dir := t.TempDir()
	offline := filepath.Join(dir, "offline.json")
	live := filepath.Join(dir, "live.json")
	// Offline passes both targets; live is 2x listonly (MISS) and 0.2x kubectl (PASS).
	if err := report("offline", map[string][2]float64{nameAudit: {3, 300}, nameDecodeOnly: {2, 200}}).Save(offline); err != nil {
		t.Fatal(err)
	}
	if err := report("live", map[string][2]float64{nameAudit: {4, 100}, nameListOnly: {2, 50}, nameKubectl: {20, 900}}).Save(live); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		args       []string
		wantFailed bool
		want       []string
	}{
		{"report only", []string{"-offline", offline, "-live", live}, false, []string{
			"audit time / decodeonly time   1.50", "audit rss / decodeonly rss     1.50", "audit time / listonly time      2.00    <= 1.50   MISS", "audit time / kubectl get time   0.20    <= 0.50   PASS",
		}},
		{"strict", []string{"-offline", offline, "-live", live, "-strict"}, true, nil},
		{"offline only strict", []string{"-offline", offline, "-strict"}, false, []string{"PASS"}},
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
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
