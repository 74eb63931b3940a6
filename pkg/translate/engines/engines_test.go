package engines

import (
	"slices"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

func TestAll(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, want sorted", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("Names() = %v holds a name twice", names)
	}
	want := []string{translate.EngineGatekeeper, translate.EngineKubewarden, translate.EngineKyverno,
		translate.EngineKyvernoCEL, translate.EnginePSA, translate.EngineVAP}
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v", names, want)
	}
	for _, e := range All() {
		if e.Component() == "" {
			t.Errorf("engine %s has no component text", e.Name())
		}
		if translate.Predicts(e) != e.NeedsPolicySet() {
			t.Errorf("engine %s: Predicts = %v, NeedsPolicySet = %v: every engine converting PSPs predicts", e.Name(), translate.Predicts(e), e.NeedsPolicySet())
		}
	}
}

func TestByName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{name: "vap"},
		{name: "kyverno-cel"},
		{name: "psa"},
		{name: "opa", wantErr: `unknown engine "opa": want one of gatekeeper, kubewarden, kyverno, kyverno-cel, psa, vap`},
		{name: "", wantErr: `unknown engine ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ByName(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ByName(%q) = %v, %v; want error %q", tt.name, e, err, tt.wantErr)
				}
				return
			}
			if err != nil || e.Name() != tt.name {
				t.Fatalf("ByName(%q) = %v, %v", tt.name, e, err)
			}
		})
	}
	if _, err := ByNames([]string{"vap", "nope"}); err == nil {
		t.Error("ByNames with an unknown name: no error")
	}
}

func TestPredicting(t *testing.T) {
	got := PredictingNames()
	want := []string{"gatekeeper", "kubewarden", "kyverno", "kyverno-cel", "vap"}
	if !slices.Equal(got, want) {
		t.Errorf("PredictingNames() = %v, want %v", got, want)
	}
}

func TestComponents(t *testing.T) {
	cs := Components()
	if len(cs) != len(All()) {
		t.Fatalf("Components() = %v, want one per engine", cs)
	}
	for i, c := range cs {
		if c.Name != Names()[i] || c.Version == "" {
			t.Errorf("component %d = %+v", i, c)
		}
	}
}
