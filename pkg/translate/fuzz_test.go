package translate

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// FuzzCompile feeds arbitrary PSPs (user input, from files or a cluster)
// and pods to the rule model: compiling a valid PSP and evaluating any pod
// must not panic, and the CEL must at least be well bracketed, with its
// string literals closed, so that the API server can parse it.
func FuzzCompile(f *testing.F) {
	for _, p := range []*psp.PodSecurityPolicy{basePSP(), func() *psp.PodSecurityPolicy {
		p := basePSP()
		mustRunAsUser(p)
		seLinux(p)
		groups("MustRunAs")(p)
		p.Spec.Privileged, p.Spec.HostNetwork, p.Spec.AllowedCapabilities = false, false, nil
		p.Spec.Volumes = []psp.FSType{psp.Secret, psp.HostPath}
		p.Spec.AllowedHostPaths = []psp.AllowedHostPath{{PathPrefix: "/a", ReadOnly: true}, {PathPrefix: "/a/b"}}
		p.Spec.ForbiddenSysctls = []string{"kernel.*"}
		p.Spec.AllowedUnsafeSysctls = []string{"net.*"}
		p.Annotations[psp.AppArmorAllowedProfilesAnnotation] = "runtime/default,localhost/x"
		return p
	}()} {
		pb, _ := json.Marshal(p)
		pod := basePod()
		withVolume(hostPathVolume("/a/x"), corev1.VolumeMount{Name: "h", MountPath: "/m"})(pod)
		sysctl("kernel/msgmax")(pod)
		db, _ := json.Marshal(pod)
		f.Add(pb, db)
	}
	f.Fuzz(func(t *testing.T, pspJSON, podJSON []byte) {
		p := &psp.PodSecurityPolicy{}
		if json.Unmarshal(pspJSON, p) != nil || len(psp.Validate(p)) > 0 {
			return
		}
		pol := CompilePolicy(p)
		pod := &corev1.Pod{}
		if json.Unmarshal(podJSON, pod) == nil {
			set := &PolicySet{Options: Options{Scope: ScopeCluster}, Policies: []Policy{pol}}
			v := set.Evaluate(pod, nil)
			if !v.Allowed && (v.Message == "" || strings.Contains(v.Message, "\n")) {
				t.Fatalf("denied with message %q", v.Message)
			}
		}
		for _, r := range pol.Rules {
			if err := checkCELShape(r.CEL()); err != "" {
				t.Fatalf("rule %s: %s: %s", r.ID(), err, r.CEL())
			}
		}
		if err := checkCELShape(pol.celFailures()); err != "" {
			t.Fatalf("failures list: %s", err)
		}
	})
}

// checkCELShape checks brackets and double-quoted string literals
// (backslash escapes included), the parts of CEL a renderer can break.
func checkCELShape(expr string) string {
	var stack []rune
	inString := false
	for i := 0; i < len(expr); i++ {
		ch := rune(expr[i])
		if inString {
			switch ch {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch ch {
		case '"':
			inString = true
		case '(', '[', '{':
			stack = append(stack, ch)
		case ')', ']', '}':
			open := map[rune]rune{')': '(', ']': '[', '}': '{'}[ch]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return "unbalanced " + string(ch)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inString {
		return "unterminated string"
	}
	if len(stack) > 0 {
		return "unclosed " + string(stack)
	}
	return ""
}
