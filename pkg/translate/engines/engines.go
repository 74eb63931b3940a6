// Package engines is the list of the engines `convert -e` knows: one
// explicit list, rather than engines registering themselves from init, so
// that what a build carries is read in one place and importing an engine
// has no side effect.
package engines

import (
	"fmt"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/gatekeeper"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/kubewarden"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/kyverno"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/kyvernocel"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/psa"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/vap"
)

// All returns every engine, sorted by name.
func All() []translate.Engine {
	return []translate.Engine{
		gatekeeper.Engine{},
		kubewarden.Engine{},
		kyverno.Engine{},
		kyvernocel.Engine{},
		psa.Engine{},
		vap.Engine{},
	}
}

// Names returns the name of every engine, sorted.
func Names() []string {
	return names(All())
}

// ByName returns the engine called name; the error lists the valid names.
func ByName(name string) (translate.Engine, error) {
	for _, e := range All() {
		if e.Name() == name {
			return e, nil
		}
	}
	return nil, fmt.Errorf("unknown engine %q: want one of %s", name, strings.Join(Names(), ", "))
}

// ByNames returns the engines called names, in that order.
func ByNames(names []string) ([]translate.Engine, error) {
	out := make([]translate.Engine, 0, len(names))
	for _, n := range names {
		e, err := ByName(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Predicting returns the engines with a per-pod prediction
// (translate.Predicts), sorted by name: what `audit -e` accepts.
func Predicting() []translate.Engine {
	var out []translate.Engine
	for _, e := range All() {
		if translate.Predicts(e) {
			out = append(out, e)
		}
	}
	return out
}

// PredictingNames returns the names of the Predicting engines, sorted.
func PredictingNames() []string {
	return names(Predicting())
}

// Components are the engines' version pins for `kubectl psp-migrate
// version`, sorted by name.
func Components() []buildinfo.Component {
	all := All()
	out := make([]buildinfo.Component, len(all))
	for i, e := range all {
		out[i] = buildinfo.Component{Name: e.Name(), Version: e.Component()}
	}
	return out
}

func names(list []translate.Engine) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Name()
	}
	return out
}
