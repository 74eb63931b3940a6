package cmd

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/fleet"
)

// fleetKubeconfig has five contexts on servers nobody runs: listing and
// completing them reads the kubeconfig only.
const fleetKubeconfig = "testdata/fleet-kubeconfig.yaml"

func TestFleetListContexts(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		golden     string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "table by default", args: []string{"audit", "--all-contexts"}, golden: "fleet-list-contexts.txt"},
		{name: "wide adds cluster, user and namespace", args: []string{"audit", "--contexts", "/^prod-/,broken", "-o", "wide"},
			golden: "fleet-list-contexts-wide.txt"},
		{name: "json names what left each context out", args: []string{"readiness", "--contexts", "/^prod-|^kind/,broken,^/^kind-/", "-o", "json"},
			golden: "fleet-list-contexts.json"},
		{name: "yaml is the same list", args: []string{"audit", "--contexts", "/^prod-|^kind/,broken,^/^kind-/", "-o", "yaml"},
			golden: "fleet-list-contexts.json"},
		{name: "offline lists directories", args: []string{"audit", "--cluster-from-dir", fleetDir, "--contexts", "^lab", "-o", "json"},
			golden: "fleet-list-contexts-dir.json"},
		{name: "convert has no -o: a table", args: []string{"convert", "-e", "vap", "--contexts", "prod-eu"},
			wantStdout: "CONTEXT   SERVER\nprod-eu   https://eu.example.com:6443\n"},
		{name: "markdown is refused", args: []string{"readiness", "--all-contexts", "-o", "markdown"}, wantCode: ExitError,
			wantStderr: "--list-contexts prints table, wide, json, yaml, not markdown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--list-contexts")
			if !slices.Contains(args, "--cluster-from-dir") {
				args = append(args, "--kubeconfig", fleetKubeconfig)
			}
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode != ExitOK {
				if stdout != "" || !strings.Contains(stderr, tt.wantStderr) {
					t.Errorf("stdout %q, stderr %q; want nothing and %q", stdout, stderr, tt.wantStderr)
				}
				return
			}
			if slices.Contains(args, "yaml") {
				// The YAML says what the JSON says.
				var v any
				if err := yaml.Unmarshal([]byte(stdout), &v); err != nil {
					t.Fatalf("output is not YAML: %v\n%s", err, stdout)
				}
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				stdout = string(b)
				if *update {
					t.Skip("the json case writes the golden")
				}
			}
			if tt.golden != "" {
				checkGolden(t, tt.golden, stdout)
			}
			if tt.wantStdout != "" && stdout != tt.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.wantStdout)
			}
		})
	}

	t.Run("the json is the documented struct", func(t *testing.T) {
		_, stdout, stderr := runCLI(t, "", "audit", "--contexts", "^/^kind-/", "-o", "json", "--list-contexts", "--kubeconfig", fleetKubeconfig)
		var l fleet.ContextList
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%v\n%s%s", err, stdout, stderr)
		}
		if l.APIVersion != fleet.APIVersion || l.Kind != fleet.KindContextList || l.Source != fleet.SourceKubeconfig {
			t.Errorf("header %s %s %s", l.APIVersion, l.Kind, l.Source)
		}
		var names []string
		for _, c := range l.Contexts {
			names = append(names, c.Context)
		}
		if want := []string{"broken", "prod-eu", "prod-us", "staging"}; !slices.Equal(names, want) {
			t.Errorf("selected %v, want %v", names, want)
		}
		if want := []fleet.Skipped{{Context: "kind-kind", ExcludedBy: "^/^kind-/"}}; !slices.Equal(l.NotSelected, want) {
			t.Errorf("not selected %v, want %v", l.NotSelected, want)
		}
		if l.Contexts[0].Error == "" {
			t.Errorf("broken names a cluster the kubeconfig lacks, and the list does not say so: %+v", l.Contexts[0])
		}
	})
}

// TestContextsCompletion completes --contexts through __complete, as a
// shell does: the term after the last comma, exclusions included.
func TestContextsCompletion(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	all := []string{"broken", "kind-kind", "prod-eu", "prod-us", "staging"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "every context", args: []string{"audit", "--contexts", ""}, want: all},
		{name: "a prefix", args: []string{"readiness", "--contexts", "prod"}, want: []string{"prod-eu", "prod-us"}},
		{name: "= form", args: []string{"audit", "--contexts=st"}, want: []string{"staging"}},
		{name: "after a comma, the terms before are kept and not offered again", args: []string{"audit", "--contexts", "prod-eu,prod"},
			want: []string{"prod-eu,prod-us"}},
		{name: "an exclusion", args: []string{"audit", "--contexts", "/^prod-/,^p"}, want: []string{"/^prod-/,^prod-eu", "/^prod-/,^prod-us"}},
		{name: "an exclusion first", args: []string{"convert", "--contexts", "^k"}, want: []string{"^kind-kind"}},
		{name: "names an earlier --contexts holds are not offered", args: []string{"audit", "--contexts", "staging", "--contexts", "s"}},
		{name: "a regex gets nothing", args: []string{"audit", "--contexts", "/pro"}},
		{name: "offline: the sub-directories", args: []string{"audit", "--cluster-from-dir", fleetDir, "--contexts", "eu,"},
			want: []string{"eu,lab", "eu,us"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{cobra.ShellCompRequestCmd, tt.args[0]}
			if !slices.Contains(tt.args, "--cluster-from-dir") {
				args = append(args, "--kubeconfig", fleetKubeconfig)
			}
			code, out, errOut := runRoot(t, append(args, tt.args[1:]...)...)
			if code != ExitOK {
				t.Fatalf("exit code = %d; stderr: %s", code, errOut)
			}
			got := completionCandidates(out)
			if !slices.Equal(got, tt.want) {
				t.Errorf("candidates = %q, want %q", got, tt.want)
			}
			// NoFileComp|NoSpace: no file names, and room for a comma.
			if !strings.HasSuffix(strings.TrimSpace(out), ":6") {
				t.Errorf("directive is not :6 (NoSpace|NoFileComp):\n%s", out)
			}
		})
	}

	t.Run("KUBECONFIG files are merged as for a run", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing")+string(filepath.ListSeparator)+fleetKubeconfig)
		_, out, _ := runRoot(t, cobra.ShellCompRequestCmd, "audit", "--contexts", "kind")
		if got := completionCandidates(out); !slices.Equal(got, []string{"kind-kind"}) {
			t.Errorf("candidates = %q", got)
		}
	})
}

// FuzzContextsCompletion: whatever the word being completed holds, the
// completion never fails, and every candidate extends the word, as a shell
// requires of what it offers.
func FuzzContextsCompletion(f *testing.F) {
	for _, seed := range []string{"", "prod", "prod-eu,", "^", "a,^p", "/x/,^/y", ",,", "^^", "prod-eu,prod-eu,"} {
		f.Add(seed)
	}
	root := NewCmdPSPMigrate(genericiooptions.NewTestIOStreamsDiscard(), testBuild)
	audit, _, err := root.Find([]string{"audit"})
	if err != nil {
		f.Fatal(err)
	}
	if err := audit.Flags().Set("kubeconfig", fleetKubeconfig); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, word string) {
		got, directive := completeContexts(audit, nil, word)
		if directive != cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace {
			t.Errorf("%q: directive %v", word, directive)
		}
		for _, c := range got {
			if !strings.HasPrefix(c, word) {
				t.Errorf("%q: candidate %q does not extend it", word, c)
			}
		}
	})
}
