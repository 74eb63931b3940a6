package convert

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/rbac"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// impactExamples is how many denied pods convert names per engine.
const impactExamples = 5

// engineImpact is what one engine's converted policies would do to the pods
// running today.
type engineImpact struct {
	engine  string
	checked int // pods in covered namespaces
	denied  []deniedPod
	// perNamespace counts covered and denied pods by namespace.
	perNamespace map[string]*[2]int
}

type deniedPod struct {
	namespace, name, reason string
}

// impact tells, on diag, which running pods each engine's output would
// deny (the prediction `audit --engine` makes), and refuses to go on when
// an engine's output would deny every running pod of a namespace: piped
// into `kubectl apply` in enforce mode, such output breaks that namespace
// without a word (as a PSP granted only to system:authenticated once did,
// rendered as a policy no pod could use). --allow-deny-all overrides.
func impact(inv *inventory.Inventory, set *translate.PolicySet, renderers []translate.Engine, allowDenyAll bool, diag io.Writer) error {
	var predicted []translate.Engine
	for _, r := range renderers {
		if translate.Predicts(r) {
			predicted = append(predicted, r)
		}
	}
	if len(predicted) == 0 || len(inv.Pods) == 0 {
		return nil
	}
	pred, err := translate.NewSetPredictor(inv, set, predicted)
	if err != nil {
		return err
	}
	impacts := make([]*engineImpact, len(predicted))
	for i, e := range predicted {
		impacts[i] = &engineImpact{engine: e.Name(), perNamespace: map[string]*[2]int{}}
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		verdicts := pred.Pod(p, rbac.PodCreator(p, rbac.ControllerServiceAccounts))
		if verdicts == nil {
			continue // excluded namespace
		}
		for _, im := range impacts {
			c := im.perNamespace[p.Namespace]
			if c == nil {
				c = &[2]int{}
				im.perNamespace[p.Namespace] = c
			}
			c[0]++
			im.checked++
			if pred.Admitted(verdicts, im.engine) {
				continue
			}
			c[1]++
			im.denied = append(im.denied, deniedPod{p.Namespace, p.Name, firstReason(verdicts, im.engine)})
		}
	}
	var refusals []string
	for _, im := range impacts {
		if len(im.denied) == 0 {
			continue
		}
		examples := make([]string, 0, impactExamples)
		for _, d := range im.denied[:min(len(im.denied), impactExamples)] {
			examples = append(examples, fmt.Sprintf("%s/%s (%s)", d.namespace, d.name, d.reason))
		}
		more := ""
		if n := len(im.denied) - len(examples); n > 0 {
			more = fmt.Sprintf("; and %d more (see `kubectl psp-migrate audit --engine %s`)", n, im.engine)
		}
		fmt.Fprintf(diag, "Warning: %s: the converted policies would deny %d of the %d running pods they cover: %s%s\n",
			im.engine, len(im.denied), im.checked, strings.Join(examples, "; "), more)
		var all []string
		for _, ns := range slices.Sorted(maps.Keys(im.perNamespace)) {
			if c := im.perNamespace[ns]; c[1] == c[0] {
				all = append(all, fmt.Sprintf("%s (%d pods)", ns, c[0]))
			}
		}
		if len(all) > 0 {
			refusals = append(refusals, fmt.Sprintf("%s: every running pod of namespace(s) %s", im.engine, strings.Join(all, ", ")))
		}
	}
	if len(refusals) > 0 && !allowDenyAll {
		return fmt.Errorf("the converted policies would deny %s; nothing was written. Check the PSPs' RBAC grants (--scope rbac converts who may use each PSP today) and --psp, or pass --allow-deny-all to write them anyway",
			strings.Join(refusals, "; "))
	}
	return nil
}

// firstReason is the first reason of the engine's first denying verdict.
func firstReason(verdicts []translate.PolicyVerdict, engine string) string {
	for _, v := range verdicts {
		if v.Engine == engine && !v.Allowed && len(v.Reasons) > 0 {
			return v.Reasons[0]
		}
	}
	return "denied"
}
