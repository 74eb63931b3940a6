package translate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
)

// CELVariable is a named CEL expression a policy evaluates lazily.
type CELVariable struct {
	Name       string
	Expression string
}

// CELProgram is a PolicySet as CEL, in the shape every Kubernetes-style CEL
// engine takes (ValidatingAdmissionPolicy, Kyverno ValidatingPolicy,
// Gatekeeper's K8sNativeValidation): variables, one validation, and the
// expressions for its message. It reads `object` (the pod) and
// `request.namespace`; variables are referenced as `variables.<name>`.
type CELProgram struct {
	Variables []CELVariable
	// Expression is true when the pod is allowed.
	Expression string
	// MessageExpression builds the denial message Verdict.Message holds.
	MessageExpression string
	// Message is the static fallback message.
	Message string
	// VariableOf maps each PSP name to its variable holding the list of
	// the rule messages the pod fails.
	VariableOf map[string]string
}

var nonIdentifier = regexp.MustCompile(`[^A-Za-z0-9_]`)

// CEL renders the set. Per PSP there is a variable listing the messages of
// the rules the pod fails (empty when it passes them all) and, under
// ScopeRBAC, one saying whether the pod may use the PSP. The validation is
// the OR over PSPs of "usable and nothing failed": a pod is admitted when
// any PSP it may use admits it, as under PSP admission.
func (s *PolicySet) CEL() CELProgram {
	prog := CELProgram{Message: staticMessage, VariableOf: map[string]string{}}
	taken := map[string]bool{"serviceAccount": true, "reasons": true}
	unique := func(base string) string {
		name := base
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s_%d", base, n)
		}
		taken[name] = true
		return name
	}
	prog.Variables = append(prog.Variables, CELVariable{
		Name:       "serviceAccount",
		Expression: `request.namespace + "/" + object.spec.?serviceAccountName.orValue("default")`,
	})
	var allowedTerms, reasonTerms []string
	for i := range s.Policies {
		p := &s.Policies[i]
		base := nonIdentifier.ReplaceAllString(p.Name, "_")
		failed := unique("psp_" + base)
		prog.VariableOf[p.Name] = failed
		prog.Variables = append(prog.Variables, CELVariable{Name: failed, Expression: p.celFailures()})

		usable := "true"
		if s.Options.Scope == ScopeRBAC {
			if u := s.Usability[p.Name]; u == nil || !u.Everywhere {
				name := unique("usable_" + base)
				prog.Variables = append(prog.Variables, CELVariable{Name: name, Expression: usabilityCEL(u)})
				usable = "variables." + name
			}
		}
		ok := "size(variables." + failed + ") == 0"
		entry := fmt.Sprintf("[%s + variables.%s.join(%s) + \")\"]", celString(p.Name+" ("), failed, celString(reasonSeparator))
		if usable == "true" {
			allowedTerms = append(allowedTerms, ok)
			reasonTerms = append(reasonTerms, fmt.Sprintf("(%s ? [] : %s)", ok, entry))
		} else {
			allowedTerms = append(allowedTerms, "("+usable+" && "+ok+")")
			reasonTerms = append(reasonTerms, fmt.Sprintf("(%s && !(%s) ? %s : [])", usable, ok, entry))
		}
	}
	prog.Variables = append(prog.Variables, CELVariable{Name: "reasons", Expression: strings.Join(reasonTerms, " + ")})
	prog.Expression = strings.Join(allowedTerms, " || ")
	prog.MessageExpression = fmt.Sprintf(`size(variables.reasons) == 0 ? %s + variables.serviceAccount : %s + variables.reasons.join(%s)`,
		celString(noUsablePrefix), celString(deniedPrefix), celString(pspSeparator))
	return prog
}

// celFailures is a list(string) of the messages of the rules the pod fails.
func (p *Policy) celFailures() string {
	if len(p.Rules) == 0 {
		return "[]"
	}
	terms := make([]string, len(p.Rules))
	for i, r := range p.Rules {
		terms[i] = fmt.Sprintf("((%s) ? [] : [%s])", r.CEL(), celString(r.Message()))
	}
	return strings.Join(terms, " + ")
}

// usabilityCEL is who may use a PSP as a condition on the request's
// namespace, the pod's service account and the requesting user.
func usabilityCEL(u *rbac.Usability) string {
	if u == nil {
		return "false"
	}
	var terms []string
	if len(u.Namespaces) > 0 {
		terms = append(terms, "request.namespace in "+celStrings(u.Namespaces))
	}
	if len(u.ServiceAccounts) > 0 {
		terms = append(terms, "variables.serviceAccount in "+celStrings(u.ServiceAccounts))
	}
	for _, g := range requesterGrants(u) {
		// A request may carry no user name or groups (engines' offline
		// tests, anonymous requests): the fields are then absent, and
		// reading them plainly would be an evaluation error, which the
		// policy's failurePolicy turns into a denial.
		who := "request.userInfo.?username.orValue(\"\") == " + celString(g.Name)
		if g.Kind == "Group" {
			who = celString(g.Name) + " in request.userInfo.?groups.orValue([])"
		}
		if !g.Everywhere() {
			who = "(request.namespace in " + celStrings(g.Namespaces) + " && " + who + ")"
		}
		terms = append(terms, who)
	}
	return celOr(terms)
}
