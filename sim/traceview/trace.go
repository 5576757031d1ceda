// Package traceview renders a recorded simulator run as one
// self-contained HTML file: a message sequence chart with one lane per
// process (masters, slaves, executors, frameworks), an arrow per
// delivery in virtual-time order, dropped, delayed and duplicated
// messages marked, faults drawn as bands over the lanes they hit, the
// violated invariant (if any) marked at its step, and filters by message
// type and task id.
//
// Render is a pure function of a Trace: the simulator (package sim)
// records the Trace, this package only draws it. The page has no
// external resources (plain SVG, inline script and style). Long runs
// stay usable: the page draws only the rows in view (virtual scrolling),
// so tens of thousands of deliveries scroll as smoothly as a hundred.
package traceview

import "time"

// Trace is one recorded run.
type Trace struct {
	// Title names the run (such as "seed 14").
	Title string
	// Replay is the command line that runs it again.
	Replay string
	// Schedule is the run's schedule, one readable line an event.
	Schedule []string
	// Lanes are the processes, in display order.
	Lanes []Lane
	// Deliveries are the messages and link breaks, in delivery order.
	Deliveries []Delivery
	// Events are the schedule's events as they were applied.
	Events []Event
	// Violation is the broken invariant, or nil.
	Violation *Violation
}

// Lane is one process of the run.
type Lane struct {
	// Name is what the lane's header says ("master 0", "slave 1").
	Name string
	// Kind is "master", "slave", "executor" or "framework".
	Kind string
	// Address is the process's host:port (its PIDs' address).
	Address string
}

// Fate says what happened to a message on its way.
type Fate string

// Fates of a delivery.
const (
	Delivered  Fate = ""
	Dropped    Fate = "dropped"    // a fault dropped it: never delivered
	Delayed    Fate = "delayed"    // a fault held it from Sent until At
	Duplicated Fate = "duplicated" // a fault's copy of a message delivered before
)

// Delivery is one message (or link break) delivered, or dropped.
type Delivery struct {
	// At is the virtual time of the delivery (of the drop, for a dropped
	// message).
	At time.Duration
	// Sent is when a delayed message was sent (At otherwise).
	Sent time.Duration
	// Kind is "message", or "exited" for a broken link reported to To.
	Kind string
	// From and To are lane indexes (-1: not a process of the run).
	From, To int
	// FromPID and ToPID are the full process ids.
	FromPID, ToPID string
	// Type is the message's type name ("" for exited).
	Type string
	// Body is the message, short and readable.
	Body string
	// Tasks are the task ids the message names.
	Tasks []string
	// Fate is Delivered, Dropped, Delayed or Duplicated.
	Fate Fate
}

// Event is one of the schedule's events as applied.
type Event struct {
	At time.Duration
	// Until is when a fault with a duration ended (0: a moment).
	Until time.Duration
	// Kind is the event's kind ("partition", "crash-slave", "launch").
	Kind string
	// Fault is true for faults (drawn as bands), false for workload.
	Fault bool
	// Text is the event, readable.
	Text string
	// Lanes are the lanes it acts on.
	Lanes []int
}

// Violation is the invariant a run broke.
type Violation struct {
	Invariant, Detail string
	At                time.Duration
	// Step is the number of deliveries before the violation was seen:
	// it is marked between delivery Step-1 and delivery Step.
	Step int
}
