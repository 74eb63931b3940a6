// Package convert is what `kubectl psp-migrate convert` does once the
// inventory is read: compile the PSPs, render every engine, check what the
// policies would do to the running pods, and serialise the files. The
// command (pkg/cmd) and the browser page (web/wasm) both call Run, so that
// the page can never disagree with the CLI. It carries no cluster client:
// it builds for GOOS=js.
package convert

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/audit"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/buildinfo"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/translate/engines"
)

// Options are convert's flags, minus where the input comes from and where
// the output goes.
type Options struct {
	translate.Options
	// AllowDenyAll writes policies that would deny every running pod of a
	// namespace; without it that is an error (see impact).
	AllowDenyAll bool
	// Namespace limits psa to one namespace's labels (-n); "" is all.
	Namespace string
}

// Renderers resolves engine names (the -e values) in order, dropping
// repeats.
func Renderers(names []string) ([]translate.Engine, error) {
	var out []translate.Engine
	for _, e := range names {
		r, err := engines.ByName(strings.TrimSpace(e))
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(x translate.Engine) bool { return x.Name() == r.Name() }) {
			out = append(out, r)
		}
	}
	return out, nil
}

// FromYAML decodes pasted manifests (PSPs, RBAC, anything `convert -f`
// reads) into an inventory; source names the input in errors.
func FromYAML(data []byte, source string) (*inventory.Inventory, error) {
	objs, err := manifest.Decode(data, source)
	if err != nil {
		return nil, err
	}
	return inventory.FromObjects(objs)
}

// Run renders every engine for inv and returns the files, in the order
// `convert` writes them. The lines `convert` prints on stderr ("Note: ...",
// "Warning: ...") go to diag. Nothing is returned unless all of it
// rendered.
func Run(inv *inventory.Inventory, renderers []translate.Engine, opts Options, diag io.Writer) ([]translate.Manifest, error) {
	in := translate.Input{Options: opts.Options}
	var err error
	if slices.ContainsFunc(renderers, func(r translate.Engine) bool { return r.NeedsPolicySet() }) {
		if in.Set, err = translate.Compile(inv, opts.Options); err != nil {
			return nil, err
		}
		for _, p := range in.Set.Policies {
			notes := p.Notes
			if !opts.Mutate {
				// With --mutate the defaults are written, not dropped.
				notes = append(slices.Clone(notes), p.DefaultNotes...)
			}
			for _, n := range notes {
				fmt.Fprintf(diag, "Note: PodSecurityPolicy %s: %s\n", p.Name, n)
			}
		}
	}
	if slices.ContainsFunc(renderers, func(r translate.Engine) bool { return r.Name() == translate.EnginePSA }) {
		if in.Namespaces, err = namespacePlans(inv, opts.Options, opts.Namespace, diag); err != nil {
			return nil, err
		}
	}

	var objects []translate.Object
	for _, r := range renderers {
		out, err := r.Render(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name(), err)
		}
		for _, w := range out.Warnings {
			fmt.Fprintf(diag, "Warning: %s: %s\n", r.Name(), w)
		}
		objects = append(objects, out.Objects...)
	}
	if in.Set != nil {
		if err := impact(inv, in.Set, renderers, opts.AllowDenyAll, diag); err != nil {
			return nil, err
		}
	}
	return translate.Marshal(objects)
}

// namespacePlans runs the audit and turns its namespace recommendations
// into the psa engine's input. "latest" is pinned to the newest version
// this build knows, so that the labels do not change meaning when the
// cluster is upgraded.
func namespacePlans(inv *inventory.Inventory, opts translate.Options, namespace string, diag io.Writer) ([]translate.NamespacePlan, error) {
	version := opts.PSSVersion
	if version == "latest" {
		version = buildinfo.LatestPSSVersion().String()
		fmt.Fprintf(diag, "Warning: psa: pod-security labels pinned to %s; pass --pss-version with your cluster's version\n", version)
	}
	rep, err := audit.Run(inv, audit.Options{PSSVersion: version, Namespace: namespace, SystemNamespaces: opts.ExcludeNamespaces, ToolVersion: opts.ToolVersion})
	if err != nil {
		return nil, fmt.Errorf("psa: audit: %w", err)
	}
	return plansFromReport(rep), nil
}

// plansFromReport maps the audit's namespaces; the PSPs named are those
// that admit the namespace's pods today.
func plansFromReport(rep *report.AuditReport) []translate.NamespacePlan {
	psps := map[string]map[string]bool{}
	for _, p := range rep.Pods {
		if p.PSP != nil && p.PSP.AdmittedBy != nil {
			if psps[p.Namespace] == nil {
				psps[p.Namespace] = map[string]bool{}
			}
			psps[p.Namespace][*p.PSP.AdmittedBy] = true
		}
	}
	out := make([]translate.NamespacePlan, 0, len(rep.Namespaces))
	for _, ns := range rep.Namespaces {
		plan := translate.NamespacePlan{Name: ns.Name, Labels: ns.Labels, Found: ns.Found}
		for _, c := range ns.Conflicts {
			if plan.Conflicts == nil {
				plan.Conflicts = map[string]string{}
			}
			plan.Conflicts[c.Key] = fmt.Sprintf("%s is %s, the audit recommends %s: %s", c.Key, c.Current, c.Recommended, c.Effect)
		}
		for _, l := range ns.ProtectionLost {
			plan.ProtectionLost = append(plan.ProtectionLost, l.Message)
		}
		for _, r := range ns.RejectedToday {
			plan.NotCounted = append(plan.NotCounted, r.Kind+"/"+r.Name)
		}
		for name := range psps[ns.Name] {
			plan.PSPs = append(plan.PSPs, name)
		}
		sort.Strings(plan.PSPs)
		out = append(out, plan)
	}
	return out
}
