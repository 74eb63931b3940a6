// Package readiness answers the pre-upgrade question: can this cluster move
// past PodSecurityPolicy (removed in Kubernetes v1.25) to a chosen
// replacement now, and if not, what must be done, in what order?
//
// It reads an audit report (pkg/audit, with the replacement engine's
// predictions), the inventory it came from and, for a live cluster, what
// the server serves, and returns a verdict, the checks behind it and an
// ordered migration plan whose files `kubectl apply` and `kubectl patch`
// take as they are.
//
// The report is a versioned contract (docs/readiness.md): keys may be
// added within an apiVersion, none renamed or removed.
package readiness

// APIVersion and Kind identify the report format.
const (
	APIVersion = "psp-migrate/v1alpha1"
	Kind       = "ReadinessReport"
)

// Verdicts.
const (
	// Ready: no check blocks and none warns.
	Ready = "READY"
	// ReadyWithWarnings: no check blocks; some warn.
	ReadyWithWarnings = "READY WITH WARNINGS"
	// NotReady: some check blocks the upgrade.
	NotReady = "NOT READY"
)

// Check statuses. Only Block and Warn move the verdict; Manual rows list
// what the tool cannot see and someone must confirm, Info rows what is
// worth knowing.
const (
	Pass   = "PASS"
	Warn   = "WARN"
	Block  = "BLOCK"
	Manual = "MANUAL"
	Info   = "INFO"
)

// Report is the readiness verdict, its checks and the plan.
type Report struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	// Verdict is Ready, ReadyWithWarnings or NotReady.
	Verdict string  `json:"verdict"`
	Summary Summary `json:"summary"`
	// Checks are every check run, passing ones included, in a fixed order.
	Checks []Check `json:"checks"`
	// Plan is the ordered migration, each step with its commands and files.
	Plan []Step `json:"plan"`
	// Incomplete lists what could not be read; the verdict is then NotReady
	// and the exit code 3.
	Incomplete []string `json:"incomplete"`
	// Warnings are the audit's notes that bear on the verdict.
	Warnings []string `json:"warnings,omitempty"`
}

// Metadata says what was checked.
type Metadata struct {
	ToolVersion string   `json:"toolVersion"`
	Sources     []string `json:"sources"`
	// ClusterVersion is the live server's version ("v1.24"), "" offline.
	ClusterVersion string `json:"clusterVersion,omitempty"`
	// Target is the version the cluster is being moved to ("v1.25").
	Target string `json:"target"`
	// Engine is the replacement: psa, vap, kyverno, kyverno-cel,
	// gatekeeper or kubewarden.
	Engine string `json:"engine"`
	// PSSVersion is the Pod Security Standards version the workloads were
	// judged at: the target's, or the newest this build knows.
	PSSVersion string `json:"pssVersion"`
}

// Summary counts the checks by status and the workloads concerned.
type Summary struct {
	Block  int `json:"block"`
	Warn   int `json:"warn"`
	Manual int `json:"manual"`
	Pass   int `json:"pass"`
	Info   int `json:"info"`
	// Workloads counts the workloads the audit judged, so that
	// BlockedWorkloads reads as a share of them.
	Workloads int `json:"workloads"`
	// BlockedWorkloads counts the distinct workloads some blocking check
	// names.
	BlockedWorkloads int `json:"blockedWorkloads"`
}

// Check is one row of the readiness table.
type Check struct {
	// ID is stable across releases: scripts may key on it.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Status is Pass, Warn, Block, Manual or Info.
	Status string `json:"status"`
	// Count is the number of items concerned.
	Count int `json:"count"`
	// Items are the workloads, namespaces or objects concerned.
	Items []Item `json:"items"`
	// Detail says what the status means and what to do, in one paragraph.
	Detail string `json:"detail"`
	// Step is the plan step that deals with it (0: none).
	Step int `json:"step,omitempty"`
}

// Item is one thing a check concerns.
type Item struct {
	Namespace string `json:"namespace,omitempty"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	// Reason is why it is listed, e.g. the first rejection message.
	Reason string `json:"reason,omitempty"`
}

// String renders the item as "namespace/Kind/name".
func (i Item) String() string {
	if i.Namespace == "" {
		return i.Kind + "/" + i.Name
	}
	return i.Namespace + "/" + i.Kind + "/" + i.Name
}

// Step is one step of the migration plan.
type Step struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	// Folder is the step's folder under --output-dir, e.g. "02-observe".
	Folder string `json:"folder"`
	// Description says why and when, for a person.
	Description string `json:"description"`
	// Commands are what to run, in order, from the plan's directory.
	Commands []string `json:"commands"`
	// Files are written under the step's folder by --output-dir.
	Files []File `json:"files"`
}

// File is one file of a step, ready for `kubectl apply -f` or
// `kubectl patch --patch-file`.
type File struct {
	// Path is relative to the plan's directory, e.g.
	// "01-fix-templates/apps-deployment-web.yaml".
	Path string `json:"path"`
	// Description names what it is for.
	Description string `json:"description"`
	// Content is the file itself; it is written, not put in the report.
	Content []byte `json:"-"`
}
