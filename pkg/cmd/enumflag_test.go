package cmd

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestEnumFlagsAgree walks every command and checks each enumerated flag
// the same way: its help lists the values, __complete offers exactly them
// and no files, and a bad value is refused with the one shared message.
func TestEnumFlagsAgree(t *testing.T) {
	root := NewCmdPSPMigrate(genericiooptions.NewTestIOStreamsDiscard(), testBuild)
	var walk func(cmd *cobra.Command)
	seen := 0
	walk = func(cmd *cobra.Command) {
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			e, ok := f.Value.(*enumFlag)
			if !ok {
				return
			}
			seen++
			var path []string
			for c := cmd; c.HasParent(); c = c.Parent() {
				path = append([]string{c.Name()}, path...)
			}
			t.Run(strings.Join(append(path, f.Name), " "), func(t *testing.T) {
				if !strings.Contains(f.Usage, " of: "+e.describe()+")") {
					t.Errorf("help %q does not list %s", f.Usage, e.describe())
				}
				args := append([]string{cobra.ShellCompRequestCmd}, path...)
				code, out, errOut := runRoot(t, append(args, "--"+f.Name, "")...)
				if code != ExitOK {
					t.Fatalf("__complete exit %d: %s", code, errOut)
				}
				if got := completionCandidates(out); !slices.Equal(got, e.values()) {
					t.Errorf("completion = %q, want %q", got, e.values())
				}
				if !strings.HasSuffix(strings.TrimSpace(out), ":4") {
					t.Errorf("completion directive is not NoFileComp:\n%s", out)
				}
				code, _, errOut = runRoot(t, append(path, "--"+f.Name, "bogus")...)
				want := `invalid argument "bogus" for "` + flagNames(f) + `" flag: want one of ` + e.describe()
				if code != ExitError || !strings.Contains(errOut, want) {
					t.Errorf("bad value: exit %d, stderr %q, want %q", code, errOut, want)
				}
			})
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// -o ×3, -e ×3, --scope ×2, --mode, --fail-on ×2, --pss-version ×2,
	// --controller-identity, --observe-mode.
	if seen < 15 {
		t.Errorf("found %d enumerated flags, want at least 15", seen)
	}
}

// flagNames is "-o, --output" or "--scope", as pflag names a flag in errors.
func flagNames(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + ", --" + f.Name
	}
	return "--" + f.Name
}

func TestEnumSliceSet(t *testing.T) {
	tests := []struct {
		name    string
		sets    []string
		want    []string
		wantErr string
	}{
		{name: "default kept when unset", want: []string{"a"}},
		{name: "first set replaces the default", sets: []string{"b"}, want: []string{"b"}},
		{name: "comma separated and repeated, duplicates once", sets: []string{"b, c", "b"}, want: []string{"b", "c"}},
		{name: "bad value in a list is named", sets: []string{"b,x"}, want: []string{"a"}, wantErr: `"x": want one of a, b, c`},
		{name: "bad single value", sets: []string{"x"}, want: []string{"a"}, wantErr: `want one of a, b, c`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{"a"}
			e := &enumFlag{values: func() []string { return []string{"a", "b", "c"} }, multi: &got}
			var err error
			for _, s := range tt.sets {
				if err = e.Set(s); err != nil {
					break
				}
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("Set() = %v, want %q", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("value = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClusterFlagCompletion completes -n and --psp from an API server (a
// stub serving the two lists), --context and --cluster from the
// kubeconfig, --psp from -f files, and -f to manifest files.
func TestClusterFlagCompletion(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/namespaces":
			_, _ = w.Write([]byte(`{"kind":"NamespaceList","apiVersion":"v1","items":[{"metadata":{"name":"team-b"}},{"metadata":{"name":"team-a"}}]}`))
		case "/apis/policy/v1beta1/podsecuritypolicies":
			_, _ = w.Write([]byte(`{"kind":"PodSecurityPolicyList","apiVersion":"policy/v1beta1","items":[{"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"restricted"}}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: stub
  cluster: {server: "` + srv.URL + `"}
- name: other
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: stub-ctx
  context: {cluster: stub, user: u}
- name: other-ctx
  context: {cluster: other, user: u}
users:
- name: u
  user: {token: t}
current-context: stub-ctx
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + kubeconfig
	tests := []struct {
		name          string
		args          []string
		want          []string
		wantDirective string
	}{
		{name: "audit -n", args: []string{"audit", kc, "-n", ""}, want: []string{"team-a", "team-b"}, wantDirective: ":4"},
		{name: "convert -n", args: []string{"convert", kc, "-n", ""}, want: []string{"team-a", "team-b"}, wantDirective: ":4"},
		{name: "-n on an unreachable context offers nothing", args: []string{"audit", kc, "--context", "other-ctx", "-n", ""}, wantDirective: ":4"},
		{name: "--context", args: []string{"readiness", kc, "--context", ""}, want: []string{"other-ctx", "stub-ctx"}, wantDirective: ":4"},
		{name: "--cluster", args: []string{"audit", kc, "--cluster", ""}, want: []string{"other", "stub"}, wantDirective: ":4"},
		{name: "--psp from the cluster", args: []string{"convert", kc, "-e", "vap", "--psp", ""}, want: []string{"restricted"}, wantDirective: ":4"},
		{name: "--psp from -f", args: []string{"audit", kc, "-f", "../../examples/cluster.yaml", "--psp", ""}, want: []string{"baseline", "ci-runner", "host-network", "privileged", "restricted"}, wantDirective: ":4"},
		{name: "-f", args: []string{"audit", "-f", ""}, want: manifestExtensions, wantDirective: ":8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runRoot(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := completionCandidates(out); !slices.Equal(got, tt.want) {
				t.Errorf("candidates = %q, want %q", got, tt.want)
			}
			if !strings.HasSuffix(strings.TrimSpace(out), tt.wantDirective) {
				t.Errorf("directive: want %s in\n%s", tt.wantDirective, out)
			}
		})
	}
}
