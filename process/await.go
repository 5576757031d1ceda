package process

import (
	"time"

	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/process/walltime"
)

// Await waits up to timeout (wall-clock) for f to complete and reports
// whether it did. On a deterministic runtime it drives the dispatcher while
// it waits, so it is the way for a test goroutine to wait for a future
// that processes complete. Never call it from inside a process.
func Await[T any](rt *Runtime, f future.Future[T], timeout time.Duration) bool {
	if rt.det == nil {
		return f.Await(timeout)
	}
	expired, stop := walltime.Clock{}.After(timeout) // the bound of a wait is real time
	defer stop()
	for {
		rt.det.RunUntilIdle()
		select {
		case <-f.Done():
			return true
		default:
		}
		select {
		case <-f.Done():
			return true
		case <-rt.det.Ready():
		case <-expired:
			return false
		}
	}
}
