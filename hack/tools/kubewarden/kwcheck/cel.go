package main

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	k8slib "k8s.io/apiserver/pkg/cel/library"
)

// celEnv is built with the options and libraries cel-policy documents
// (its README and internal/cel/cel.go at the pinned version): the
// Kubernetes CEL environment of ValidatingAdmissionPolicy, with `object`,
// `oldObject`, `request`, `namespaceObject` and `params` untyped. The
// Kubewarden host-capability libraries are left out: the converted policies
// do not call them.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateRegexLiterals(),
			cel.ValidateHomogeneousAggregateLiterals(),
		),
		ext.Sets(),
		ext.Strings(ext.StringsVersion(2)),
		ext.Encoders(),
		k8slib.URLs(),
		k8slib.Regex(),
		k8slib.Lists(),
		k8slib.Quantity(),
		cel.Variable("object", cel.DynType),
		cel.Variable("oldObject", cel.DynType),
		cel.Variable("request", cel.DynType),
		cel.Variable("namespaceObject", cel.DynType),
		cel.Variable("params", cel.DynType),
		cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType)),
	)
})

// checkCELSettings compiles every expression of a cel-policy's settings:
// validations must be bool, message expressions string.
func checkCELSettings(v any) error {
	env, err := celEnv()
	if err != nil {
		return fmt.Errorf("building the CEL environment: %w", err)
	}
	m := v.(map[string]any)
	check := func(what, expr string, want *types.Type) error {
		ast, iss := env.Compile(expr)
		if iss != nil && iss.Err() != nil {
			return fmt.Errorf("%s does not compile: %v", what, iss.Err())
		}
		if want != nil && !ast.OutputType().IsExactType(want) && ast.OutputType() != types.DynType {
			return fmt.Errorf("%s evaluates to %v, want %v", what, ast.OutputType(), want)
		}
		return nil
	}
	vars, _ := m["variables"].([]any)
	for i, x := range vars {
		e := x.(map[string]any)
		if err := check(fmt.Sprintf("variables[%d].expression", i), e["expression"].(string), nil); err != nil {
			return err
		}
	}
	vals, _ := m["validations"].([]any)
	if len(vals) == 0 {
		return fmt.Errorf("validations: at least one is needed")
	}
	for i, x := range vals {
		e := x.(map[string]any)
		if err := check(fmt.Sprintf("validations[%d].expression", i), e["expression"].(string), types.BoolType); err != nil {
			return err
		}
		if me, ok := e["messageExpression"].(string); ok && me != "" {
			if err := check(fmt.Sprintf("validations[%d].messageExpression", i), me, types.StringType); err != nil {
				return err
			}
		}
	}
	return nil
}
