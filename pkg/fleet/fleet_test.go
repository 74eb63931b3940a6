package fleet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSelect(t *testing.T) {
	all := []string{"prod-eu", "prod-us", "staging", "dev-alice", "kind-kind"}
	tests := []struct {
		name    string
		terms   []string
		want    []string
		wantErr string
	}{
		{"names", []string{"staging", "prod-us"}, []string{"prod-us", "staging"}, ""},
		{"regex", []string{"/^prod-/"}, []string{"prod-eu", "prod-us"}, ""},
		{"exclusions only", []string{"^/^dev-/", "^kind-kind"}, []string{"prod-eu", "prod-us", "staging"}, ""},
		{"include and exclude", []string{"/prod|staging/", "^prod-us"}, []string{"prod-eu", "staging"}, ""},
		{"no terms: all", nil, []string{"dev-alice", "kind-kind", "prod-eu", "prod-us", "staging"}, ""},
		{"a typo is an error", []string{"prod-uss"}, nil, `context "prod-uss" is not in the kubeconfig`},
		{"a bad regex is an error", []string{"/[/"}, nil, "--contexts"},
		{"a regex matching nothing is empty", []string{"/^qa-/"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSelector(tt.terms)
			if err == nil {
				var got []string
				got, err = s.Select(all)
				if err == nil && !slices.Equal(got, tt.want) {
					t.Errorf("selected %v, want %v", got, tt.want)
				}
			}
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	all := []string{"prod-eu", "prod-us", "staging", "kind-kind"}
	tests := []struct {
		name  string
		terms []string
		want  []Skipped
	}{
		{"every context: none left out", nil, nil},
		{"not included: no term", []string{"/^prod-/"}, []Skipped{{Context: "kind-kind"}, {Context: "staging"}}},
		{"excluded: the first exclusion that matched", []string{"/^prod-|kind/", "^/-us$/", "^/^prod/", "^kind-kind"},
			[]Skipped{{Context: "kind-kind", ExcludedBy: "^kind-kind"}, {Context: "prod-eu", ExcludedBy: "^/^prod/"},
				{Context: "prod-us", ExcludedBy: "^/-us$/"}, {Context: "staging"}}},
		{"terms are reported trimmed", []string{" ^staging "}, []Skipped{{Context: "staging", ExcludedBy: "^staging"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSelector(tt.terms)
			if err != nil {
				t.Fatal(err)
			}
			chosen, skipped, err := s.Explain(all)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(skipped, tt.want) {
				t.Errorf("skipped %v, want %v", skipped, tt.want)
			}
			if len(chosen)+len(skipped) != len(all) {
				t.Errorf("chosen %v and skipped %v do not partition %v", chosen, skipped, all)
			}
		})
	}
}

func TestRun(t *testing.T) {
	var running, peak atomic.Int32
	job := func(ctx context.Context, name string) (string, error) {
		if name == "ignores-deadline" {
			// Run stops waiting for it at the deadline and frees its slot;
			// it goes on in the background, uncounted.
			time.Sleep(2 * time.Second)
			return "late", nil
		}
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		switch name {
		case "down":
			return "", errors.New("connection refused")
		case "hangs":
			<-ctx.Done()
			return "", ctx.Err()
		case "panics":
			panic("boom")
		}
		time.Sleep(20 * time.Millisecond)
		return "ok " + name, nil
	}
	contexts := []string{"a", "down", "hangs", "ignores-deadline", "panics", "b", "c"}
	res := Run(t.Context(), contexts, 2, 200*time.Millisecond, job)
	if len(res) != len(contexts) {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if r.Context != contexts[i] {
			t.Errorf("result %d is %s, want %s (order kept)", i, r.Context, contexts[i])
		}
		switch r.Context {
		case "a", "b", "c":
			if r.Err != nil || r.Value != "ok "+r.Context {
				t.Errorf("%s: %q, %v", r.Context, r.Value, r.Err)
			}
		case "down":
			if r.Err == nil || !strings.Contains(r.Err.Error(), "connection refused") {
				t.Errorf("down: %v", r.Err)
			}
		case "hangs", "ignores-deadline":
			if !errors.Is(r.Err, ErrTimeout) {
				t.Errorf("%s: %v, want a timeout", r.Context, r.Err)
			}
		case "panics":
			if r.Err == nil || !strings.Contains(r.Err.Error(), "boom") {
				t.Errorf("panics: %v", r.Err)
			}
		}
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d jobs at once, want at most 2", p)
	}
}
