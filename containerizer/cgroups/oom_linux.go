//go:build linux

package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// OOMListen watches cgroup (memory subsystem) for running out of memory.
// The returned channel is closed once, the first time the cgroup hits its
// limit with nothing left to reclaim (whether or not the OOM killer then
// kills something; see OOMControl). It is never closed if cancel is
// called first or the cgroup is removed, so a receiver should also select
// on its own stop signal. cancel stops the watch, releases its file
// descriptors and waits for its goroutine; it may be called more than
// once, and must be called eventually.
//
// The watch is an eventfd registered with the cgroup's
// cgroup.event_control against memory.oom_control.
func OOMListen(cgroup string) (<-chan struct{}, func(), error) {
	d, err := Path(Memory, cgroup)
	if err != nil {
		return nil, nil, err
	}
	controlFile := filepath.Join(d, "memory.oom_control")
	control, err := os.Open(controlFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cgroups: oom listen: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		control.Close()
		return nil, nil, fmt.Errorf("cgroups: oom listen on %s: eventfd: %w", d, err)
	}
	// A non-blocking descriptor gets a pollable *os.File, whose Close
	// wakes a blocked Read: that is how cancel stops the goroutine.
	event := os.NewFile(uintptr(efd), "eventfd")
	reg := fmt.Sprintf("%d %d", efd, control.Fd())
	if err := writeFile(filepath.Join(d, "cgroup.event_control"), reg); err != nil {
		event.Close()
		control.Close()
		return nil, nil, fmt.Errorf("%w (registering for %s)", err, controlFile)
	}

	fired := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer control.Close()
		var buf [8]byte
		if _, err := event.Read(buf[:]); err != nil {
			// Closed by cancel (os.ErrClosed) or a broken descriptor: no
			// event to report either way.
			return
		}
		// The kernel also signals the eventfd when the cgroup goes away;
		// only a cgroup that still exists has run out of memory.
		if _, err := os.Stat(controlFile); errors.Is(err, os.ErrNotExist) {
			return
		}
		close(fired)
	}()

	var once sync.Once
	cancel := func() {
		once.Do(func() {
			event.Close()
			<-done
		})
	}
	return fired, cancel, nil
}
