package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
	"github.com/psp-migrate/kubectl-psp-migrate/test/crdschema"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// Every engine's output for the translation corpus, in many variants, is
// validated against the CRDs the engine ships, as the API server would on
// `kubectl apply` with strict field validation (test/crdschema). The
// engines skip what they do not understand silently (a Kyverno policy with
// a misspelt field is dropped; a Gatekeeper parameter nobody declared is
// ignored), so this is where a typo in a renderer shows.
//
// Gatekeeper constraints have no CRD in the Gatekeeper module: Gatekeeper
// generates one per ConstraintTemplate. crdGatekeeperConstraintCRD builds it
// the way Gatekeeper does, so that parameters are held to the template's
// schema. Kubewarden's output is checked by its own module
// (hack/tools/kubewarden); vap and psa are built-in types, decoded strictly
// by their own tests.

// Where the engines' modules are: exported by hack/ensure-kyverno.sh and
// hack/ensure-gator.sh (hack/engines-env.sh).
const (
	crdKyvernoModuleEnv    = "PSP_MIGRATE_KYVERNO_MODULE"
	crdGatekeeperModuleEnv = "PSP_MIGRATE_GATEKEEPER_MODULE"
	// crdToolVersion is not a valid label value, so the version label is
	// left out and only the annotation carries it: both paths get checked.
	crdToolVersion = "v1.2.3+test.dirty"
)

// Gatekeeper facts (Gatekeeper v3, github.com/open-policy-agent/frameworks):
// constraints live in one group, are served as v1beta1 (storage) and
// v1alpha1, and are handled by one validation target.
const (
	crdConstraintGroup    = "constraints.gatekeeper.sh"
	crdTemplateGroup      = "templates.gatekeeper.sh"
	crdGatekeeperTarget   = "admission.k8s.gatekeeper.sh"
	crdGatekeeperMatchCRD = "match.gatekeeper.sh_matchcrd.yaml"
)

// crdGatekeeperActions are the enforcement actions Gatekeeper's webhook
// accepts on a constraint.
var crdGatekeeperActions = []string{"deny", "dryrun", "warn", "scoped"}

// crdEngine is an engine whose output has CRDs to check against.
type crdEngine struct {
	engine string
	env    string
	what   string
	// crdDir is where the module keeps its CRDs.
	crdDir string
}

var crdEngines = []crdEngine{
	{translate.EngineKyverno, crdKyvernoModuleEnv, "the Kyverno module, for its CRDs", "config/crds"},
	{translate.EngineKyvernoCEL, crdKyvernoModuleEnv, "the Kyverno module, for its CRDs", "config/crds"},
	{translate.EngineGatekeeper, crdGatekeeperModuleEnv, "the Gatekeeper module, for its CRDs", "config/crd/bases"},
}

// crdRenderer returns the engine's renderer. An engine whose renderer is
// not registered yet is skipped: this is the one place to drop once every
// renderer has landed.
func crdRenderer(t *testing.T, engine string) translate.Engine {
	t.Helper()
	r, err := engines.ByName(engine)
	if err != nil {
		t.Skipf("engine %s: no renderer registered yet: %v", engine, err)
	}
	return r
}

// crdSets caches the CRDs loaded per directory: the Kyverno set takes a
// second to build and two engines and two tests use it.
var crdSets = struct {
	sync.Mutex
	m map[string]*crdschema.Set
}{m: map[string]*crdschema.Set{}}

func crdLoad(t *testing.T, dir string) *crdschema.Set {
	t.Helper()
	crdSets.Lock()
	defer crdSets.Unlock()
	if s, ok := crdSets.m[dir]; ok {
		return s
	}
	s, err := crdschema.Load(dir)
	if err != nil {
		t.Fatalf("load CRDs: %v", err)
	}
	crdSets.m[dir] = s
	return s
}

// crdEngineSet is the engine's module directory and its CRDs.
func crdEngineSet(t *testing.T, e crdEngine) (module string, set *crdschema.Set) {
	t.Helper()
	module = framework.Tool(t, e.env, e.what)
	return module, crdLoad(t, filepath.Join(module, e.crdDir))
}

// crdVariant is one conversion of the corpus.
type crdVariant struct {
	name string
	opts translate.Options
}

// crdVariants: each PSP alone under both scopes, all of them under both
// scopes, each mode, no excluded namespace, and a pair.
func crdVariants(t *testing.T, c *trCorpus) []crdVariant {
	t.Helper()
	set, err := translate.Compile(c.inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	names := set.PSPNames()
	var out []crdVariant
	for _, scope := range translate.Scopes {
		for _, n := range names {
			out = append(out, crdVariant{fmt.Sprintf("psp=%s,scope=%s", n, scope), translate.Options{Scope: scope, PSPs: []string{n}}})
		}
		out = append(out, crdVariant{"all,scope=" + string(scope), translate.Options{Scope: scope}})
	}
	for _, m := range translate.Modes {
		out = append(out, crdVariant{"all,scope=rbac,mode=" + string(m), translate.Options{Scope: translate.ScopeRBAC, Mode: m}})
	}
	out = append(out,
		crdVariant{"all,scope=cluster,exclude-namespaces=none", translate.Options{Scope: translate.ScopeCluster, ExcludeNamespaces: []string{}}},
		crdVariant{"all,scope=rbac,exclude-namespaces=none,mode=warn", translate.Options{Scope: translate.ScopeRBAC, ExcludeNamespaces: []string{}, Mode: translate.ModeWarn}},
	)
	if len(names) >= 2 {
		pair := names[:2]
		out = append(out, crdVariant{"psp=" + strings.Join(pair, "+") + ",scope=rbac", translate.Options{Scope: translate.ScopeRBAC, PSPs: pair}})
	}
	for i := range out {
		out[i].opts.ToolVersion = crdToolVersion
	}
	return out
}

// crdObject is one rendered object as it would be applied.
type crdObject struct {
	file string
	obj  *unstructured.Unstructured
}

// crdRender converts the corpus and returns what `convert` would write,
// decoded back from the YAML. A renderer may refuse a selection of PSPs
// that admits every pod of the corpus (there is nothing to enforce; the
// gatekeeper engine says so rather than write nothing): that variant is
// then skipped, with a log line. Any other failure is the test's.
func crdRender(t *testing.T, r translate.Engine, c *trCorpus, variant string, opts translate.Options) ([]crdObject, []string, bool) {
	t.Helper()
	set, err := translate.Compile(c.inv, opts)
	if err != nil {
		t.Fatalf("%s: compile: %v", variant, err)
	}
	out, err := r.Render(translate.Input{Set: set, Options: set.Options})
	if err == nil && len(out.Objects) == 0 {
		err = errors.New("rendered nothing")
	}
	if err != nil {
		if crdAdmitsEveryPod(c, set) {
			t.Logf("%s: %s renders nothing for PSPs that admit every corpus pod: %v", variant, r.Name(), err)
			return nil, nil, false
		}
		t.Errorf("%s: render: %v", variant, err)
		return nil, nil, false
	}
	ms, err := translate.Marshal(out.Objects)
	if err != nil {
		t.Errorf("%s: marshal: %v", variant, err)
		return nil, nil, false
	}
	objs := make([]crdObject, 0, len(ms))
	for _, m := range ms {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(m.YAML, &u.Object); err != nil {
			t.Fatalf("%s: %v", m.FileName, err)
		}
		objs = append(objs, crdObject{file: m.FileName, obj: u})
	}
	return objs, out.Warnings, true
}

// crdAdmitsEveryPod: every rule of every PSP of the set allows every
// corpus pod.
func crdAdmitsEveryPod(c *trCorpus, set *translate.PolicySet) bool {
	for _, pod := range c.pods {
		p := c.prepared(pod, pod.Namespace)
		for _, pol := range set.Policies {
			if len(failedIDs(&pol, p)) > 0 {
				return false
			}
		}
	}
	return true
}

// crdTally counts validated objects per kind, and the objects per warning
// the API server would give.
type crdTally struct {
	kinds    map[string]int
	warnings map[string]int
}

func newCRDTally() *crdTally {
	return &crdTally{kinds: map[string]int{}, warnings: map[string]int{}}
}

func (ct *crdTally) String() string {
	total := 0
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ct.kinds)) {
		total += ct.kinds[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, ct.kinds[k]))
	}
	return fmt.Sprintf("%d objects (%s)", total, strings.Join(parts, ", "))
}

// crdValidate validates one object and reports every problem, naming the
// variant and the file.
func crdValidate(t *testing.T, set *crdschema.Set, variant string, o crdObject, tally *crdTally) {
	t.Helper()
	warnings, err := set.Validate(t.Context(), o.obj)
	if err != nil {
		t.Errorf("%s: %s: %v", variant, o.file, err)
	}
	for _, w := range warnings {
		// One line per distinct warning, not per object.
		_, msg, _ := strings.Cut(w, ": ")
		tally.warnings[msg]++
	}
	tally.kinds[o.obj.GetKind()]++
}

// crdCheckProvenance: every rendered object says what made it.
func crdCheckProvenance(t *testing.T, engine, variant string, o crdObject) {
	t.Helper()
	labels, annotations := o.obj.GetLabels(), o.obj.GetAnnotations()
	if labels[translate.LabelManagedBy] != translate.ManagedByValue || labels[translate.LabelEngine] != engine {
		t.Errorf("%s: %s: labels %v lack %s=%s and %s=%s", variant, o.file, labels, translate.LabelManagedBy, translate.ManagedByValue, translate.LabelEngine, engine)
	}
	if annotations[translate.AnnotationToolVersion] != crdToolVersion {
		t.Errorf("%s: %s: annotation %s = %q, want %q", variant, o.file, translate.AnnotationToolVersion, annotations[translate.AnnotationToolVersion], crdToolVersion)
	}
}

// TestTranslateCRDSchemas renders every engine's output for the corpus in
// every variant and validates each object against the engine's CRDs.
func TestTranslateCRDSchemas(t *testing.T) {
	c := loadTranslateCorpus(t)
	variants := crdVariants(t, c)
	for _, e := range crdEngines {
		t.Run(e.engine, func(t *testing.T) {
			r := crdRenderer(t, e.engine)
			module, set := crdEngineSet(t, e)
			tally := newCRDTally()
			rendered, rendererWarnings := 0, 0
			for _, v := range variants {
				if e.engine == translate.EngineGatekeeper {
					n, w := crdCheckGatekeeper(t, r, c, module, set, v, tally)
					rendered += n
					rendererWarnings += w
					continue
				}
				objs, warnings, ok := crdRender(t, r, c, v.name, v.opts)
				if !ok {
					continue
				}
				rendered++
				rendererWarnings += len(warnings)
				for _, o := range objs {
					crdCheckProvenance(t, e.engine, v.name, o)
					crdValidate(t, set, v.name, o, tally)
				}
			}
			if rendered == 0 {
				t.Fatalf("%s: no variant rendered anything", e.engine)
			}
			t.Logf("%s: validated %s from %d renderings; renderer warnings: %d", e.engine, tally, rendered, rendererWarnings)
			for _, w := range slices.Sorted(maps.Keys(tally.warnings)) {
				t.Logf("%s: API server warning for %d objects: %s", e.engine, tally.warnings[w], w)
			}
		})
	}
}

// crdCheckGatekeeper renders a variant with and without the project's
// ConstraintTemplates. Templates are validated against Gatekeeper's CRD
// and the rules Gatekeeper adds; constraints against the CRDs Gatekeeper
// would generate from those templates. Without --gatekeeper-templates the
// constraints are meant for the gatekeeper-library's templates, whose kinds
// and parameter schemas the project's own ones copy: those schemas are the
// ones available offline, so they judge both outputs.
func crdCheckGatekeeper(t *testing.T, r translate.Engine, c *trCorpus, module string, base *crdschema.Set, v crdVariant, tally *crdTally) (rendered, rendererWarnings int) {
	t.Helper()
	match := crdGatekeeperMatchSchema(t, module)
	withOpts := v.opts
	withOpts.GatekeeperTemplates = true
	name := v.name + ",gatekeeper-templates"
	with, warnings, ok := crdRender(t, r, c, name, withOpts)
	if !ok {
		return 0, 0
	}
	rendered++
	rendererWarnings += len(warnings)
	constraints := crdschema.NewSet()
	for _, o := range with {
		if o.obj.GroupVersionKind().Group != crdTemplateGroup {
			continue
		}
		for _, err := range crdGatekeeperTemplateRules(o.obj) {
			t.Errorf("%s: %s: %v", name, o.file, err)
		}
		crd, err := crdGatekeeperConstraintCRD(o.obj, match)
		if err != nil {
			t.Errorf("%s: %s: %v", name, o.file, err)
			continue
		}
		if err := constraints.Add(crd, fmt.Sprintf("ConstraintTemplate %s of %s", o.obj.GetName(), o.file)); err != nil {
			t.Errorf("%s: %s: Gatekeeper could not create the constraint CRD: %v", name, o.file, err)
		}
	}
	check := func(variant string, objs []crdObject) {
		for _, o := range objs {
			crdCheckProvenance(t, translate.EngineGatekeeper, variant, o)
			if o.obj.GroupVersionKind().Group != crdConstraintGroup {
				crdValidate(t, base, variant, o, tally)
				continue
			}
			crdValidate(t, constraints, variant, o, tally)
			for _, err := range crdGatekeeperConstraintRules(o.obj) {
				t.Errorf("%s: %s: %v", variant, o.file, err)
			}
		}
	}
	check(name, with)
	without, warnings, ok := crdRender(t, r, c, v.name, v.opts)
	if !ok {
		return rendered, rendererWarnings
	}
	rendered++
	rendererWarnings += len(warnings)
	for _, o := range without {
		if o.obj.GroupVersionKind().Group == crdTemplateGroup {
			t.Errorf("%s: %s: a ConstraintTemplate without --gatekeeper-templates", v.name, o.file)
		}
	}
	check(v.name, without)
	return rendered, rendererWarnings
}

var crdMatchSchemas sync.Map // module dir -> apiextensionsv1.JSONSchemaProps

// crdGatekeeperMatchSchema is the schema Gatekeeper gives a constraint's
// spec.match: the embeddedMatch property of the placeholder CRD it
// generates for the purpose (pkg/target reads the same file's content).
func crdGatekeeperMatchSchema(t *testing.T, module string) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	if s, ok := crdMatchSchemas.Load(module); ok {
		return s.(apiextensionsv1.JSONSchemaProps)
	}
	path := filepath.Join(module, "config/crd/bases", crdGatekeeperMatchCRD)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("Gatekeeper's match schema: %v", err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(b, crd); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil || crd.Spec.Versions[0].Schema.OpenAPIV3Schema == nil {
		t.Fatalf("%s: want one version with a schema", path)
	}
	s, ok := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["embeddedMatch"]
	if !ok {
		t.Fatalf("%s: no embeddedMatch property", path)
	}
	crdMatchSchemas.Store(module, s)
	return s
}

// crdGatekeeperConstraintCRD builds the CRD Gatekeeper creates for a
// ConstraintTemplate (frameworks' crds.CreateSchema and CreateCRD):
// cluster-scoped, group constraints.gatekeeper.sh, plural and singular the
// lowercased kind, served as v1beta1 (storage) and v1alpha1 with a status
// subresource; metadata.name at most 63 characters; spec.match as
// Gatekeeper's match schema, spec.enforcementAction a string defaulting to
// "deny", spec.scopedEnforcementActions, and spec.parameters the template's
// openAPIV3Schema — with x-kubernetes-preserve-unknown-fields added
// throughout when the template asks for legacySchema (the
// templates.gatekeeper.sh/v1 default is false, so unknown parameters are
// pruned and rejected under strict validation).
func crdGatekeeperConstraintCRD(tmpl *unstructured.Unstructured, match apiextensionsv1.JSONSchemaProps) (*apiextensionsv1.CustomResourceDefinition, error) {
	kind, _, _ := unstructured.NestedString(tmpl.Object, "spec", "crd", "spec", "names", "kind")
	if kind == "" {
		return nil, fmt.Errorf("ConstraintTemplate %s: no spec.crd.spec.names.kind", tmpl.GetName())
	}
	shortNames, _, _ := unstructured.NestedStringSlice(tmpl.Object, "spec", "crd", "spec", "names", "shortNames")
	var params *apiextensionsv1.JSONSchemaProps
	if raw, found, _ := unstructured.NestedFieldNoCopy(tmpl.Object, "spec", "crd", "spec", "validation", "openAPIV3Schema"); found && raw != nil {
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("ConstraintTemplate %s: parameter schema: %w", tmpl.GetName(), err)
		}
		params = &apiextensionsv1.JSONSchemaProps{}
		// Strict: a misspelt schema keyword would otherwise vanish and
		// leave the parameter unchecked.
		if err := yaml.UnmarshalStrict(b, params); err != nil {
			return nil, fmt.Errorf("ConstraintTemplate %s: spec.crd.spec.validation.openAPIV3Schema: %w", tmpl.GetName(), err)
		}
	}
	if legacy, _, _ := unstructured.NestedBool(tmpl.Object, "spec", "crd", "spec", "validation", "legacySchema"); legacy {
		if params == nil {
			params = &apiextensionsv1.JSONSchemaProps{}
		}
		crdAddPreserveUnknownFields(params)
	}
	spec := map[string]apiextensionsv1.JSONSchemaProps{
		"match":             match,
		"enforcementAction": {Type: "string", Default: &apiextensionsv1.JSON{Raw: []byte(`"deny"`)}},
		"scopedEnforcementActions": {
			Type: "array",
			Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{
				Type: "object",
				Properties: map[string]apiextensionsv1.JSONSchemaProps{
					"action": {Type: "string"},
					"enforcementPoints": {
						Type: "array",
						Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{
							Type:       "object",
							Properties: map[string]apiextensionsv1.JSONSchemaProps{"name": {Type: "string"}},
						}},
					},
				},
			}},
		},
	}
	if params != nil {
		spec["parameters"] = *params
	}
	schema := &apiextensionsv1.JSONSchemaProps{
		Type: "object",
		Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"metadata": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
				"name": {Type: "string", MaxLength: ptr.To[int64](63)},
			}},
			"spec":   {Type: "object", Properties: spec},
			"status": {XPreserveUnknownFields: ptr.To(true)},
		},
	}
	lower := strings.ToLower(kind)
	version := func(name string, storage bool) apiextensionsv1.CustomResourceDefinitionVersion {
		return apiextensionsv1.CustomResourceDefinitionVersion{
			Name: name, Served: true, Storage: storage,
			Schema:       &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: schema.DeepCopy()},
			Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
		}
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: lower + "." + crdConstraintGroup},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: crdConstraintGroup,
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Kind: kind, ListKind: kind + "List", Plural: lower, Singular: lower,
				ShortNames: shortNames, Categories: []string{"constraint", "constraints"},
			},
			Scope:    apiextensionsv1.ClusterScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{version("v1beta1", true), version("v1alpha1", false)},
		},
	}, nil
}

// crdAddPreserveUnknownFields is what Gatekeeper does to a legacySchema
// parameter schema: every object (or untyped) node keeps unknown fields,
// and an array without an item schema gets one that does.
func crdAddPreserveUnknownFields(s *apiextensionsv1.JSONSchemaProps) {
	switch s.Type {
	case "", "object":
		s.XPreserveUnknownFields = ptr.To(true)
	case "array":
		if s.Items == nil || (s.Items.Schema == nil && s.Items.JSONSchemas == nil) {
			s.Items = &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{XPreserveUnknownFields: ptr.To(true)}}
		}
	}
	for k, p := range s.Properties {
		crdAddPreserveUnknownFields(&p)
		s.Properties[k] = p
	}
	if s.Items != nil && s.Items.Schema != nil {
		crdAddPreserveUnknownFields(s.Items.Schema)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		crdAddPreserveUnknownFields(s.AdditionalProperties.Schema)
	}
}

// crdGatekeeperTemplateRules are what Gatekeeper checks on a template
// beyond its CRD: the name is the lowercased kind, and there is exactly one
// target, the Kubernetes admission one.
func crdGatekeeperTemplateRules(tmpl *unstructured.Unstructured) []error {
	var errs []error
	kind, _, _ := unstructured.NestedString(tmpl.Object, "spec", "crd", "spec", "names", "kind")
	if want := strings.ToLower(kind); tmpl.GetName() != want {
		errs = append(errs, fmt.Errorf("ConstraintTemplate %s: metadata.name must be the lowercased kind %q", tmpl.GetName(), want))
	}
	targets, _, _ := unstructured.NestedSlice(tmpl.Object, "spec", "targets")
	if len(targets) != 1 {
		errs = append(errs, fmt.Errorf("ConstraintTemplate %s: spec.targets has %d entries, want exactly 1", tmpl.GetName(), len(targets)))
	}
	for i, tg := range targets {
		m, _ := tg.(map[string]any)
		if name, _ := m["target"].(string); name != crdGatekeeperTarget {
			errs = append(errs, fmt.Errorf("ConstraintTemplate %s: spec.targets[%d].target = %q, want %q", tmpl.GetName(), i, name, crdGatekeeperTarget))
		}
	}
	return errs
}

// crdGatekeeperConstraintRules are what Gatekeeper's webhook and target
// check on a constraint beyond its CRD: a known enforcement action and
// valid label selectors in spec.match.
func crdGatekeeperConstraintRules(u *unstructured.Unstructured) []error {
	var errs []error
	name := u.GetKind() + " " + u.GetName()
	action, found, _ := unstructured.NestedString(u.Object, "spec", "enforcementAction")
	if !found {
		action = "deny"
	}
	if !slices.Contains(crdGatekeeperActions, action) {
		errs = append(errs, fmt.Errorf("%s: spec.enforcementAction %q is not one of %v", name, action, crdGatekeeperActions))
	}
	if action == "scoped" {
		if sea, _, _ := unstructured.NestedSlice(u.Object, "spec", "scopedEnforcementActions"); len(sea) == 0 {
			errs = append(errs, fmt.Errorf("%s: spec.enforcementAction scoped without spec.scopedEnforcementActions", name))
		}
	}
	for _, f := range []string{"labelSelector", "namespaceSelector"} {
		raw, found, _ := unstructured.NestedMap(u.Object, "spec", "match", f)
		if !found {
			continue
		}
		sel := &metav1.LabelSelector{}
		if err := crdDecodeStrict(raw, sel); err != nil {
			errs = append(errs, fmt.Errorf("%s: spec.match.%s: %w", name, f, err))
			continue
		}
		if fe := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "match", f)); len(fe) > 0 {
			errs = append(errs, fmt.Errorf("%s: %w", name, fe.ToAggregate()))
		}
	}
	return errs
}

// crdDecodeStrict decodes m into a typed value, refusing unknown fields.
func crdDecodeStrict(m map[string]any, into any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return yaml.UnmarshalStrict(b, into)
}

// crdInjection puts a field where the engine's CRD has no room for it, in
// a rendered object of the given kind; the validation must report want.
type crdInjection struct {
	kind   string
	path   []any // map keys (string) and list indexes (int) to a map
	field  string
	value  any
	want   string
	reason string
}

// crdInject sets field in the map at path; false when the path is not
// in the object.
func crdInject(obj map[string]any, path []any, key string, value any) bool {
	var cur any = obj
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return false
			}
			cur, ok = m[p]
			if !ok {
				return false
			}
		case int:
			l, ok := cur.([]any)
			if !ok || p >= len(l) {
				return false
			}
			cur = l[p]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return false
	}
	m[key] = value
	return true
}

// crdGatekeeperParameterInjections: in a constraint with parameters, an
// undeclared parameter, and a declared one of the wrong type.
func crdGatekeeperParameterInjections(o crdObject) []crdInjection {
	params, found, _ := unstructured.NestedMap(o.obj.Object, "spec", "parameters")
	if !found || len(params) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(params))
	first := keys[0]
	// A value of another JSON type than the declared one.
	var wrong any = "not-the-declared-type"
	if _, isString := params[first].(string); isString {
		wrong = int64(7)
	}
	return []crdInjection{
		{kind: o.obj.GetKind(), path: []any{"spec", "parameters"}, field: "allowedWhatever", value: []any{"x"},
			want: "unknown field spec.parameters.allowedWhatever", reason: "undeclared parameter"},
		{kind: o.obj.GetKind(), path: []any{"spec", "parameters"}, field: first, value: wrong,
			want: "spec.parameters." + first + ": Invalid value", reason: "parameter of the wrong type"},
	}
}

// TestTranslateCRDSchemasRejectInjectedFields proves the check bites: a
// field the engine does not know, injected into rendered output, is
// reported with its path.
func TestTranslateCRDSchemasRejectInjectedFields(t *testing.T) {
	c := loadTranslateCorpus(t)
	opts := translate.Options{Scope: translate.ScopeCluster, ToolVersion: crdToolVersion, GatekeeperTemplates: true}
	// Paths into the engines' own types, so the unknown field lands deep
	// inside a schema that is closed there.
	deep := map[string][]crdInjection{
		translate.EngineKyverno: {{kind: "ClusterPolicy", path: []any{"spec", "rules", 0, "validate"}, field: "patern", value: map[string]any{},
			want: "unknown field spec.rules[0].validate.patern", reason: "misspelt validate.pattern"}},
		translate.EngineKyvernoCEL: {{kind: "ValidatingPolicy", path: []any{"spec", "validations", 0}, field: "expresion", value: "true",
			want: "unknown field spec.validations[0].expresion", reason: "misspelt validations[].expression"}},
		translate.EngineGatekeeper: {{kind: "ConstraintTemplate", path: []any{"spec", "crd", "spec"}, field: "nmes", value: map[string]any{},
			want: "unknown field spec.crd.spec.nmes", reason: "misspelt crd.spec.names"}},
	}
	for _, e := range crdEngines {
		t.Run(e.engine, func(t *testing.T) {
			r := crdRenderer(t, e.engine)
			module, set := crdEngineSet(t, e)
			objs, _, ok := crdRender(t, r, c, "all,scope=cluster,gatekeeper-templates", opts)
			if !ok {
				t.FailNow()
			}
			constraints := crdschema.NewSet()
			var injections []crdInjection
			for _, o := range objs {
				// Every object: an unknown field at the top of spec.
				if _, ok := o.obj.Object["spec"].(map[string]any); ok {
					injections = append(injections, crdInjection{kind: o.obj.GetKind(), path: []any{"spec"}, field: "psp-migrate-unknown", value: "x",
						want: "unknown field spec.psp-migrate-unknown", reason: "unknown field in spec"})
				}
				if e.engine != translate.EngineGatekeeper {
					continue
				}
				switch o.obj.GroupVersionKind().Group {
				case crdTemplateGroup:
					crd, err := crdGatekeeperConstraintCRD(o.obj, crdGatekeeperMatchSchema(t, module))
					if err != nil {
						t.Fatal(err)
					}
					if err := constraints.Add(crd, o.file); err != nil {
						t.Fatal(err)
					}
				case crdConstraintGroup:
					injections = append(injections, crdGatekeeperParameterInjections(o)...)
				}
			}
			injections = append(injections, deep[e.engine]...)
			if e.engine == translate.EngineGatekeeper && !slices.ContainsFunc(injections, func(in crdInjection) bool { return strings.HasPrefix(in.want, "spec.parameters.") }) {
				t.Errorf("no rendered constraint has parameters to tamper with")
			}
			done := map[string]bool{}
			for _, in := range injections {
				key := in.kind + "/" + in.reason
				if done[key] {
					continue // one object per kind and injection is enough
				}
				i := slices.IndexFunc(objs, func(o crdObject) bool {
					return o.obj.GetKind() == in.kind && crdInject(o.obj.DeepCopy().Object, in.path, in.field, in.value)
				})
				if i < 0 {
					t.Errorf("%s: no rendered %s has %v to inject %q into", e.engine, in.kind, in.path, in.field)
					continue
				}
				done[key] = true
				o := objs[i]
				bad := o.obj.DeepCopy()
				crdInject(bad.Object, in.path, in.field, in.value)
				target := set
				if bad.GroupVersionKind().Group == crdConstraintGroup {
					target = constraints
				}
				// The untouched object passes, so a failure below is the injection's.
				if _, err := target.Validate(t.Context(), o.obj); err != nil {
					t.Errorf("%s: untouched %s fails: %v", in.reason, o.file, err)
					continue
				}
				_, err := target.Validate(t.Context(), bad)
				if err == nil || !strings.Contains(err.Error(), in.want) {
					t.Errorf("%s in %s: got %v, want an error containing %q", in.reason, o.file, err, in.want)
				} else {
					t.Logf("%s in %s: %v", in.reason, o.file, err)
				}
			}
			if len(done) == 0 {
				t.Errorf("nothing injected")
			}
		})
	}
}

// TestTranslateCRDGatekeeperConstraintCRD checks the constraint CRD
// builder on its own, without the engines' modules: a template's parameter
// schema closes spec.parameters; a legacySchema template leaves it open; a
// template whose schema is not structural cannot give a CRD.
func TestTranslateCRDGatekeeperConstraintCRD(t *testing.T) {
	match := apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
		"excludedNamespaces": {Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{Type: "string"}}},
	}}
	template := func(validation string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		y := "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8stest}\nspec:\n  crd:\n    spec:\n      names: {kind: K8sTest}\n      validation: " + validation + "\n  targets: [{target: admission.k8s.gatekeeper.sh, rego: 'package k8stest'}]\n"
		if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
			t.Fatal(err)
		}
		return u
	}
	const closed = "{openAPIV3Schema: {type: object, properties: {volumes: {type: array, items: {type: string}}}}}"
	constraint := func(params string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		y := "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sTest\nmetadata: {name: c}\nspec:\n  match: {excludedNamespaces: [kube-system]}\n  parameters: " + params + "\n"
		if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name       string
		validation string
		params     string
		// want: "" valid; else a substring of the error.
		want string
	}{
		{"declared parameter", closed, "{volumes: [configMap]}", ""},
		{"undeclared parameter", closed, "{volumes: [configMap], volumez: [x]}", "unknown field spec.parameters.volumez"},
		{"wrong type", closed, "{volumes: configMap}", "spec.parameters.volumes: Invalid value"},
		{"legacySchema keeps unknown parameters", "{legacySchema: true, openAPIV3Schema: {type: object, properties: {volumes: {type: array, items: {type: string}}}}}", "{volumez: [x]}", ""},
		{"no schema: parameters pruned and reported", "{}", "{volumes: [x]}", "unknown field spec.parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crd, err := crdGatekeeperConstraintCRD(template(tt.validation), match)
			if err != nil {
				t.Fatal(err)
			}
			set := crdschema.NewSet()
			if err := set.Add(crd, "test"); err != nil {
				t.Fatalf("constraint CRD refused: %v", err)
			}
			_, err = set.Validate(t.Context(), constraint(tt.params))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("not structural", func(t *testing.T) {
		crd, err := crdGatekeeperConstraintCRD(template("{openAPIV3Schema: {properties: {volumes: {items: {type: string}}}}}"), match)
		if err != nil {
			t.Fatal(err)
		}
		if err := crdschema.NewSet().Add(crd, "test"); err == nil || !strings.Contains(err.Error(), "type: Required value") {
			t.Errorf("got %v, want the CRD refused for missing types", err)
		}
	})
	t.Run("template rules", func(t *testing.T) {
		tmpl := template(closed)
		tmpl.SetName("wrong")
		errs := crdGatekeeperTemplateRules(tmpl)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), `metadata.name must be the lowercased kind "k8stest"`) {
			t.Errorf("got %v", errs)
		}
	})
	t.Run("constraint rules", func(t *testing.T) {
		c := constraint("{}")
		_ = unstructured.SetNestedField(c.Object, "block", "spec", "enforcementAction")
		_ = unstructured.SetNestedField(c.Object, map[string]any{"matchLabels": map[string]any{"bad key!": "x"}}, "spec", "match", "labelSelector")
		errs := crdGatekeeperConstraintRules(c)
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		sort.Strings(msgs)
		if len(msgs) != 2 || !strings.Contains(msgs[0], `spec.enforcementAction "block"`) || !strings.Contains(msgs[1], "spec.match.labelSelector.matchLabels") {
			t.Errorf("got %q", msgs)
		}
	})
}
