// Package master is the Mesos master: it registers frameworks and slaves,
// offers the slaves' resources to frameworks through the allocator, launches
// tasks, forwards status updates and acknowledgements, and answers
// reconciliation. It speaks Mesos's messages (legacy framework messages and
// mesos.scheduler.Call) over the libprocess runtime, so unmodified Mesos and
// mesos-go 0.0.6 peers work against it.
package master

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/master/allocator"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/quotapb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// ID is the process id of the master; its UPID is master@ip:port.
const ID = "master"

// Master is a Mesos master. Create it with New, run it with Start and end
// it with Stop; its state lives in a process of its own and is touched only
// by that process's handlers.
type Master struct {
	m *master
}

// master is the master's process: it holds all the state.
type master struct {
	process.Process

	cfg    Config
	log    *slog.Logger
	info   *mesos.MasterInfo
	id     string // MasterInfo.id, a UUID new on every start
	start  time.Time
	leader bool

	// alloc is the allocator process's handle: every call is a dispatch.
	alloc     allocator.Allocator
	pureAlloc allocator.Allocator
	authn     auth.Authenticator // set by Start
	allocPID  process.UPID

	frameworks        map[string]*framework
	completed         []*framework // removed frameworks, newest last, bounded
	removedFrameworks map[string]bool

	slaves        map[string]*slave
	books         books // sums of the slaves' totals and used, for the gauges
	slavesByPID   map[process.UPID]*slave
	registering   map[process.UPID]bool // slaves whose admission is under way
	removedSlaves map[string]bool
	removals      *rateLimiter

	offers map[string]*offer

	// quotas are the roles' quotas (/quota, kept in the registry);
	// maint the machines under maintenance and the inverse offers.
	quotas map[string]*quotapb.QuotaInfo
	maint  maintenanceState

	nextFramework, nextSlave, nextOffer int

	metrics *masterMetrics
	// detected is the leader a detector reported (standby masters).
	detected *mesos.MasterInfo
	elected  time.Time
	// httpSchedulers are the stand-in pids of frameworks subscribed over
	// HTTP (see httpapi.go).
	httpSchedulers map[process.UPID]bool
	// authenticated maps pids to their authenticated principals;
	// authenticating to the session of an attempt in progress.
	authenticated  map[process.UPID]string
	authenticating map[process.UPID]process.UPID
	// limits throttles frameworks' messages (--rate_limits) and keeps
	// the frameworks/<principal>/* counters.
	limits *rateLimiting
	// registrar persists the admitted slaves; recovered are the registry's
	// slaves not yet re-registered after an election.
	registrar     *registryClient
	registryReady bool // the registry is recovered: slaves may register
	// parked are the (re-)registrations that came before it was, the
	// last one per slave pid (see whenRecovered).
	parked    map[process.UPID]func()
	recovered map[string]*mesos.SlaveInfo

	// operatorSubs are the operator API's SUBSCRIBE streams (see
	// operatorevents.go).
	operatorSubs    map[int]*operatorSubscriber
	nextOperatorSub int

	// spareViews is a slave list for the next copy of the state (see
	// copyState).
	spareViews spareViews

	// exitErr is why the master ended itself (lost leadership, registry
	// failure); done completes when the process has stopped.
	exitErr error
	done    *future.Promise[future.Nothing]
}

// New returns a master with the given configuration; Start runs it.
func New(cfg Config) *Master {
	return &Master{m: newMaster(cfg)}
}

// newMaster returns the master's process, not yet spawned.
func newMaster(cfg Config) *master {
	cfg.Defaults()
	return &master{
		cfg:               cfg,
		frameworks:        make(map[string]*framework),
		removedFrameworks: make(map[string]bool),
		slaves:            make(map[string]*slave),
		slavesByPID:       make(map[process.UPID]*slave),
		registering:       make(map[process.UPID]bool),
		removedSlaves:     make(map[string]bool),
		offers:            make(map[string]*offer),
		quotas:            make(map[string]*quotapb.QuotaInfo),
		maint:             newMaintenanceState(),
		httpSchedulers:    make(map[process.UPID]bool),
		authenticated:     make(map[process.UPID]string),
		authenticating:    make(map[process.UPID]process.UPID),
		recovered:         make(map[string]*mesos.SlaveInfo),
		operatorSubs:      make(map[int]*operatorSubscriber),
		limits:            newRateLimiting(cfg.RateLimits),
		done:              future.NewPromise[future.Nothing](),
	}
}

// Start runs the master on rt as the process "master" and makes it the
// runtime's HTTP delegate, so that /state reaches /master/state.
func (h *Master) Start(rt *process.Runtime) (process.UPID, error) {
	m := h.m
	alloc, err := allocator.New(m.cfg.Modules, m.cfg.Allocator, allocator.Options{
		Roles:   m.cfg.Roles,
		Weights: m.cfg.Weights,
	})
	if err != nil {
		return process.UPID{}, fmt.Errorf("master: %w", err)
	}
	m.pureAlloc = alloc
	m.authn = m.cfg.Authenticator
	if m.authn == nil {
		m.authn = &crammd5.Authenticator{}
	}
	if err := m.authn.Initialize(m.cfg.Credentials); err != nil {
		return process.UPID{}, fmt.Errorf("master: authenticator: %w", err)
	}
	if m.cfg.RateLimits != nil {
		if err := m.cfg.RateLimits.Validate(); err != nil {
			return process.UPID{}, fmt.Errorf("master: --rate_limits: %w", err)
		}
	}
	if m.cfg.SlaveRemovalRateLimit != "" {
		rl, err := ParseRateLimit(m.cfg.SlaveRemovalRateLimit)
		if err != nil {
			return process.UPID{}, fmt.Errorf("master: --slave_removal_rate_limit: %w", err)
		}
		m.removals = &rateLimiter{limit: rl}
	}
	pid, err := rt.Spawn(m, ID)
	if err != nil {
		return process.UPID{}, fmt.Errorf("spawn master: %w", err)
	}
	rt.SetDelegate(ID)
	if m.cfg.AuthenticateHTTP {
		rt.SetHTTPGuard(m.guardRuntimeRoutes)
	}
	return pid, nil
}

// Initialize installs the handlers, starts the registrar and enters the
// election: without a Contender the master leads at once.
func (m *master) Initialize() {
	m.log = m.Runtime().Logger().With("component", "master")
	m.start = m.Clock().Now()
	m.id = newUUID(m.Runtime())
	m.info = masterInfo(m.id, m.Self(), m.cfg.Hostname, m.cfg.Version)
	m.metrics = newMasterMetrics(m)
	if err := m.startRegistrar(); err != nil {
		m.exit(fmt.Errorf("cannot start the registrar: %w", err))
		return
	}
	m.installHandlers()
	m.installRoutes()
	m.installAPI()
	if m.cfg.Detector != nil {
		m.detect(nil)
	}
	if m.cfg.Contender == nil {
		m.elect()
		return
	}
	m.cfg.Contender.Contend(m.infoCopy()).OnAny(process.Defer1(m.Runtime(), m.Self(), m.contended))
}

// contended continues the election: elected, or the candidacy is lost.
func (m *master) contended(f future.Future[detector.Lost]) {
	lost, err := f.Get()
	if err != nil {
		m.exit(fmt.Errorf("lost the candidacy before being elected: %w", err))
		return
	}
	lost.OnAny(process.Defer1(m.Runtime(), m.Self(), m.leadershipLost))
	m.elect()
}

// leadershipLost ends a leader whose leadership ended: lost, it exits
// with the reason (Mesos's master aborts, for its supervisor to restart
// it as a standby); withdrawn by its owner, it stops.
func (m *master) leadershipLost(f future.Future[future.Nothing]) {
	if err := f.Err(); err != nil {
		m.exit(fmt.Errorf("lost leadership: %w", err))
		return
	}
	m.log.Info("leadership withdrawn; stopping")
	m.Terminate()
}

// detect follows the leader the detector reports, for /state's `leader`
// and /redirect on a standby master.
func (m *master) detect(previous *mesos.MasterInfo) {
	m.cfg.Detector.Detect(previous).OnReady(process.Defer1(m.Runtime(), m.Self(), func(leader *mesos.MasterInfo) {
		if leader == nil {
			m.log.Info("no leading master detected")
		} else {
			m.log.Info("leading master detected", "pid", leader.GetPid(), "id", leader.GetId())
		}
		m.detected = leader
		m.detect(leader)
	}))
}

// exit ends the master with a reason: it logs it, stops the process and
// fails Done with it. The daemon exits non-zero on it.
func (m *master) exit(err error) {
	if m.exitErr != nil {
		return
	}
	m.exitErr = err
	m.log.Error("master exiting", "reason", err.Error())
	m.Terminate()
}

// Stop ends the master; Done completes once it has stopped. Stop before
// Start does nothing.
func (h *Master) Stop() {
	if pid := h.m.Self(); pid.IsValid() {
		h.m.Runtime().Terminate(pid)
	}
}

// PID returns the master's process id (valid once started).
func (h *Master) PID() process.UPID { return h.m.Self() }

// Done completes when the master has stopped: ready after Stop, failed
// with the reason when it ended itself (lost leadership, a registry it
// cannot store).
func (h *Master) Done() future.Future[future.Nothing] { return h.m.done.Future() }

// elect makes this master the leader.
func (m *master) elect() {
	m.leader = true
	m.elected = m.Clock().Now()
	m.log.Info("elected as the leading master", "pid", m.Self().String(), "id", m.id)
	m.recoverSlaves()
	h, err := allocator.SpawnProcess(m.Runtime(), m.pureAlloc, m.cfg.AllocationInterval, m.Self(), m.offerDecisions)
	if err != nil {
		m.log.Error("cannot start the allocator process; exiting", "err", err)
		panic(fmt.Sprintf("master: start allocator: %v", err)) // fail fast: no offers without it
	}
	m.alloc = h
	m.allocPID = h.PID()
}

// Info returns a copy of the MasterInfo this master publishes.
func (h *Master) Info() *mesos.MasterInfo { return h.m.infoCopy() }

// infoCopy returns a copy of m.info.
func (m *master) infoCopy() *mesos.MasterInfo { return proto.Clone(m.info).(*mesos.MasterInfo) }

// handle installs handler for messages of type T, dropping (and counting)
// every message until the master is elected. A registered framework's
// messages go through its rate limit (--rate_limits).
func handle[T proto.Message](m *master, counter func(), handler func(from process.UPID, msg T)) {
	process.Install(&m.Process, func(from process.UPID, msg T) {
		if !m.leader {
			m.metrics.droppedMessages.Inc()
			return
		}
		if _, isFramework := m.limits.principals[from]; isFramework {
			m.throttle(from, string(proto.MessageName(msg)), func() {
				if counter != nil {
					counter()
				}
				handler(from, msg)
			})
			return
		}
		// Slaves, executors, unregistered peers: not throttled.
		if counter != nil {
			counter()
		}
		handler(from, msg)
	})
}

// send sends msg from the master, logging (never panicking on) failures.
func (m *master) send(to process.UPID, msg proto.Message) {
	if err := m.Send(to, msg); err != nil {
		m.log.Error("cannot send message", "to", to.String(), "err", err)
	}
}

func (m *master) newFrameworkID() *mesos.FrameworkID {
	id := fmt.Sprintf("%s-%04d", m.id, m.nextFramework)
	m.nextFramework++
	return &mesos.FrameworkID{Value: proto.String(id)}
}

// newSlaveID returns an id no slave this master knows of holds. Ids are
// the master's id and a counter, and a master's id is unique per start;
// the check guards against a repeated id all the same (an id given
// twice would merge two machines' tasks in the master's view).
func (m *master) newSlaveID() *mesos.SlaveID {
	for {
		id := fmt.Sprintf("%s-S%d", m.id, m.nextSlave)
		m.nextSlave++
		if m.slaves[id] == nil && m.recovered[id] == nil && !m.removedSlaves[id] {
			return &mesos.SlaveID{Value: proto.String(id)}
		}
		m.log.Warn("skipping a slave id already in use", "slave", id)
	}
}

func (m *master) newOfferID() *mesos.OfferID {
	id := fmt.Sprintf("%s-O%d", m.id, m.nextOffer)
	m.nextOffer++
	return &mesos.OfferID{Value: proto.String(id)}
}

// nowSeconds is the Clock's time as Mesos timestamps (seconds).
func (m *master) nowSeconds() float64 {
	return mesos.Timestamp(m.Clock().Now())
}

// masterInfo builds the MasterInfo for pid. Its ip field is the IPv4
// address as libprocess stores it: the network-order bytes read as a
// little-endian integer.
func masterInfo(id string, pid process.UPID, hostname, version string) *mesos.MasterInfo {
	ip4 := pid.Addr.Addr().As4()
	if hostname == "" {
		hostname = pid.Addr.Addr().String()
	}
	return &mesos.MasterInfo{
		Id:       proto.String(id),
		Ip:       proto.Uint32(binary.LittleEndian.Uint32(ip4[:])),
		Port:     proto.Uint32(uint32(pid.Addr.Port())),
		Pid:      proto.String(pid.String()),
		Hostname: proto.String(hostname),
		Version:  proto.String(version),
		Address: &mesos.Address{
			Hostname: proto.String(hostname),
			Ip:       proto.String(pid.Addr.Addr().String()),
			Port:     proto.Int32(int32(pid.Addr.Port())),
		},
	}
}

// newUUID returns a random UUID string drawn from the runtime's (seedable)
// random source.
func newUUID(rt *process.Runtime) string {
	return mesos.NewUUID(rt.RandBytes).String()
}

// TaskCount returns how many tasks the master holds (for tests, from
// outside the process: it dispatches and waits).
func (h *Master) TaskCount() int {
	m := h.m
	f := process.Dispatch(m.Runtime(), m.Self(), func() int {
		n := 0
		for _, fw := range m.frameworks {
			n += len(fw.tasks)
		}
		return n
	})
	if !process.Await(m.Runtime(), f, 15*time.Second) {
		return -1
	}
	n, _ := f.Get()
	return n
}

// Finalize stops the processes the master started.
func (m *master) Finalize() {
	defer func() {
		if m.exitErr != nil {
			m.done.Fail(m.exitErr)
		} else {
			m.done.Set(future.Nothing{})
		}
	}()
	if m.registrar != nil {
		m.registrar.close()
	}
	m.stopMaintenance()
	for _, id := range sortedKeys(m.operatorSubs) {
		m.dropOperatorSub(id)
	}
	rt := m.Runtime()
	if m.cfg.AuthenticateHTTP {
		rt.SetHTTPGuard(nil) // the guard reads this master's configuration
	}
	rt.Terminate(rt.UPID("api"))
	if m.allocPID.IsValid() {
		rt.Terminate(m.allocPID)
	}
	for _, s := range m.sortedSlaves() {
		if s.observer != nil {
			rt.Terminate(s.observer.Self())
		}
	}
}
