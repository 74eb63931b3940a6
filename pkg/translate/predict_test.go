package translate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// fakeEngine is an engine whose output the rule model predicts as it is
// (as vap's is), or, with every, one that ANDs its per-PSP policies.
type fakeEngine struct {
	name      string
	predicts  bool
	every     bool
	rendering Output
}

func (e fakeEngine) Name() string                 { return e.name }
func (fakeEngine) Component() string              { return "fake" }
func (e fakeEngine) NeedsPolicySet() bool         { return e.predicts }
func (e fakeEngine) Render(Input) (Output, error) { return e.rendering, nil }
func (e fakeEngine) Prediction() *Prediction {
	switch {
	case !e.predicts:
		return nil
	case e.every:
		return &Prediction{AppliedPSPs: func(set *PolicySet, _, _ string) []int {
			out := make([]int, len(set.Policies))
			for i := range out {
				out[i] = i
			}
			return out
		}}
	}
	return &Prediction{}
}

var (
	modelEngine = fakeEngine{name: EngineVAP, predicts: true}
	noPredict   = fakeEngine{name: EnginePSA}
)

func TestPredict(t *testing.T) {
	inv := loadInput(t)
	tests := []struct {
		name   string
		filter string
		opts   Options
		want   map[PodKey][]PolicyVerdict
	}{
		{
			name: "rbac scope: each pod against the PSPs its service account may use",
			opts: Options{Scope: ScopeRBAC},
			want: map[PodKey][]PolicyVerdict{
				{"apps", "web"}: {{Engine: "vap", PSP: "restricted", Allowed: true, Reasons: []string{}}},
				{"apps", "sneaky"}: {{Engine: "vap", PSP: "restricted", Reasons: []string{
					"spec.hostNetwork: hostNetwork is not allowed",
					"spec.runAsUser: containers must run as non-root (runAsNonRoot: true or a non-zero runAsUser)",
					"spec.requiredDropCapabilities: containers must drop ALL",
					"spec.allowPrivilegeEscalation: containers must set allowPrivilegeEscalation: false",
					"metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: the pod must set securityContext.seccompProfile, and every seccompProfile must be one of runtime/default",
				}}},
				{"monitoring", "exporter"}: {
					{Engine: "vap", PSP: "agents.host", Allowed: true, Reasons: []string{}},
					{Engine: "vap", PSP: "restricted", Reasons: []string{
						"spec.hostNetwork: hostNetwork is not allowed",
						"spec.hostPorts: host ports are not allowed",
						"spec.runAsUser: containers must run as non-root (runAsNonRoot: true or a non-zero runAsUser)",
						"spec.requiredDropCapabilities: containers must drop ALL",
						"spec.allowPrivilegeEscalation: containers must set allowPrivilegeEscalation: false",
						"metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: the pod must set securityContext.seccompProfile, and every seccompProfile must be one of runtime/default",
					}},
				},
				// kube-system/proxy: excluded, no verdicts.
			},
		},
		{
			name:   "focus on a PSP the pod may not use",
			filter: "agents.host",
			opts:   Options{Scope: ScopeRBAC},
			want: map[PodKey][]PolicyVerdict{
				{"apps", "web"}:            {{Engine: "vap", PSP: "agents.host", Reasons: []string{"service account apps/default may not use PodSecurityPolicy agents.host (scope rbac)"}}},
				{"apps", "sneaky"}:         {{Engine: "vap", PSP: "agents.host", Reasons: []string{"service account apps/default may not use PodSecurityPolicy agents.host (scope rbac)"}}},
				{"monitoring", "exporter"}: {{Engine: "vap", PSP: "agents.host", Allowed: true, Reasons: []string{}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Predict(inv, []Engine{modelEngine}, tt.filter, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				for k, v := range got {
					if !reflect.DeepEqual(v, tt.want[k]) {
						t.Errorf("%v: got %+v, want %+v", k, v, tt.want[k])
					}
				}
				if len(got) != len(tt.want) {
					t.Errorf("got %d pods, want %d", len(got), len(tt.want))
				}
			}
		})
	}

	t.Run("verdict JSON", func(t *testing.T) {
		b, _ := json.Marshal(PolicyVerdict{Engine: "vap", PSP: "p", Reasons: []string{}})
		if string(b) != `{"engine":"vap","psp":"p","allowed":false,"reasons":[]}` {
			t.Errorf("JSON = %s", b)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			engines []Engine
			filter  string
			errPart string
		}{
			{[]Engine{noPredict}, "", `engine "psa" has no per-pod prediction`},
			{[]Engine{modelEngine}, "nope", "not found"},
		} {
			if _, err := Predict(inv, tc.engines, tc.filter, Options{}); err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("Predict(%v, %q) err = %v, want %q", tc.engines, tc.filter, err, tc.errPart)
			}
		}
	})
	t.Run("templates", func(t *testing.T) {
		p, err := NewPredictor(inv, []Engine{modelEngine}, "", Options{Scope: ScopeRBAC})
		if err != nil {
			t.Fatal(err)
		}
		tpl := &inv.Deployments[0].Spec.Template
		got := p.Template("apps", tpl, nil)
		if len(got) != 1 || !got[0].Allowed || got[0].PSP != "restricted" {
			t.Errorf("template verdicts = %+v, want restricted allows it", got)
		}
		if !p.Admitted(got, EngineVAP) {
			t.Error("Admitted = false")
		}
	})
}

func TestAdmitted(t *testing.T) {
	p := &Predictor{engines: []Engine{modelEngine, fakeEngine{name: "kyverno", predicts: true}, fakeEngine{name: "gatekeeper", predicts: true, every: true}}}
	v := []PolicyVerdict{{Engine: "vap", PSP: "a"}, {Engine: "vap", PSP: "b", Allowed: true}, {Engine: "kyverno", PSP: "a"},
		{Engine: "gatekeeper", PSP: "a", Allowed: true}, {Engine: "gatekeeper", PSP: "b"}}
	tests := []struct {
		name     string
		verdicts []PolicyVerdict
		engine   string
		want     bool
	}{
		{"one allowed verdict of the engine admits", v, "vap", true},
		{"no allowed verdict rejects", v, "kyverno", false},
		{"no verdict (excluded) admits", nil, "vap", true},
		{"an engine ANDing its policies needs every verdict", v, "gatekeeper", false},
		{"an engine ANDing its policies, all allowed", v[3:4], "gatekeeper", true},
		{"an engine ANDing its policies, no policy applies", nil, "gatekeeper", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Admitted(tt.verdicts, tt.engine); got != tt.want {
				t.Errorf("Admitted(%s) = %t, want %t", tt.engine, got, tt.want)
			}
		})
	}
	if got, ok := VerdictFor(v, "vap", "b"); !ok || !got.Allowed {
		t.Errorf("VerdictFor(vap, b) = %+v, %t", got, ok)
	}
	if _, ok := VerdictFor(v, "vap", "c"); ok {
		t.Error("VerdictFor(vap, c) found a verdict")
	}
}
