package pspadmission

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The admission errors are plain strings rendered the way kube-apiserver
// v1.24 rendered them. It was built with k8s.io/apimachinery v0.24, whose
// field.Error printed scalars with %v, strings quoted, nil (or a nil pointer)
// as the quoted word "null" and everything else with %#v of the internal API
// types (so capability lists read []core.Capability{...}). The apimachinery
// this project builds with renders composite values as JSON instead, so the
// texts are produced here; the end-to-end suite compares them with a real
// server's rejection messages.

func errInvalid(path, value, detail string) string {
	if detail == "" {
		return path + ": Invalid value: " + value
	}
	return path + ": Invalid value: " + value + ": " + detail
}

func errRequired(path, detail string) string {
	if detail == "" {
		return path + ": Required value"
	}
	return path + ": Required value: " + detail
}

func errForbidden(path, detail string) string {
	if detail == "" {
		return path + ": Forbidden"
	}
	return path + ": Forbidden: " + detail
}

const nullValue = `"null"`

func strValue(s string) string { return strconv.Quote(s) }

func intValue(i int64) string { return strconv.FormatInt(i, 10) }

func boolValue(b bool) string { return strconv.FormatBool(b) }

func boolPtrValue(b *bool) string {
	if b == nil {
		return nullValue
	}
	return boolValue(*b)
}

// int64SliceValue is %#v of a []int64.
func int64SliceValue(v []int64) string {
	if v == nil {
		return "[]int64(nil)"
	}
	var b strings.Builder
	b.WriteString("[]int64{")
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(x, 10))
	}
	b.WriteString("}")
	return b.String()
}

// capSliceValue is %#v of the internal API's []core.Capability.
func capSliceValue(v []corev1.Capability) string {
	if v == nil {
		return "[]core.Capability(nil)"
	}
	var b strings.Builder
	b.WriteString("[]core.Capability{")
	for i, c := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(string(c)))
	}
	b.WriteString("}")
	return b.String()
}

func indexPath(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }
