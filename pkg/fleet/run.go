package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Job does the work for one context. It must honour ctx: Run gives up on
// it at the deadline either way and frees its slot, but a job that goes on
// past it keeps its connections until it ends.
type Job[R any] func(ctx context.Context, kubeContext string) (R, error)

// Result is one context's outcome.
type Result[R any] struct {
	Context  string
	Value    R
	Err      error
	Duration time.Duration
}

// ErrTimeout is the error of a context whose job outlived its deadline.
var ErrTimeout = errors.New("timed out")

// Run runs job once per context, at most parallel at a time, each with its
// own deadline (timeout; 0 means none), and returns the results in the
// order of contexts. One context failing, hanging or panicking never stops
// the others.
func Run[R any](ctx context.Context, contexts []string, parallel int, timeout time.Duration, job Job[R]) []Result[R] {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]Result[R], len(contexts))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, name := range contexts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = runOne(ctx, name, timeout, job)
		}()
	}
	wg.Wait()
	return out
}

func runOne[R any](parent context.Context, name string, timeout time.Duration, job Job[R]) Result[R] {
	ctx, cancel := parent, context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(parent, timeout)
	}
	defer cancel()
	start := time.Now()
	type done struct {
		v   R
		err error
	}
	ch := make(chan done, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- done{err: fmt.Errorf("internal error: %v", p)}
			}
		}()
		v, err := job(ctx, name)
		ch <- done{v, err}
	}()
	select {
	case d := <-ch:
		if d.err != nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			d.err = fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, d.err)
		}
		return Result[R]{Context: name, Value: d.v, Err: d.err, Duration: time.Since(start)}
	case <-ctx.Done():
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w after %s", ErrTimeout, timeout)
		}
		return Result[R]{Context: name, Err: err, Duration: time.Since(start)}
	}
}
