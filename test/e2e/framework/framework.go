// Package framework starts a real kube-apiserver, backed by a real etcd, for
// Go tests that claim cluster behaviour (PodSecurityPolicy admission on
// v1.24, ValidatingAdmissionPolicy on v1.30).
//
// The binaries come from the environment that hack/e2e-env.sh prints:
//
//	eval "$(hack/e2e-env.sh)"   # every release of hack/versions.env; or: hack/e2e-env.sh v1.24.17
//	PSP_MIGRATE_E2E=required go test ./test/e2e/...
//
// Without them a test that calls Start is skipped, unless PSP_MIGRATE_E2E is
// "required" (as in CI), when it fails instead.
//
// Every cluster writes an audit log of all requests (Cluster.AuditEvents);
// when the test ends, any request from the plugin (PluginUserAgentPrefix)
// with a verb other than get, list or watch fails it.
//
// There is no controller-manager, scheduler or kubelet: pods stay Pending,
// namespaces get no "default" ServiceAccount by themselves (CreateNamespace
// and CreateYAML create one) and deleted namespaces never finish terminating.
package framework

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Environment variables read by Start and Kubectl.
const (
	// EnvEtcd holds the path of the etcd binary.
	EnvEtcd = "PSP_MIGRATE_ETCD"
	// EnvKubectl holds the path of the kubectl binary.
	EnvKubectl = "PSP_MIGRATE_KUBECTL"
	// EnvE2E set to "required" turns a missing binary from a skip into a failure.
	EnvE2E = "PSP_MIGRATE_E2E"
	// EnvVersions lists the releases hack/e2e-env.sh prepared ("v1.24.17 v1.30.14").
	// With EnvE2E=required only these minors are required; a release not in the
	// list is still skipped. Unset, every release is required.
	EnvVersions = "PSP_MIGRATE_E2E_VERSIONS"
)

// AdminUser is the token user in group system:masters that every cluster has.
const AdminUser = "admin"

// DefaultVersion is the minor release Start runs when Options.Version is empty.
const DefaultVersion = "v1.24"

// Client rate limits for the configs a Cluster hands out: client-go's
// defaults (5 QPS, burst 10) would make tests that create thousands of
// objects measure the client's throttle instead of the server.
const (
	clientQPS   = 200
	clientBurst = 400
)

const readyTimeout = 60 * time.Second

// Options says which cluster Start runs.
type Options struct {
	// Version is the minor release, "v1.24" (PodSecurityPolicy admission on)
	// or "v1.30" (no PSP; ValidatingAdmissionPolicy GA). Empty means DefaultVersion.
	Version string
	// Users are extra token users besides AdminUser: name -> groups. They have
	// no RBAC grants until a test creates some.
	Users map[string][]string
	// ExtraAPIServerArgs are appended to kube-apiserver's flags. List flags such
	// as --enable-admission-plugins add to, not replace, the ones Start sets;
	// the port, certificate, token and etcd flags are Start's to set.
	ExtraAPIServerArgs []string
	// WithoutPSP leaves PodSecurityPolicy admission off on a release that
	// still has it, to see what the rest of admission (PodSecurity, the
	// pod registry) does with pods PSP would reject.
	WithoutPSP bool
}

// Cluster is a running etcd + kube-apiserver pair owned by one test. It is
// stopped, and its files removed, when that test ends.
type Cluster struct {
	version     string
	host        string
	caPEM       []byte
	tokens      map[string]string
	kubeconfigs map[string]string
	dir         string
	auditLog    string
	apiserver   *process
	etcd        *process
	objects     objectCreator
}

var versionRE = regexp.MustCompile(`^v1\.([0-9]+)$`)

// EnvKubeAPIServer returns the environment variable that holds the path of
// kube-apiserver for a minor release: "v1.24" -> PSP_MIGRATE_KUBE_APISERVER_V1_24.
func EnvKubeAPIServer(version string) string {
	return "PSP_MIGRATE_KUBE_APISERVER_" + strings.ToUpper(strings.ReplaceAll(version, ".", "_"))
}

// Start runs a fresh cluster of opts.Version for t and waits until it is
// ready. It skips t (or fails it, see EnvE2E) when the binaries are not
// configured.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	begin := time.Now()

	version := opts.Version
	if version == "" {
		version = DefaultVersion
	}
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		t.Fatalf("framework: Options.Version %q: want a minor release like %q", version, DefaultVersion)
	}
	minor, _ := strconv.Atoi(m[1])

	apiserverBin := binaryFromEnv(t, version, EnvKubeAPIServer(version), "kube-apiserver "+version)
	etcdBin := binaryFromEnv(t, version, EnvEtcd, "etcd")

	users, err := checkUsers(opts.Users)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}

	c := &Cluster{
		version:     version,
		dir:         t.TempDir(),
		kubeconfigs: map[string]string{},
	}
	c.objects.cluster = c

	files, err := writePKI(c.dir)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}
	c.caPEM = files.caPEM
	c.tokens, err = writeTokenFile(files.tokenFile, users)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}

	var etcdURL string
	c.etcd, etcdURL = startEtcd(t, etcdBin, c.dir)

	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--tls-cert-file=" + files.servingCert,
		"--tls-private-key-file=" + files.servingKey,
		"--cert-dir=" + c.dir,
		"--token-auth-file=" + files.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-signing-key-file=" + files.saKey,
		"--service-account-key-file=" + files.saPub,
		"--service-cluster-ip-range=10.0.0.0/24",
		// The default reconciler would write 127.0.0.1 into the kubernetes
		// Endpoints, which validation forbids, and log errors forever.
		"--endpoint-reconciler-type=none",
		// Default false: validation would reject privileged pods before any
		// admission plugin (PSP, VAP) sees them, hiding what we test.
		"--allow-privileged=true",
		"--profiling=false",
	}
	auditFlags, auditLog, err := auditArgs(c.dir)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}
	c.auditLog = auditLog
	args = append(args, auditFlags...)
	if minor < 25 && !opts.WithoutPSP {
		// Off by default even in releases that still have it.
		args = append(args, "--enable-admission-plugins=PodSecurityPolicy")
	}
	args = append(args, opts.ExtraAPIServerArgs...)

	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			t.Fatalf("framework: %v", err)
		}
		c.host = fmt.Sprintf("https://127.0.0.1:%d", ports[0])
		c.apiserver = startProcess(t, "kube-apiserver", c.dir, apiserverBin,
			append([]string{fmt.Sprintf("--secure-port=%d", ports[0])}, args...)...)
		err = c.apiserver.waitFor(readyTimeout, c.readyz)
		if err == nil {
			break
		}
		if attempt < portAttempts && c.apiserver.lostPortRace() {
			t.Logf("framework: kube-apiserver lost port %d to another process; retrying", ports[0])
			continue
		}
		t.Fatalf("framework: kube-apiserver %s not ready: %v\n%s", version, err, c.apiserver.tail(40))
	}

	for user := range c.tokens {
		path, err := c.writeKubeconfig(user)
		if err != nil {
			t.Fatalf("framework: %v", err)
		}
		c.kubeconfigs[user] = path
	}

	// Registered after the processes' own cleanups, so it runs before they
	// stop: the log is complete, since every request has been answered.
	t.Cleanup(func() { c.checkPluginReadOnly(t) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("framework: kube-apiserver %s log tail:\n%s", version, c.apiserver.tail(40))
		}
	})
	t.Logf("framework: kube-apiserver %s ready at %s in %s", version, c.host, time.Since(begin).Round(time.Millisecond))
	return c
}

// binaryFromEnv returns the path in env, or ends t: a skip when the binary
// is simply not configured, a failure when it is required or misconfigured.
func binaryFromEnv(t testing.TB, version, env, what string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		msg := fmt.Sprintf("framework: %s is not set (path of %s); run: eval \"$(hack/e2e-env.sh)\"", env, what)
		if required(version) {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("framework: %s=%s: %v", env, path, err)
	}
	return path
}

// required reports whether a missing binary for minor release version fails
// the test rather than skipping it.
func required(version string) bool {
	if os.Getenv(EnvE2E) != "required" {
		return false
	}
	listed := os.Getenv(EnvVersions)
	if listed == "" {
		return true
	}
	for _, v := range strings.Fields(listed) {
		if v == version || strings.HasPrefix(v, version+".") {
			return true
		}
	}
	return false
}

func checkUsers(extra map[string][]string) (map[string][]string, error) {
	users := map[string][]string{AdminUser: {"system:masters"}}
	for name, groups := range extra {
		if name == AdminUser {
			return nil, fmt.Errorf("user %q is reserved for the cluster admin", name)
		}
		// The token file is CSV; keep names to what it can carry unquoted.
		for _, s := range append([]string{name}, groups...) {
			if s == "" || strings.ContainsAny(s, ",\"\n\r") {
				return nil, fmt.Errorf("user %q: name or group %q is empty or has a comma, quote or newline", name, s)
			}
		}
		users[name] = append([]string(nil), groups...)
	}
	return users, nil
}

// Version returns the minor release the cluster runs, e.g. "v1.24".
func (c *Cluster) Version() string { return c.version }

// Host returns the API server's URL.
func (c *Cluster) Host() string { return c.host }

// Dir returns the cluster's scratch folder (certificates, kubeconfigs, logs),
// removed when the test ends.
func (c *Cluster) Dir() string { return c.dir }

// AdminConfig returns a fresh config for AdminUser (group system:masters).
func (c *Cluster) AdminConfig() *rest.Config {
	return c.UserConfig(AdminUser)
}

// UserConfig returns a fresh config for a token user: AdminUser or one of
// Options.Users. It panics for an unknown user, a mistake in the test itself.
func (c *Cluster) UserConfig(user string) *rest.Config {
	token, ok := c.tokens[user]
	if !ok {
		panic(fmt.Sprintf("framework: unknown user %q", user))
	}
	return &rest.Config{
		Host:            c.host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: append([]byte(nil), c.caPEM...)},
		QPS:             clientQPS,
		Burst:           clientBurst,
		UserAgent:       "psp-migrate-e2e",
	}
}

// Impersonate returns an admin config that acts as the service account
// namespace/name. Its groups are passed explicitly because impersonation
// does not imply them, and PSP `use` grants are commonly bound to them.
func (c *Cluster) Impersonate(namespace, name string) *rest.Config {
	cfg := c.AdminConfig()
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + namespace + ":" + name,
		Groups: []string{
			"system:serviceaccounts",
			"system:serviceaccounts:" + namespace,
			"system:authenticated",
		},
	}
	return cfg
}

// Kubeconfig returns the path of a kubeconfig file for a token user
// (AdminUser or one of Options.Users), for running kubectl or the plugin
// binary. It panics for an unknown user.
func (c *Cluster) Kubeconfig(user string) string {
	path, ok := c.kubeconfigs[user]
	if !ok {
		panic(fmt.Sprintf("framework: unknown user %q", user))
	}
	return path
}

// AdminClient returns a typed clientset for AdminUser.
func (c *Cluster) AdminClient(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		t.Fatalf("framework: build admin clientset: %v", err)
	}
	return cs
}

// Tool returns the path of an external tool (a policy engine's CLI, a
// checker) named by env, as exported by hack/engines-env.sh. Without it the
// test is skipped, or fails when PSP_MIGRATE_E2E=required: CI must never
// pass a proof it did not run.
func Tool(t testing.TB, env, what string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		msg := fmt.Sprintf("framework: %s is not set (%s); run: eval \"$(hack/engines-env.sh)\"", env, what)
		if os.Getenv(EnvE2E) == "required" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("framework: %s=%s: %v", env, path, err)
	}
	return path
}
