// Command mesos-executor is the command executor: the slave launches it
// for tasks that have a command and no executor of their own. It reads the
// MESOS_* environment, runs the task's command in the sandbox, reports its
// states, and exits once the final update is acknowledged.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/process"
)

func main() {
	env, err := executor.EnvFromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-executor:", err)
		os.Exit(1)
	}
	rt, err := process.New(process.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesos-executor:", err)
		os.Exit(1)
	}
	ce := executor.NewCommandExecutor(env.Directory)
	d := executor.NewDriver(rt, ce, env)
	if _, err := d.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "mesos-executor:", err)
		os.Exit(1)
	}
	done := make(chan struct{})
	go func() { d.Join(); close(done) }()
	select {
	case <-ce.Finished():
		// Wait (bounded) for the slave to acknowledge the last update.
		if !d.Drained().Await(time.Minute) {
			slog.Warn("final status update not acknowledged; exiting anyway")
		}
		_, _ = d.Stop()
	case <-done:
	}
	rt.Close()
}
