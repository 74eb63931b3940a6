package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/inventory"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/live"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/readiness"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/report"
)

// Client rate limits for the live read. client-go's default (5 QPS) turns
// a few dozen paginated LISTs into tens of seconds; the commands issue a
// bounded number of read-only requests, so a higher ceiling is safe.
const (
	clientQPS   = 100
	clientBurst = 200
)

// UserAgentName starts the User-Agent of every request the plugin sends to
// the cluster ("kubectl-psp_migrate/v0.1.0 (linux/amd64)"), so that the API
// server's audit log attributes them to the plugin (docs/permissions.md).
const UserAgentName = "kubectl-psp_migrate"

// userAgent is the User-Agent header for a build of version.
func userAgent(version string) string {
	if version == "" {
		version = "unknown"
	}
	return fmt.Sprintf("%s/%s (%s/%s)", UserAgentName, version, runtime.GOOS, runtime.GOARCH)
}

// sourceOptions is how a command gets its inventory, the same way for every
// command: the live cluster through the kubectl flags, manifests with -f,
// or both with --live.
type sourceOptions struct {
	configFlags *genericclioptions.ConfigFlags

	Filenames []string
	Recursive bool
	Live      bool
	// AllNamespaces is -A: every namespace, the default unless -n is given.
	AllNamespaces bool

	// namespace is -n when given (complete); "" reads every namespace.
	namespace string

	// flags are the command's flags, to tell which were set; errOut
	// receives warnings.
	flags  *pflag.FlagSet
	errOut io.Writer

	// newClients builds the cluster clients; swapped in tests. Use
	// clients(), which builds them once per command.
	newClients func() (kubernetes.Interface, dynamic.Interface, error)
	kube       kubernetes.Interface
	dyn        dynamic.Interface

	// podSink, when set, takes the pods of a live read that no file is
	// merged with, page by page, instead of the inventory (live.PodSink).
	podSink live.PodSink
	// onRead, when set, is given the inventory read: a fleet run keeps it
	// for the images and charts of each cluster's blockers.
	onRead func(*inventory.Inventory)
	// onAudit, when set, is given the audit report before it is printed:
	// a fleet run builds the cluster's section from it rather than decode
	// megabytes of the JSON it printed.
	onAudit func(*report.AuditReport)
	// onReadiness, when set, is given the readiness report before it is
	// printed, as onAudit is the audit's.
	onReadiness func(*readiness.Report)
	// tapPods, when set, wraps podSink: a fleet run notes what it needs of
	// the pods a streamed read does not keep.
	tapPods func(live.PodSink) live.PodSink
}

func newSourceOptions(errOut io.Writer) sourceOptions {
	s := sourceOptions{configFlags: genericclioptions.NewConfigFlags(true), errOut: errOut}
	// Attributed to the plugin even before (or without) setVersion.
	s.setVersion("")
	s.newClients = func() (kubernetes.Interface, dynamic.Interface, error) {
		return clientsFromFlags(s.configFlags, errOut)
	}
	return s
}

// setVersion makes the cluster clients identify as this build of the
// plugin. It goes through configFlags, which the clients' constructor
// shares, rather than a field of this struct, which it captured by value.
func (s *sourceOptions) setVersion(version string) {
	agent := userAgent(version)
	s.configFlags.WrapConfigFn = func(cfg *rest.Config) *rest.Config {
		cfg.UserAgent = agent
		return cfg
	}
}

// addFlags binds the kubectl cluster flags and -f/-R/--live; use says what
// the command does with the input ("audit", "read").
func (s *sourceOptions) addFlags(flags *pflag.FlagSet, use string) {
	s.flags = flags
	s.configFlags.AddFlags(flags)
	flags.StringSliceVarP(&s.Filenames, "filename", "f", nil, "manifest file, directory or - (stdin) to "+use+" instead of the live cluster; repeatable")
	flags.BoolVarP(&s.Recursive, "recursive", "R", false, "read directories given with -f recursively")
	flags.BoolVar(&s.Live, "live", false, "with -f, also read the live cluster and merge (the cluster's copy wins)")
	flags.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, "read every namespace (the default unless -n is given)")
}

// complete takes -n only when given: unlike most kubectl commands these
// span every namespace unless told otherwise, since a PSP migration is a
// cluster-wide change and a read of the kubeconfig's default namespace
// would look complete.
func (s *sourceOptions) complete(flags *pflag.FlagSet) {
	if flags.Changed("namespace") && s.configFlags.Namespace != nil {
		s.namespace = *s.configFlags.Namespace
	}
}

// readsLive reports whether the cluster is read: without -f, or with --live.
func (s *sourceOptions) readsLive() bool {
	return len(s.Filenames) == 0 || s.Live
}

func (s *sourceOptions) validate() error {
	if s.AllNamespaces && s.namespace != "" {
		return errors.New("--all-namespaces and --namespace cannot be used together")
	}
	if s.Live && len(s.Filenames) == 0 {
		return errors.New("--live only makes sense with -f (without -f the cluster is read anyway)")
	}
	return nil
}

// read builds the inventory: the live cluster first (limited to namespace
// when set), then the files; an object in both keeps the cluster's copy.
// On a terminal the live read shows its progress on errOut.
func (s *sourceOptions) read(ctx context.Context, stdin io.Reader, namespace string) (*inventory.Inventory, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	inv := &inventory.Inventory{}
	if s.readsLive() {
		status := newStatusLine(s.errOut)
		status.set("Reading the cluster…")
		kube, dyn, err := s.clients()
		if err != nil {
			status.clear()
			return nil, explainClusterError(s.configFlags, namespace, err)
		}
		opts := live.Options{Namespace: namespace, Progress: status.listed}
		if len(s.Filenames) == 0 {
			opts.Pods = s.podSink
			if s.tapPods != nil && opts.Pods != nil {
				opts.Pods = s.tapPods(opts.Pods)
			}
		}
		cluster, err := live.Read(ctx, kube, dyn, opts)
		status.clear()
		if err != nil {
			if explained := explainClusterError(s.configFlags, namespace, err); explained != err {
				return nil, explained
			}
			return nil, fmt.Errorf("read cluster: %w", err)
		}
		inv.Merge(cluster)
	} else if s.flags != nil && s.errOut != nil {
		// Reading the files alone is what -f asks; a --context given
		// with it most likely meant --live, so say it had no effect.
		if ignored := ignoredClusterFlags(s.flags); len(ignored) > 0 {
			warn(s.errOut, "%s ignored: -f reads only the files (add --live to read the cluster too)", strings.Join(ignored, ", "))
		}
	}
	if len(s.Filenames) > 0 {
		// The limit is process-wide: a fleet run (onRead set) reads
		// several clusters' dumps at once, and one dump's limit would
		// starve the others' collectors.
		if !s.readsLive() && s.onRead == nil {
			limitMemory(manifest.InputSize(s.Filenames, s.Recursive))
		}
		files, err := inventory.ReadPaths(s.Filenames, s.Recursive, stdin)
		if err != nil {
			return nil, err
		}
		// -n places the files' namespace-less objects as `kubectl apply
		// -n` would; without it they stay unplaced rather than guessed.
		files.SetMissingNamespace(namespace)
		inv.Merge(files)
		if namespace != "" && !s.readsLive() && !holdsNamespace(inv, namespace) {
			// The cluster says when -n names no namespace; say it for
			// files too, rather than print an empty report.
			warn(s.errOut, "namespace %q: nothing in it in the files read (check the name, or drop -n)", namespace)
		}
	}
	if s.podSink != nil && !s.readsLive() && s.onRead == nil && s.tapPods == nil {
		if err := sinkPods(inv, s.podSink); err != nil {
			return nil, err
		}
	}
	if s.onRead != nil {
		s.onRead(inv)
	}
	return inv, nil
}

// limitMemory tunes the collector for a read of files only, unless the Go
// runtime's own variables say otherwise: a soft memory limit of four times
// the size of the files read (at least 256 MiB) unless GOMEMLIMIT is set,
// and a GC target of 80 (the heap grows to 1.8 times what is live, not
// twice) unless GOGC is. This is tuning, not streaming: the inventory of a
// large dump is held while it is audited (about twice the size of a YAML
// dump), and the default heap goal of twice that is what made a 68 MB dump
// peak at more than 6 times its size. The limit is soft: a larger live heap
// costs collector time, never an error. A live read keeps Go's defaults:
// what it holds is the controllers and the verdicts, not the pods, and
// there the lower target cost a tenth of the audit's CPU (on the
// 10,000-pod bench: 0.1 s for 15 MiB of peak RSS).
func limitMemory(inputBytes int64) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(fileGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := max(4*inputBytes, 256<<20)
	if limit < debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(limit)
	}
}

// fileGCPercent is the collector's target for a read of files only (see
// limitMemory).
const fileGCPercent = 80

// sinkPods hands the pods read from files to sink as a live read hands
// over its pages, and takes them out of inv: each page's pods are let go
// once evaluated, rather than held until the report is made.
func sinkPods(inv *inventory.Inventory, sink live.PodSink) error {
	pods := inv.Pods
	inv.Pods = nil
	if err := sink.Ready(inv); err != nil {
		return err
	}
	const page = 500
	for len(pods) > 0 {
		n := min(page, len(pods))
		p := make([]corev1.Pod, n)
		copy(p, pods[:n])
		clear(pods[:n])
		pods = pods[n:]
		if err := sink.Add(p, false); err != nil {
			return err
		}
	}
	return nil
}

// holdsNamespace reports whether inv has the namespace or anything in it.
func holdsNamespace(inv *inventory.Inventory, namespace string) bool {
	for _, n := range inv.Namespaces {
		if n.Name == namespace {
			return true
		}
	}
	for _, p := range inv.Pods {
		if p.Namespace == namespace {
			return true
		}
	}
	for _, t := range inv.PodTemplates() {
		if t.Meta.Namespace == namespace {
			return true
		}
	}
	return false
}

func clientsFromFlags(configFlags *genericclioptions.ConfigFlags, errOut io.Writer) (kubernetes.Interface, dynamic.Interface, error) {
	cfg, err := configFlags.ToRESTConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	// Server warnings (such as PSP's own deprecation notice) go to ErrOut
	// once each, as kubectl prints them, not through klog.
	cfg.WarningHandler = rest.NewWarningWriter(errOut, rest.WarningWriterOptions{Deduplicate: true})
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("build dynamic client: %w", err)
	}
	// Protobuf halves decode time and memory for built-in types; the
	// dynamic client (PSPs) stays on JSON, which is all it can decode.
	pcfg := rest.CopyConfig(cfg)
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	kube, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("build client: %w", err)
	}
	return kube, dyn, nil
}

// clients returns the cluster clients, built on first use: a command that
// reads the cluster and then asks its discovery (readiness) builds them once.
func (s *sourceOptions) clients() (kubernetes.Interface, dynamic.Interface, error) {
	if s.kube == nil {
		kube, dyn, err := s.newClients()
		if err != nil {
			return nil, nil, err
		}
		s.kube, s.dyn = kube, dyn
	}
	return s.kube, s.dyn, nil
}
