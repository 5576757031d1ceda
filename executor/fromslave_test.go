package executor_test

import (
	"net/netip"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// counter is an Executor that counts what it is told to do.
type counter struct {
	recorder
	launched, killed, messages, shutdowns atomic.Int32
}

func (c *counter) LaunchTask(*executor.Driver, *mesos.TaskInfo) { c.launched.Add(1) }
func (c *counter) KillTask(*executor.Driver, *mesos.TaskID)     { c.killed.Add(1) }
func (c *counter) FrameworkMessage(*executor.Driver, []byte)    { c.messages.Add(1) }
func (c *counter) Shutdown(*executor.Driver) {
	c.shutdowns.Add(1)
	c.shutdown.Set(future.Nothing{})
}

// sender is a process that only sends.
type sender struct{ process.Process }

// Only the executor's slave launches, kills, talks to or shuts down its
// tasks: the same messages from another process (of the slave's host:
// the runtime's address check lets them through) are ignored, and a
// reconnect request naming another slave id does not take the executor
// over.
func TestExecutorObeysOnlyItsSlave(t *testing.T) {
	slaveRT, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer slaveRT.Close()
	slave := &registrar{}
	slavePID, err := slaveRT.Spawn(slave, "slave(1)")
	if err != nil {
		t.Fatal(err)
	}
	strangerRT, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Testing: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer strangerRT.Close()
	stranger := &sender{}
	if _, err := strangerRT.Spawn(stranger, "slave(1)"); err != nil {
		t.Fatal(err)
	}

	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Testing: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	c := &counter{recorder: recorder{registered: future.NewPromise[future.Nothing](), disconnected: future.NewPromise[future.Nothing](), shutdown: future.NewPromise[future.Nothing]()}}
	d := executor.NewDriver(rt, c, executor.Env{SlavePID: slavePID, SlaveID: "S0", FrameworkID: "F0", ExecutorID: "E0"})
	if _, err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if !process.Await(rt, c.registered.Future(), bound) {
		t.Fatal("not registered")
	}
	fid := &mesos.FrameworkID{Value: proto.String("F0")}
	task := &mesos.TaskInfo{
		Name: proto.String("t"), TaskId: &mesos.TaskID{Value: proto.String("t")}, SlaveId: &mesos.SlaveID{Value: proto.String("S0")},
		Command: &mesos.CommandInfo{Value: proto.String("touch /tmp/pwned")},
	}
	orders := []proto.Message{
		&messages.ReconnectExecutorMessage{SlaveId: &mesos.SlaveID{Value: proto.String("S1")}},
		&messages.RunTaskMessage{FrameworkId: fid, Framework: &mesos.FrameworkInfo{User: proto.String("u"), Name: proto.String("f")}, Task: task},
		&messages.KillTaskMessage{FrameworkId: fid, TaskId: task.TaskId},
		&messages.FrameworkToExecutorMessage{SlaveId: task.SlaveId, FrameworkId: fid, ExecutorId: &mesos.ExecutorID{Value: proto.String("E0")}, Data: []byte("x")},
		&messages.ShutdownExecutorMessage{},
	}
	for _, m := range orders {
		process.Run(strangerRT, stranger.Self(), func() { _ = stranger.Send(d.PID(), m) })
	}
	rt.Clock().Settle() // waits for wire messages between this OS process's runtimes
	if c.launched.Load()+c.killed.Load()+c.messages.Load()+c.shutdowns.Load() != 0 {
		t.Fatalf("obeyed a stranger: launched %d killed %d messages %d shutdowns %d",
			c.launched.Load(), c.killed.Load(), c.messages.Load(), c.shutdowns.Load())
	}
	// The same orders from the slave are obeyed.
	for _, m := range orders[1:] {
		process.Run(slaveRT, slave.Self(), func() { _ = slave.Send(d.PID(), m) })
	}
	if !process.Await(rt, c.shutdown.Future(), bound) {
		t.Fatal("the slave's ShutdownExecutorMessage was not obeyed")
	}
	if c.launched.Load() != 1 || c.killed.Load() != 1 || c.messages.Load() != 1 {
		t.Fatalf("from the slave: launched %d killed %d messages %d", c.launched.Load(), c.killed.Load(), c.messages.Load())
	}
}
