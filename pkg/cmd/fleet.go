package cmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/fleet"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/live"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Defaults of the fleet flags. Four clusters at once keeps a laptop's two
// cores busy while most of each read is waiting on the network.
const (
	defaultParallel       = 4
	defaultContextTimeout = 5 * time.Minute
)

// clusterFlags are the kubectl flags that override what a context says
// about its cluster or user: given once, they would point every context at
// the same cluster or credentials, the mistake kubescape#3217 made
// silently, so a fleet run refuses them.
var clusterFlags = []string{"cluster", "user", "server", "token", "username", "password", "client-certificate",
	"client-key", "certificate-authority", "tls-server-name", "insecure-skip-tls-verify"}

// fleetOptions are the flags that run a command over many clusters
// (docs/fleet.md).
type fleetOptions struct {
	Contexts       []string
	AllContexts    bool
	ListContexts   bool
	Parallel       int
	ContextTimeout time.Duration
	ClusterFromDir string

	selector *fleet.Selector
}

func (f *fleetOptions) addFlags(flags *pflag.FlagSet) {
	flags.StringSliceVar(&f.Contexts, "contexts", nil, "run against these kubeconfig contexts (with --cluster-from-dir, these sub-directories): names, /regex/, ^name or ^/regex/ to exclude; comma separated")
	flags.BoolVar(&f.AllContexts, "all-contexts", false, "run against every kubeconfig context (KUBECONFIG files merged as kubectl does)")
	flags.BoolVar(&f.ListContexts, "list-contexts", false, "print the contexts --contexts or --all-contexts select, and exit")
	flags.IntVar(&f.Parallel, "parallel", defaultParallel, "with --contexts: how many clusters to read at once")
	flags.DurationVar(&f.ContextTimeout, "context-timeout", defaultContextTimeout, "with --contexts: give up on a cluster after this long, reporting it as timeout (0: never)")
	flags.StringVar(&f.ClusterFromDir, "cluster-from-dir", "", "offline fleet: one sub-directory per cluster, named after it, each read like -f DIR -R")
}

// enabled reports whether the command runs as a fleet.
func (f *fleetOptions) enabled() bool {
	return len(f.Contexts) > 0 || f.AllContexts || f.ListContexts || f.ClusterFromDir != ""
}

func (f *fleetOptions) validate(flags *pflag.FlagSet, src *sourceOptions) error {
	if f.AllContexts && len(f.Contexts) > 0 {
		return errors.New("--all-contexts and --contexts cannot be used together (exclusions alone select every other context: --contexts ^NAME)")
	}
	if flags.Changed("context") {
		return errors.New("--context names one cluster: use --contexts for several")
	}
	for _, name := range clusterFlags {
		if flags.Changed(name) {
			return fmt.Errorf("--%s would apply to every context of the fleet: set it in each context of the kubeconfig instead", name)
		}
	}
	if f.Parallel < 1 {
		return fmt.Errorf("--parallel %d: want 1 or more", f.Parallel)
	}
	if f.ContextTimeout < 0 {
		return fmt.Errorf("--context-timeout %s: want 0 (none) or more", f.ContextTimeout)
	}
	if f.ClusterFromDir != "" {
		if len(src.Filenames) > 0 || src.Live {
			return errors.New("--cluster-from-dir reads one directory per cluster: -f and --live cannot be added")
		}
	} else if len(src.Filenames) > 0 {
		// Files alone read no cluster: with --live, they are merged into
		// every context's read, as --live does for one.
		if !src.Live {
			return errors.New("-f without --live reads no cluster: for one dump per cluster use --cluster-from-dir DIR, or add --live to merge the files into every context's read")
		}
		if slices.Contains(src.Filenames, "-") {
			return errors.New("-f - (stdin) can be read once, not once per context")
		}
	}
	s, err := fleet.ParseSelector(f.Contexts)
	if err != nil {
		return err
	}
	f.selector = s
	return nil
}

// fleetTarget is one cluster of the fleet.
type fleetTarget struct {
	fleet.Target
	// dir is the cluster's directory with --cluster-from-dir.
	dir string
	// folder is its folder under --output-dir.
	folder string
	// invalid is why the kubeconfig cannot reach it, found before any request.
	invalid error
	// cluster, user and namespace are the context's kubeconfig entries,
	// for --list-contexts.
	cluster, user, namespace string
}

// source names where the fleet's clusters come from, as its reports say.
func (f *fleetOptions) source() string {
	if f.ClusterFromDir != "" {
		return fleet.SourceDirectory
	}
	return fleet.SourceKubeconfig
}

// targets lists the selected clusters, sorted by name, and the clusters
// left out; withFolders when each gets a folder under --output-dir, which
// two must not share.
func (f *fleetOptions) targets(src *sourceOptions, withFolders bool) ([]fleetTarget, []fleet.Skipped, error) {
	var all []string
	described := map[string]fleetTarget{}
	if f.ClusterFromDir != "" {
		entries, err := os.ReadDir(f.ClusterFromDir)
		if err != nil {
			return nil, nil, fmt.Errorf("--cluster-from-dir: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				all = append(all, e.Name())
			}
		}
		if len(all) == 0 {
			return nil, nil, fmt.Errorf("--cluster-from-dir %s: no sub-directory (one per cluster, named after it)", f.ClusterFromDir)
		}
	} else {
		raw, err := src.configFlags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, nil, fmt.Errorf("load kubeconfig: %w", err)
		}
		for name, c := range raw.Contexts {
			all = append(all, name)
			t := fleetTarget{cluster: c.Cluster, user: c.AuthInfo, namespace: c.Namespace}
			if cl, ok := raw.Clusters[c.Cluster]; ok {
				t.Server = cl.Server
			} else {
				// client-go would quietly fall back to localhost.
				t.invalid = fmt.Errorf("context %q names cluster %q, which the kubeconfig lacks", name, c.Cluster)
			}
			described[name] = t
		}
		if len(all) == 0 {
			return nil, nil, errors.New("the kubeconfig has no context")
		}
	}
	names, skipped, err := f.selector.Explain(all)
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("--contexts %s selects none of %s", strings.Join(f.Contexts, ","), strings.Join(sorted(all), ", "))
	}
	out := make([]fleetTarget, 0, len(names))
	folders := map[string]string{}
	for _, n := range names {
		t := described[n]
		t.Context, t.folder = n, folderName(n)
		if f.ClusterFromDir != "" {
			t.dir = filepath.Join(f.ClusterFromDir, n)
		}
		if other, ok := folders[t.folder]; ok && withFolders {
			return nil, nil, fmt.Errorf("contexts %q and %q would share the folder %q under --output-dir: rename one in the kubeconfig", other, n, t.folder)
		}
		folders[t.folder] = n
		out = append(out, t)
	}
	return out, skipped, nil
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// folderName turns a context name into a folder name: context names carry
// '/' and ':' (EKS ARNs), which a path cannot. Every byte outside
// [A-Za-z0-9._-] becomes '_'.
func folderName(context string) string {
	b := []byte(context)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	s := string(b)
	if s == "." || s == ".." {
		s = strings.Repeat("_", len(s))
	}
	return s
}

// podTap passes a streamed read's pods on to the audit, noting what the
// blockers need of the bare ones (fleet.BarePods).
type podTap struct {
	next live.PodSink
	bare fleet.BarePods
}

// Ready implements live.PodSink.
func (p *podTap) Ready(inv *inventory.Inventory) error { return p.next.Ready(inv) }

// Add implements live.PodSink.
func (p *podTap) Add(pods []corev1.Pod, restart bool) error {
	p.bare.Add(pods, restart)
	return p.next.Add(pods, restart)
}

// fleetOutcome is what one cluster's single-context run left.
type fleetOutcome struct {
	// out is the cluster's report, held until the fleet's is printed.
	out    fleet.Spool
	errOut bytes.Buffer
	inv    *inventory.Inventory
	// bare are the bare pods of a streamed read (nil otherwise).
	bare  *fleet.BarePods
	audit *report.AuditReport
	// readiness is the report a readiness run printed.
	readiness *readiness.Report
	code      int
	version   string
	// cluster is the section, or sectionErr why it could not be built.
	cluster    fleet.Cluster
	sectionErr error
}

// commandConvert names convert in a fleetRun; audit and readiness use
// fleet's names, which their reports carry.
const commandConvert = "convert"

// fleetRun runs one command over the selected clusters.
type fleetRun struct {
	command     string
	opts        *fleetOptions
	src         *sourceOptions
	streams     genericiooptions.IOStreams
	toolVersion string
	// format is the command's -o ("" for convert, which has none).
	format string
	// folders is true when each cluster writes to its own folder.
	folders bool
	// section builds a cluster's section from its single-context output
	// (nil: no report, as for convert).
	section func(fleetTarget, *fleetOutcome) (fleet.Cluster, error)
	// single runs the command against one cluster as a single-context
	// run would, with src and streams in place of its own.
	single func(ctx context.Context, src sourceOptions, streams genericiooptions.IOStreams, t fleetTarget) error
}

// sourceFor builds the cluster's own sourceOptions: a fresh ConfigFlags,
// and so a fresh REST config, clients and discovery, for every context.
func (r *fleetRun) sourceFor(t fleetTarget, errOut io.Writer) sourceOptions {
	src := newSourceOptions(errOut)
	src.setVersion(r.toolVersion)
	if t.dir != "" {
		src.Filenames, src.Recursive = []string{t.dir}, true
		return src
	}
	base, cf := r.src.configFlags, src.configFlags
	name := t.Context
	cf.Context = &name
	cf.KubeConfig = base.KubeConfig
	cf.CacheDir = base.CacheDir
	cf.Impersonate, cf.ImpersonateUID, cf.ImpersonateGroup = base.Impersonate, base.ImpersonateUID, base.ImpersonateGroup
	cf.Namespace = base.Namespace
	cf.Timeout = base.Timeout
	if r.opts.ContextTimeout > 0 {
		// Each request too, so that a job the runner gave up on does not
		// hold its connection for long.
		timeout := r.opts.ContextTimeout.String()
		cf.Timeout = &timeout
	}
	src.Filenames, src.Recursive, src.Live = slices.Clone(r.src.Filenames), r.src.Recursive, r.src.Live
	return src
}

func (r *fleetRun) job(targets map[string]fleetTarget) fleet.Job[*fleetOutcome] {
	return func(ctx context.Context, name string) (*fleetOutcome, error) {
		t := targets[name]
		o := &fleetOutcome{}
		if t.invalid != nil {
			return o, t.invalid
		}
		src := r.sourceFor(t, &o.errOut)
		var version chan string
		if src.readsLive() {
			kube, _, err := src.clients()
			if err != nil {
				return o, err
			}
			// Asked beside the read, not before it: on a remote cluster a
			// round trip more would lengthen every cluster's run. A server
			// that will not say is left without a version; whatever keeps
			// it from answering, the read meets too and reports.
			version = make(chan string, 1)
			go func() {
				v, err := kube.Discovery().ServerVersion()
				if err != nil {
					version <- ""
					return
				}
				version <- v.GitVersion
			}()
		}
		tap := &podTap{}
		src.tapPods = func(next live.PodSink) live.PodSink { tap.next = next; return tap }
		src.onRead = func(inv *inventory.Inventory) { o.inv = inv }
		src.onAudit = func(rep *report.AuditReport) { o.audit = rep }
		src.onReadiness = func(rep *readiness.Report) { o.readiness = rep }
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &o.out, ErrOut: &o.errOut}
		err := r.single(ctx, src, streams, t)
		if version != nil {
			select {
			case o.version = <-version:
			case <-ctx.Done():
			}
		}
		if o.code = ExitCode(err); o.code == ExitError {
			return o, err
		}
		if r.section != nil {
			t.Version = o.version
			if tap.next != nil {
				o.bare = &tap.bare
			}
			o.cluster, o.sectionErr = r.section(t, o)
			// Built now, so that a fleet holds one inventory per running
			// job rather than one per cluster until the end.
			o.inv, o.audit, o.readiness, o.bare = nil, nil, nil, nil
		}
		return o, nil
	}
}

// run selects the clusters, runs each, and returns the outcomes in order,
// after copying each cluster's stderr to ErrOut, prefixed with its name.
// ok is false when --list-contexts only listed them.
func (r *fleetRun) run(ctx context.Context) ([]fleetTarget, []fleet.Result[*fleetOutcome], bool, error) {
	if r.opts.ListContexts && !slices.Contains(fleet.ContextListFormats, r.listFormat()) {
		return nil, nil, false, fmt.Errorf("--list-contexts prints %s, not %s", strings.Join(fleet.ContextListFormats, ", "), r.format)
	}
	targets, skipped, err := r.opts.targets(r.src, r.folders)
	if err != nil {
		return nil, nil, false, err
	}
	if r.opts.ListContexts {
		return targets, nil, false, r.list(targets, skipped)
	}
	byName := map[string]fleetTarget{}
	names := make([]string, len(targets))
	for i, t := range targets {
		byName[t.Context], names[i] = t, t.Context
	}
	if ctx == nil {
		ctx = context.Background()
	}
	results := fleet.Run(ctx, names, r.opts.Parallel, r.opts.ContextTimeout, r.job(byName))
	for _, res := range results {
		// A job the runner gave up on has no value: it may still be
		// writing its buffers.
		if res.Value != nil {
			prefixLines(r.streams.ErrOut, res.Context, res.Value.errOut.Bytes())
		}
		if res.Err != nil {
			what := "no report"
			if r.command == commandConvert {
				what = "not converted"
			}
			fmt.Fprintf(r.streams.ErrOut, "Warning: [%s] %s (%s): %v\n", res.Context, what, classify(res.Err), res.Err)
		}
	}
	return targets, results, true, nil
}

// listFormat is the -o of --list-contexts: the command's, table without one.
func (r *fleetRun) listFormat() string {
	if r.format == "" {
		return fleet.FormatTable
	}
	return r.format
}

// list prints the selection (--list-contexts) and what it left out.
func (r *fleetRun) list(targets []fleetTarget, skipped []fleet.Skipped) error {
	listed := make([]fleet.ListedContext, len(targets))
	for i, t := range targets {
		listed[i] = fleet.ListedContext{Context: t.Context, Cluster: t.cluster, Server: t.Server, User: t.user,
			Namespace: t.namespace, Directory: t.dir}
		if t.invalid != nil {
			listed[i].Error = t.invalid.Error()
		}
	}
	l := fleet.NewContextList(r.opts.source(), r.opts.Contexts, listed, skipped)
	return fleet.PrintContextList(r.streams.Out, l, r.listFormat())
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// prefixLines copies a cluster's stderr, naming the cluster on each line:
// "Warning: [prod-eu] ...".
func prefixLines(w io.Writer, context string, b []byte) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Next: ") {
			// The hint is for the fleet as a whole, not once per cluster.
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Warning: "); ok {
			fmt.Fprintf(w, "Warning: [%s] %s\n", context, rest)
		} else {
			fmt.Fprintf(w, "[%s] %s\n", context, line)
		}
	}
}

// classify names why a cluster produced no report (docs/fleet.md).
func classify(err error) string {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.Is(err, fleet.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fleet.ClassTimeout
	case apierrors.IsUnauthorized(err), apierrors.IsForbidden(err):
		return fleet.ClassForbidden
	case errors.As(err, &oe), errors.As(err, &de), errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &ne):
		return fleet.ClassUnreachable
	}
	return fleet.ClassInvalid
}

// report assembles the fleet report from the outcomes.
func (r *fleetRun) report(targets []fleetTarget, results []fleet.Result[*fleetOutcome]) *fleet.Report {
	clusters := make([]fleet.Cluster, len(results))
	for i, res := range results {
		t := targets[i]
		if res.Value != nil {
			t.Version = res.Value.version
		}
		if res.Err != nil {
			clusters[i] = fleet.ErrorCluster(t.Context, t.Server, t.Version, classify(res.Err), res.Err)
			continue
		}
		if err := res.Value.sectionErr; err != nil {
			clusters[i] = fleet.ErrorCluster(t.Context, t.Server, t.Version, fleet.ClassInvalid, err)
			continue
		}
		clusters[i] = res.Value.cluster
	}
	return fleet.New(fleet.Metadata{ToolVersion: r.toolVersion, Command: r.command, Source: r.opts.source(), Selector: r.opts.Contexts}, clusters)
}

// print runs every selected cluster, prints the fleet report in format
// and returns the worst cluster's exit error. --list-contexts only lists.
func (r *fleetRun) print(ctx context.Context, out io.Writer, format string) error {
	targets, results, ran, err := r.run(ctx)
	if err != nil || !ran {
		return err
	}
	rep := r.report(targets, results)
	if err := fleet.Print(out, rep, format); err != nil {
		return err
	}
	return fleetExit(rep)
}

// fleetExit turns the fleet's exit code into the command's error.
func fleetExit(rep *fleet.Report) error {
	code := rep.Summary.ExitCode
	if code == ExitOK {
		return nil
	}
	var failed []string
	for _, c := range rep.Clusters {
		if c.Error != nil {
			failed = append(failed, fmt.Sprintf("%s (%s)", c.Context, c.Error.Class))
		}
	}
	reason := fmt.Sprintf("%d of %d clusters did not pass", rep.Summary.NotReady+rep.Summary.Errors, rep.Summary.Clusters)
	if code == ExitError {
		reason = fmt.Sprintf("%d of %d clusters have no report: %s", len(failed), rep.Summary.Clusters, strings.Join(failed, ", "))
	}
	return withExitCode(code, reason)
}

// addFleet adds the fleet flags to cmd and runs it as a fleet when one is
// given; run does the fleet's work.
func addFleet(cmd *cobra.Command, f *fleetOptions, run func(c *cobra.Command, args []string) error) {
	f.Parallel, f.ContextTimeout = defaultParallel, defaultContextTimeout
	f.addFlags(cmd.Flags())
	// The flag was just added and has no completion yet: this cannot fail.
	_ = cmd.RegisterFlagCompletionFunc("contexts", completeContexts)
	single := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !f.enabled() {
			return single(c, args)
		}
		return run(c, args)
	}
}

// completeContexts completes --contexts as a comma-separated list: the
// term after the last comma, from the contexts of the kubeconfig the
// command would load (with --cluster-from-dir, its sub-directories), each
// candidate carrying the terms before it so that the shell keeps them. A
// term starting with ^ is completed as an exclusion; a /regex/ gets
// nothing. Names the list already holds are not offered again. No space
// follows, so that another comma can.
func completeContexts(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	const directive = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	terms := strings.Split(toComplete, ",")
	cut := strings.LastIndex(toComplete, ",") + 1
	done, term := toComplete[:cut], toComplete[cut:]
	if rest, ok := strings.CutPrefix(term, "^"); ok {
		done, term = done+"^", rest
	}
	if strings.HasPrefix(term, "/") {
		return nil, directive
	}
	given := map[string]bool{}
	earlier, _ := cmd.Flags().GetStringSlice("contexts")
	for _, t := range append(earlier, terms[:len(terms)-1]...) {
		given[strings.TrimPrefix(strings.TrimSpace(t), "^")] = true
	}
	var out []cobra.Completion
	for _, name := range fleetNames(cmd) {
		if strings.HasPrefix(name, term) && !given[name] {
			out = append(out, done+name)
		}
	}
	return out, directive
}

// fleetNames are the clusters a fleet run of cmd could select, sorted, or
// none when they cannot be read: completion offers nothing rather than fail.
func fleetNames(cmd *cobra.Command) []string {
	var names []string
	if dir, _ := cmd.Flags().GetString("cluster-from-dir"); dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil
		}
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		return names
	}
	raw, err := completionConfigFlags(cmd).ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	for name := range raw.Contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
