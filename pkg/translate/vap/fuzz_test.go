package vap

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func FuzzRenderVAP(f *testing.F) { enginetest.FuzzRender(f, Engine{}) }
