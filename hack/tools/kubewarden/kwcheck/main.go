// Command kwcheck checks Kubewarden policies offline, the way a cluster
// running kubewarden-controller would accept them, and their module
// settings against what each module documents:
//
//  1. every object decodes strictly into the kubewarden-controller
//     api/policies/v1 types (unknown or misspelt fields fail);
//  2. it validates against the CRD schema shipped in the controller's module
//     (structural schema, pruning of unknown fields, OpenAPI validation);
//  3. the controller's own validating webhook accepts it (run in process,
//     without a cluster);
//  4. every module reference is pinned and its settings match the module's
//     documented settings (settings.go), CEL included for cel-policy.
//
// Usage: kwcheck -crds DIR FILE...   (DIR: config/crd/bases of the module;
// default $PSP_MIGRATE_KUBEWARDEN_MODULE/config/crd/bases). It prints one
// line per problem, naming file, object and field, and exits 1 if any.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	policiesv1 "github.com/kubewarden/kubewarden-controller/api/policies/v1"
	admissionv1 "k8s.io/api/admission/v1"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"
)

func main() {
	crdDir := flag.String("crds", "", "config/crd/bases of kubewarden-controller (default $PSP_MIGRATE_KUBEWARDEN_MODULE/config/crd/bases)")
	flag.Parse()
	if *crdDir == "" {
		if m := os.Getenv("PSP_MIGRATE_KUBEWARDEN_MODULE"); m != "" {
			*crdDir = filepath.Join(m, "config", "crd", "bases")
		}
	}
	if *crdDir == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: kwcheck -crds DIR FILE...")
		os.Exit(2)
	}
	c, err := newChecker(*crdDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kwcheck:", err)
		os.Exit(2)
	}
	var problems []string
	objects := 0
	for _, f := range flag.Args() {
		n, p, err := c.checkFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kwcheck:", err)
			os.Exit(2)
		}
		objects += n
		problems = append(problems, p...)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	fmt.Fprintf(os.Stderr, "kwcheck: %d objects, %d problems\n", objects, len(problems))
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// kind is one CRD kind: its schema and how to decode and validate it.
type kind struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	newObject  func() runtime.Object
	webhook    *admission.Webhook
}

type checker struct {
	kinds map[string]*kind // by Kind
}

func newChecker(crdDir string) (*checker, error) {
	c := &checker{kinds: map[string]*kind{}}
	news := map[string]func() runtime.Object{
		"ClusterAdmissionPolicy":      func() runtime.Object { return &policiesv1.ClusterAdmissionPolicy{} },
		"ClusterAdmissionPolicyGroup": func() runtime.Object { return &policiesv1.ClusterAdmissionPolicyGroup{} },
		"AdmissionPolicy":             func() runtime.Object { return &policiesv1.AdmissionPolicy{} },
		"AdmissionPolicyGroup":        func() runtime.Object { return &policiesv1.AdmissionPolicyGroup{} },
	}
	hooks, err := webhooks()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no CRDs in %s", crdDir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(data, crd); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		newObj, ok := news[crd.Spec.Names.Kind]
		if !ok {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name != policiesv1.GroupVersion.Version || v.Schema == nil {
				continue
			}
			internal := &apiextensionsinternal.JSONSchemaProps{}
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
				return nil, fmt.Errorf("%s: convert schema: %w", f, err)
			}
			s, err := structuralschema.NewStructural(internal)
			if err != nil {
				return nil, fmt.Errorf("%s: structural schema: %w", f, err)
			}
			val, _, err := apiservervalidation.NewSchemaValidator(internal)
			if err != nil {
				return nil, fmt.Errorf("%s: schema validator: %w", f, err)
			}
			c.kinds[crd.Spec.Names.Kind] = &kind{structural: s, validator: val, newObject: newObj, webhook: hooks[crd.Spec.Names.Kind]}
		}
	}
	for k := range news {
		if c.kinds[k] == nil {
			return nil, fmt.Errorf("no %s/%s CRD in %s", policiesv1.GroupVersion, k, crdDir)
		}
	}
	return c, nil
}

func (c *checker) checkFile(path string) (int, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	r := utilyaml.NewYAMLReader(bufioReader(data))
	var problems []string
	n := 0
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, nil, fmt.Errorf("%s: document %d: %w", path, i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || strings.TrimSpace(string(doc)) == "---" {
			continue
		}
		n++
		for _, p := range c.checkObject(doc) {
			problems = append(problems, fmt.Sprintf("%s: document %d: %s", path, i, p))
		}
	}
	return n, problems, nil
}

func (c *checker) checkObject(doc []byte) []string {
	var u map[string]any
	if err := yaml.Unmarshal(doc, &u); err != nil {
		return []string{fmt.Sprintf("not YAML: %v", err)}
	}
	apiVersion, _ := u["apiVersion"].(string)
	kindName, _ := u["kind"].(string)
	name := ""
	if md, ok := u["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	id := fmt.Sprintf("%s %q", kindName, name)
	if apiVersion != policiesv1.GroupVersion.String() {
		return []string{fmt.Sprintf("%s: apiVersion %q, want %s", id, apiVersion, policiesv1.GroupVersion)}
	}
	k, ok := c.kinds[kindName]
	if !ok {
		return []string{fmt.Sprintf("%s: not a %s kind", id, policiesv1.GroupVersion)}
	}
	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, id+": "+fmt.Sprintf(format, args...))
	}

	// 1. Strict decoding into the controller's types.
	obj := k.newObject()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		report("strict decode into %T: %v", obj, err)
	}

	// 2. The CRD schema: pruning reports the fields the API server would
	// drop, then the OpenAPI validation (types, enums, required, ranges).
	pruned := runtime.DeepCopyJSON(u)
	for _, f := range pruning.PruneWithOptions(pruned, k.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		report("unknown field %s (pruned by the CRD schema)", f)
	}
	for _, e := range apiservervalidation.ValidateCustomResource(nil, u, k.validator) {
		report("CRD schema: %v", e)
	}

	// 3. The controller's validating webhook, in process.
	if k.webhook != nil {
		if msg := runWebhook(k.webhook, kindName, name, doc); msg != "" {
			report("kubewarden-controller webhook: %s", msg)
		}
	}

	// 4. Module settings.
	spec, _ := u["spec"].(map[string]any)
	if mod, ok := spec["module"].(string); ok {
		for _, p := range checkModule(mod, spec["settings"]) {
			report("spec.%s", p)
		}
	}
	if members, ok := spec["policies"].(map[string]any); ok {
		names := make([]string, 0, len(members))
		for m := range members {
			names = append(names, m)
		}
		sort.Strings(names)
		for _, m := range names {
			member, _ := members[m].(map[string]any)
			mod, _ := member["module"].(string)
			for _, p := range checkModule(mod, member["settings"]) {
				report("spec.policies.%s.%s", m, p)
			}
		}
	}
	return problems
}

// webhooks registers the controller's webhooks on a manager that only
// records the handlers, so that they can be called without a cluster.
func webhooks() (map[string]*admission.Webhook, error) {
	scheme := runtime.NewScheme()
	if err := policiesv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	srv := &recordingServer{handlers: map[string]*admission.Webhook{}}
	mgr := &offlineManager{scheme: scheme, server: srv}
	for _, o := range []interface {
		SetupWebhookWithManager(manager.Manager) error
	}{
		&policiesv1.ClusterAdmissionPolicy{}, &policiesv1.ClusterAdmissionPolicyGroup{},
		&policiesv1.AdmissionPolicy{}, &policiesv1.AdmissionPolicyGroup{},
	} {
		if err := o.SetupWebhookWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the webhook of %T: %w", o, err)
		}
	}
	out := map[string]*admission.Webhook{}
	for path, h := range srv.handlers {
		if !strings.HasPrefix(path, "/validate-") {
			continue
		}
		for _, k := range []string{"ClusterAdmissionPolicyGroup", "ClusterAdmissionPolicy", "AdmissionPolicyGroup", "AdmissionPolicy"} {
			if strings.HasSuffix(path, "-"+strings.ToLower(k)) {
				out[k] = h
			}
		}
	}
	if len(out) != 4 {
		return nil, fmt.Errorf("found validating webhooks for %d kinds, want 4 (paths %v)", len(out), keys(srv.handlers))
	}
	return out, nil
}

func runWebhook(h *admission.Webhook, kindName, name string, doc []byte) string {
	raw, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err.Error()
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "kwcheck",
		Operation: admissionv1.Create,
		Name:      name,
		Object:    runtime.RawExtension{Raw: raw},
	}}
	req.Kind.Group, req.Kind.Version, req.Kind.Kind = policiesv1.GroupVersion.Group, policiesv1.GroupVersion.Version, kindName
	resp := h.Handle(context.Background(), req)
	if resp.Allowed {
		return ""
	}
	if resp.Result != nil {
		return resp.Result.Message
	}
	return "denied"
}

// offlineManager is the part of a controller-runtime manager that webhook
// registration uses; anything else panics (the embedded nil interface),
// which would show that registration changed.
type offlineManager struct {
	manager.Manager
	scheme *runtime.Scheme
	server *recordingServer
}

func (m *offlineManager) GetScheme() *runtime.Scheme       { return m.scheme }
func (m *offlineManager) GetWebhookServer() webhook.Server { return m.server }
func (m *offlineManager) GetLogger() logr.Logger           { return logr.Discard() }
func (m *offlineManager) GetConfig() *rest.Config          { return &rest.Config{} }

type recordingServer struct {
	webhook.Server
	handlers map[string]*admission.Webhook
	mux      *http.ServeMux
}

func (s *recordingServer) Register(path string, h http.Handler) {
	if wh, ok := h.(*admission.Webhook); ok {
		s.handlers[path] = wh
	}
	s.WebhookMux().Handle(path, h)
}

func (s *recordingServer) WebhookMux() *http.ServeMux {
	if s.mux == nil {
		s.mux = http.NewServeMux()
	}
	return s.mux
}

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
