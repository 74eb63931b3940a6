package gatekeeper

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest"
	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func TestRenderGatekeeper(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	tests := []struct {
		name     string
		opts     translate.Options
		golden   string
		warnings []string // substrings, each found in some warning
	}{
		{"rbac scope, enforce, default exclusions", translate.Options{Scope: translate.ScopeRBAC, ToolVersion: "1.2.3"}, "gatekeeper-rbac.yaml",
			[]string{`"agents.host": granted to service accounts monitoring/node-exporter`, "host ports 9100 are rejected", "monitoring (agents.host, restricted)"}},
		{"cluster scope, warn, no exclusions, own templates", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeWarn, ExcludeNamespaces: []string{}, ToolVersion: "1.2.3", GatekeeperTemplates: true}, "gatekeeper-cluster-warn-templates.yaml",
			[]string{"must now satisfy all of agents.host, restricted"}},
		{"one PSP, audit", translate.Options{Scope: translate.ScopeCluster, Mode: translate.ModeAudit, PSPs: []string{"agents.host"}, ToolVersion: "1.2.3+dirty"}, "gatekeeper-one-psp-audit.yaml", []string{`"agents.host": spec.hostPorts`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := translate.Compile(inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, data := enginetest.Render(t, Engine{}, translate.Input{Set: set, Options: set.Options})
			translatetest.CheckGolden(t, tt.golden, data)
			for _, w := range tt.warnings {
				if !slices.ContainsFunc(out.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning contains %q; warnings:\n%s", w, strings.Join(out.Warnings, "\n"))
				}
			}
			if tt.warnings == nil && len(out.Warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", strings.Join(out.Warnings, "\n"))
			}
			templates := 0
			for _, o := range out.Objects {
				u := o.Object.(*unstructured.Unstructured)
				if u.GetLabels()[translate.LabelManagedBy] != translate.ManagedByValue || u.GetAnnotations()[translate.AnnotationSourcePSPs] == "" ||
					u.GetAnnotations()[translate.AnnotationToolVersion] != tt.opts.ToolVersion {
					t.Errorf("%s lacks provenance: labels %v annotations %v", o.FileName, u.GetLabels(), u.GetAnnotations())
				}
				if !strings.HasPrefix(o.FileName, "gatekeeper-") {
					t.Errorf("file name %s does not start with the engine", o.FileName)
				}
				if u.GetKind() == "ConstraintTemplate" {
					templates++
					if u.GetName() != strings.ToLower(u.Object["spec"].(map[string]any)["crd"].(map[string]any)["spec"].(map[string]any)["names"].(map[string]any)["kind"].(string)) {
						t.Errorf("template %s is not named after its kind", u.GetName())
					}
					continue
				}
				action, _, _ := unstructured.NestedString(u.Object, "spec", "enforcementAction")
				if want := modeActions[set.Options.Mode]; action != want {
					t.Errorf("%s: enforcementAction %q, want %q", o.FileName, action, want)
				}
				excluded, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "match", "excludedNamespaces")
				if !slices.Equal(excluded, set.Options.ExcludeNamespaces) && !(len(excluded) == 0 && len(set.Options.ExcludeNamespaces) == 0) {
					t.Errorf("%s: excludedNamespaces %v, want %v", o.FileName, excluded, set.Options.ExcludeNamespaces)
				}
			}
			if tt.opts.GatekeeperTemplates != (templates > 0) {
				t.Errorf("%d templates rendered with GatekeeperTemplates %t", templates, tt.opts.GatekeeperTemplates)
			}
		})
	}
}

// TestGatekeeperTemplatesCoverKinds: every kind the renderer uses has an
// own template whose schema declares every parameter the renderer writes.
func TestGatekeeperTemplatesCoverKinds(t *testing.T) {
	psps := []psp.PodSecurityPolicy{testPSP("all-rules"), testPSP("other")}
	psps[1].Spec.HostPID = true
	psps[1].Spec.Volumes = []psp.FSType{psp.All}
	for _, p := range psps {
		pol := translate.CompilePolicy(&p)
		for _, c := range planPSP(&pol).constraints {
			tmpl, ok := templates[c.kind]
			if !ok {
				t.Errorf("kind %s has no own template", c.kind)
				continue
			}
			for k := range c.params {
				if _, ok := tmpl.params[k]; !ok {
					t.Errorf("%s: parameter %s is not in the template's schema", c.kind, k)
				}
			}
		}
	}
	for _, kind := range templateKinds() {
		module, err := rego(kind)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(module, "package "+strings.ToLower(kind)+"\n") || !strings.Contains(module, "violation[{\"msg\": msg}]") {
			t.Errorf("%s: Rego lacks its package or a violation rule", kind)
		}
		// Rego v0 only: the releases clusters leaving PSP ran parse no
		// other, and the syntax must not depend on future keywords.
		if regexp.MustCompile(`(?m)^\s*import |\bif \{| contains |\bevery\b`).MatchString(module) {
			t.Errorf("%s: Rego uses syntax beyond v0", kind)
		}
	}
}

// The helpers every own template defines, in one text: each file of rego/
// repeats them (a module must stand alone), and these are the copies'
// reference.
const (
	keyHelper = `
has_key(obj, key) {
	_ = obj[key]
}
`
	containerHelpers = `
containers[c] {
	c := input.review.object.spec.initContainers[_]
}

containers[c] {
	c := input.review.object.spec.containers[_]
}

containers[c] {
	c := input.review.object.spec.ephemeralContainers[_]
}

checked[c] {
	c := containers[_]
	not exempt(c)
}

exempt(c) {
	image := input.parameters.exemptImages[_]
	not endswith(image, "*")
	c.image == image
}

exempt(c) {
	image := input.parameters.exemptImages[_]
	endswith(image, "*")
	startswith(c.image, trim_suffix(image, "*"))
}
`
)

// TestRegoFiles: rego/ holds one module per kind with an own template and
// nothing else, each under the header every template carries, ending with
// the shared helpers exactly as written above (the container helpers only
// where the rules read checked containers), indented with tabs as Rego
// tooling writes it (rego turns them into spaces for YAML).
func TestRegoFiles(t *testing.T) {
	entries, err := regoFiles.ReadDir("rego")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	var want []string
	for _, kind := range templateKinds() {
		want = append(want, strings.ToLower(kind)+".rego")
	}
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("rego/ holds %v, want one file per template kind: %v", files, want)
	}
	for _, kind := range templateKinds() {
		t.Run(kind, func(t *testing.T) {
			b, err := regoFiles.ReadFile("rego/" + strings.ToLower(kind) + ".rego")
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			header := "package " + strings.ToLower(kind) + "\n\n# Written by kubectl psp-migrate from its PodSecurityPolicy rule model.\n\n"
			if !strings.HasPrefix(src, header) {
				t.Errorf("does not start with %q", header)
			}
			helpers := keyHelper
			if strings.Contains(src, "c := checked[_]") {
				helpers += containerHelpers
			}
			if !strings.HasSuffix(src, "}\n"+helpers) {
				t.Errorf("does not end with the shared helpers, as written in this test")
			}
			if strings.Contains(src, "    ") {
				t.Errorf("indents with spaces; the files use tabs")
			}
		})
	}
	if _, err := rego("K8sPSPNoSuchKind"); err == nil {
		t.Error("rego of an unknown kind: no error")
	}
}

// testPSP is a PSP with every field set to a restricting value.
func testPSP(name string) psp.PodSecurityPolicy {
	return psp.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{
			psp.SeccompAllowedProfilesAnnotation:  "runtime/default,localhost/x.json",
			psp.SeccompDefaultProfileAnnotation:   "runtime/default",
			psp.AppArmorAllowedProfilesAnnotation: "runtime/default",
		}},
		Spec: psp.PodSecurityPolicySpec{
			DefaultAllowPrivilegeEscalation: new(false),
			HostIPC:                         true,
			HostPorts:                       []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 81, Max: 90}, {Min: 1000, Max: 2000}, {Min: 443, Max: 443}},
			Volumes:                         []psp.FSType{psp.HostPath, psp.FlexVolume, psp.CSI, psp.Secret},
			AllowedHostPaths:                []psp.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}},
			AllowedFlexVolumes:              []psp.AllowedFlexVolume{{Driver: "example.com/lvm"}},
			AllowedCSIDrivers:               []psp.AllowedCSIDriver{{Name: "csi.example.com"}},
			RunAsUser:                       psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 10}}},
			RunAsGroup:                      &psp.RunAsGroupStrategyOptions{Rule: psp.RunAsGroupStrategyMayRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 10}}},
			SELinux:                         psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t"}},
			FSGroup:                         psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyMustRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 10}}},
			SupplementalGroups:              psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyMayRunAs, Ranges: []psp.IDRange{{Min: 1, Max: 10}}},
			RequiredDropCapabilities:        []corev1.Capability{"ALL"},
			ReadOnlyRootFilesystem:          true,
			ForbiddenSysctls:                []string{"kernel.*"},
			RuntimeClass:                    &psp.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"kata"}},
		},
	}
}

// TestPlanGatekeeper checks the approximations one by one: what is
// rendered, what the prediction evaluates, and that each is warned about.
func TestPlanGatekeeper(t *testing.T) {
	p := testPSP("team")
	pol := translate.CompilePolicy(&p)
	plan := planPSP(&pol)
	params := map[string]map[string]any{}
	for _, c := range plan.constraints {
		params[c.kind] = c.params
	}
	ids := map[string]int{}
	for _, r := range plan.rules {
		ids[r.ID()]++
	}
	t.Run("host ports: adjacent ranges merge, the widest of the rest is kept", func(t *testing.T) {
		if got := params[kindHostNetwork]; got["min"] != int64(1000) || got["max"] != int64(2000) || got["hostNetwork"] != false {
			t.Errorf("parameters %v, want hostNetwork false, 1000-2000", got)
		}
		wantWarning(t, plan.warnings, `"team": spec.hostPorts:`, "80-90, 443, 1000-2000", "host ports 80-90, 443 are rejected")
	})
	t.Run("hostIPC allowed alone: both forbidden", func(t *testing.T) {
		if _, ok := params[kindHostNamespace]; !ok || ids["hostPID"] != 1 || ids["hostIPC"] != 1 {
			t.Errorf("%s rendered %t, rules %v", kindHostNamespace, ok, ids)
		}
		wantWarning(t, plan.warnings, `"team": spec.hostIPC:`)
	})
	t.Run("CSI drivers: inline CSI forbidden", func(t *testing.T) {
		if got := params[kindVolumes]["volumes"]; !slices.Equal(got.([]any), []any{"hostPath", "flexVolume", "secret"}) {
			t.Errorf("volumes %v", got)
		}
		if ids["allowedCSIDrivers"] != 0 {
			t.Error("CSI drivers rule kept")
		}
		wantWarning(t, plan.warnings, `"team": spec.allowedCSIDrivers:`, "csi.example.com")
	})
	t.Run("defaultAllowPrivilegeEscalation: false is required", func(t *testing.T) {
		if _, ok := params[kindEscalation]; !ok || ids["allowPrivilegeEscalation"] != 1 || ids["defaultAllowPrivilegeEscalation"] != 0 {
			t.Errorf("%s rendered %t, rules %v", kindEscalation, ok, ids)
		}
		wantWarning(t, plan.warnings, `"team": spec.defaultAllowPrivilegeEscalation:`)
	})
	t.Run("runtime class: not converted, said so", func(t *testing.T) {
		if ids["runtimeClass"] != 0 {
			t.Error("runtimeClass rule kept though nothing renders it")
		}
		wantWarning(t, plan.warnings, `"team": spec.runtimeClass: not converted`)
	})
	t.Run("exact rules carry every list entry", func(t *testing.T) {
		if got := params[kindSeccomp]["allowedProfiles"]; !slices.Equal(got.([]any), []any{"runtime/default", "localhost/x.json"}) {
			t.Errorf("seccomp with a pod default: allowedProfiles %v, want runtime/default without the unset marker", got)
		}
		if got := params[kindSysctls]["allowedSysctls"].([]any); len(got) != len(psp.SafeSysctls()) {
			t.Errorf("allowedSysctls %v, want the safe set", got)
		}
		users := params[kindUsers]
		for _, k := range []string{"runAsUser", "runAsGroup", "fsGroup", "supplementalGroups"} {
			if users[k] == nil {
				t.Errorf("%s: no %s", kindUsers, k)
			}
		}
		if len(plan.warnings) != 5 {
			t.Errorf("%d warnings, want 5:\n%s", len(plan.warnings), strings.Join(plan.warnings, "\n"))
		}
	})
	t.Run("the plan's rules decide like the constraints on sample pods", func(t *testing.T) {
		pod := &corev1.Pod{Spec: corev1.PodSpec{HostIPC: true, Containers: []corev1.Container{{Name: "a",
			Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}}}}}
		eff := translate.Policy{Rules: plan.rules}
		got := eff.Evaluate(pod)
		for _, want := range []string{"spec.hostIPC", "spec.hostPorts"} {
			if !slices.ContainsFunc(got.Reasons, func(r string) bool { return strings.HasPrefix(r, want) }) {
				t.Errorf("reasons %v lack %s", got.Reasons, want)
			}
		}
	})
}

func wantWarning(t *testing.T, warnings []string, parts ...string) {
	t.Helper()
	if !slices.ContainsFunc(warnings, func(w string) bool {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("no warning contains all of %q:\n%s", parts, strings.Join(warnings, "\n"))
	}
}

func TestGatekeeperConstraintName(t *testing.T) {
	label := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	long := strings.Repeat("a", 60)
	names := map[string]string{}
	for _, in := range []string{"restricted", "agents.host", "agents-host", long, long + "b", "x." + long} {
		got := constraintName(in)
		if len(got) > 63 || !label.MatchString(got) {
			t.Errorf("%q -> %q: not a DNS-1123 label", in, got)
		}
		if prev, dup := names[got]; dup {
			t.Errorf("%q and %q both -> %q", prev, in, got)
		}
		names[got] = in
	}
	if got := constraintName("restricted"); got != "psp-migrate-restricted" {
		t.Errorf("short name changed: %q", got)
	}
}

// TestGatekeeperPrediction: the audit's gatekeeper verdicts follow the
// constraints (AND, scope widened to namespaces), not PSP admission.
func TestGatekeeperPrediction(t *testing.T) {
	inv := translatetest.LoadInput(t, translatetest.Input)
	type want struct {
		psps    []string
		allowed bool
	}
	tests := []struct {
		scope translate.Scope
		pods  map[string]want // namespace/name
	}{
		{translate.ScopeRBAC, map[string]want{
			// restricted applies everywhere; agents.host to all of
			// monitoring (granted to one account there), so the exporter
			// must pass restricted too and fails.
			"apps/web":            {[]string{"restricted"}, true},
			"apps/sneaky":         {[]string{"restricted"}, false},
			"monitoring/exporter": {[]string{"agents.host", "restricted"}, false},
		}},
		{translate.ScopeCluster, map[string]want{
			"apps/web":            {[]string{"agents.host", "restricted"}, true},
			"monitoring/exporter": {[]string{"agents.host", "restricted"}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.scope), func(t *testing.T) {
			got, err := translate.Predict(inv, []translate.Engine{Engine{}}, "", translate.Options{Scope: tt.scope})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got[translate.PodKey{Namespace: "kube-system", Name: "proxy"}]; ok {
				t.Error("excluded kube-system pod has verdicts")
			}
			for key, w := range tt.pods {
				ns, name, _ := strings.Cut(key, "/")
				vs := got[translate.PodKey{Namespace: ns, Name: name}]
				var names []string
				for _, v := range vs {
					names = append(names, v.PSP)
				}
				if !slices.Equal(names, w.psps) || translate.Admitted(vs, Engine{}) != w.allowed {
					t.Errorf("%s: verdicts %+v, want PSPs %v admitted %t", key, vs, w.psps, w.allowed)
				}
			}
		})
	}
}

// TestGatekeeperNoConstraint: a PSP that allows everything, or that nobody
// may use, gets no constraint and a warning; with nothing left, an error.
func TestGatekeeperNoConstraint(t *testing.T) {
	privileged := psp.PodSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "privileged", Annotations: map[string]string{psp.SeccompAllowedProfilesAnnotation: "*"}},
		Spec: psp.PodSecurityPolicySpec{Privileged: true, HostNetwork: true, HostPID: true, HostIPC: true, AllowedCapabilities: []corev1.Capability{"*"},
			Volumes: []psp.FSType{psp.All}, HostPorts: []psp.HostPortRange{{Min: 0, Max: 65535}}, AllowedUnsafeSysctls: []string{"*"},
			AllowedProcMountTypes: []corev1.ProcMountType{corev1.UnmaskedProcMount},
			RunAsUser:             psp.RunAsUserStrategyOptions{Rule: psp.RunAsUserStrategyRunAsAny}, SELinux: psp.SELinuxStrategyOptions{Rule: psp.SELinuxStrategyRunAsAny},
			FSGroup: psp.FSGroupStrategyOptions{Rule: psp.FSGroupStrategyRunAsAny}, SupplementalGroups: psp.SupplementalGroupsStrategyOptions{Rule: psp.SupplementalGroupsStrategyRunAsAny}}}
	inv := &inventory.Inventory{PodSecurityPolicies: []psp.PodSecurityPolicy{privileged}}
	for _, scope := range translate.Scopes {
		set, err := translate.Compile(inv, translate.Options{Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		r := Engine{}
		out, err := r.Render(translate.Input{Set: set})
		if err != nil || len(out.Objects) != 0 || !slices.ContainsFunc(out.Warnings, func(w string) bool { return strings.Contains(w, "nothing to write") }) {
			t.Errorf("scope %s: objects %d, warnings %q, err %v; want nothing written, a warning and no error", scope, len(out.Objects), out.Warnings, err)
		}
	}
	restricted := testPSP("restricted")
	inv.PodSecurityPolicies = append(inv.PodSecurityPolicies, restricted)
	set, err := translate.Compile(inv, translate.Options{Scope: translate.ScopeCluster})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Skipped) > 0 {
		t.Fatalf("test PSP invalid: %+v", set.Skipped)
	}
	out, data := enginetest.Render(t, Engine{}, translate.Input{Set: set})
	wantWarning(t, out.Warnings, `"privileged": allows everything`)
	for _, w := range out.Warnings {
		if strings.Contains(w, "must now satisfy all") {
			t.Errorf("AND warning though only one PSP has constraints: %s", w)
		}
	}
	var docs []map[string]any
	for _, d := range strings.Split(string(data), "---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m)
		if strings.Contains(d, "psp-migrate-privileged") {
			t.Errorf("constraint for privileged rendered:\n%s", d)
		}
	}
	if len(docs) != len(out.Objects) {
		t.Errorf("%d documents for %d objects", len(docs), len(out.Objects))
	}
}
