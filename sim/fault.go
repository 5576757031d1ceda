package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gomesos/gomesos/mesos"
)

// Kind is what an Event does.
type Kind uint8

// The event vocabulary: workload (what frameworks do) and faults.
const (
	// Launch makes framework Node launch Count tasks on the offers it
	// gets next.
	Launch Kind = iota + 1
	// Kill makes framework Node kill its Pick-th live task.
	Kill
	// Reconcile makes framework Node reconcile every task it knows of
	// (explicit) and, with Pick odd, ask for all (implicit).
	Reconcile
	// DropMessages drops the messages of type Message (every type when
	// empty) sent by host Node for Duration.
	DropMessages
	// DelayMessages holds those messages for Delay each, for Duration.
	DelayMessages
	// DuplicateMessages delivers those messages twice, for Duration.
	DuplicateMessages
	// Partition cuts the hosts in the set Hosts (a bit per host) from
	// the rest for Duration.
	Partition
	// CrashSlave kills slave Node's process (its executors and
	// checkpoints stay) and restarts it after Duration.
	CrashSlave
	// CrashMaster kills the leading master; another is elected, and the
	// crashed one restarts after Duration.
	CrashMaster
	// FailoverFramework takes framework Node's scheduler down and brings
	// it back, with the same framework id, after Duration.
	FailoverFramework
	// CrashExecutor kills the Pick-th live executor of slave Node.
	CrashExecutor
	// EndTask makes the executor of framework Node's Pick-th live task
	// end it with State.
	EndTask
	// JumpClock moves the clock forward by Duration at once.
	JumpClock
	// Reserve makes framework Node reserve part of its next fitting
	// offer for its role (RESERVE).
	Reserve
	// CreateVolume makes framework Node create a persistent volume on
	// disk reserved for its role in its next fitting offer (CREATE).
	CreateVolume
	// DestroyVolume makes framework Node destroy a persistent volume of
	// its next offer that holds one (DESTROY).
	DestroyVolume
	// Unreserve makes framework Node give back the dynamically reserved
	// resources (not volumes) of its next offer that holds some
	// (UNRESERVE).
	Unreserve
	kindEnd
)

var kindNames = [...]string{
	Launch: "launch", Kill: "kill", Reconcile: "reconcile", DropMessages: "drop",
	DelayMessages: "delay", DuplicateMessages: "duplicate", Partition: "partition",
	CrashSlave: "crash-slave", CrashMaster: "crash-master", FailoverFramework: "failover-framework",
	CrashExecutor: "crash-executor", EndTask: "end-task", JumpClock: "jump-clock",
	Reserve: "reserve", CreateVolume: "create-volume", DestroyVolume: "destroy-volume", Unreserve: "unreserve",
}

func (k Kind) String() string {
	if k > 0 && k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsFault reports whether k is a fault rather than workload (a
// framework's launch, kill, reconciliation or resource operation).
func (k Kind) IsFault() bool { return k >= DropMessages && k <= JumpClock }

// Event is one step of a schedule: a workload action or a fault, at a
// virtual time from the start of the run.
type Event struct {
	At       time.Duration
	Kind     Kind
	Node     int    // the slave, framework or host index, by kind
	Hosts    uint64 // Partition: a bit per host (see Cluster.Hosts)
	Message  string // message faults: full type name, "" for every type
	Duration time.Duration
	Delay    time.Duration // DelayMessages
	Count    int           // Launch
	Pick     int           // which task or executor (taken modulo the live ones)
	State    mesos.TaskState
}

// Shape is the cluster a schedule runs on.
type Shape struct {
	Masters, Slaves, Frameworks int
}

// Schedule is a cluster shape and its events in time order: with a seed
// it fixes a whole run.
type Schedule struct {
	Shape  Shape
	Events []Event
}

// Faults counts the events that are faults.
func (s Schedule) Faults() int {
	n := 0
	for _, e := range s.Events {
		if e.Kind.IsFault() {
			n++
		}
	}
	return n
}

// Sort orders the events by time (stable).
func (s *Schedule) Sort() {
	slices.SortStableFunc(s.Events, func(a, b Event) int { return int(a.At - b.At) })
}

// messageTypes are the message names a schedule can name, by index
// (0: every type). Appending keeps old encodings valid.
var messageTypes = []string{
	"",
	"mesos.internal.StatusUpdateMessage",
	"mesos.internal.StatusUpdateAcknowledgementMessage",
	"mesos.internal.RunTaskMessage",
	"mesos.internal.ResourceOffersMessage",
	"mesos.internal.LaunchTasksMessage",
	"mesos.internal.KillTaskMessage",
	"mesos.internal.PingSlaveMessage",
	"mesos.internal.PongSlaveMessage",
	"mesos.internal.RegisterSlaveMessage",
	"mesos.internal.ReregisterSlaveMessage",
	"mesos.internal.SlaveRegisteredMessage",
	"mesos.internal.SlaveReregisteredMessage",
	"mesos.internal.RegisterFrameworkMessage",
	"mesos.internal.ReregisterFrameworkMessage",
	"mesos.internal.FrameworkRegisteredMessage",
	"mesos.internal.FrameworkReregisteredMessage",
	"mesos.internal.ReconcileTasksMessage",
	"mesos.internal.ExitedExecutorMessage",
	"mesos.internal.ShutdownExecutorMessage",
	"mesos.internal.RescindResourceOfferMessage",
	"mesos.internal.ReregisterExecutorMessage",
	"mesos.internal.ReconnectExecutorMessage",
}

func messageIndex(name string) (int, error) {
	if i := slices.Index(messageTypes, name); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("message type %q cannot be named in a schedule", name)
}

const encodingVersion = 1

// Encode writes the schedule as a URL-safe base64 string (the
// -schedule of cmd/sim).
func (s Schedule) Encode() string {
	var b []byte
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	u(encodingVersion)
	u(uint64(s.Shape.Masters))
	u(uint64(s.Shape.Slaves))
	u(uint64(s.Shape.Frameworks))
	u(uint64(len(s.Events)))
	for _, e := range s.Events {
		mi, err := messageIndex(e.Message)
		if err != nil {
			panic(err) // generators only name listed types
		}
		u(uint64(e.Kind))
		u(uint64(e.At / time.Millisecond))
		u(uint64(e.Node))
		u(e.Hosts)
		u(uint64(mi))
		u(uint64(e.Duration / time.Millisecond))
		u(uint64(e.Delay / time.Millisecond))
		u(uint64(e.Count))
		u(uint64(e.Pick))
		u(uint64(e.State))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a schedule written by Encode.
func Decode(text string) (Schedule, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return Schedule{}, fmt.Errorf("decode schedule: %w", err)
	}
	r := bytes.NewReader(raw)
	var firstErr error
	u := func() uint64 {
		v, err := binary.ReadUvarint(r)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	}
	if v := u(); v != encodingVersion {
		return Schedule{}, fmt.Errorf("decode schedule: version %d, want %d", v, encodingVersion)
	}
	var s Schedule
	s.Shape = Shape{Masters: int(u()), Slaves: int(u()), Frameworks: int(u())}
	n := u()
	if n > 1<<20 {
		return Schedule{}, errors.New("decode schedule: too many events")
	}
	for i := uint64(0); i < n && firstErr == nil; i++ {
		e := Event{Kind: Kind(u()), At: time.Duration(u()) * time.Millisecond, Node: int(u()), Hosts: u()}
		mi := u()
		if mi >= uint64(len(messageTypes)) {
			return Schedule{}, fmt.Errorf("decode schedule: event %d: unknown message index %d", i, mi)
		}
		e.Message = messageTypes[mi]
		e.Duration = time.Duration(u()) * time.Millisecond
		e.Delay = time.Duration(u()) * time.Millisecond
		e.Count, e.Pick, e.State = int(u()), int(u()), mesos.TaskState(u())
		if e.Kind == 0 || e.Kind >= kindEnd {
			return Schedule{}, fmt.Errorf("decode schedule: event %d: unknown kind %d", i, e.Kind)
		}
		s.Events = append(s.Events, e)
	}
	if firstErr != nil {
		return Schedule{}, fmt.Errorf("decode schedule: %w", firstErr)
	}
	if err := s.Shape.check(); err != nil {
		return Schedule{}, fmt.Errorf("decode schedule: %w", err)
	}
	return s, nil
}

func (sh Shape) check() error {
	switch {
	case sh.Masters < 1 || sh.Masters > 3:
		return fmt.Errorf("%d masters: want 1 to 3", sh.Masters)
	case sh.Slaves < 1 || sh.Slaves > 32:
		return fmt.Errorf("%d slaves: want 1 to 32", sh.Slaves)
	case sh.Frameworks < 1 || sh.Frameworks > 16:
		return fmt.Errorf("%d frameworks: want 1 to 16", sh.Frameworks)
	}
	return nil
}

// String is one line per event, readable.
func (s Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d masters, %d slaves, %d frameworks; %d events (%d faults)\n",
		s.Shape.Masters, s.Shape.Slaves, s.Shape.Frameworks, len(s.Events), s.Faults())
	for _, e := range s.Events {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

func (e Event) String() string {
	at := fmt.Sprintf("%8s", e.At)
	short := func(m string) string {
		if m == "" {
			return "every message"
		}
		return strings.TrimPrefix(m, "mesos.internal.")
	}
	switch e.Kind {
	case Launch:
		return fmt.Sprintf("%s framework %d launches %d tasks", at, e.Node, e.Count)
	case Kill:
		return fmt.Sprintf("%s framework %d kills its live task #%d", at, e.Node, e.Pick)
	case Reconcile:
		return fmt.Sprintf("%s framework %d reconciles (implicit too: %v)", at, e.Node, e.Pick%2 == 1)
	case DropMessages:
		return fmt.Sprintf("%s host %d: drop %s it sends, for %s", at, e.Node, short(e.Message), e.Duration)
	case DelayMessages:
		return fmt.Sprintf("%s host %d: delay %s it sends by %s, for %s", at, e.Node, short(e.Message), e.Delay, e.Duration)
	case DuplicateMessages:
		return fmt.Sprintf("%s host %d: duplicate %s it sends, for %s", at, e.Node, short(e.Message), e.Duration)
	case Partition:
		return fmt.Sprintf("%s partition hosts %s from the rest, for %s", at, bits(e.Hosts), e.Duration)
	case CrashSlave:
		return fmt.Sprintf("%s crash slave %d, restart after %s", at, e.Node, e.Duration)
	case CrashMaster:
		return fmt.Sprintf("%s crash the leading master, restart after %s", at, e.Duration)
	case FailoverFramework:
		return fmt.Sprintf("%s framework %d fails over, back after %s", at, e.Node, e.Duration)
	case CrashExecutor:
		return fmt.Sprintf("%s slave %d: executor #%d crashes", at, e.Node, e.Pick)
	case EndTask:
		return fmt.Sprintf("%s framework %d: live task #%d ends %s", at, e.Node, e.Pick, e.State)
	case JumpClock:
		return fmt.Sprintf("%s clock jumps %s", at, e.Duration)
	case Reserve:
		return fmt.Sprintf("%s framework %d reserves resources for its role", at, e.Node)
	case CreateVolume:
		return fmt.Sprintf("%s framework %d creates a persistent volume", at, e.Node)
	case DestroyVolume:
		return fmt.Sprintf("%s framework %d destroys a persistent volume", at, e.Node)
	case Unreserve:
		return fmt.Sprintf("%s framework %d unreserves resources", at, e.Node)
	}
	return fmt.Sprintf("%s %s", at, e.Kind)
}

func bits(v uint64) string {
	var out []string
	for i := 0; v != 0; i++ {
		if v&1 == 1 {
			out = append(out, fmt.Sprint(i))
		}
		v >>= 1
	}
	return "{" + strings.Join(out, ",") + "}"
}
