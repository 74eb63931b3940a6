// Package report defines the versioned audit report — the JSON/YAML contract
// that CI gates read — and prints it as tables for people.
//
// Keys documented in docs/report.md are stable within an apiVersion: new keys
// may be added, none renamed or removed.
package report

// APIVersion and Kind identify the report format.
const (
	APIVersion = "psp-migrate/v1alpha1"
	Kind       = "AuditReport"
)

// AuditReport is the whole result of an audit.
type AuditReport struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Metadata    `json:"metadata"`
	Summary    Summary     `json:"summary"`
	Pods       []Pod       `json:"pods"`
	Workloads  []Workload  `json:"workloads"`
	Namespaces []Namespace `json:"namespaces"`
	// PSPs lists every PodSecurityPolicy read, with its validity and the
	// dangerous grants found; empty when no PSP is in play.
	PSPs []PSP `json:"psps"`
	// DangerousGrants are PSPs allowing privileged pods, host namespaces or
	// hostPath "/" that broad groups or controller identities may use.
	DangerousGrants []DangerousGrant `json:"dangerousGrants"`
	// Incomplete lists what could not be read.
	Incomplete []ReadIssue `json:"incomplete"`
	Warnings   []string    `json:"warnings,omitempty"`
}

// Metadata says what was audited and how.
type Metadata struct {
	// ToolVersion is the plugin version that wrote the report.
	ToolVersion string `json:"toolVersion"`
	// PSSVersion is the Pod Security Standards version evaluated.
	PSSVersion string `json:"pssVersion"`
	// Sources are "cluster" and/or the manifest files read.
	Sources []string `json:"sources"`
	// PSPAPIServed is false when the live cluster no longer serves
	// policy/v1beta1 PodSecurityPolicy (or no cluster was read).
	PSPAPIServed bool `json:"pspAPIServed"`
	// Namespace is set when the audit was limited to one namespace.
	Namespace string `json:"namespace,omitempty"`
	// Engines are the converted-policy engines evaluated (audit --engine).
	Engines []string `json:"engines,omitempty"`
}

// Summary counts workloads by the strictest level they meet.
type Summary struct {
	Pods       int `json:"pods"`
	Workloads  int `json:"workloads"`
	Namespaces int `json:"namespaces"`
	// WorkloadsByLevel maps privileged/baseline/restricted to counts.
	WorkloadsByLevel map[string]int `json:"workloadsByLevel"`
}

// ObjectRef names an object within the pod's namespace.
type ObjectRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Pod is the verdict for one running (or listed) pod.
type Pod struct {
	Namespace      string `json:"namespace"`
	Name           string `json:"name"`
	ServiceAccount string `json:"serviceAccount"`
	// Owner is the pod's controller (its controller ownerReference), or null.
	Owner *ObjectRef `json:"owner"`
	// Workload is the top-level owner the pod is grouped under (the pod
	// itself for bare and static pods).
	Workload ObjectRef `json:"workload"`
	// Static marks mirror pods of static pods, which the kubelet creates.
	Static bool      `json:"static,omitempty"`
	PSS    PSSResult `json:"pss"`
	// PSP is what PodSecurityPolicy admission does with this pod today;
	// null when no PSP is in play.
	PSP *PSPVerdict `json:"psp"`
	// Policies are the converted policies' verdicts (audit --engine), one
	// per engine and PSP considered for the pod; absent without --engine.
	Policies []PolicyVerdict `json:"policies,omitempty"`
}

// PSPVerdict is the PSP admission model's answer for a pod or template:
// usable PSPs, the one that admits it, and what it mutated. For running
// pods of a controller, mutatedFields also lists the security fields where
// the pod differs from its template: what the PSP injected and the template
// must set before a validate-only replacement takes over.
type PSPVerdict struct {
	// Usable lists the PSPs the requester or the pod's service account may
	// use in the pod's namespace, sorted by name.
	Usable []string `json:"usable"`
	// AdmittedBy is the PSP that admits the pod (the value of its
	// kubernetes.io/psp annotation); null when rejected.
	AdmittedBy *string `json:"admittedBy"`
	// Mutated is true when the admitting PSP changed security-relevant
	// fields beyond what the API server does to every pod anyway.
	Mutated bool `json:"mutated"`
	// MutatedFields lists those changes.
	MutatedFields []FieldChange `json:"mutatedFields"`
	// Errors holds, per usable PSP that failed the pod, its validation
	// errors in the server's wording.
	Errors map[string][]string `json:"errors,omitempty"`
	// Reason is the server's rejection message when the pod is rejected.
	Reason string `json:"reason,omitempty"`
	// RejectedAfter names the PSP that admitted the pod when a later step
	// of pod creation (RuntimeClass admission, pod validation, whose
	// errors ValidationErrors lists) rejects it; AdmittedBy is null then.
	RejectedAfter    string   `json:"rejectedAfter,omitempty"`
	ValidationErrors []string `json:"validationErrors,omitempty"`
	// Annotation is the pod's kubernetes.io/psp annotation, if any.
	Annotation string `json:"annotation,omitempty"`
	// Drift compares Annotation with the decision: "", "admitted-by-other",
	// "psp-missing" or "rejected-now" (docs/report.md).
	Drift string `json:"drift,omitempty"`
}

// FieldChange is one security field a PSP set: its path, the value before
// and the value after.
type FieldChange struct {
	Path   string `json:"path"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// PSSResult is the Pod Security Standards verdict for one pod spec at
// every level.
type PSSResult struct {
	// Version is the Pod Security Standards version evaluated ("latest" or "v1.x").
	Version string `json:"version"`
	// Level is the strictest level the spec meets.
	Level      string   `json:"level"`
	Baseline   PSSLevel `json:"baseline"`
	Restricted PSSLevel `json:"restricted"`
}

// PSSLevel is the verdict for one level.
type PSSLevel struct {
	Allowed bool        `json:"allowed"`
	Reasons []PSSReason `json:"reasons"`
}

// PSSReason is one failed Pod Security Standards check.
type PSSReason struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// PolicyVerdict is what one engine's converted policy says about one pod
// for one PSP.
type PolicyVerdict struct {
	// Engine is the -e value, e.g. "vap".
	Engine string `json:"engine"`
	// PSP names the PodSecurityPolicy whose converted rules were checked;
	// "" for the verdict of a pod that may use no converted PSP at all.
	PSP string `json:"psp"`
	// Allowed is true when the converted policy admits the pod through
	// this PSP.
	Allowed bool `json:"allowed"`
	// Reasons are the rules the pod fails, or why it may not use the PSP.
	Reasons []string `json:"reasons"`
}

// DangerousGrant is a `use` grant that opens a dangerous PSP to far more
// pods than intended.
type DangerousGrant struct {
	PSP     string `json:"psp"`
	Subject string `json:"subject"`
	// Namespace is where the grant applies; "" means every namespace.
	Namespace string `json:"namespace,omitempty"`
	// Allows lists what makes the PSP dangerous: "privileged",
	// "hostNetwork", "hostPID", "hostIPC", "hostPath /".
	Allows []string `json:"allows"`
	// Via is the binding and role, e.g.
	// "ClusterRoleBinding/psp-all -> ClusterRole/psp-privileged".
	Via    string `json:"via"`
	Reason string `json:"reason"`
}

// ReadIssue is something the read could not see, e.g. a resource the
// caller may not list.
type ReadIssue struct {
	// Resource is the resource type concerned, e.g. "podsecuritypolicies.policy".
	Resource string `json:"resource"`
	// Namespace is set when the problem is limited to one namespace.
	Namespace string `json:"namespace,omitempty"`
	// Verb is the verb that was refused, when the cause is authorization.
	Verb string `json:"verb,omitempty"`
	// Message explains the problem for a human.
	Message string `json:"message"`
}

// PSP is one PodSecurityPolicy as the audit found it.
type PSP struct {
	Name string `json:"name"`
	// Valid is false for a PSP the API server would reject, or that v1.24
	// admission cannot build; such a PSP is reported, never evaluated.
	Valid  bool     `json:"valid"`
	Errors []string `json:"errors,omitempty"`
	// Pods counts the pods this PSP admits today (by the model).
	Pods int `json:"pods"`
	// UsableEverywhere is true when every pod may use the PSP, through a
	// cluster-wide grant to every service account or to
	// system:authenticated (every requester has that group).
	UsableEverywhere bool `json:"usableEverywhere"`
	// AuthenticatedIn lists where a grant to system:authenticated lets
	// every pod use the PSP: "*" for every namespace.
	AuthenticatedIn []string `json:"authenticatedIn,omitempty"`
	// RequesterGrants are grants that reach a pod only through who creates
	// it (users, groups, controller identities), e.g. `Group devs (in
	// team-b)`. A bare pod is evaluated as created by an unknown
	// authenticated user, whom none of these reach.
	RequesterGrants []string `json:"requesterGrants,omitempty"`
}

// Workload is the verdict for one top-level owner: its pod template (when
// the owner is known) and every pod under it.
type Workload struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	// ServiceAccount is the template's service account (or the bare pod's).
	ServiceAccount string `json:"serviceAccount"`
	// Pods counts the pods grouped under this workload.
	Pods int `json:"pods"`
	// TemplateFound is false when pods name an owner the inventory lacks
	// (not listed, or a custom controller): only the pods were evaluated.
	TemplateFound bool `json:"templateFound"`
	// System marks workloads in system namespaces.
	System bool `json:"system,omitempty"`
	// PSS is the strictest level met by the template and every pod, with
	// the union of their failed checks.
	PSS PSSResult `json:"pss"`
	// TemplatePSS is the verdict for the pod template alone (what new pods
	// will be checked against after the upgrade); null for bare pods.
	TemplatePSS *PSSResult `json:"templatePSS"`
	// PSP is the admission model's answer for the template (as its
	// controller would submit it), or for a bare pod; null when no PSP is in
	// play or the template was not read.
	PSP *PSPVerdict `json:"psp"`
	// ReliesOnMutation is true when the template's admitting PSP mutates it
	// or any pod differs from the template in security fields: the workload
	// breaks under a validate-only replacement until the template is fixed.
	ReliesOnMutation bool `json:"reliesOnMutation"`
	// FieldsToSet are the security fields the PSP supplied, to set in the
	// template instead (path, template value, value the PSP gave).
	FieldsToSet []FieldChange `json:"fieldsToSet"`
	// Policies are the converted policies' verdicts for the template (for
	// a bare pod, the pod's); absent without --engine.
	Policies []PolicyVerdict `json:"policies,omitempty"`
	// RejectedBy lists the engines whose converted policies would reject
	// the template or any of its pods; absent without --engine.
	RejectedBy []string `json:"rejectedBy,omitempty"`
}

// Namespace is the verdict and recommendation for one namespace.
type Namespace struct {
	Name string `json:"name"`
	// System marks kube-system, kube-public, kube-node-lease (configurable).
	System bool `json:"system,omitempty"`
	// RecommendedLevel is the strictest level every workload here meets.
	RecommendedLevel string `json:"recommendedLevel"`
	// Labels are the Pod Security Admission labels to set.
	Labels map[string]string `json:"labels"`
	// CurrentLabels are the pod-security.kubernetes.io/* labels already set.
	CurrentLabels map[string]string `json:"currentLabels,omitempty"`
	// Conflicts names label keys whose current value differs from the
	// recommendation; they are reported, never silently overridden.
	Conflicts []LabelConflict `json:"conflicts,omitempty"`
	Workloads int             `json:"workloads"`
	Pods      int             `json:"pods"`
	// Found is false when objects name the namespace but no Namespace
	// object was read (e.g. files without Namespace manifests).
	Found bool `json:"found"`
	// RejectedToday lists the workloads PSP admission rejects today that
	// run no pod: they cannot be running, so RecommendedLevel ignores them
	// (they are counted in Workloads).
	RejectedToday []RejectedWorkload `json:"rejectedToday,omitempty"`
	// UsablePSPs are the PodSecurityPolicies usable in this namespace by
	// the model: the union of the usable lists of its pods and templates
	// and of a bare pod of each of its service accounts; absent when no
	// PSP is in play.
	UsablePSPs []string `json:"usablePSPs,omitempty"`
	// ProtectionLost lists what every usable PSP forbids today and
	// RecommendedLevel allows: what the switch to Pod Security Admission
	// stops preventing here.
	ProtectionLost []ProtectionLoss `json:"protectionLost,omitempty"`
}

// RejectedWorkload is a workload PSP admission rejects today, with no pod.
type RejectedWorkload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Level is the strictest PSS level its template meets, which the
	// namespace recommendation would otherwise have been held to.
	Level string `json:"level"`
	// Reason is PSP admission's rejection message.
	Reason string `json:"reason"`
}

// ProtectionLoss is one dimension (privileged, volumes, capabilities, ...)
// where the recommended level allows what every usable PSP forbids.
type ProtectionLoss struct {
	// Dimension is a stable identifier; docs/report.md lists them.
	Dimension string `json:"dimension"`
	// What describes what is no longer forbidden.
	What string `json:"what"`
	// Items are the values concerned, for dimensions with several
	// (capability names, volume types, sysctls, seccomp profiles).
	Items []string `json:"items,omitempty"`
	// PSPs are the usable PSPs, every one of which forbids it today.
	PSPs []string `json:"psps"`
	// Message says it all in one line.
	Message string `json:"message"`
}

// LabelConflict is a current label that differs from the recommendation.
type LabelConflict struct {
	Key         string `json:"key"`
	Current     string `json:"current"`
	Recommended string `json:"recommended"`
	// Effect explains what keeping the current value means.
	Effect string `json:"effect"`
}
