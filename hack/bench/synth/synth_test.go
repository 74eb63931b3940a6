package synth

import (
	"bytes"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
)

var small = Config{Pods: 300, Namespaces: 12, PSPs: 8, Bindings: 60, Nodes: 4, Seed: 7}

func TestGenerateSizes(t *testing.T) {
	inv := Generate(small)
	if got := len(inv.Pods); got != small.Pods {
		t.Errorf("pods = %d, want %d", got, small.Pods)
	}
	if got := len(inv.Namespaces); got != small.Namespaces {
		t.Errorf("namespaces = %d, want %d", got, small.Namespaces)
	}
	if got := len(inv.PodSecurityPolicies); got != small.PSPs {
		t.Errorf("PSPs = %d, want %d", got, small.PSPs)
	}
	if got := len(inv.RoleBindings) + len(inv.ClusterRoleBindings); got != small.Bindings {
		t.Errorf("bindings = %d, want %d", got, small.Bindings)
	}
	for _, p := range inv.PodSecurityPolicies {
		if errs := psp.Validate(&p); len(errs) > 0 {
			t.Errorf("PSP %s is invalid: %v", p.Name, errs.ToAggregate())
		}
	}
}

// TestAllLevels guards the point of the synthetic cluster: the audit must
// meet every Pod Security level in it.
func TestAllLevels(t *testing.T) {
	inv := Generate(small)
	ev, err := pss.NewEvaluator("latest")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := range inv.Pods {
		seen[ev.Evaluate(&inv.Pods[i].ObjectMeta, &inv.Pods[i].Spec).Level]++
	}
	for _, l := range []string{pss.Privileged, pss.Baseline, pss.Restricted} {
		if seen[l] == 0 {
			t.Errorf("no pod at level %s (levels seen: %v)", l, seen)
		}
	}
}

// TestWriteListRoundTrip checks that the file is deterministic and reads
// back, through the plugin's own decoder, into the same objects.
func TestWriteListRoundTrip(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteList(&a, Generate(small)); err != nil {
		t.Fatal(err)
	}
	if err := WriteList(&b, Generate(small)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two files from the same Config differ")
	}
	objs, err := manifest.Decode(a.Bytes(), "cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Warnings) > 0 {
		t.Errorf("warnings: %v", inv.Warnings)
	}
	want := Generate(small)
	if got, want := len(Objects(inv)), len(Objects(want)); got != want {
		t.Errorf("read back %d objects, wrote %d", got, want)
	}
	// Pods are read back without their status (inventory.SlimPod).
	if inv.Pods[0].Name != want.Pods[0].Name || inv.Pods[0].UID != want.Pods[0].UID || inv.Pods[0].Spec.NodeName != want.Pods[0].Spec.NodeName {
		t.Errorf("first pod read back as %s (%s on %s), want %s (%s on %s)", inv.Pods[0].Name, inv.Pods[0].UID, inv.Pods[0].Spec.NodeName, want.Pods[0].Name, want.Pods[0].UID, want.Pods[0].Spec.NodeName)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{Pods: 300, Namespaces: 4, PSPs: 8, Bindings: 1, Nodes: 1},
		{Pods: 300, Namespaces: 12, PSPs: 3, Bindings: 1, Nodes: 1},
		{Pods: 5, Namespaces: 12, PSPs: 8, Bindings: 1, Nodes: 4},
		{Pods: 300, Namespaces: 12, PSPs: 8, Bindings: 0, Nodes: 1},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default: %v", err)
	}
}

// TestWriteJSONListRoundTrip checks that the JSON dumps read back through
// the plugin's decoder: the whole cluster, and the small pods alone.
func TestWriteJSONListRoundTrip(t *testing.T) {
	inv := Generate(small)
	for name, objs := range map[string][]any{"cluster": Objects(inv), "small pods": SmallPods(inv)} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSONList(&buf, objs); err != nil {
				t.Fatal(err)
			}
			got, err := manifest.Decode(buf.Bytes(), "cluster.json")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(objs) {
				t.Fatalf("read back %d objects, wrote %d", len(got), len(objs))
			}
			back, err := inventory.FromObjects(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Warnings) > 0 {
				t.Errorf("warnings: %v", back.Warnings)
			}
		})
	}
}
