package framework

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// PluginUserAgentPrefix starts the User-Agent of every request the plugin
// sends (pkg/cmd sets "kubectl-psp_migrate/<version> (<os>/<arch>)"); the
// API server's audit log attributes requests to the plugin by it.
const PluginUserAgentPrefix = "kubectl-psp_migrate/"

// ReadVerbs are the only verbs the plugin may send: it reads the cluster and
// never writes to it, not even a denied attempt or a review object.
var ReadVerbs = []string{"get", "list", "watch"}

// auditPolicy records every request at Metadata level (who, verb, resource,
// user agent, response code; no bodies), at every stage, so that even a
// request refused or cut short shows up.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Metadata
`

// AuditEvent is the part of an audit.k8s.io/v1 Event the checks read.
type AuditEvent struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	UserAgent  string `json:"userAgent"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		APIGroup  string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// auditArgs writes the audit policy into dir and returns the kube-apiserver
// flags that log every request to dir/audit.log, and that path.
func auditArgs(dir string) ([]string, string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, "", fmt.Errorf("write audit policy: %w", err)
	}
	log := filepath.Join(dir, "audit.log")
	return []string{
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + log,
		"--audit-log-format=json",
		// Blocking (the default, said here because the checks rely on it):
		// an event is in the file before the request's response is complete.
		"--audit-log-mode=blocking",
		// One file for the cluster's whole life: no rotation to follow (0
		// would mean lumberjack's default, 100 MB).
		"--audit-log-maxsize=100000",
	}, log, nil
}

// AuditEvents returns every event in the cluster's audit log so far.
func (c *Cluster) AuditEvents(t testing.TB) []AuditEvent {
	t.Helper()
	events, err := readAuditLog(c.auditLog)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}
	return events
}

// PluginEvents returns the audit events of requests sent by the plugin
// (User-Agent starting with PluginUserAgentPrefix).
func (c *Cluster) PluginEvents(t testing.TB) []AuditEvent {
	t.Helper()
	return pluginEvents(c.AuditEvents(t))
}

func readAuditLog(path string) ([]AuditEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	var events []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var e AuditEvent
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("audit log %s line %d: %w", path, n, err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return events, nil
}

func pluginEvents(events []AuditEvent) []AuditEvent {
	var out []AuditEvent
	for _, e := range events {
		if strings.HasPrefix(e.UserAgent, PluginUserAgentPrefix) {
			out = append(out, e)
		}
	}
	return out
}

// pluginWrites returns one line per plugin request whose verb is not a read.
func pluginWrites(events []AuditEvent) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range pluginEvents(events) {
		if slices.Contains(ReadVerbs, e.Verb) || seen[e.AuditID] {
			continue
		}
		seen[e.AuditID] = true
		out = append(out, fmt.Sprintf("%s %s as %s (%s)", e.Verb, e.RequestURI, e.User.Username, e.UserAgent))
	}
	return out
}

// checkPluginReadOnly fails t if the audit log holds a request from the
// plugin with a verb other than get, list or watch. Start runs it when the
// test ends, so every e2e test that runs the plugin against a cluster
// proves, as a side effect, that the plugin did not write to it.
func (c *Cluster) checkPluginReadOnly(t testing.TB) {
	t.Helper()
	events, err := readAuditLog(c.auditLog)
	if err != nil {
		t.Errorf("framework: %v", err)
		return
	}
	if writes := pluginWrites(events); len(writes) > 0 {
		t.Errorf("framework: the plugin sent %d request(s) that are not get/list/watch:\n  %s", len(writes), strings.Join(writes, "\n  "))
	}
}
