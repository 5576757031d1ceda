// Command mesos-executor is the command executor: the slave launches it
// for tasks that have a command and no executor of their own. It reads the
// MESOS_* environment, runs the task's command in the sandbox, reports its
// states, and exits once the final update is acknowledged.
package main

import (
	"os"

	"github.com/gomesos/gomesos/executor"
)

func main() { os.Exit(executor.RunCommandExecutor()) }
