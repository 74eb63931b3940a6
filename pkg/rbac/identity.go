// Package rbac answers the one RBAC question PodSecurityPolicy admission asks:
// may this identity `use` this PSP in this namespace?
//
// It re-implements the parts of the Kubernetes v1.24 RBAC authorizer that this
// question reaches (rule matching, binding subjects, role references) over
// objects read from a cluster or from files, and resolves them once into an
// index so that evaluating thousands of pods against dozens of PSPs costs a
// few map lookups per question.
package rbac

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Well-known user and group names (k8s.io/apiserver authentication/user and
// authentication/serviceaccount).
const (
	// SystemMasters is the superuser group. kube-apiserver puts a
	// privileged-group authorizer in front of RBAC that allows everything to
	// members of this group, so they may use every PSP without any binding.
	SystemMasters = "system:masters"
	// AllAuthenticated is added to every authenticated request's groups.
	AllAuthenticated = "system:authenticated"
	// AllUnauthenticated is the group of anonymous requests.
	AllUnauthenticated = "system:unauthenticated"
	// AllServiceAccounts is the group of every service account.
	AllServiceAccounts = "system:serviceaccounts"
	// serviceAccountUsernamePrefix starts every service account's user name.
	serviceAccountUsernamePrefix = "system:serviceaccount:"
	// serviceAccountGroupPrefix starts the per-namespace service account group.
	serviceAccountGroupPrefix = "system:serviceaccounts:"
	// ControllerManagerUser is kube-controller-manager's own identity, used for
	// every controller when --use-service-account-credentials is false.
	ControllerManagerUser = "system:kube-controller-manager"
	// controllerNamespace holds the controllers' service accounts.
	controllerNamespace = "kube-system"
)

// User is an authenticated identity as the authorizer sees it.
type User struct {
	Name   string
	Groups []string
}

// ServiceAccountUsername returns the user name of a service account,
// system:serviceaccount:<namespace>:<name>.
func ServiceAccountUsername(namespace, name string) string {
	return serviceAccountUsernamePrefix + namespace + ":" + name
}

// ServiceAccountUser is the identity of a service account with its implicit groups
// system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated.
//
// That is a request made with the service account's token, e.g. by a
// controller creating pods; for the pod's own service account as PSP
// admission checks it, use PodServiceAccountUser.
func ServiceAccountUser(namespace, name string) User {
	return User{
		Name:   ServiceAccountUsername(namespace, name),
		Groups: []string{AllServiceAccounts, serviceAccountGroupPrefix + namespace, AllAuthenticated},
	}
}

// PodServiceAccountUser is the identity the v1.24 PSP admission plugin checks
// for a pod's spec.serviceAccountName. The plugin builds it with
// serviceaccount.UserInfo, which sets only system:serviceaccounts and
// system:serviceaccounts:<ns>: the pod's service account is not
// authenticated, so a `use` grant to system:authenticated does not reach it
// (it reaches the requesting user instead, who normally is authenticated).
//
// The ServiceAccount admission plugin runs before PSP admission and sets an
// empty serviceAccountName to "default", so callers evaluating stored pod
// templates should pass "default" for an empty name.
func PodServiceAccountUser(namespace, name string) User {
	return User{
		Name:   ServiceAccountUsername(namespace, name),
		Groups: []string{AllServiceAccounts, serviceAccountGroupPrefix + namespace},
	}
}

// ControllerIdentityMode says how kube-controller-manager authenticates.
type ControllerIdentityMode string

const (
	// ControllerServiceAccounts: --use-service-account-credentials=true (kubeadm's default): each controller as system:serviceaccount:kube-system:<name>-controller
	ControllerServiceAccounts ControllerIdentityMode = "service-accounts"
	// ControllerManager: one identity, system:kube-controller-manager
	ControllerManager ControllerIdentityMode = "controller-manager"
)

// controllerServiceAccounts maps a pod owner kind to the service account its
// controller runs as (the names of the bootstrap system:controller:* roles
// in v1.24). Deployment and CronJob are absent on purpose: they create
// ReplicaSets and Jobs, whose controllers create the pods.
var controllerServiceAccounts = map[string]string{
	"ReplicaSet":            "replicaset-controller",
	"DaemonSet":             "daemon-set-controller",
	"StatefulSet":           "statefulset-controller",
	"Job":                   "job-controller",
	"ReplicationController": "replication-controller",
}

// ControllerUser returns the identity that creates pods for a controller kind (ReplicaSet, DaemonSet, StatefulSet, Job, ReplicationController; Deployment and CronJob create no pods directly → ok=false).
//
// An empty mode means ControllerServiceAccounts, kubeadm's default; an
// unknown mode or kind gives ok=false.
func ControllerUser(ownerKind string, mode ControllerIdentityMode) (u User, ok bool) {
	sa, ok := controllerServiceAccounts[ownerKind]
	if !ok {
		return User{}, false
	}
	switch mode {
	case ControllerServiceAccounts, "":
		return ServiceAccountUser(controllerNamespace, sa), true
	case ControllerManager:
		// The controller-manager's client certificate carries no
		// organisation in kubeadm clusters, so its only group is the one
		// every authenticated request gets.
		return User{Name: ControllerManagerUser, Groups: []string{AllAuthenticated}}, true
	default:
		return User{}, false
	}
}

// WorkloadCreator is who creates the pods of a workload of kind (the
// controller kind, or the top-level owner's: a Deployment's pods come from
// the ReplicaSet controller, a CronJob's from the Job controller): the
// controller's identity for the built-in controllers; for a bare pod, or a
// controller this package does not know (an operator's own kind), an
// unknown authenticated user (Unknown): grants to system:authenticated
// reach it, grants to particular users do not.
func WorkloadCreator(kind string, mode ControllerIdentityMode) *User {
	switch kind {
	case "Deployment":
		kind = "ReplicaSet"
	case "CronJob":
		kind = "Job"
	}
	u, ok := ControllerUser(kind, mode)
	if !ok {
		return Unknown()
	}
	return &u
}

// PodCreator is who created a stored pod: its controller (WorkloadCreator
// of the controller's kind), or for a mirror pod the kubelet of its node
// (Node authorizer naming: system:node:<name> in system:nodes).
func PodCreator(p *corev1.Pod, mode ControllerIdentityMode) *User {
	ref := metav1.GetControllerOfNoCopy(p)
	_, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]
	if mirror || (ref != nil && ref.Kind == "Node") {
		node := p.Spec.NodeName
		if ref != nil && ref.Kind == "Node" {
			node = ref.Name
		}
		if node != "" {
			return &User{Name: "system:node:" + node, Groups: []string{"system:nodes", AllAuthenticated}}
		}
		return Unknown()
	}
	if ref == nil {
		return Unknown()
	}
	return WorkloadCreator(ref.Kind, mode)
}

// ControllerKind returns the owner kind whose controller authenticates as
// user name (in either ControllerIdentityMode), or "" when name is no pod-
// creating controller's identity.
func ControllerKind(name string) string {
	if name == ControllerManagerUser {
		return "ReplicaSet"
	}
	for _, kind := range sortedKeys(controllerServiceAccounts) {
		if name == ServiceAccountUsername(controllerNamespace, controllerServiceAccounts[kind]) {
			return kind
		}
	}
	return ""
}

// PodServiceAccountName is the service account a pod runs as, as the API
// server settles it: spec.serviceAccountName, else the deprecated
// spec.serviceAccount, else "default".
func PodServiceAccountName(spec *corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	//nolint:staticcheck // the deprecated field is still honoured by the API server.
	if spec.DeprecatedServiceAccount != "" {
		return spec.DeprecatedServiceAccount
	}
	return "default"
}
