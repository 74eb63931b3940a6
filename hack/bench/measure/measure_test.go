package measure

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
	} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMeasure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	progs := []Program{{Name: "echo", Path: "/bin/sh", Args: []string{"-c", "echo hello"}, Output: out}}
	res, err := Measure(context.Background(), progs, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Samples) != 3 {
		t.Fatalf("results = %+v, want 1 result of 3 samples", res)
	}
	if res[0].MedianWall <= 0 || res[0].MaxRSS <= 0 {
		t.Errorf("median wall %v, max RSS %d: want both > 0", res[0].MedianWall, res[0].MaxRSS)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "hello\n" {
		t.Errorf("warm-up output = %q, %v; want %q", b, err, "hello\n")
	}
}

func TestRunOnceFailure(t *testing.T) {
	_, err := RunOnce(context.Background(), Program{Name: "fails", Path: "/bin/sh", Args: []string{"-c", "echo broken >&2; exit 3"}}, "")
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("err = %v, want the exit status with the program's stderr", err)
	}
}
