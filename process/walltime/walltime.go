// Package walltime is the one place of the runtime that reads the
// computer's clock. The running side of process.Clock and the timeouts at
// the OS edge (the wire's dial and idle timeouts, the bound on metrics
// gauge pulls, Await's bound) take real time from here, so that the rest
// of the tree reads time only through process.Clock.
package walltime

import "time"

// Clock is real time. Its zero value is ready to use.
type Clock struct{}

// Now returns the current wall-clock time.
func (Clock) Now() time.Time { return time.Now() }

// Until returns how long until t.
func (Clock) Until(t time.Time) time.Duration { return time.Until(t) }

// AfterFunc calls fn on its own goroutine once d has passed. cancel stops
// it and reports whether it stopped fn from running.
func (Clock) AfterFunc(d time.Duration, fn func()) (cancel func() bool) {
	return time.AfterFunc(d, fn).Stop
}

// After returns a channel that is closed once d has passed, and a stop
// function that releases the timer early.
func (c Clock) After(d time.Duration) (ch <-chan struct{}, stop func()) {
	done := make(chan struct{})
	cancel := c.AfterFunc(d, func() { close(done) })
	return done, func() { cancel() }
}

// Sleep pauses the calling goroutine for d of real time. Only the OS
// edge of the Mesos containerizer calls it, to pace short, bounded polls
// of kernel state that has no event to wait on (a cgroups v1 freezer
// state settling, a cgroup emptying, a process tree reaching SIGSTOP):
// the kernel moves in real time, so a paused Clock cannot pace them.
// Those polls run on the containerizer's own goroutines, never on an
// actor; components pass Sleep along as a pause function and never call it.
func Sleep(d time.Duration) {
	time.Sleep(d) // wall-clock: pacing a bounded poll of kernel state
}
