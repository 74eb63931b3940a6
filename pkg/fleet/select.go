// Package fleet runs the plugin's checks over many clusters at once: it
// selects kubeconfig contexts the way kubectl-foreach does, runs one job per
// context concurrently, each with its own client and a deadline, and never
// lets one cluster's failure stop the others.
package fleet

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Selector chooses contexts by name. Each term is a name, /regex/, or
// either prefixed with ^ to exclude. With only exclusions, every other
// context is chosen, and so with no term at all (--all-contexts).
type Selector struct {
	include, exclude []matcher
}

type matcher struct {
	// term is the term as given, for --list-contexts to say what excluded a context.
	term string
	name string
	re   *regexp.Regexp
}

func (m matcher) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return m.name == s
}

// ParseSelector reads the terms of --contexts (already split at commas).
func ParseSelector(terms []string) (*Selector, error) {
	s := &Selector{}
	for _, raw := range terms {
		t := strings.TrimSpace(raw)
		if t == "" {
			continue
		}
		exclude := strings.HasPrefix(t, "^")
		m := matcher{term: t}
		t = strings.TrimPrefix(t, "^")
		if len(t) >= 2 && strings.HasPrefix(t, "/") && strings.HasSuffix(t, "/") {
			re, err := regexp.Compile(t[1 : len(t)-1])
			if err != nil {
				return nil, fmt.Errorf("--contexts %q: %w", raw, err)
			}
			m.re = re
		} else {
			if t == "" {
				return nil, fmt.Errorf("--contexts %q: empty context name", raw)
			}
			m.name = t
		}
		if exclude {
			s.exclude = append(s.exclude, m)
		} else {
			s.include = append(s.include, m)
		}
	}
	return s, nil
}

// Empty reports whether the selector has no term.
func (s *Selector) Empty() bool { return len(s.include) == 0 && len(s.exclude) == 0 }

// Select returns the chosen contexts of all, sorted. A plain name that
// names no context is an error: a typo must not shrink a fleet quietly.
func (s *Selector) Select(all []string) ([]string, error) {
	chosen, _, err := s.Explain(all)
	return chosen, err
}

// Skipped is a context the selector left out.
type Skipped struct {
	Context string `json:"context"`
	// ExcludedBy is the exclusion term (^name, ^/regex/) that left it out;
	// empty when it matched none of the terms that include.
	ExcludedBy string `json:"excludedBy,omitempty"`
}

// Explain is Select, also returning the contexts left out, sorted, with
// the term that excluded each.
func (s *Selector) Explain(all []string) ([]string, []Skipped, error) {
	known := map[string]bool{}
	for _, c := range all {
		known[c] = true
	}
	for _, m := range append(slices.Clone(s.include), s.exclude...) {
		if m.re == nil && !known[m.name] {
			return nil, nil, fmt.Errorf("context %q is not in the kubeconfig (contexts: %s)", m.name, strings.Join(sorted(all), ", "))
		}
	}
	var chosen []string
	var skipped []Skipped
	for _, c := range sorted(all) {
		in := len(s.include) == 0
		for _, m := range s.include {
			if m.match(c) {
				in = true
				break
			}
		}
		if !in {
			skipped = append(skipped, Skipped{Context: c})
			continue
		}
		by := ""
		for _, m := range s.exclude {
			if m.match(c) {
				by = m.term
				break
			}
		}
		if by != "" {
			skipped = append(skipped, Skipped{Context: c, ExcludedBy: by})
			continue
		}
		chosen = append(chosen, c)
	}
	return chosen, skipped, nil
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
