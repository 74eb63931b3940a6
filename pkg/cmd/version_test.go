package cmd

import (
	"encoding/json"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

var testBuild = buildinfo.Info{Version: "1.2.3", Commit: "0123abc", Date: "2026-01-02T03:04:05Z"}

func TestVersionValidate(t *testing.T) {
	tests := []struct {
		name    string
		output  string
		wantErr string
	}{
		{name: "text", output: ""},
		{name: "json", output: "json"},
		{name: "yaml", output: "yaml"},
		{name: "unknown format", output: "xml", wantErr: `invalid argument "xml" for "--output" flag: want one of json, yaml`},
		{name: "audit-only format", output: "wide", wantErr: `invalid argument "wide" for "--output" flag: want one of json, yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewVersionOptions(genericiooptions.NewTestIOStreamsDiscard(), testBuild)
			o.Output = tt.output
			err := o.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// wantReport is what every format must carry for testBuild.
func wantReport() buildinfo.Report {
	return buildinfo.NewReport(testBuild, engines.Components())
}

func TestVersionRun(t *testing.T) {
	decodeJSON := func(t *testing.T, out string) versionDocument {
		t.Helper()
		var d versionDocument
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("output is not JSON of a version report: %v\n%s", err, out)
		}
		return d
	}
	decodeYAML := func(t *testing.T, out string) versionDocument {
		t.Helper()
		var d versionDocument
		if err := yaml.UnmarshalStrict([]byte(out), &d); err != nil {
			t.Fatalf("output is not YAML of a version report: %v\n%s", err, out)
		}
		return d
	}
	checkReport := func(t *testing.T, doc versionDocument) {
		t.Helper()
		if doc.APIVersion != "psp-migrate/v1alpha1" || doc.Kind != "Version" {
			t.Errorf("apiVersion/kind = %s/%s, want psp-migrate/v1alpha1/Version", doc.APIVersion, doc.Kind)
		}
		got, want := doc.Report, wantReport()
		if got.Version != want.Version ||
			got.Commit != want.Commit || got.Date != want.Date || got.GoVersion != runtime.Version() ||
			got.Platform != want.Platform || got.PodSecurityStandards != want.PodSecurityStandards {
			t.Errorf("report = %+v, want %+v", got, want)
		}
		if got.Components == nil || len(got.Components) != len(want.Components) {
			t.Errorf("components = %#v, want %#v (a list, empty when none registered)", got.Components, want.Components)
		}
	}

	tests := []struct {
		name   string
		output string
		check  func(t *testing.T, out string)
	}{
		{
			name: "text",
			check: func(t *testing.T, out string) {
				want := wantReport()
				for _, re := range []string{
					`(?m)^Version:\s+1\.2\.3$`,
					`(?m)^Commit:\s+0123abc$`,
					`(?m)^Date:\s+2026-01-02T03:04:05Z$`,
					`(?m)^Go:\s+` + regexp.QuoteMeta(runtime.Version()+" "+want.Platform) + `$`,
					`(?m)^Pod Security Standards:\s+k8s\.io/pod-security-admission ` +
						regexp.QuoteMeta(want.PodSecurityStandards.ModuleVersion) +
						` \(newest standard: v1\.\d+\)$`,
				} {
					if !regexp.MustCompile(re).MatchString(out) {
						t.Errorf("text output does not match %s:\n%s", re, out)
					}
				}
				if len(want.Components) == 0 && !regexp.MustCompile(`(?m)^Components:\s+none$`).MatchString(out) {
					t.Errorf("text output should say there are no components:\n%s", out)
				}
				for _, c := range want.Components {
					if !strings.Contains(out, c.Name+" "+c.Version) {
						t.Errorf("text output lacks component %s %s:\n%s", c.Name, c.Version, out)
					}
				}
			},
		},
		{
			name:   "json",
			output: "json",
			check:  func(t *testing.T, out string) { checkReport(t, decodeJSON(t, out)) },
		},
		{
			name:   "yaml",
			output: "yaml",
			check:  func(t *testing.T, out string) { checkReport(t, decodeYAML(t, out)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := NewVersionOptions(streams, testBuild)
			o.Output = tt.output
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := o.Run(); err != nil {
				t.Fatalf("Run() = %v", err)
			}
			if errOut.Len() != 0 {
				t.Errorf("unexpected stderr: %s", errOut)
			}
			tt.check(t, out.String())
		})
	}
}

// TestVersionCommand runs the command the way kubectl does, through the
// root command and Execute, to cover flag parsing and the exit code.
func TestVersionCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{name: "text", args: []string{"version"}, wantOut: "Version:"},
		{name: "json short flag", args: []string{"version", "-o", "json"}, wantOut: `"version": "1.2.3"`},
		{name: "yaml long flag", args: []string{"version", "--output=yaml"}, wantOut: "version: 1.2.3"},
		{name: "bad output", args: []string{"version", "-o", "table"}, wantCode: ExitError, wantErrOut: `invalid argument "table" for "-o, --output" flag: want one of json, yaml`},
		{name: "stray argument", args: []string{"version", "extra"}, wantCode: ExitError, wantErrOut: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			root := NewCmdPSPMigrate(streams, testBuild)
			root.SetArgs(tt.args)
			root.SetOut(out)
			root.SetErr(errOut)
			if code := Execute(root, streams); code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errOut.String(), tt.wantErrOut) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErrOut, errOut)
			}
			if tt.wantCode != ExitOK && out.Len() != 0 {
				t.Errorf("a failing version printed to stdout:\n%s", out)
			}
		})
	}
}
