package synth

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

var (
	words  = []string{"api", "web", "worker", "cache", "gateway", "indexer", "scheduler", "billing", "auth", "search", "feed", "notifier", "ingest", "render", "export"}
	images = []string{
		"ghcr.io/example/api:2.14.1", "docker.io/library/nginx:1.25.3", "docker.io/library/redis:7.2.4",
		"ghcr.io/example/worker:0.9.12", "quay.io/prometheus/statsd-exporter:v0.26.0",
		"docker.io/envoyproxy/envoy:v1.28.0", "ghcr.io/example/indexer:5.1.0", "registry.k8s.io/pause:3.9",
	}
	sidecars = []string{"docker.io/fluent/fluent-bit:2.2.0", "docker.io/envoyproxy/envoy:v1.28.0", "ghcr.io/example/vault-agent:1.15.2"}
)

// kubeSystem adds a static kube-proxy per node, a node agent DaemonSet and
// CoreDNS, and returns how many pods that took.
func (g *gen) kubeSystem() int {
	const ns = "kube-system"
	pods := 0
	nodeUIDs := map[string]string{}
	for _, node := range g.nodes {
		nodeUIDs[node] = string(g.uid())
	}
	for _, node := range g.nodes {
		hash := fmt.Sprintf("%x", g.rng.Uint64())
		spec := corev1.PodSpec{
			HostNetwork:       true,
			PriorityClassName: "system-node-critical",
			Priority:          ptr(int32(2000001000)),
			Containers: []corev1.Container{{
				Name:            "kube-proxy",
				Image:           "registry.k8s.io/kube-proxy:v1.24.17",
				Command:         []string{"kube-proxy", "--kubeconfig=/var/lib/kube-proxy/kubeconfig", "--cluster-cidr=10.244.0.0/16"},
				SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
				VolumeMounts:    []corev1.VolumeMount{{Name: "kubeconfig", MountPath: "/var/lib/kube-proxy/kubeconfig", ReadOnly: true}, {Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{
				{Name: "kubeconfig", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kube-proxy/kubeconfig", Type: ptr(corev1.HostPathFileOrCreate)}}},
				{Name: "lib-modules", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/lib/modules"}}},
			},
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}, {Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
		}
		defaultPodSpec(&spec, "")
		p := corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: g.meta(ns, "kube-proxy-"+node),
			Spec:       spec,
		}
		p.Labels = map[string]string{"component": "kube-proxy", "tier": "node"}
		p.Annotations = map[string]string{
			"kubernetes.io/config.hash":   hash,
			"kubernetes.io/config.mirror": hash,
			"kubernetes.io/config.seen":   p.CreationTimestamp.Format("2006-01-02T15:04:05.000000000Z07:00"),
			"kubernetes.io/config.source": "file",
			psp.PodAnnotation:             pspPrivileged,
		}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: types.UID(nodeUIDs[node]), Controller: ptr(true)}}
		p.Spec.NodeName = node
		g.podStatus(&p, false)
		g.inv.Pods = append(g.inv.Pods, p)
		pods++
	}
	g.serviceAccount(ns, "node-agent")
	pods += g.daemonSet(ns, "node-agent", "node-agent", levelPrivileged, len(g.nodes))
	g.serviceAccount(ns, "coredns")
	pods += g.deployment(ns, "coredns", "coredns", levelBaseline, 2)
	return pods
}

// workloads fills an application namespace with exactly n pods.
func (g *gen) workloads(ns string, n int) {
	seq := 0
	name := func() string {
		seq++
		return fmt.Sprintf("%s-%d", g.pick(words), seq)
	}
	sa := func(w string) string {
		if g.rng.IntN(2) == 0 {
			return "default"
		}
		g.serviceAccount(ns, w)
		return w
	}
	for n > 0 {
		level := g.level()
		w := name()
		switch r := g.rng.IntN(100); {
		case r < 45:
			n -= g.deployment(ns, w, sa(w), level, min(1+g.rng.IntN(6), n))
		case r < 57:
			n -= g.statefulSet(ns, w, sa(w), level, min(1+g.rng.IntN(3), n))
		case r < 72:
			n -= g.job(ns, w, sa(w), level, g.rng.IntN(2) == 0)
		case r < 80:
			n -= g.barePod(ns, w, sa(w), level)
		case r < 85 && n >= len(g.nodes):
			n -= g.daemonSet(ns, w, sa(w), level, len(g.nodes))
		case r < 90:
			n -= g.replicationController(ns, w, sa(w), level, min(1+g.rng.IntN(3), n))
		default:
			// Scaled to zero: a template without pods.
			g.deployment(ns, w, sa(w), level, 0)
		}
	}
}

func (g *gen) level() string {
	switch r := g.rng.IntN(100); {
	case r < 45:
		return levelRestricted
	case r < 85:
		return levelBaseline
	default:
		return levelPrivileged
	}
}

// ---------------------------------------------------------------- templates

// template builds a pod template meeting level, with the fields the API
// server defaults filled in as a dump shows them.
func (g *gen) template(labels map[string]string, sa, level string) corev1.PodTemplateSpec {
	containers := []corev1.Container{g.container("main", g.pick(images), 8080)}
	if g.rng.IntN(10) < 3 {
		containers = append(containers, g.container("sidecar", g.pick(sidecars), 9080))
	}
	spec := corev1.PodSpec{Containers: containers}
	if g.rng.IntN(2) == 0 {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: labels["app"] + "-config"}, DefaultMode: ptr(int32(420))}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "config", MountPath: "/etc/app", ReadOnly: true})
	}
	if g.rng.IntN(3) == 0 {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	}
	annotations := map[string]string{}
	if g.rng.IntN(3) == 0 {
		annotations["prometheus.io/scrape"] = "true"
		annotations["prometheus.io/port"] = "9090"
	}
	switch level {
	case levelRestricted:
		uid := int64(10000 + g.rng.IntN(50000))
		spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr(uid), RunAsGroup: ptr(uid), FSGroup: ptr(uid),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
		for i := range spec.Containers {
			spec.Containers[i].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
		}
	case levelBaseline:
		switch g.rng.IntN(4) {
		case 0: // nothing set: root, no seccomp
		case 1:
			spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))}
		case 2:
			spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE", "CHOWN"}}}
		case 3: // restricted but for seccomp
			spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}
			for i := range spec.Containers {
				spec.Containers[i].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
			}
		}
	case levelPrivileged:
		switch g.rng.IntN(5) {
		case 0:
			spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
		case 1:
			// As the API server defaults it: host ports equal container ports.
			spec.HostNetwork = true
			for i := range spec.Containers {
				spec.Containers[i].Ports[0].HostPort = spec.Containers[i].Ports[0].ContainerPort
			}
		case 2:
			spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "varlog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log", Type: ptr(corev1.HostPathDirectory)}}})
			spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "varlog", MountPath: "/var/log"})
		case 3:
			spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN", "NET_ADMIN"}}}
		case 4:
			spec.HostPID = true
		}
	}
	defaultPodSpec(&spec, sa)
	t := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
	if len(annotations) > 0 {
		t.Annotations = annotations
	}
	return t
}

// container returns a container listening on a port in [port, port+10):
// containers of one pod get disjoint ranges, which host networking needs.
func (g *gen) container(name, image string, port int) corev1.Container {
	c := corev1.Container{
		Name:  name,
		Image: image,
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port + g.rng.IntN(10)), Protocol: corev1.ProtocolTCP}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(fmt.Sprintf("%dm", 50*(1+g.rng.IntN(10)))),
			corev1.ResourceMemory: resource.MustParse(fmt.Sprintf("%dMi", 64*(1+g.rng.IntN(8)))),
		}},
	}
	for i := range 2 + g.rng.IntN(5) {
		c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("APP_SETTING_%d", i), Value: g.suffix(12)})
	}
	if g.rng.IntN(10) < 6 {
		c.ReadinessProbe = &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
			PeriodSeconds:    10,
			TimeoutSeconds:   1,
			SuccessThreshold: 1,
			FailureThreshold: 3,
		}
	}
	return c
}

// defaultPodSpec sets what the API server's defaulting would.
func defaultPodSpec(s *corev1.PodSpec, sa string) {
	for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range cs {
			c := &cs[i]
			c.ImagePullPolicy = corev1.PullIfNotPresent
			c.TerminationMessagePath = corev1.TerminationMessagePathDefault
			c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		}
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	s.DNSPolicy = corev1.DNSClusterFirst
	s.SchedulerName = corev1.DefaultSchedulerName
	s.TerminationGracePeriodSeconds = ptr(int64(30))
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if sa != "" {
		s.ServiceAccountName = sa
		s.DeprecatedServiceAccount = sa //nolint:staticcheck // the server still fills it in
	}
}

// ---------------------------------------------------------------- pods

// pod instantiates a template as the API server stores it: the projected
// token volume, default tolerations, a node, a status.
func (g *gen) pod(ns, name string, t *corev1.PodTemplateSpec, owner *metav1.OwnerReference, level string, done bool) corev1.Pod {
	p := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: g.meta(ns, name),
		Spec:       *t.Spec.DeepCopy(),
	}
	p.Labels = copyMap(t.Labels)
	p.Annotations = copyMap(t.Annotations)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[psp.PodAnnotation] = map[string]string{levelPrivileged: pspPrivileged, levelBaseline: pspBaseline, levelRestricted: pspRestricted}[level]
	if sc := p.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault {
		p.Annotations["seccomp.security.alpha.kubernetes.io/pod"] = "runtime/default"
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
		p.GenerateName = owner.Name + "-"
	}
	vol := "kube-api-access-" + g.suffix(5)
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(420)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].VolumeMounts = append(p.Spec.Containers[i].VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true})
	}
	p.Spec.Tolerations = append(p.Spec.Tolerations,
		corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))})
	p.Spec.EnableServiceLinks = ptr(true)
	p.Spec.Priority = ptr(int32(0))
	p.Spec.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	if p.Spec.NodeName == "" {
		p.Spec.NodeName = g.pick(g.nodes)
	}
	g.podStatus(&p, done)
	return p
}

func (g *gen) podStatus(p *corev1.Pod, done bool) {
	start := metav1.NewTime(p.CreationTimestamp.Add(2e9))
	hostIP := nodeIP(p.Spec.NodeName)
	ip := hostIP
	if !p.Spec.HostNetwork {
		g.podIP[p.Spec.NodeName]++
		n := g.podIP[p.Spec.NodeName]
		ip = fmt.Sprintf("10.%d.%d.%d", 64+nodeIndex(p.Spec.NodeName)/256, nodeIndex(p.Spec.NodeName)%256, 2+n%250)
	}
	s := corev1.PodStatus{Phase: corev1.PodRunning, HostIP: hostIP, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &start, QOSClass: corev1.PodQOSBurstable}
	ready := corev1.ConditionTrue
	if done {
		s.Phase = corev1.PodSucceeded
		ready = corev1.ConditionFalse
	}
	for _, c := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		st := corev1.ConditionTrue
		if c == corev1.PodReady || c == corev1.ContainersReady {
			st = ready
		}
		s.Conditions = append(s.Conditions, corev1.PodCondition{Type: c, Status: st, LastTransitionTime: start})
	}
	for _, c := range p.Spec.Containers {
		cs := corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:" + fmt.Sprintf("%016x%016x%016x%016x", g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64()),
			ContainerID: "containerd://" + fmt.Sprintf("%016x%016x%016x%016x", g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64()),
			Ready:       !done, Started: ptr(!done), RestartCount: int32(g.rng.IntN(3) * g.rng.IntN(2)),
		}
		if done {
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: start, FinishedAt: metav1.NewTime(start.Add(3e11)), ContainerID: cs.ContainerID}
		} else {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: start}
		}
		s.ContainerStatuses = append(s.ContainerStatuses, cs)
	}
	p.Status = s
}

func nodeIndex(node string) int {
	i, _ := strconv.Atoi(node[len("node-"):])
	return i
}

func nodeIP(node string) string {
	i := nodeIndex(node)
	return fmt.Sprintf("10.0.%d.%d", i/250, 10+i%250)
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---------------------------------------------------------------- controllers

func (g *gen) deployment(ns, name, sa, level string, replicas int) int {
	labels := map[string]string{"app": name}
	t := g.template(labels, sa, level)
	d := appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: g.meta(ns, name),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: t,
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr(intstr.FromString("25%")), MaxSurge: ptr(intstr.FromString("25%"))}},
			RevisionHistoryLimit:    ptr(int32(10)),
			ProgressDeadlineSeconds: ptr(int32(600)),
		},
	}
	revision := 1 + g.rng.IntN(3)
	d.Generation = int64(revision)
	d.Labels = labels
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": strconv.Itoa(revision)}
	r := int32(replicas)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.", LastUpdateTime: d.CreationTimestamp, LastTransitionTime: d.CreationTimestamp},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", name), LastUpdateTime: d.CreationTimestamp, LastTransitionTime: d.CreationTimestamp},
		}}
	g.inv.Deployments = append(g.inv.Deployments, d)
	owner := controllerRef("apps/v1", "Deployment", &d.ObjectMeta)
	if revision > 1 {
		// The previous rollout's ReplicaSet, kept at zero for rollbacks.
		g.replicaSet(ns, name, d.Spec.Template, &owner, revision-1, 0, level)
	}
	return g.replicaSet(ns, name, d.Spec.Template, &owner, revision, replicas, level)
}

func (g *gen) replicaSet(ns, deploy string, t corev1.PodTemplateSpec, owner *metav1.OwnerReference, revision, replicas int, level string) int {
	hash := g.suffix(10)
	t = *t.DeepCopy()
	t.Labels = copyMap(t.Labels)
	t.Labels["pod-template-hash"] = hash
	rs := appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: g.meta(ns, deploy+"-"+hash),
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": deploy, "pod-template-hash": hash}}, Template: t},
	}
	rs.Labels = t.Labels
	rs.OwnerReferences = []metav1.OwnerReference{*owner}
	rs.Annotations = map[string]string{
		"deployment.kubernetes.io/desired-replicas": strconv.Itoa(replicas),
		"deployment.kubernetes.io/max-replicas":     strconv.Itoa(replicas + (replicas+3)/4),
		"deployment.kubernetes.io/revision":         strconv.Itoa(revision),
	}
	r := int32(replicas)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: r, FullyLabeledReplicas: r, ReadyReplicas: r, AvailableReplicas: r, ObservedGeneration: 1}
	g.inv.ReplicaSets = append(g.inv.ReplicaSets, rs)
	ref := controllerRef("apps/v1", "ReplicaSet", &rs.ObjectMeta)
	for range replicas {
		g.inv.Pods = append(g.inv.Pods, g.pod(ns, rs.Name+"-"+g.suffix(5), &rs.Spec.Template, &ref, level, false))
	}
	return replicas
}

func (g *gen) statefulSet(ns, name, sa, level string, replicas int) int {
	labels := map[string]string{"app": name}
	s := appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: g.meta(ns, name),
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr(int32(replicas)), ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template:            g.template(labels, sa, level),
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeMode: ptr(corev1.PersistentVolumeFilesystem),
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}},
			}},
			RevisionHistoryLimit: ptr(int32(10)),
		},
	}
	s.Labels = labels
	s.Generation = 1
	rev := name + "-" + g.suffix(10)
	r := int32(replicas)
	s.Status = appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: r, ReadyReplicas: r, CurrentReplicas: r, UpdatedReplicas: r, AvailableReplicas: r, CurrentRevision: rev, UpdateRevision: rev, CollisionCount: ptr(int32(0))}
	g.inv.StatefulSets = append(g.inv.StatefulSets, s)
	ref := controllerRef("apps/v1", "StatefulSet", &s.ObjectMeta)
	for i := range replicas {
		podName := fmt.Sprintf("%s-%d", name, i)
		t := *s.Spec.Template.DeepCopy()
		t.Labels = copyMap(t.Labels)
		t.Labels["controller-revision-hash"] = rev
		t.Labels["statefulset.kubernetes.io/pod-name"] = podName
		t.Spec.Hostname, t.Spec.Subdomain = podName, name
		t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-" + podName}}})
		p := g.pod(ns, podName, &t, &ref, level, false)
		p.GenerateName = name + "-"
		g.inv.Pods = append(g.inv.Pods, p)
	}
	return replicas
}

func (g *gen) daemonSet(ns, name, sa, level string, pods int) int {
	labels := map[string]string{"app": name}
	d := appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: g.meta(ns, name),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: g.template(labels, sa, level),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
				MaxUnavailable: ptr(intstr.FromInt32(1)), MaxSurge: ptr(intstr.FromInt32(0))}},
			RevisionHistoryLimit: ptr(int32(10)),
		},
	}
	d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	d.Labels = labels
	d.Generation = 1
	d.Annotations = map[string]string{"deprecated.daemonset.template.generation": "1"}
	n := int32(pods)
	d.Status = appsv1.DaemonSetStatus{CurrentNumberScheduled: n, DesiredNumberScheduled: n, NumberAvailable: n, NumberReady: n, UpdatedNumberScheduled: n, ObservedGeneration: 1}
	g.inv.DaemonSets = append(g.inv.DaemonSets, d)
	ref := controllerRef("apps/v1", "DaemonSet", &d.ObjectMeta)
	hash := g.suffix(10)
	for i := range pods {
		node := g.nodes[i%len(g.nodes)]
		t := *d.Spec.Template.DeepCopy()
		t.Labels = copyMap(t.Labels)
		t.Labels["controller-revision-hash"] = hash
		t.Labels["pod-template-generation"] = "1"
		t.Spec.NodeName = node
		t.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}}}
		for _, k := range []string{"disk-pressure", "memory-pressure", "pid-pressure", "unschedulable"} {
			t.Spec.Tolerations = append(t.Spec.Tolerations, corev1.Toleration{Key: "node.kubernetes.io/" + k, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
		}
		g.inv.Pods = append(g.inv.Pods, g.pod(ns, name+"-"+g.suffix(5), &t, &ref, level, false))
	}
	return pods
}

func (g *gen) job(ns, name, sa, level string, fromCron bool) int {
	labels := map[string]string{"app": name}
	t := g.template(labels, sa, level)
	t.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	spec := batchv1.JobSpec{BackoffLimit: ptr(int32(6)), Completions: ptr(int32(1)), Parallelism: ptr(int32(1)), Template: t}
	jobName := name
	var owner *metav1.OwnerReference
	if fromCron {
		cj := batchv1.CronJob{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: g.meta(ns, name),
			Spec: batchv1.CronJobSpec{
				Schedule: fmt.Sprintf("%d %d * * *", g.rng.IntN(60), g.rng.IntN(24)), ConcurrencyPolicy: batchv1.ForbidConcurrent,
				Suspend: ptr(false), SuccessfulJobsHistoryLimit: ptr(int32(3)), FailedJobsHistoryLimit: ptr(int32(1)),
				JobTemplate: batchv1.JobTemplateSpec{Spec: spec},
			},
		}
		last := metav1.NewTime(epoch.Add(299 * 24 * 3600e9))
		cj.Status = batchv1.CronJobStatus{LastScheduleTime: &last, LastSuccessfulTime: &last}
		g.inv.CronJobs = append(g.inv.CronJobs, cj)
		ref := controllerRef("batch/v1", "CronJob", &cj.ObjectMeta)
		owner = &ref
		jobName = fmt.Sprintf("%s-%d", name, 29_000_000+g.rng.IntN(900_000))
	}
	j := batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: g.meta(ns, jobName),
		Spec:       *spec.DeepCopy(),
	}
	if owner != nil {
		j.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	// The API server generates the selector from the Job's uid.
	sel := map[string]string{"controller-uid": string(j.UID)}
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: sel}
	j.Spec.Template.Labels = map[string]string{"app": name, "controller-uid": string(j.UID), "job-name": jobName}
	j.Labels = j.Spec.Template.Labels
	start := j.CreationTimestamp
	end := metav1.NewTime(start.Add(3e11))
	j.Status = batchv1.JobStatus{StartTime: &start, CompletionTime: &end, Succeeded: 1,
		Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastProbeTime: end, LastTransitionTime: end}}}
	g.inv.Jobs = append(g.inv.Jobs, j)
	ref := controllerRef("batch/v1", "Job", &j.ObjectMeta)
	g.inv.Pods = append(g.inv.Pods, g.pod(ns, jobName+"-"+g.suffix(5), &j.Spec.Template, &ref, level, true))
	return 1
}

func (g *gen) barePod(ns, name, sa, level string) int {
	t := g.template(map[string]string{"run": name}, sa, level)
	g.inv.Pods = append(g.inv.Pods, g.pod(ns, name, &t, nil, level, false))
	return 1
}

func (g *gen) replicationController(ns, name, sa, level string, replicas int) int {
	labels := map[string]string{"app": name}
	t := g.template(labels, sa, level)
	rc := corev1.ReplicationController{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"},
		ObjectMeta: g.meta(ns, name),
		Spec:       corev1.ReplicationControllerSpec{Replicas: ptr(int32(replicas)), Selector: labels, Template: &t},
	}
	rc.Labels = labels
	rc.Generation = 1
	r := int32(replicas)
	rc.Status = corev1.ReplicationControllerStatus{Replicas: r, FullyLabeledReplicas: r, ReadyReplicas: r, AvailableReplicas: r, ObservedGeneration: 1}
	g.inv.ReplicationControllers = append(g.inv.ReplicationControllers, rc)
	ref := controllerRef("v1", "ReplicationController", &rc.ObjectMeta)
	for range replicas {
		g.inv.Pods = append(g.inv.Pods, g.pod(ns, name+"-"+g.suffix(5), &t, &ref, level, false))
	}
	return replicas
}
