package procstat

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// killRounds bounds how many times KillTree rescans /proc while stopping
// a tree; with its backoff, about three seconds at most.
const killRounds = 64

// KillTree sends sig to every process of the tree rooted at root and
// returns the pids it signalled, in the order found.
//
// The tree is the processes descending from root by parent pid, plus,
// when root leads a process group or a session (the posix launcher
// starts each executor with setsid, so its pid names both), every process
// still in that group or session — which catches descendants that were
// orphaned and re-parented away, as long as they did not leave the
// session. A group or session root does not lead is never followed, so a
// root that shares the caller's session does not take the caller down;
// the calling process itself is always skipped.
//
// To keep the tree from growing while it is being signalled, KillTree
// first stops it: it sends SIGSTOP to each member it finds and rescans
// /proc until a scan finds no new member and every member has stopped (or
// exited), so a child forked just before its parent stopped is caught by
// a later round. Only then does it send sig to all of them, and finally
// SIGCONT, so that a catchable signal such as SIGTERM is handled rather
// than left pending in a stopped process. The rescans are bounded (with
// a short backoff while members are still on their way to stopping); a
// process that cannot stop (in uninterruptible sleep) is signalled
// anyway.
//
// pause waits between rescans while members are still stopping: the
// kernel gives no event for it, so the caller supplies real time at the
// OS edge (see process/walltime); nil rescans at once.
//
// It refuses roots 0 and 1 (that would be everything) and fails with
// ErrNotFound when no process of the tree exists. Processes that exit
// meanwhile are not errors.
func KillTree(root int, sig syscall.Signal, pause func(time.Duration)) ([]int, error) {
	if root <= 1 {
		return nil, fmt.Errorf("procstat: refusing to kill the tree of pid %d", root)
	}
	self := os.Getpid()
	stopped := make(map[int]bool)
	var order []int
	settled := false
	for round := range killRounds {
		procs, err := Snapshot()
		if err != nil {
			return nil, err
		}
		members, running := members(root, self, procs)
		fresh := 0
		for _, pid := range members {
			if stopped[pid] {
				continue
			}
			if err := signal(pid, syscall.SIGSTOP); err != nil {
				return nil, err
			}
			stopped[pid] = true
			order = append(order, pid)
			fresh++
		}
		if fresh == 0 && running == 0 {
			settled = true
			break
		}
		if fresh == 0 && pause != nil {
			// A process handles SIGSTOP only once it is scheduled, which
			// on a loaded machine can take a while: wait a little, bounded.
			pause(min(time.Millisecond<<min(round, 6), 50*time.Millisecond))
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%w: no process in the tree of %d", ErrNotFound, root)
	}
	if !settled {
		slog.Warn("procstat: process tree did not stop; signalling it anyway", "root", root, "pids", order)
	}
	var errs []error
	for _, pid := range order {
		errs = append(errs, signal(pid, sig))
	}
	for _, pid := range order {
		errs = append(errs, signal(pid, syscall.SIGCONT))
	}
	return order, errors.Join(errs...)
}

// members returns the tree of root in procs, plus the members of the
// process group and session root leads, without self; and how many of
// them are neither stopped nor dead yet.
func members(root, self int, procs []Process) (pids []int, running int) {
	state := make(map[int]byte, len(procs))
	for _, p := range procs {
		state[p.Pid] = p.State
	}
	seen := make(map[int]bool)
	add := func(pid int) {
		if pid == self || seen[pid] {
			return
		}
		if _, ok := state[pid]; !ok {
			return
		}
		seen[pid] = true
		pids = append(pids, pid)
		switch state[pid] {
		case 'T', 't', 'Z', 'X', 'x':
		default:
			running++
		}
	}
	for _, pid := range tree(root, procs) {
		add(pid)
	}
	for _, p := range procs {
		if p.Session == root || p.Pgrp == root {
			add(p.Pid)
		}
	}
	return pids, running
}

// signal sends sig to pid; a process already gone is not an error.
func signal(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("procstat: signal %v to %d: %w", sig, pid, err)
	}
	return nil
}
