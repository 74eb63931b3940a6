package translate

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// TestVolumeSourceFields: the pod field each renderer tests for a volume
// type is the field psp.VolumeFSType reads for it, so a policy and the
// admission model name the same volumes.
func TestVolumeSourceFields(t *testing.T) {
	for _, s := range volumeSources {
		t.Run(s.field, func(t *testing.T) {
			var v corev1.VolumeSource
			if err := json.Unmarshal([]byte(`{"`+s.field+`": {}}`), &v); err != nil {
				t.Fatal(err)
			}
			if got := psp.VolumeFSType(&v); got != s.fsType {
				t.Errorf("a volume with field %q is %q to PSP admission, the renderers call it %q", s.field, got, s.fsType)
			}
		})
	}
}

// TestVolumeSourcesComplete: the renderers know every volume type PSP
// admission does, in its order.
func TestVolumeSourcesComplete(t *testing.T) {
	var all corev1.VolumeSource
	v := reflect.ValueOf(&all).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer {
			f.Set(reflect.New(f.Type().Elem()))
		}
	}
	var ours []psp.FSType
	for _, s := range volumeSources {
		ours = append(ours, s.fsType)
	}
	if got := psp.VolumeFSTypes(&all); !slices.Equal(got, ours) {
		t.Errorf("PSP admission knows %v, the renderers %v", got, ours)
	}
}
