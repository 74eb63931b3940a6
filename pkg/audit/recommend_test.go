package audit

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

func TestRecommendationAgainstPSP(t *testing.T) {
	inv := load(t, filepath.Join("testdata", "recommend-input.yaml"))
	rep, err := Run(inv, Options{PSSVersion: "v1.30"})
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string]report.Namespace{}
	for _, n := range rep.Namespaces {
		ns[n.Name] = n
	}
	dims := func(n report.Namespace) []string {
		var out []string
		for _, l := range n.ProtectionLost {
			out = append(out, l.Dimension)
		}
		return out
	}

	t.Run("rejected today, no pod: listed, not counted", func(t *testing.T) {
		n := ns["app"]
		if n.RecommendedLevel != pss.Restricted {
			t.Errorf("app recommended %s, want restricted: the rejected privileged workload must not count", n.RecommendedLevel)
		}
		want := []report.RejectedWorkload{{Kind: "Deployment", Name: "wants-privileged", Level: pss.Privileged}}
		if len(n.RejectedToday) != 1 || n.RejectedToday[0].Reason == "" {
			t.Fatalf("rejectedToday %+v", n.RejectedToday)
		}
		got := n.RejectedToday
		got[0].Reason = ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rejectedToday %+v, want %+v", got, want)
		}
		if n.Workloads != 2 {
			t.Errorf("workloads %d, want 2 (rejected ones are still workloads)", n.Workloads)
		}
	})

	t.Run("usable PSPs from templates and service accounts", func(t *testing.T) {
		if got := ns["app"].UsablePSPs; !reflect.DeepEqual(got, []string{"strict"}) {
			t.Errorf("app usable %v", got)
		}
		// No workload: the service account's bare pod says what is usable.
		if got := ns["quiet"].UsablePSPs; !reflect.DeepEqual(got, []string{"strict"}) {
			t.Errorf("quiet usable %v", got)
		}
	})

	t.Run("restricted level loses what restricted does not check", func(t *testing.T) {
		// strict forbids Localhost seccomp profiles and the volume types
		// restricted allows beyond its list; restricted allows them.
		got := dims(ns["app"])
		want := []string{"volumes", "capabilities", "seccomp", "sysctls"}
		// defaulted is baseline (its template lacks the seccomp profile
		// PSP strict supplies), and baseline allows much more.
		if got := dims(ns["defaulted"]); !reflect.DeepEqual(got, []string{"volumes", "capabilities", "requiredDropCapabilities", "runAsRoot", "allowPrivilegeEscalation", "seccomp", "sysctls"}) {
			t.Errorf("defaulted lost %v", got)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("app lost %v, want %v", got, want)
		}
		for _, l := range ns["app"].ProtectionLost {
			if !strings.Contains(l.Message, "PSP strict") || !strings.HasSuffix(l.Message, "restricted allows it") {
				t.Errorf("message %q", l.Message)
			}
		}
	})

	t.Run("no usable PSP: every pod is rejected today", func(t *testing.T) {
		n := ns["locked"]
		if len(n.UsablePSPs) != 0 || len(n.ProtectionLost) != 1 || n.ProtectionLost[0].Dimension != "anyPod" {
			t.Errorf("locked: usable %v lost %+v", n.UsablePSPs, n.ProtectionLost)
		}
	})

	t.Run("fieldsToSet names the seccompProfile field, not the annotation", func(t *testing.T) {
		found := false
		for _, w := range rep.Workloads {
			if w.Name != "needs-seccomp" {
				continue
			}
			found = true
			var paths []string
			for _, f := range w.FieldsToSet {
				paths = append(paths, f.Path+"="+f.After)
			}
			want := []string{"spec.securityContext.seccompProfile.type=RuntimeDefault"}
			if !reflect.DeepEqual(paths, want) {
				t.Errorf("fieldsToSet %v, want %v", paths, want)
			}
		}
		if !found {
			t.Fatal("workload needs-seccomp missing")
		}
	})
}

// TestNoPSPNoProtectionFields: without PSPs in play the namespace fields
// stay absent.
func TestNoPSPNoProtectionFields(t *testing.T) {
	inv := load(t, filepath.Join("testdata", "mixed-input.yaml"))
	rep, err := Run(inv, Options{PSSVersion: "v1.24"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rep.Namespaces {
		if n.UsablePSPs != nil || n.ProtectionLost != nil || n.RejectedToday != nil {
			t.Errorf("%s: %+v", n.Name, n)
		}
	}
}
