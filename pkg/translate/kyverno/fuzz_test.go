package kyverno

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func FuzzRenderKyverno(f *testing.F) { enginetest.FuzzRender(f, Engine{}) }
