// Package wallclock is the one place outside the runtime where gomesos
// waits in real time on purpose: the OS edge of the Mesos containerizer
// polls kernel state that has no event to wait on (a cgroups v1 freezer
// state settling, a cgroup emptying, a process tree reaching SIGSTOP).
// Those polls are short and bounded and run on the containerizer's own
// goroutines, never on an actor; the kernel moves in real time, so the
// runtime's (possibly paused) Clock cannot pace them. Callers pass Sleep
// as the pause function of those polls; components never call it.
package wallclock

import "time"

// Sleep pauses the calling goroutine for d of real time.
func Sleep(d time.Duration) {
	time.Sleep(d) // wall-clock: pacing a bounded poll of kernel state
}
