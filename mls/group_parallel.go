package mls

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelMinItems is the batch size below which parallelFor runs inline.
const parallelMinItems = 16

// parallelFor calls f(i) for i in [0, n), spreading the calls over up to
// GOMAXPROCS goroutines when n is large (batched adds of many members),
// and returns the error of the lowest failing index. f must be safe to
// call concurrently.
func parallelFor(n int, f func(i int) error) error {
	workers := runtime.GOMAXPROCS(0)
	if n < parallelMinItems || workers < 2 {
		for i := 0; i < n; i++ {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	if workers > n {
		workers = n
	}
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs[i] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
