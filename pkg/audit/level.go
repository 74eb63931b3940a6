package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// PSPLevel is the Pod Security Standard level closest to one PSP.
type PSPLevel struct {
	Name string `json:"name"`
	// Level is the strictest PSS level that admits everything the PSP
	// admits, as far as the probes tell: enforcing it loses no pod the PSP
	// lets in.
	Level string `json:"level"`
	// Looser lists what the PSP admits that the next stricter level
	// forbids, the reasons it is not that level; empty for restricted.
	Looser []string `json:"looser,omitempty"`
}

// ClosestLevels tells, for each PSP, the closest PSS level of version. It
// uses the audit's probe pods (one thing each that a PSP may forbid): the
// PSS library says which level each probe meets, the PSP rule model says
// whether the PSP admits it, and the PSP's level is the least strict level
// among the probes it admits. Neither side is written out by hand.
func ClosestLevels(psps []psp.PodSecurityPolicy, version string) ([]PSPLevel, error) {
	eval, err := pss.NewEvaluator(version)
	if err != nil {
		return nil, err
	}
	c := newProtectionChecker(eval, psps)
	out := make([]PSPLevel, 0, len(psps))
	for i := range psps {
		pol := c.policies[psps[i].Name]
		probes := append(slices.Clone(c.fixed), rangeProbes([]translate.Policy{pol})...)
		level := pss.Restricted
		var admitted []*probe
		for j := range probes {
			p := &probes[j]
			if p.unlessLost != "" || forbids(&pol, p) {
				continue
			}
			admitted = append(admitted, p)
			if l := c.level(p); pss.Compare(l, level) < 0 {
				level = l
			}
		}
		res := PSPLevel{Name: psps[i].Name, Level: level}
		if next := stricter(level); next != "" {
			res.Looser = looser(c, admitted, next)
		}
		out = append(out, res)
	}
	return out, nil
}

// looser words what the admitted probes do that level forbids, one entry
// per dimension: "adding capabilities NET_ADMIN, SYS_ADMIN".
func looser(c *protectionChecker, admitted []*probe, level string) []string {
	var order []string
	whats := map[string]string{}
	items := map[string][]string{}
	for _, p := range admitted {
		if pss.Compare(c.level(p), level) >= 0 {
			continue
		}
		if _, ok := whats[p.dimension]; !ok {
			order = append(order, p.dimension)
			whats[p.dimension] = p.what
		}
		if p.item != "" {
			items[p.dimension] = append(items[p.dimension], p.item)
		}
	}
	out := make([]string, 0, len(order))
	for _, d := range order {
		what, its := whats[d], items[d]
		if len(its) > maxItemsInMessage {
			its = append(its[:maxItemsInMessage:maxItemsInMessage], fmt.Sprintf("+%d more", len(items[d])-maxItemsInMessage))
		}
		if len(its) > 0 {
			what += " " + strings.Join(its, ", ")
		}
		out = append(out, what)
	}
	return out
}

// stricter is the next stricter level, "" above restricted.
func stricter(level string) string {
	switch level {
	case pss.Privileged:
		return pss.Baseline
	case pss.Baseline:
		return pss.Restricted
	}
	return ""
}
