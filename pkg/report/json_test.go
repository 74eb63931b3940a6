package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
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
	// Pods sharing verdicts as the audit's do (one verdict's reasons and
	// PSP verdict for every pod of a shape), in runs and interleaved, some
	// differing from a neighbour only in a verdict, with and without
	// policies, static, owner; and more distinct verdicts in a run than
	// an encoder remembers.
	reasons := []PSSReason{{Reason: "hostPort", Detail: `containers "a" <&> use hostPorts 80`}}
	sharedPSS := PSSResult{Version: "v1.37", Level: "baseline", Baseline: PSSLevel{Allowed: true, Reasons: []PSSReason{}}, Restricted: PSSLevel{Reasons: reasons}}
	sharedPSP := &PSPVerdict{Usable: []string{"a", "b<c>"}, Errors: map[string][]string{"a": {"x & y"}}}
	otherPSP := &PSPVerdict{Usable: []string{"a"}}
	for i := range 2*elementsPerChunk + 40 {
		p := Pod{Namespace: fmt.Sprintf("ns-%d", i/7), Name: fmt.Sprintf("p-%d", i), ServiceAccount: "sa",
			Owner: &ObjectRef{Kind: "ReplicaSet", Name: fmt.Sprintf("rs-%d", i/3)}, Workload: ObjectRef{Kind: "Deployment", Name: "d"}, PSS: sharedPSS, PSP: sharedPSP}
		switch {
		case i%5 == 1:
			p.PSP = otherPSP
		case i%11 == 2:
			p.PSP = nil
			p.Owner = nil
			p.Static = true
		case i%13 == 3:
			p.PSS.Restricted.Reasons = reasons[:0]
		case i%17 == 4:
			p.PSS.Restricted.Reasons = nil
			p.PSS.Level = "restricted"
		case i%19 == 5:
			p.Policies = []PolicyVerdict{{Engine: "vap", PSP: "a", Reasons: []string{"r<1>"}}}
		case i >= 2*elementsPerChunk:
			// Twenty distinct verdicts in a row, then back to the first.
			p.PSP = &PSPVerdict{Usable: []string{fmt.Sprintf("psp-%d", i%20)}}
			p.PSS.Baseline.Reasons = []PSSReason{{Reason: fmt.Sprintf("r%d", i%20)}}
		}
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

// TestPodHeadFields holds encodePod to Pod's fields: podHead is Pod up to
// its verdicts, and encodePod writes pss, psp and policies itself. A field
// added to Pod fails here until encodePod writes it.
func TestPodHeadFields(t *testing.T) {
	pod, head := reflect.TypeOf(Pod{}), reflect.TypeOf(podHead{})
	var want []string
	for i := range pod.NumField() {
		want = append(want, pod.Field(i).Name+" "+string(pod.Field(i).Tag))
	}
	var got []string
	for i := range head.NumField() {
		got = append(got, head.Field(i).Name+" "+string(head.Field(i).Tag))
	}
	for _, f := range []string{"PSS", "PSP", "Policies"} {
		sf, _ := pod.FieldByName(f)
		got = append(got, f+" "+string(sf.Tag))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Pod's fields are\n  %q\nencodePod writes\n  %q", want, got)
	}
}
