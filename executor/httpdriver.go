package executor

import (
	"time"

	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// The driver over the v1 executor HTTP API (Env.HTTP). The driver's
// process holds all the state; the Agent's futures come home through its
// mailbox.

// firstBackoff is the longest first wait before subscribing again.
const firstBackoff = 100 * time.Millisecond

// subscribeCall is SUBSCRIBE with everything not yet acknowledged: the
// tasks launched and not done, and the updates sent and not acknowledged.
func (d *driver) subscribeCall() *executorpb.Call {
	sub := &executorpb.Call_Subscribe{UnacknowledgedTasks: d.unacknowledgedTasks()}
	for _, u := range d.pendingUpdates() {
		sub.UnacknowledgedUpdates = append(sub.UnacknowledgedUpdates, &executorpb.Call_Update{Status: u.GetStatus()})
	}
	return &executorpb.Call{ExecutorId: d.executorID(), FrameworkId: d.frameworkID(), Type: executorpb.Call_SUBSCRIBE.Enum(), Subscribe: sub}
}

// subscribe posts SUBSCRIBE; on 200 it reads the stream, otherwise it
// tries again after a backoff.
func (d *driver) subscribe() {
	if !d.running() {
		return
	}
	d.agent.Subscribe(d.subscribeCall()).OnAny(process.Defer1(d.rt, d.Self(), func(f future.Future[Events]) {
		evs, err := f.Get()
		if err != nil {
			d.log.Info("cannot subscribe; trying again", "err", err)
			d.disconnected()
			return
		}
		if !d.running() {
			evs.Close()
			return
		}
		d.events = evs
		d.backoff = 0
		d.next(evs)
	}))
}

// next reads the stream's next Event.
func (d *driver) next(evs Events) {
	evs.Next().OnAny(process.Defer1(d.rt, d.Self(), func(f future.Future[*executorpb.Event]) {
		if d.events != evs {
			return // an older subscription
		}
		ev, err := f.Get()
		if err != nil {
			d.log.Info("the slave's event stream ended", "err", err)
			d.events = nil
			evs.Close()
			d.disconnected()
			return
		}
		d.event(ev)
		if d.events == evs && d.running() {
			d.next(evs)
		}
	}))
}

// event hands one Event to the executor, as the matching message would.
func (d *driver) event(ev *executorpb.Event) {
	switch ev.GetType() {
	case executorpb.Event_SUBSCRIBED:
		sub := ev.GetSubscribed()
		if id := sub.GetSlaveInfo().GetId().GetValue(); id != "" {
			d.env.SlaveID = id
		}
		if d.subscribed {
			d.reregistered(sub.GetSlaveInfo())
		} else {
			d.subscribed = true
			d.registered(sub.GetExecutorInfo(), sub.GetFrameworkInfo(), sub.GetSlaveInfo())
		}
	case executorpb.Event_LAUNCH:
		d.launch(ev.GetLaunch().GetTask())
	case executorpb.Event_KILL:
		if d.running() {
			d.exec.KillTask(d.h, ev.GetKill().GetTaskId())
		}
	case executorpb.Event_ACKNOWLEDGED:
		d.acknowledged(ev.GetAcknowledged().GetTaskId().GetValue(), ev.GetAcknowledged().GetUuid())
	case executorpb.Event_MESSAGE:
		if d.running() {
			d.exec.FrameworkMessage(d.h, ev.GetMessage().GetData())
		}
	case executorpb.Event_SHUTDOWN:
		d.shutdown()
	case executorpb.Event_ERROR:
		if d.running() {
			d.exec.Error(d.h, ev.GetError().GetMessage())
		}
	default:
		d.log.Warn("ignoring an unknown executor event", "type", ev.GetType().String())
	}
}

// disconnected handles a subscription that failed or ended: as a broken
// link (lostSlave) once the executor was subscribed, and in any case a
// new attempt after a random wait of at most a backoff that doubles up to
// Env.SubscriptionBackoffMax. Calls not posted yet are dropped: the
// updates among them go again with the next SUBSCRIBE.
func (d *driver) disconnected() {
	d.outbox = nil
	if d.subscribed && d.connected {
		d.lostSlave()
	}
	if !d.running() {
		return
	}
	max := d.env.SubscriptionBackoffMax
	if max <= 0 {
		max = 2 * time.Second
	}
	if d.backoff == 0 {
		d.backoff = min(firstBackoff, max)
	} else {
		d.backoff = min(2*d.backoff, max)
	}
	d.Clock().Cancel(d.retry)
	d.retry = d.Delay(time.Duration(d.rt.RandFloat()*float64(d.backoff)), d.subscribe)
}

// post sends a call; calls go one at a time, in order, so that the slave
// takes a task's updates in the order they were sent. A call that fails
// is dropped (an update goes again with the next SUBSCRIBE; a framework
// message is best effort).
func (d *driver) post(call *executorpb.Call) {
	if !d.connected {
		if call.GetType() == executorpb.Call_MESSAGE {
			d.log.Warn("not subscribed; framework message dropped")
		}
		return // an update waits for the next SUBSCRIBE
	}
	d.outbox = append(d.outbox, call)
	d.postNext()
}

func (d *driver) postNext() {
	if d.posting || len(d.outbox) == 0 {
		return
	}
	d.posting = true
	call := d.outbox[0]
	d.agent.Call(call).OnAny(process.Defer1(d.rt, d.Self(), func(f future.Future[future.Nothing]) {
		d.posting = false
		if len(d.outbox) > 0 && d.outbox[0] == call {
			d.outbox = d.outbox[1:]
		}
		if _, err := f.Get(); err != nil {
			d.log.Warn("call failed", "call", call.GetType().String(), "err", err)
		}
		d.postNext()
	}))
}

// Finalize ends the HTTP subscription.
func (d *driver) Finalize() {
	if d.events != nil {
		d.events.Close()
		d.events = nil
	}
}
