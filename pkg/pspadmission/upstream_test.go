package pspadmission

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// testdata/upstream-v1.24.17.json.gz holds pods and PSPs, mostly random,
// with what the real Kubernetes v1.24.17 code did with them: API defaulting,
// ServiceAccount admission, the PodSecurityPolicy plugin (both phases) and
// the pod registry's PrepareForCreate, recorded by a throw-away harness
// outside this repository that linked k8s.io/kubernetes v1.24.17 with an
// authorizer allowing `use` of the listed PSPs. The cases were picked from
// 4,800 such runs (all of which the model reproduced) to cover every error
// text, strategy and outcome seen; runs whose pods the API's own pod
// validation rejected for reasons of their own were left out.
type upstreamCase struct {
	Case struct {
		Name            string            `json:"name"`
		PSPs            []json.RawMessage `json:"psps"`
		Pod             json.RawMessage   `json:"pod"`
		ServiceAccount  json.RawMessage   `json:"serviceAccount"`
		SAUsable        []string          `json:"saUsable"`
		Requester       bool              `json:"requester"`
		RequesterUsable []string          `json:"requesterUsable"`
	} `json:"case"`
	Want struct {
		InvalidPSPs    map[string][]string `json:"invalidPSPs"`
		ProviderErrors map[string]string   `json:"providerErrors"`
		Admitted       string              `json:"admitted"`
		Phase          string              `json:"phase"`
		Message        string              `json:"message"`
		PerPSPErrors   map[string][]string `json:"perPSPErrors"`
		PerPSPMutated  map[string]bool     `json:"perPSPMutated"`
		Final          *corev1.Pod         `json:"final"`
	} `json:"want"`
}

func loadUpstreamCases(t *testing.T) []upstreamCase {
	t.Helper()
	f, err := os.Open("testdata/upstream-v1.24.17.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var cases []upstreamCase
	if err := json.NewDecoder(zr).Decode(&cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func listAllows(list []string, name string) bool {
	for _, x := range list {
		if x == "*" || x == name {
			return true
		}
	}
	return false
}

func TestUpstreamCases(t *testing.T) {
	for _, uc := range loadUpstreamCases(t) {
		c, want := uc.Case, uc.Want
		t.Run(c.Name, func(t *testing.T) {
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
				if err := json.Unmarshal(c.ServiceAccount, sa); err != nil {
					t.Fatal(err)
				}
			}
			canUse := func(u rbac.User, ns, name string) bool {
				switch {
				case strings.HasPrefix(u.Name, "system:serviceaccount:"+ns+":"):
					return listAllows(c.SAUsable, name)
				case u.Name == "requester":
					return listAllows(c.RequesterUsable, name)
				}
				return false
			}
			e, invalid := NewEvaluator(psps, userFunc(canUse))

			// Invalid PSPs: validation errors verbatim; admission's provider
			// errors as its aggregate prints them (deduplicated).
			gotInvalid := map[string][]string{}
			for _, inv := range invalid {
				gotInvalid[inv.Name] = inv.Errors
			}
			for name, errs := range want.InvalidPSPs {
				if strings.Join(gotInvalid[name], "\n") != strings.Join(errs, "\n") {
					t.Errorf("PSP %s validation:\n got  %q\n want %q", name, gotInvalid[name], errs)
				}
				delete(gotInvalid, name)
			}
			for name, msg := range want.ProviderErrors {
				if got := aggregateErrors(gotInvalid[name]); got != msg {
					t.Errorf("PSP %s provider error: got %q, want %q", name, got, msg)
				}
				delete(gotInvalid, name)
			}
			for name, errs := range gotInvalid {
				t.Errorf("PSP %s reported invalid: %q", name, errs)
			}

			// Every compiled policy against the prepared pod.
			prepared := Prepare(&pod, sa)
			for _, pol := range e.policies {
				_, mutated, errs := pol.admit(prepared)
				if strings.Join(errs, "\n") != strings.Join(want.PerPSPErrors[pol.name], "\n") {
					t.Errorf("PSP %s errors:\n got  %q\n want %q", pol.name, errs, want.PerPSPErrors[pol.name])
				}
				if mutated != want.PerPSPMutated[pol.name] {
					t.Errorf("PSP %s mutated = %v", pol.name, mutated)
				}
			}

			var requester *rbac.User
			if c.Requester {
				requester = &rbac.User{Name: "requester", Groups: []string{"system:authenticated"}}
			}
			r, final := e.evaluate(Request{Pod: &pod, Requester: requester, ServiceAccount: sa})
			if want.Phase != "" {
				if r.AdmittedBy != nil {
					t.Fatalf("admitted by %s, want rejected: %s", *r.AdmittedBy, want.Message)
				}
				// Upstream joins the errors of several PSPs in map order.
				msg := want.Message[strings.Index(want.Message, "PodSecurityPolicy:"):]
				if len(msg) != len(r.Reason) || !containsEach(msg, r.Errors) {
					t.Errorf("reason:\n got  %s\n want %s", r.Reason, msg)
				}
				return
			}
			if admittedBy(r) != want.Admitted {
				t.Fatalf("admitted by %q, want %q: %s", admittedBy(r), want.Admitted, r.Reason)
			}
			if d := securityDiff(want.Final, final, diffOptions{}); len(d) > 0 {
				t.Errorf("stored pod differs: %+v", d)
			}
			if got, w := final.Annotations[psp.PodAnnotation], want.Final.Annotations[psp.PodAnnotation]; got != w {
				t.Errorf("kubernetes.io/psp = %q, want %q", got, w)
			}
		})
	}
}

func containsEach(msg string, errs map[string][]string) bool {
	names := make([]string, 0, len(errs))
	for n := range errs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.Contains(msg, strings.Join(errs[n], " ")) {
			return false
		}
	}
	return true
}
