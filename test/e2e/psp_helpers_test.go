package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
)

// The corpus of the PSP admission suite (test/e2e/testdata/psp-corpus).
const (
	pspCorpusDir = "testdata/psp-corpus"
	// pspReplicasAnnotation on a corpus controller says how many pods the
	// test creates for it.
	pspReplicasAnnotation = "psp-migrate.test/replicas"
	// pspRequesterAnnotation on a corpus pod names the user (one of
	// pspUsers) who creates it instead of its service account.
	pspRequesterAnnotation = "psp-migrate.test/requester"
	// pspControllerIdentityAnnotation on a corpus controller set to
	// "controller-manager" has its pods created as
	// system:kube-controller-manager instead of the controller's service
	// account.
	pspControllerIdentityAnnotation = "psp-migrate.test/controller-identity"
	// pspDebugContainerAnnotation on a corpus pod has the test add a
	// privileged ephemeral container to it once admitted.
	pspDebugContainerAnnotation = "psp-migrate.test/debug-container"

	pspMinCorpusPSPs = 12
	pspMinCorpusPods = 80
)

// pspBrokenNames are the corpus PSPs the API server accepts but admission
// cannot build strategies for (MustRunAs without ranges or SELinux
// options): it skips them silently.
var pspBrokenNames = []string{"aa-broken", "ab-broken-selinux", "ac-broken-fsgroup"}

// pspUsers are the people who create corpus pods, with their groups.
var pspUsers = map[string][]string{"alice": {"devs", "system:authenticated"}}

// Pod annotations of the seccomp and AppArmor profiles (the API server's
// legacy keys), compared between submitted and stored pods.
const (
	pspSeccompPodKey          = "seccomp.security.alpha.kubernetes.io/pod"
	pspSeccompContainerPrefix = "container.seccomp.security.alpha.kubernetes.io/"
	pspAppArmorPrefix         = "container.apparmor.security.beta.kubernetes.io/"
)

// pspCorpus is the corpus twice over: as the server gets it (unstructured,
// exactly as written) and as the audit gets it (a typed inventory).
type pspCorpus struct {
	files map[string][]byte // file name -> contents

	podObjs  []*unstructured.Unstructured // pods.yaml, in file order
	ctrlObjs []*unstructured.Unstructured // controllers.yaml, in file order

	runtimeClasses []string // names in runtimeclasses.yaml

	inv *inventory.Inventory
}

var pspCorpusFiles = []string{"psps.yaml", "runtimeclasses.yaml", "rbac.yaml", "pods.yaml", "controllers.yaml"}

func loadPSPCorpus() (*pspCorpus, error) {
	c := &pspCorpus{files: map[string][]byte{}}
	var all []manifest.Object
	for _, name := range pspCorpusFiles {
		data, err := os.ReadFile(filepath.Join(pspCorpusDir, name))
		if err != nil {
			return nil, err
		}
		c.files[name] = data
		// Decoded twice: inventory.FromObjects consumes the objects.
		objs, err := manifest.Decode(data, name)
		if err != nil {
			return nil, err
		}
		forServer, err := manifest.Decode(data, name)
		if err != nil {
			return nil, err
		}
		for _, o := range forServer {
			switch name {
			case "pods.yaml":
				if o.Object.GetKind() != "Pod" {
					return nil, fmt.Errorf("%s: only pods belong in pods.yaml", o.Location())
				}
				c.podObjs = append(c.podObjs, o.Object)
			case "controllers.yaml":
				c.ctrlObjs = append(c.ctrlObjs, o.Object)
			case "runtimeclasses.yaml":
				c.runtimeClasses = append(c.runtimeClasses, o.Object.GetName())
			}
		}
		all = append(all, objs...)
	}
	inv, err := inventory.FromObjects(all)
	if err != nil {
		return nil, err
	}
	// The audit sees the objects without the annotation admission writes.
	for i := range inv.Pods {
		delete(inv.Pods[i].Annotations, psp.PodAnnotation)
	}
	c.inv = inv
	return c, nil
}

// pspPodServiceAccount is the account a pod runs as, as ServiceAccount
// admission settles it: spec.serviceAccountName, else the deprecated
// spec.serviceAccount, else "default". Mirror pods have none, but the test
// still creates them as the namespace's default account.
func pspPodServiceAccount(u *unstructured.Unstructured) string {
	for _, f := range []string{"serviceAccountName", "serviceAccount"} {
		if s, _, _ := unstructured.NestedString(u.Object, "spec", f); s != "" {
			return s
		}
	}
	return "default"
}

// ------------------------------------------------------------ field diffs

// pspSecurityFields flattens the security-relevant fields of a pod into
// path -> rendered value, in the path syntax of pspadmission.FieldChange:
// the seccomp and AppArmor annotations, runtimeClassName, the host
// namespaces, the pod security context, and per init and regular container
// its security context and host ports.
func pspSecurityFields(p *corev1.Pod) map[string]string {
	out := map[string]string{}
	for k, v := range p.Annotations {
		if k == pspSeccompPodKey || strings.HasPrefix(k, pspSeccompContainerPrefix) || strings.HasPrefix(k, pspAppArmorPrefix) {
			out["metadata.annotations["+k+"]"] = v
		}
	}
	if p.Spec.RuntimeClassName != nil {
		out["spec.runtimeClassName"] = *p.Spec.RuntimeClassName
	}
	for name, on := range map[string]bool{"hostNetwork": p.Spec.HostNetwork, "hostPID": p.Spec.HostPID, "hostIPC": p.Spec.HostIPC} {
		if on {
			out["spec."+name] = "true"
		}
	}
	pspFlattenJSON(out, "spec.securityContext", p.Spec.SecurityContext)
	for _, l := range []struct {
		name string
		list []corev1.Container
	}{{"initContainers", p.Spec.InitContainers}, {"containers", p.Spec.Containers}} {
		for _, c := range l.list {
			prefix := "spec." + l.name + "[name=" + c.Name + "]"
			pspFlattenJSON(out, prefix+".securityContext", c.SecurityContext)
			for i, port := range c.Ports {
				if port.HostPort != 0 {
					out[fmt.Sprintf("%s.ports[%d].hostPort", prefix, i)] = strconv.Itoa(int(port.HostPort))
				}
			}
		}
	}
	return out
}

// pspFlattenJSON adds v's leaves by way of its JSON form: nested objects are
// walked, lists are leaves (compact JSON), strings raw, numbers and booleans
// as literals. Empty and unset fields vanish as omitempty makes them vanish.
func pspFlattenJSON(out map[string]string, prefix string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		out[prefix] = "<marshal error: " + err.Error() + ">"
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		out[prefix] = "<decode error: " + err.Error() + ">"
		return
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case nil:
		case map[string]any:
			for k, child := range t {
				walk(path+"."+k, child)
			}
		case string:
			out[path] = t
		case json.Number:
			out[path] = t.String()
		case bool:
			out[path] = strconv.FormatBool(t)
		default:
			raw, _ := json.Marshal(t)
			out[path] = string(raw)
		}
	}
	walk(prefix, root)
}

// pspFieldDiff lists the security fields that differ from before to after,
// sorted by path.
func pspFieldDiff(before, after *corev1.Pod) []pspadmission.FieldChange {
	b, a := pspSecurityFields(before), pspSecurityFields(after)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	var out []pspadmission.FieldChange
	for _, k := range pspSortedSet(keys) {
		if b[k] != a[k] {
			out = append(out, pspadmission.FieldChange{Path: k, Before: b[k], After: a[k]})
		}
	}
	return out
}

func pspRenderChange(c pspadmission.FieldChange) string {
	show := func(s string) string {
		if s == "" {
			return "<unset>"
		}
		return s
	}
	return c.Path + ": " + show(c.Before) + " -> " + show(c.After)
}

// pspCompareChanges returns the changes only in want (the server's) and only in
// got (the model's).
func pspCompareChanges(want, got []pspadmission.FieldChange) (missing, extra []string) {
	w, g := map[string]bool{}, map[string]bool{}
	for _, c := range want {
		w[pspRenderChange(c)] = true
	}
	for _, c := range got {
		g[pspRenderChange(c)] = true
	}
	for _, s := range pspSortedSet(w) {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	for _, s := range pspSortedSet(g) {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	return missing, extra
}

func pspSortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --------------------------------------------------------- error messages

const (
	pspAdmitPrefix    = "PodSecurityPolicy: unable to admit pod: "
	pspValidatePrefix = "PodSecurityPolicy: unable to validate pod: "
)

// pspReason strips the "pods "x" is forbidden: " prefix of a rejection.
func pspReason(msg string) string {
	if i := strings.Index(msg, " is forbidden: "); i >= 0 {
		return msg[i+len(" is forbidden: "):]
	}
	return msg
}

// pspSplitReason splits "PodSecurityPolicy: unable to admit pod: [e1 e2]" into
// its prefix and the inside of the brackets.
func pspSplitReason(reason string) (prefix, list string, ok bool) {
	for _, p := range []string{pspAdmitPrefix, pspValidatePrefix} {
		if rest, found := strings.CutPrefix(reason, p); found {
			if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
				return p, rest[1 : len(rest)-1], true
			}
		}
	}
	return "", "", false
}

// pspPartitionErrors reports whether list (the server's errors, which it joins
// with spaces, PSP by PSP in random order) is exactly the per-PSP groups in
// some order. Each group is one PSP's errors in the model, joined with
// spaces: within a PSP the order is fixed upstream. Identical groups (many
// PSPs often fail a pod the same way) are interchangeable, and dead ends
// are remembered, so a mismatch is found fast too.
func pspPartitionErrors(list string, groups []string) bool {
	count := map[string]int{}
	for _, g := range groups {
		count[g]++
	}
	distinct := pspSortedSet(pspKeys(count))
	left := make([]int, len(distinct))
	for i, g := range distinct {
		left[i] = count[g]
	}
	failed := map[string]bool{}
	var rec func(pos, remaining int) bool
	rec = func(pos, remaining int) bool {
		if remaining == 0 {
			return pos == len(list)
		}
		state := fmt.Sprint(pos, left)
		if failed[state] {
			return false
		}
		start := pos
		if remaining < len(groups) {
			if !strings.HasPrefix(list[pos:], " ") {
				failed[state] = true
				return false
			}
			start++
		}
		for i, g := range distinct {
			if left[i] > 0 && strings.HasPrefix(list[start:], g) {
				left[i]--
				ok := rec(start+len(g), remaining-1)
				left[i]++
				if ok {
					return true
				}
			}
		}
		failed[state] = true
		return false
	}
	return rec(0, len(groups))
}

// pspSplitErrorList splits a server error list into single errors for
// display, at the field paths every PSP error starts with. It is a
// heuristic (a quoted value could contain such a path); the verdict comes
// from pspPartitionErrors.
func pspSplitErrorList(list string) []string {
	if list == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 1; i < len(list); i++ {
		if list[i-1] == ' ' && (strings.HasPrefix(list[i:], "spec.") || strings.HasPrefix(list[i:], "pod.")) {
			out = append(out, list[start:i-1])
			start = i
		}
	}
	return append(out, list[start:])
}

// pspMultisetDiff returns the entries only in a and only in b.
func pspMultisetDiff(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, s := range pspSortedSet(pspKeys(count)) {
		for n := count[s]; n > 0; n-- {
			onlyA = append(onlyA, s)
		}
		for n := count[s]; n < 0; n++ {
			onlyB = append(onlyB, s)
		}
	}
	return onlyA, onlyB
}

func pspKeys(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// ------------------------------------------------------- corpus coverage

// pspFieldPaths lists every field of the PSP spec type, recursively: the
// fields of structs reached through pointers and slices too (a slice's
// element fields as "Field[].Sub"). Pointers to scalars and slices of
// scalars are leaves.
func pspFieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		path := f.Name
		if prefix != "" {
			path = prefix + "." + f.Name
		}
		out = append(out, path)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, pspFieldPaths(ft, path)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, pspFieldPaths(ft.Elem(), path+"[]")...)
		}
	}
	return out
}

// pspMarkSetFields records the paths (as pspFieldPaths names them) that are
// set, i.e. not the zero value, in v.
func pspMarkSetFields(v reflect.Value, prefix string, set map[string]bool) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		path := f.Name
		if prefix != "" {
			path = prefix + "." + f.Name
		}
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		set[path] = true
		inner := fv
		for inner.Kind() == reflect.Pointer {
			inner = inner.Elem()
		}
		switch {
		case inner.Kind() == reflect.Struct:
			pspMarkSetFields(inner, path, set)
		case inner.Kind() == reflect.Slice && inner.Type().Elem().Kind() == reflect.Struct:
			for j := 0; j < inner.Len(); j++ {
				pspMarkSetFields(inner.Index(j), path+"[]", set)
			}
		}
	}
}

// TestPSPComparisonHelpers checks, without a cluster, the helpers the
// admission suite judges the model with: a broken comparison would hide
// disagreements.
func TestPSPComparisonHelpers(t *testing.T) {
	t.Run("error lists are matched per PSP, in any order", func(t *testing.T) {
		same := `spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`
		groups := []string{"a: x y", "b: z"}
		for i := 0; i < 25; i++ {
			groups = append(groups, same)
		}
		list := strings.Join(append([]string{"b: z"}, append(groups[2:], "a: x y")...), " ")
		if !pspPartitionErrors(list, groups) {
			t.Error("a permutation of the groups does not match")
		}
		// One group fewer among many identical ones must fail, and fast.
		if pspPartitionErrors(list, groups[:len(groups)-1]) {
			t.Error("a missing group matches")
		}
		if pspPartitionErrors(list+" c", groups) || pspPartitionErrors("a: x", []string{"a: x y"}) {
			t.Error("extra or truncated errors match")
		}
		if !pspPartitionErrors("", nil) || pspPartitionErrors("x", nil) {
			t.Error("empty lists")
		}
	})
	t.Run("rejection messages", func(t *testing.T) {
		msg := `pods "p" is forbidden: PodSecurityPolicy: unable to admit pod: [a b]`
		prefix, list, ok := pspSplitReason(pspReason(msg))
		if !ok || prefix != pspAdmitPrefix || list != "a b" {
			t.Errorf("split %q: %q %q %v", msg, prefix, list, ok)
		}
		if _, _, ok := pspSplitReason(`Pod "p" is invalid: x`); ok {
			t.Error("a validation error is not a PSP error list")
		}
		if got := pspSplitErrorList(`spec.a: Invalid value: []int64{1, 2}: x pod.metadata.annotations[k]: Forbidden: y spec.b: Required value`); len(got) != 3 {
			t.Errorf("split into %q", got)
		}
		if a, b := pspNormalizePointers("(*bool)(0xc000123)"), pspNormalizePointers("(*bool)(0x1f03)"); a != b {
			t.Errorf("pointers: %q != %q", a, b)
		}
	})
	t.Run("security field diffs", func(t *testing.T) {
		before := &corev1.Pod{Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{SupplementalGroups: []int64{1}},
			Containers:      []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}}},
		}}
		after := before.DeepCopy()
		after.Annotations = map[string]string{pspAppArmorPrefix + "app": "runtime/default", "other": "x"}
		yes, uid := true, int64(1000)
		after.Spec.SecurityContext.SupplementalGroups = []int64{1, 2}
		after.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid,
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
		var got []string
		for _, c := range pspFieldDiff(before, after) {
			got = append(got, pspRenderChange(c))
		}
		want := []string{
			"metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: <unset> -> runtime/default",
			`spec.containers[name=app].securityContext.capabilities.drop: <unset> -> ["ALL"]`,
			"spec.containers[name=app].securityContext.runAsNonRoot: <unset> -> true",
			"spec.containers[name=app].securityContext.runAsUser: <unset> -> 1000",
			"spec.securityContext.supplementalGroups: [1] -> [1,2]",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		missing, extra := pspCompareChanges(pspFieldDiff(before, after)[1:], pspFieldDiff(before, after)[:4])
		if len(missing) != 1 || len(extra) != 1 {
			t.Errorf("compare: missing %q extra %q", missing, extra)
		}
	})
}
