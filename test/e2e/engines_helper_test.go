package e2e

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// predicting returns the engines called names, for a Predictor.
func predicting(t testing.TB, names ...string) []translate.Engine {
	t.Helper()
	out, err := engines.ByNames(names)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
