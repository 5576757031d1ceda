// Package sim runs a whole gomesos cluster in virtual time from one
// seed: masters (with the in-memory election and registry), slaves (with
// the in-process containerizer, their checkpoints in a temporary
// directory) and frameworks (our scheduler driver), each host a runtime
// on one in-memory network (process.Network). Every message is
// serialized and parsed as on the wire; one seeded dispatcher runs every
// mailbox, so a seed and a schedule fix the whole run, and a failure
// replays bit for bit.
//
// # A run
//
// A Schedule is a cluster shape and a list of events at virtual times:
// workload (Launch, Kill, Reconcile, taken by frameworks that implement
// Workload; Reserve, CreateVolume, DestroyVolume, Unreserve, taken by
// those that implement Operations) and faults (drop, delay or duplicate messages a host sends;
// partition hosts; crash and restart a slave or the leading master; fail
// a framework over; crash an executor; end a task with a terminal state;
// jump the clock). A slave the master shuts down is started again after
// Config.SlaveRestart, as a supervisor would, and registers as a new
// slave; a restarted host draws other random numbers than before. Run
// builds the cluster, applies the events, checks the
// invariants after every event and every 5 s of virtual time, then heals
// everything, lets the cluster quiesce (10 virtual minutes), reconciles
// every task and checks the quiescent invariants. Generate makes the
// schedule of a seed; Gen is the gopter generator with a shrinker;
// Shrink and ShrinkResult cut a failing schedule down to the events that
// matter.
//
// # Invariants
//
// Each has a name that appears in the failure: task-runs-once,
// slave-not-overallocated, master-used-matches-tasks,
// master-offered-matches-offers, terminal-update-last, updates-in-order,
// offers-respect-reservations, reservations-balance, volumes-kept
// (checked as they happen or after every step), and at quiescence
// master-agrees-with-slaves, checkpoints-agree-with-master,
// launched-tasks-accounted, failover-timeout-kills-tasks,
// failover-within-timeout-keeps-framework.
// Add one with Config.Invariants: a function over a View (the leading
// master's Snapshot, the tasks executors really run, what frameworks
// heard).
//
// # Replaying a failure
//
// A failing run prints its violation, a replay line and the shrunk
// schedule in readable form, then the last deliveries:
//
//	invariant failover-timeout-kills-tasks violated at 15m17.075s: framework 0 was removed, but its task .../task-1 still runs
//	replay: go run ./cmd/sim -seed 14 -schedule AQMDAQUBhOYJAAAAAAACBgAIho4K...
//	schedule: 3 masters, 3 slaves, 1 frameworks; 5 events (4 faults)
//	   2m40.516s framework 0 launches 2 tasks
//	   2m45.638s crash slave 1, restart after 1m21.199s
//	   2m57.661s crash the leading master, restart after 24.955s
//	    3m12.01s framework 0 fails over, back after 1m26.312s
//	    4m0.685s clock jumps 15.39s
//
// The replay line runs it again; add -trace for every delivery (virtual
// time, kind, sender, receiver, type, short body), or -html out.html for
// the trace viewer's page (package traceview; Config.Record, WriteHTML). That one was a real
// bug, found by the seed sweep and shrunk from 200 events to 5: a slave
// that re-registered with a new leader after the framework had been
// removed brought the framework's tasks back as orphans, and nothing
// shut them down. The master now tells such a slave to shut the
// framework down; the schedule lives in testdata/ and CI replays it.
//
// # Writing a scenario
//
// New(cfg, shape) gives a running cluster; Apply an event, Advance the
// clock, add process.Rule filters on Host(i) for message-precise faults,
// look at Heard, RunningTasks and View, and end with Quiesce, which
// checks every invariant. Close it at the end.
//
// # Adding a fault
//
// Add a Kind in fault.go (append: encodings name kinds by number), its
// String, its case in apply (run.go) and, if generated, in Generate.
package sim
