// Package slave is the Mesos slave (agent): it registers with the master,
// answers its pings, launches executors through a containerizer (the
// Mesos one by default; the command executor for tasks that only have a
// command), queues tasks
// until their executor registers, and delivers status updates reliably
// through its status update manager: one stream per task, only the head
// outstanding, resent until the master acknowledges it.
//
// For frameworks that ask for it (FrameworkInfo.checkpoint) the slave
// checkpoints its state in Mesos's meta/ layout (package slave/state), and
// a slave restarted on the same --work_dir recovers it: it reconnects to
// the executors that kept running, marks the others' tasks lost or failed,
// replays unacknowledged status updates and re-registers with the master
// under the same slave id.
package slave

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/slave/state"
	"github.com/gomesos/gomesos/statusupdate"
)

// Config holds the slave's settings (the mesos-slave flags map onto it).
type Config struct {
	Master process.UPID // the master to register with
	// Flags are the flags the slave was started with, by name, as
	// /flags shows them (nil: the few that Config holds).
	Flags map[string]string
	// Resources in Mesos text or JSON form; what it leaves out (cpus, mem,
	// disk, ports) is detected from the machine.
	Resources string
	// Attributes in Mesos text form ("rack:a;zone:[1-3]") or JSON.
	Attributes string
	Hostname   string // default: the advertised IP
	WorkDir    string // sandboxes and checkpoints live under it
	// LauncherDir holds mesos-executor (the command executor).
	LauncherDir string
	// RegistrationBackoffFactor (1 s): registration retries after a random
	// delay in [0, b], b doubling up to 60 s.
	RegistrationBackoffFactor time.Duration
	// ExecutorRegistrationTimeout (1 min): an executor that has not
	// registered by then is destroyed.
	ExecutorRegistrationTimeout time.Duration
	// ExecutorShutdownGracePeriod between asking an executor to shut
	// down and destroying its container (5 s).
	ExecutorShutdownGracePeriod time.Duration
	// Recover is "reconnect" (default) or "cleanup".
	Recover string
	// Strict makes any recovery error fatal (default true through flags;
	// the zero value here means non-strict).
	Strict bool
	// RecoveryTimeout (15 min) is how long executors wait for a restarted
	// slave (MESOS_RECOVERY_TIMEOUT).
	RecoveryTimeout time.Duration
	// ExecutorReregistrationTimeout (2 s) is how long a recovered slave
	// waits for its executors to re-register.
	ExecutorReregistrationTimeout time.Duration
	// GCDelay (1 week) is the longest a finished sandbox is kept;
	// DiskWatchInterval (1 min) how often disk usage shortens it, keeping
	// GCDiskHeadroom (0.1) free.
	GCDelay           time.Duration
	DiskWatchInterval time.Duration
	GCDiskHeadroom    float64
	// FetcherCacheDir (default /tmp/mesos/fetch) holds one cache per slave
	// (a subdirectory named after the work directory, wiped at start);
	// FetcherCacheSize bounds it (2 GB).
	FetcherCacheDir  string
	FetcherCacheSize uint64
	// CgroupsRoot and CgroupsEnableCFS configure the cgroups isolators.
	CgroupsRoot      string
	CgroupsEnableCFS bool
	// Credential, when set, authenticates the slave (CRAM-MD5) with each
	// master before it registers (--credential).
	Credential *mesos.Credential
	// Authenticatee authenticates with Credential (--authenticatee, a
	// module of kind Authenticatee); nil is CRAM-MD5.
	Authenticatee auth.Authenticatee
	// SwitchUser runs executors as the framework's user (root only; the
	// user must exist on the machine, or the task fails).
	SwitchUser bool
	// Isolation (--isolation) configures the Mesos containerizer that
	// Spawn builds (MesosContainerizer) when Containerizer is nil.
	Isolation string
	// Containerizer runs the executors; nil means the containerizers of
	// the flags above and below (see Containerizers).
	Containerizer containerizer.Containerizer

	// Containerizers (--containerizers; empty means "mesos") lists the
	// containerizers tried in order for each container: mesos, external.
	Containerizers string
	// ContainerizerPath (--containerizer_path) is the external
	// containerizer program; DefaultContainerImage
	// (--default_container_image) is given to it on launch.
	ContainerizerPath     string
	DefaultContainerImage string
	// DockerSocket (--docker_socket) is the Docker Engine's socket;
	// DockerRemoveDelay (--docker_remove_delay) how long a stopped
	// container is kept; DockerKillOrphans (--docker_kill_orphans)
	// removes unknown containers of this slave at recovery;
	// DockerStopTimeout (--docker_stop_timeout) is the time between
	// SIGTERM and SIGKILL when a container is stopped.
	DockerSocket      string
	DockerRemoveDelay time.Duration
	DockerKillOrphans bool
	DockerStopTimeout time.Duration
	// DockerMesosImage (--docker_mesos_image) is the image the slave
	// itself runs in: the host side of docker containers (command
	// executors, runners) then runs in containers of it (see
	// docker.ImageExecutors), not as the slave's children.
	DockerMesosImage string
	// Modules is --modules: the parameters of the isolator modules of
	// the Mesos containerizer; nil gives none.
	Modules *modules.Config
	// ContainerLogger gives the Mesos containerizer's containers their
	// stdout and stderr (--container_logger); nil writes them to the
	// sandbox.
	ContainerLogger containerizer.ContainerLogger
	// Hooks (--hooks, built by package modules) decorate launched tasks'
	// labels and executors' environments and hear of removed executors.
	Hooks []modules.Hook
	// ResourceEstimator, when set, says what the slave may offer as
	// revocable resources (--resource_estimator); polled every
	// OversubscribedResourcesInterval (15 s).
	ResourceEstimator               ResourceEstimator
	OversubscribedResourcesInterval time.Duration
	// QoSController, when set, evicts executors that use revocable
	// resources (--qos_controller); polled every QoSCorrectionInterval
	// (at least 100 ms).
	QoSController         QoSController
	QoSCorrectionInterval time.Duration

	// HTTPCommandExecutor (--http_command_executor) makes the command
	// executor speak the v1 executor HTTP API instead of libprocess
	// messages (MESOS_HTTP_COMMAND_EXECUTOR=1 in its environment).
	HTTPCommandExecutor bool

	// DefaultRole is the role of the resources given without one and of
	// those detected (--default_role, "*" by default).
	DefaultRole string

	// ExecutorEnvironment, when not nil, is the environment executors
	// (and so their tasks) get in place of the slave's own PATH, HOME,
	// USER, TMPDIR and LANG (--executor_environment_variables); the
	// MESOS_* and TLS variables are set as always.
	ExecutorEnvironment map[string]string
	// Files holds the work directory, checkpoints (meta/) and sandboxes;
	// nil means the OS's file system. A simulation gives each slave a
	// state.MemFS that outlives its restarts: that suits only an
	// in-process containerizer, whose executors use no sandbox files.
	Files state.FS
}

// StatusUpdateRetryMin and Max bound the status update resend interval.
const (
	StatusUpdateRetryMin = statusupdate.RetryMin
	StatusUpdateRetryMax = statusupdate.RetryMax
)

// Slave is a Mesos slave (agent). Create it with New, run it with Start and
// end it with Stop (or Detach); its state lives in its process `slave(N)`.
type Slave struct {
	s *slave
}

// slave is the slave's process: it holds all the state.
type slave struct {
	// forgetOnExit: the master shut this slave down; its checkpointed id
	// goes once its executors are gone.
	forgetOnExit bool
	process.Process

	cfg   Config
	log   *slog.Logger
	info  *mesos.SlaveInfo
	paths state.Paths
	cz    containerizer.Containerizer

	recovered  *state.Slave // checkpointed state read at Spawn
	recovering bool         // executors are being reconnected
	// reconnecting: recovery has reached the point where recovered
	// executors may re-register or subscribe again.
	reconnecting bool
	cleaningUp   bool // --recover=cleanup: exit once executors end
	reregTimer   *process.Timer
	done         *future.Promise[future.Nothing]

	registered     bool
	authenticated  process.UPID // the master we authenticated with
	authenticating bool
	backoff        time.Duration
	retry          *process.Timer
	pingTimer      *process.Timer
	pingLimit      time.Duration

	frameworks map[string]*framework
	completed  []*framework          // frameworks whose executors all ended (newest last)
	streams    map[streamKey]*stream // (framework, task) → status update stream
	// doneUpdates are the uuids of the updates of tasks whose terminal
	// update was acknowledged before a restart: a re-registering
	// executor that missed their acknowledgements sends them again.
	doneUpdates map[string]bool
	gc          *collector

	start   time.Time
	metrics *slaveMetrics
	waiters map[string][]*future.Promise[future.Nothing] // "framework/executor" → ExecutorTerminated

	// checkpointed are the dynamic reservations and persistent volumes
	// (meta/resources/resources.info); see resources.go.
	checkpointed resources.Resources
	// estimatorPID and qosPID run the oversubscription plugins;
	// oversubscribed is the revocable total last sent to the master.
	estimatorPID, qosPID process.UPID
	oversubscribed       *resources.Resources
}

type framework struct {
	id         string
	info       *mesos.FrameworkInfo
	pid        process.UPID
	executors  map[string]*executor
	completed  []*executor // ended executors, newest last (bounded)
	checkpoint bool
}

type executorState int

const (
	executorLaunching   executorState = iota // container being started
	executorRegistering                      // started, not registered
	executorRunning                          // registered
	executorTerminating                      // being shut down or destroyed
	executorTerminated
)

func (s executorState) String() string {
	return [...]string{"LAUNCHING", "REGISTERING", "RUNNING", "TERMINATING", "TERMINATED"}[s]
}

type executor struct {
	id          string
	info        *mesos.ExecutorInfo
	command     bool      // the command executor
	held        []*stream // failed tasks' streams waiting for the container's end
	containerID string
	pid         process.UPID // the executor's libprocess pid once registered
	// viaHTTP: the executor subscribed over the v1 HTTP API (it has no
	// pid; checkpointed as http.marker); http is its subscription while
	// it is connected.
	viaHTTP    bool
	http       *httpConn
	forked     int  // its OS pid (0 when not an OS process)
	launched   bool // its container was started (or recovered)
	dir        string
	state      executorState
	queued     []*mesos.TaskInfo
	tasks      map[string]*mesos.Task // given to this executor, not yet done
	completed  []*mesos.Task          // done (terminal update acknowledged)
	reason     mesos.TaskStatus_Reason
	reasonSet  bool
	regTimer   *process.Timer
	checkpoint bool
}

// New returns a slave with the given configuration; Start runs it.
func New(cfg Config) *Slave {
	return &Slave{s: newSlave(cfg)}
}

// newSlave returns the slave's process, not yet spawned.
func newSlave(cfg Config) *slave {
	if cfg.RegistrationBackoffFactor <= 0 {
		cfg.RegistrationBackoffFactor = time.Second
	}
	if cfg.ExecutorShutdownGracePeriod <= 0 {
		cfg.ExecutorShutdownGracePeriod = 5 * time.Second
	}
	if cfg.ExecutorRegistrationTimeout <= 0 {
		cfg.ExecutorRegistrationTimeout = time.Minute
	}
	if cfg.ExecutorReregistrationTimeout <= 0 {
		cfg.ExecutorReregistrationTimeout = 2 * time.Second
	}
	if cfg.RecoveryTimeout <= 0 {
		cfg.RecoveryTimeout = 15 * time.Minute
	}
	if cfg.GCDelay <= 0 {
		cfg.GCDelay = 7 * 24 * time.Hour
	}
	if cfg.DiskWatchInterval <= 0 {
		cfg.DiskWatchInterval = time.Minute
	}
	if cfg.GCDiskHeadroom <= 0 || cfg.GCDiskHeadroom >= 1 {
		cfg.GCDiskHeadroom = 0.1
	}
	if cfg.Recover == "" {
		cfg.Recover = "reconnect"
	}
	if cfg.Files == nil {
		cfg.Files = state.OS
	}
	return &slave{
		cfg: cfg, frameworks: make(map[string]*framework), streams: make(map[streamKey]*stream),
		done: future.NewPromise[future.Nothing](), paths: state.Paths{WorkDir: cfg.WorkDir},
	}
}

// Start reads the checkpointed state (if any), builds the containerizer
// and runs the slave on rt as `slave(N)`. Bad flags and, with strict
// recovery, unreadable checkpoints are errors.
func (h *Slave) Start(rt *process.Runtime) (process.UPID, error) {
	s := h.s
	if s.cfg.WorkDir == "" {
		return process.UPID{}, fmt.Errorf("slave: --work_dir is required")
	}
	if s.cfg.Recover != "reconnect" && s.cfg.Recover != "cleanup" {
		return process.UPID{}, fmt.Errorf("slave: --recover must be reconnect or cleanup, not %q", s.cfg.Recover)
	}
	if s.cfg.DefaultRole != "" && s.cfg.DefaultRole != "*" {
		if err := validRoleName(s.cfg.DefaultRole); err != nil {
			return process.UPID{}, fmt.Errorf("slave: --default_role: %w", err)
		}
	}
	res, err := machineResources(s.cfg.Resources, s.cfg.DefaultRole, s.cfg.WorkDir)
	if err != nil {
		return process.UPID{}, fmt.Errorf("slave: --resources: %w", err)
	}
	attrs, err := ParseAttributes(s.cfg.Attributes)
	if err != nil {
		return process.UPID{}, fmt.Errorf("slave: --attributes: %w", err)
	}
	hostname := s.cfg.Hostname
	if hostname == "" {
		hostname = rt.Addr().Addr().String()
	}
	s.info = &mesos.SlaveInfo{
		Hostname:   proto.String(hostname),
		Resources:  res.ToProto(),
		Attributes: attrs,
		Port:       proto.Int32(int32(rt.Addr().Port())),
		Checkpoint: proto.Bool(true),
	}
	s.cz = s.cfg.Containerizer
	if s.cz == nil {
		cz, err := Containerizers(rt, s.cfg)
		if err != nil {
			return process.UPID{}, err
		}
		s.cz = cz
	}
	recovered, err := state.Recover(s.cfg.Files, s.paths, s.cfg.Strict)
	if err != nil {
		return process.UPID{}, fmt.Errorf("slave: %w", err)
	}
	if recovered != nil {
		if err := compatible(recovered.Info, s.info); err != nil {
			return process.UPID{}, fmt.Errorf("slave: incompatible slave info (to start afresh: rm -f %s): %w", s.paths.LatestSlave(), err)
		}
		s.info.Id = recovered.Info.Id
		s.recovered = recovered
	}
	if err := s.recoverCheckpointedResources(); err != nil {
		return process.UPID{}, fmt.Errorf("slave: %w", err)
	}
	if err := state.WriteString(s.cfg.Files, s.paths.BootID(), state.CurrentBootID()); err != nil {
		return process.UPID{}, fmt.Errorf("slave: %w", err)
	}
	pid, err := rt.Spawn(s, rt.GenerateID("slave"))
	if err != nil {
		return process.UPID{}, fmt.Errorf("spawn slave: %w", err)
	}
	// Executors find the v1 executor API at /api/v1/executor on the
	// slave's port (as mesos-go's executors do), unless the runtime
	// already sends such requests elsewhere (mesos-local's master); it
	// is always at /slave(N)/api/v1/executor.
	rt.SetDelegateIfUnset(pid.ID)
	return pid, nil
}

// compatible says whether the checkpointed slave info may be resumed
// with the new flags: same hostname, port, resources and attributes.
func compatible(old, cur *mesos.SlaveInfo) error {
	if old.GetHostname() != cur.GetHostname() {
		return fmt.Errorf("hostname changed from %s to %s", old.GetHostname(), cur.GetHostname())
	}
	if old.GetPort() != cur.GetPort() {
		return fmt.Errorf("port changed from %d to %d", old.GetPort(), cur.GetPort())
	}
	if !resources.FromProto(old.GetResources()).Equal(resources.FromProto(cur.GetResources())) {
		return fmt.Errorf("resources changed from %s to %s", resources.FromProto(old.GetResources()), resources.FromProto(cur.GetResources()))
	}
	if !attributesEqual(old.GetAttributes(), cur.GetAttributes()) {
		return fmt.Errorf("attributes changed")
	}
	return nil
}

// Initialize installs the handlers, recovers, then registers.
func (s *slave) Initialize() {
	s.log = s.Runtime().Logger().With("component", "slave", "pid", s.Self().String())
	s.start = s.Clock().Now()
	s.initMetrics()
	s.installHandlers()
	s.installRoutes()
	s.gc = newCollector(s)
	s.startOversubscription()
	s.recover()
}

// Done is ready once the slave has terminated (e.g. after --recover=cleanup
// or a ShutdownMessage from the master).
func (h *Slave) Done() future.Future[future.Nothing] { return h.s.done.Future() }

// PID returns the slave's process id (valid once started).
func (h *Slave) PID() process.UPID { return h.s.Self() }

// ExecutorTerminated is ready once the executor (of the framework) has
// terminated and the slave has ended its tasks; for tests and tools that
// must know when the slave saw an executor go.
func (h *Slave) ExecutorTerminated(frameworkID, executorID string) future.Future[future.Nothing] {
	s := h.s
	return process.DispatchF(s.Runtime(), s.Self(), func() future.Future[future.Nothing] {
		if f := s.frameworks[frameworkID]; f != nil {
			if e := f.executors[executorID]; e != nil && e.state != executorTerminated {
				pr := future.NewPromise[future.Nothing]()
				if s.waiters == nil {
					s.waiters = make(map[string][]*future.Promise[future.Nothing])
				}
				key := frameworkID + "/" + executorID
				s.waiters[key] = append(s.waiters[key], pr)
				return pr.Future()
			}
		}
		return future.Ready(future.Nothing{})
	})
}

// MasterDetected switches the slave to a new leading master (from a
// ZooKeeper detector; ok false: no leader for now). The slave registers
// (again) with it; status updates wait until it has.
func (h *Slave) MasterDetected(pid process.UPID, ok bool) {
	s := h.s
	process.Run(s.Runtime(), s.Self(), func() {
		if ok && pid == s.cfg.Master {
			return
		}
		s.log.Info("new leading master detected", "master", pid.String(), "leader", ok)
		s.registered = false
		s.Clock().Cancel(s.pingTimer)
		s.Clock().Cancel(s.retry)
		if !ok {
			s.cfg.Master = process.UPID{}
			return
		}
		s.cfg.Master = pid
		if !s.recovering && !s.cleaningUp {
			s.startRegistering()
		}
	})
}

// startRegistering begins (re-)registration with the master (once one is
// known).
func (s *slave) startRegistering() {
	if !s.cfg.Master.IsValid() {
		s.log.Info("waiting for a leading master to be detected")
		return
	}
	s.Link(s.cfg.Master)
	s.backoff = s.cfg.RegistrationBackoffFactor
	s.retry = s.Delay(s.randomDelay(s.backoff), s.register)
}

func (s *slave) randomDelay(max time.Duration) time.Duration {
	return time.Duration(s.Runtime().RandFloat() * float64(max))
}

// register sends (Re)RegisterSlaveMessage and schedules a retry; with a
// credential it authenticates with the master first.
func (s *slave) register() {
	if s.registered || !s.cfg.Master.IsValid() {
		return
	}
	if c := s.cfg.Credential; c != nil && s.authenticated != s.cfg.Master {
		s.authenticate(c)
		return
	}
	// Each attempt links again: a link that broke while the master could
	// not be reached (a partition) is not there any more.
	s.Link(s.cfg.Master)
	if s.info.Id == nil {
		s.send(s.cfg.Master, &messages.RegisterSlaveMessage{Slave: s.info, Version: proto.String("1.0.0"), CheckpointedResources: s.checkpointedProto()})
	} else {
		re := &messages.ReregisterSlaveMessage{Slave: s.info, Version: proto.String("1.0.0"), CheckpointedResources: s.checkpointedProto()}
		for _, f := range inIDOrder(s.frameworks) {
			re.Frameworks = append(re.Frameworks, f.info)
			for _, e := range inIDOrder(f.executors) {
				if !e.command {
					re.ExecutorInfos = append(re.ExecutorInfos, e.info)
				}
				for _, t := range inIDOrder(e.tasks) {
					re.Tasks = append(re.Tasks, s.taskWithUpdateState(t))
				}
			}
		}
		s.send(s.cfg.Master, re)
	}
	s.backoff = min(2*s.backoff, 60*time.Second)
	s.retry = s.Delay(s.randomDelay(s.backoff), s.register)
}

// taskWithUpdateState fills status_update_state/uuid from the head of the
// task's stream, as the master answers reconciliation with them.
func (s *slave) taskWithUpdateState(t *mesos.Task) *mesos.Task {
	st := s.streamOf(t.GetFrameworkId().GetValue(), t.GetTaskId().GetValue())
	if st == nil || st.Head() == nil {
		return t
	}
	t = proto.Clone(t).(*mesos.Task)
	head := st.Head()
	t.StatusUpdateState = head.GetStatus().State
	t.StatusUpdateUuid = head.GetUuid()
	return t
}

// authenticate authenticates with the current master, then registers. A
// refused credential ends the slave, as in Mesos; a failed attempt is
// retried with the registration backoff.
func (s *slave) authenticate(c *mesos.Credential) {
	if s.authenticating {
		return
	}
	s.authenticating = true
	master := s.cfg.Master
	var authn auth.Authenticatee = crammd5.Authenticatee{}
	if s.cfg.Authenticatee != nil {
		authn = s.cfg.Authenticatee
	}
	f := authn.Authenticate(s.Runtime(), master, s.Self(), c)
	f.OnAny(process.Defer1(s.Runtime(), s.Self(), func(f future.Future[bool]) {
		ok, err := f.Get()
		s.authenticating = false
		if master != s.cfg.Master {
			return
		}
		switch {
		case err != nil:
			s.log.Warn("authentication failed; retrying", "err", err)
			s.retry = s.Delay(s.randomDelay(s.backoff), s.register)
		case !ok:
			s.log.Error("the master refused our credential; exiting", "principal", c.GetPrincipal())
			s.terminateWhenDrained()
		default:
			s.authenticated = master
			s.register()
		}
	}))
}

func (s *slave) send(to process.UPID, msg proto.Message) {
	if err := s.Send(to, msg); err != nil {
		s.log.Error("cannot send", "to", to.String(), "err", err)
	}
}

func (s *slave) registeredWith(id *mesos.SlaveID, conn *messages.MasterSlaveConnection) {
	if s.info.Id == nil {
		s.info.Id = id
		// The slave info is checkpointed once the master gave an id.
		if err := state.WriteMessage(s.cfg.Files, s.paths.SlaveInfo(id.GetValue()), s.info); err != nil {
			s.log.Error("cannot checkpoint the slave info", "err", err)
		} else if err := state.Link(s.cfg.Files, id.GetValue(), s.paths.LatestSlave()); err != nil {
			s.log.Error("cannot checkpoint the slave info", "err", err)
		}
	}
	s.registered = true
	s.Clock().Cancel(s.retry)
	s.pingLimit = 75 * time.Second
	if t := conn.GetTotalPingTimeoutSeconds(); t > 0 {
		s.pingLimit = time.Duration(t * float64(time.Second))
	}
	s.armPingTimer()
	s.resumeStreams()
	s.sendOversubscribed()
}

// armPingTimer re-detects the master when pings stop.
func (s *slave) armPingTimer() {
	s.Clock().Cancel(s.pingTimer)
	s.pingTimer = s.Delay(s.pingLimit, func() {
		s.log.Info("no ping from the master; registering again", "timeout", s.pingLimit)
		s.disconnected()
	})
}

func (s *slave) disconnected() {
	s.registered = false
	s.authenticated = process.UPID{} // authenticate again
	s.Clock().Cancel(s.pingTimer)
	s.Clock().Cancel(s.retry)
	s.startRegistering()
}

// Exited handles broken links: the master (register again) or an
// executor (its process exit is handled when the container ends).
func (s *slave) Exited(pid process.UPID) {
	if pid == s.cfg.Master && s.registered {
		s.log.Info("master link broke; registering again")
		s.disconnected()
	}
}

// Stop shuts the slave down cleanly: executors are shut down and the
// master is told the slave is leaving (UnregisterSlaveMessage).
func (h *Slave) Stop() {
	s := h.s
	if !s.Self().IsValid() {
		return // never started
	}
	process.Run(s.Runtime(), s.Self(), func() {
		for _, f := range inIDOrder(s.frameworks) {
			s.shutdownFramework(f, "slave shutting down")
		}
		if s.info.Id != nil {
			s.send(s.cfg.Master, &messages.UnregisterSlaveMessage{SlaveId: s.info.Id})
		}
		s.terminateWhenDrained()
	})
}

// Detach ends the slave process as if it had crashed: executors keep
// running, checkpoints stay, nothing is sent. A slave restarted on the same
// work directory recovers them (used by restarts for upgrades, and tests).
func (h *Slave) Detach() {
	s := h.s
	if !s.Self().IsValid() {
		return // never started
	}
	process.Run(s.Runtime(), s.Self(), func() { s.Terminate() })
}

// terminateWhenDrained gives executors the shutdown grace period to
// end, destroys the containers still there, then terminates.
func (s *slave) terminateWhenDrained() {
	var ids []string
	for _, f := range inIDOrder(s.frameworks) {
		for _, e := range inIDOrder(f.executors) {
			if e.state != executorTerminated && e.containerID != "" {
				ids = append(ids, e.containerID)
			}
		}
	}
	// Each exit is also seen by executorExited (waitContainer); here the
	// slave only waits for all of them, or the grace period.
	waits := make([]future.Future[containerizer.Termination], 0, len(ids))
	for _, id := range ids {
		waits = append(waits, s.cz.Wait(id))
	}
	grace := s.Delay(s.cfg.ExecutorShutdownGracePeriod, func() {
		for _, id := range ids {
			s.destroyContainer(id)
		}
	})
	future.AwaitAll(waits...).OnAny(process.Defer1(s.Runtime(), s.Self(), func(future.Future[[]future.Future[containerizer.Termination]]) {
		s.Clock().Cancel(grace)
		if s.forgetOnExit {
			s.forgetSlaveID()
		}
		s.Terminate()
	}))
}

func (s *slave) liveExecutors() int {
	return s.countExecutors(func(e *executor) bool { return e.state != executorTerminated })
}

// Finalize completes Done.
func (s *slave) Finalize() {
	for _, f := range s.frameworks {
		for _, e := range f.executors {
			e.closeHTTP()
		}
	}
	detachSandboxes(s.Runtime(), s.cfg.WorkDir)
	s.stopOversubscription()
	s.done.Set(future.Nothing{})
}

// inIDOrder returns m's values in the order of their keys: the slave walks
// its frameworks, executors and tasks in id order wherever the walk sends
// messages, writes logs or state, so that a run is the same every time.
func inIDOrder[V any](m map[string]V) []V {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m)) // sized at once: this runs per message
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}
