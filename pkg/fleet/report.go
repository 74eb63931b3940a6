package fleet

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// APIVersion and Kind identify the fleet report format (docs/fleet.md).
// Keys are stable within an apiVersion: new keys may be added, none renamed
// or removed.
const (
	APIVersion = "psp-migrate/v1alpha1"
	Kind       = "FleetReport"
)

// Commands a fleet report can carry.
const (
	CommandAudit     = "audit"
	CommandReadiness = "readiness"
)

// Sources of a fleet: where its clusters were read from.
const (
	// SourceKubeconfig: live contexts of the kubeconfig.
	SourceKubeconfig = "kubeconfig"
	// SourceDirectory: --cluster-from-dir, one sub-directory per cluster.
	SourceDirectory = "directory"
)

// Error classes of a cluster that produced no report.
const (
	// ClassUnreachable: the API server could not be reached (refused,
	// DNS, TLS).
	ClassUnreachable = "unreachable"
	// ClassForbidden: the server refused the credentials (401, or 403 on
	// what every read needs).
	ClassForbidden = "forbidden"
	// ClassTimeout: the context outlived --context-timeout.
	ClassTimeout = "timeout"
	// ClassInvalid: anything else: a broken kubeconfig entry, unreadable
	// files, flags the cluster cannot honour (e.g. --engine vap on v1.24).
	ClassInvalid = "invalid"
)

// Verdicts of an audited cluster; readiness clusters keep readiness's own
// (READY, READY WITH WARNINGS, NOT READY), and a cluster without a report
// has its error class in upper case (UNREACHABLE, ...).
const (
	// VerdictPass: the audit is complete and no --fail-on condition matched.
	VerdictPass = "PASS"
	// VerdictFail: a --fail-on condition matched.
	VerdictFail = "FAIL"
	// VerdictIncomplete: the audit is partial and no --fail-on condition matched.
	VerdictIncomplete = "INCOMPLETE"
)

// Exit codes as documented in pkg/cmd/exit.go (this package cannot import
// it); a cluster's exitCode is what a single-context run would return.
const (
	exitOK         = 0
	exitError      = 1
	exitFindings   = 2
	exitIncomplete = 3
)

// severity orders exit codes for the fleet's own: a cluster that could not
// be judged at all is worst, then one with findings, then a partial one.
func severity(code int) int {
	switch code {
	case exitOK:
		return 0
	case exitIncomplete:
		return 1
	case exitFindings:
		return 2
	default:
		return 3
	}
}

// WorstExitCode is the exit code of the fleet: its clusters' worst, in the
// order error (1) > findings (2) > incomplete (3) > ok (0).
func WorstExitCode(codes ...int) int {
	worst := exitOK
	for _, c := range codes {
		if severity(c) > severity(worst) {
			worst = c
		}
	}
	return worst
}

// Report is the result of one command over many clusters.
type Report struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Summary    Summary  `json:"summary"`
	// Clusters are in the order of the selection (sorted by context).
	Clusters []Cluster `json:"clusters"`
}

// Metadata says what was run over the fleet.
type Metadata struct {
	ToolVersion string `json:"toolVersion"`
	// Command is audit or readiness: the kind of every cluster's report.
	Command string `json:"command"`
	// Source is "kubeconfig" (live contexts) or "directory"
	// (--cluster-from-dir, one sub-directory per cluster).
	Source string `json:"source"`
	// Selector is the --contexts terms; empty for every context.
	Selector []string `json:"selector,omitempty"`
}

// Cluster is one context's section of the fleet report.
type Cluster struct {
	// Context is the kubeconfig context, or the sub-directory name.
	Context string `json:"context"`
	// Server is the API server URL from the kubeconfig; empty offline.
	Server string `json:"server,omitempty"`
	// KubernetesVersion is the server's gitVersion ("v1.24.17"); empty
	// offline or when the server could not be asked.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Verdict: see VerdictPass; readiness's verdict; or the error class
	// in upper case.
	Verdict string `json:"verdict"`
	// ExitCode is what the command run against this context alone returns.
	ExitCode int `json:"exitCode"`
	// Counts are null when there is no report.
	Counts *Counts `json:"counts,omitempty"`
	// Blockers are what this cluster must fix before leaving PSP; the
	// summary's recurring[] is built from them.
	Blockers []Blocker `json:"blockers,omitempty"`
	// Error is set when there is no report.
	Error *Error `json:"error,omitempty"`
	// Report is the full report of a single-context run against this
	// context (AuditReport or ReadinessReport), byte for byte as its
	// -o json would print it, re-indented. A section built by AuditSection
	// or ReadinessSection holds it in spool instead, and leaves Report nil:
	// use ReportJSON.
	Report json.RawMessage `json:"report,omitempty"`

	// spool holds the report as the cluster's run printed it, unjoined:
	// megabytes per cluster that the fleet's JSON copies out once.
	spool *Spool
}

// ReportJSON is the cluster's report as JSON, wherever it is held; nil
// when there is none.
func (c *Cluster) ReportJSON() json.RawMessage {
	if c.spool != nil {
		return c.spool.Bytes()
	}
	return c.Report
}

// Counts are the figures a fleet table shows per cluster.
type Counts struct {
	// Workloads (audit) counts the workloads audited.
	Workloads int `json:"workloads,omitempty"`
	// ReliesOnMutation counts the workloads whose template a PSP mutates.
	ReliesOnMutation int `json:"reliesOnMutation"`
	// Incomplete counts what could not be read.
	Incomplete int `json:"incomplete"`
	// WorkloadsByLevel (audit) maps privileged/baseline/restricted to counts.
	WorkloadsByLevel map[string]int `json:"workloadsByLevel,omitempty"`
	// Blocking and Warnings (readiness) count checks by status;
	// BlockedWorkloads the workloads some blocking check names.
	Blocking         int `json:"blocking,omitempty"`
	Warnings         int `json:"warnings,omitempty"`
	BlockedWorkloads int `json:"blockedWorkloads,omitempty"`
}

// Error is why a cluster has no report.
type Error struct {
	// Class is unreachable, forbidden, timeout or invalid.
	Class   string `json:"class"`
	Message string `json:"message"`
}

// Blocker kinds.
const (
	BlockerCheck    = "check"
	BlockerChart    = "chart"
	BlockerImage    = "image"
	BlockerWorkload = "workload"
)

// Blocker is one thing a cluster must fix, named so that the same thing in
// another cluster has the same Kind and Name.
type Blocker struct {
	// Kind is check (a readiness check id), workload
	// (namespace/Kind/name), image (repository, no tag or digest) or chart
	// (the helm.sh/chart label without its version).
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Reason is why: the check title, "relies on PSP mutation", ...
	Reason string `json:"reason"`
}

// Summary is the fleet at a glance.
type Summary struct {
	Clusters int `json:"clusters"`
	// Ready counts clusters whose run returned 0; NotReady those with a
	// report and another code; Errors those without a report.
	Ready    int `json:"ready"`
	NotReady int `json:"notReady"`
	Errors   int `json:"errors"`
	// Verdicts counts clusters by verdict, error classes included
	// ("UNREACHABLE": 1).
	Verdicts map[string]int `json:"verdicts"`
	// ExitCode is the fleet's: the worst of the clusters' (WorstExitCode).
	ExitCode int `json:"exitCode"`
	// Recurring are the blockers found in two or more clusters, most
	// widespread first.
	Recurring []Recurrence `json:"recurring"`
}

// Recurrence is a blocker shared by several clusters.
type Recurrence struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Reasons are the distinct reasons given, sorted.
	Reasons []string `json:"reasons"`
	// Contexts are the clusters concerned, sorted.
	Contexts []string `json:"contexts"`
}

// ErrorCluster is the section of a cluster that produced no report.
func ErrorCluster(context, server, version, class string, err error) Cluster {
	return Cluster{
		Context: context, Server: server, KubernetesVersion: version,
		Verdict: strings.ToUpper(class), ExitCode: exitError,
		Error: &Error{Class: class, Message: err.Error()},
	}
}

// New assembles the report and its summary.
func New(meta Metadata, clusters []Cluster) *Report {
	r := &Report{APIVersion: APIVersion, Kind: Kind, Metadata: meta, Clusters: clusters}
	if r.Clusters == nil {
		r.Clusters = []Cluster{}
	}
	r.Summary = summarize(r.Clusters)
	return r
}

var blockerOrder = map[string]int{BlockerCheck: 0, BlockerChart: 1, BlockerImage: 2, BlockerWorkload: 3}

func summarize(clusters []Cluster) Summary {
	s := Summary{Clusters: len(clusters), Verdicts: map[string]int{}, Recurring: []Recurrence{}}
	type key struct{ kind, name string }
	seen := map[key]*Recurrence{}
	var codes []int
	for _, c := range clusters {
		s.Verdicts[c.Verdict]++
		codes = append(codes, c.ExitCode)
		switch {
		case c.Error != nil:
			s.Errors++
		case c.ExitCode == exitOK:
			s.Ready++
		default:
			s.NotReady++
		}
		for _, b := range c.Blockers {
			k := key{b.Kind, b.Name}
			r := seen[k]
			if r == nil {
				r = &Recurrence{Kind: b.Kind, Name: b.Name}
				seen[k] = r
			}
			if !slices.Contains(r.Contexts, c.Context) {
				r.Contexts = append(r.Contexts, c.Context)
			}
			if !slices.Contains(r.Reasons, b.Reason) {
				r.Reasons = append(r.Reasons, b.Reason)
			}
		}
	}
	s.ExitCode = WorstExitCode(codes...)
	for _, r := range seen {
		if len(r.Contexts) < 2 {
			continue
		}
		sort.Strings(r.Contexts)
		sort.Strings(r.Reasons)
		s.Recurring = append(s.Recurring, *r)
	}
	sort.Slice(s.Recurring, func(i, j int) bool {
		a, b := s.Recurring[i], s.Recurring[j]
		if len(a.Contexts) != len(b.Contexts) {
			return len(a.Contexts) > len(b.Contexts)
		}
		if a.Kind != b.Kind {
			return blockerOrder[a.Kind] < blockerOrder[b.Kind]
		}
		return a.Name < b.Name
	})
	return s
}

// String renders the recurrence's subject, "chart/ingress-nginx".
func (r Recurrence) String() string { return fmt.Sprintf("%s/%s", r.Kind, r.Name) }
