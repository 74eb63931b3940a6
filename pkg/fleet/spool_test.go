package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

func TestSpool(t *testing.T) {
	tests := []struct {
		name   string
		writes []int // sizes of the writes
	}{
		{"nothing", nil},
		{"one small write", []int{10}},
		{"exactly one chunk", []int{spoolChunk}},
		{"writes across chunks", []int{spoolChunk - 3, 7, 2*spoolChunk + 5, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Spool
			var want bytes.Buffer
			for i, n := range tt.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				if k, err := s.Write(p); k != n || err != nil {
					t.Fatalf("Write = %d, %v", k, err)
				}
				want.Write(p)
			}
			if s.Len() != want.Len() || !bytes.Equal(s.Bytes(), want.Bytes()) {
				t.Errorf("Len %d, Bytes differ from what was written (%d bytes)", s.Len(), want.Len())
			}
			read, err := io.ReadAll(s.Reader())
			if err != nil || !bytes.Equal(read, want.Bytes()) {
				t.Errorf("Reader read %d bytes (%v), want %d", len(read), err, want.Len())
			}
			if got := bytes.Join(s.trimmed(), nil); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("trimmed differs with no white space to trim")
			}
		})
	}
	t.Run("trimmed drops white space across chunks", func(t *testing.T) {
		var s Spool
		s.Write([]byte(strings.Repeat(" ", spoolChunk+1) + "{\n}" + strings.Repeat("\n", spoolChunk)))
		if got := string(bytes.Join(s.trimmed(), nil)); got != "{\n}" {
			t.Errorf("trimmed = %q", got)
		}
		if s.Len() != 2*spoolChunk+4 {
			t.Errorf("trimmed changed the spool: Len %d", s.Len())
		}
	})
}

// TestSpooledReportPrints: a section whose report is in a spool prints as
// one whose Report holds it, in every format.
func TestSpooledReportPrints(t *testing.T) {
	one, err := json.MarshalIndent(map[string]any{"kind": "AuditReport", "pods": []any{map[string]any{"name": strings.Repeat("p", spoolChunk)}}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var sp Spool
	sp.Write(append(one, '\n'))
	c, err := AuditSection(Target{Context: "a"}, &sp, exitOK, &report.AuditReport{}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Report != nil || !bytes.Equal(c.ReportJSON(), append(one, '\n')) {
		t.Fatalf("the section does not hold the report in its spool")
	}
	spooled := New(Metadata{Command: CommandAudit}, []Cluster{c, ErrorCluster("b", "", "", ClassTimeout, errors.New("timed out"))})
	plain := New(Metadata{Command: CommandAudit}, []Cluster{c, spooled.Clusters[1]})
	plain.Clusters[0].Report, plain.Clusters[0].spool = one, nil
	for _, format := range []string{FormatJSON, FormatYAML, FormatTable} {
		t.Run(format, func(t *testing.T) {
			var got, want bytes.Buffer
			if err := Print(&got, spooled, format); err != nil {
				t.Fatal(err)
			}
			if err := Print(&want, plain, format); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("spooled:\n%.400s\nplain:\n%.400s", got.String(), want.String())
			}
			if format == FormatYAML {
				var v any
				if err := yaml.Unmarshal(got.Bytes(), &v); err != nil {
					t.Error(err)
				}
			}
		})
	}
	if spooled.Clusters[0].spool == nil {
		t.Errorf("printing emptied the report's spool")
	}
	var empty Spool
	if c, _ := AuditSection(Target{Context: "a"}, &empty, exitOK, &report.AuditReport{}, nil, nil, ""); c.ReportJSON() != nil {
		t.Errorf("a run that printed nothing has a report: %q", c.ReportJSON())
	}
}

// TestBarePods: the bare pods a streamed read passes on name their
// blockers as the inventory's pods would, and only they do.
func TestBarePods(t *testing.T) {
	pod := func(name, owner, chart string, images ...string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		if owner != "" {
			yes := true
			p.OwnerReferences = []metav1.OwnerReference{{Kind: owner, Name: "o", Controller: &yes}}
		}
		if chart != "" {
			p.Labels = map[string]string{LabelHelmChart: chart}
		}
		for _, img := range images {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Image: img})
		}
		return p
	}
	var b BarePods
	b.Add([]corev1.Pod{pod("forgotten", "", "", "old:1")}, false)
	b.Add([]corev1.Pod{
		pod("bare", "", "ingress-nginx-4.7.1", "registry.k8s.io/ingress-nginx/controller:v1.9.0", "busybox"),
		pod("static", "Node", "", "registry.k8s.io/etcd:3.5"),
		pod("owned", "ReplicaSet", "", "owned:1"),
	}, true)
	mutated := func(name string) report.Workload {
		return report.Workload{Namespace: "ns", Kind: "Pod", Name: name, ReliesOnMutation: true}
	}
	rep := &report.AuditReport{Workloads: []report.Workload{mutated("bare"), mutated("static"), mutated("owned"), mutated("forgotten")}}
	c, err := AuditSection(Target{Context: "a"}, nil, exitOK, rep, nil, &b, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range c.Blockers {
		if x.Kind != BlockerWorkload {
			got = append(got, x.Kind+"/"+x.Name)
		}
	}
	want := []string{"chart/ingress-nginx", "image/busybox", "image/registry.k8s.io/etcd", "image/registry.k8s.io/ingress-nginx/controller"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("blockers %v, want %v", got, want)
	}
}
