package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/psp-migrate/kubectl-psp-migrate/web"
)

// webDefaultPort is where `web` listens unless told otherwise; 0 picks a
// free port.
const webDefaultPort = 8484

// WebOptions holds the flags and state of `kubectl psp-migrate web`.
type WebOptions struct {
	// Port is --port; 0 lets the system pick a free one.
	Port int

	genericiooptions.IOStreams

	// site is the page, resolved in Complete; swapped in tests.
	site fs.FS
	// listening is told the URL once the server listens; for tests.
	listening func(url string)
}

// NewWebOptions returns the defaults of the web command.
func NewWebOptions(streams genericiooptions.IOStreams) *WebOptions {
	return &WebOptions{Port: webDefaultPort, IOStreams: streams}
}

// NewCmdWeb returns `kubectl psp-migrate web`.
func NewCmdWeb(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewWebOptions(streams)
	cmd := &cobra.Command{
		Use:   "web [--port PORT]",
		Short: "Serve the browser converter on 127.0.0.1",
		Long: `Serve the browser converter on 127.0.0.1 and print its URL. Paste a
PodSecurityPolicy (or a 'kubectl get psp -o yaml' List, with RBAC to scope
it) and get every engine's policies: the page runs this binary's converter,
compiled to WebAssembly, in the browser, so it writes what 'convert' writes.
Nothing pasted leaves the browser, and the server only serves the page's
own files. Ctrl-C stops it. docs/web.md describes the page and its links.`,
		Example: `  kubectl psp-migrate web
  kubectl psp-migrate web --port 0   # any free port`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.Flags().IntVar(&o.Port, "port", o.Port, "port to listen on at 127.0.0.1; 0 picks a free one")
	return cmd
}

// Complete finds the embedded page.
func (o *WebOptions) Complete(_ *cobra.Command, _ []string) error {
	if o.site != nil {
		return nil
	}
	site, err := web.Site()
	if err != nil {
		return err
	}
	o.site = site
	return nil
}

// Validate checks the port.
func (o *WebOptions) Validate() error {
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("invalid --port %d: want 0 to 65535", o.Port)
	}
	return nil
}

// Run serves until ctx is done or the process is interrupted.
func (o *WebOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Loopback only: the page is for the person at this machine.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%d: %w", o.Port, err)
	}
	url := "http://" + ln.Addr().String() + "/"
	srv := &http.Server{Handler: web.Handler(o.site), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(o.Out, "Serving the converter at %s (Ctrl-C stops it)\n", url)
	if o.listening != nil {
		o.listening(url)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s: %w", url, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stop serving %s: %w", url, err)
		}
		// A browser still downloading main.wasm: Ctrl-C means stop now.
		_ = srv.Close()
	}
	return nil
}
