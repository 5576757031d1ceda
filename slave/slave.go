// Package slave is the Mesos slave (agent): it registers with the master,
// answers its pings, launches executors as real OS processes (the command
// executor for tasks that only have a command), queues tasks until their
// executor registers, and delivers status updates reliably through its
// status update manager: one stream per task, only the head outstanding,
// resent until the master acknowledges it.
//
// Not yet here (see NOTES.md): checkpointing and recovery, the Mesos
// containerizer's isolators, the fetcher, garbage collection, endpoints.
package slave

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// Config holds the slave's settings (the mesos-slave flags map onto it).
type Config struct {
	Master    process.UPID // the master to register with
	Resources string       // Mesos text form; empty: cpus:1;mem:1024;disk:1024;ports:[31000-32000]
	Hostname  string       // default: the advertised IP
	WorkDir   string       // sandboxes live under it
	// LauncherDir holds mesos-executor (the command executor).
	LauncherDir string
	// RegistrationBackoffFactor (1 s): registration retries after a random
	// delay in [0, b], b doubling up to 60 s.
	RegistrationBackoffFactor time.Duration
	// ExecutorShutdownGracePeriod between SIGTERM and SIGKILL (5 s).
	ExecutorShutdownGracePeriod time.Duration
}

// StatusUpdateRetryMin and Max bound the status update resend interval.
const (
	StatusUpdateRetryMin = 10 * time.Second
	StatusUpdateRetryMax = 10 * time.Minute
)

// Slave is the slave process, `slave(N)`.
type Slave struct {
	process.Process

	cfg  Config
	log  *slog.Logger
	info *mesos.SlaveInfo

	registered bool
	backoff    time.Duration
	retry      *process.Timer
	pingTimer  *process.Timer
	pingLimit  time.Duration

	frameworks map[string]*framework
	streams    map[string]*stream // task id → status update stream

	start   time.Time
	metrics *slaveMetrics
}

type framework struct {
	id        string
	info      *mesos.FrameworkInfo
	pid       process.UPID
	executors map[string]*executor
}

type executor struct {
	id      string
	info    *mesos.ExecutorInfo
	command bool // the command executor
	pid     process.UPID
	dir     string
	proc    *os.Process
	queued  []*mesos.TaskInfo
	tasks   map[string]*mesos.Task
	exited  bool
}

// New returns a slave; Spawn starts it.
func New(cfg Config) *Slave {
	if cfg.RegistrationBackoffFactor <= 0 {
		cfg.RegistrationBackoffFactor = time.Second
	}
	if cfg.ExecutorShutdownGracePeriod <= 0 {
		cfg.ExecutorShutdownGracePeriod = 5 * time.Second
	}
	if cfg.Resources == "" {
		cfg.Resources = "cpus:1;mem:1024;disk:1024;ports:[31000-32000]"
	}
	return &Slave{cfg: cfg, frameworks: make(map[string]*framework), streams: make(map[string]*stream)}
}

// Spawn starts the slave on rt as `slave(N)`.
func Spawn(rt *process.Runtime, s *Slave) (process.UPID, error) {
	res, err := resources.Parse(s.cfg.Resources, "*")
	if err != nil {
		return process.UPID{}, fmt.Errorf("slave: --resources: %w", err)
	}
	hostname := s.cfg.Hostname
	if hostname == "" {
		hostname = rt.Addr().Addr().String()
	}
	s.info = &mesos.SlaveInfo{
		Hostname:  proto.String(hostname),
		Resources: res.ToProto(),
		Port:      proto.Int32(int32(rt.Addr().Port())),
	}
	pid, err := rt.Spawn(s, rt.GenerateID("slave"))
	if err != nil {
		return process.UPID{}, fmt.Errorf("spawn slave: %w", err)
	}
	return pid, nil
}

// Initialize installs the handlers and starts registering.
func (s *Slave) Initialize() {
	s.log = s.Runtime().Logger().With("component", "slave", "pid", s.Self().String())
	s.start = s.Clock().Now()
	s.initMetrics()
	s.installHandlers()
	s.installRoutes()
	s.Link(s.cfg.Master)
	s.backoff = s.cfg.RegistrationBackoffFactor
	s.retry = s.Delay(s.randomDelay(s.backoff), s.register)
}

func (s *Slave) randomDelay(max time.Duration) time.Duration {
	return time.Duration(s.Runtime().RandFloat() * float64(max))
}

// register sends (Re)RegisterSlaveMessage and schedules a retry.
func (s *Slave) register() {
	if s.registered {
		return
	}
	if s.info.Id == nil {
		s.send(s.cfg.Master, &messages.RegisterSlaveMessage{Slave: s.info, Version: proto.String("1.0.0")})
	} else {
		re := &messages.ReregisterSlaveMessage{Slave: s.info, Version: proto.String("1.0.0")}
		for _, f := range s.frameworks {
			re.Frameworks = append(re.Frameworks, f.info)
			for _, e := range f.executors {
				if !e.command {
					re.ExecutorInfos = append(re.ExecutorInfos, e.info)
				}
				for _, t := range e.tasks {
					re.Tasks = append(re.Tasks, t)
				}
			}
		}
		s.send(s.cfg.Master, re)
	}
	s.backoff = min(2*s.backoff, 60*time.Second)
	s.retry = s.Delay(s.randomDelay(s.backoff), s.register)
}

func (s *Slave) send(to process.UPID, msg proto.Message) {
	if err := s.Send(to, msg); err != nil {
		s.log.Error("cannot send", "to", to.String(), "err", err)
	}
}

func (s *Slave) registeredWith(id *mesos.SlaveID, conn *messages.MasterSlaveConnection) {
	s.info.Id = id
	s.registered = true
	s.Clock().Cancel(s.retry)
	s.pingLimit = 75 * time.Second
	if t := conn.GetTotalPingTimeoutSeconds(); t > 0 {
		s.pingLimit = time.Duration(t * float64(time.Second))
	}
	s.armPingTimer()
	for _, st := range s.streams {
		st.resume(s)
	}
}

// armPingTimer re-detects the master when pings stop.
func (s *Slave) armPingTimer() {
	s.Clock().Cancel(s.pingTimer)
	s.pingTimer = s.Delay(s.pingLimit, func() {
		s.log.Info("no ping from the master; registering again", "timeout", s.pingLimit)
		s.disconnected()
	})
}

func (s *Slave) disconnected() {
	s.registered = false
	s.Clock().Cancel(s.pingTimer)
	s.Clock().Cancel(s.retry)
	s.backoff = s.cfg.RegistrationBackoffFactor
	s.Link(s.cfg.Master)
	s.retry = s.Delay(s.randomDelay(s.backoff), s.register)
}

// Exited handles broken links: the master (register again) or an
// executor (its process exit is handled when it is reaped).
func (s *Slave) Exited(pid process.UPID) {
	if pid == s.cfg.Master && s.registered {
		s.log.Info("master link broke; registering again")
		s.disconnected()
	}
}

// Stop shuts the slave down cleanly: executors are shut down and the
// master is told the slave is leaving (UnregisterSlaveMessage).
func (s *Slave) Stop() {
	process.Run(s.Runtime(), s.Self(), func() {
		for _, f := range s.frameworks {
			s.shutdownFramework(f)
		}
		if s.info.Id != nil {
			s.send(s.cfg.Master, &messages.UnregisterSlaveMessage{SlaveId: s.info.Id})
		}
		s.Terminate()
	})
}
