//go:build !linux

package cgroups

import (
	"fmt"
	"runtime"
)

// OOMListen watches cgroup for running out of memory; off Linux there are
// no cgroups and it always fails.
func OOMListen(cgroup string) (<-chan struct{}, func(), error) {
	return nil, nil, fmt.Errorf("cgroups: oom listen on %q: %w: this is %s", cgroup, ErrUnavailable, runtime.GOOS)
}
