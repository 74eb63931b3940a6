package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Exit codes, documented in README.md. They are a contract for CI gates.
const (
	// ExitOK: the command did its job and found nothing it was asked to fail on.
	ExitOK = 0
	// ExitError: bad flags, bad input, or the cluster could not be read.
	ExitError = 1
	// ExitFindings: a --fail-on condition matched.
	ExitFindings = 2
	// ExitIncomplete: the report is partial (e.g. a resource could not be
	// listed) and no --fail-on condition matched.
	ExitIncomplete = 3
)

// exitCodeError carries a non-zero exit code out of a command that otherwise
// succeeded (findings, partial report) without printing an error.
type exitCodeError struct {
	code   int
	reason string
}

func (e *exitCodeError) Error() string { return e.reason }

// withExitCode returns an error that makes Execute exit with code.
func withExitCode(code int, reason string) error {
	return &exitCodeError{code: code, reason: reason}
}

// Execute runs root and turns its outcome into a process exit code. Only main
// calls os.Exit; this keeps that mapping testable.
func Execute(root *cobra.Command, streams genericiooptions.IOStreams) int {
	err := root.Execute()
	code := ExitCode(err)
	if code == ExitError {
		fmt.Fprintln(streams.ErrOut, prefixError+tidyMessage(err.Error(), prefixError))
	}
	return code
}

// ExitCode maps a command's error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	return ExitError
}
