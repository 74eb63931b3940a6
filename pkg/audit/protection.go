package audit

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/pss"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
)

// A namespace "loses protection" when something every PSP usable there
// forbids today is allowed by the Pod Security level recommended for it:
// after the switch, nothing stops a pod from doing it.
//
// Neither side is written out by hand. Each dimension is a probe pod: a
// pod that meets restricted in every respect but one. The PSS library says
// which levels admit the probe; the PSP rule model of pkg/translate (one
// rule per PSP field, the same the converters render) says which PSPs
// forbid it. Only the rules of the probe's own dimension are asked, so a
// PSP forbidding the probe for an unrelated reason does not count.

// probe is one pod that does one thing a PSP may forbid.
type probe struct {
	// dimension groups probes in the report ("capabilities", "volumes").
	dimension string
	// item names what this probe does within the dimension, for
	// dimensions with several probes ("NET_ADMIN", "nfs"); "" otherwise.
	item string
	// what describes the dimension for people ("privileged containers").
	what string
	// rules are the translate rule IDs that decide the dimension.
	rules []string
	// unlessLost skips the probe when the named dimension/item is already
	// lost: "hostPath outside the allowed prefixes" says nothing new when
	// hostPath volumes as a whole are.
	unlessLost string
	pod        *corev1.Pod
}

func (p *probe) key() string { return p.dimension + "/" + p.item }

// probeBase is a pod that meets restricted at every PSS version: each
// probe changes one thing in a copy of it.
func probeBase() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "probe"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:  "probe",
				Image: "probe",
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func newProbe(dimension, item, what string, rules []string, change func(p *corev1.Pod, c *corev1.Container)) probe {
	pod := probeBase()
	change(pod, &pod.Spec.Containers[0])
	return probe{dimension: dimension, item: item, what: what, rules: rules, pod: pod}
}

// linuxCapabilities are the capability names a container may add.
var linuxCapabilities = []string{
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
	"DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
	"LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT",
	"SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE",
	"SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
}

// probeSysctls are the sysctls some PSS version treats as safe (the PSS
// library decides which, per version) plus two that none does.
var probeSysctls = append(psp.SafeSysctls(),
	"net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
	"kernel.msgmax", "net.core.somaxconn")

// volumeProbe is a volume source of each PSP volume type, enough for the
// type to be recognised.
func volumeProbe(t psp.FSType) (corev1.VolumeSource, bool) {
	var v corev1.VolumeSource
	switch t {
	case psp.HostPath:
		v.HostPath = &corev1.HostPathVolumeSource{Path: "/"}
	case psp.EmptyDir:
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	case psp.GCEPersistentDisk:
		v.GCEPersistentDisk = &corev1.GCEPersistentDiskVolumeSource{PDName: "probe"}
	case psp.AWSElasticBlockStore:
		v.AWSElasticBlockStore = &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "probe"}
	case psp.GitRepo:
		v.GitRepo = &corev1.GitRepoVolumeSource{Repository: "probe"} //nolint:staticcheck // still a PSP volume type
	case psp.Secret:
		v.Secret = &corev1.SecretVolumeSource{SecretName: "probe"}
	case psp.NFS:
		v.NFS = &corev1.NFSVolumeSource{Server: "probe", Path: "/"}
	case psp.ISCSI:
		v.ISCSI = &corev1.ISCSIVolumeSource{TargetPortal: "probe", IQN: "probe"}
	case psp.Glusterfs:
		v.Glusterfs = &corev1.GlusterfsVolumeSource{EndpointsName: "probe", Path: "probe"}
	case psp.PersistentVolumeClaim:
		v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "probe"}
	case psp.RBD:
		v.RBD = &corev1.RBDVolumeSource{CephMonitors: []string{"probe"}, RBDImage: "probe"}
	case psp.FlexVolume:
		v.FlexVolume = &corev1.FlexVolumeSource{Driver: "psp-migrate.invalid/probe"}
	case psp.Cinder:
		v.Cinder = &corev1.CinderVolumeSource{VolumeID: "probe"}
	case psp.CephFS:
		v.CephFS = &corev1.CephFSVolumeSource{Monitors: []string{"probe"}}
	case psp.Flocker:
		v.Flocker = &corev1.FlockerVolumeSource{DatasetName: "probe"}
	case psp.DownwardAPI:
		v.DownwardAPI = &corev1.DownwardAPIVolumeSource{}
	case psp.FC:
		v.FC = &corev1.FCVolumeSource{WWIDs: []string{"probe"}}
	case psp.AzureFile:
		v.AzureFile = &corev1.AzureFileVolumeSource{SecretName: "probe", ShareName: "probe"}
	case psp.ConfigMap:
		v.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "probe"}}
	case psp.VsphereVolume:
		v.VsphereVolume = &corev1.VsphereVirtualDiskVolumeSource{VolumePath: "probe"}
	case psp.Quobyte:
		v.Quobyte = &corev1.QuobyteVolumeSource{Registry: "probe", Volume: "probe"}
	case psp.AzureDisk:
		v.AzureDisk = &corev1.AzureDiskVolumeSource{DiskName: "probe", DataDiskURI: "probe"}
	case psp.PhotonPersistentDisk:
		v.PhotonPersistentDisk = &corev1.PhotonPersistentDiskVolumeSource{PdID: "probe"}
	case psp.StorageOS:
		v.StorageOS = &corev1.StorageOSVolumeSource{VolumeName: "probe"}
	case psp.Projected:
		// Not a service account token: PSPs listing secret allowed those.
		v.Projected = &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "probe"}}}}}
	case psp.PortworxVolume:
		v.PortworxVolume = &corev1.PortworxVolumeSource{VolumeID: "probe"}
	case psp.ScaleIO:
		v.ScaleIO = &corev1.ScaleIOVolumeSource{Gateway: "probe", System: "probe", SecretRef: &corev1.LocalObjectReference{Name: "probe"}}
	case psp.CSI:
		v.CSI = &corev1.CSIVolumeSource{Driver: "probe.psp-migrate.invalid"}
	case psp.Ephemeral:
		v.Ephemeral = &corev1.EphemeralVolumeSource{}
	default:
		return v, false
	}
	return v, true
}

// volumeTypes are the PSP volume types probed, in the order PSP documents them.
var volumeTypes = []psp.FSType{
	psp.AzureFile, psp.Flocker, psp.FlexVolume, psp.HostPath, psp.EmptyDir, psp.GCEPersistentDisk,
	psp.AWSElasticBlockStore, psp.GitRepo, psp.Secret, psp.NFS, psp.ISCSI, psp.Glusterfs,
	psp.PersistentVolumeClaim, psp.RBD, psp.Cinder, psp.CephFS, psp.DownwardAPI, psp.FC, psp.ConfigMap,
	psp.VsphereVolume, psp.Quobyte, psp.AzureDisk, psp.PhotonPersistentDisk, psp.StorageOS, psp.Projected,
	psp.PortworxVolume, psp.ScaleIO, psp.CSI, psp.Ephemeral,
}

func withVolume(src corev1.VolumeSource, readOnly bool) func(p *corev1.Pod, c *corev1.Container) {
	return func(p *corev1.Pod, c *corev1.Container) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "probe", VolumeSource: src})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "probe", MountPath: "/probe", ReadOnly: readOnly})
	}
}

// Rule IDs of pkg/translate, by the PSP field they come from.
const (
	ruleVolumes        = "volumes"
	ruleHostPaths      = "allowedHostPaths"
	ruleHostPathsRO    = "allowedHostPaths.readOnly"
	ruleFlexVolumes    = "allowedFlexVolumes"
	ruleCSIDrivers     = "allowedCSIDrivers"
	ruleRunAsUser      = "runAsUser"
	ruleSELinux        = "seLinux"
	ruleAllowedCaps    = "allowedCapabilities"
	ruleRequiredDrop   = "requiredDropCapabilities"
	ruleReadOnlyRootFS = "readOnlyRootFilesystem"
	ruleNoEscalation   = "allowPrivilegeEscalation"
	ruleForbiddenSys   = "forbiddenSysctls"
	ruleUnsafeSys      = "allowedUnsafeSysctls"
	ruleProcMount      = "allowedProcMountTypes"
	ruleRuntimeClass   = "runtimeClass"
	ruleSeccomp        = "seccomp"
	ruleAppArmor       = "appArmor"
	ruleHostPorts      = "hostPorts"
	rulePrivileged     = "privileged"
)

// fixedProbes are the probes that do not depend on the PSPs compared.
func fixedProbes() []probe {
	var out []probe
	add := func(p probe) { out = append(out, p) }
	add(newProbe("privileged", "", "privileged containers", []string{rulePrivileged}, func(_ *corev1.Pod, c *corev1.Container) {
		c.SecurityContext.Privileged = ptr(true)
	}))
	for _, ns := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		add(newProbe(ns, "", ns+" pods", []string{ns}, func(p *corev1.Pod, _ *corev1.Container) {
			switch ns {
			case "hostNetwork":
				p.Spec.HostNetwork = true
			case "hostPID":
				p.Spec.HostPID = true
			case "hostIPC":
				p.Spec.HostIPC = true
			}
		}))
	}
	for _, t := range volumeTypes {
		src, _ := volumeProbe(t)
		add(newProbe("volumes", string(t), "volumes of type", []string{ruleVolumes}, withVolume(src, true)))
	}
	hostRoot := corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}
	p := newProbe("hostPath", "", "hostPath volumes outside the allowed path prefixes (e.g. /)", []string{ruleVolumes, ruleHostPaths}, withVolume(hostRoot, true))
	p.unlessLost = "volumes/" + string(psp.HostPath)
	add(p)
	p = newProbe("hostPathWritable", "", "writable hostPath volumes (e.g. / read-write)", []string{ruleVolumes, ruleHostPaths, ruleHostPathsRO}, withVolume(hostRoot, false))
	p.unlessLost = "hostPath/"
	add(p)
	flex, _ := volumeProbe(psp.FlexVolume)
	p = newProbe("flexVolumeDrivers", "", "flexVolume drivers not in allowedFlexVolumes", []string{ruleVolumes, ruleFlexVolumes}, withVolume(flex, true))
	p.unlessLost = "volumes/" + string(psp.FlexVolume)
	add(p)
	csi, _ := volumeProbe(psp.CSI)
	p = newProbe("csiDrivers", "", "inline CSI drivers not in allowedCSIDrivers", []string{ruleVolumes, ruleCSIDrivers}, withVolume(csi, true))
	p.unlessLost = "volumes/" + string(psp.CSI)
	add(p)
	for _, capName := range linuxCapabilities {
		add(newProbe("capabilities", capName, "adding capabilities", []string{ruleAllowedCaps}, func(_ *corev1.Pod, c *corev1.Container) {
			c.SecurityContext.Capabilities.Add = []corev1.Capability{corev1.Capability(capName)}
		}))
	}
	add(newProbe("requiredDropCapabilities", "", "keeping capabilities the PSPs drop", []string{ruleRequiredDrop}, func(_ *corev1.Pod, c *corev1.Container) {
		c.SecurityContext.Capabilities = nil
	}))
	add(newProbe("runAsRoot", "", "running as root (runAsUser: 0)", []string{ruleRunAsUser}, func(p *corev1.Pod, _ *corev1.Container) {
		p.Spec.SecurityContext.RunAsNonRoot = nil
		p.Spec.SecurityContext.RunAsUser = ptr(int64(0))
	}))
	add(newProbe("allowPrivilegeEscalation", "", "privilege escalation (allowPrivilegeEscalation: true)", []string{ruleNoEscalation}, func(_ *corev1.Pod, c *corev1.Container) {
		c.SecurityContext.AllowPrivilegeEscalation = ptr(true)
	}))
	add(newProbe("readOnlyRootFilesystem", "", "writable root filesystems", []string{ruleReadOnlyRootFS}, func(_ *corev1.Pod, c *corev1.Container) {
		c.SecurityContext.ReadOnlyRootFilesystem = ptr(false)
	}))
	add(newProbe("seLinux", "", "SELinux options other than the ones the PSPs set (e.g. level s0:c123,c456)", []string{ruleSELinux}, func(p *corev1.Pod, _ *corev1.Container) {
		p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c123,c456"}
	}))
	seccomp := func(item string, prof *corev1.SeccompProfile) {
		add(newProbe("seccomp", item, "seccomp profiles", []string{ruleSeccomp}, func(p *corev1.Pod, _ *corev1.Container) {
			p.Spec.SecurityContext.SeccompProfile = prof
		}))
	}
	seccomp("Unconfined", &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined})
	seccomp("none (unconfined on most nodes)", nil)
	seccomp("any Localhost profile", &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("psp-migrate-probe.json")})
	apparmor := func(item, annotation string, prof *corev1.AppArmorProfile) {
		add(newProbe("appArmor", item, "AppArmor profiles", []string{ruleAppArmor}, func(p *corev1.Pod, c *corev1.Container) {
			// Both spellings: older PSS versions read the annotation, newer
			// ones the field too.
			p.Annotations = map[string]string{psp.AppArmorContainerAnnotationPrefix + c.Name: annotation}
			c.SecurityContext.AppArmorProfile = prof
		}))
	}
	apparmor("unconfined", "unconfined", &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined})
	apparmor("any localhost profile", "localhost/psp-migrate-probe", &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: ptr("psp-migrate-probe")})
	for _, name := range probeSysctls {
		add(newProbe("sysctls", name, "sysctls", []string{ruleForbiddenSys, ruleUnsafeSys}, func(p *corev1.Pod, _ *corev1.Container) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: name, Value: "1"}}
		}))
	}
	add(newProbe("procMount", "", "unmasked /proc (procMount: Unmasked)", []string{ruleProcMount}, func(_ *corev1.Pod, c *corev1.Container) {
		c.SecurityContext.ProcMount = ptr(corev1.UnmaskedProcMount)
	}))
	add(newProbe("runtimeClass", "", "runtime classes not in allowedRuntimeClassNames", []string{ruleRuntimeClass}, func(p *corev1.Pod, _ *corev1.Container) {
		p.Spec.RuntimeClassName = ptr("psp-migrate-probe")
	}))
	return out
}

// rangeProbes are the probes whose value depends on the PSPs: a host port,
// a UID, a group ID that none of them allows. Without such a value there
// is nothing every PSP forbids, and no probe.
func rangeProbes(pols []translate.Policy) []probe {
	var out []probe
	var portRanges [][2]int64
	unlimited := false
	for _, pol := range pols {
		r, ok := findRule[translate.HostPorts](pol)
		if !ok {
			unlimited = true
			break
		}
		for _, pr := range r.Ranges {
			portRanges = append(portRanges, [2]int64{int64(pr.Min), int64(pr.Max)})
		}
	}
	if !unlimited {
		if port, ok := outside(portRanges, 1, 65535); ok {
			what := "host ports"
			if len(portRanges) > 0 {
				what = "host ports outside " + rangesString(portRanges) + fmt.Sprintf(" (e.g. %d)", port)
			}
			out = append(out, newProbe("hostPorts", "", what, []string{ruleHostPorts}, func(_ *corev1.Pod, c *corev1.Container) {
				c.Ports = []corev1.ContainerPort{{ContainerPort: int32(port), HostPort: int32(port)}}
			}))
		}
	}

	// runAsUser: a non-root UID outside every MustRunAs range.
	var uidRanges [][2]int64
	limited := true
	for _, pol := range pols {
		r, ok := findRule[translate.RunAsUser](pol)
		if !ok || r.Rule != psp.RunAsUserStrategyMustRunAs {
			limited = false
			break
		}
		for _, ir := range r.Ranges {
			uidRanges = append(uidRanges, [2]int64{ir.Min, ir.Max})
		}
	}
	if limited {
		if uid, ok := outside(uidRanges, 1, 1<<31-1); ok {
			out = append(out, newProbe("runAsUser", "", "UIDs outside "+rangesString(uidRanges)+fmt.Sprintf(" (e.g. %d)", uid), []string{ruleRunAsUser}, func(p *corev1.Pod, _ *corev1.Container) {
				p.Spec.SecurityContext.RunAsUser = ptr(uid)
			}))
		}
	}

	for _, kind := range []string{"runAsGroup", "fsGroup", "supplementalGroups"} {
		var ranges [][2]int64
		limited := true
		for _, pol := range pols {
			r, ok := findGroupRule(pol, kind)
			if !ok {
				limited = false
				break
			}
			for _, ir := range r.Ranges {
				ranges = append(ranges, [2]int64{ir.Min, ir.Max})
			}
		}
		if !limited {
			continue
		}
		gid, ok := outside(ranges, 0, 1<<31-1)
		if !ok {
			continue
		}
		out = append(out, newProbe(kind, "", kind+" IDs outside "+rangesString(ranges)+fmt.Sprintf(" (e.g. %d)", gid), []string{kind}, func(p *corev1.Pod, _ *corev1.Container) {
			switch kind {
			case "runAsGroup":
				p.Spec.SecurityContext.RunAsGroup = ptr(gid)
			case "fsGroup":
				p.Spec.SecurityContext.FSGroup = ptr(gid)
			default:
				p.Spec.SecurityContext.SupplementalGroups = []int64{gid}
			}
		}))
	}
	return out
}

func findRule[T translate.Rule](pol translate.Policy) (T, bool) {
	for _, r := range pol.Rules {
		if t, ok := r.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

func findGroupRule(pol translate.Policy, kind string) (translate.GroupRule, bool) {
	for _, r := range pol.Rules {
		if g, ok := r.(translate.GroupRule); ok && g.Kind == kind {
			return g, true
		}
	}
	return translate.GroupRule{}, false
}

// outside returns the smallest value in [lo, hi] that no range covers.
func outside(ranges [][2]int64, lo, hi int64) (int64, bool) {
	sorted := slices.Clone(ranges)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i][0] < sorted[j][0] })
	v := lo
	for _, r := range sorted {
		if r[0] > v {
			break
		}
		if r[1] >= v {
			v = r[1] + 1
		}
	}
	return v, v <= hi
}

func rangesString(ranges [][2]int64) string {
	if len(ranges) == 0 {
		return "no range (none allowed)"
	}
	sorted := slices.Clone(ranges)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i][0] < sorted[j][0] })
	parts := make([]string, 0, len(sorted))
	for _, r := range sorted {
		s := fmt.Sprintf("%d-%d", r[0], r[1])
		if r[0] == r[1] {
			s = fmt.Sprint(r[0])
		}
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// protectionChecker compares PSP sets with PSS levels. Results are cached
// by level and PSP set: most namespaces share both.
type protectionChecker struct {
	eval     *pss.Evaluator
	policies map[string]translate.Policy
	fixed    []probe
	// mu guards the caches: namespaces are checked on all CPUs.
	mu      sync.Mutex
	levels  map[string]string // probe key (dimension, item, what) -> PSS level
	results map[string][]report.ProtectionLoss
}

func newProtectionChecker(eval *pss.Evaluator, psps []psp.PodSecurityPolicy) *protectionChecker {
	c := &protectionChecker{
		eval:     eval,
		policies: make(map[string]translate.Policy, len(psps)),
		fixed:    fixedProbes(),
		levels:   map[string]string{},
		results:  map[string][]report.ProtectionLoss{},
	}
	for i := range psps {
		c.policies[psps[i].Name] = translate.CompilePolicy(&psps[i])
	}
	return c
}

func (c *protectionChecker) level(p *probe) string {
	k := p.key() + "/" + p.what
	c.mu.Lock()
	l, ok := c.levels[k]
	c.mu.Unlock()
	if !ok {
		l = c.eval.Evaluate(&p.pod.ObjectMeta, &p.pod.Spec).Level
		c.mu.Lock()
		c.levels[k] = l
		c.mu.Unlock()
	}
	return l
}

// forbids reports whether pol rejects the probe by one of the probe's rules.
func forbids(pol *translate.Policy, p *probe) bool {
	for _, r := range pol.Rules {
		if slices.Contains(p.rules, r.ID()) && !r.Allows(p.pod) {
			return true
		}
	}
	return false
}

// lost lists what every PSP in usable forbids and level allows, one entry
// per dimension. PSPs the audit does not know are ignored; with none left
// there is nothing to compare.
func (c *protectionChecker) lost(level string, usable []string) []report.ProtectionLoss {
	key := level + "|" + strings.Join(usable, ",")
	c.mu.Lock()
	r, ok := c.results[key]
	c.mu.Unlock()
	if ok {
		return r
	}
	var pols []translate.Policy
	var names []string
	for _, n := range usable {
		if pol, ok := c.policies[n]; ok {
			pols = append(pols, pol)
			names = append(names, n)
		}
	}
	var out []report.ProtectionLoss
	if len(pols) > 0 {
		probes := append(slices.Clone(c.fixed), rangeProbes(pols)...)
		// lostKeys holds the probes found lost, and those skipped because
		// a wider probe was: both are reported by the wider one.
		lostKeys := map[string]bool{}
		byDim := map[string]int{}
		for i := range probes {
			p := &probes[i]
			if p.unlessLost != "" && lostKeys[p.unlessLost] {
				lostKeys[p.key()] = true
				continue
			}
			if pss.Compare(c.level(p), level) < 0 {
				continue // the level forbids it too
			}
			all := true
			for j := range pols {
				if !forbids(&pols[j], p) {
					all = false
					break
				}
			}
			if !all {
				continue
			}
			lostKeys[p.key()] = true
			if i, ok := byDim[p.dimension]; ok {
				out[i].Items = append(out[i].Items, p.item)
				continue
			}
			byDim[p.dimension] = len(out)
			l := report.ProtectionLoss{Dimension: p.dimension, What: p.what, PSPs: names}
			if p.item != "" {
				l.Items = []string{p.item}
			}
			out = append(out, l)
		}
	}
	for i := range out {
		out[i].Message = lossMessage(&out[i], level, c.policies)
	}
	c.mu.Lock()
	c.results[key] = out
	c.mu.Unlock()
	return out
}

// maxItemsInMessage keeps messages to a line; Items has them all.
const maxItemsInMessage = 8

func lossMessage(l *report.ProtectionLoss, level string, policies map[string]translate.Policy) string {
	what := l.What
	switch {
	case l.Dimension == "capabilities" && len(l.Items) == len(linuxCapabilities):
		what = "adding any capability"
	case len(l.Items) > maxItemsInMessage:
		what += " " + strings.Join(l.Items[:maxItemsInMessage], ", ") + fmt.Sprintf(" (+%d more)", len(l.Items)-maxItemsInMessage)
	case len(l.Items) > 0:
		what += " " + strings.Join(l.Items, ", ")
	}
	if l.Dimension == "requiredDropCapabilities" {
		var parts []string
		for _, n := range l.PSPs {
			if r, ok := findRule[translate.RequiredDropCapabilities](policies[n]); ok {
				parts = append(parts, n+" drops "+strings.Join(r.Required, ", "))
			}
		}
		what += " (" + strings.Join(parts, "; ") + ")"
	}
	by := "PSP " + l.PSPs[0]
	if len(l.PSPs) > 1 {
		by = "every usable PSP (" + strings.Join(l.PSPs, ", ") + ")"
	}
	return fmt.Sprintf("%s: forbidden today by %s; %s allows it", what, by, level)
}

// noUsablePSP is the loss when PSP admission rejects every pod of the
// namespace today: no PSP is usable there at all.
func noUsablePSP(level string) report.ProtectionLoss {
	return report.ProtectionLoss{
		Dimension: "anyPod",
		What:      "any pod",
		PSPs:      []string{},
		Message:   fmt.Sprintf("any pod: no PodSecurityPolicy is usable here, so PSP admission rejects every pod today; %s admits pods", level),
	}
}
