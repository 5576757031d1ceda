package executor

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gomesos/gomesos/containerizer/docker"
	"github.com/gomesos/gomesos/process"
)

// RunCommandExecutor is the main of the command executor: it reads the
// MESOS_* environment, runs the task, waits (bounded) for the slave to
// acknowledge the last update, and returns the exit code.
func RunCommandExecutor() int {
	if len(os.Args) > 1 && os.Args[1] == docker.RunArg {
		// The task process of a docker task (see docker.Run).
		return docker.Run(os.Stdout, os.Stderr)
	}
	env, err := EnvFromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-executor:", err)
		return 1
	}
	// --http_command_executor: the v1 executor HTTP API, in protobuf as
	// Mesos's command executor speaks it.
	env.HTTP = os.Getenv("MESOS_HTTP_COMMAND_EXECUTOR") == "1"
	rt, err := process.New(process.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-executor:", err)
		return 1
	}
	defer rt.Close()
	ce := NewCommandExecutor(env.Directory)
	d := NewDriver(rt, ce, env)
	if _, err := d.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "mesos-executor:", err)
		return 1
	}
	done := make(chan struct{})
	go func() { d.Join(); close(done) }()
	select {
	case <-ce.Finished():
		if !d.Drained().Await(time.Minute) {
			slog.Warn("final status update not acknowledged; exiting anyway")
		}
		_, _ = d.Stop()
	case <-done:
	}
	return 0
}
