package framework

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes a kubeconfig for a token user into the cluster's
// folder; a file, so kubectl and the plugin binary see what a user would.
func (c *Cluster) writeKubeconfig(user string) (string, error) {
	const clusterName = "psp-migrate-e2e"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{
		Server:                   c.host,
		CertificateAuthorityData: c.caPEM,
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: c.tokens[user]}
	cfg.Contexts[user] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = user
	path := filepath.Join(c.dir, "kubeconfig-"+user)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write kubeconfig for %s: %w", user, err)
	}
	return path, nil
}

// Kubectl runs $PSP_MIGRATE_KUBECTL with the kubeconfig of a token user
// (AdminUser or one of Options.Users) and returns its output. A non-zero
// exit is returned as err (an *exec.ExitError), not a test failure, since
// tests often expect kubectl to be refused. Without PSP_MIGRATE_KUBECTL the
// test is skipped, or failed as Start would.
func (c *Cluster) Kubectl(t testing.TB, user string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin := binaryFromEnv(t, c.version, EnvKubectl, "kubectl")
	full := append([]string{
		"--kubeconfig=" + c.Kubeconfig(user),
		// Keep kubectl's discovery cache out of $HOME: every cluster is new.
		"--cache-dir=" + filepath.Join(c.dir, "kubectl-cache"),
	}, args...)
	cmd := exec.CommandContext(t.Context(), bin, full...)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}
