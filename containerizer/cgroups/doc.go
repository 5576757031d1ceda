// Package cgroups drives Linux control groups, version 1 (one hierarchy
// per subsystem, or a few subsystems sharing one), for the cgroups
// isolators and the freezer launcher.
//
// A cgroup is named by a slash-separated path relative to the mount point
// of its hierarchy, for example "mesos/<container-id>"; the leading slash is
// optional and ".." cannot climb above the mount point. Functions take the
// subsystem ("cpu", "cpuacct", "memory", "freezer", ...) and find its
// hierarchy through /proc/self/mountinfo (see Mount); the subsystem
// helpers (SetShares, SetLimit, Freeze, ...) know their own subsystem.
//
// Every call is a few reads or writes of cgroupfs control files and blocks
// only briefly; the exceptions are Freeze, Thaw, Kill, KillAll and Remove,
// which wait (with a bounded number of short retries) for the kernel to
// settle, and OOMListen, which watches an eventfd from a goroutine.
// Errors name the control file or directory that failed.
//
// cgroups v2 (the unified hierarchy) is not supported: Available reports
// it, so that callers can fall back to the posix isolators.
package cgroups
