// Package pspadmission reproduces the Kubernetes v1.24 PodSecurityPolicy
// admission decision for pod creation, without a cluster.
//
// Migrating off PSP needs to know, for every workload, which PSP admits its
// pods today, whether that PSP silently changed them (defaults that a
// validating-only replacement will not apply), and why a pod would be
// rejected. The package re-implements, from the upstream behaviour:
//
//   - the plugin's policy selection (name order, non-mutating first, `use`
//     authorisation for the requester or the pod's service account, failing
//     closed without policies) and its second, validating pass;
//   - every PSP strategy's defaulting and validation, with the server's
//     error texts;
//   - what the API server does to a pod before and after PSP sees it: API
//     defaulting, ServiceAccount admission's token volume, the seccomp
//     field/annotation sync (Prepare, TemplateReliance).
//
// It deliberately does not import k8s.io/kubernetes, which pins an old
// k8s.io/api.
package pspadmission
