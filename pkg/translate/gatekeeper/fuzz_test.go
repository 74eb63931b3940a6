package gatekeeper

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func FuzzRenderGatekeeper(f *testing.F) { enginetest.FuzzRender(f, Engine{}) }
