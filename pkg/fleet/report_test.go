package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestWorstExitCode(t *testing.T) {
	tests := []struct {
		codes []int
		want  int
	}{
		{nil, 0},
		{[]int{0, 0}, 0},
		{[]int{0, 3}, 3},
		{[]int{3, 2, 0}, 2},
		{[]int{2, 1, 3}, 1},
		{[]int{1, 0}, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.codes), func(t *testing.T) {
			if got := WorstExitCode(tt.codes...); got != tt.want {
				t.Errorf("WorstExitCode(%v) = %d, want %d", tt.codes, got, tt.want)
			}
		})
	}
}

func TestChartAndImage(t *testing.T) {
	charts := map[string]string{
		"ingress-nginx-4.7.1":          "ingress-nginx",
		"cert-manager-v1.13.0":         "cert-manager",
		"kube-prometheus-stack-51.2.0": "kube-prometheus-stack",
		"my-chart-0.1.0-rc.1":          "my-chart",
		"app2-1.0":                     "app2",
		"nover":                        "nover",
		"":                             "",
	}
	for in, want := range charts {
		t.Run("chart "+in, func(t *testing.T) {
			if got := ChartName(in); got != want {
				t.Errorf("ChartName(%q) = %q, want %q", in, got, want)
			}
		})
	}
	images := map[string]string{
		"nginx":                              "nginx",
		"nginx:1.25":                         "nginx",
		"registry:5000/team/app:v2":          "registry:5000/team/app",
		"registry:5000/team/app":             "registry:5000/team/app",
		"quay.io/x/y@sha256:0123":            "quay.io/x/y",
		"quay.io/x/y:1.0@sha256:0123":        "quay.io/x/y",
		"registry.k8s.io/ingress-nginx/c:v1": "registry.k8s.io/ingress-nginx/c",
	}
	for in, want := range images {
		t.Run("image "+in, func(t *testing.T) {
			if got := ImageRepository(in); got != want {
				t.Errorf("ImageRepository(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	mutation := Blocker{Kind: BlockerChart, Name: "ingress-nginx", Reason: ReasonMutation}
	clusters := []Cluster{
		{Context: "a", Verdict: "NOT READY", ExitCode: 2, Counts: &Counts{}, Blockers: []Blocker{mutation, {Kind: BlockerWorkload, Name: "x/Pod/only-a", Reason: "r"}}},
		{Context: "b", Verdict: "NOT READY", ExitCode: 3, Counts: &Counts{}, Blockers: []Blocker{
			{Kind: BlockerChart, Name: "ingress-nginx", Reason: "other reason"},
			{Kind: BlockerCheck, Name: "psp-rbac", Reason: "r"}}},
		{Context: "c", Verdict: "READY", ExitCode: 0, Counts: &Counts{}, Blockers: []Blocker{mutation, {Kind: BlockerCheck, Name: "psp-rbac", Reason: "r"}}},
		{Context: "d", Verdict: "READY", ExitCode: 0, Counts: &Counts{}, Blockers: []Blocker{{Kind: BlockerCheck, Name: "psp-rbac", Reason: "r"}}},
		ErrorCluster("e", "https://e", "", ClassUnreachable, errors.New("connection refused")),
	}
	rep := New(Metadata{Command: CommandReadiness}, clusters)
	s := rep.Summary
	if s.Clusters != 5 || s.Ready != 2 || s.NotReady != 2 || s.Errors != 1 || s.ExitCode != 1 {
		t.Errorf("counts %+v", s)
	}
	if want := map[string]int{"NOT READY": 2, "READY": 2, "UNREACHABLE": 1}; !reflect.DeepEqual(s.Verdicts, want) {
		t.Errorf("verdicts %v, want %v", s.Verdicts, want)
	}
	want := []Recurrence{
		{Kind: BlockerCheck, Name: "psp-rbac", Reasons: []string{"r"}, Contexts: []string{"b", "c", "d"}},
		{Kind: BlockerChart, Name: "ingress-nginx", Reasons: []string{"other reason", ReasonMutation}, Contexts: []string{"a", "b", "c"}},
	}
	if !reflect.DeepEqual(s.Recurring, want) {
		t.Errorf("recurring %+v, want %+v", s.Recurring, want)
	}
	if got := Headline(rep); got != "5 clusters: 2 NOT READY, 2 READY, 1 UNREACHABLE; exit code 1" {
		t.Errorf("headline %q", got)
	}
	if e := rep.Clusters[4]; e.Verdict != "UNREACHABLE" || e.ExitCode != 1 || e.Error.Class != ClassUnreachable {
		t.Errorf("error cluster %+v", e)
	}
}

func TestDemote(t *testing.T) {
	in := "# Title\ntext\n```sh\n# a shell comment\n```\n## Sub\n"
	want := "### Title\ntext\n```sh\n# a shell comment\n```\n#### Sub\n"
	if got := string(demote([]byte(in), "##")); got != want {
		t.Errorf("demote:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteJSONEqualsMarshalIndent(t *testing.T) {
	one, err := json.MarshalIndent(map[string]any{"kind": "AuditReport", "pods": []any{map[string]any{"name": "a\nb", "n": 1}}, "empty": []any{}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	rep := New(Metadata{Command: CommandAudit}, []Cluster{
		{Context: "a", Verdict: VerdictPass, Counts: &Counts{}, Report: one},
		ErrorCluster("b", "", "", ClassTimeout, errors.New("timed out")),
		{Context: "\x00report 0\x00", Verdict: VerdictPass, Counts: &Counts{}, Report: append(one, '\n')},
	})
	for _, clusters := range [][]Cluster{rep.Clusters[:2], rep.Clusters} {
		r := *rep
		r.Clusters = clusters
		var got bytes.Buffer
		if err := Print(&got, &r, FormatJSON); err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(&r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want)+"\n" {
			t.Errorf("got:\n%s\nwant:\n%s", got.String(), want)
		}
	}
}
