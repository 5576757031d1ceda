package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// masterState is what this command reads of /master/state.
type masterState struct {
	Leader     string         `json:"leader"`
	Slaves     []slaveSummary `json:"slaves"`
	Frameworks []frameworkJS  `json:"frameworks"`
	Completed  []frameworkJS  `json:"completed_frameworks"`
}

type slaveSummary struct {
	ID       string `json:"id"`
	PID      string `json:"pid"`
	Hostname string `json:"hostname"`
	Active   *bool  `json:"active"`
}

type frameworkJS struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	User           string   `json:"user"`
	Tasks          []taskJS `json:"tasks"`
	CompletedTasks []taskJS `json:"completed_tasks"`
}

type taskJS struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	State       string           `json:"state"`
	FrameworkID string           `json:"framework_id"`
	ExecutorID  string           `json:"executor_id"`
	SlaveID     string           `json:"slave_id"`
	Resources   map[string]any   `json:"resources"`
	Statuses    []map[string]any `json:"statuses"`
}

// taskRow is a task with its framework, as `ps` lists it.
type taskRow struct {
	task      taskJS
	framework frameworkJS
	completed bool
}

// tasks lists the state's tasks: those of live frameworks, then finished
// ones (with all) in the order the master gives them.
func (s *masterState) tasks(all bool) []taskRow {
	var rows []taskRow
	for _, f := range s.Frameworks {
		for _, t := range f.Tasks {
			rows = append(rows, taskRow{task: t, framework: f})
		}
	}
	if !all {
		return rows
	}
	for _, f := range s.Frameworks {
		for _, t := range f.CompletedTasks {
			rows = append(rows, taskRow{task: t, framework: f, completed: true})
		}
	}
	for _, f := range s.Completed {
		for _, t := range append(append([]taskJS(nil), f.Tasks...), f.CompletedTasks...) {
			rows = append(rows, taskRow{task: t, framework: f, completed: true})
		}
	}
	return rows
}

// findTask finds the task named by id or by a prefix of its id that
// matches no other task, among every task the master knows (running
// first: a task id reused after one ended names the running one).
func (s *masterState) findTask(name string) (taskRow, error) {
	rows := s.tasks(true)
	var exact, prefixed []taskRow
	for _, r := range rows {
		switch {
		case r.task.ID == name:
			exact = append(exact, r)
		case strings.HasPrefix(r.task.ID, name):
			prefixed = append(prefixed, r)
		}
	}
	if len(exact) > 0 {
		return exact[0], nil
	}
	switch len(prefixed) {
	case 0:
		return taskRow{}, fmt.Errorf("no task %q: no task id is it or starts with it (see mesos ps --all)", name)
	case 1:
		return prefixed[0], nil
	}
	ids := make([]string, 0, len(prefixed))
	seen := map[string]bool{}
	for _, r := range prefixed {
		if !seen[r.task.ID] {
			seen[r.task.ID] = true
			ids = append(ids, r.task.ID)
		}
	}
	sort.Strings(ids)
	if len(ids) == 1 {
		return prefixed[0], nil
	}
	return taskRow{}, fmt.Errorf("task prefix %q is ambiguous: it matches %s", name, strings.Join(ids, ", "))
}

// slave finds a slave of the state by id.
func (s *masterState) slave(id string) (slaveSummary, bool) {
	for _, sl := range s.Slaves {
		if sl.ID == id {
			return sl, true
		}
	}
	return slaveSummary{}, false
}

// formatPS writes rows as `mesos ps` shows them.
func formatPS(w io.Writer, s *masterState, rows []taskRow) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tFRAMEWORK\tUSER\tHOST\tCPUS\tMEM")
	for _, r := range rows {
		host := r.task.SlaveID
		if sl, ok := s.slave(r.task.SlaveID); ok && sl.Hostname != "" {
			host = sl.Hostname
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.task.ID, r.task.Name, r.task.State,
			r.framework.Name, r.framework.User, host, quantity(r.task.Resources["cpus"]), megabytes(r.task.Resources["mem"]))
	}
	return tw.Flush()
}

func quantity(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func megabytes(v any) string {
	if q := quantity(v); q != "-" {
		return q + "MB"
	}
	return "-"
}

// terminal reports whether a task state is terminal.
func terminal(state string) bool {
	switch state {
	case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE":
		return true
	}
	return false
}

// slaveState is what this command reads of a slave's /state.
type slaveState struct {
	Frameworks []slaveFramework `json:"frameworks"`
	Completed  []slaveFramework `json:"completed_frameworks"`
}

type slaveFramework struct {
	ID        string          `json:"id"`
	Executors []slaveExecutor `json:"executors"`
	Completed []slaveExecutor `json:"completed_executors"`
}

type slaveExecutor struct {
	ID             string   `json:"id"`
	Directory      string   `json:"directory"`
	Tasks          []taskJS `json:"tasks"`
	QueuedTasks    []taskJS `json:"queued_tasks"`
	CompletedTasks []taskJS `json:"completed_tasks"`
}

// sandbox finds the directory of the executor that runs (or ran) task of
// framework fid; live executors first.
func (s *slaveState) sandbox(fid, task string) (string, bool) {
	for _, group := range [][]slaveFramework{s.Frameworks, s.Completed} {
		for _, f := range group {
			if f.ID != fid {
				continue
			}
			for _, execs := range [][]slaveExecutor{f.Executors, f.Completed} {
				for _, e := range execs {
					for _, ts := range [][]taskJS{e.Tasks, e.QueuedTasks, e.CompletedTasks} {
						for _, t := range ts {
							if t.ID == task {
								return e.Directory, true
							}
						}
					}
				}
			}
		}
	}
	return "", false
}

// lastLines returns the last n lines of data (a final line without a
// newline counts as one).
func lastLines(data string, n int) string {
	if n <= 0 {
		return ""
	}
	body := strings.TrimSuffix(data, "\n")
	end := len(body)
	for i := 0; i < n; i++ {
		j := strings.LastIndexByte(body[:end], '\n')
		if j < 0 {
			return data
		}
		end = j
	}
	return data[end+1:]
}
