package bridge

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

const restrictedPSP = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default
    apparmor.security.beta.kubernetes.io/allowedProfileNames: runtime/default
spec:
  privileged: false
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, secret, emptyDir, projected]
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

func TestConvert(t *testing.T) {
	tests := []struct {
		name      string
		req       Request
		wantErr   string // in Response.Error
		wantLine  int
		wantScope string
		check     func(t *testing.T, r Response)
	}{
		{
			name:      "one PSP: every engine, scope cluster",
			req:       Request{Input: restrictedPSP, Version: "v9.9.9"},
			wantScope: "cluster",
			check: func(t *testing.T, r Response) {
				if got, want := len(r.Engines), len(engines.Names()); got != want {
					t.Fatalf("%d engines, want %d", got, want)
				}
				for _, e := range r.Engines {
					if e.Error != "" {
						t.Errorf("%s: %s", e.Engine, e.Error)
					}
					if !strings.Contains(e.Command, "-e "+e.Engine+" --scope cluster") {
						t.Errorf("%s: command %q", e.Engine, e.Command)
					}
					if e.Engine != translate.EnginePSA && !strings.Contains(e.Output, "v9.9.9") {
						t.Errorf("%s: the version is not stamped into the output", e.Engine)
					}
				}
				if len(r.PSPs) != 1 || r.PSPs[0].Name != "restricted" || r.PSPs[0].Level != "restricted" {
					t.Errorf("levels %+v, want restricted: restricted", r.PSPs)
				}
			},
		},
		{
			name: "options reach the engines that take them",
			req:  Request{Input: restrictedPSP, Engines: []string{"kyverno", "gatekeeper", "vap"}, Mode: "audit", Mutate: true, GatekeeperTemplates: true},
			check: func(t *testing.T, r Response) {
				byEngine := map[string]EngineOutput{}
				for _, e := range r.Engines {
					byEngine[e.Engine] = e
				}
				if c := byEngine["kyverno"].Command; !strings.Contains(c, "--mode audit --mutate") {
					t.Errorf("kyverno command %q", c)
				}
				if c := byEngine["gatekeeper"].Command; !strings.Contains(c, "--gatekeeper-templates") {
					t.Errorf("gatekeeper command %q", c)
				}
				if !strings.Contains(byEngine["gatekeeper"].Output, "kind: ConstraintTemplate") {
					t.Error("gatekeeper: no ConstraintTemplate with the templates option")
				}
				if c := byEngine["vap"].Command; strings.Contains(c, "--mutate") || strings.Contains(c, "--gatekeeper-templates") {
					t.Errorf("vap command %q carries another engine's option", c)
				}
			},
		},
		{
			name:      "pasted RBAC scopes as --scope rbac",
			req:       Request{Input: Examples()[exampleIndex(t, "rbac")].YAML, Engines: []string{"vap"}},
			wantScope: "rbac",
		},
		{
			name:     "bad YAML names the line of the pasted text",
			req:      Request{Input: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nspec:\n  foo: [\n"},
			wantErr:  "input: document 2: invalid YAML",
			wantLine: 9,
		},
		{
			name:    "no PSP",
			req:     Request{Input: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"},
			wantErr: "no PodSecurityPolicy found",
		},
		{
			name:    "empty",
			req:     Request{Input: "  \n"},
			wantErr: "input: file is empty",
		},
		{
			name: "bad mode fails each engine, not the page",
			req:  Request{Input: restrictedPSP, Engines: []string{"vap"}, Mode: "loud"},
			check: func(t *testing.T, r Response) {
				if e := r.Engines[0].Error; !strings.Contains(e, `invalid mode "loud"`) {
					t.Errorf("error %q", e)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Convert(tt.req)
			if tt.wantErr != "" {
				if r.Error == nil || !strings.Contains(r.Error.Message, tt.wantErr) {
					t.Fatalf("error %+v, want one containing %q", r.Error, tt.wantErr)
				}
				if r.Error.Line != tt.wantLine {
					t.Errorf("line %d, want %d", r.Error.Line, tt.wantLine)
				}
				if len(r.Engines) != 0 {
					t.Errorf("engines rendered despite the error")
				}
				return
			}
			if r.Error != nil {
				t.Fatalf("unexpected error %+v", r.Error)
			}
			if tt.wantScope != "" && r.Scope != tt.wantScope {
				t.Errorf("scope %q, want %q", r.Scope, tt.wantScope)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func exampleIndex(t *testing.T, name string) int {
	t.Helper()
	for i, e := range Examples() {
		if e.Name == name {
			return i
		}
	}
	t.Fatalf("no example %q", name)
	return -1
}

// Every bundled example converts without an error on every engine.
func TestExamples(t *testing.T) {
	exs := Examples()
	if len(exs) < 3 {
		t.Fatalf("%d examples", len(exs))
	}
	for _, ex := range exs {
		t.Run(ex.Name, func(t *testing.T) {
			r := Convert(Request{Input: ex.YAML})
			if r.Error != nil {
				t.Fatalf("%+v", r.Error)
			}
			for _, e := range r.Engines {
				if e.Error != "" {
					t.Errorf("%s: %s", e.Engine, e.Error)
				}
			}
		})
	}
}

func TestZip(t *testing.T) {
	tests := []struct {
		name    string
		resp    Response
		want    []string
		wantErr bool
	}{
		{
			name: "one folder per engine, failed engines left out",
			resp: Response{Engines: []EngineOutput{
				{Engine: "vap", Files: []File{{Name: "a.yaml", YAML: "a: 1\n"}, {Name: "b.yaml", YAML: "b: 2\n"}}},
				{Engine: "kyverno", Error: "boom", Files: []File{{Name: "x.yaml", YAML: "x\n"}}},
				{Engine: "psa", Files: []File{{Name: "ns.yaml", YAML: "n: 1\n"}}},
			}},
			want: []string{"vap/a.yaml", "vap/b.yaml", "psa/ns.yaml"},
		},
		{name: "nothing to zip", resp: Response{Engines: []EngineOutput{{Engine: "vap", Files: []File{}}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Zip(tt.resp)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				if want := fileOf(tt.resp, f.Name); string(got) != want {
					t.Errorf("%s: %q, want %q", f.Name, got, want)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("files %v, want %v", names, tt.want)
			}
			again, _ := Zip(tt.resp)
			if !bytes.Equal(b, again) {
				t.Error("the same response gave two different archives")
			}
		})
	}
}

func fileOf(r Response, name string) string {
	for _, e := range r.Engines {
		for _, f := range e.Files {
			if path.Join(e.Engine, f.Name) == name {
				return f.YAML
			}
		}
	}
	return ""
}
