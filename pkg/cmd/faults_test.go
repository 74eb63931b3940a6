package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
)

// The live read against an API server that misbehaves in the ways a
// production one can: each fault gives one clear line and the documented
// exit code, within a deadline the test enforces. Faults a real
// kube-apiserver produces on demand (a forbidden resource type, 1.25+
// without the PSP API) are also proven against one in test/e2e.

// faultKinds maps each listed collection to its list kind.
var faultKinds = map[string]string{
	"/apis/policy/v1beta1/podsecuritypolicies":               "PodSecurityPolicyList",
	"/apis/rbac.authorization.k8s.io/v1/clusterroles":        "ClusterRoleList",
	"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings": "ClusterRoleBindingList",
	"/apis/rbac.authorization.k8s.io/v1/roles":               "RoleList",
	"/apis/rbac.authorization.k8s.io/v1/rolebindings":        "RoleBindingList",
	"/api/v1/serviceaccounts":                                "ServiceAccountList",
	"/api/v1/namespaces":                                     "NamespaceList",
	"/api/v1/pods":                                           "PodList",
	"/api/v1/replicationcontrollers":                         "ReplicationControllerList",
	"/apis/apps/v1/replicasets":                              "ReplicaSetList",
	"/apis/apps/v1/deployments":                              "DeploymentList",
	"/apis/apps/v1/statefulsets":                             "StatefulSetList",
	"/apis/apps/v1/daemonsets":                               "DaemonSetList",
	"/apis/batch/v1/jobs":                                    "JobList",
	"/apis/batch/v1/cronjobs":                                "CronJobList",
	"/apis/node.k8s.io/v1/runtimeclasses":                    "RuntimeClassList",
}

func apiVersionOf(path string) string {
	if strings.HasPrefix(path, "/api/v1") {
		return "v1"
	}
	parts := strings.Split(strings.TrimPrefix(path, "/apis/"), "/")
	return parts[0] + "/" + parts[1]
}

// fakeAPI serves empty lists for every collection, and two pods in two
// pages; fault, when set, may answer a request instead.
type fakeAPI struct {
	mu    sync.Mutex
	calls map[string]int
	fault func(w http.ResponseWriter, r *http.Request, call int) bool
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	key := r.URL.Path
	if r.URL.Query().Get("continue") != "" {
		key += "?continue"
	} else if r.URL.Query().Get("limit") == "" {
		key += "?full"
	}
	f.calls[key]++
	call := f.calls[key]
	f.mu.Unlock()
	if f.fault != nil && f.fault(w, r, call) {
		return
	}
	kind, ok := faultKinds[r.URL.Path]
	if !ok {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	list := map[string]any{"apiVersion": apiVersionOf(r.URL.Path), "kind": kind, "metadata": map[string]any{"resourceVersion": "7"}, "items": []any{}}
	if r.URL.Path == "/api/v1/pods" {
		pod := func(name string) map[string]any {
			return map[string]any{"metadata": map[string]any{"name": name, "namespace": "app"},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "c"}}}}
		}
		switch {
		case r.URL.Query().Get("limit") == "":
			list["items"] = []any{pod("first"), pod("second")}
		case r.URL.Query().Get("continue") == "":
			list["items"] = []any{pod("first")}
			list["metadata"].(map[string]any)["continue"] = "page2"
			list["metadata"].(map[string]any)["remainingItemCount"] = 1
		default:
			list["items"] = []any{pod("second")}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func (f *fakeAPI) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Failure",
		"code": code, "reason": reason, "message": msg})
}

// writeKubeconfig points a kubeconfig at server; caPEM empty means the
// server's certificate is not trusted.
func writeKubeconfig(t *testing.T, server string, caPEM []byte, serverName string) string {
	t.Helper()
	cluster := fmt.Sprintf("    server: %s\n", server)
	if len(caPEM) > 0 {
		cluster += fmt.Sprintf("    certificate-authority-data: %s\n", base64.StdEncoding.EncodeToString(caPEM))
	}
	if serverName != "" {
		cluster += fmt.Sprintf("    tls-server-name: %s\n", serverName)
	}
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n" + cluster +
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runBounded runs the CLI and fails the test if it has not returned by
// the deadline: a hang is the failure these tests exist to catch.
func runBounded(t *testing.T, deadline time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewCmdPSPMigrate(streams, buildinfo.Info{Version: "v0.0.0-test"})
	root.SetArgs(args)
	root.SetContext(ctx)
	done := make(chan int, 1)
	go func() { done <- Execute(root, streams) }()
	select {
	case code = <-done:
		return code, out.String(), errOut.String()
	case <-ctx.Done():
		t.Fatalf("%v did not return within %s", args, deadline)
		return 0, "", ""
	}
}

func TestLiveFaults(t *testing.T) {
	type fault struct {
		name string
		tls  bool
		// kubeconfig: "trusted" (default), "untrusted" or "wrong-name".
		kubeconfig string
		flags      []string
		fault      func(w http.ResponseWriter, r *http.Request, call int) bool
		wantCode   int
		wantErr    []string
		check      func(t *testing.T, api *fakeAPI, stdout, stderr string)
	}
	var downMu sync.Mutex
	down := false
	faults := []fault{
		{name: "healthy, paged", wantCode: ExitOK, check: func(t *testing.T, api *fakeAPI, stdout, _ string) {
			if !strings.Contains(stdout, `"first"`) || !strings.Contains(stdout, `"second"`) || api.count("/api/v1/pods?continue") != 1 {
				t.Errorf("pods not read in two pages: %d continue calls\n%s", api.count("/api/v1/pods?continue"), stdout)
			}
		}},
		{name: "server down mid-list", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			downMu.Lock()
			defer downMu.Unlock()
			if r.URL.Query().Get("continue") != "" {
				down = true
			}
			if !down {
				return false
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}, wantCode: ExitError, wantErr: []string{"read cluster: list ", "EOF"}},
		{name: "TLS: untrusted certificate", tls: true, kubeconfig: "untrusted", wantCode: ExitError,
			wantErr: []string{"read cluster: list", "x509: certificate signed by unknown authority"}},
		{name: "TLS: certificate for another name", tls: true, kubeconfig: "wrong-name", wantCode: ExitError,
			wantErr: []string{"read cluster: list", "x509: certificate is valid for", "not wrong.invalid"}},
		{name: "TLS: plain HTTP server behind an https URL", kubeconfig: "https-to-http", wantCode: ExitError,
			wantErr: []string{"read cluster: list", "http: server gave HTTP response to HTTPS client"}},
		{name: "request past --request-timeout", flags: []string{"--request-timeout", "1s"}, fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			if r.URL.Path != "/api/v1/pods" {
				return false
			}
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return true
		}, wantCode: ExitError, wantErr: []string{"read cluster: list pods: timed out"}},
		{name: "continue token expired: relist once", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			if r.URL.Path == "/api/v1/pods" && r.URL.Query().Get("continue") != "" {
				writeStatus(w, http.StatusGone, "Expired", "The provided continue parameter is too old to display a consistent list result.")
				return true
			}
			return false
		}, wantCode: ExitOK, check: func(t *testing.T, api *fakeAPI, stdout, _ string) {
			if n := api.count("/api/v1/pods?full"); n != 1 {
				t.Errorf("%d full relists, want 1", n)
			}
			if !strings.Contains(stdout, `"first"`) || !strings.Contains(stdout, `"second"`) {
				t.Errorf("relisted pods missing:\n%s", stdout)
			}
		}},
		{name: "429 with Retry-After, then served", fault: func(w http.ResponseWriter, r *http.Request, call int) bool {
			if r.URL.Path == "/api/v1/pods" && call <= 2 {
				w.Header().Set("Retry-After", "1")
				writeStatus(w, http.StatusTooManyRequests, "TooManyRequests", "slow down")
				return true
			}
			return false
		}, wantCode: ExitOK, check: func(t *testing.T, api *fakeAPI, stdout, _ string) {
			if !strings.Contains(stdout, `"second"`) {
				t.Errorf("pods missing after the retries:\n%s", stdout)
			}
		}},
		{name: "429 with Retry-After, forever", flags: []string{"--request-timeout", "3s"}, fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			if r.URL.Path == "/api/v1/pods" {
				w.Header().Set("Retry-After", "1")
				writeStatus(w, http.StatusTooManyRequests, "TooManyRequests", "slow down")
				return true
			}
			return false
		}, wantCode: ExitError, wantErr: []string{"read cluster: list pods: the API server kept throttling the request (429 Too Many Requests", "slow down"}},
		{name: "forbidden resource type", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			if r.URL.Path == "/apis/apps/v1/replicasets" {
				writeStatus(w, http.StatusForbidden, "Forbidden", `replicasets.apps is forbidden: User "u" cannot list resource "replicasets" in API group "apps" at the cluster scope`)
				return true
			}
			return false
		}, wantCode: ExitIncomplete, wantErr: []string{"Warning: report incomplete:", "replicasets.apps", "permission denied"}},
		{name: "1.25+ without the PSP API", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			if strings.HasPrefix(r.URL.Path, "/apis/policy/v1beta1") {
				writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
				return true
			}
			return false
		}, wantCode: ExitOK, wantErr: []string{"Warning: the cluster does not serve policy/v1beta1 PodSecurityPolicy"}},
		{name: "aggregated API fails discovery", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			switch {
			case r.URL.Path == "/apis":
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}}]}`)
				return true
			case strings.HasPrefix(r.URL.Path, "/apis/metrics.k8s.io"):
				writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the server is currently unable to handle the request")
				return true
			}
			return false
		}, wantCode: ExitOK},
		{name: "500 from one list", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			if r.URL.Path == "/apis/batch/v1/jobs" {
				writeStatus(w, http.StatusInternalServerError, "InternalError", "etcdserver: request timed out")
				return true
			}
			return false
		}, wantCode: ExitError, wantErr: []string{"read cluster: list jobs.batch:", "etcdserver: request timed out"}},
		{name: "an HTML login page instead of the API", fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Please log in</body></html>")
			return true
		}, wantCode: ExitError, wantErr: []string{"read cluster: list"}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			downMu.Lock()
			down = false
			downMu.Unlock()
			api := &fakeAPI{calls: map[string]int{}, fault: f.fault}
			srv := httptest.NewUnstartedServer(api)
			// The TLS rows refuse handshakes by design; keep the log clean.
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			if f.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			var kubeconfig string
			switch f.kubeconfig {
			case "untrusted":
				kubeconfig = writeKubeconfig(t, srv.URL, nil, "")
			case "wrong-name":
				ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
				kubeconfig = writeKubeconfig(t, srv.URL, ca, "wrong.invalid")
			case "https-to-http":
				kubeconfig = writeKubeconfig(t, strings.Replace(srv.URL, "http://", "https://", 1), nil, "")
			default:
				var ca []byte
				if f.tls {
					ca = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
				}
				kubeconfig = writeKubeconfig(t, srv.URL, ca, "")
			}
			args := append([]string{"audit", "--kubeconfig", kubeconfig, "-o", "json"}, f.flags...)
			code, stdout, stderr := runBounded(t, 60*time.Second, args...)
			t.Logf("exit %d, stderr: %s", code, stderr)
			if code != f.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, f.wantCode, stderr)
			}
			for _, w := range f.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if code == ExitError {
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") {
					t.Errorf("want one error line, got:\n%s", stderr)
				}
			}
			if f.check != nil {
				f.check(t, api, stdout, stderr)
			}
		})
	}
}
