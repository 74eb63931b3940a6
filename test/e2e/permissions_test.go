package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// rbacFile is the least-privilege role the project ships.
var rbacFile = filepath.Join("..", "..", "deploy", "rbac.yaml")

// readerUser is the subject of deploy/rbac.yaml's example binding.
const readerUser = "psp-migrate-reader"

// shippedRole decodes the ClusterRole in deploy/rbac.yaml.
func shippedRole(t *testing.T) (*rbacv1.ClusterRole, []byte) {
	t.Helper()
	data, err := os.ReadFile(rbacFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role rbacv1.ClusterRole
		if err := yaml.UnmarshalStrict([]byte(doc), &role); err == nil && role.Kind == "ClusterRole" {
			return &role, data
		}
	}
	t.Fatalf("no ClusterRole in %s", rbacFile)
	return nil, nil
}

// ruleResource names a one-resource rule as the report's incomplete[] does:
// "pods", "replicasets.apps".
func ruleResource(t *testing.T, r rbacv1.PolicyRule) string {
	t.Helper()
	if len(r.APIGroups) != 1 || len(r.Resources) != 1 {
		t.Fatalf("rule %v: deploy/rbac.yaml keeps one resource per rule, so that each can be dropped alone", r)
	}
	if r.APIGroups[0] == "" {
		return r.Resources[0]
	}
	return r.Resources[0] + "." + r.APIGroups[0]
}

// convertLive runs `convert` for every engine in-process against the
// cluster as the user of kubeconfig and returns the exit code, the size of
// what it wrote and stderr.
func convertLive(t *testing.T, kubeconfig string) (int, int, string) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
	// The fixture grants its PSP to no one, so the converted policies would
	// deny every pod: beside the point here.
	root.SetArgs([]string{"convert", "-e", strings.Join(allEngines, ","), "--pss-version", "v1.24", "--allow-deny-all", "--kubeconfig", kubeconfig})
	code := cmd.Execute(root, streams)
	return code, out.Len(), errOut.String()
}

var allEngines = []string{"vap", "psa", "kyverno", "kyverno-cel", "gatekeeper", "kubewarden"}

// TestLeastPrivilege proves deploy/rbac.yaml is exactly enough: a user bound
// to it gets the same complete report as cluster-admin, a user missing any
// one of its rules gets exit 3 naming what it could not read, and the API
// server's audit log shows the plugin sent nothing but get, list and watch.
func TestLeastPrivilege(t *testing.T) {
	role, data := shippedRole(t)
	users := map[string][]string{readerUser: nil}
	for i := range role.Rules {
		users[fmt.Sprintf("without-rule-%d", i)] = nil
	}
	c := framework.Start(t, framework.Options{Version: "v1.24", Users: users})
	loadFixture(t, c)
	// Applied verbatim: the role and its example binding to readerUser.
	c.ApplyYAML(t, data)

	kube := c.AdminClient(t)
	var waits []authorizationv1.SubjectAccessReviewSpec
	review := func(user string, r rbacv1.PolicyRule) authorizationv1.SubjectAccessReviewSpec {
		return authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: r.APIGroups[0], Resource: r.Resources[0], Verb: r.Verbs[0]}}
	}
	for _, r := range role.Rules {
		ruleResource(t, r)
		waits = append(waits, review(readerUser, r))
	}
	for i := range role.Rules {
		user := fmt.Sprintf("without-rule-%d", i)
		rules := slices.Delete(slices.Clone(role.Rules), i, i+1)
		name := "psp-migrate-reader-" + user
		if _, err := kube.RbacV1().ClusterRoles().Create(t.Context(), &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := kube.RbacV1().ClusterRoleBindings().Create(t.Context(), &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waits = append(waits, review(user, rules[0]))
	}
	c.WaitForAccess(t, waits...)

	reader := c.Kubeconfig(readerUser)
	code, asAdmin, stderr := audit(t, "--kubeconfig", c.Kubeconfig(framework.AdminUser))
	if code != cmd.ExitOK {
		t.Fatalf("audit as admin: exit %d: %s", code, stderr)
	}

	t.Run("bound to exactly deploy/rbac.yaml, the audit is complete and equals cluster-admin's", func(t *testing.T) {
		code, rep, stderr := audit(t, "--kubeconfig", reader)
		if code != cmd.ExitOK || len(rep.Incomplete) != 0 {
			t.Fatalf("exit %d, incomplete %+v; stderr: %s", code, rep.Incomplete, stderr)
		}
		if !reflect.DeepEqual(rep, asAdmin) {
			a, _ := json.MarshalIndent(asAdmin, "", " ")
			b, _ := json.MarshalIndent(rep, "", " ")
			t.Fatalf("reports differ:\nadmin:\n%s\nreader:\n%s", a, b)
		}
		code, rep, stderr = audit(t, "--kubeconfig", reader, "-n", "web")
		if code != cmd.ExitOK || len(rep.Incomplete) != 0 || len(rep.Pods) == 0 {
			t.Fatalf("-n web: exit %d, incomplete %+v, %d pods; stderr: %s", code, rep.Incomplete, len(rep.Pods), stderr)
		}
		if code, n, stderr := convertLive(t, reader); code != cmd.ExitOK || n == 0 {
			t.Fatalf("convert: exit %d, %d bytes written; stderr: %s", code, n, stderr)
		}
	})

	for i, r := range role.Rules {
		resource := ruleResource(t, r)
		user := fmt.Sprintf("without-rule-%d", i)
		t.Run("without "+resource, func(t *testing.T) {
			kubeconfig := c.Kubeconfig(user)
			code, rep, stderr := audit(t, "--kubeconfig", kubeconfig)
			var n int
			want := []string{resource + " list"}
			if code != cmd.ExitIncomplete || !reflect.DeepEqual(issues(rep), want) {
				t.Fatalf("exit %d (want %d), incomplete %v (want %v); stderr: %s", code, cmd.ExitIncomplete, issues(rep), want, stderr)
			}
			if !strings.Contains(stderr, "Warning: report incomplete: "+resource) {
				t.Errorf("stderr lacks the warning for %s: %s", resource, stderr)
			}
			t.Logf("lost without %s: %s", resource, lost(asAdmin, rep))
			// convert refuses outright without PSPs or RBAC: policies written
			// from part of them would be silently wider or narrower.
			wantCode, wantErr := cmd.ExitIncomplete, "Warning: incomplete read: "+resource
			if r.APIGroups[0] == "policy" || r.APIGroups[0] == rbacv1.GroupName {
				wantCode, wantErr = cmd.ExitError, "cannot convert without "+resource
			}
			code, n, stderr = convertLive(t, kubeconfig)
			if code != wantCode || !strings.Contains(stderr, wantErr) || (n == 0) != (code == cmd.ExitError) {
				t.Errorf("convert: exit %d (want %d), %d bytes written; stderr: %s", code, wantCode, n, stderr)
			}
			if slices.Contains(r.Verbs, "get") {
				// -n reads its namespace with get rather than list.
				code, rep, stderr := audit(t, "--kubeconfig", kubeconfig, "-n", "web")
				want := []string{resource + " get"}
				if code != cmd.ExitIncomplete || !reflect.DeepEqual(issues(rep), want) {
					t.Fatalf("-n web: exit %d, incomplete %v (want %v); stderr: %s", code, issues(rep), want, stderr)
				}
			}
		})
	}

	t.Run("the API server's audit log shows only reads from the plugin", func(t *testing.T) {
		events := c.PluginEvents(t)
		byUser := map[string]int{}
		for _, e := range events {
			if !slices.Contains(framework.ReadVerbs, e.Verb) {
				t.Errorf("plugin sent %s %s as %s", e.Verb, e.RequestURI, e.User.Username)
			}
			byUser[e.User.Username]++
		}
		// A check that saw no plugin request would prove nothing.
		for _, user := range []string{framework.AdminUser, readerUser, "without-rule-0"} {
			if byUser[user] == 0 {
				t.Errorf("no request from the plugin as %s in the audit log (%d plugin events in all)", user, len(events))
			}
		}
		t.Logf("%d audit events from the plugin, all get/list/watch", len(events))
	})
}

// issues renders incomplete[] as "resource verb" lines.
func issues(rep *report.AuditReport) []string {
	out := []string{}
	for _, i := range rep.Incomplete {
		out = append(out, i.Resource+" "+i.Verb)
	}
	return out
}

// lost summarises how a partial report differs from the complete one, for
// the log (docs/permissions.md is written from these lines).
func lost(full, partial *report.AuditReport) string {
	var diffs []string
	if !reflect.DeepEqual(full.Summary, partial.Summary) {
		diffs = append(diffs, fmt.Sprintf("summary %+v -> %+v", full.Summary, partial.Summary))
	}
	if len(full.Pods) != len(partial.Pods) {
		diffs = append(diffs, fmt.Sprintf("pods %d -> %d", len(full.Pods), len(partial.Pods)))
	} else {
		changed := map[string]bool{}
		for i := range full.Pods {
			a, _ := json.Marshal(full.Pods[i])
			b, _ := json.Marshal(partial.Pods[i])
			if string(a) != string(b) {
				var ma, mb map[string]json.RawMessage
				_ = json.Unmarshal(a, &ma)
				_ = json.Unmarshal(b, &mb)
				for k := range ma {
					if string(ma[k]) != string(mb[k]) {
						changed["pods[]."+k] = true
					}
				}
				for k := range mb {
					if _, ok := ma[k]; !ok {
						changed["pods[]."+k] = true
					}
				}
			}
		}
		for k := range changed {
			diffs = append(diffs, k)
		}
	}
	if !reflect.DeepEqual(full.Workloads, partial.Workloads) {
		diffs = append(diffs, fmt.Sprintf("workloads differ (%d -> %d)", len(full.Workloads), len(partial.Workloads)))
	}
	if !reflect.DeepEqual(full.Namespaces, partial.Namespaces) {
		diffs = append(diffs, "namespaces differ")
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}
