package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/slave"
)

// stubMaster stands in for the master in the slave figures: it registers
// the slave, sends RunTaskMessage, acknowledges every status update, and
// reports TASK_RUNNING arrivals and re-registrations with their times.
type stubMaster struct {
	process.Process
	slavePID   process.UPID
	slaveID    *mesos.SlaveID
	registered chan struct{}
	running    chan string // task ids, on TASK_RUNNING
	reregister chan time.Time
	once       sync.Once
}

func (m *stubMaster) Initialize() {
	process.Install(&m.Process, func(from process.UPID, msg *messages.RegisterSlaveMessage) {
		m.slavePID, m.slaveID = from, &mesos.SlaveID{Value: proto.String("bench-S0")}
		_ = m.Send(from, &messages.SlaveRegisteredMessage{SlaveId: m.slaveID})
		m.once.Do(func() { close(m.registered) })
	})
	process.Install(&m.Process, func(from process.UPID, msg *messages.ReregisterSlaveMessage) {
		now := time.Now() // wall-clock: the figure is elapsed real time
		m.slavePID = from
		_ = m.Send(from, &messages.SlaveReregisteredMessage{SlaveId: msg.GetSlave().GetId()})
		select {
		case m.reregister <- now:
		default:
		}
	})
	process.Install(&m.Process, func(from process.UPID, msg *messages.StatusUpdateMessage) {
		u := msg.GetUpdate()
		_ = m.Send(from, &messages.StatusUpdateAcknowledgementMessage{
			SlaveId: u.GetSlaveId(), FrameworkId: u.GetFrameworkId(), TaskId: u.GetStatus().GetTaskId(), Uuid: u.GetUuid(),
		})
		if u.GetStatus().GetState() == mesos.TaskState_TASK_RUNNING {
			m.running <- u.GetStatus().GetTaskId().GetValue()
		}
	})
	process.Install(&m.Process, func(process.UPID, *messages.PongSlaveMessage) {})
	process.Install(&m.Process, func(process.UPID, *messages.UnregisterSlaveMessage) {})
	process.Install(&m.Process, func(process.UPID, *messages.ExitedExecutorMessage) {})
}

func (m *stubMaster) runTask(id, command string, checkpoint bool) error {
	fw := &mesos.FrameworkInfo{
		User: proto.String("bench"), Name: proto.String("bench"),
		Id: &mesos.FrameworkID{Value: proto.String("bench-0000")}, Checkpoint: proto.Bool(checkpoint),
	}
	res, _ := resources.Parse("cpus:0.01;mem:8", "*")
	return m.Send(m.slavePID, &messages.RunTaskMessage{
		FrameworkId: fw.Id, Framework: fw, Pid: proto.String(m.Self().String()),
		Task: &mesos.TaskInfo{
			Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: m.slaveID,
			Resources: res.ToProto(), Command: &mesos.CommandInfo{Value: proto.String(command)},
		},
	})
}

// slaveBench is a runtime with a stub master and a launcher directory
// where this binary is the command executor.
type slaveBench struct {
	rt       *process.Runtime
	master   *stubMaster
	pid      process.UPID
	work     string
	launcher string
}

func newSlaveBench() (*slaveBench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "gomesos-bench-slave")
	if err != nil {
		return nil, err
	}
	launcher := filepath.Join(work, "bin")
	if err := os.MkdirAll(launcher, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(self, filepath.Join(launcher, "mesos-executor")); err != nil {
		return nil, err
	}
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		return nil, err
	}
	m := &stubMaster{registered: make(chan struct{}), running: make(chan string, 1024), reregister: make(chan time.Time, 1)}
	pid, err := rt.Spawn(m, "master")
	if err != nil {
		rt.Close()
		return nil, err
	}
	return &slaveBench{rt: rt, master: m, pid: pid, work: work, launcher: launcher}, nil
}

func (b *slaveBench) close() {
	b.rt.Close()
	_ = os.RemoveAll(b.work)
}

func (b *slaveBench) spawnSlave() (*slave.Slave, error) {
	s := slave.New(slave.Config{
		Master: b.pid, Resources: "cpus:1000;mem:1000000;disk:1000;ports:[31000-32000]",
		WorkDir: filepath.Join(b.work, "slave"), LauncherDir: b.launcher,
		RegistrationBackoffFactor: time.Millisecond, ExecutorReregistrationTimeout: 30 * time.Second,
		FetcherCacheDir: filepath.Join(b.work, "fetch"),
	})
	if _, err := s.Start(b.rt); err != nil {
		return nil, err
	}
	return s, nil
}

func (b *slaveBench) stop(s *slave.Slave) {
	s.Stop()
	process.Await(b.rt, s.Done(), time.Minute)
}

// startSlaveBench sets up a bench and a slave registered with its stub
// master; close the bench when done.
func startSlaveBench() (*slaveBench, *slave.Slave, error) {
	b, err := newSlaveBench()
	if err != nil {
		return nil, nil, err
	}
	s, err := b.spawnSlave()
	if err != nil {
		b.close()
		return nil, nil, err
	}
	select {
	case <-b.master.registered:
		return b, s, nil
	case <-time.After(time.Minute): // wall-clock: bounds the registration wait
		b.close()
		return nil, nil, errors.New("the slave did not register")
	}
}

func waitRunning(m *stubMaster, n int) error {
	timeout := time.After(5 * time.Minute) // wall-clock: bounds a wait on real processes
	for i := 0; i < n; i++ {
		select {
		case <-m.running:
		case <-timeout:
			return fmt.Errorf("only %d of %d tasks reached TASK_RUNNING", i, n)
		}
	}
	return nil
}

// launchLatency measures RunTaskMessage → TASK_RUNNING for the command
// executor (a real process), one launch at a time.
func launchLatency(cfg config) (string, error) {
	n := cfg.n
	if n == 0 {
		n = 100
	}
	b, s, err := startSlaveBench()
	if err != nil {
		return "", err
	}
	defer b.close()
	defer b.stop(s)
	var ms []float64
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("launch-%d", i)
		start := time.Now() // wall-clock: the figure is elapsed real time
		if err := b.master.runTask(id, "exit 0", false); err != nil {
			return "", err
		}
		if err := waitRunning(b.master, 1); err != nil {
			return "", err
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	sort.Float64s(ms)
	st := summarize(ms)
	p99 := ms[min(len(ms)-1, len(ms)*99/100)]
	return kv("median_ms", st.median, "p99_ms", p99, "min_ms", st.min, "launches", n), nil
}

// recoveryTime measures a slave restart with running executors: from
// spawning the new slave on the old work directory to its re-registration
// with the master, every executor reconnected.
func recoveryTime(cfg config) (string, error) {
	n := cfg.n
	if n == 0 {
		n = 100
	}
	b, s1, err := startSlaveBench()
	if err != nil {
		return "", err
	}
	defer b.close()
	for i := 0; i < n; i++ {
		if err := b.master.runTask(fmt.Sprintf("sleeper-%d", i), "sleep 100000", true); err != nil {
			return "", err
		}
	}
	if err := waitRunning(b.master, n); err != nil {
		return "", err
	}
	var secs []float64
	var s *slave.Slave
	for r := 0; r < cfg.runs; r++ {
		s1.Detach()
		process.Await(b.rt, s1.Done(), time.Minute)
		// A retry of the last registration may still be buffered.
		select {
		case <-b.master.reregister:
		default:
		}
		start := time.Now() // wall-clock: the figure is elapsed real time
		if s, err = b.spawnSlave(); err != nil {
			return "", err
		}
		select {
		case at := <-b.master.reregister:
			secs = append(secs, at.Sub(start).Seconds()*1000)
		case <-time.After(5 * time.Minute): // wall-clock: bounds the recovery wait
			return "", errors.New("the restarted slave did not re-register")
		}
		s1 = s
	}
	b.stop(s1)
	st := summarize(secs)
	return kv("median_ms", st.median, "min_ms", st.min, "max_ms", st.max, "executors", n, "restarts", cfg.runs), nil
}
