package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var updateConvert = flag.Bool("update-convert", false, "rewrite pkg/cmd/testdata/convert golden files")

const convertInput = "testdata/convert/cluster.yaml"

// yamlDocs decodes a multi-document stream into maps, for semantic
// comparison.
func yamlDocs(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return out
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

func TestConvert(t *testing.T) {
	tests := []struct {
		name       string
		input      string // default convertInput
		args       []string
		wantCode   int
		golden     string // compared semantically with stdout
		wantStdout []string
		wantStderr []string
		noStdout   []string
	}{
		{name: "vap, rbac scope", args: []string{"-e", "vap"}, golden: "vap-rbac.yaml",
			wantStderr: nil},
		{name: "vap and psa together", args: []string{"-e", "vap,psa", "--pss-version", "v1.30"},
			wantStdout: []string{"kind: ValidatingAdmissionPolicy\n", "kind: ValidatingAdmissionPolicyBinding\n", "kind: Namespace\n", "name: infra\n"},
			wantStderr: []string{"Warning: psa: namespace apps not written: its current labels differ", "overwrite with --force"},
			noStdout:   []string{"name: apps\n"}},
		{name: "psa --force overwrites the conflicting namespace", args: []string{"-e", "psa", "--pss-version", "v1.30", "--force"},
			wantStdout: []string{"name: apps\n", "name: infra\n", "pod-security.kubernetes.io/enforce-version: v1.30"},
			wantStderr: []string{"overwriting current labels (--force)"}},
		{name: "psa pins latest", args: []string{"-e", "psa"}, wantStderr: []string{"pod-security labels pinned to v1."},
			noStdout: []string{"-version: latest"}},
		{name: "warn mode, cluster scope, nothing excluded", args: []string{"-e", "vap", "--mode", "warn", "--scope", "cluster", "--exclude-namespaces", ""},
			wantStdout: []string{"- Warn\n", "psp-migrate.io/scope: cluster"}, noStdout: []string{"kube-system", "usable_"}},
		{name: "one PSP", args: []string{"-e", "vap", "--psp", "restricted", "--mode", "audit", "--allow-deny-all"},
			wantStdout: []string{"name: psp-migrate-restricted\n", "psp-migrate.io/psp: restricted", "- Audit\n"}, noStdout: []string{"psp_privileged"},
			wantStderr: []string{"Warning: vap: the converted policies would deny 1 of the 2 running pods they cover: infra/agent (spec.privileged: privileged containers are not allowed)"}},
		{name: "deny-all guard: every running pod of a namespace", args: []string{"-e", "vap", "--psp", "restricted"}, wantCode: ExitError,
			wantStderr: []string{"would deny vap: every running pod of namespace(s) infra (1 pods); nothing was written", "--allow-deny-all"}},
		{name: "deny-all guard: gatekeeper ANDs the PSPs of a namespace", args: []string{"-e", "gatekeeper"}, wantCode: ExitError,
			wantStderr: []string{"gatekeeper: every running pod of namespace(s) infra"}},
		{name: "unknown PSP", args: []string{"-e", "vap", "--psp", "nope"}, wantCode: ExitError, wantStderr: []string{`PodSecurityPolicy "nope" not found`}},
		{name: "every engine at once", args: []string{"-e", "vap,psa,kyverno,kyverno-cel,gatekeeper,kubewarden", "--gatekeeper-templates", "--allow-deny-all"},
			wantStdout: []string{"kind: ValidatingAdmissionPolicy\n", "kind: ClusterPolicy\n", "kind: ValidatingPolicy\n", "kind: ConstraintTemplate\n", "kind: K8sPSPPrivilegedContainer\n", "apiVersion: policies.kubewarden.io/v1\n", "kind: Namespace\n"}},
		{name: "kyverno --mutate, one PSP", args: []string{"-e", "kyverno", "--mutate", "--psp", "restricted", "--allow-deny-all"},
			wantStdout: []string{"name: psp-migrate-restricted\n", "name: psp-migrate-restricted-defaults\n", "patchStrategicMerge"}},
		{name: "kyverno --mutate, PSPs a pod may both use", args: []string{"-e", "kyverno", "--mutate", "--scope", "cluster"}, wantCode: ExitError,
			wantStderr: []string{"--mutate: each pod must be able to use exactly one", "--psp"}},
		{name: "--mutate for another engine", args: []string{"-e", "kyverno,vap", "--mutate"}, wantCode: ExitError, wantStderr: []string{"--mutate is only supported for -e kyverno"}},
		// EKS grants eks.privileged to system:authenticated: every pod may
		// use it, so the policy admits every pod (it once matched none).
		{name: "EKS layout: a grant to system:authenticated reaches every pod", input: "testdata/convert/eks.yaml", args: []string{"-e", "vap,kyverno,kyverno-cel,gatekeeper,kubewarden"},
			wantStdout: []string{"kind: ValidatingAdmissionPolicy\n"}, noStdout: []string{"usable_", "expression: \"false\""}},
		{name: "EKS layout without the binding: nobody may use the PSP", input: "testdata/convert/eks-unbound.yaml", args: []string{"-e", "vap"}, wantCode: ExitError,
			wantStderr: []string{"every running pod of namespace(s) default (1 pods)"}},
		{name: "unknown engine", args: []string{"-e", "opa"}, wantCode: ExitError, wantStderr: []string{`invalid argument "opa" for "-e, --engine" flag: want one of`}},
		{name: "no engine", args: nil, wantCode: ExitError, wantStderr: []string{"no engine given"}},
		{name: "bad scope", args: []string{"-e", "vap", "--scope", "namespace"}, wantCode: ExitError, wantStderr: []string{`invalid argument "namespace" for "--scope" flag: want one of`}},
		{name: "bad mode", args: []string{"-e", "vap", "--mode", "dryrun"}, wantCode: ExitError, wantStderr: []string{`invalid argument "dryrun" for "--mode" flag: want one of enforce, audit, warn`}},
		{name: "bad pss version", args: []string{"-e", "psa", "--pss-version", "1.30"}, wantCode: ExitError, wantStderr: []string{"--pss-version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := convertInput
			if tt.input != "" {
				input = tt.input
			}
			args := append([]string{"convert", "-f", input}, tt.args...)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d\nstderr: %s", code, tt.wantCode, stderr)
			}
			if tt.wantCode != ExitOK && stdout != "" {
				t.Errorf("stdout not empty on error:\n%s", stdout)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.noStdout {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tt.golden != "" {
				path := filepath.Join("testdata", "convert", tt.golden)
				if *updateConvert {
					if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(yamlDocs(t, []byte(stdout)), yamlDocs(t, want)) {
					t.Errorf("stdout differs from %s (-update-convert after checking):\n%s", path, stdout)
				}
			}
			// Whatever vap wrote decodes strictly into the API types.
			for _, doc := range strings.Split(stdout, "\n---\n") {
				var obj any
				switch {
				case strings.Contains(doc, "kind: ValidatingAdmissionPolicy\n"):
					obj = &admissionregistrationv1.ValidatingAdmissionPolicy{}
				case strings.Contains(doc, "kind: ValidatingAdmissionPolicyBinding\n"):
					obj = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
				default:
					continue
				}
				if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
					t.Errorf("strict decode: %v", err)
				}
			}
		})
	}
}

func TestConvertOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "policies")
	files := func() []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") { // the list of files written
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		return names
	}
	want := []string{
		"psa-namespace-infra.yaml",
		"vap-validatingadmissionpolicy-psp-migrate.yaml",
		"vap-validatingadmissionpolicybinding-psp-migrate.yaml",
	}
	args := []string{"convert", "-f", convertInput, "-e", "vap,psa", "--pss-version", "v1.30", "--output-dir", dir}

	code, stdout, stderr := runCLI(t, "", args...)
	if code != ExitOK || stdout != "" {
		t.Fatalf("first run: code %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	if got := files(); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	policy, err := os.ReadFile(filepath.Join(dir, want[1]))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("an existing file stops the run before anything is written", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, want[0])); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "", append(args, "--mode", "warn")...)
		if code != ExitError || !strings.Contains(stderr, "already exist") || !strings.Contains(stderr, "--force") {
			t.Fatalf("code %d, stderr %s", code, stderr)
		}
		if got := files(); !slices.Equal(got, want[1:]) {
			t.Errorf("files = %v: a refused run must write nothing", got)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, want[1])); !bytes.Equal(b, policy) {
			t.Error("the existing policy file changed")
		}
	})
	t.Run("--force overwrites files and conflicting namespace labels", func(t *testing.T) {
		code, _, stderr := runCLI(t, "", append(args, "--mode", "warn", "--force")...)
		if code != ExitOK {
			t.Fatalf("code %d, stderr %s", code, stderr)
		}
		if got, want := files(), append([]string{"psa-namespace-apps.yaml"}, want...); !slices.Equal(got, want) {
			t.Errorf("files = %v, want %v", got, want)
		}
		b, _ := os.ReadFile(filepath.Join(dir, want[2]))
		if !strings.Contains(string(b), "- Warn") {
			t.Errorf("binding not rewritten:\n%s", b)
		}
	})
}
