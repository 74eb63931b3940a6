// Package pss evaluates pod specs against the Pod Security Standards with
// k8s.io/pod-security-admission, the same checks the API server's PodSecurity
// admission runs, so the verdicts here are the verdicts the cluster gives.
package pss

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
)

// Level names, as in the namespace labels.
const (
	Privileged = string(api.LevelPrivileged)
	Baseline   = string(api.LevelBaseline)
	Restricted = string(api.LevelRestricted)
)

// Reason is one failed check, exactly as the library reports it.
type Reason struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// LevelResult is the verdict for one level.
type LevelResult struct {
	Allowed bool     `json:"allowed"`
	Reasons []Reason `json:"reasons"`
}

// Result is the verdict for one pod spec at every level.
type Result struct {
	// Version is the Pod Security Standards version evaluated ("latest" or "v1.x").
	Version string `json:"version"`
	// Level is the strictest level the spec meets.
	Level      string      `json:"level"`
	Baseline   LevelResult `json:"baseline"`
	Restricted LevelResult `json:"restricted"`
}

// Evaluator checks pod specs at one PSS version.
type Evaluator struct {
	version   api.Version
	versionIn string
	eval      policy.Evaluator
	minor     int // see Minor
}

// NewEvaluator returns an evaluator for version, "latest" or "v1.x".
func NewEvaluator(version string) (*Evaluator, error) {
	v, err := api.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("invalid Pod Security Standards version %q: %w", version, err)
	}
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("build Pod Security Standards checks: %w", err)
	}
	return &Evaluator{version: v, versionIn: version, eval: e, minor: minorOf(v)}, nil
}

// Version is the version string this evaluator was built for.
func (e *Evaluator) Version() string { return e.versionIn }

// Minor is the Kubernetes minor version the evaluated standards belong to
// (see Minor): the API server release whose admission a pod is prepared
// for before it is evaluated.
func (e *Evaluator) Minor() int { return e.minor }

// Minor returns the Kubernetes minor release a Pod Security Standards
// version names: N for "v1.N", and for "latest" the newest release the
// vendored checks know (buildinfo.LatestPSSVersion), which is what
// "latest" evaluates.
func Minor(version string) (int, error) {
	v, err := api.ParseVersion(version)
	if err != nil {
		return 0, fmt.Errorf("invalid Pod Security Standards version %q: %w", version, err)
	}
	return minorOf(v), nil
}

func minorOf(v api.Version) int {
	if v.Latest() {
		latest := buildinfo.LatestPSSVersion()
		return latest.Minor()
	}
	return v.Minor()
}

// Evaluate runs the baseline and restricted checks on one pod spec.
func (e *Evaluator) Evaluate(meta *metav1.ObjectMeta, spec *corev1.PodSpec) Result {
	r := Result{Version: e.versionIn}
	r.Baseline = e.level(api.LevelBaseline, meta, spec)
	r.Restricted = e.level(api.LevelRestricted, meta, spec)
	switch {
	case r.Restricted.Allowed:
		r.Level = Restricted
	case r.Baseline.Allowed:
		r.Level = Baseline
	default:
		r.Level = Privileged
	}
	return r
}

func (e *Evaluator) level(l api.Level, meta *metav1.ObjectMeta, spec *corev1.PodSpec) LevelResult {
	agg := policy.AggregateCheckResults(e.eval.EvaluatePod(api.LevelVersion{Level: l, Version: e.version}, meta, spec))
	out := LevelResult{Allowed: agg.Allowed, Reasons: make([]Reason, len(agg.ForbiddenReasons))}
	for i := range agg.ForbiddenReasons {
		out.Reasons[i] = Reason{Reason: agg.ForbiddenReasons[i], Detail: agg.ForbiddenDetails[i]}
	}
	return out
}

// Compare orders levels: negative when a is less strict than b.
func Compare(a, b string) int {
	return api.CompareLevels(api.Level(a), api.Level(b))
}

// Summary formats reasons the way PodSecurity admission words its
// warnings for a single pod: "reason (detail), reason".
func Summary(reasons []Reason) string {
	s := ""
	for i, r := range reasons {
		if i > 0 {
			s += ", "
		}
		s += r.Reason
		if r.Detail != "" {
			s += " (" + r.Detail + ")"
		}
	}
	return s
}
