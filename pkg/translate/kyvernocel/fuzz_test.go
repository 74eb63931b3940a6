package kyvernocel

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func FuzzRenderKyvernoCEL(f *testing.F) { enginetest.FuzzRender(f, Engine{}) }
