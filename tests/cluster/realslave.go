package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/processtest"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
)

var (
	launcherOnce sync.Once
	launcherDir  string
	launcherErr  error
)

// LauncherDir builds mesos-executor (the command executor) once per test
// binary and returns its directory, for slave.Config.LauncherDir.
func LauncherDir() (string, error) {
	launcherOnce.Do(func() {
		if launcherDir, launcherErr = os.MkdirTemp("", "gomesos-launcher"); launcherErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(launcherDir, "mesos-executor"),
			"github.com/gomesos/gomesos/cmd/mesos-executor").CombinedOutput()
		if err != nil {
			launcherErr = fmt.Errorf("build mesos-executor: %v\n%s", err, out)
		}
	})
	return launcherDir, launcherErr
}

// SpawnSlave starts a real slave (its executors are real OS processes) on
// work with resources res, adjusted by mod, without waiting for it; it is
// stopped when the test ends. The cluster needs Options.Network, so that
// executors can reach it.
func (c *Cluster) SpawnSlave(work, res string, mod func(*slave.Config)) (*slave.Slave, process.UPID) {
	c.T.Helper()
	launcher, err := LauncherDir()
	if err != nil {
		c.T.Fatal(err)
	}
	cfg := slave.Config{Master: c.MasterPID, Resources: res, WorkDir: work, LauncherDir: launcher, Strict: true,
		FetcherCacheDir: filepath.Join(work, "fetch")}
	if mod != nil {
		mod(&cfg)
	}
	s := slave.New(cfg)
	pid, err := s.Start(c.RT)
	if err != nil {
		c.T.Fatal(err)
	}
	c.T.Cleanup(func() {
		s.Stop()
		// The executors' shutdown grace period runs on the paused clock.
		grace := cfg.ExecutorShutdownGracePeriod
		if grace <= 0 {
			grace = 5 * time.Second
		}
		c.RT.Clock().Advance(grace)
		if !process.Await(c.RT, s.Done(), 30*time.Second) { // wall-clock: executors are OS processes
			c.T.Error("slave did not stop")
		}
	})
	return s, pid
}

// StartSlave spawns a real slave on a fresh work directory and waits for
// its registration (advancing the clock over the registration backoff).
// It returns the slave, its pid and its work directory.
func (c *Cluster) StartSlave(res string, mod func(*slave.Config)) (*slave.Slave, process.UPID, string) {
	c.T.Helper()
	work := c.T.TempDir()
	registered := processtest.FutureProtobuf[*messages.SlaveRegisteredMessage](c.Expect, c.MasterPID, process.Any)
	s, pid := c.SpawnSlave(work, res, mod)
	c.Advance(time.Second) // the first registration waits a random delay in [0, 1 s]
	Await(c, registered)
	return s, pid, work
}

// StartFramework starts a scheduler driver with a recording Scheduler and
// waits for its registration.
func (c *Cluster) StartFramework(info *mesos.FrameworkInfo, opts scheduler.Options) (*scheduler.Driver, *Scheduler, *mesos.FrameworkID) {
	c.T.Helper()
	s := NewScheduler()
	registered := s.NextRegistered()
	d := scheduler.NewDriver(c.RT, s, info, c.MasterPID, opts)
	if _, err := d.Start(); err != nil {
		c.T.Fatalf("start driver: %v", err)
	}
	return d, s, Await(c, registered)
}

// CommandTask is a task running the shell command with resources res on
// the offer's slave (the command executor runs it).
func CommandTask(id string, offer *mesos.Offer, res, command string) *mesos.TaskInfo {
	r, err := resources.Parse(res, "*")
	if err != nil {
		panic(fmt.Sprintf("CommandTask %s: %v", id, err))
	}
	return &mesos.TaskInfo{
		Name: proto.String(id), TaskId: &mesos.TaskID{Value: proto.String(id)}, SlaveId: offer.GetSlaveId(),
		Resources: r.ToProto(), Command: &mesos.CommandInfo{Value: proto.String(command)},
	}
}
