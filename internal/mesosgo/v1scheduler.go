//go:build ignore

// This program is a v1 HTTP scheduler written against mesos-go's v1
// client (api/v1/lib: httpcli, httpsched, scheduler/calls), unmodified,
// used by gomesos's interop tests. It subscribes with the codec given by
// -codec (json or protobuf), prints every event as one line, acknowledges
// every update that carries a uuid, and runs one call per command line
// read from stdin:
//
//	launch <task> <command>    LAUNCH on the last offer (cpus 0.5, mem 64, its first port)
//	decline <refuse seconds>   DECLINE the last offer with filters
//	revive | teardown
//	kill <task>
//	reconcile [<task>]         explicit for one task, implicit without
//	message <executor> <text>  MESSAGE to an executor on the last offer's agent
//
// It prints "CALL <TYPE> ok" or "CALL <TYPE> error <text>" after each
// call, and "STREAM ended <error>" when the subscription stream ends.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

var out = struct {
	sync.Mutex
	w *bufio.Writer
}{w: bufio.NewWriter(os.Stdout)}

func say(format string, args ...interface{}) {
	out.Lock()
	defer out.Unlock()
	fmt.Fprintf(out.w, format+"\n", args...)
	out.w.Flush()
}

type state struct {
	sync.Mutex
	frameworkID string
	offer       *mesos.Offer
}

func main() {
	master := flag.String("master", "127.0.0.1:5050", "master host:port")
	codec := flag.String("codec", "json", "json or protobuf")
	user := flag.String("user", "root", "framework user")
	principal := flag.String("principal", "", "HTTP Basic credentials and framework principal")
	secret := flag.String("secret", "", "HTTP Basic secret")
	flag.Parse()

	mt := codecs.MediaTypeJSON
	if *codec == "protobuf" {
		mt = codecs.MediaTypeProtobuf
	}
	cli := httpcli.New(
		httpcli.Endpoint("http://"+*master+"/api/v1/scheduler"),
		httpcli.Codec(codecs.ByMediaType[encoding.MediaType(mt)]),
		httpcli.Do(httpcli.With(httpcli.Timeout(30*time.Second), httpcli.BasicAuth(*principal, *secret))),
	)
	caller := httpsched.NewCaller(cli)
	ctx := context.Background()
	failover := 60.0
	info := &mesos.FrameworkInfo{User: *user, Name: "mesos-go v1 " + *codec, FailoverTimeout: &failover}
	if *principal != "" {
		info.Principal = principal
	}
	resp, err := caller.Call(ctx, calls.Subscribe(info))
	if err != nil {
		say("SUBSCRIBE error %v", err)
		os.Exit(1)
	}
	st := &state{}
	go commands(ctx, caller, st)
	for {
		var e scheduler.Event
		if err := resp.Decode(&e); err != nil {
			say("STREAM ended %v", err)
			resp.Close()
			os.Exit(0)
		}
		event(ctx, caller, st, &e)
	}
}

func event(ctx context.Context, caller calls.Caller, st *state, e *scheduler.Event) {
	switch e.GetType() {
	case scheduler.Event_SUBSCRIBED:
		s := e.GetSubscribed()
		st.Lock()
		st.frameworkID = s.GetFrameworkID().GetValue()
		st.Unlock()
		say("SUBSCRIBED %s %v", s.GetFrameworkID().GetValue(), s.GetHeartbeatIntervalSeconds())
	case scheduler.Event_OFFERS:
		for i := range e.GetOffers().GetOffers() {
			o := e.GetOffers().GetOffers()[i]
			st.Lock()
			st.offer = &o
			st.Unlock()
			var parts []string
			for _, r := range o.GetResources() {
				switch r.GetType() {
				case mesos.SCALAR:
					parts = append(parts, fmt.Sprintf("%s=%v", r.GetName(), r.GetScalar().GetValue()))
				case mesos.RANGES:
					for _, rg := range r.GetRanges().GetRange() {
						parts = append(parts, fmt.Sprintf("%s=%d-%d", r.GetName(), rg.GetBegin(), rg.GetEnd()))
					}
				}
			}
			say("OFFER %s %s %s", o.GetID().Value, o.GetAgentID().Value, strings.Join(parts, " "))
		}
	case scheduler.Event_RESCIND:
		say("RESCIND %s", e.GetRescind().GetOfferID().Value)
	case scheduler.Event_UPDATE:
		s := e.GetUpdate().GetStatus()
		say("UPDATE %s %s %s", s.GetTaskID().Value, s.GetState(), s.GetMessage())
		if len(s.GetUUID()) > 0 {
			st.Lock()
			fid := st.frameworkID
			st.Unlock()
			ack := calls.Acknowledge(s.GetAgentID().GetValue(), s.GetTaskID().Value, s.GetUUID()).With(calls.Framework(fid))
			err := calls.CallNoData(ctx, caller, ack)
			report("ACKNOWLEDGE", err)
		}
	case scheduler.Event_MESSAGE:
		say("MESSAGE %s %s", e.GetMessage().GetExecutorID().Value, e.GetMessage().GetData())
	case scheduler.Event_FAILURE:
		say("FAILURE %s %s %d", e.GetFailure().GetAgentID().GetValue(), e.GetFailure().GetExecutorID().GetValue(), e.GetFailure().GetStatus())
	case scheduler.Event_ERROR:
		say("ERROR %s", e.GetError().GetMessage())
	case scheduler.Event_HEARTBEAT:
		say("HEARTBEAT")
	default:
		say("EVENT %s", e.GetType())
	}
}

func report(name string, err error) {
	if err != nil {
		say("CALL %s error %v", name, err)
		return
	}
	say("CALL %s ok", name)
}

func commands(ctx context.Context, caller calls.Caller, st *state) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		st.Lock()
		fid, offer := st.frameworkID, st.offer
		st.Unlock()
		var call *scheduler.Call
		switch f[0] {
		case "launch":
			if offer == nil {
				say("CALL ACCEPT error no offer")
				continue
			}
			var port uint64
			for _, r := range offer.GetResources() {
				if r.GetName() == "ports" && len(r.GetRanges().GetRange()) > 0 {
					port = r.GetRanges().GetRange()[0].GetBegin()
				}
			}
			res := []mesos.Resource{scalar("cpus", 0.5), scalar("mem", 64)}
			if port != 0 {
				res = append(res, mesos.Resource{Name: "ports", Type: mesos.RANGES.Enum(),
					Ranges: &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: port, End: port}}}})
			}
			shell := true
			cmd := strings.Join(f[2:], " ")
			task := mesos.TaskInfo{Name: f[1], TaskID: mesos.TaskID{Value: f[1]}, AgentID: offer.GetAgentID(),
				Resources: res, Command: &mesos.CommandInfo{Value: &cmd, Shell: &shell}}
			call = calls.Accept(calls.OfferOperations{calls.OpLaunch(task)}.WithOffers(offer.GetID()))
		case "decline":
			if offer == nil {
				say("CALL DECLINE error no offer")
				continue
			}
			secs, _ := strconv.ParseFloat(f[1], 64)
			call = calls.Decline(offer.GetID()).With(calls.RefuseSeconds(time.Duration(secs * float64(time.Second))))
		case "revive":
			call = calls.Revive()
		case "teardown":
			call = &scheduler.Call{Type: scheduler.Call_TEARDOWN}
		case "kill":
			agent := ""
			if offer != nil {
				agent = offer.GetAgentID().Value
			}
			call = calls.Kill(f[1], agent)
		case "reconcile":
			tasks := map[string]string{}
			if len(f) > 1 && offer != nil {
				tasks[f[1]] = offer.GetAgentID().Value
			}
			call = calls.Reconcile(calls.ReconcileTasks(tasks))
		case "message":
			call = calls.Message(offer.GetAgentID().Value, f[1], []byte(strings.Join(f[2:], " ")))
		default:
			say("CALL %s error unknown command", f[0])
			continue
		}
		call = call.With(calls.Framework(fid))
		report(call.GetType().String(), calls.CallNoData(ctx, caller, call))
	}
}

func scalar(name string, v float64) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}}
}
