package vap

import (
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func TestRenderVAP(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	tests := []struct {
		name   string
		opts   translate.Options
		golden string
	}{
		{"rbac scope, enforce, default exclusions", translate.Options{Scope: translate.ScopeRBAC, ToolVersion: "1.2.3"}, "vap-rbac.yaml"},
		{"cluster scope, warn, no exclusions", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn, ExcludeNamespaces: []string{}, ToolVersion: "1.2.3"}, "vap-cluster-warn.yaml"},
		{"one PSP, audit", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeAudit, PSPs: []string{"agents.host"}, ToolVersion: "1.2.3+dirty"}, "vap-one-psp-audit.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := translate.Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, data := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options})
			translatetest.CheckGolden(t, tt.golden, data)

			// Every object decodes strictly into the API types: an unknown
			// or misspelt field would be silently dropped by the server.
			ms, _ := translate.Marshal(out.Objects)
			for _, m := range ms {
				var obj any = &admissionregistrationv1.ValidatingAdmissionPolicy{}
				if strings.Contains(m.FileName, "binding") {
					obj = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
				}
				if err := yaml.UnmarshalStrict(m.YAML, obj); err != nil {
					t.Errorf("%s: strict decode: %v", m.FileName, err)
				}
				if !strings.HasPrefix(m.FileName, "vap-") {
					t.Errorf("file name %s does not start with the engine", m.FileName)
				}
			}
			for _, o := range out.Objects {
				m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				u := &unstructured.Unstructured{Object: m}
				if u.GetLabels()[translate.LabelManagedBy] != translate.ManagedByValue || u.GetAnnotations()[translate.AnnotationSourcePSPs] == "" ||
					u.GetAnnotations()[translate.AnnotationToolVersion] != tt.opts.ToolVersion {
					t.Errorf("%s lacks provenance: labels %v annotations %v", o.FileName, u.GetLabels(), u.GetAnnotations())
				}
			}
		})
	}
}
