package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// runRoot runs the plugin's root command with args and returns the exit
// code, stdout and stderr.
func runRoot(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewCmdPSPMigrate(streams, testBuild)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	code := Execute(root, streams)
	return code, out.String(), errOut.String()
}

func TestCompletionCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErrOut string
	}{
		{
			name: "bash",
			args: []string{"completion", "bash"},
			wantOut: []string{
				"# bash completion V2 for kubectl-psp_migrate",
				"__complete",
				"complete -o default -F __start_kubectl-psp_migrate kubectl-psp_migrate",
			},
		},
		{
			name:    "zsh",
			args:    []string{"completion", "zsh"},
			wantOut: []string{"#compdef kubectl-psp_migrate", "__complete"},
		},
		{
			name:    "zsh without descriptions",
			args:    []string{"completion", "zsh", "--no-descriptions"},
			wantOut: []string{"#compdef kubectl-psp_migrate", "__completeNoDesc"},
		},
		{
			name:    "fish",
			args:    []string{"completion", "fish"},
			wantOut: []string{"complete -c kubectl-psp_migrate", "__complete"},
		},
		{
			name:    "powershell",
			args:    []string{"completion", "powershell"},
			wantOut: []string{"Register-ArgumentCompleter", "kubectl-psp_migrate", "__complete"},
		},
		{name: "no shell", args: []string{"completion"}, wantCode: ExitError, wantErrOut: "name a shell"},
		{name: "unknown shell", args: []string{"completion", "tcsh"}, wantCode: ExitError, wantErrOut: `unsupported shell "tcsh"`},
		{name: "two shells", args: []string{"completion", "bash", "zsh"}, wantCode: ExitError, wantErrOut: "accepts at most 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runRoot(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("script lacks %q", want)
				}
			}
			if !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErrOut)
			}
		})
	}
}

// TestCompletionHelp checks that the help tells users to run the plugin the
// kubectl way, never as the bare binary followed by a subcommand.
func TestCompletionHelp(t *testing.T) {
	code, out, errOut := runRoot(t, "completion", "--help")
	if code != ExitOK {
		t.Fatalf("exit code = %d; stderr: %s", code, errOut)
	}
	for _, want := range []string{
		"kubectl psp-migrate completion SHELL",
		"source <(kubectl psp-migrate completion bash)",
		"kubectl_complete-psp_migrate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "kubectl-psp_migrate completion") {
		t.Errorf("help names the binary instead of `kubectl psp-migrate`:\n%s", out)
	}
}

// TestFlagValueCompletion asks for completions the way a shell (or
// kubectl's kubectl_complete-psp_migrate helper) does, through __complete.
func TestFlagValueCompletion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
		// exact: the candidates must be want and nothing else.
		exact bool
	}{
		// audit's own lists are the source of truth for its values.
		{name: "audit -o", args: []string{"audit", "-o", ""}, want: report.Formats, exact: true},
		{name: "audit -o offers json", args: []string{"audit", "-o", ""}, want: []string{"json"}},
		{name: "audit --output=", args: []string{"audit", "--output="}, want: report.Formats, exact: true},
		{name: "version -o", args: []string{"version", "-o", ""}, want: []string{"json", "yaml"}, exact: true},
		{name: "audit --fail-on", args: []string{"audit", "--fail-on", ""}, want: failOnValues, exact: true},
		{
			name: "audit --pss-version",
			args: []string{"audit", "--pss-version", ""},
			want: []string{"latest", "v1.0", "v1.25", buildinfo.LatestPSSVersion().String()},
		},
		{name: "completion shells", args: []string{"completion", ""}, want: []string{"bash", "zsh", "fish", "powershell"}, exact: true},
		{name: "subcommands", args: []string{""}, want: []string{"audit", "completion", "version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runRoot(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
			if code != ExitOK {
				t.Fatalf("exit code = %d; stderr: %s", code, errOut)
			}
			got := completionCandidates(out)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("candidates %q lack %q", got, w)
				}
			}
			if tt.exact && len(got) != len(tt.want) {
				t.Errorf("candidates = %q, want exactly %q", got, tt.want)
			}
			if !strings.HasSuffix(strings.TrimSpace(out), ":4") && tt.exact {
				t.Errorf("want ShellCompDirectiveNoFileComp (:4) so no file names are offered, got:\n%s", out)
			}
		})
	}
}

// completionCandidates parses __complete output: one candidate per line,
// an optional tab and description, then a ":<directive>" line.
func completionCandidates(out string) []string {
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, ":") {
			break
		}
		name, _, _ := strings.Cut(line, "\t")
		got = append(got, name)
	}
	return got
}

// TestRegisterFlagCompletions covers the walk on a small tree: an
// enumerated flag on a subcommand, a persistent one seen from a child, a
// plain string flag (no completion) and a flag that already has its own.
func TestRegisterFlagCompletions(t *testing.T) {
	var s string
	var list []string
	root := &cobra.Command{Use: "kubectl-psp_migrate"}
	pssVersionVar(root.PersistentFlags(), &s, "")
	convert := &cobra.Command{Use: "convert", Run: func(*cobra.Command, []string) {}}
	enumSliceVar(convert.Flags(), &list, "engine", "e", "", engines.Names)
	convert.Flags().StringVarP(&s, "output", "o", "", "")
	own := &cobra.Command{Use: "own", Run: func(*cobra.Command, []string) {}}
	enumVar(own.Flags(), &s, "fail-on", "", "", func() []string { return failOnValues })
	if err := own.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"mine"}, cobra.ShellCompDirectiveNoFileComp)); err != nil {
		t.Fatal(err)
	}
	root.AddCommand(convert, own)

	registerFlagCompletions(root)

	tests := []struct {
		name string
		cmd  *cobra.Command
		flag string
		want []string // nil: no completion registered
	}{
		{name: "engine on a subcommand", cmd: convert, flag: "engine", want: engines.Names()},
		{name: "persistent flag seen from a child", cmd: convert, flag: "pss-version", want: buildinfo.PSSVersions()},
		{name: "plain string flag", cmd: convert, flag: "output"},
		{name: "a command's own completion is kept", cmd: own, flag: "fail-on", want: []string{"mine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn, ok := tt.cmd.GetFlagCompletionFunc(tt.flag)
			if tt.want == nil {
				if ok {
					t.Fatalf("--%s has a completion, want none", tt.flag)
				}
				return
			}
			if !ok {
				t.Fatalf("--%s has no completion", tt.flag)
			}
			got, directive := fn(tt.cmd, nil, "")
			if !slices.Equal(got, tt.want) {
				t.Errorf("candidates = %q, want %q", got, tt.want)
			}
			if directive != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("directive = %v, want NoFileComp", directive)
			}
		})
	}
}

// TestCompletionHelper runs the kubectl_complete-psp_migrate script at the
// repository root the way kubectl 1.26+ does, against a stand-in plugin
// that records its arguments: the words, empty last one included, must
// reach `kubectl-psp_migrate __complete` unchanged.
func TestCompletionHelper(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the helper is a POSIX shell script")
	}
	helper, err := filepath.Abs("../../kubectl_complete-psp_migrate")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(bin, "kubectl-psp_migrate"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(helper, "audit", "-o", "")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", helper, err, out)
	}
	if want := "[__complete][audit][-o][]"; string(out) != want {
		t.Errorf("helper ran kubectl-psp_migrate with %s, want %s", out, want)
	}
}
