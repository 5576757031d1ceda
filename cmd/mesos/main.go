// Command mesos is an operator's command line in the spirit of Mesos
// 1.0's: it lists tasks, prints the cluster state, and reads and follows
// the files of a task's sandbox, through the master's and the slaves' HTTP
// endpoints (/master/state, /<slave>/state, /files/read).
//
//	mesos ps                         # the running tasks
//	mesos ps --all                   # and the finished ones
//	mesos cat <task> stdout          # a file of the task's sandbox
//	mesos tail -f -n 20 <task>       # its last lines, then what is written
//	mesos state                      # the leading master's /master/state
//
// --master=host:port (default $MESOS_MASTER, else 127.0.0.1:5050) may name
// any master: a standby one sends the command on to the leader. A task is
// named by its id or by a prefix of it that matches no other task. With
// --authenticate_http on the master, give --principal and --secret (or
// MESOS_PRINCIPAL and MESOS_SECRET).
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr, stop))
}

const usage = `Usage: mesos [--master=host:port] <command> [options]

Commands:
  ps [--all]                     List the running tasks (--all: also finished ones).
  cat <task> [file]              Print a file of the task's sandbox (default: stdout).
  tail [-f] [-n N] <task> [file] Print the last N lines (10) of a file of the task's
                                 sandbox (default: stdout); -f then prints what is
                                 written to it until the task ends or Ctrl-C.
  state                          Print the leading master's /master/state.
  help [command]                 Print this help.

Options (anywhere on the line):
  --master=host:port   A master (default: $MESOS_MASTER, else 127.0.0.1:5050); a
                       standby master is asked for the leader.
  --principal=NAME     HTTP Basic credentials for a master with --authenticate_http
  --secret=SECRET      (default: $MESOS_PRINCIPAL, $MESOS_SECRET).

A task is its id, or a prefix of its id that matches no other task.
`

// options are the command line, parsed.
type options struct {
	master, principal, secret string
	all, follow               bool
	lines                     int
	interval                  time.Duration
	args                      []string // the command and its operands
}

// parseArgs reads the command line: options may come anywhere; the rest
// are the command and its operands, in order.
func parseArgs(args, environ []string) (options, error) {
	o := options{lines: 10, interval: 500 * time.Millisecond}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	o.master, o.principal, o.secret = env["MESOS_MASTER"], env["MESOS_PRINCIPAL"], env["MESOS_SECRET"]
	if o.master == "" {
		o.master = "127.0.0.1:5050"
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		needValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "--master":
			o.master, err = needValue()
		case "--principal":
			o.principal, err = needValue()
		case "--secret":
			o.secret, err = needValue()
		case "--all", "-a":
			o.all = true
		case "--follow", "-f":
			o.follow = true
		case "--lines", "-n":
			var v string
			if v, err = needValue(); err == nil {
				o.lines, err = strconv.Atoi(v)
				if err != nil || o.lines < 0 {
					err = fmt.Errorf("%s=%s: want a number of lines", name, v)
				}
			}
		case "--interval":
			var v string
			if v, err = needValue(); err == nil {
				o.interval, err = time.ParseDuration(v)
				if err != nil || o.interval <= 0 {
					err = fmt.Errorf("--interval=%s: want a positive duration such as 500ms", v)
				}
			}
		case "--help", "-h":
			o.args = append([]string{"help"}, o.args...)
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				return o, fmt.Errorf("unknown option %s", a)
			}
			o.args = append(o.args, a)
		}
		if err != nil {
			return o, err
		}
	}
	o.master = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(o.master, "http://"), "master@"), "//")
	o.master = strings.TrimSuffix(o.master, "/")
	if strings.HasPrefix(o.master, "zk://") {
		return o, fmt.Errorf("--master=%s: give the host:port of a master (ZooKeeper is not read by this command)", o.master)
	}
	return o, nil
}

// run is the whole command; stop ends a `tail -f`.
func run(args, environ []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	o, err := parseArgs(args, environ)
	if err != nil {
		fmt.Fprintf(stderr, "mesos: %v\nRun 'mesos help' for the commands.\n", err)
		return 1
	}
	if len(o.args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	c := newClient(o.master, o.principal, o.secret)
	cmd, operands := o.args[0], o.args[1:]
	switch cmd {
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "ps":
		err = noOperands(cmd, operands, func() error { return c.ps(stdout, o.all) })
	case "state":
		err = noOperands(cmd, operands, func() error { return c.state(stdout) })
	case "cat":
		var task, file string
		if task, file, err = taskAndFile(cmd, operands); err == nil {
			err = c.cat(stdout, task, file)
		}
	case "tail":
		var task, file string
		if task, file, err = taskAndFile(cmd, operands); err == nil {
			err = c.tail(stdout, task, file, o.lines, o.follow, o.interval, stop)
		}
	default:
		err = fmt.Errorf("unknown command %q", cmd)
		fmt.Fprintf(stderr, "mesos: %v\n\n%s", err, usage)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "mesos %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func noOperands(cmd string, operands []string, fn func() error) error {
	if len(operands) > 0 {
		return fmt.Errorf("unexpected %q (mesos %s takes no operand)", strings.Join(operands, " "), cmd)
	}
	return fn()
}

// taskAndFile reads `<task> [file]`; the file defaults to stdout.
func taskAndFile(cmd string, operands []string) (task, file string, err error) {
	switch len(operands) {
	case 1:
		return operands[0], "stdout", nil
	case 2:
		return operands[0], operands[1], nil
	case 0:
		return "", "", fmt.Errorf("which task? (mesos %s <task> [file])", cmd)
	}
	return "", "", fmt.Errorf("too many operands %q (mesos %s <task> [file])", strings.Join(operands, " "), cmd)
}
