package crdschema

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func loadTestCRDs(t *testing.T) *Set {
	t.Helper()
	s, err := Load("testdata/crds")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func object(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatalf("test object: %v", err)
	}
	return &unstructured.Unstructured{Object: m}
}

func TestLoad(t *testing.T) {
	s := loadTestCRDs(t)
	want := []string{"Gadget.example.psp-migrate.test", "Widget.example.psp-migrate.test"}
	if got := s.Kinds(); !reflect.DeepEqual(got, want) {
		t.Errorf("Kinds() = %v, want %v (the ConfigMap, the list, the text file and the group-less leftover skipped)", got, want)
	}
	if got, want := s.ServedVersions(schema.GroupKind{Group: "example.psp-migrate.test", Kind: "Widget"}), []string{"v1", "v1beta1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("served versions = %v, want %v", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"duplicate kind", "testdata/duplicate", "Thing.example.psp-migrate.test is already defined by testdata/duplicate/a.yaml (document 1)"},
		{"not structural", "testdata/nonstructural", "properties[spec].properties[size].type: Required value"},
		{"no CRDs", "testdata/crds/nested/values.yaml", "no CustomResourceDefinition found"},
		{"missing dir", "testdata/does-not-exist", "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%s) = %v, want an error containing %q", tt.dir, err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	s := loadTestCRDs(t)
	const widget = "apiVersion: example.psp-migrate.test/v1\nkind: Widget\nmetadata: {name: w, namespace: ns}\n"
	tests := []struct {
		name string
		obj  string
		// want are substrings of the problems, one per problem, in order;
		// none means valid.
		want     []string
		warnings []string
	}{
		{
			name: "valid",
			obj:  widget + "spec: {mode: enforce, minReplicas: 1, maxReplicas: 2, tags: [a, b], validate: {message: m, pattern: {anything: [goes]}}}\nstatus: {ready: true}",
		},
		{
			name: "valid without namespace, as kubectl sends it",
			obj:  "apiVersion: example.psp-migrate.test/v1\nkind: Widget\nmetadata: {name: w}\nspec: {mode: audit}",
		},
		{
			name: "unknown field",
			obj:  widget + "spec: {mode: enforce, validate: {patern: {}}}",
			want: []string{"unknown field spec.validate.patern"},
		},
		{
			name: "unknown fields at the root, in metadata and nested, all reported",
			obj:  "apiVersion: example.psp-migrate.test/v1\nkind: Widget\nmetadata: {name: w, lables: {a: b}}\nspex: {}\nspec: {mode: enforce, validate: {mesage: x}}",
			want: []string{"unknown field metadata.lables", "unknown field spec.validate.mesage", "unknown field spex"},
		},
		{
			name: "preserve-unknown-fields subtree is not pruned",
			obj:  widget + "spec: {mode: enforce, validate: {pattern: {patern: x}}}",
		},
		{
			name: "wrong type",
			obj:  widget + "spec: {mode: enforce, minReplicas: three}",
			want: []string{`spec.minReplicas: Invalid value: "string": spec.minReplicas in body must be of type integer`, "x-kubernetes-validations rules not checked"},
		},
		{
			name: "enum",
			obj:  widget + "spec: {mode: block}",
			want: []string{`spec.mode: Unsupported value: "block": supported values: "enforce", "audit"`, "x-kubernetes-validations rules not checked"},
		},
		{
			name: "enum of a defaulted field holds the default",
			obj:  widget + "spec: {mode: enforce, failurePolicy: fail}",
			want: []string{`spec.failurePolicy: Unsupported value: "fail"`, "x-kubernetes-validations rules not checked"},
		},
		{
			name: "required",
			obj:  widget + "spec: {minReplicas: 1}",
			want: []string{"spec.mode: Required value", "x-kubernetes-validations rules not checked"},
		},
		{
			name: "CEL rule",
			obj:  widget + "spec: {mode: enforce, minReplicas: 3, maxReplicas: 2}",
			want: []string{"spec: Invalid value: minReplicas must not exceed maxReplicas"},
		},
		{
			name: "list-type set",
			obj:  widget + "spec: {mode: enforce, tags: [a, a]}",
			want: []string{`spec.tags[1]: Duplicate value: "a"`},
		},
		{
			name: "status is dropped on create when it is a subresource",
			obj:  widget + "spec: {mode: enforce}\nstatus: {ready: maybe}",
		},
		{
			name: "invalid metadata.name",
			obj:  "apiVersion: example.psp-migrate.test/v1\nkind: Widget\nmetadata: {name: Not_A_Name}\nspec: {mode: enforce}",
			want: []string{`metadata.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain`},
		},
		{
			name: "missing metadata.name",
			obj:  "apiVersion: example.psp-migrate.test/v1\nkind: Widget\nspec: {mode: enforce}",
			want: []string{"metadata.name: Required value", "x-kubernetes-validations rules not checked"},
		},
		{
			name: "missing CRD",
			obj:  "apiVersion: example.psp-migrate.test/v1\nkind: Gizmo\nmetadata: {name: g}",
			want: []string{`no CustomResourceDefinition for Gizmo.example.psp-migrate.test`},
		},
		{
			name: "missing CRD in another group",
			obj:  "apiVersion: other.psp-migrate.test/v1\nkind: Widget\nmetadata: {name: g}",
			want: []string{`no CustomResourceDefinition for Widget.other.psp-migrate.test`},
		},
		{
			name: "undefined version",
			obj:  "apiVersion: example.psp-migrate.test/v2\nkind: Widget\nmetadata: {name: w}",
			want: []string{`version "v2" of Widget.example.psp-migrate.test is not defined by CustomResourceDefinition widgets.example.psp-migrate.test (served: v1, v1beta1)`},
		},
		{
			name: "version not served",
			obj:  "apiVersion: example.psp-migrate.test/v1alpha1\nkind: Widget\nmetadata: {name: w}",
			want: []string{`version "v1alpha1" of Widget.example.psp-migrate.test is not served`},
		},
		{
			name:     "deprecated version warns",
			obj:      "apiVersion: example.psp-migrate.test/v1beta1\nkind: Widget\nmetadata: {name: w}\nspec: {whatever: 1}",
			warnings: []string{"Widget w: example.psp-migrate.test/v1beta1 Widget is going away"},
		},
		{
			name:     "cluster-scoped kind, with a namespace",
			obj:      "apiVersion: example.psp-migrate.test/v1\nkind: Gadget\nmetadata: {name: g, namespace: ns}\nspec: {size: 1}",
			warnings: []string{`Gadget ns/g: metadata.namespace "ns" is set on the cluster-scoped kind Gadget.example.psp-migrate.test and is ignored`},
		},
		{
			name: "minimum",
			obj:  "apiVersion: example.psp-migrate.test/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 0}",
			want: []string{"spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"},
		},
		{
			name: "no kind",
			obj:  "apiVersion: example.psp-migrate.test/v1\nmetadata: {name: g}",
			want: []string{"apiVersion and kind are required"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := object(t, tt.obj)
			before := obj.DeepCopy()
			warnings, err := s.Validate(t.Context(), obj)
			if !reflect.DeepEqual(obj, before) {
				t.Errorf("Validate modified the object: %v", obj.Object)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var verr *Error
			if !errors.As(err, &verr) {
				t.Fatalf("want an *Error, got %v", err)
			}
			if got, want := verr.Object, describe(before); got != want {
				t.Errorf("error names %q, want %q", got, want)
			}
			if len(verr.Problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d matching %q", verr.Problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(verr.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, verr.Problems[i], w)
				}
			}
			if !strings.HasPrefix(err.Error(), verr.Object+": ") {
				t.Errorf("error %q does not start with the object", err)
			}
		})
	}
}
