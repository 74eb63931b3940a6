package synth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
)

// Objects returns every object of inv in the order `kubectl get
// ns,psp,clusterroles,clusterrolebindings,roles,rolebindings,sa,pods,rs,deploy,sts,ds,jobs,cronjobs,rc`
// prints them. The elements point into inv.
func Objects(inv *inventory.Inventory) []any {
	var out []any
	add := func(n int, at func(int) any) {
		for i := range n {
			out = append(out, at(i))
		}
	}
	add(len(inv.Namespaces), func(i int) any { return &inv.Namespaces[i] })
	add(len(inv.PodSecurityPolicies), func(i int) any { return &inv.PodSecurityPolicies[i] })
	add(len(inv.ClusterRoles), func(i int) any { return &inv.ClusterRoles[i] })
	add(len(inv.ClusterRoleBindings), func(i int) any { return &inv.ClusterRoleBindings[i] })
	add(len(inv.Roles), func(i int) any { return &inv.Roles[i] })
	add(len(inv.RoleBindings), func(i int) any { return &inv.RoleBindings[i] })
	add(len(inv.ServiceAccounts), func(i int) any { return &inv.ServiceAccounts[i] })
	add(len(inv.Pods), func(i int) any { return &inv.Pods[i] })
	add(len(inv.ReplicaSets), func(i int) any { return &inv.ReplicaSets[i] })
	add(len(inv.Deployments), func(i int) any { return &inv.Deployments[i] })
	add(len(inv.StatefulSets), func(i int) any { return &inv.StatefulSets[i] })
	add(len(inv.DaemonSets), func(i int) any { return &inv.DaemonSets[i] })
	add(len(inv.Jobs), func(i int) any { return &inv.Jobs[i] })
	add(len(inv.CronJobs), func(i int) any { return &inv.CronJobs[i] })
	add(len(inv.ReplicationControllers), func(i int) any { return &inv.ReplicationControllers[i] })
	return out
}

// WriteList writes inv as the single `kind: List` YAML document that
// `kubectl get ... -A -o yaml` prints. Items are marshalled one at a time,
// so memory stays at one object's worth whatever the cluster's size.
func WriteList(w io.Writer, inv *inventory.Inventory) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("apiVersion: v1\nitems:\n")
	for _, obj := range Objects(inv) {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("marshal %T: %w", obj, err)
		}
		// Indent the item as a sequence entry, the way kubectl does.
		first := true
		for line := range bytes.Lines(b) {
			if first {
				bw.WriteString("- ")
				first = false
			} else if len(line) > 1 {
				bw.WriteString("  ")
			}
			bw.Write(line)
		}
	}
	bw.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	return bw.Flush()
}

// WriteJSONList writes objs as the single `kind: List` JSON document that
// `kubectl get ... -A -o json` prints (four-space indentation), one item at
// a time like WriteList.
func WriteJSONList(w io.Writer, objs []any) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [")
	for i, obj := range objs {
		b, err := json.MarshalIndent(obj, "        ", "    ")
		if err != nil {
			return fmt.Errorf("marshal %T: %w", obj, err)
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n        ")
		bw.Write(b)
	}
	bw.WriteString("\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
	return bw.Flush()
}

// SmallPods returns inv's pods cut down to what a pod written by hand or by
// a minimal controller carries: name, namespace, uid, labels and owners;
// the service account, node, host namespaces, security contexts, and each
// container's name, image, ports and security context. No volumes, no
// status. A dump of them is the JSON benchmark's "small pods" file, where
// decoding is most of the work and any overhead per object shows.
func SmallPods(inv *inventory.Inventory) []any {
	out := make([]any, 0, len(inv.Pods))
	for i := range inv.Pods {
		p := &inv.Pods[i]
		s := corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
				Labels: p.Labels, OwnerReferences: p.OwnerReferences},
			Spec: corev1.PodSpec{
				ServiceAccountName: p.Spec.ServiceAccountName,
				NodeName:           p.Spec.NodeName,
				HostNetwork:        p.Spec.HostNetwork,
				HostPID:            p.Spec.HostPID,
				HostIPC:            p.Spec.HostIPC,
				SecurityContext:    p.Spec.SecurityContext,
				InitContainers:     smallContainers(p.Spec.InitContainers),
				Containers:         smallContainers(p.Spec.Containers),
			},
		}
		out = append(out, &s)
	}
	return out
}

func smallContainers(cs []corev1.Container) []corev1.Container {
	var out []corev1.Container
	for _, c := range cs {
		out = append(out, corev1.Container{Name: c.Name, Image: c.Image, Ports: c.Ports, SecurityContext: c.SecurityContext})
	}
	return out
}
