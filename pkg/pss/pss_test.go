package pss

import (
	"testing"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
)

func TestMinor(t *testing.T) {
	latest := buildinfo.LatestPSSVersion()
	tests := []struct {
		version string
		want    int
		wantErr bool
	}{
		{version: "v1.24", want: 24},
		{version: "v1.30", want: 30},
		{version: "latest", want: latest.Minor()},
		{version: "1.24", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got, err := Minor(tt.version)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Minor(%q) error = %v, want error %v", tt.version, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Minor(%q) = %d, want %d", tt.version, got, tt.want)
			}
			if tt.wantErr {
				return
			}
			e, err := NewEvaluator(tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if e.Minor() != tt.want {
				t.Errorf("Evaluator(%q).Minor() = %d, want %d", tt.version, e.Minor(), tt.want)
			}
		})
	}
	if latest.Minor() < 30 {
		t.Errorf("latest minor %d: the vendored checks are older than the project supports", latest.Minor())
	}
}
