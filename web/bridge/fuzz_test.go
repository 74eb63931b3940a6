package bridge

import (
	"strings"
	"testing"
)

// FuzzConvert feeds the page's entry point whatever can be pasted: it must
// never panic, and either refuse the input (with a line inside it, if any)
// or answer for every engine.
func FuzzConvert(f *testing.F) {
	for _, ex := range Examples() {
		f.Add(ex.YAML, "enforce", false, false)
	}
	f.Add(restrictedPSP, "audit", true, true)
	f.Add("a: [\n", "warn", false, false)
	f.Add("---\n---\nkind: List\nitems: [1]\n", "", false, false)
	f.Fuzz(func(t *testing.T, input, mode string, mutate, templates bool) {
		if len(input) > 1<<16 {
			return
		}
		r := Convert(Request{Input: input, Mode: mode, Mutate: mutate, GatekeeperTemplates: templates, Engines: []string{"vap", "kyverno"}})
		if r.Error != nil {
			if r.Error.Message == "" {
				t.Fatal("an error without a message")
			}
			if n := strings.Count(input, "\n") + 1; r.Error.Line < 0 || r.Error.Line > n {
				t.Fatalf("error on line %d of a %d-line input: %s", r.Error.Line, n, r.Error.Message)
			}
			if len(r.Engines) != 0 {
				t.Fatal("engines rendered for a refused input")
			}
			return
		}
		if len(r.Engines) != 2 {
			t.Fatalf("%d engines answered, want 2", len(r.Engines))
		}
	})
}
