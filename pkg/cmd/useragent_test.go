package cmd

import (
	"io"
	"runtime"
	"testing"

	"k8s.io/client-go/rest"
)

func TestSetVersionUserAgent(t *testing.T) {
	platform := " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
	tests := []struct {
		version string
		want    string
	}{
		{"v0.1.0", "kubectl-psp_migrate/v0.1.0" + platform},
		{"", "kubectl-psp_migrate/unknown" + platform},
	}
	t.Run("without setVersion", func(t *testing.T) {
		s := newSourceOptions(io.Discard)
		if got, want := s.configFlags.WrapConfigFn(&rest.Config{}).UserAgent, "kubectl-psp_migrate/unknown"+platform; got != want {
			t.Errorf("UserAgent = %q, want %q", got, want)
		}
	})
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			s := newSourceOptions(io.Discard)
			s.setVersion(tt.version)
			// The clients' constructor captured s by value; the agent must
			// reach it through the shared configFlags.
			if s.configFlags.WrapConfigFn == nil {
				t.Fatal("no WrapConfigFn on configFlags")
			}
			if got := s.configFlags.WrapConfigFn(&rest.Config{}).UserAgent; got != tt.want {
				t.Errorf("UserAgent = %q, want %q", got, tt.want)
			}
		})
	}
}
