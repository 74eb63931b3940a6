package translate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
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
			got, err := Predict(inv, []string{EngineVAP}, tt.filter, tt.opts)
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
			engines []string
			filter  string
			errPart string
		}{
			{[]string{"psa"}, "", "no per-pod prediction"},
			{[]string{"vap"}, "nope", "not found"},
		} {
			if _, err := Predict(inv, tc.engines, tc.filter, Options{}); err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Errorf("Predict(%v, %q) err = %v, want %q", tc.engines, tc.filter, err, tc.errPart)
			}
		}
	})
	t.Run("templates", func(t *testing.T) {
		p, err := NewPredictor(inv, []string{EngineVAP}, "", Options{Scope: ScopeRBAC})
		if err != nil {
			t.Fatal(err)
		}
		tpl := &inv.Deployments[0].Spec.Template
		got := p.Template("apps", tpl, nil)
		if len(got) != 1 || !got[0].Allowed || got[0].PSP != "restricted" {
			t.Errorf("template verdicts = %+v, want restricted allows it", got)
		}
		if !Admitted(got, EngineVAP) {
			t.Error("Admitted = false")
		}
	})
}

func TestAdmitted(t *testing.T) {
	v := []PolicyVerdict{{Engine: "vap", PSP: "a"}, {Engine: "vap", PSP: "b", Allowed: true}, {Engine: "kyverno", PSP: "a"}}
	if !Admitted(v, "vap") || Admitted(v, "kyverno") || !Admitted(nil, "vap") {
		t.Error("Admitted: any allowed verdict of the engine admits; none of the engine's verdicts (excluded) admits")
	}
	if got, ok := VerdictFor(v, "vap", "b"); !ok || !got.Allowed {
		t.Errorf("VerdictFor(vap, b) = %+v, %t", got, ok)
	}
	if _, ok := VerdictFor(v, "vap", "c"); ok {
		t.Error("VerdictFor(vap, c) found a verdict")
	}
}
