package sim

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// taskKey names a task: framework id and task id.
type taskKey struct{ fw, task string }

func (k taskKey) String() string { return k.fw + "/" + k.task }

// truth is what really happens, recorded by the simulator's executors
// and the framework shims: which tasks run where, what their executors
// said and what their frameworks heard.
type truth struct {
	running  map[taskKey]*simExecutor
	sent     map[taskKey][]mesos.TaskState // by the executor, in order
	heard    map[taskKey]*heard
	launched map[taskKey]int // framework index, for every task a framework asked to launch
	// destroyed are the persistence ids a framework asked to destroy:
	// their volumes may go.
	destroyed map[string]bool
	// volumes are the persistent volumes seen in each slave's
	// checkpoint (by slave index), and in each leading master's view of
	// each slave: persistence id → the volume.
	volumes       []map[string]resources.Resources
	masterVolumes map[*master.Master]map[string]map[string]resources.Resources
}

// heard is what a framework was told about one task.
type heard struct {
	pos      int // index into sent of the newest executor update heard
	latest   mesos.TaskState
	terminal bool // a terminal update (not a reconciliation answer) arrived
	// terminalUUID is the terminal update's uuid: the same update sent
	// again (its acknowledgement was lost) is not a new one.
	terminalUUID []byte
	// terminalStatus is the terminal update itself: one without a uuid
	// (the master's own TASK_LOST) is known again by its content.
	terminalStatus *mesos.TaskStatus
}

func newTruth(slaves int) *truth {
	return &truth{
		volumes: make([]map[string]resources.Resources, slaves),
		running: map[taskKey]*simExecutor{}, sent: map[taskKey][]mesos.TaskState{},
		heard: map[taskKey]*heard{}, launched: map[taskKey]int{},
		destroyed: map[string]bool{}, masterVolumes: map[*master.Master]map[string]map[string]resources.Resources{},
	}
}

func (t *truth) executorEnded(e *simExecutor) {
	for _, id := range slices.Sorted(maps.Keys(e.tasks)) {
		k := taskKey{e.fw, id}
		if t.running[k] == e {
			delete(t.running, k)
		}
	}
	e.tasks = map[string]bool{}
	e.ended = true
}

// simExecutor is the executor every simulated container runs: it runs
// its tasks until they are killed or a schedule's EndTask ends them, and
// records each step in the truth.
type simExecutor struct {
	c     *Cluster
	slave int
	fw    string
	d     *executor.Driver
	tasks map[string]bool // live task ids
	ended bool
}

var _ executor.Executor = (*simExecutor)(nil)

func (c *Cluster) newExecutor(n *slaveNode, info *mesos.ExecutorInfo) *simExecutor {
	return &simExecutor{c: c, slave: n.index, fw: info.GetFrameworkId().GetValue(), tasks: map[string]bool{}}
}

func (x *simExecutor) Registered(d *executor.Driver, _ *mesos.ExecutorInfo, fw *mesos.FrameworkInfo, _ *mesos.SlaveInfo) {
	x.d = d
	if id := fw.GetId().GetValue(); id != "" {
		x.fw = id
	}
}

func (x *simExecutor) Reregistered(d *executor.Driver, _ *mesos.SlaveInfo) { x.d = d }

func (x *simExecutor) Disconnected(*executor.Driver) {}

func (x *simExecutor) LaunchTask(d *executor.Driver, task *mesos.TaskInfo) {
	x.d = d
	k := taskKey{x.fw, task.GetTaskId().GetValue()}
	if other := x.c.truth.running[k]; other != nil && other != x {
		x.c.violate("task-runs-once", fmt.Sprintf("task %s launched on slave %d while it runs on slave %d", k, x.slave, other.slave))
	} else if other == x || len(x.c.truth.sent[k]) > 0 {
		x.c.violate("task-runs-once", fmt.Sprintf("task %s launched a second time (slave %d)", k, x.slave))
	}
	x.tasks[k.task] = true
	x.c.truth.running[k] = x
	x.update(k, mesos.TaskState_TASK_RUNNING)
}

func (x *simExecutor) update(k taskKey, state mesos.TaskState) {
	x.c.truth.sent[k] = append(x.c.truth.sent[k], state)
	_, _ = x.d.SendStatusUpdate(&mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String(k.task)}, State: state.Enum()})
}

// end ends a live task with state.
func (x *simExecutor) end(id string, state mesos.TaskState) {
	if !x.tasks[id] {
		return
	}
	k := taskKey{x.fw, id}
	delete(x.tasks, id)
	if x.c.truth.running[k] == x {
		delete(x.c.truth.running, k)
	}
	x.update(k, state)
	if len(x.tasks) == 0 {
		d := x.d
		d.Drained().OnReady(func(future.Nothing) {
			if len(x.tasks) == 0 {
				_, _ = d.Stop()
			}
		})
	}
}

func (x *simExecutor) KillTask(_ *executor.Driver, id *mesos.TaskID) {
	x.end(id.GetValue(), mesos.TaskState_TASK_KILLED)
}

func (x *simExecutor) FrameworkMessage(*executor.Driver, []byte) {}

func (x *simExecutor) Shutdown(*executor.Driver) { x.c.truth.executorEnded(x) }

func (x *simExecutor) Error(*executor.Driver, string) {}

// recordLaunches watches a framework host's outgoing launches: the
// driver's ACCEPT calls with LAUNCH operations, and LaunchTasksMessage
// (frameworks on the older driver protocol).
func (c *Cluster) recordLaunches(n *frameworkNode) {
	record := func(fid string, tasks []*mesos.TaskInfo) {
		for _, t := range tasks {
			k := taskKey{fid, t.GetTaskId().GetValue()}
			if _, ok := c.truth.launched[k]; !ok {
				c.truth.launched[k] = n.index
			}
		}
	}
	n.rt.AddFilter(process.Rule{
		Side: process.Sending, Name: "mesos.scheduler.Call", Action: process.Pass(),
		OnMatch: func(ev process.Intercepted) {
			if !mayBeAccept(ev.Message.Body) {
				return // most calls are declines and acknowledgements
			}
			call := &schedulerpb.Call{}
			if proto.Unmarshal(ev.Message.Body, call) != nil || call.GetType() != schedulerpb.Call_ACCEPT {
				return
			}
			for _, op := range call.GetAccept().GetOperations() {
				switch op.GetType() {
				case mesos.Offer_Operation_LAUNCH:
					record(call.GetFrameworkId().GetValue(), op.GetLaunch().GetTaskInfos())
				case mesos.Offer_Operation_DESTROY:
					for _, v := range op.GetDestroy().GetVolumes() {
						c.truth.destroyed[v.GetDisk().GetPersistence().GetId()] = true
					}
				}
			}
		},
	})
	n.rt.AddFilter(process.Rule{
		Side: process.Sending, Name: "mesos.internal.LaunchTasksMessage", Action: process.Pass(),
		OnMatch: func(ev process.Intercepted) {
			m := &messages.LaunchTasksMessage{}
			if proto.Unmarshal(ev.Message.Body, m) == nil {
				record(m.GetFrameworkId().GetValue(), m.GetTasks())
			}
		},
	})
}

// heardUpdate checks an update a framework got against what the
// executor sent.
func (c *Cluster) heardUpdate(n *frameworkNode, st *mesos.TaskStatus) {
	k := taskKey{n.id.GetValue(), st.GetTaskId().GetValue()}
	h := c.truth.heard[k]
	if h == nil {
		h = &heard{pos: -1}
		c.truth.heard[k] = h
	}
	h.latest = st.GetState()
	entry := st.GetState().String()
	if st.GetReason() == mesos.TaskStatus_REASON_RECONCILIATION {
		entry += " (reconciliation)"
	}
	c.heardLog[k] = append(c.heardLog[k], entry)
	if st.GetReason() == mesos.TaskStatus_REASON_RECONCILIATION {
		return
	}
	if h.terminal {
		if len(st.GetUuid()) > 0 && bytes.Equal(st.GetUuid(), h.terminalUUID) {
			return // the terminal update again: at least once
		}
		if len(st.GetUuid()) == 0 && proto.Equal(st, h.terminalStatus) {
			return // the same update without a uuid, copied on the way
		}
		c.violate("terminal-update-last", fmt.Sprintf("task %s: %s after a terminal update", k, st.GetState()))
		return
	}
	if h.terminal = mesos.IsTerminal(st.GetState()); h.terminal {
		h.terminalUUID = st.GetUuid()
		h.terminalStatus = st
	}
	if st.GetSource() != mesos.TaskStatus_SOURCE_EXECUTOR {
		return
	}
	sent := c.truth.sent[k]
	for i := max(h.pos, 0); i < len(sent); i++ {
		if sent[i] == st.GetState() {
			h.pos = i
			return
		}
	}
	c.violate("updates-in-order", fmt.Sprintf("task %s: the framework heard %s after the executor's update #%d of %v", k, st.GetState(), h.pos, sent))
}

// mayBeAccept reads only the type (field 2) of an encoded scheduler Call:
// false when it is there and not ACCEPT, so that the Call need not be
// decoded.
func mayBeAccept(body []byte) bool {
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return true
		}
		body = body[n:]
		if num == 2 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(body)
			return m < 0 || schedulerpb.Call_Type(v) == schedulerpb.Call_ACCEPT
		}
		m := protowire.ConsumeFieldValue(num, typ, body)
		if m < 0 {
			return true
		}
		body = body[m:]
	}
	return true
}
