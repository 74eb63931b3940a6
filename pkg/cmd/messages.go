package cmd

import (
	"fmt"
	"io"
	"strings"
)

// Message prefixes on stderr (docs/cli.md lists them). Data goes to
// stdout; everything else to stderr with one of these, once.
const (
	prefixWarning = "Warning: "
	prefixError   = "Error: "
	prefixNote    = "Note: "
	prefixNext    = "Next: "
	// prefixFindings starts the list of what a --fail-on condition
	// matched, before exit code 2.
	prefixFindings = "Findings: "
)

// warn writes one "Warning: " line. The message may come from a package
// that already said "Warning:" or named its engine twice on the way up
// ("kyverno: kyverno: ..."): the prefix is written once, the repeat dropped.
func warn(w io.Writer, format string, args ...any) {
	fmt.Fprintln(w, prefixWarning+tidyMessage(fmt.Sprintf(format, args...), prefixWarning))
}

// tidyMessage strips any leading prefix and collapses a context repeated
// at its start ("psa: psa: x" → "psa: x").
func tidyMessage(msg, prefix string) string {
	for strings.HasPrefix(msg, prefix) {
		msg = strings.TrimPrefix(msg, prefix)
	}
	for {
		head, rest, ok := strings.Cut(msg, ": ")
		if !ok || !strings.HasPrefix(rest, head+": ") || strings.ContainsAny(head, " \"") {
			return msg
		}
		msg = rest
	}
}
