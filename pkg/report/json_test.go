package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// TestWriteJSONMatchesMarshalIndent pins the streaming encoder to the
// standard library's output, byte for byte, for empty and full reports.
func TestWriteJSONMatchesMarshalIndent(t *testing.T) {
	full := &AuditReport{
		APIVersion: APIVersion, Kind: Kind,
		Metadata: Metadata{ToolVersion: "t", PSSVersion: "latest", Sources: []string{"a.yaml"}},
		Summary:  Summary{Pods: 2, WorkloadsByLevel: map[string]int{"baseline": 1}},
		Pods: []Pod{
			{Namespace: "a", Name: "p<1>", Owner: &ObjectRef{Kind: "ReplicaSet", Name: "rs"}, PSS: PSSResult{Level: "baseline", Baseline: PSSLevel{Allowed: true, Reasons: []PSSReason{}}}},
			{Namespace: "b", Name: "q", PSS: PSSResult{Restricted: PSSLevel{Reasons: []PSSReason{{Reason: "x", Detail: `container "c" & more`}}}}},
		},
		Workloads:  []Workload{{Namespace: "a", Kind: "Deployment", Name: "d"}},
		Namespaces: []Namespace{},
		Incomplete: []ReadIssue{{Resource: "pods", Message: "m"}},
		Warnings:   []string{"w"},
	}
	// Lists of several chunks, encoded concurrently and written in order.
	many := *full
	many.Pods = nil
	for i := range 3*elementsPerChunk + 7 {
		p := full.Pods[i%len(full.Pods)]
		p.Name = fmt.Sprintf("p-%d", i)
		many.Pods = append(many.Pods, p)
	}
	many.Warnings = make([]string, elementsPerChunk+1)
	for i := range many.Warnings {
		many.Warnings[i] = fmt.Sprintf("w<%d>", i)
	}
	tests := []struct {
		name string
		rep  *AuditReport
	}{
		{name: "empty", rep: &AuditReport{}},
		{name: "empty lists", rep: &AuditReport{Pods: []Pod{}, Workloads: []Workload{}, Warnings: []string{}}},
		{name: "full", rep: full},
		{name: "many", rep: &many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.MarshalIndent(tt.rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			var got bytes.Buffer
			if err := writeJSON(&got, tt.rep); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("streaming output differs:\ngot:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}
