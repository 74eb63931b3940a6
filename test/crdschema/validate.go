package crdschema

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	schemavalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// Error is everything wrong with one object.
type Error struct {
	// Object names it: "Kind name" or "Kind namespace/name".
	Object string
	// Problems each name a field path, e.g. "unknown field
	// spec.validate.patern" or "spec.mode: Unsupported value: ...".
	Problems []string
}

func (e *Error) Error() string {
	return e.Object + ": " + strings.Join(e.Problems, "; ")
}

// Validate checks obj as the API server checks a create request with
// strict field validation (kubectl's default) for obj's apiVersion and
// kind: the version must be defined and served; unknown fields anywhere,
// schema violations, broken list invariants, failed x-kubernetes-validations
// rules and an invalid metadata.name are errors. A kind without a CRD in
// the set is an error too, never a silent pass. The returned error is an
// *Error; warnings are what the API server would warn about (a deprecated
// version, a namespace on a cluster-scoped object).
//
// As on the server, unknown fields are pruned and defaults applied before
// the schema is checked; obj itself is not modified.
func (s *Set) Validate(ctx context.Context, obj *unstructured.Unstructured) (warnings []string, err error) {
	e := &Error{Object: describe(obj)}
	// The API server sees JSON: integers are int64, not the float64 a YAML
	// decoder into a map gives, and the schema's integer checks and CEL
	// rules depend on it. The round trip is also the deep copy.
	raw, jerr := json.Marshal(obj.Object)
	if jerr != nil {
		e.Problems = append(e.Problems, fmt.Sprintf("encode as JSON: %v", jerr))
		return nil, e
	}
	u := &unstructured.Unstructured{}
	if jerr := utiljson.Unmarshal(raw, &u.Object); jerr != nil {
		e.Problems = append(e.Problems, fmt.Sprintf("decode JSON: %v", jerr))
		return nil, e
	}
	fail := func(format string, args ...any) (
		[]string, error) {
		e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
		return warnings, e
	}

	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return fail("apiVersion and kind are required")
	}
	gv, perr := schema.ParseGroupVersion(u.GetAPIVersion())
	if perr != nil {
		return fail("apiVersion: %v", perr)
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: u.GetKind()}
	d, ok := s.byKind[gk]
	if !ok {
		return fail("no CustomResourceDefinition for %s (kind %q in group %q) in the loaded CRDs", gkString(gk), gk.Kind, gk.Group)
	}
	v, ok := d.versions[gv.Version]
	if !ok {
		return fail("version %q of %s is not defined by CustomResourceDefinition %s (served: %s)", gv.Version, gkString(gk), d.crd.Name, strings.Join(s.ServedVersions(gk), ", "))
	}
	if !v.served {
		return fail("version %q of %s is not served by CustomResourceDefinition %s (served: %s)", gv.Version, gkString(gk), d.crd.Name, strings.Join(s.ServedVersions(gk), ", "))
	}
	if v.deprecated {
		w := v.deprecationWarning
		if w == "" {
			w = fmt.Sprintf("%s %s is deprecated", u.GetAPIVersion(), u.GetKind())
		}
		warnings = append(warnings, e.Object+": "+w)
	}

	namespaced := d.crd.Spec.Scope == apiextensionsv1.NamespaceScoped
	switch {
	case namespaced && u.GetNamespace() == "":
		// kubectl fills in the namespace of its context.
		u.SetNamespace("default")
	case !namespaced && u.GetNamespace() != "":
		// The API server clears it before validation.
		warnings = append(warnings, fmt.Sprintf("%s: metadata.namespace %q is set on the cluster-scoped kind %s and is ignored", e.Object, u.GetNamespace(), gkString(gk)))
		u.SetNamespace("")
	}

	// Decoding: what strict field validation reports and pruning removes.
	_, _, metaUnknown, merr := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if merr != nil {
		return fail("metadata: %v", merr)
	}
	unknown := append([]string(nil), metaUnknown...)
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, v.structural)
	cerr, embeddedUnknown := schemaobjectmeta.CoerceWithOptions(nil, u.Object, v.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	unknown = append(unknown, embeddedUnknown...)
	for _, p := range unknown {
		e.Problems = append(e.Problems, "unknown field "+p)
	}
	if cerr != nil {
		e.Problems = append(e.Problems, cerr.Error())
	}

	// Defaulting, then what PrepareForCreate does.
	structuraldefaulting.Default(u.Object, v.structural)
	if v.statusSubresource {
		delete(u.Object, "status")
	}
	u.SetGeneration(1)

	// The strategy's Validate.
	var errs field.ErrorList
	skipped := false
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(u, namespaced, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, schemavalidation.ValidateCustomResource(nil, u.UnstructuredContent(), v.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u.Object, v.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, u.Object)...)
	if v.celValidator != nil {
		if blocking(errs) {
			skipped = true
		} else {
			celErrs, _ := v.celValidator.Validate(ctx, nil, v.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	for _, fe := range errs {
		e.Problems = append(e.Problems, fe.Error())
	}
	if skipped {
		e.Problems = append(e.Problems, "x-kubernetes-validations rules not checked because of the errors above (as the API server does)")
	}
	if len(e.Problems) > 0 {
		return warnings, e
	}
	return warnings, nil
}

// blocking reports errors after which the API server does not run the CEL
// rules (their inputs could not be trusted).
func blocking(errs field.ErrorList) bool {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// describe names an object for messages.
func describe(u *unstructured.Unstructured) string {
	kind := u.GetKind()
	if kind == "" {
		kind = "object"
	}
	name := u.GetName()
	if name == "" {
		name = "(no name)"
	}
	if ns := u.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return kind + " " + name
}
