package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestWebValidate(t *testing.T) {
	tests := []struct {
		name    string
		port    int
		wantErr string
	}{
		{name: "default", port: webDefaultPort},
		{name: "any free port", port: 0},
		{name: "negative", port: -1, wantErr: "invalid --port -1"},
		{name: "too large", port: 65536, wantErr: "invalid --port 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewWebOptions(genericiooptions.NewTestIOStreamsDiscard())
			o.Port = tt.port
			err := o.Validate()
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// Run serves on 127.0.0.1, prints the URL, and stops when its context ends.
func TestWebRun(t *testing.T) {
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	o := NewWebOptions(streams)
	o.Port = 0
	o.site = fstest.MapFS{"index.html": {Data: []byte("page")}}
	urls := make(chan string, 1)
	o.listening = func(u string) { urls <- u }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("URL %q is not on 127.0.0.1", url)
	}
	if !strings.Contains(out.String(), url) {
		t.Errorf("the URL is not printed: %q", out.String())
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(body, []byte("page")) {
		t.Errorf("GET / = %q", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop after its context ended")
	}
}

// A port in use is an error naming the address.
func TestWebPortInUse(t *testing.T) {
	first := NewWebOptions(genericiooptions.NewTestIOStreamsDiscard())
	first.Port = 0
	first.site = fstest.MapFS{}
	urls := make(chan string, 1)
	first.listening = func(u string) { urls <- u }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = first.Run(ctx) }()
	url := <-urls
	port := strings.TrimSuffix(url[strings.LastIndex(url, ":")+1:], "/")

	second := NewWebOptions(genericiooptions.NewTestIOStreamsDiscard())
	second.site = fstest.MapFS{}
	if _, err := fmt.Sscan(port, &second.Port); err != nil {
		t.Fatal(err)
	}
	err := second.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:"+port) {
		t.Errorf("Run on a used port = %v", err)
	}
}
