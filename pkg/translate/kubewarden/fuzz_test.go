package kubewarden

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/test/translatetest/enginetest"
)

func FuzzRenderKubewarden(f *testing.F) { enginetest.FuzzRender(f, Engine{}) }
