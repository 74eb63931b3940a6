package kyverno

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func TestRenderKyverno(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	tests := []struct {
		name   string
		opts   translate.Options
		golden string
		action string
	}{
		{"rbac scope, enforce, default exclusions", translate.Options{Scope: translate.ScopeRBAC, ToolVersion: "1.2.3"}, "kyverno-clusterpolicy-rbac.yaml", "Enforce"},
		{"cluster scope, warn, no exclusions", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn, ExcludeNamespaces: []string{}, ToolVersion: "1.2.3"}, "kyverno-clusterpolicy-cluster-warn.yaml", "Audit"},
		{"one PSP, audit", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeAudit, PSPs: []string{"agents.host"}, ToolVersion: "1.2.3+dirty"}, "kyverno-clusterpolicy-one-psp-audit.yaml", "Audit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := translate.Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, data := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options})
			translatetest.CheckGolden(t, tt.golden, data)

			if len(out.Objects) != 1 {
				t.Fatalf("rendered %d objects, want one ClusterPolicy", len(out.Objects))
			}
			o := out.Objects[0]
			if o.FileName != "kyverno-clusterpolicy-"+translate.ObjectName(set)+".yaml" {
				t.Errorf("file name %s", o.FileName)
			}
			u := o.Object.(*unstructured.Unstructured)
			if u.GetAPIVersion() != APIVersion || u.GetKind() != Kind {
				t.Errorf("type %s %s", u.GetAPIVersion(), u.GetKind())
			}
			if u.GetLabels()[translate.LabelManagedBy] != translate.ManagedByValue || u.GetAnnotations()[translate.AnnotationSourcePSPs] == "" ||
				u.GetAnnotations()[translate.AnnotationToolVersion] != tt.opts.ToolVersion || u.GetAnnotations()[autogenAnnotation] != "none" {
				t.Errorf("provenance or autogen missing: labels %v annotations %v", u.GetLabels(), u.GetAnnotations())
			}
			if got, _, _ := unstructured.NestedString(u.Object, "spec", "validationFailureAction"); got != tt.action {
				t.Errorf("validationFailureAction = %q, want %q", got, tt.action)
			}
			if bg, found, _ := unstructured.NestedBool(u.Object, "spec", "background"); !found || bg {
				t.Errorf("background = %t (found %t), want false", bg, found)
			}
			emit, found, _ := unstructured.NestedBool(u.Object, "spec", "emitWarning")
			if (tt.opts.Mode == translate.ModeWarn) != (found && emit) {
				t.Errorf("emitWarning = %t (found %t) for mode %s", emit, found, tt.opts.Mode)
			}
			if warned := slices.ContainsFunc(out.Warnings, func(w string) bool { return strings.Contains(w, "emitWarning") }); warned != (tt.opts.Mode == translate.ModeWarn) {
				t.Errorf("warnings %q", out.Warnings)
			}
			excluded, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
			rule := excluded[0].(map[string]any)
			if _, has := rule["exclude"]; has != (len(set.Options.ExcludeNamespaces) > 0) {
				t.Errorf("exclude block present = %t with exclusions %v", has, set.Options.ExcludeNamespaces)
			}
			// The policy holds no field newer than the oldest release it
			// targets: those are the ones this engine knows to avoid.
			for _, newer := range []string{"failureAction:", "cel:", "operations:", "allowExistingViolations", "podSecurity:"} {
				if strings.Contains(string(data), newer) {
					t.Errorf("policy uses %s, unknown to Kyverno %s", newer, MinVersion)
				}
			}
		})
	}
}

// TestKyvernoDenyExpressionShape checks what Kyverno's variable
// substitution needs: one {{ }} per condition key, no braces or "$(" inside
// it, balanced brackets and closed string literals.
func TestKyvernoDenyExpressionShape(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	for _, scope := range translate.Scopes {
		set, err := translate.Compile(inv, translate.Options{Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		expr, warnings := denyExpression(set)
		if len(warnings) > 0 {
			t.Errorf("%s: warnings %q", scope, warnings)
		}
		if err := checkJMESPathShape(expr); err != "" {
			t.Errorf("%s: %s: %s", scope, err, expr)
		}
	}
}

func checkJMESPathShape(expr string) string {
	if strings.ContainsAny(expr, "{}\n") || strings.Contains(expr, "$(") {
		return "braces, newline or $( in the expression"
	}
	var stack []rune
	var quote rune
	for i := 0; i < len(expr); i++ {
		ch := rune(expr[i])
		if quote != 0 {
			switch {
			case ch == '\\':
				i++
			case ch == quote:
				quote = 0
			}
			continue
		}
		switch ch {
		case '\'', '`':
			quote = ch
		case '(', '[':
			stack = append(stack, ch)
		case ')', ']':
			open := map[rune]rune{')': '(', ']': '['}[ch]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return "unbalanced " + string(ch)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if quote != 0 {
		return "unterminated literal"
	}
	if len(stack) > 0 {
		return "unclosed " + string(stack)
	}
	return ""
}

func TestJPString(t *testing.T) {
	for in, want := range map[string]string{
		"runtime/default":  "'runtime/default'",
		"":                 "''",
		"it's":             "`\"it\\u0027s\"`",
		"{{x}}":            "`\"\\u007b\\u007bx\\u007d\\u007d\"`",
		"a$(b)":            "`\"a\\u0024\\u0028b\\u0029\"`",
		"back\\slash`tick": "`\"back\\u005cslash\\u0060tick\"`",
		"é":                "`\"\\u00e9\"`",
		"😀":                "`\"\\ud83d\\ude00\"`",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteAll([]string{"c1", "x\"y"}); got != "`[\"c1\",\"x\\u0022y\"]`" {
		t.Errorf("quoteAll = %s", got)
	}
}

func TestKyvernoComponent(t *testing.T) {
	if c := (Engine{}).Component(); !strings.Contains(c, MinVersion) || !strings.Contains(c, APIVersion) {
		t.Errorf("component = %q", c)
	}
}

// TestKyvernoPolicyDecodes: the YAML a user gets is one object of the
// expected type, with the condition key intact.
func TestKyvernoPolicyDecodes(t *testing.T) {
	set, err := translate.Compile(translatetest.LoadInput(t, translatetest.Input), translate.Options{Scope: translate.ScopeRBAC})
	if err != nil {
		t.Fatal(err)
	}
	_, data := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options})
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	rules, _, _ := unstructured.NestedSlice(m, "spec", "rules")
	conds, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "validate", "deny", "conditions", "all")
	key := conds[0].(map[string]any)["key"].(string)
	expr, _ := denyExpression(set)
	if key != "{{ "+expr+" }}" {
		t.Errorf("condition key does not round-trip")
	}
}

func TestRenderKyvernoErrors(t *testing.T) {
	r := Engine{}
	if _, err := r.Render(translate.Input{}); err == nil || !strings.Contains(err.Error(), "no policies") {
		t.Errorf("nil set: err = %v", err)
	}
	set := &translate.PolicySet{Options: translate.Options{Scope: translate.ScopeCluster, Mode: "loud"}, Policies: []translate.Policy{{Name: "a"}}}
	if _, err := r.Render(translate.Input{Set: set}); err == nil || !strings.Contains(err.Error(), `invalid mode "loud"`) {
		t.Errorf("bad mode: err = %v", err)
	}
	// A rule type without a rendering is reported and fails its PSP.
	set = &translate.PolicySet{Options: translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeEnforce}, Policies: []translate.Policy{{Name: "a", Rules: []translate.Rule{unknownRule{}}}}}
	out, err := r.Render(translate.Input{Set: set})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], `"a" field spec.unknown`) {
		t.Errorf("warnings = %q", out.Warnings)
	}
	if expr, _ := denyExpression(set); expr != "(request.object != `null` && `true`)" {
		t.Errorf("deny = %s, want every pod denied", expr)
	}
}

type unknownRule struct{ translate.ForbidPrivileged }

func (unknownRule) ID() string    { return "unknown" }
func (unknownRule) Field() string { return "spec.unknown" }
