package fleet

import (
	"slices"
	"strings"
	"testing"
)

// FuzzSelector: whatever --contexts holds, selection never panics,
// chooses a sorted subset of the contexts, the same one twice, and leaves
// out exactly the others.
func FuzzSelector(f *testing.F) {
	for _, seed := range []string{"prod-eu,staging", "/^prod-/", "^/^dev-/,^kind-kind", "/[/", "^", "/", "^//", "a,,b", "/(?i)PROD/,^prod-us"} {
		f.Add(seed)
	}
	all := []string{"prod-eu", "prod-us", "staging", "dev-alice", "kind-kind", "arn:aws:eks:eu-west-1:1:cluster/prod"}
	f.Fuzz(func(t *testing.T, terms string) {
		s, err := ParseSelector(strings.Split(terms, ","))
		if err != nil {
			return
		}
		got, skipped, err := s.Explain(all)
		if err != nil {
			return
		}
		if len(got)+len(skipped) != len(all) {
			t.Errorf("%q chose %v and left out %v, not every context once", terms, got, skipped)
		}
		for _, sk := range skipped {
			if slices.Contains(got, sk.Context) {
				t.Errorf("%q both chose and left out %q", terms, sk.Context)
			}
		}
		if !slices.IsSorted(got) {
			t.Errorf("%q selected %v, not sorted", terms, got)
		}
		for _, c := range got {
			if !slices.Contains(all, c) {
				t.Errorf("%q selected %q, not a context", terms, c)
			}
		}
		again, _ := s.Select(all)
		if !slices.Equal(got, again) {
			t.Errorf("%q selected %v, then %v", terms, got, again)
		}
	})
}
