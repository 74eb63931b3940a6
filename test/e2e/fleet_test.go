package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/cmd"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/fleet"
	"github.com/psp-migrate/kubectl-psp-migrate/test/e2e/framework"
)

// The fleet, end to end: one run of audit and of readiness over a real
// v1.24 cluster with PSPs (as cluster-admin, and as a user who may not
// list pods), a real v1.30 cluster without PSP, and a context whose server
// is a closed port, from a KUBECONFIG of one file per context. Each
// cluster's section must equal the command run against that context alone,
// and the failing ones must stop none of the others.

// fleetPSP fills in runAsUser for every service account, and the Helm
// chart's controller relies on it.
const fleetPSP = `
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: fleet-defaults}
spec:
  allowPrivilegeEscalation: false
  requiredDropCapabilities: [ALL]
  volumes: [configMap, emptyDir, projected, secret]
  runAsUser: {rule: MustRunAs, ranges: [{min: 1000, max: 2000}]}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: psp-fleet-defaults}
rules:
- {apiGroups: [policy], resources: [podsecuritypolicies], resourceNames: [fleet-defaults], verbs: [use]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: psp-fleet-defaults}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: psp-fleet-defaults}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:serviceaccounts'}
`

const fleetChart = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress
  labels: {helm.sh/chart: ingress-nginx-4.7.1, app.kubernetes.io/managed-by: Helm}
spec:
  selector: {matchLabels: {app: ingress-nginx}}
  template:
    metadata: {labels: {app: ingress-nginx}}
    spec:
      containers:
      - name: controller
        image: registry.k8s.io/ingress-nginx/controller:v1.8.1
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

// noPodsUser may read everything the plugin reads but pods.
const noPodsUser = "no-pods"

// fleetContext writes a kubeconfig file holding one context, name, for a
// user of c, and returns its path.
func fleetContext(t *testing.T, dir, name string, c *framework.Cluster, user string) string {
	t.Helper()
	out := clientcmdapi.NewConfig()
	if c == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		out.Clusters[name] = &clientcmdapi.Cluster{Server: "https://" + addr}
		out.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "nobody"}
	} else {
		in, err := clientcmd.LoadFromFile(c.Kubeconfig(user))
		if err != nil {
			t.Fatal(err)
		}
		ctx := in.Contexts[in.CurrentContext]
		out.Clusters[name] = in.Clusters[ctx.Cluster]
		out.AuthInfos[name] = in.AuthInfos[ctx.AuthInfo]
	}
	out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	path := filepath.Join(dir, name+".yaml")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// runPlugin runs the plugin in-process, as main would.
func runPlugin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := cmd.NewCmdPSPMigrate(streams, buildinfo.Info{Version: "e2e"})
	root.SetArgs(args)
	code := cmd.Execute(root, streams)
	return code, out.String(), errOut.String()
}

// startFleet starts the clusters and returns the KUBECONFIG naming them.
func startFleet(t *testing.T) (v124, v130 *framework.Cluster, kubeconfig string) {
	t.Helper()
	v124 = framework.Start(t, framework.Options{Version: "v1.24", Users: map[string][]string{noPodsUser: nil}})
	v124.ApplyYAML(t, []byte(permissivePSP+"\n---\n"+fleetPSP))
	for _, ns := range []string{"ingress", "payments", "web"} {
		v124.CreateNamespace(t, ns)
	}
	v124.ApplyYAML(t, []byte(fleetChart))
	f := &fixture{t: t, ctx: t.Context(), kube: v124.AdminClient(t)}
	f.deployment("payments", "checkout", restrictedSpec(), 2)
	f.deployment("web", "frontend", baselineSpec(), 1)
	f.daemonSet("web", "node-agent", privilegedSpec(), 1)
	// A bare pod from a chart: a live audit streams pods, and the fleet
	// must still name its image and chart.
	debug := baselineSpec()
	debug.Containers[0].Image = "registry.example/debug:1.2"
	_, err := f.kube.CoreV1().Pods("web").Create(t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "debug", Labels: map[string]string{"helm.sh/chart": "debug-tools-0.3.1"}},
		Spec:       debug}, metav1.CreateOptions{})
	f.must(err, "create bare pod")

	role, _ := shippedRole(t)
	var rules []rbacv1.PolicyRule
	for _, r := range role.Rules {
		if !slices.Contains(r.Resources, "pods") {
			rules = append(rules, r)
		}
	}
	kube := v124.AdminClient(t)
	if _, err := kube.RbacV1().ClusterRoles().Create(t.Context(), &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "fleet-no-pods"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.RbacV1().ClusterRoleBindings().Create(t.Context(), &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "fleet-no-pods"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "fleet-no-pods"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: noPodsUser}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	v124.WaitForAccess(t, authorizationv1.SubjectAccessReviewSpec{User: noPodsUser, ResourceAttributes: &authorizationv1.ResourceAttributes{
		Group: "apps", Resource: "deployments", Verb: "list"}})

	v130 = framework.Start(t, framework.Options{Version: "v1.30"})
	for _, ns := range []string{"ingress", "shop"} {
		v130.CreateNamespace(t, ns)
	}
	v130.ApplyYAML(t, []byte(fleetChart))
	f = &fixture{t: t, ctx: t.Context(), kube: v130.AdminClient(t)}
	f.deployment("shop", "cart", restrictedSpec(), 1)
	f.statefulSet("shop", "db", baselineSpec(), 1)

	dir := t.TempDir()
	files := []string{
		fleetContext(t, dir, "v124", v124, framework.AdminUser),
		fleetContext(t, dir, "v124-no-pods", v124, noPodsUser),
		fleetContext(t, dir, "v130", v130, framework.AdminUser),
		fleetContext(t, dir, "down", nil, ""),
	}
	return v124, v130, strings.Join(files, string(os.PathListSeparator))
}

func TestFleetAgainstRealAPIServers(t *testing.T) {
	v124, v130, kubeconfig := startFleet(t)
	t.Setenv("KUBECONFIG", kubeconfig)

	// What each context's own run says, for the sections to equal.
	type want struct {
		class   string // error class when the run fails
		verdict map[string]string
		exit    map[string]int
	}
	wants := map[string]want{
		"down": {class: fleet.ClassUnreachable, verdict: map[string]string{"audit": "UNREACHABLE", "readiness": "UNREACHABLE"},
			exit: map[string]int{"audit": cmd.ExitError, "readiness": cmd.ExitError}},
		"v124": {verdict: map[string]string{"audit": fleet.VerdictPass, "readiness": "NOT READY"},
			exit: map[string]int{"audit": cmd.ExitOK, "readiness": cmd.ExitFindings}},
		// Pods cannot be listed: a partial report, exit 3, as alone.
		"v124-no-pods": {verdict: map[string]string{"audit": fleet.VerdictIncomplete, "readiness": "NOT READY"},
			exit: map[string]int{"audit": cmd.ExitIncomplete, "readiness": cmd.ExitIncomplete}},
		"v130": {verdict: map[string]string{"audit": fleet.VerdictPass, "readiness": "READY"},
			exit: map[string]int{"audit": cmd.ExitOK, "readiness": cmd.ExitOK}},
	}

	for _, command := range []string{"audit", "readiness"} {
		t.Run(command, func(t *testing.T) {
			args := []string{command, "-o", "json"}
			if command == "audit" {
				args = append(args, "--pss-version", serverPSSVersion)
			}
			code, stdout, stderr := runPlugin(t, append(args, "--all-contexts", "--parallel", "4")...)
			if code != cmd.ExitError {
				t.Errorf("fleet exit %d, want %d (the unreachable cluster's)", code, cmd.ExitError)
			}
			var rep fleet.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("decode the fleet report: %v\n%s\nstderr: %s", err, stdout, stderr)
			}
			var names []string
			for _, c := range rep.Clusters {
				names = append(names, c.Context)
			}
			if want := []string{"down", "v124", "v124-no-pods", "v130"}; !reflect.DeepEqual(names, want) {
				t.Fatalf("clusters %v, want %v (every context of the merged KUBECONFIG)", names, want)
			}
			for _, c := range rep.Clusters {
				t.Run(c.Context, func(t *testing.T) {
					w := wants[c.Context]
					singleCode, single, singleErr := runPlugin(t, append(args, "--context", c.Context)...)
					if c.ExitCode != singleCode {
						t.Errorf("exit %d in the fleet, %d alone: %s", c.ExitCode, singleCode, singleErr)
					}
					t.Logf("%s: verdict %s, exit %d, counts %+v", c.Context, c.Verdict, c.ExitCode, c.Counts)
					if c.Verdict != w.verdict[command] || c.ExitCode != w.exit[command] {
						t.Errorf("verdict %s, exit %d; want %s, %d", c.Verdict, c.ExitCode, w.verdict[command], w.exit[command])
					}
					if c.Context == "v124-no-pods" && (c.Counts == nil || c.Counts.Incomplete != 1) {
						t.Errorf("counts %+v, want one incomplete read (pods)", c.Counts)
					}
					if w.class != "" {
						if c.Error == nil || c.Error.Class != w.class || c.Report != nil {
							t.Fatalf("error %+v, want class %s and no report", c.Error, w.class)
						}
						if !strings.Contains(singleErr, "connection refused") || !strings.Contains(c.Error.Message, "connection refused") {
							t.Errorf("the fleet says %q, the single run %q", c.Error.Message, singleErr)
						}
						return
					}
					if c.Error != nil {
						t.Fatalf("error %+v", c.Error)
					}
					var a, b any
					if err := json.Unmarshal([]byte(single), &a); err != nil {
						t.Fatalf("decode the single run: %v\n%s", err, single)
					}
					if err := json.Unmarshal(c.Report, &b); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(a, b) {
						t.Errorf("the fleet's section differs from the single run:\nsingle: %s\nfleet: %s", single, c.Report)
					}
					wantVersion := "v1.24.17"
					if strings.HasPrefix(c.Context, "v130") {
						wantVersion = "v1.30.14"
					}
					if c.KubernetesVersion != wantVersion || c.Server == "" {
						t.Errorf("version %q (want %s), server %q", c.KubernetesVersion, wantVersion, c.Server)
					}
				})
			}
			if rep.Summary.Errors != 1 || rep.Summary.Verdicts["UNREACHABLE"] != 1 {
				t.Errorf("summary %+v", rep.Summary)
			}
			// The chart relies on the v1.24 PSP, read as admin and without
			// pods alike; on v1.30 no PSP fills anything in.
			var chart *fleet.Recurrence
			for i, r := range rep.Summary.Recurring {
				if r.Kind == fleet.BlockerChart && r.Name == "ingress-nginx" {
					chart = &rep.Summary.Recurring[i]
				}
			}
			if chart == nil || !reflect.DeepEqual(chart.Contexts, []string{"v124", "v124-no-pods"}) {
				t.Errorf("recurring chart %+v; all recurring: %+v", chart, rep.Summary.Recurring)
			}
			if !strings.Contains(stderr, "Warning: [down] no report (unreachable)") {
				t.Errorf("stderr does not name the unreachable context:\n%s", stderr)
			}
		})
	}

	t.Run("a bare pod's image and chart are blockers of a live (streamed) audit", func(t *testing.T) {
		code, stdout, stderr := runPlugin(t, "audit", "-o", "json", "--pss-version", serverPSSVersion, "--contexts", "v124", "--fail-on", "restricted")
		if code != cmd.ExitFindings {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep fleet.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		reason := "fails the restricted level"
		for _, want := range []fleet.Blocker{
			{Kind: fleet.BlockerWorkload, Name: "web/Pod/debug", Reason: reason},
			{Kind: fleet.BlockerImage, Name: "registry.example/debug", Reason: reason},
			{Kind: fleet.BlockerChart, Name: "debug-tools", Reason: reason},
		} {
			if !slices.Contains(rep.Clusters[0].Blockers, want) {
				t.Errorf("blockers lack %+v: %+v", want, rep.Clusters[0].Blockers)
			}
		}
	})

	t.Run("table", func(t *testing.T) {
		_, stdout, _ := runPlugin(t, "readiness", "--contexts", "^down")
		for _, s := range []string{"CONTEXT", "v124           v1.24.17   NOT READY", "v130           v1.30.14"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("table lacks %q:\n%s", s, stdout)
			}
		}
	})

	t.Run("every identity's requests are in the audit logs, all reads", func(t *testing.T) {
		for _, x := range []struct {
			c     *framework.Cluster
			users []string
		}{{v124, []string{framework.AdminUser, noPodsUser}}, {v130, []string{framework.AdminUser}}} {
			byUser := map[string]int{}
			for _, e := range x.c.PluginEvents(t) {
				byUser[e.User.Username]++
			}
			for _, u := range x.users {
				if byUser[u] == 0 {
					t.Errorf("%s: no request from the plugin as %s (%v)", x.c.Version(), u, byUser)
				}
			}
		}
	})
}
