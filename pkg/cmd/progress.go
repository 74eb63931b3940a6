package cmd

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
)

// progressInterval is how often the status line is redrawn at most: often
// enough to look alive, rarely enough to cost nothing on a large cluster.
const progressInterval = 100 * time.Millisecond

// statusLine is one line of progress on a terminal, rewritten in place and
// erased when the work is done, so that it never mixes with the output or
// reaches a log: on anything but a terminal it writes nothing.
type statusLine struct {
	w     io.Writer
	on    bool
	width int

	mu    sync.Mutex
	shown bool
	last  time.Time
	// read is the live read's state per resource type.
	read map[string]readState
}

type readState struct {
	listed, total int
	done          bool
}

func newStatusLine(w io.Writer) *statusLine {
	s := &statusLine{w: w, on: isTerminal(w), read: map[string]readState{}}
	if s.on {
		s.width = outputWidth(w)
	}
	return s
}

// set shows msg now.
func (s *statusLine) set(msg string) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draw(msg)
}

// draw rewrites the line; s.mu is held.
func (s *statusLine) draw(msg string) {
	if s.width > 1 && runewidth.StringWidth(msg) >= s.width {
		msg = runewidth.Truncate(msg, s.width-1, "…")
	}
	fmt.Fprint(s.w, "\r\x1b[K"+msg)
	s.shown, s.last = true, time.Now()
}

// clear erases the line, leaving the cursor where the line began.
func (s *statusLine) clear() {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown {
		fmt.Fprint(s.w, "\r\x1b[K")
		s.shown = false
	}
}

// listed is live.Options.Progress: it counts each resource type's objects
// and redraws at most every progressInterval.
func (s *statusLine) listed(resource string, listed, total int, done bool) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read[resource] = readState{listed: listed, total: total, done: done}
	if time.Since(s.last) < progressInterval {
		return
	}
	s.draw(s.readMessage())
}

// readMessage is "Reading the cluster: 9/16 types; pods 4,000/10,000,
// replicasets 1,500": the types still being listed, largest first.
func (s *statusLine) readMessage() string {
	done := 0
	type part struct {
		name string
		st   readState
	}
	var open []part
	for name, st := range s.read {
		if st.done {
			done++
			continue
		}
		open = append(open, part{name, st})
	}
	sort.Slice(open, func(i, j int) bool {
		if open[i].st.listed != open[j].st.listed {
			return open[i].st.listed > open[j].st.listed
		}
		return open[i].name < open[j].name
	})
	var parts []string
	for _, p := range open {
		c := thousands(p.st.listed)
		if p.st.total >= 0 {
			c += "/" + thousands(p.st.total)
		}
		parts = append(parts, strings.SplitN(p.name, ".", 2)[0]+" "+c)
	}
	msg := fmt.Sprintf("Reading the cluster: %d/%d types done", done, len(s.read))
	if len(parts) > 0 {
		msg += "; " + strings.Join(parts, ", ")
	}
	return msg
}

// thousands writes n as 10,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
