//go:build ignore

// This program is an executor written against mesos-go's v1 executor
// library (api/v1/lib: executor, executor/calls, executor/config,
// httpcli/httpexec), used by gomesos's interop tests as the mesos-go 0.0.6
// executor (executor.go) is. It reads its configuration from the
// environment the agent sets (config.FromEnv), subscribes to
// MESOS_AGENT_ENDPOINT/api/v1/executor with the codec given by -codec
// (json or protobuf), answers a LAUNCH with TASK_RUNNING, replies to the
// framework message "hello" with "reply:hello" and then finishes the task,
// kills tasks on request and exits on SHUTDOWN or once its last update is
// acknowledged. It keeps its unacknowledged updates and tasks and sends
// them again when it subscribes again. It logs each event to stderr (the
// sandbox's stderr).
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
	"github.com/mesos/mesos-go/api/v1/lib/executor/calls"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpexec"
)

type state struct {
	sender   calls.Sender
	cfg      config.Config
	tasks    map[string]mesos.TaskInfo
	unacked  map[string]executor.Call_Update
	finished bool // the task finished: exit once everything is acknowledged
	shutdown bool
}

func logf(format string, args ...interface{}) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func newUUID() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

func (s *state) update(t mesos.TaskInfo, st mesos.TaskState) {
	status := mesos.TaskStatus{
		TaskID: t.TaskID, State: &st, Source: mesos.SOURCE_EXECUTOR.Enum(), UUID: newUUID(),
		ExecutorID: &mesos.ExecutorID{Value: s.cfg.ExecutorID},
	}
	u := calls.Update(status)
	s.unacked[string(status.UUID)] = *u.Update
	if err := calls.SendNoData(context.Background(), s.sender, calls.NonStreaming(u)); err != nil {
		logf("UPDATE failed: %v", err)
	}
	if st == mesos.TASK_FINISHED || st == mesos.TASK_KILLED {
		s.finished = true
	}
}

func (s *state) handle(e executor.Event) {
	switch e.GetType() {
	case executor.Event_SUBSCRIBED:
		logf("SUBSCRIBED %s on %s", e.Subscribed.ExecutorInfo.ExecutorID.Value, e.Subscribed.AgentInfo.Hostname)
	case executor.Event_LAUNCH:
		t := e.Launch.Task
		logf("LAUNCH %s", t.TaskID.Value)
		s.tasks[t.TaskID.Value] = t
		s.update(t, mesos.TASK_RUNNING)
	case executor.Event_KILL:
		logf("KILL %s", e.Kill.TaskID.Value)
		if t, ok := s.tasks[e.Kill.TaskID.Value]; ok {
			s.update(t, mesos.TASK_KILLED)
		}
	case executor.Event_ACKNOWLEDGED:
		logf("ACKNOWLEDGED %s", e.Acknowledged.TaskID.Value)
		delete(s.unacked, string(e.Acknowledged.UUID))
	case executor.Event_MESSAGE:
		msg := string(e.Message.Data)
		logf("MESSAGE %s", msg)
		if err := calls.SendNoData(context.Background(), s.sender, calls.NonStreaming(calls.Message([]byte("reply:"+msg)))); err != nil {
			logf("MESSAGE failed: %v", err)
		}
		for _, t := range s.tasks {
			s.update(t, mesos.TASK_FINISHED)
		}
	case executor.Event_SHUTDOWN:
		logf("SHUTDOWN")
		s.shutdown = true
	case executor.Event_ERROR:
		logf("ERROR %s", e.Error.Message)
	}
}

func (s *state) subscribeCall() *executor.Call {
	var tasks []mesos.TaskInfo
	for _, t := range s.tasks {
		tasks = append(tasks, t)
	}
	var updates []executor.Call_Update
	for _, u := range s.unacked {
		updates = append(updates, u)
	}
	return calls.Subscribe(tasks, updates)
}

func main() {
	codec := flag.String("codec", "protobuf", "json or protobuf")
	flag.Parse()
	cfg, err := config.FromEnv()
	if err != nil {
		logf("config: %v", err)
		os.Exit(1)
	}
	mt := codecs.MediaTypeProtobuf
	if *codec == "json" {
		mt = codecs.MediaTypeJSON
	}
	cli := httpcli.New(
		httpcli.Endpoint("http://"+cfg.AgentEndpoint+"/api/v1/executor"),
		httpcli.Codec(codecs.ByMediaType[encoding.MediaType(mt)]),
		httpcli.Do(httpcli.With(httpcli.Timeout(10*time.Minute))),
	)
	s := &state{
		cfg:     cfg,
		sender:  calls.SenderWith(httpexec.NewSender(cli.Send), calls.Framework(cfg.FrameworkID), calls.Executor(cfg.ExecutorID)),
		tasks:   make(map[string]mesos.TaskInfo),
		unacked: make(map[string]executor.Call_Update),
	}
	logf("CODEC %s", mt)
	for attempt := 0; attempt < 60; attempt++ {
		resp, err := s.sender.Send(context.Background(), calls.NonStreaming(s.subscribeCall()))
		if err != nil {
			logf("SUBSCRIBE failed: %v", err)
			time.Sleep(500 * time.Millisecond)
			continue
		}
		for {
			var e executor.Event
			if err := resp.Decode(&e); err != nil {
				logf("STREAM ended: %v", err)
				break
			}
			s.handle(e)
			if s.shutdown || (s.finished && len(s.unacked) == 0) {
				resp.Close()
				logf("EXIT")
				return
			}
		}
		resp.Close()
		time.Sleep(500 * time.Millisecond)
	}
	os.Exit(1)
}
