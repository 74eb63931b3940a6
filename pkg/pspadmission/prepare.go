package pspadmission

import (
	"hash/fnv"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// ServiceAccount admission (v1.24) constants.
const (
	defaultServiceAccountName = "default"
	// tokenVolumePrefix starts the name of the projected token volume; the
	// plugin appends five random characters.
	tokenVolumePrefix = "kube-api-access-"
	tokenMountPath    = "/var/run/secrets/kubernetes.io/serviceaccount"
	// tokenExpirationSeconds is what the plugin requests: one hour plus
	// seven seconds, the marker of a token kube-apiserver extends.
	tokenExpirationSeconds = 3607
	mirrorPodAnnotation    = "kubernetes.io/config.mirror"
)

// Prepare returns the pod as the v1.24 PSP admission plugin sees it on
// CREATE: a copy with the API defaults that PSP decisions depend on, then
// the ServiceAccount admission plugin's changes (it runs before PSP). Use it
// for pods that did not come from the API server: controller templates and
// manifests. pod is not modified.
//
// Defaults applied (pkg/apis/core/v1 SetDefaults_*): serviceAccountName from
// the deprecated serviceAccount field; with hostNetwork, every container and
// init container port without a hostPort gets hostPort = containerPort (so a
// PSP's hostPorts ranges apply); an empty pod securityContext; a volume
// without any source known to v1.24 becomes an emptyDir (the v1.24 decoder
// drops newer sources and defaulting fills the gap); downward API field
// references default to apiVersion v1; and the defaults that only show in
// the stored object (port protocol, volume file modes, hostPath type,
// projected token lifetime). Other defaults (DNS policy, probes, ...) are
// not applied: no PSP looks at them.
//
// An empty supplementalGroups list stays empty (it counts as set, so a
// MustRunAs PSP rejects instead of defaulting it), as when a manifest is
// sent as JSON; a controller sends protobuf, which cannot tell an empty
// list from none.
//
// ServiceAccount admission, unless the pod is a mirror pod: an empty
// serviceAccountName becomes "default"; unless automountServiceAccountToken
// is false on the pod (or, when the pod does not say, on sa), every init and
// regular container without a mount at the token path gets one, and the pod
// gets a projected volume kube-api-access-<suffix> (token, kube-root-ca.crt,
// namespace). That volume is why PSPs whose volumes list lacks projected
// (and secret) reject every pod with a token. The suffix is derived from the
// pod's name instead of being random, so results are reproducible. When the
// pod has no imagePullSecrets it gets the service account's.
func Prepare(pod *corev1.Pod, sa *corev1.ServiceAccount) *corev1.Pod {
	if pod == nil {
		return nil
	}
	p := pod.DeepCopy()
	applyPodDefaults(p)
	admitServiceAccount(p, sa)
	// The v1 API always echoes serviceAccountName in the deprecated field.
	p.Spec.DeprecatedServiceAccount = p.Spec.ServiceAccountName
	return p
}

func applyPodDefaults(pod *corev1.Pod) {
	spec := &pod.Spec
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	if spec.HostNetwork {
		defaultHostNetworkPorts(spec.InitContainers)
		defaultHostNetworkPorts(spec.Containers)
	}
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			for j := range list[i].Ports {
				if list[i].Ports[j].Protocol == "" {
					list[i].Ports[j].Protocol = corev1.ProtocolTCP
				}
			}
		}
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if psp.VolumeFSType(&v.VolumeSource) == "" {
			v.VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		}
		defaultVolumeSource(&v.VolumeSource)
	}
}

func defaultHostNetworkPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			if containers[i].Ports[j].HostPort == 0 {
				containers[i].Ports[j].HostPort = containers[i].Ports[j].ContainerPort
			}
		}
	}
}

// defaultVolumeSource applies the volume source defaults that show in a
// stored pod: file modes, the hostPath type, the token lifetime and field
// reference versions.
func defaultVolumeSource(v *corev1.VolumeSource) {
	mode := func(m **int32, def int32) {
		if *m == nil {
			*m = &def
		}
	}
	// Every set source is defaulted, not only the first.
	if v.HostPath != nil && v.HostPath.Type == nil {
		t := corev1.HostPathUnset
		v.HostPath.Type = &t
	}
	if v.Secret != nil {
		mode(&v.Secret.DefaultMode, corev1.SecretVolumeSourceDefaultMode)
	}
	if v.ConfigMap != nil {
		mode(&v.ConfigMap.DefaultMode, corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if v.DownwardAPI != nil {
		mode(&v.DownwardAPI.DefaultMode, corev1.DownwardAPIVolumeSourceDefaultMode)
		defaultFieldRefs(v.DownwardAPI.Items)
	}
	if v.Projected != nil {
		mode(&v.Projected.DefaultMode, corev1.ProjectedVolumeSourceDefaultMode)
		for j := range v.Projected.Sources {
			src := &v.Projected.Sources[j]
			if src.DownwardAPI != nil {
				defaultFieldRefs(src.DownwardAPI.Items)
			}
			if t := src.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				hour := int64(3600)
				t.ExpirationSeconds = &hour
			}
		}
	}
}

func defaultFieldRefs(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		if f := items[i].FieldRef; f != nil && f.APIVersion == "" {
			f.APIVersion = "v1"
		}
	}
}

func admitServiceAccount(pod *corev1.Pod, sa *corev1.ServiceAccount) {
	// Mirror pods (static pods reported by a kubelet) are never changed and
	// may not reference a service account.
	if _, mirror := pod.Annotations[mirrorPodAnnotation]; mirror {
		return
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = defaultServiceAccountName
	}
	if shouldAutomount(pod, sa) {
		mountServiceAccountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && sa != nil && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(sa.ImagePullSecrets))
		for i, s := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets[i].Name = s.Name
		}
	}
}

// shouldAutomount: the pod's setting wins, then the service account's, and
// the default is to mount.
func shouldAutomount(pod *corev1.Pod, sa *corev1.ServiceAccount) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

func mountServiceAccountToken(pod *corev1.Pod) {
	volumeName := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, tokenVolumePrefix) {
			volumeName = v.Name
			break
		}
	}
	hasVolume := volumeName != ""
	if !hasVolume {
		volumeName = tokenVolumePrefix + nameSuffix(pod)
	}
	mount := corev1.VolumeMount{Name: volumeName, ReadOnly: true, MountPath: tokenMountPath}
	needsVolume := false
	// Ephemeral containers never get the token mount.
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if !hasMountAt(list[i].VolumeMounts, tokenMountPath) {
				list[i].VolumeMounts = append(list[i].VolumeMounts, mount)
				needsVolume = true
			}
		}
	}
	if !hasVolume && needsVolume {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name:         volumeName,
			VolumeSource: corev1.VolumeSource{Projected: tokenVolumeSource()},
		})
	}
}

func hasMountAt(mounts []corev1.VolumeMount, path string) bool {
	for _, m := range mounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

func tokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode := corev1.ProjectedVolumeSourceDefaultMode
	expiration := int64(tokenExpirationSeconds)
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: psp.ServiceAccountTokenPath, ExpirationSeconds: &expiration}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: psp.RootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{
				Items: []corev1.DownwardAPIVolumeFile{{
					Path:     psp.NamespaceFilePath,
					FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
				}},
			}},
		},
	}
}

// nameSuffix is five characters from the alphabet the API server's random
// names use, derived from the pod's identity.
func nameSuffix(pod *corev1.Pod) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	h.Write([]byte(pod.Namespace + "/" + pod.Name + "/" + pod.GenerateName))
	n := h.Sum64()
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[n%uint64(len(alphabet))]
		n /= uint64(len(alphabet))
	}
	return string(b)
}

// securityCopy copies a pod deeply enough that its annotations, security
// contexts and runtime class can be changed without touching pod.
func securityCopy(pod *corev1.Pod) *corev1.Pod {
	c := *pod
	if pod.Annotations != nil {
		c.Annotations = make(map[string]string, len(pod.Annotations)+1)
		for k, v := range pod.Annotations {
			c.Annotations[k] = v
		}
	}
	c.Spec.SecurityContext = pod.Spec.SecurityContext.DeepCopy()
	if pod.Spec.RuntimeClassName != nil {
		name := *pod.Spec.RuntimeClassName
		c.Spec.RuntimeClassName = &name
	}
	copyList := func(in []corev1.Container) []corev1.Container {
		if in == nil {
			return nil
		}
		out := make([]corev1.Container, len(in))
		copy(out, in)
		for i := range out {
			out[i].SecurityContext = in[i].SecurityContext.DeepCopy()
		}
		return out
	}
	c.Spec.InitContainers = copyList(pod.Spec.InitContainers)
	c.Spec.Containers = copyList(pod.Spec.Containers)
	if pod.Spec.EphemeralContainers != nil {
		c.Spec.EphemeralContainers = make([]corev1.EphemeralContainer, len(pod.Spec.EphemeralContainers))
		copy(c.Spec.EphemeralContainers, pod.Spec.EphemeralContainers)
		for i := range c.Spec.EphemeralContainers {
			c.Spec.EphemeralContainers[i].SecurityContext = pod.Spec.EphemeralContainers[i].SecurityContext.DeepCopy()
		}
	}
	return &c
}

// PrepareForCreate returns pod as the v1.24 API server stores it after
// admission, as far as security fields go (see prepareForCreate): for pods
// changed by another engine's mutation, to compare with this model's.
func PrepareForCreate(pod *corev1.Pod) *corev1.Pod {
	out := pod.DeepCopy()
	prepareForCreate(out)
	return out
}

// Stored reports whether pod was read back from an API server: only the
// server assigns metadata.uid. A pod without one (a manifest in Git, Helm
// output, a pod about to be created) has not been through admission, so
// defaulting, ServiceAccount admission and the registry's changes are
// still ahead of it.
func Stored(pod *corev1.Pod) bool { return pod.UID != "" }

// ValidatingView returns pod as validating admission (PodSecurity,
// validating webhooks, CEL admission policies) sees it when it is created
// on a v1.<minor> API server: Prepare's defaults and ServiceAccount
// admission, then what the pod registry's PrepareForCreate does to
// security fields on that minor (see AtValidation). A stored pod (see
// Stored) is returned as it is: it has been through all of that. pod is not
// modified; the result may share memory with it.
//
// PodSecurityPolicy's mutations are not applied: this is the view of the
// admission that replaces PSP.
func ValidatingView(pod *corev1.Pod, sa *corev1.ServiceAccount, minor int) *corev1.Pod {
	if pod == nil || Stored(pod) {
		return pod
	}
	return AtValidation(Prepare(pod, sa), minor)
}

// AtValidation returns prepared (a pod as mutating admission leaves it, e.g.
// Prepare's result) after the pod registry's PrepareForCreate on a
// v1.<minor> API server, as far as the Pod Security Standards and the
// converted policies look:
//
//   - the seccomp annotation -> field sync (pod and each container; only a
//     missing field is derived): v1.19 to v1.26. The field -> annotation
//     direction: v1.19 to v1.24. From v1.27 neither: an annotation-only
//     pod has no seccomp profile at all.
//   - procMount: with the ProcMountType feature gate off (its default up
//     to v1.32) a container's procMount becomes Default.
//   - appArmorProfile fields do not exist before v1.30; such a server
//     drops them when decoding the pod. From v1.30 (not for Windows pods),
//     per container: a container AppArmor annotation without the
//     container's field becomes that field (unless it equals the pod's
//     field); v1.30 to v1.33 also write the annotation of a container
//     without one from its field, else from the pod's field
//     (kubernetes#131989 stopped that in v1.34).
//
// prepared is returned unchanged when none of this applies (no copy);
// otherwise a copy is changed. prepared is not modified.
func AtValidation(prepared *corev1.Pod, minor int) *corev1.Pod {
	if prepared == nil || !prepareForCreateAt(prepared, minor, false) {
		return prepared
	}
	out := securityCopy(prepared)
	prepareForCreateAt(out, minor, true)
	return out
}

// The minor versions where the pod registry's behaviour changes.
const (
	// seccompFieldsSince: the seccompProfile fields and the sync (v1.19).
	seccompFieldsSince = 19
	// seccompFieldToAnnotationUntil: v1.25 stopped writing annotations
	// from fields (kubernetes#109819).
	seccompFieldToAnnotationUntil = 24
	// seccompAnnotationToFieldUntil: v1.27 made the annotations
	// non-functional (kubernetes#114947).
	seccompAnnotationToFieldUntil = 26
	// procMountTypeDefaultSince: the ProcMountType gate is on by default
	// from v1.33 (alpha from v1.12, beta but off in v1.31 and v1.32).
	procMountTypeDefaultSince = 33
	// appArmorFieldsSince: the appArmorProfile fields and their sync
	// (v1.30).
	appArmorFieldsSince = 30
	// appArmorFieldToAnnotationUntil: v1.34 stopped writing annotations
	// from fields (kubernetes#131989).
	appArmorFieldToAnnotationUntil = 33
)

// prepareForCreate applies, in place, what the v1.24 pod registry does to
// every pod between mutating and validating admission (PrepareForCreate) as
// far as security fields go: the seccomp field and the legacy annotations
// are synced in both directions (whichever is missing is derived from the
// other, pod and each container), and a container's procMount, with the
// ProcMountType feature gate off by default, is forced to Default. The pod
// must be a securityCopy (or otherwise owned).
func prepareForCreate(pod *corev1.Pod) {
	prepareForCreateAt(pod, 24, true)
}

// prepareForCreateAt is PrepareForCreate of a v1.<minor> pod registry (see
// AtValidation). With write false it only reports whether it would change
// the pod; with write true it changes it, in place (the pod must be owned),
// and reports whether it did.
func prepareForCreateAt(pod *corev1.Pod, minor int, write bool) bool {
	changed := false
	setAnnotation := func(k, v string) {
		changed = true
		if !write {
			return
		}
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[k] = v
	}
	syncSeccomp := minor >= seccompFieldsSince && minor <= seccompAnnotationToFieldUntil
	toAnnotation := minor >= seccompFieldsSince && minor <= seccompFieldToAnnotationUntil
	dropProcMount := minor < procMountTypeDefaultSince
	dropAppArmor := minor < appArmorFieldsSince
	syncAppArmor := !dropAppArmor && (pod.Spec.OS == nil || pod.Spec.OS.Name != corev1.Windows)
	appArmorToAnnotation := minor <= appArmorFieldToAnnotationUntil
	var podAppArmor *corev1.AppArmorProfile
	if sc := pod.Spec.SecurityContext; sc != nil {
		podAppArmor = sc.AppArmorProfile
	}

	if sc := pod.Spec.SecurityContext; dropAppArmor && sc != nil && sc.AppArmorProfile != nil {
		changed = true
		if write {
			sc.AppArmorProfile = nil
		}
	}
	if syncSeccomp {
		annotation, hasAnnotation := pod.Annotations[psp.SeccompPodAnnotation]
		sc := pod.Spec.SecurityContext
		hasField := sc != nil && sc.SeccompProfile != nil
		switch {
		case hasField && !hasAnnotation && toAnnotation:
			if a := seccompAnnotationForField(sc.SeccompProfile); a != "" {
				setAnnotation(psp.SeccompPodAnnotation, a)
			}
		case hasAnnotation && !hasField:
			if f := psp.SeccompProfileForAnnotation(annotation); f != nil {
				changed = true
				if write {
					if pod.Spec.SecurityContext == nil {
						pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
					}
					pod.Spec.SecurityContext.SeccompProfile = f
				}
			}
		}
	}
	visitContainers(&pod.Spec, func(c *corev1.Container, _ ctrPath) {
		if syncSeccomp {
			key := psp.SeccompContainerAnnotationPrefix + c.Name
			annotation, hasAnnotation := pod.Annotations[key]
			hasField := c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil
			switch {
			case hasField && !hasAnnotation && toAnnotation:
				if a := seccompAnnotationForField(c.SecurityContext.SeccompProfile); a != "" {
					setAnnotation(key, a)
				}
			case hasAnnotation && !hasField:
				if f := psp.SeccompProfileForAnnotation(annotation); f != nil {
					changed = true
					if write {
						if c.SecurityContext == nil {
							c.SecurityContext = &corev1.SecurityContext{}
						}
						c.SecurityContext.SeccompProfile = f
					}
				}
			}
		}
		if syncAppArmor {
			key := psp.AppArmorContainerAnnotationPrefix + c.Name
			annotation, hasAnnotation := pod.Annotations[key]
			var field *corev1.AppArmorProfile
			if c.SecurityContext != nil {
				field = c.SecurityContext.AppArmorProfile
			}
			switch {
			case !hasAnnotation && appArmorToAnnotation:
				from := field
				if from == nil {
					from = podAppArmor
				}
				if a := appArmorAnnotationForField(from); a != "" {
					setAnnotation(key, a)
				}
			case hasAnnotation && field == nil:
				if f := appArmorFieldForAnnotation(annotation); f != nil && !reflect.DeepEqual(f, podAppArmor) {
					changed = true
					if write {
						if c.SecurityContext == nil {
							c.SecurityContext = &corev1.SecurityContext{}
						}
						c.SecurityContext.AppArmorProfile = f
					}
				}
			}
		}
		sc := c.SecurityContext
		if sc == nil {
			return
		}
		if dropProcMount && sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
			changed = true
			if write {
				d := corev1.DefaultProcMount
				sc.ProcMount = &d
			}
		}
		if dropAppArmor && sc.AppArmorProfile != nil {
			changed = true
			if write {
				sc.AppArmorProfile = nil
			}
		}
	})
	return changed
}

// appArmorAnnotationForField is the legacy annotation value of an
// appArmorProfile field; "" for none or one without a name.
func appArmorAnnotationForField(f *corev1.AppArmorProfile) string {
	if f == nil {
		return ""
	}
	switch f.Type {
	case corev1.AppArmorProfileTypeUnconfined:
		return psp.AppArmorProfileUnconfined
	case corev1.AppArmorProfileTypeRuntimeDefault:
		return psp.AppArmorProfileRuntimeDefault
	case corev1.AppArmorProfileTypeLocalhost:
		if f.LocalhostProfile != nil && *f.LocalhostProfile != "" {
			return psp.AppArmorLocalhostProfilePrefix + *f.LocalhostProfile
		}
	}
	return ""
}

// appArmorFieldForAnnotation is the inverse; nil for values the API server
// would not copy (unknown, or a localhost profile without a name).
func appArmorFieldForAnnotation(a string) *corev1.AppArmorProfile {
	switch {
	case a == psp.AppArmorProfileUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case a == psp.AppArmorProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case strings.HasPrefix(a, psp.AppArmorLocalhostProfilePrefix):
		if name := strings.TrimPrefix(a, psp.AppArmorLocalhostProfilePrefix); name != "" {
			return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
		}
	}
	return nil
}
