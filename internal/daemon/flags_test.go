package daemon

import (
	"strings"
	"testing"

	"github.com/gomesos/gomesos/flags"
)

// Every daemon refuses numeric flags out of range with an error naming
// the flag: negative durations, zero intervals, ports over 65535,
// fractions outside [0, 1].
func TestNumericFlagsValidated(t *testing.T) {
	master := func() *flags.FlagSet {
		fs := flags.New("mesos-master", "")
		var addr Address
		var m MasterFlags
		addr.Register(fs, 5050)
		m.Register(fs)
		return fs
	}
	slave := func() *flags.FlagSet {
		fs := flags.New("mesos-slave", "")
		var addr Address
		var s SlaveFlags
		addr.Register(fs, 5051)
		s.Register(fs, true)
		return fs
	}
	bad := []struct {
		fs   func() *flags.FlagSet
		arg  string
		flag string
	}{
		{master, "--allocation_interval=-5secs", "--allocation_interval"},
		{master, "--allocation_interval=0secs", "--allocation_interval"},
		{master, "--offer_timeout=-1secs", "--offer_timeout"},
		{master, "--slave_ping_timeout=-15secs", "--slave_ping_timeout"},
		{master, "--max_slave_ping_timeouts=0", "--max_slave_ping_timeouts"},
		{master, "--port=70000", "--port"},
		{master, "--port=-1", "--port"},
		{master, "--advertise_port=65536", "--advertise_port"},
		{slave, "--gc_disk_headroom=1.5", "--gc_disk_headroom"},
		{slave, "--gc_disk_headroom=-0.1", "--gc_disk_headroom"},
		{slave, "--executor_registration_timeout=-1mins", "--executor_registration_timeout"},
		{slave, "--disk_watch_interval=0ns", "--disk_watch_interval"},
		{slave, "--gc_delay=-1days", "--gc_delay"},
		{slave, "--port=99999", "--port"},
	}
	for _, b := range bad {
		err := b.fs().Parse([]string{b.arg}, nil)
		if err == nil || !strings.Contains(err.Error(), b.flag) {
			t.Errorf("%s: %v, want an error naming %s", b.arg, err, b.flag)
		}
	}
	// In the environment too.
	if err := master().Parse(nil, []string{"MESOS_ALLOCATION_INTERVAL=-5secs"}); err == nil || !strings.Contains(err.Error(), "MESOS_ALLOCATION_INTERVAL") {
		t.Errorf("from the environment: %v", err)
	}
	good := []struct {
		fs  func() *flags.FlagSet
		arg string
	}{
		{master, "--allocation_interval=500ms"},
		{master, "--offer_timeout=0ns"},
		{master, "--port=65535"},
		{slave, "--gc_disk_headroom=0"},
		{slave, "--executor_shutdown_grace_period=0ns"},
	}
	for _, g := range good {
		if err := g.fs().Parse([]string{g.arg}, nil); err != nil {
			t.Errorf("%s: %v", g.arg, err)
		}
	}
}
