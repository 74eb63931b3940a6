// Command kubectl-psp_migrate is the kubectl plugin `kubectl psp-migrate`.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	// Every client-go auth provider (exec, OIDC, …), so any kubeconfig works.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
)

// Set by goreleaser through -ldflags -X.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: version, Commit: commit, Date: date})
	os.Exit(cmd.Execute(root, streams))
}
