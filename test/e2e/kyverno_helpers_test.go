package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// A kyverno test suite, as this package generates it: the rendered policies
// of one or more conversions ("groups"), the corpus pods as admission sees
// them, and a kyverno-test.yaml whose expected result for every (policy,
// pod) comes from the prediction.
//
// `kyverno test` checks every expectation, but on its own it is not a proof:
// a policy that fails validation is reported as "skip" and counted among
// the passed tests, and an expectation whose resource it cannot find is
// dropped. runKyvernoSuite therefore reads the CLI's result rows and
// checkKyvernoSuite insists that every expectation was answered by the
// policy it names.

// kyvernoPolicyKinds are the kinds the CLI evaluates as policies; other
// rendered objects (none today) are written but expect no result.
var kyvernoPolicyKinds = []string{"ClusterPolicy", "Policy", "ValidatingPolicy", "NamespacedValidatingPolicy"}

// kyGroup is the output of one conversion inside a suite: the pods are
// judged by all its policies together, as a cluster would.
type kyGroup struct {
	// variant is the key of the way of converting the group belongs to;
	// label names the group in messages.
	variant, label string
	// policies are the names of its policy objects.
	policies []string
	// want per pod key ("namespace/name").
	want map[string]kyWant
}

// kyWant is the prediction for one pod.
type kyWant struct {
	// excluded: no policy of the group looks at the pod.
	excluded bool
	allowed  bool
	// message is the denial message of the CEL engines ("" to not check).
	message string
}

// kySuite is one `kyverno test` directory.
type kySuite struct {
	dir    string
	groups []*kyGroup
	// pods in the order written, keyed "namespace/name".
	pods []string
	// ephemeral are the keys of pods that carry ephemeral containers.
	ephemeral map[string]bool
	// files are the rendered files, objects the number of policy objects
	// in them.
	files   []string
	objects int
	// written are the expectations as written into kyverno-test.yaml, by
	// policy and pod: the CLI's "Ok" means the engine said exactly that.
	written map[[2]string]string
	// userInfo, when set, is the requester the CLI puts in every request
	// (request.userInfo); without it the request has none.
	userInfo *rbac.User
}

// kyTestFile is kyverno-test.yaml (cli.kyverno.io/v1alpha1 Test), limited to
// the fields written here.
type kyTestFile struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   map[string]string `json:"metadata"`
	Policies   []string          `json:"policies"`
	Resources  []string          `json:"resources"`
	Results    []kyTestResult    `json:"results"`
	Values     *kyValues         `json:"values,omitempty"`
	UserInfo   string            `json:"userinfo,omitempty"`
}

// kyUserInfo is the CLI's UserInfo file (cli.kyverno.io/v1alpha1), limited
// to the requester.
type kyUserInfo struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   map[string]string `json:"metadata"`
	UserInfo   struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups,omitempty"`
	} `json:"userInfo"`
}

type kyTestResult struct {
	Policy    string   `json:"policy"`
	Resources []string `json:"resources"`
	Kind      string   `json:"kind"`
	Result    string   `json:"result"`
}

type kyValues struct {
	// Namespaces give the CLI the labels namespaceSelectors match on: the
	// API server sets kubernetes.io/metadata.name on every namespace.
	Namespaces []map[string]any `json:"namespaces"`
}

const (
	kyResultPass = "pass"
	kyResultFail = "fail"
	kyResultSkip = "skip"
)

// newKyvernoSuite starts a suite in dir.
func newKyvernoSuite(dir string) *kySuite {
	return &kySuite{dir: dir, ephemeral: map[string]bool{}, written: map[[2]string]string{}}
}

// addGroup writes the objects of one rendering and records its predictions.
//
// Several ways of converting share one suite, so that the CLI reads the
// pods once (it compiles a ValidatingPolicy anew for every resource, which
// dominates its run time). Their outputs would have the same names: every
// policy and file gets the variant's key as a prefix. A policy's name
// takes no part in its evaluation.
func (s *kySuite) addGroup(variant, label string, out translate.Output, want map[string]kyWant) error {
	ms, err := translate.Marshal(out.Objects)
	if err != nil {
		return fmt.Errorf("group %s: %w", label, err)
	}
	g := &kyGroup{variant: variant, label: label, want: want}
	for _, m := range ms {
		obj := map[string]any{}
		if err := yaml.Unmarshal(m.YAML, &obj); err != nil {
			return fmt.Errorf("group %s: %s: %w", label, m.FileName, err)
		}
		u := unstructured.Unstructured{Object: obj}
		data := m.YAML
		if slices.Contains(kyvernoPolicyKinds, u.GetKind()) {
			u.SetName(variant + "-" + u.GetName())
			if data, err = yaml.Marshal(obj); err != nil {
				return err
			}
			g.policies = append(g.policies, u.GetName())
			s.objects++
		}
		// Two groups writing one file would leave one group unjudged.
		name := variant + "-" + m.FileName
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("group %s: %w", label, err)
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		s.files = append(s.files, name)
	}
	if len(g.policies) == 0 {
		return fmt.Errorf("group %s rendered no Kyverno policy", label)
	}
	for _, other := range s.groups {
		for _, p := range g.policies {
			if slices.Contains(other.policies, p) {
				return fmt.Errorf("groups %s and %s both render policy %s", other.label, label, p)
			}
		}
	}
	s.groups = append(s.groups, g)
	return nil
}

// writePods writes the pods (as admission sees them, namespace set) and
// the test file.
func (s *kySuite) writePods(pods []*corev1.Pod) error {
	var buf bytes.Buffer
	namespaces := map[string]bool{}
	for i, pod := range pods {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		obj := &unstructured.Unstructured{Object: u}
		obj.SetAPIVersion("v1")
		obj.SetKind("Pod")
		unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u, "status")
		b, err := yaml.Marshal(u)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
		key := pod.Namespace + "/" + pod.Name
		if slices.Contains(s.pods, key) {
			return fmt.Errorf("pod %s twice", key)
		}
		s.pods = append(s.pods, key)
		if len(pod.Spec.EphemeralContainers) > 0 {
			s.ephemeral[key] = true
		}
		namespaces[pod.Namespace] = true
	}
	if err := os.WriteFile(filepath.Join(s.dir, "pods.yaml"), buf.Bytes(), 0o644); err != nil {
		return err
	}

	test := kyTestFile{
		APIVersion: "cli.kyverno.io/v1alpha1",
		Kind:       "Test",
		Metadata:   map[string]string{"name": "psp-migrate"},
		Resources:  []string{"pods.yaml"},
		Values:     &kyValues{},
	}
	test.Policies = slices.Clone(s.files)
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		test.Values.Namespaces = append(test.Values.Namespaces, map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": ns, "labels": map[string]any{"kubernetes.io/metadata.name": ns}},
		})
	}
	for _, g := range s.groups {
		for _, p := range g.policies {
			for _, key := range s.pods {
				w, ok := g.want[key]
				if !ok {
					return fmt.Errorf("group %s has no prediction for %s", g.label, key)
				}
				// One expectation per policy: the group's verdict. With one
				// policy of one rule per group (both engines today) this is
				// exact; with several, a pod one policy rejects may pass the
				// others, and checkKyvernoSuite judges the group as a whole.
				r := kyResultPass
				switch {
				case w.excluded:
					// The CLI answers "Excluded" for a pod no rule matches,
					// whatever the expectation; skip is what it means.
					r = kyResultSkip
				case !w.allowed:
					r = kyResultFail
				}
				test.Results = append(test.Results, kyTestResult{Policy: p, Resources: []string{key}, Kind: "Pod", Result: r})
				s.written[[2]string{p, key}] = r
			}
		}
	}
	if s.userInfo != nil {
		ui := kyUserInfo{APIVersion: "cli.kyverno.io/v1alpha1", Kind: "UserInfo", Metadata: map[string]string{"name": "requester"}}
		ui.UserInfo.Username, ui.UserInfo.Groups = s.userInfo.Name, s.userInfo.Groups
		b, err := yaml.Marshal(ui)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "user-info.yaml"), b, 0o644); err != nil {
			return err
		}
		test.UserInfo = "user-info.yaml"
	}
	b, err := yaml.Marshal(test)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, "kyverno-test.yaml"), b, 0o644)
}

// kyRow is one row of `kyverno test -o json --detailed-results`.
type kyRow struct {
	ID       int    `json:"ID"`
	Policy   string `json:"POLICY"`
	Rule     string `json:"RULE"`
	Resource string `json:"RESOURCE"`
	Result   string `json:"RESULT"`
	Reason   string `json:"REASON"`
	Message  string `json:"Message"`
}

// kyRun is what the CLI said.
type kyRun struct {
	output   string
	exitErr  error
	policies int
	pods     int
	rows     []kyRow
}

var kyApplyingRE = regexp.MustCompile(`Applying (\d+) polic(?:y|ies) to (\d+) resources?`)

// runKyvernoSuite runs `kyverno test` on the suite's directory.
func runKyvernoSuite(ctx context.Context, cli, dir string) (*kyRun, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "test", dir, "-o", "json", "--detailed-results", "--remove-color")
	// The CLI must find nothing but the suite: no kubeconfig, no registry.
	cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null", "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	run := &kyRun{output: out.String(), exitErr: err}
	if ctx.Err() != nil {
		return run, fmt.Errorf("kyverno test: %w", ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return run, fmt.Errorf("kyverno test: %w", err)
	}
	m := kyApplyingRE.FindStringSubmatch(run.output)
	if m == nil {
		return run, errors.New("kyverno test did not say what it applied")
	}
	run.policies, _ = strconv.Atoi(m[1])
	run.pods, _ = strconv.Atoi(m[2])
	// The rows are a JSON array on a line of its own after "Checking
	// results ...".
	i := strings.Index(run.output, "Checking results ...")
	if i < 0 {
		return run, errors.New("kyverno test checked no results")
	}
	j := strings.Index(run.output[i:], "\n[")
	if j < 0 {
		return run, errors.New("kyverno test printed no result rows")
	}
	if err := json.NewDecoder(strings.NewReader(run.output[i+j+1:])).Decode(&run.rows); err != nil {
		return run, fmt.Errorf("kyverno test result rows: %w", err)
	}
	return run, nil
}

// kyOutcome is what the CLI decided for one (policy, pod) row.
type kyOutcome string

const (
	kyPass     kyOutcome = "pass"
	kyFail     kyOutcome = "fail"
	kyNoAnswer kyOutcome = "no answer"
)

var kyWantGotRE = regexp.MustCompile(`^Want (\w+), got (\w+)$`)

// outcome reads the engine's own result off a row: the row's RESULT says
// whether it met the expectation, REASON what the engine said instead.
func (r kyRow) outcome(expected string) (kyOutcome, error) {
	got := expected
	switch {
	case r.Reason == "Ok":
	case kyWantGotRE.MatchString(r.Reason):
		got = kyWantGotRE.FindStringSubmatch(r.Reason)[2]
	case r.Reason == "Excluded":
		// No rule matched the pod.
		return kyNoAnswer, nil
	default:
		return "", fmt.Errorf("%s: %s", r.Reason, r.Message)
	}
	switch got {
	case kyResultPass, kyResultFail:
		return kyOutcome(got), nil
	case kyResultSkip:
		return kyNoAnswer, nil
	}
	return "", fmt.Errorf("engine result %q", got)
}

// kyPodResult is one group's verdict on one pod, from the CLI.
type kyPodResult struct {
	rows     int
	outcome  kyOutcome
	messages []string
	errs     []string
}

// kyCheck is the comparison of a run with the predictions.
type kyCheck struct {
	// problems make the test fail: a disagreement, or the CLI not having
	// answered what was asked.
	problems []string
	// stats per variant key.
	stats map[string]*kyStats
	// strict is true when every expectation got exactly one row, so that
	// the CLI's own pass/fail is the whole answer.
	strict bool
}

// kyStats count the (group, pod) pairs of one variant.
type kyStats struct {
	pairs int
	// agree counts the pairs where engine and prediction agree, and among
	// them denied, excluded and ephemeral those the model denies, leaves
	// out, or that carry ephemeral containers.
	agree, denied, excluded, ephemeral int
}

// checkKyvernoSuite holds a run to the suite. checkMessages compares the
// denial messages too (the CEL engines render the model's messages).
func checkKyvernoSuite(s *kySuite, run *kyRun, checkMessages bool) kyCheck {
	c := kyCheck{stats: map[string]*kyStats{}}
	problem := func(format string, args ...any) { c.problems = append(c.problems, fmt.Sprintf(format, args...)) }
	if run.policies != s.objects {
		problem("the CLI applied %d policies, the suite has %d (a policy that fails to load is skipped)", run.policies, s.objects)
	}
	if run.pods != len(s.pods) {
		problem("the CLI read %d resources, the suite has %d pods", run.pods, len(s.pods))
	}

	// Index rows by (policy, pod).
	type key struct{ policy, pod string }
	rows := map[key][]kyRow{}
	for _, r := range run.rows {
		parts := strings.Split(r.Resource, "/")
		if len(parts) < 2 {
			problem("row %d: resource %q", r.ID, r.Resource)
			continue
		}
		pod := parts[len(parts)-2] + "/" + parts[len(parts)-1]
		rows[key{r.Policy, pod}] = append(rows[key{r.Policy, pod}], r)
	}
	expectations := 0
	c.strict = true
	for _, g := range s.groups {
		st := c.stats[g.variant]
		if st == nil {
			st = &kyStats{}
			c.stats[g.variant] = st
		}
		for _, pod := range s.pods {
			want := g.want[pod]
			st.pairs++
			res := kyPodResult{outcome: kyNoAnswer}
			for _, p := range g.policies {
				rs := rows[key{p, pod}]
				expected, ok := s.written[[2]string{p, pod}]
				if !ok {
					res.errs = append(res.errs, fmt.Sprintf("policy %s: no expectation written", p))
					continue
				}
				expectations++
				if len(rs) != 1 {
					c.strict = false
				}
				if len(rs) == 0 {
					res.errs = append(res.errs, fmt.Sprintf("policy %s: no result row", p))
				}
				for _, r := range rs {
					res.rows++
					o, err := r.outcome(expected)
					if err != nil {
						res.errs = append(res.errs, fmt.Sprintf("policy %s rule %q: %v", p, r.Rule, err))
						continue
					}
					switch {
					case o == kyFail:
						res.outcome = kyFail
						res.messages = append(res.messages, r.Message)
					case o == kyPass && res.outcome == kyNoAnswer:
						res.outcome = kyPass
					}
				}
			}
			var got string
			switch {
			case len(res.errs) > 0:
				problem("%s\t%s\tCLI error: %s", g.label, pod, strings.Join(res.errs, "; "))
				continue
			case want.excluded && res.outcome != kyNoAnswer:
				got = fmt.Sprintf("checked (%s), model: namespace excluded", res.outcome)
			case want.excluded:
				st.excluded++
			case res.outcome == kyNoAnswer:
				got = "no policy answered, model: checked"
			case (res.outcome == kyPass) != want.allowed:
				got = fmt.Sprintf("engine %s (%s), model allowed=%t (%s)", res.outcome, strings.Join(res.messages, " / "), want.allowed, want.message)
			case checkMessages && !want.allowed && !slices.Contains(res.messages, want.message):
				got = "message differs: " + messageDiff(strings.Join(res.messages, " | "), want.message)
			}
			if got != "" {
				problem("%s\t%s\t%s", g.label, pod, got)
				continue
			}
			st.agree++
			if s.ephemeral[pod] {
				st.ephemeral++
			}
			if !want.excluded && !want.allowed {
				st.denied++
			}
		}
	}
	if len(run.rows) < expectations {
		problem("the CLI gave %d result rows for %d expectations", len(run.rows), expectations)
	}
	if c.strict {
		// One row per expectation: the CLI's own verdict must be a pass.
		if run.exitErr != nil {
			problem("kyverno test failed: %v", run.exitErr)
		}
		if !strings.Contains(run.output, fmt.Sprintf("Test Summary: %d tests passed and 0 tests failed", expectations)) {
			problem("kyverno test summary does not report %d passed tests", expectations)
		}
	}
	sort.Strings(c.problems)
	return c
}
