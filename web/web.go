// Package web holds the browser converter's files for `kubectl psp-migrate
// web`: the static page (static/) and the generated WebAssembly build of
// the converter (dist/, written by hack/web.sh, not in git), and serves
// them.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static dist
var files embed.FS

// Files in the page's folder.
const (
	WASMGzip = "main.wasm.gz"
	WASMExec = "wasm_exec.js"
)

// ErrNoWASM is returned by Handler for a build without the converter:
// hack/web.sh (make web) was not run before go build.
var ErrNoWASM = errors.New("this binary was built without the browser converter: run `make web` (hack/web.sh) before building it")

// Site is the page's folder as a static host serves it: the page, Go's
// wasm_exec.js and main.wasm.gz.
func Site() (fs.FS, error) {
	for _, name := range []string{WASMGzip, WASMExec} {
		if _, err := fs.Stat(files, "dist/"+name); err != nil {
			return nil, ErrNoWASM
		}
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	dist, err := fs.Sub(files, "dist")
	if err != nil {
		return nil, err
	}
	return overlay{static, dist}, nil
}

// overlay reads from the first FS that has the file.
type overlay []fs.FS

func (o overlay) Open(name string) (fs.File, error) {
	for _, f := range o {
		if file, err := f.Open(name); err == nil {
			return file, nil
		}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// CSP is the page's Content-Security-Policy: its own files only, so that
// nothing pasted can be sent anywhere.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves site (as Site returns it): main.wasm from main.wasm.gz,
// compressed to clients that take gzip (every browser) and inflated for the
// others.
func Handler(site fs.FS) http.Handler {
	static := http.FileServerFS(site)
	var (
		once     sync.Once
		raw      []byte
		inflateE error
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if path.Clean(r.URL.Path) != "/main.wasm" {
			static.ServeHTTP(w, r)
			return
		}
		gz, err := fs.ReadFile(site, WASMGzip)
		if err != nil {
			http.Error(w, fmt.Sprintf("read %s: %v", WASMGzip, err), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/wasm")
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			http.ServeContent(w, r, "main.wasm", zeroTime, bytes.NewReader(gz))
			return
		}
		once.Do(func() { raw, inflateE = gunzip(gz) })
		if inflateE != nil {
			http.Error(w, fmt.Sprintf("inflate %s: %v", WASMGzip, inflateE), http.StatusInternalServerError)
			return
		}
		http.ServeContent(w, r, "main.wasm", zeroTime, bytes.NewReader(raw))
	})
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

// zeroTime leaves Last-Modified out: embedded files carry no time.
var zeroTime = time.Time{}
