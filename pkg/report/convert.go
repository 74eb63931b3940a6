package report

import (
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pspadmission"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// The report copies what the model packages return into its own types,
// field by field, so that renaming or adding a field there cannot change
// the versioned JSON: the compiler stops at these functions instead. Lists
// of structs are copied; lists of strings and maps are shared, the report
// being built once and never changed in place. Every converter keeps a nil
// slice nil and an empty one empty, because the JSON says null for one and
// [] for the other.

// NewPSPVerdict copies a PSP admission decision; nil stays nil.
func NewPSPVerdict(r *pspadmission.Result) *PSPVerdict {
	if r == nil {
		return nil
	}
	return &PSPVerdict{
		Usable:           r.Usable,
		AdmittedBy:       r.AdmittedBy,
		Mutated:          r.Mutated,
		MutatedFields:    NewFieldChanges(r.MutatedFields),
		Errors:           r.Errors,
		Reason:           r.Reason,
		RejectedAfter:    r.RejectedAfter,
		ValidationErrors: r.ValidationErrors,
		Annotation:       r.Annotation,
		Drift:            r.Drift,
	}
}

// NewFieldChanges copies field changes.
func NewFieldChanges(in []pspadmission.FieldChange) []FieldChange {
	if in == nil {
		return nil
	}
	out := make([]FieldChange, len(in))
	for i, c := range in {
		out[i] = FieldChange{Path: c.Path, Before: c.Before, After: c.After}
	}
	return out
}

// NewPSSResult copies a Pod Security Standards verdict.
func NewPSSResult(r pss.Result) PSSResult {
	return PSSResult{
		Version:    r.Version,
		Level:      r.Level,
		Baseline:   newPSSLevel(r.Baseline),
		Restricted: newPSSLevel(r.Restricted),
	}
}

// NewPSSResultPtr is NewPSSResult for an optional verdict; nil stays nil.
func NewPSSResultPtr(r *pss.Result) *PSSResult {
	if r == nil {
		return nil
	}
	out := NewPSSResult(*r)
	return &out
}

func newPSSLevel(l pss.LevelResult) PSSLevel {
	out := PSSLevel{Allowed: l.Allowed}
	if l.Reasons != nil {
		out.Reasons = make([]PSSReason, len(l.Reasons))
		for i, r := range l.Reasons {
			out.Reasons[i] = PSSReason{Reason: r.Reason, Detail: r.Detail}
		}
	}
	return out
}

// NewPolicyVerdicts copies converted-policy verdicts.
func NewPolicyVerdicts(in []translate.PolicyVerdict) []PolicyVerdict {
	if in == nil {
		return nil
	}
	out := make([]PolicyVerdict, len(in))
	for i, v := range in {
		out[i] = PolicyVerdict{Engine: v.Engine, PSP: v.PSP, Allowed: v.Allowed, Reasons: v.Reasons}
	}
	return out
}

// NewDangerousGrants copies the RBAC findings.
func NewDangerousGrants(in []rbac.Finding) []DangerousGrant {
	if in == nil {
		return nil
	}
	out := make([]DangerousGrant, len(in))
	for i, f := range in {
		out[i] = DangerousGrant{PSP: f.PSP, Subject: f.Subject, Namespace: f.Namespace, Allows: f.Allows, Via: f.Via, Reason: f.Reason}
	}
	return out
}

// NewReadIssues copies what the inventory could not read.
func NewReadIssues(in []inventory.Issue) []ReadIssue {
	if in == nil {
		return nil
	}
	out := make([]ReadIssue, len(in))
	for i, is := range in {
		out[i] = ReadIssue{Resource: is.Resource, Namespace: is.Namespace, Verb: is.Verb, Message: is.Message}
	}
	return out
}

// String says what could not be read, in the inventory's words.
func (i ReadIssue) String() string {
	return inventory.Issue{Resource: i.Resource, Namespace: i.Namespace, Verb: i.Verb, Message: i.Message}.String()
}

// reasonSummary joins reasons the way pss.Summary does, so the tables word
// them as the rest of the tool does.
func reasonSummary(rs []PSSReason) string {
	in := make([]pss.Reason, len(rs))
	for i, r := range rs {
		in[i] = pss.Reason{Reason: r.Reason, Detail: r.Detail}
	}
	return pss.Summary(in)
}
