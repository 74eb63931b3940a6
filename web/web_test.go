package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHandler(t *testing.T) {
	wasm := []byte("\x00asm fake module")
	site := fstest.MapFS{
		"index.html":   {Data: []byte("<!DOCTYPE html><title>x</title>")},
		"main.wasm.gz": {Data: gz(t, wasm)},
		"wasm_exec.js": {Data: []byte("// go")},
	}
	tests := []struct {
		name         string
		method, path string
		encoding     string
		wantStatus   int
		wantType     string
		wantEncoding string
		wantBody     []byte
	}{
		{name: "page", method: "GET", path: "/", wantStatus: 200, wantType: "text/html", wantBody: site["index.html"].Data},
		{name: "wasm, gzip", method: "GET", path: "/main.wasm", encoding: "gzip, deflate, br", wantStatus: 200, wantType: "application/wasm", wantEncoding: "gzip", wantBody: site["main.wasm.gz"].Data},
		{name: "wasm, no gzip", method: "GET", path: "/main.wasm", wantStatus: 200, wantType: "application/wasm", wantBody: wasm},
		{name: "wasm, gzip refused", method: "GET", path: "/main.wasm", encoding: "gzip;q=0", wantStatus: 200, wantType: "application/wasm", wantBody: wasm},
		{name: "missing", method: "GET", path: "/nope.js", wantStatus: 404},
		{name: "no writes", method: "POST", path: "/", wantStatus: 405},
	}
	h := Handler(site)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.encoding != "" {
				req.Header.Set("Accept-Encoding", tt.encoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if csp := res.Header.Get("Content-Security-Policy"); csp != CSP {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if tt.wantStatus != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if ce := res.Header.Get("Content-Encoding"); ce != tt.wantEncoding {
				t.Errorf("Content-Encoding %q, want %q", ce, tt.wantEncoding)
			}
			body, _ := io.ReadAll(res.Body)
			if !bytes.Equal(body, tt.wantBody) {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestSite(t *testing.T) {
	site, err := Site()
	if err == ErrNoWASM {
		t.Skip("web/dist not generated (run make web): the embedded-page path is covered by test/browser")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.html", "app.js", "style.css", WASMExec, WASMGzip} {
		f, err := site.Open(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		f.Close()
	}
	rec := httptest.NewRecorder()
	Handler(site).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !strings.Contains(rec.Body.String(), `<script src="app.js">`) {
		t.Errorf("index.html does not load app.js")
	}
}
