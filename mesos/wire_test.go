package mesos_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/mesos/statepb"
	v1executorpb "github.com/gomesos/gomesos/mesos/v1/executorpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	v1schedulerpb "github.com/gomesos/gomesos/mesos/v1/schedulerpb"
)

// The libprocess wire names a message by its full proto name.
func TestMessageNames(t *testing.T) {
	for want, m := range map[string]proto.Message{
		"mesos.FrameworkInfo":                               &mesos.FrameworkInfo{},
		"mesos.TaskStatus":                                  &mesos.TaskStatus{},
		"mesos.Offer.Operation":                             &mesos.Offer_Operation{},
		"mesos.ACLs":                                        &mesos.ACLs{},
		"mesos.internal.RegisterSlaveMessage":               &messages.RegisterSlaveMessage{},
		"mesos.internal.StatusUpdateMessage":                &messages.StatusUpdateMessage{},
		"mesos.internal.ResourceOffersMessage":              &messages.ResourceOffersMessage{},
		"mesos.internal.RunTaskMessage":                     &messages.RunTaskMessage{},
		"mesos.internal.AuthenticateMessage":                &messages.AuthenticateMessage{},
		"mesos.internal.Registry":                           &messages.Registry{},
		"mesos.internal.state.Entry":                        &statepb.Entry{},
		"mesos.scheduler.Call":                              &schedulerpb.Call{},
		"mesos.scheduler.Event":                             &schedulerpb.Event{},
		"mesos.executor.Call":                               &executorpb.Call{},
		"mesos.v1.AgentID":                                  &mesospb.AgentID{},
		"mesos.v1.scheduler.Call":                           &v1schedulerpb.Call{},
		"mesos.v1.executor.Event":                           &v1executorpb.Event{},
		"mesos.internal.StatusUpdateAcknowledgementMessage": &messages.StatusUpdateAcknowledgementMessage{},
	} {
		if got := string(proto.MessageName(m)); got != want {
			t.Errorf("MessageName = %q, want %q", got, want)
		}
	}
}

// unhex decodes a hex string that may contain spaces.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad golden %q: %v", s, err)
	}
	return b
}

// The goldens below were worked out by hand from field numbers and wire
// types (tag = number<<3 | type; 0 varint, 1 fixed64, 2 length-delimited),
// fields in ascending number order as Mesos's C++ encoder writes them.
func TestGoldenEncodings(t *testing.T) {
	tests := []struct {
		name   string
		msg    proto.Message
		golden string
	}{
		{
			name: "FrameworkInfo",
			msg: &mesos.FrameworkInfo{
				User:            proto.String("u"),
				Name:            proto.String("test"),
				Id:              &mesos.FrameworkID{Value: proto.String("f1")},
				FailoverTimeout: proto.Float64(1.5),
				Checkpoint:      proto.Bool(true),
				Capabilities: []*mesos.FrameworkInfo_Capability{
					{Type: mesos.FrameworkInfo_Capability_REVOCABLE_RESOURCES.Enum()},
				},
			},
			golden: "0a01 75" + // 1 user "u"
				" 1204 74657374" + // 2 name "test"
				" 1a04 0a02 6631" + // 3 id {1 value "f1"}
				" 21 000000000000f83f" + // 4 failover_timeout 1.5 (fixed64)
				" 2801" + // 5 checkpoint true
				" 5202 0801", // 10 capabilities [{1 type 1}]
		},
		{
			name: "StatusUpdateMessage",
			msg: &messages.StatusUpdateMessage{
				Update: &messages.StatusUpdate{
					FrameworkId: &mesos.FrameworkID{Value: proto.String("f1")},
					Status: &mesos.TaskStatus{
						TaskId: &mesos.TaskID{Value: proto.String("t1")},
						State:  mesos.TaskState_TASK_RUNNING.Enum(),
						Source: mesos.TaskStatus_SOURCE_EXECUTOR.Enum(),
					},
					Timestamp: proto.Float64(2),
					Uuid:      []byte{0xde, 0xad, 0xbe, 0xef},
				},
				Pid: proto.String("slave(1)@10.0.0.1:5051"),
			},
			golden: "0a21" + // 1 update, 33 bytes
				" 0a04 0a02 6631" + //   1 framework_id {"f1"}
				" 220a" + //   4 status, 10 bytes
				" 0a04 0a02 7431" + //     1 task_id {"t1"}
				" 1001" + //     2 state TASK_RUNNING
				" 4802" + //     9 source SOURCE_EXECUTOR
				" 29 0000000000000040" + //   5 timestamp 2.0
				" 3204 deadbeef" + //   6 uuid
				" 1216 736c6176652831294031302e302e302e313a35303531", // 2 pid
		},
		{
			name: "TaskStatus",
			msg: &mesos.TaskStatus{
				TaskId:  &mesos.TaskID{Value: proto.String("t1")},
				State:   mesos.TaskState_TASK_KILLING.Enum(),
				Reason:  mesos.TaskStatus_REASON_EXECUTOR_REREGISTRATION_TIMEOUT.Enum(),
				Healthy: proto.Bool(false),
			},
			golden: "0a04 0a02 7431" + // 1 task_id {"t1"}
				" 1008" + // 2 state TASK_KILLING (8)
				" 4000" + // 8 healthy false (set, so written)
				" 5018", // 10 reason 24
		},
		{
			name: "RegisterSlaveMessage",
			msg: &messages.RegisterSlaveMessage{
				Slave: &mesos.SlaveInfo{
					Hostname: proto.String("h"),
					Resources: []*mesos.Resource{{
						Name:   proto.String("cpus"),
						Type:   mesos.Value_SCALAR.Enum(),
						Scalar: &mesos.Value_Scalar{Value: proto.Float64(2)},
					}},
					Port: proto.Int32(5051),
				},
				Version: proto.String("1.0.0"),
			},
			golden: "0a1b" + // 1 slave, 27 bytes
				" 0a01 68" + //   1 hostname "h"
				" 1a13" + //   3 resources, 19 bytes
				" 0a04 63707573" + //     1 name "cpus"
				" 1000" + //     2 type SCALAR (0, but set)
				" 1a09 09 0000000000000040" + //     3 scalar {1 value 2.0}
				" 40 bb27" + //   8 port 5051 (varint)
				" 1205 312e302e30", // 2 version "1.0.0"
		},
		{
			name: "ResourceOffersMessage",
			msg: &messages.ResourceOffersMessage{
				Offers: []*mesos.Offer{{
					Id:          &mesos.OfferID{Value: proto.String("o1")},
					FrameworkId: &mesos.FrameworkID{Value: proto.String("f1")},
					SlaveId:     &mesos.SlaveID{Value: proto.String("s1")},
					Hostname:    proto.String("h"),
				}},
				Pids: []string{"slave(1)@h:5051"},
			},
			golden: "0a15" + // 1 offers[0], 21 bytes
				" 0a04 0a02 6f31" + //   1 id
				" 1204 0a02 6631" + //   2 framework_id
				" 1a04 0a02 7331" + //   3 slave_id
				" 2201 68" + //   4 hostname
				" 120f 736c6176652831294068 3a35303531", // 2 pids[0]
		},
		{
			name: "RunTaskMessage",
			msg: &messages.RunTaskMessage{
				Framework: &mesos.FrameworkInfo{User: proto.String("u"), Name: proto.String("n")},
				Pid:       proto.String("s@h:1"),
				Task: &mesos.TaskInfo{
					Name:    proto.String("t"),
					TaskId:  &mesos.TaskID{Value: proto.String("t1")},
					SlaveId: &mesos.SlaveID{Value: proto.String("s1")},
				},
			},
			golden: "1206 0a0175 12016e" + // 2 framework {user "u", name "n"}
				" 1a05 7340683a31" + // 3 pid "s@h:1"
				" 220f" + // 4 task, 15 bytes
				" 0a01 74" + //   1 name
				" 1204 0a02 7431" + //   2 task_id
				" 1a04 0a02 7331", //   3 slave_id
		},
		{
			name: "scheduler Call SUBSCRIBE",
			msg: &schedulerpb.Call{
				Type: schedulerpb.Call_SUBSCRIBE.Enum(),
				Subscribe: &schedulerpb.Call_Subscribe{
					FrameworkInfo: &mesos.FrameworkInfo{User: proto.String("u"), Name: proto.String("n")},
					Force:         proto.Bool(true),
				},
			},
			golden: "1001" + // 2 type SUBSCRIBE
				" 1a0a" + // 3 subscribe, 10 bytes
				" 0a06 0a0175 12016e" + //   1 framework_info
				" 1001", //   2 force true
		},
		{
			name: "v1 scheduler Call ACKNOWLEDGE",
			msg: &v1schedulerpb.Call{
				FrameworkId: &mesospb.FrameworkID{Value: proto.String("f1")},
				Type:        v1schedulerpb.Call_ACKNOWLEDGE.Enum(),
				Acknowledge: &v1schedulerpb.Call_Acknowledge{
					AgentId: &mesospb.AgentID{Value: proto.String("s1")},
					TaskId:  &mesospb.TaskID{Value: proto.String("t1")},
					Uuid:    []byte{1, 2},
				},
			},
			golden: "0a04 0a02 6631" + // 1 framework_id
				" 1008" + // 2 type ACKNOWLEDGE
				" 4210" + // 8 acknowledge, 16 bytes
				" 0a04 0a02 7331" + //   1 agent_id
				" 1204 0a02 7431" + //   2 task_id
				" 1a02 0102", //   3 uuid
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.golden)
			got, err := proto.MarshalOptions{Deterministic: true}.Marshal(tc.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encoding mismatch\n got %x\nwant %x", got, want)
			}
			back := tc.msg.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(want, back); err != nil {
				t.Fatalf("Unmarshal golden: %v", err)
			}
			if !proto.Equal(back, tc.msg) {
				t.Errorf("golden decodes to %v, want %v", back, tc.msg)
			}
		})
	}
}

// Defaults come from the .proto files and must equal Mesos's.
func TestDefaults(t *testing.T) {
	var (
		fi mesos.FrameworkInfo
		f  mesos.Filters
		c  mesos.CommandInfo
		u  mesos.CommandInfo_URI
		mi mesos.MasterInfo
		si mesos.SlaveInfo
		hc mesos.HealthCheck
	)
	if fi.GetRole() != "*" || fi.GetFailoverTimeout() != 0 || fi.GetCheckpoint() {
		t.Errorf("FrameworkInfo defaults: role %q failover %v checkpoint %v",
			fi.GetRole(), fi.GetFailoverTimeout(), fi.GetCheckpoint())
	}
	if f.GetRefuseSeconds() != 5 {
		t.Errorf("Filters.refuse_seconds default = %v, want 5", f.GetRefuseSeconds())
	}
	if !c.GetShell() || !u.GetExtract() {
		t.Errorf("CommandInfo.shell = %v, URI.extract = %v, want true, true", c.GetShell(), u.GetExtract())
	}
	if mi.GetPort() != 5050 || si.GetPort() != 5051 {
		t.Errorf("ports: master %d slave %d", mi.GetPort(), si.GetPort())
	}
	if hc.GetDelaySeconds() != 15 || hc.GetIntervalSeconds() != 10 || hc.GetTimeoutSeconds() != 20 ||
		hc.GetConsecutiveFailures() != 3 || hc.GetGracePeriodSeconds() != 10 {
		t.Errorf("HealthCheck defaults wrong: %v", &hc)
	}
	if got := (&mesos.ContainerInfo_DockerInfo{}).GetNetwork(); got != mesos.ContainerInfo_DockerInfo_HOST {
		t.Errorf("DockerInfo.network default = %v, want HOST", got)
	}
	// An enum field with no default reads as the first value declared.
	if got := (&mesos.Task{}).GetStatusUpdateState(); got != mesos.TaskState_TASK_STAGING {
		t.Errorf("Task.status_update_state zero value = %v, want TASK_STAGING", got)
	}
	if !(&mesos.ACLs{}).GetPermissive() {
		t.Error("ACLs.permissive default should be true")
	}
	// Defaults are not sent on the wire.
	if b, _ := proto.Marshal(&mesos.Filters{}); len(b) != 0 {
		t.Errorf("empty Filters encodes to %x", b)
	}
}

// Mesos drops messages that lack required fields; so does our decoder.
func TestRequiredFieldsEnforced(t *testing.T) {
	// RegisterSlaveMessage{slave: SlaveInfo{}}: hostname missing.
	err := proto.Unmarshal(unhex(t, "0a00"), &messages.RegisterSlaveMessage{})
	if err == nil {
		t.Error("decoding a SlaveInfo without hostname succeeded")
	}
	if _, err := proto.Marshal(&messages.StatusUpdateMessage{}); err == nil {
		t.Error("encoding a StatusUpdateMessage without update succeeded")
	}
	// Unknown fields survive a round trip, as in C++.
	in := unhex(t, "0a0131 f80701")
	var id mesos.TaskID
	if err := proto.Unmarshal(in, &id); err != nil {
		t.Fatal(err)
	}
	if out, _ := proto.Marshal(&id); !bytes.Equal(out, in) {
		t.Errorf("unknown field lost: %x -> %x", in, out)
	}
}
