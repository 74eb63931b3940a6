package pspadmission

// TEMPORARY development harness (not to be committed): compares the model
// with outcomes recorded from the real v1.24.17 code by a throw-away oracle.

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

type oracleCase struct {
	Name            string            `json:"name"`
	PSPs            []json.RawMessage `json:"psps"`
	Pod             json.RawMessage   `json:"pod"`
	ServiceAccount  json.RawMessage   `json:"serviceAccount,omitempty"`
	SAUsable        []string          `json:"saUsable"`
	Requester       bool              `json:"requester"`
	RequesterUsable []string          `json:"requesterUsable"`
}

type oracleOutcome struct {
	Name           string              `json:"name"`
	InvalidPSPs    map[string][]string `json:"invalidPSPs,omitempty"`
	ProviderErrors map[string]string   `json:"providerErrors,omitempty"`
	Admitted       string              `json:"admitted"`
	Phase          string              `json:"phase"`
	Message        string              `json:"message"`
	PerPSPErrors   map[string][]string `json:"perPSPErrors,omitempty"`
	PerPSPMutated  map[string]bool     `json:"perPSPMutated,omitempty"`
	PreparedPod    json.RawMessage     `json:"preparedPod,omitempty"`
	FinalPod       json.RawMessage     `json:"finalPod,omitempty"`
	PodInvalid     string              `json:"podInvalid,omitempty"`
}

func listHas(list []string, s string) bool {
	for _, x := range list {
		if x == "*" || x == s {
			return true
		}
	}
	return false
}

func TestOracleDev(t *testing.T) {
	dir := os.Getenv("PSPORACLE")
	if dir == "" {
		t.Skip("PSPORACLE not set")
	}
	var cases []oracleCase
	var outs []oracleOutcome
	b, _ := os.ReadFile(dir + "/cases.json")
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(dir + "/expected.json")
	if err := json.Unmarshal(b, &outs); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, c := range cases {
		o := outs[i]
		fail := func(format string, args ...any) {
			bad++
			if bad < 60 {
				t.Errorf("%s: "+format, append([]any{c.Name}, args...)...)
			}
		}
		var psps []psp.PodSecurityPolicy
		for _, raw := range c.PSPs {
			var p psp.PodSecurityPolicy
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			psps = append(psps, p)
		}
		var pod corev1.Pod
		if err := json.Unmarshal(c.Pod, &pod); err != nil {
			t.Fatal(err)
		}
		var sa *corev1.ServiceAccount
		if len(c.ServiceAccount) > 0 {
			sa = &corev1.ServiceAccount{}
			_ = json.Unmarshal(c.ServiceAccount, sa)
		}
		canUse := func(u rbac.User, ns, name string) bool {
			if strings.HasPrefix(u.Name, "system:serviceaccount:"+ns+":") {
				return listHas(c.SAUsable, name)
			}
			if u.Name == "requester" {
				return listHas(c.RequesterUsable, name)
			}
			return false
		}
		e, invalid := NewEvaluator(psps, canUse)
		// invalid PSPs: names
		wantInvalid := map[string]bool{}
		for n := range o.InvalidPSPs {
			wantInvalid[n] = true
		}
		for n := range o.ProviderErrors {
			wantInvalid[n] = true
		}
		gotInvalid := map[string]bool{}
		for _, inv := range invalid {
			gotInvalid[inv.Name] = true
			if errs, ok := o.InvalidPSPs[inv.Name]; ok {
				if strings.Join(errs, "|") != strings.Join(inv.Errors, "|") {
					t.Logf("%s: PSP %s validation text differs:\n  want %q\n  got  %q", c.Name, inv.Name, errs, inv.Errors)
				}
			}
			if pe, ok := o.ProviderErrors[inv.Name]; ok {
				if strings.Join(inv.Errors, ", ") != strings.Trim(pe, "[]") {
					fail("provider error text: want %q got %q", pe, inv.Errors)
				}
			}
		}
		if o.Phase == "serviceaccount" {
			continue
		}
		for n := range wantInvalid {
			if !gotInvalid[n] {
				fail("PSP %s should be invalid: %v %v", n, o.InvalidPSPs[n], o.ProviderErrors[n])
			}
		}
		for n := range gotInvalid {
			if !wantInvalid[n] {
				fail("PSP %s wrongly invalid", n)
			}
		}
		var requester *rbac.User
		if c.Requester {
			requester = &rbac.User{Name: "requester", Groups: []string{"system:authenticated"}}
		}
		prepared := Prepare(&pod, sa)
		// Prepared pod comparison (volumes, mounts, SA, ports).
		var want corev1.Pod
		_ = json.Unmarshal(o.PreparedPod, &want)
		normalizeToken(&want)
		got := prepared.DeepCopy()
		normalizeToken(got)
		if g, w := prepView(got), prepView(&want); g != w {
			fail("prepared pod differs:\n  want %s\n  got  %s", w, g)
		}
		// per PSP
		for _, pol := range e.policies {
			_, mutated, errs := pol.admit(prepared)
			we := o.PerPSPErrors[pol.name]
			if strings.Join(we, "\n") != strings.Join(errs, "\n") {
				fail("PSP %s errors differ:\n  want %q\n  got  %q", pol.name, we, errs)
			}
			if wm, ok := o.PerPSPMutated[pol.name]; ok && wm != mutated {
				fail("PSP %s mutated: want %v got %v", pol.name, wm, mutated)
			}
		}
		res, final := e.evaluate(Request{Pod: &pod, Requester: requester, ServiceAccount: sa})
		switch o.Phase {
		case "":
			if res.AdmittedBy == nil || *res.AdmittedBy != o.Admitted {
				fail("want admitted by %s, got %v (%s)", o.Admitted, res.AdmittedBy, res.Reason)
				continue
			}
			var wf corev1.Pod
			_ = json.Unmarshal(o.FinalPod, &wf)
			if d := securityDiff(&wf, final, diffOptions{}); len(d) > 0 {
				fail("final pod differs: %+v", d)
			}
			for k, v := range wf.Annotations {
				if final.Annotations[k] != v {
					fail("final annotation %s: want %q got %q", k, v, final.Annotations[k])
				}
			}
			for k := range final.Annotations {
				if _, ok := wf.Annotations[k]; !ok {
					fail("final annotation %s unexpected", k)
				}
			}
		default:
			if res.AdmittedBy != nil {
				fail("want rejected (%s), got admitted by %s", o.Message, *res.AdmittedBy)
				continue
			}
			msg := o.Message[strings.Index(o.Message, "PodSecurityPolicy:"):]
			if len(msg) != len(res.Reason) || !sameChunks(msg, res.Reason, res.Errors) {
				fail("reason differs:\n  want %s\n  got  %s", msg, res.Reason)
			}
		}
	}
	t.Logf("%d cases, %d problems", len(cases), bad)
}

func sameChunks(want, got string, errs map[string][]string) bool {
	if want == got {
		return true
	}
	for _, list := range errs {
		if !strings.Contains(want, strings.Join(list, " ")) {
			return false
		}
	}
	return true
}

func normalizeToken(p *corev1.Pod) {
	rename := map[string]string{}
	for i := range p.Spec.Volumes {
		if strings.HasPrefix(p.Spec.Volumes[i].Name, tokenVolumePrefix) {
			rename[p.Spec.Volumes[i].Name] = "TOKEN"
			p.Spec.Volumes[i].Name = "TOKEN"
		}
	}
	for _, l := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range l {
			for j := range l[i].VolumeMounts {
				if strings.HasPrefix(l[i].VolumeMounts[j].Name, tokenVolumePrefix) {
					l[i].VolumeMounts[j].Name = "TOKEN"
				}
			}
		}
	}
}

func prepView(p *corev1.Pod) string {
	type view struct {
		SA       string
		Vols     []corev1.Volume
		Mounts   [][]corev1.VolumeMount
		Ports    [][]corev1.ContainerPort
		SC       *corev1.PodSecurityContext
		CSC      []*corev1.SecurityContext
		Pull     []corev1.LocalObjectReference
		Ann      map[string]string
		Runtime  *string
		Automnt  *bool
		HostNet  bool
		Services string
	}
	v := view{SA: p.Spec.ServiceAccountName, Vols: p.Spec.Volumes, SC: p.Spec.SecurityContext, Pull: p.Spec.ImagePullSecrets,
		Ann: p.Annotations, Runtime: p.Spec.RuntimeClassName, Automnt: p.Spec.AutomountServiceAccountToken, HostNet: p.Spec.HostNetwork,
		Services: p.Spec.DeprecatedServiceAccount}
	for _, l := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range l {
			v.Mounts = append(v.Mounts, c.VolumeMounts)
			v.Ports = append(v.Ports, c.Ports)
			v.CSC = append(v.CSC, c.SecurityContext)
		}
	}
	// Only compare volume sources' types and the projected token contents.
	b, _ := json.Marshal(v)
	var m any
	_ = json.Unmarshal(b, &m)
	b, _ = json.Marshal(m)
	s := string(b)
	_ = sort.Strings
	return s
}
