// Package crdschema checks custom resources against the
// CustomResourceDefinitions of the engine that will receive them, the way a
// kube-apiserver does on create with strict field validation: unknown fields
// (found by pruning), the OpenAPI schema, x-kubernetes-validations CEL rules,
// list-type invariants, embedded resources and metadata.
//
// The engines themselves skip a misspelt field silently (Kyverno drops a
// policy with an unknown field from `kyverno apply` and reports success), so
// the converter's output is held to the CRDs the engines ship, read from the
// Go module cache at test time. Nothing here is part of the plugin.
package crdschema

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemavalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// Set is the CustomResourceDefinitions objects are validated against, by
// group and kind.
type Set struct {
	byKind map[schema.GroupKind]*definition
}

// definition is one CRD, prepared the way the API server prepares it to
// serve its versions.
type definition struct {
	crd *apiextensionsv1.CustomResourceDefinition
	// source is where it was read from, for messages.
	source   string
	versions map[string]*version
}

type version struct {
	name               string
	served             bool
	deprecated         bool
	deprecationWarning string
	statusSubresource  bool
	structural         *structuralschema.Structural
	validator          schemavalidation.SchemaValidator
	// celValidator is nil when the schema has no x-kubernetes-validations.
	celValidator *cel.Validator
}

// NewSet returns an empty Set; Add fills it.
func NewSet() *Set {
	return &Set{byKind: map[schema.GroupKind]*definition{}}
}

// Load reads every CustomResourceDefinition (apiextensions.k8s.io/v1) in
// the YAML and JSON files under dirs, walking them recursively. Documents
// of other kinds are skipped; a CRD that the API server would refuse, or a
// second CRD for a group and kind already loaded, is an error.
func Load(dirs ...string) (*Set, error) {
	s := NewSet()
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			return s.loadFile(path)
		})
		if err != nil {
			return nil, fmt.Errorf("load CRDs from %s: %w", dir, err)
		}
	}
	if len(s.byKind) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition found in %s", strings.Join(dirs, ", "))
	}
	return s, nil
}

func (s *Set) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			// Not an object (a values file, a list of strings...): not a CRD.
			continue
		}
		if tm.Kind != "CustomResourceDefinition" || tm.APIVersion != apiextensionsv1.SchemeGroupVersion.String() {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(doc, crd); err != nil {
			return fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		// controller-gen leaves CRDs without a group behind for packages
		// whose group marker it did not see (Gatekeeper's
		// config/crd/bases/_*.yaml); installers leave them out and the API
		// server refuses them, so no object can be of their kinds.
		if crd.Spec.Group == "" {
			continue
		}
		if err := s.Add(crd, fmt.Sprintf("%s (document %d)", path, i+1)); err != nil {
			return err
		}
	}
}

// Add prepares crd for validation: it is defaulted and validated as the API
// server does when the CRD is created (so a constraint CRD built from a
// Gatekeeper ConstraintTemplate must be structural, as Gatekeeper requires),
// then each version's structural schema, OpenAPI validator and CEL rules are
// built. source names where the CRD came from in messages.
func (s *Set) Add(crd *apiextensionsv1.CustomResourceDefinition, source string) error {
	crd = crd.DeepCopy()
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
	gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	if prev, ok := s.byKind[gk]; ok {
		return fmt.Errorf("CustomResourceDefinition %s from %s: %s is already defined by %s", crd.Name, source, gkString(gk), prev.source)
	}
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		return fmt.Errorf("CustomResourceDefinition %s from %s: convert: %w", crd.Name, source, err)
	}
	// The API server records the storage version when it creates the CRD.
	if len(internal.Status.StoredVersions) == 0 {
		for _, v := range internal.Spec.Versions {
			if v.Storage {
				internal.Status.StoredVersions = []string{v.Name}
			}
		}
	}
	if errs := crdvalidation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
		return fmt.Errorf("CustomResourceDefinition %s from %s is invalid: %w", crd.Name, source, errs.ToAggregate())
	}
	d := &definition{crd: crd, source: source, versions: map[string]*version{}}
	for _, v := range crd.Spec.Versions {
		pv, err := prepareVersion(v)
		if err != nil {
			return fmt.Errorf("CustomResourceDefinition %s from %s, version %s: %w", crd.Name, source, v.Name, err)
		}
		d.versions[v.Name] = pv
	}
	s.byKind[gk] = d
	return nil
}

// prepareVersion builds what the API server's customresource handler builds
// for one served version.
func prepareVersion(v apiextensionsv1.CustomResourceDefinitionVersion) (*version, error) {
	out := &version{
		name:              v.Name,
		served:            v.Served,
		deprecated:        v.Deprecated,
		statusSubresource: v.Subresources != nil && v.Subresources.Status != nil,
	}
	if v.DeprecationWarning != nil {
		out.deprecationWarning = *v.DeprecationWarning
	}
	if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
		// apiextensions.k8s.io/v1 requires a schema; Add has already
		// refused a CRD without one.
		return nil, errors.New("no schema")
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internal, nil); err != nil {
		return nil, fmt.Errorf("convert schema: %w", err)
	}
	st, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("structural schema: %w", err)
	}
	st = st.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(st); err != nil {
		return nil, fmt.Errorf("prune defaults: %w", err)
	}
	out.structural = st
	out.validator, _, err = schemavalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("schema validator: %w", err)
	}
	out.celValidator = cel.NewValidator(st, true, celconfig.PerCallLimit)
	return out, nil
}

// Kinds lists the group/kinds of the set, sorted, for messages.
func (s *Set) Kinds() []string {
	out := make([]string, 0, len(s.byKind))
	for gk := range s.byKind {
		out = append(out, gkString(gk))
	}
	sort.Strings(out)
	return out
}

// Has reports whether the set has a CRD for the group and kind.
func (s *Set) Has(gk schema.GroupKind) bool {
	_, ok := s.byKind[gk]
	return ok
}

// ServedVersions lists the versions of a kind the API server would serve.
func (s *Set) ServedVersions(gk schema.GroupKind) []string {
	d, ok := s.byKind[gk]
	if !ok {
		return nil
	}
	var out []string
	for _, v := range d.crd.Spec.Versions {
		if v.Served {
			out = append(out, v.Name)
		}
	}
	slices.Sort(out)
	return out
}

func gkString(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}
