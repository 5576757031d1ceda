package docker

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// RunArg is the argument that makes mesos-executor the runner of a
// docker task (see Run).
const RunArg = "--docker-run"

// Run is the task process of the command executor for a docker task:
// it starts the container named in MESOS_DOCKER_CONTAINER, copies its
// stdout and stderr to stdout and stderr (the sandbox's files), stops it
// on SIGTERM (SIGKILL after MESOS_DOCKER_STOP_TIMEOUT seconds), and
// returns the container's exit code, so that the command executor reports
// the task as for a plain command. It runs in its own OS process.
func Run(stdout, stderr io.Writer) int {
	name := os.Getenv(EnvContainer)
	if name == "" {
		fmt.Fprintln(stderr, "docker runner: "+EnvContainer+" is not set")
		return 1
	}
	stop, _ := strconv.Atoi(os.Getenv(EnvStopTimeout))
	c := NewClient(os.Getenv(EnvSocket))
	ctx := context.Background()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if err := c.Start(ctx, name); err != nil {
		fmt.Fprintf(stderr, "docker runner: start container %s: %v\n", name, err)
		return 1
	}
	logsDone := make(chan struct{})
	logsEdge(func() {
		if err := c.Logs(ctx, name, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "docker runner: logs of %s: %v\n", name, err)
		}
		close(logsDone)
	})
	type result struct {
		code int
		err  error
	}
	waited := make(chan result, 1)
	logsEdge(func() {
		code, err := c.Wait(ctx, name)
		waited <- result{code, err}
	})
	for {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "docker runner: %s: stopping container %s\n", sig, name)
			logsEdge(func() {
				if err := c.Stop(ctx, name, stop); err != nil {
					fmt.Fprintf(stderr, "docker runner: stop %s: %v\n", name, err)
				}
			})
		case r := <-waited:
			<-logsDone
			if r.err != nil {
				fmt.Fprintf(stderr, "docker runner: wait for %s: %v\n", name, r.err)
				return 1
			}
			return r.code
		}
	}
}
