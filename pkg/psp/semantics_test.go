package psp_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

func TestHostPathHasPrefix(t *testing.T) {
	for _, tt := range []struct {
		path, prefix string
		want         bool
	}{
		{"/foo", "/foo", true},
		{"/foo/", "/foo", true},
		{"/foo/bar", "/foo/", true},
		{"/foo", "/foo/", true},
		{"/foobar", "/foo", false},
		{"/fo", "/foo", false},
		{"/a", "/", true},
		{"/", "/", true},
		{"a", "/", false},
		{"/foo//x", "/foo", true},
		// One trailing slash is dropped from each side, no more: upstream's
		// quirk for prefixes ending in "//".
		{"/foo//", "/foo//", true},
		{"/foo/", "/foo//", false},
		{"/foo//x", "/foo//", true},
		{"/foo/x", "/foo//", false},
		{"/var/log/app", "/var/log", true},
		{"/var/logs", "/var/log", false},
	} {
		t.Run(tt.path+" under "+tt.prefix, func(t *testing.T) {
			if got := psp.HostPathHasPrefix(tt.path, tt.prefix); got != tt.want {
				t.Errorf("HostPathHasPrefix(%q, %q) = %t, want %t", tt.path, tt.prefix, got, tt.want)
			}
			if got := byMatchForm(tt.path, tt.prefix); got != tt.want {
				t.Errorf("HostPathPrefixMatch(%q) on %q = %t, want %t", tt.prefix, tt.path, got, tt.want)
			}
		})
	}
}

// byMatchForm evaluates HostPathPrefixMatch the way rendered policies do.
func byMatchForm(path, prefix string) bool {
	exact, hasExact, under := psp.HostPathPrefixMatch(prefix)
	return hasExact && path == exact || strings.HasPrefix(path, under)
}

// FuzzHostPathPrefix: allowedHostPaths prefixes and hostPath paths are user
// input; the form the policy languages render must agree with the match
// the admission model uses, whatever the strings.
func FuzzHostPathPrefix(f *testing.F) {
	for _, s := range [][2]string{
		{"/foo", "/foo"}, {"/foo/", "/foo//"}, {"/foo//", "/foo//"}, {"", ""}, {"/", ""},
		{"", "/"}, {"//", "/"}, {"a", "/"}, {"/foobar", "/foo"}, {"/foo/bar", "/foo/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, prefix string) {
		got := psp.HostPathHasPrefix(path, prefix)
		if form := byMatchForm(path, prefix); form != got {
			t.Fatalf("HostPathHasPrefix(%q, %q) = %t, the match form says %t", path, prefix, got, form)
		}
		if strings.HasPrefix(prefix, "/") && !psp.HostPathHasPrefix(prefix, prefix) {
			t.Fatalf("prefix %q does not cover itself", prefix)
		}
		if got && !psp.HostPathHasPrefix(path, "/") && strings.HasPrefix(path, "/") {
			t.Fatalf("%q is under %q but not under /", path, prefix)
		}
	})
}

func TestSELinuxLevelsEqual(t *testing.T) {
	for _, tt := range []struct {
		want, got string
		eq        bool
	}{
		{"s0:c1,c2", "s0:c2,c1", true},
		{"s0:c6,c0", "s0:c0,c6", true},
		{"s0:c1,c2", "s0:c1", false},
		{"s0", "s0", true},
		{"s0", "s0:c1", false},
		{"s0:c1,c1", "s0:c1,c2", false},
		{"s0:c1,c1", "s0:c1", false},
		{"", "", true},
		{"", "s0", false},
		{"s0:c1", "s1:c1", false},
		{"s0-s0:c0.c1023", "s0-s0:c0.c1023", true},
	} {
		t.Run(tt.want+" vs "+tt.got, func(t *testing.T) {
			if got := psp.SELinuxLevelsEqual(tt.want, tt.got); got != tt.eq {
				t.Errorf("SELinuxLevelsEqual(%q, %q) = %t, want %t", tt.want, tt.got, got, tt.eq)
			}
			if got := psp.SELinuxLevelsEqual(tt.got, tt.want); got != tt.eq {
				t.Errorf("SELinuxLevelsEqual(%q, %q) = %t, want %t (not symmetric)", tt.got, tt.want, got, tt.eq)
			}
		})
	}
}

// FuzzSELinuxLevelsEqual: levels come from PSPs and pods as they are
// written. The comparison is an equivalence, and reordering categories
// never changes it.
func FuzzSELinuxLevelsEqual(f *testing.F) {
	for _, s := range [][2]string{{"s0:c1,c2", "s0:c2,c1"}, {"s0", "s0:"}, {"", ":"}, {"s0:c1,,c2", "s0:,c1,c2"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !psp.SELinuxLevelsEqual(a, a) {
			t.Fatalf("%q does not equal itself", a)
		}
		if psp.SELinuxLevelsEqual(a, b) != psp.SELinuxLevelsEqual(b, a) {
			t.Fatalf("SELinuxLevelsEqual(%q, %q) is not symmetric", a, b)
		}
		if sens, cats, ok := strings.Cut(a, ":"); ok {
			list := strings.Split(cats, ",")
			slices.Reverse(list)
			if r := sens + ":" + strings.Join(list, ","); !psp.SELinuxLevelsEqual(a, r) {
				t.Fatalf("%q does not equal its reordering %q", a, r)
			}
		}
	})
}

func TestIsServiceAccountTokenProjection(t *testing.T) {
	token := corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}
	ca := corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}
	ns := corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
		Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
	}}}}
	for _, tt := range []struct {
		name    string
		sources []corev1.VolumeProjection
		want    bool
	}{
		{"injected", []corev1.VolumeProjection{token, ca, ns}, true},
		{"token alone", []corev1.VolumeProjection{token}, true},
		{"no sources", nil, true},
		{"audience", []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}}}, false},
		{"other path", []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t"}}}, false},
		{"other configmap", []corev1.VolumeProjection{token, {ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}}, false},
		{"secret", []corev1.VolumeProjection{token, {Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}, false},
		{"labels", []corev1.VolumeProjection{{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
			Path: "labels", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels"},
		}}}}}, false},
		{"namespace without fieldRef", []corev1.VolumeProjection{{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace"}}}}}, false},
		// The API server allows one source per projection; upstream checks
		// every one set all the same.
		{"token and foreign configmap in one projection", []corev1.VolumeProjection{{
			ServiceAccountToken: token.ServiceAccountToken,
			ConfigMap:           &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}},
		}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := psp.IsServiceAccountTokenProjection(&corev1.ProjectedVolumeSource{Sources: tt.sources}); got != tt.want {
				t.Errorf("IsServiceAccountTokenProjection = %t, want %t", got, tt.want)
			}
		})
	}
	if psp.IsServiceAccountTokenProjection(nil) {
		t.Error("a nil projection is not the token volume")
	}
}

func TestVolumeFSType(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    corev1.VolumeSource
		want psp.FSType
	}{
		{"hostPath", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}, psp.HostPath},
		{"projected", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}, psp.Projected},
		{"csi", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d"}}, psp.CSI},
		{"ephemeral", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}, psp.Ephemeral},
		{"cephfs", corev1.VolumeSource{CephFS: &corev1.CephFSVolumeSource{}}, psp.CephFS},
		{"first set wins, in upstream's order", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{}}, psp.HostPath},
		{"unknown to v1.24", corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}, ""},
		{"none", corev1.VolumeSource{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := psp.VolumeFSType(&tt.v); got != tt.want {
				t.Errorf("VolumeFSType = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVolumeFSTypes(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    corev1.VolumeSource
		want []psp.FSType
	}{
		{"one", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}, []psp.FSType{psp.Secret}},
		{"several, in upstream's order", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{}}, []psp.FSType{psp.HostPath, psp.Secret}},
		{"unknown to v1.24", corev1.VolumeSource{Image: &corev1.ImageVolumeSource{}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := psp.VolumeFSTypes(&tt.v); !slices.Equal(got, tt.want) {
				t.Errorf("VolumeFSTypes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSystemNamespaces(t *testing.T) {
	got := psp.SystemNamespaces()
	if want := []string{"kube-system", "kube-public", "kube-node-lease"}; !slices.Equal(got, want) {
		t.Fatalf("SystemNamespaces() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if psp.SystemNamespaces()[0] != "kube-system" {
		t.Error("a caller's change leaked into the shared list")
	}
}

func TestSortedCapabilities(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []corev1.Capability
		want []string
	}{
		{"nil", nil, nil},
		{"empty", []corev1.Capability{}, nil},
		{"sorted and unique", []corev1.Capability{"SYS_TIME", "NET_ADMIN", "SYS_TIME", "CHOWN"}, []string{"CHOWN", "NET_ADMIN", "SYS_TIME"}},
		{"as written", []corev1.Capability{"CAP_CHOWN", "chown", "CHOWN"}, []string{"CAP_CHOWN", "CHOWN", "chown"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := psp.SortedCapabilities(tt.in)
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("SortedCapabilities(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRanges(t *testing.T) {
	ids := []psp.IDRange{{Min: 1, Max: 10}, {Min: 100, Max: 100}}
	ports := []psp.HostPortRange{{Min: 80, Max: 80}, {Min: 8000, Max: 9000}}
	for _, tt := range []struct {
		n        int64
		id, port bool
	}{
		{n: 0}, {n: 1, id: true}, {n: 10, id: true}, {n: 11}, {n: 100, id: true}, {n: 101},
		{n: 80, port: true}, {n: 81}, {n: 8000, port: true}, {n: 8500, port: true}, {n: 9000, port: true}, {n: 9001},
	} {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			if got := psp.IDInRanges(tt.n, ids); got != tt.id {
				t.Errorf("IDInRanges(%d) = %t, want %t", tt.n, got, tt.id)
			}
			if got := psp.HostPortInRanges(int32(tt.n), ports); got != tt.port {
				t.Errorf("HostPortInRanges(%d) = %t, want %t", tt.n, got, tt.port)
			}
			if psp.IDInRanges(tt.n, nil) || psp.HostPortInRanges(int32(tt.n), nil) {
				t.Errorf("%d is in no range of an empty list", tt.n)
			}
		})
	}
}

func TestRuntimeClassAllowed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		allowed []string
		want    bool
	}{
		{"kata", []string{"kata", "gvisor"}, true},
		{"runc", []string{"kata"}, false},
		{"runc", []string{"*"}, true},
		{"", []string{"*"}, true},
		{"runc", nil, false},
	} {
		t.Run(tt.name+" in "+strings.Join(tt.allowed, ","), func(t *testing.T) {
			if got := psp.RuntimeClassAllowed(tt.name, tt.allowed); got != tt.want {
				t.Errorf("RuntimeClassAllowed(%q, %q) = %t, want %t", tt.name, tt.allowed, got, tt.want)
			}
		})
	}
}

func TestSeccompProfileForAnnotation(t *testing.T) {
	for _, tt := range []struct {
		annotation string
		want       *corev1.SeccompProfile
	}{
		{"runtime/default", &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		{"docker/default", &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		{"unconfined", &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
		{"localhost/profiles/audit.json", &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: new("profiles/audit.json")}},
		// No file: the server leaves the field unset.
		{"localhost/", nil},
		{"", nil},
		{"Unconfined", nil},
		{"docker/other", nil},
	} {
		t.Run(tt.annotation, func(t *testing.T) {
			got := psp.SeccompProfileForAnnotation(tt.annotation)
			if (got == nil) != (tt.want == nil) || got != nil && (got.Type != tt.want.Type || !equalPtr(got.LocalhostProfile, tt.want.LocalhostProfile)) {
				t.Errorf("SeccompProfileForAnnotation(%q) = %+v, want %+v", tt.annotation, got, tt.want)
			}
		})
	}
}

func equalPtr(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
