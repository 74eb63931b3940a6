package cmd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

// TestTablesFitTheTerminal renders each table at 80, 120 and 200 columns
// (COLUMNS, as a terminal sets it) against golden files, and checks that
// no line is wider than asked, except where the columns that may not give
// way already fill it (80 columns with an engine column).
func TestTablesFitTheTerminal(t *testing.T) {
	tables := []struct {
		name string
		args []string
		code int
	}{
		{name: "audit", args: []string{"audit", "-f", "../../examples/cluster.yaml"}},
		{name: "audit-vap", args: []string{"audit", "-f", "../../examples/cluster.yaml", "-e", "vap"}},
		{name: "readiness", args: []string{"readiness", "-f", "../../examples/cluster.yaml"}, code: ExitFindings},
	}
	for _, tt := range tables {
		for _, cols := range []int{80, 120, 200} {
			t.Run(fmt.Sprintf("%s-%d", tt.name, cols), func(t *testing.T) {
				t.Setenv("COLUMNS", fmt.Sprint(cols))
				code, out, errOut := runRoot(t, tt.args...)
				if code != tt.code {
					t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut)
				}
				checkGoldenText(t, fmt.Sprintf("tables/%s-%d.txt", tt.name, cols), out)
				inTable := true
				for _, line := range strings.Split(out, "\n") {
					if line == "" {
						inTable = false
					}
					if n := runewidth.StringWidth(line); n > cols && (tt.name != "readiness" || inTable) && !(tt.name == "audit-vap" && cols == 80) {
						t.Errorf("line of %d columns, want at most %d: %s", n, cols, line)
					}
				}
			})
		}
	}
}

// TestTablesUnfittedWhenPiped: without COLUMNS and not on a terminal the
// table is whole (scripts that cut columns get every character), while
// -o wide never is cut.
func TestTablesUnfittedWhenPiped(t *testing.T) {
	t.Setenv("COLUMNS", "")
	_, out, _ := runRoot(t, "audit", "-f", "../../examples/cluster.yaml")
	if strings.Contains(out, "…") {
		t.Errorf("piped table was cut:\n%s", out)
	}
	t.Setenv("COLUMNS", "80")
	_, out, _ = runRoot(t, "audit", "-f", "../../examples/cluster.yaml", "-o", "wide")
	if strings.Contains(out, "…") {
		t.Errorf("-o wide was cut:\n%s", out)
	}
}
