// Package translate turns PodSecurityPolicies into the policies of the
// engines that replace them, and predicts what those policies will say about
// each workload.
//
// Every PSP is compiled once into an intermediate rule model (Policy, a list
// of Rule values, one or more per PSP field). The model has two faces that
// must agree:
//
//   - a Go evaluator (Rule.Allows, PolicySet.Evaluate), used for predictions
//     in `audit --engine`, and
//   - a CEL rendering (Rule.CEL), shared by every CEL engine: the built-in
//     ValidatingAdmissionPolicy today, Kyverno's CEL policies and
//     Gatekeeper's CEL engine later.
//
// test/e2e/translate_vap_test.go proves the agreement against a real
// kube-apiserver.
//
// # Validate-only semantics
//
// A converted policy allows a pod exactly when the PSP would have admitted it
// without changing it: every field the PSP validates must pass, and every
// field the PSP would have defaulted must already be set (to a value the PSP
// accepts). Two deliberate exceptions widen that, because the default they
// stand for adds no protection: defaultAddCapabilities need not be present
// (a container asking for fewer capabilities is not riskier), and
// defaultAllowPrivilegeEscalation: true needs no explicit field (unset already
// means true). docs/conversion.md lists every field.
//
// # Several PSPs
//
// PSP admission admits a pod when ANY PSP the pod may use admits it. Engines
// AND their policies together, so one policy per PSP would be wrong as soon
// as two PSPs apply to the same pod. A PolicySet therefore renders as one
// policy whose condition is the OR, over the PSPs usable by the pod, of each
// PSP's rules. With ScopeRBAC a PSP is usable where the pod's service account
// could `use` it (from the RBAC model); with ScopeCluster every PSP is usable
// by every pod.
//
// # Engines
//
// This package is the core: the rule model, its CEL, the prediction and the
// output files. Each engine is a package below it (vap, kyverno, kyvernocel,
// gatekeeper, kubewarden, psa) implementing Engine, and pkg/translate/engines
// lists them. Neither the core nor the engines carry a cluster client
// (hack/check-deps.sh holds them to it), so they build for the browser too.
package translate
