package slave

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/mesos/messages"
)

func TestValidateExecutorCall(t *testing.T) {
	uuid := make([]byte, 16)
	eid := &mesos.ExecutorID{Value: proto.String("e1")}
	fid := &mesos.FrameworkID{Value: proto.String("f1")}
	status := func(mod func(*mesos.TaskStatus)) *executorpb.Call_Update {
		st := &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String("t1")}, State: mesos.TaskState_TASK_RUNNING.Enum(),
			Source: mesos.TaskStatus_SOURCE_EXECUTOR.Enum(), Uuid: uuid}
		if mod != nil {
			mod(st)
		}
		return &executorpb.Call_Update{Status: st}
	}
	call := func(typ executorpb.Call_Type, mod func(*executorpb.Call)) *executorpb.Call {
		c := &executorpb.Call{ExecutorId: eid, FrameworkId: fid, Type: typ.Enum()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		call *executorpb.Call
		err  string // "" valid; else a part of the error
	}{
		{"subscribe", call(executorpb.Call_SUBSCRIBE, func(c *executorpb.Call) { c.Subscribe = &executorpb.Call_Subscribe{} }), ""},
		{"no type", call(executorpb.Call_SUBSCRIBE, func(c *executorpb.Call) { c.Type = nil }), "Expecting 'type' to be present"},
		{"no executor id", call(executorpb.Call_MESSAGE, func(c *executorpb.Call) { c.ExecutorId = nil }), "Expecting 'executor_id'"},
		{"no framework id", call(executorpb.Call_MESSAGE, func(c *executorpb.Call) { c.FrameworkId = nil }), "Expecting 'framework_id'"},
		{"subscribe without subscribe", call(executorpb.Call_SUBSCRIBE, nil), "Expecting 'subscribe' to be present"},
		{"update", call(executorpb.Call_UPDATE, func(c *executorpb.Call) { c.Update = status(nil) }), ""},
		{"update without update", call(executorpb.Call_UPDATE, nil), "Expecting 'update' to be present"},
		{"update without uuid", call(executorpb.Call_UPDATE, func(c *executorpb.Call) {
			c.Update = status(func(st *mesos.TaskStatus) { st.Uuid = nil })
		}), "Expecting 'uuid' to be present"},
		{"update with a bad uuid", call(executorpb.Call_UPDATE, func(c *executorpb.Call) {
			c.Update = status(func(st *mesos.TaskStatus) { st.Uuid = []byte("short") })
		}), "Invalid UUID"},
		{"update of another executor", call(executorpb.Call_UPDATE, func(c *executorpb.Call) {
			c.Update = status(func(st *mesos.TaskStatus) { st.ExecutorId = &mesos.ExecutorID{Value: proto.String("e2")} })
		}), "does not match ExecutorID in TaskStatus: e2"},
		{"update from the slave", call(executorpb.Call_UPDATE, func(c *executorpb.Call) {
			c.Update = status(func(st *mesos.TaskStatus) { st.Source = mesos.TaskStatus_SOURCE_SLAVE.Enum() })
		}), "expecting 'SOURCE_EXECUTOR'"},
		{"update without source", call(executorpb.Call_UPDATE, func(c *executorpb.Call) {
			c.Update = status(func(st *mesos.TaskStatus) { st.Source = nil })
		}), "expecting 'SOURCE_EXECUTOR'"},
		{"staging", call(executorpb.Call_UPDATE, func(c *executorpb.Call) {
			c.Update = status(func(st *mesos.TaskStatus) { st.State = mesos.TaskState_TASK_STAGING.Enum() })
		}), "Received TASK_STAGING from executor e1 of framework f1"},
		{"message", call(executorpb.Call_MESSAGE, func(c *executorpb.Call) { c.Message = &executorpb.Call_Message{Data: []byte("x")} }), ""},
		{"message without message", call(executorpb.Call_MESSAGE, nil), "Expecting 'message' to be present"},
		{"unknown", call(executorpb.Call_UNKNOWN, nil), ""},
	} {
		err := validateExecutorCall(tc.call)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestExecutorEventOfEachMessage(t *testing.T) {
	tid := &mesos.TaskID{Value: proto.String("t1")}
	info := &mesos.ExecutorInfo{ExecutorId: &mesos.ExecutorID{Value: proto.String("e1")}}
	slaveInfo := &mesos.SlaveInfo{Hostname: proto.String("h")}
	policy := &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: proto.Int64(5)}}
	for _, tc := range []struct {
		msg  proto.Message
		want *executorpb.Event
	}{
		{&messages.ExecutorRegisteredMessage{ExecutorInfo: info, SlaveInfo: slaveInfo, FrameworkInfo: &mesos.FrameworkInfo{Name: proto.String("f")}},
			&executorpb.Event{Type: executorpb.Event_SUBSCRIBED.Enum(), Subscribed: &executorpb.Event_Subscribed{
				ExecutorInfo: info, SlaveInfo: slaveInfo, FrameworkInfo: &mesos.FrameworkInfo{Name: proto.String("f")}}}},
		{&messages.RunTaskMessage{Task: &mesos.TaskInfo{TaskId: tid}},
			&executorpb.Event{Type: executorpb.Event_LAUNCH.Enum(), Launch: &executorpb.Event_Launch{Task: &mesos.TaskInfo{TaskId: tid}}}},
		{&messages.KillTaskMessage{TaskId: tid, KillPolicy: policy},
			&executorpb.Event{Type: executorpb.Event_KILL.Enum(), Kill: &executorpb.Event_Kill{TaskId: tid, KillPolicy: policy}}},
		{&messages.StatusUpdateAcknowledgementMessage{TaskId: tid, Uuid: []byte("u")},
			&executorpb.Event{Type: executorpb.Event_ACKNOWLEDGED.Enum(), Acknowledged: &executorpb.Event_Acknowledged{TaskId: tid, Uuid: []byte("u")}}},
		{&messages.FrameworkToExecutorMessage{Data: []byte("hi")},
			&executorpb.Event{Type: executorpb.Event_MESSAGE.Enum(), Message: &executorpb.Event_Message{Data: []byte("hi")}}},
		{&messages.ShutdownExecutorMessage{}, &executorpb.Event{Type: executorpb.Event_SHUTDOWN.Enum()}},
	} {
		got, err := executorEvent(tc.msg)
		if err != nil || !proto.Equal(got, tc.want) {
			t.Errorf("%T: got %v (%v), want %v", tc.msg, got, err, tc.want)
		}
	}
	if _, err := executorEvent(&messages.PingSlaveMessage{}); err == nil {
		t.Error("a message with no executor event mapped to one")
	}
}

func TestUpdateOfCall(t *testing.T) {
	fid := &mesos.FrameworkID{Value: proto.String("f1")}
	eid := &mesos.ExecutorID{Value: proto.String("e1")}
	st := &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String("t1")}, State: mesos.TaskState_TASK_RUNNING.Enum(), Uuid: []byte("0123456789abcdef")}
	u := updateOfCall(fid, eid, st, 42)
	if u.GetTimestamp() != 42 || string(u.GetUuid()) != "0123456789abcdef" || u.GetExecutorId().GetValue() != "e1" || u.GetFrameworkId().GetValue() != "f1" {
		t.Fatalf("update %v", u)
	}
	st.Timestamp = proto.Float64(7)
	if u := updateOfCall(fid, eid, st, 42); u.GetTimestamp() != 7 {
		t.Fatalf("the status's own timestamp was not kept: %v", u.GetTimestamp())
	}
	if u.Status == st {
		t.Fatal("the update shares the call's status")
	}
}
