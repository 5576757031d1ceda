package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// FleetOptions configure a fleet of emulated slaves.
type FleetOptions struct {
	// N is how many slaves to run.
	N int
	// Runtime hosts the slaves (one port for all of them), unless
	// Runtimes is set.
	Runtime *process.Runtime
	// Runtimes, when set, host the slaves instead, slave i on
	// Runtimes[i%len(Runtimes)]: like slaves on several machines, each
	// runtime has its own port and connection to the master (connections
	// are per peer address, so one runtime funnels all its slaves'
	// messages through one socket each way).
	Runtimes []*process.Runtime
	// Master is the master's pid, when it is fixed.
	Master process.UPID
	// Detector, when set, tells the slaves which master leads; they
	// re-register with each new leader.
	Detector detector.Detector
	// Spread, when not empty, spreads the slaves' connections to the
	// master over these IPs (the master's port, on each), slave i using
	// Spread[i%len(Spread)]. One IP pair carries at most about 28,000
	// connections to one port (the ephemeral port range); a master
	// listening on 0.0.0.0 is reachable at every 127.0.0.0/8 address.
	Spread []netip.Addr
	// Slave shapes every slave.
	Slave SlaveConfig
}

// Fleet is a set of emulated slaves on one runtime.
type Fleet struct {
	opts     FleetOptions
	slaves   []*slave
	rts      []*process.Runtime // slave i's runtime is rts[i%len(rts)]
	counters *Counters
	stop     func()
}

// StartFleet spawns the slaves; with a known master they register at once
// (each after a random part of its backoff).
func StartFleet(opts FleetOptions) (*Fleet, error) {
	if len(opts.Runtimes) == 0 && opts.Runtime != nil {
		opts.Runtimes = []*process.Runtime{opts.Runtime}
	}
	if len(opts.Runtimes) == 0 {
		return nil, errors.New("loadgen: a fleet needs a runtime")
	}
	opts.Slave.defaults()
	total, err := resources.Parse(opts.Slave.Resources, "*")
	if err != nil {
		return nil, fmt.Errorf("loadgen: slave resources %q: %w", opts.Slave.Resources, err)
	}
	f := &Fleet{opts: opts, counters: &Counters{}, rts: opts.Runtimes}
	for i := 0; i < opts.N; i++ {
		s := newSlave(opts.Slave, total, f.counters, f.masterFor(i, opts.Master))
		rt := f.rt(i)
		if _, err := rt.Spawn(s, rt.GenerateID("slave")); err != nil {
			f.Stop()
			return nil, fmt.Errorf("loadgen: spawn slave %d: %w", i, err)
		}
		f.slaves = append(f.slaves, s)
	}
	if opts.Detector != nil {
		f.stop = detector.Follow(opts.Detector, f.detected)
	}
	return f, nil
}

// rt is slave i's runtime.
func (f *Fleet) rt(i int) *process.Runtime { return f.rts[i%len(f.rts)] }

// masterFor is the address slave i reaches the master at.
func (f *Fleet) masterFor(i int, pid process.UPID) process.UPID {
	if !pid.IsValid() || len(f.opts.Spread) == 0 {
		return pid
	}
	pid.Addr = netip.AddrPortFrom(f.opts.Spread[i%len(f.opts.Spread)], pid.Addr.Port())
	return pid
}

// detected posts a new leader to every slave.
func (f *Fleet) detected(leader *mesos.MasterInfo) {
	var pid process.UPID
	if leader != nil {
		p, err := process.ParseUPID(leader.GetPid())
		if err != nil {
			f.rts[0].Logger().Error("bad pid of the detected master", "pid", leader.GetPid(), "err", err)
		} else {
			pid = p
		}
	}
	for i, s := range f.slaves {
		s := s
		m := f.masterFor(i, pid)
		process.Run(f.rt(i), s.Self(), func() { s.masterDetected(m) })
	}
}

// Counters returns the fleet's live counters.
func (f *Fleet) Counters() *Counters { return f.counters }

// Len is the number of slaves.
func (f *Fleet) Len() int { return len(f.slaves) }

// Times returns every slave's times and counts, waiting at most timeout
// (real time) for each answer; slaves that ended answer zero.
func (f *Fleet) Times(timeout time.Duration) []SlaveTimes {
	futs := make([]future.Future[SlaveTimes], len(f.slaves))
	for i, s := range f.slaves {
		futs[i] = process.Dispatch(f.rt(i), s.Self(), s.snapshot)
	}
	out := make([]SlaveTimes, len(f.slaves))
	for i, fu := range futs {
		if process.Await(f.rt(i), fu, timeout) && fu.IsReady() {
			out[i] = fu.Value()
		}
	}
	return out
}

// Stop ends every slave (without unregistering) and stops following the
// detector.
func (f *Fleet) Stop() {
	if f.stop != nil {
		f.stop()
	}
	for _, s := range f.slaves {
		s.Terminate()
	}
}

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)
