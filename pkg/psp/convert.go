package psp

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// FromUnstructured converts a PSP read by the dynamic client or decoded from
// a file. Unknown fields are an error: a misspelt field in a security policy
// means its author believes something is enforced that is not.
func FromUnstructured(u *unstructured.Unstructured) (*PodSecurityPolicy, error) {
	p := &PodSecurityPolicy{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, p, true); err != nil {
		return nil, fmt.Errorf("decode PodSecurityPolicy %q: %w", u.GetName(), err)
	}
	return p, nil
}
