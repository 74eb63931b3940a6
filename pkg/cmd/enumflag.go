package cmd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// enumFlag is every flag whose values come from a fixed list (-o, --engine,
// --scope, --mode, --fail-on, --controller-identity, --pss-version, ...).
// One type, so that each of them rejects a bad value with the same message,
// lists its values in --help the same way, and completes in the shell from
// the very list it validates against.
type enumFlag struct {
	// values lists what the flag accepts, in help order; a function so that
	// lists that depend on the build (engines, PSS versions) are read late.
	values func() []string
	// summary replaces the full list in messages when it is long
	// ("latest, v1.0 … v1.37"); empty prints values.
	summary func() string
	// emptyOK accepts "" (version -o: "" is the text form).
	emptyOK bool

	// Exactly one of single and multi is set.
	single *string
	multi  *[]string
	// changed drops the default of a list flag on its first Set, as
	// pflag's own slice flags do.
	changed bool
}

// describe is the list of values for messages and help.
func (e *enumFlag) describe() string {
	if e.summary != nil {
		return e.summary()
	}
	return strings.Join(e.values(), ", ")
}

// check returns the error every enumerated flag gives for a bad value;
// pflag prefixes it with the value and the flag's name.
func (e *enumFlag) check(v string) error {
	if v == "" && e.emptyOK {
		return nil
	}
	if !slices.Contains(e.values(), v) {
		return fmt.Errorf("want one of %s", e.describe())
	}
	return nil
}

// Set implements pflag.Value. A list flag takes comma-separated values and
// may be repeated.
func (e *enumFlag) Set(s string) error {
	if e.single != nil {
		if err := e.check(s); err != nil {
			return err
		}
		*e.single = s
		return nil
	}
	var add []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if err := e.check(v); err != nil {
			if strings.Contains(s, ",") {
				// pflag quotes the whole argument; name the bad part.
				return fmt.Errorf("%q: %w", v, err)
			}
			return err
		}
		add = append(add, v)
	}
	if !e.changed {
		*e.multi = nil
		e.changed = true
	}
	for _, v := range add {
		if !slices.Contains(*e.multi, v) {
			*e.multi = append(*e.multi, v)
		}
	}
	return nil
}

// String implements pflag.Value.
func (e *enumFlag) String() string {
	if e.single != nil {
		return *e.single
	}
	if e.multi == nil || len(*e.multi) == 0 {
		return ""
	}
	return "[" + strings.Join(*e.multi, ",") + "]"
}

// Type implements pflag.Value: the help shows "--mode string" or
// "--engine strings" as for pflag's own flags.
func (e *enumFlag) Type() string {
	if e.single != nil {
		return "string"
	}
	return "strings"
}

// enumVar defines a flag taking one value of values; the help ends with the
// list. A completion is registered for it by registerFlagCompletions.
func enumVar(flags *pflag.FlagSet, p *string, name, short, usage string, values func() []string) *enumFlag {
	e := &enumFlag{values: values, single: p}
	flags.VarP(e, name, short, usage)
	f := flags.Lookup(name)
	f.Usage = usage + " (one of: " + e.describe() + ")"
	return e
}

// enumSliceVar defines a repeatable, comma-separated flag of values.
func enumSliceVar(flags *pflag.FlagSet, p *[]string, name, short, usage string, values func() []string) *enumFlag {
	e := &enumFlag{values: values, multi: p}
	flags.VarP(e, name, short, usage)
	f := flags.Lookup(name)
	f.Usage = usage + " (any of: " + e.describe() + ")"
	return e
}

// pssVersionVar defines --pss-version: "latest" or a version this build's
// checks know; v1.99 is refused, not evaluated as "latest" in disguise.
func pssVersionVar(flags *pflag.FlagSet, p *string, usage string) *enumFlag {
	e := enumVar(flags, p, "pss-version", "", usage, buildinfo.PSSVersions)
	e.summary = pssVersionSummary
	flags.Lookup("pss-version").Usage = usage + " (one of: " + pssVersionSummary() + ")"
	return e
}

// pssVersionSummary is the list --pss-version accepts, short.
func pssVersionSummary() string {
	vs := buildinfo.PSSVersions()
	// "latest", newest, …, "v1.0".
	return fmt.Sprintf("latest, %s … %s", vs[len(vs)-1], vs[1])
}

// checkValues says of an option set without its flag (an Options struct
// filled by a test or another command) what the flag would have said.
func checkValues(name string, values []string, got ...string) error {
	for _, v := range got {
		if !slices.Contains(values, v) {
			return invalidEnum(name, v, strings.Join(values, ", "))
		}
	}
	return nil
}

// invalidEnum is the message for a bad value of an enumerated option set
// without its flag, worded as pflag words a bad flag value.
func invalidEnum(name, value, want string) error {
	return fmt.Errorf("invalid argument %q for \"--%s\" flag: want one of %s", value, name, want)
}

// enumCompletion offers the flag's values, never file names.
func enumCompletion(e *enumFlag) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return e.values(), cobra.ShellCompDirectiveNoFileComp
	}
}

// checkPSSVersion refuses a --pss-version this build does not know.
func checkPSSVersion(v string) error {
	if slices.Contains(buildinfo.PSSVersions(), v) {
		return nil
	}
	return invalidEnum("pss-version", v, pssVersionSummary())
}

// scopeValues are the --scope values, from pkg/translate.
func scopeValues() []string {
	out := make([]string, 0, len(translate.Scopes))
	for _, s := range translate.Scopes {
		out = append(out, string(s))
	}
	return out
}

// modeValues are the convert --mode values, from pkg/translate.
func modeValues() []string {
	out := make([]string, 0, len(translate.Modes))
	for _, m := range translate.Modes {
		out = append(out, string(m))
	}
	return out
}

// observeModes are the modes that observe without enforcing, for
// readiness --observe-mode.
func observeModes() []string {
	return []string{string(translate.ModeAudit), string(translate.ModeWarn)}
}

// pinnedPSSVersion is version with "latest" pinned to the newest version
// this build knows: the *-version labels that audit recommends and convert
// -e psa writes are then the same, and do not change meaning when the
// cluster is upgraded.
func pinnedPSSVersion(version string) string {
	if version == "latest" {
		return buildinfo.LatestPSSVersion().String()
	}
	return version
}
