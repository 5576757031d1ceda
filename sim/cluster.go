package sim

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/containerizer/inproc"
	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
	"github.com/gomesos/gomesos/scheduler"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/slave/state"
)

// Config is what a simulation runs besides its schedule.
type Config struct {
	// Seed fixes the interleaving of every mailbox and every random
	// choice of the components.
	Seed uint64
	// Dir holds the slaves' work directories; empty: a new temporary
	// directory (in /dev/shm when there is one), removed by Close.
	Dir string
	// SlaveResources of every slave (default
	// "cpus:4;mem:1024;disk:1024;ports:[31000-32000]").
	SlaveResources string
	// TaskResources of every task the scripted frameworks launch
	// (default "cpus:0.5;mem:64").
	TaskResources string
	// FailoverTimeout of the frameworks (default 1 minute).
	FailoverTimeout time.Duration
	// Framework, if set, makes framework k's scheduler (default: the
	// scripted one). See Framework.
	Framework func(k int) Framework
	// Invariants are checked besides the built-in ones.
	Invariants []Invariant
	// Logger receives the components' logs (default: discarded).
	Logger *slog.Logger
	// TraceTo, if set, gets one line per delivery (see Trace).
	TraceTo io.Writer
	// Quiesce is how long the run goes on after the last event, with
	// every fault healed, before the final checks (default 10 minutes).
	Quiesce time.Duration
	// Record keeps every delivery, fault and event of the run for the
	// trace viewer (Result.Recording; see package traceview). It makes a
	// run a few times slower: for replays, not sweeps.
	Record bool
	// SlaveRestart is how long a slave that ended (the master shut it
	// down) stays down before it starts again, as a supervisor would
	// restart it: with its work directory kept, it registers as a new
	// slave (default 30 seconds).
	SlaveRestart time.Duration
}

func (c *Config) defaults() {
	if c.SlaveResources == "" {
		c.SlaveResources = "cpus:4;mem:1024;disk:1024;ports:[31000-32000]"
	}
	if c.TaskResources == "" {
		c.TaskResources = "cpus:0.5;mem:64"
	}
	if c.FailoverTimeout == 0 {
		c.FailoverTimeout = time.Minute
	}
	if c.Quiesce == 0 {
		c.Quiesce = 10 * time.Minute
	}
	if c.SlaveRestart == 0 {
		c.SlaveRestart = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Cluster is a running simulation: masters, slaves and frameworks, each
// host a runtime on one in-memory network.
type Cluster struct {
	cfg      Config
	shape    Shape
	net      *process.Network
	group    *detector.Group
	registry *registrar.Memory
	dir      string
	ownDir   bool

	masters    []*masterNode
	slaves     []*slaveNode
	frameworks []*frameworkNode

	truth      *truth
	recent     *ring
	partitions map[int]uint64 // active cuts by id
	nextCut    int
	starts     map[netip.AddrPort]uint64 // runtimes started per address
	violation  *Violation
	start      time.Time
	pending    []pendingAction
	heardLog   map[taskKey][]string
	// leaderEpoch counts crashes of the leading master.
	leaderEpoch int
	static      resources.Resources // the slaves' resources, parsed
	rec         *recorder           // Config.Record
}

type masterNode struct {
	addr      netip.AddrPort
	rt        *process.Runtime
	m         *master.Master
	contender *detector.GroupContender
	up        bool
}

type slaveNode struct {
	index    int
	addr     netip.AddrPort // the slave's host
	execAddr netip.AddrPort // its executors' runtime (same IP)
	rt       *process.Runtime
	execRT   *process.Runtime
	cz       *inproc.Containerizer
	s        *slave.Slave
	unfollow func()
	workDir  string
	// files are the slave's work directory (checkpoints, sandboxes): in
	// memory, kept across its restarts as a directory on disk would be.
	files *state.MemFS
	up    bool
	ids   []string // slave ids it has been given, oldest first
	// ckptRaw and ckpt are the checkpointed resources last read, and the
	// file they were read from.
	ckptRaw  []byte
	ckpt     resources.Resources
	ckptVols map[string]resources.Resources // ckpt's volumes (checkpointedVolumes)
	ckptPath string                         // its resources.info
}

// checkpointed returns the resources slave n has checkpointed (its
// meta/resources/resources.info), read again only when the file changed.
func (n *slaveNode) checkpointed() (resources.Resources, error) {
	if n.ckptPath == "" {
		n.ckptPath = state.Paths{WorkDir: n.workDir}.ResourcesInfo()
	}
	path := n.ckptPath
	raw, err := n.files.ReadFile(path)
	if err != nil || bytes.Equal(raw, n.ckptRaw) {
		return n.ckpt, nil // none yet, or unchanged
	}
	pbs, _, err := state.ReadResources(n.files, path)
	if err != nil {
		return nil, err
	}
	n.ckptRaw, n.ckpt = raw, resources.FromProto(pbs)
	n.ckptVols = nil
	for _, r := range n.ckpt.PersistentVolumes() {
		if n.ckptVols == nil {
			n.ckptVols = map[string]resources.Resources{}
		}
		n.ckptVols[r.DiskID] = resources.Resources{r}
	}
	return n.ckpt, nil
}

// checkpointedVolumes are slave n's checkpointed persistent volumes:
// persistence id → the volume (nil when none). Read it, never change
// it.
func (n *slaveNode) checkpointedVolumes() (map[string]resources.Resources, error) {
	if _, err := n.checkpointed(); err != nil {
		return nil, err
	}
	return n.ckptVols, nil
}

// slaveAt is the slave whose process is pid, or nil.
func (c *Cluster) slaveAt(pid process.UPID) *slaveNode {
	if i := c.hostIndex(pid.Addr.Addr()) - c.shape.Masters; i >= 0 && i < len(c.slaves) && pid.Addr == c.slaves[i].addr {
		return c.slaves[i]
	}
	return nil
}

type frameworkNode struct {
	index int
	addr  netip.AddrPort
	rt    *process.Runtime
	d     *scheduler.Driver
	fw    Framework
	id    *mesos.FrameworkID
	up    bool
	// removed is set once the master told it it was removed (failover
	// timeout): it does not come back.
	removed bool
	// everPastTimeout is set when an outage outlasted the failover
	// timeout, or a partition or message fault may have made it look
	// so to the master.
	everPastTimeout bool
	// removedEpoch is the leader epoch in which it learnt it was removed.
	removedEpoch int
	downSince    time.Time
}

// Hosts are indexed masters first, then slaves, then frameworks.
func (c *Cluster) hostCount() int { return c.shape.Masters + c.shape.Slaves + c.shape.Frameworks }

func (c *Cluster) hostIP(i int) netip.Addr {
	switch {
	case i < c.shape.Masters:
		return netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
	case i < c.shape.Masters+c.shape.Slaves:
		return netip.AddrFrom4([4]byte{10, 0, 1, byte(i - c.shape.Masters + 1)})
	default:
		return netip.AddrFrom4([4]byte{10, 0, 2, byte(i - c.shape.Masters - c.shape.Slaves + 1)})
	}
}

// hostIndex is the host of ip, or -1.
func (c *Cluster) hostIndex(ip netip.Addr) int {
	b := ip.As4()
	if b[0] != 10 || b[1] != 0 || b[3] == 0 {
		return -1
	}
	n := int(b[3]) - 1
	switch b[2] {
	case 0:
		return n
	case 1:
		return c.shape.Masters + n
	case 2:
		return c.shape.Masters + c.shape.Slaves + n
	}
	return -1
}

// newCluster builds the cluster of shape and starts it: masters contend,
// slaves and frameworks follow the leader.
func newCluster(cfg Config, shape Shape) (*Cluster, error) {
	cfg.defaults()
	if err := shape.check(); err != nil {
		return nil, err
	}
	c := &Cluster{
		cfg: cfg, shape: shape, net: process.NewNetwork(cfg.Seed), starts: map[netip.AddrPort]uint64{},
		group: detector.NewGroup(), registry: &registrar.Memory{},
		truth: newTruth(shape.Slaves), recent: newRing(64), partitions: map[int]uint64{},
		heardLog: map[taskKey][]string{},
	}
	c.dir = cfg.Dir
	if c.dir == "" {
		base := ""
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			base = "/dev/shm"
		}
		d, err := os.MkdirTemp(base, "gomesos-sim-")
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		c.dir, c.ownDir = d, true
	}
	c.start = c.net.Clock().Now()
	if cfg.Record {
		c.rec = newRecorder(c)
	}
	c.net.Cut(c.cut)
	c.net.Deterministic().Observe(c.observe)
	for i := range shape.Masters {
		n := &masterNode{addr: netip.AddrPortFrom(c.hostIP(i), 5050)}
		c.masters = append(c.masters, n)
		if err := c.startMaster(n); err != nil {
			return nil, err
		}
	}
	for j := range shape.Slaves {
		ip := c.hostIP(shape.Masters + j)
		n := &slaveNode{
			index: j, addr: netip.AddrPortFrom(ip, 5051), execAddr: netip.AddrPortFrom(ip, 5052),
			workDir: filepath.Join(c.dir, fmt.Sprintf("slave%d", j)), files: state.NewMemFS(),
		}
		c.slaves = append(c.slaves, n)
		// Its files are in memory; the directory is there for the slave's
		// disk usage probe (statfs), as before.
		if err := os.MkdirAll(n.workDir, 0o755); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		if err := c.startExecutorHost(n); err != nil {
			return nil, err
		}
		if err := c.startSlave(n); err != nil {
			return nil, err
		}
	}
	for k := range shape.Frameworks {
		n := &frameworkNode{index: k, addr: netip.AddrPortFrom(c.hostIP(shape.Masters+shape.Slaves+k), 8080)}
		if cfg.Framework != nil {
			n.fw = cfg.Framework(k)
		}
		if n.fw == nil {
			n.fw = &Scripted{TaskResources: cfg.TaskResources, Role: FrameworkRole(k), Principal: frameworkPrincipal(k), Name: fmt.Sprintf("fw%d", k)}
		}
		c.frameworks = append(c.frameworks, n)
		if err := c.startFramework(n); err != nil {
			return nil, err
		}
	}
	c.settle()
	return c, nil
}

func (c *Cluster) runtime(addr netip.AddrPort, name string) (*process.Runtime, error) {
	// Each host draws its own random numbers from the run's seed.
	// A restarted host draws other numbers than its last incarnation (a
	// master's id, and so its slave and framework ids, must differ).
	c.starts[addr]++
	seed := c.cfg.Seed*0x9e3779b97f4a7c15 ^ uint64(addr.Addr().As4()[2])<<24 ^ uint64(addr.Addr().As4()[3])<<8 ^ uint64(addr.Port())
	seed ^= (c.starts[addr] - 1) * 0xbf58476d1ce4e5b9
	rt, err := process.New(process.Options{
		Network: c.net, Bind: addr, Seed: seed,
		Logger: c.cfg.Logger.With("host", name),
	})
	if err != nil {
		return nil, fmt.Errorf("sim: %s: %w", name, err)
	}
	return rt, nil
}

func (c *Cluster) startMaster(n *masterNode) error {
	rt, err := c.runtime(n.addr, "master@"+n.addr.String())
	if err != nil {
		return err
	}
	n.rt, n.contender = rt, c.group.Contender()
	n.m = master.New(master.Config{
		Hostname: n.addr.Addr().String(), Registry: c.registry,
		Contender: n.contender, Detector: c.group.Detector(),
	})
	if _, err := n.m.Start(rt); err != nil {
		return fmt.Errorf("sim: master %s: %w", n.addr, err)
	}
	n.up = true
	return nil
}

func (c *Cluster) startExecutorHost(n *slaveNode) error {
	rt, err := c.runtime(n.execAddr, fmt.Sprintf("executors of slave %d", n.index))
	if err != nil {
		return err
	}
	n.execRT = rt
	n.cz, err = inproc.New(rt, inproc.Config{
		Executor: func(info *mesos.ExecutorInfo) executor.Executor {
			return c.newExecutor(n, info)
		},
		Ended: func(x executor.Executor) {
			if e, ok := x.(*simExecutor); ok {
				c.truth.executorEnded(e)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("sim: slave %d: %w", n.index, err)
	}
	return nil
}

func (c *Cluster) startSlave(n *slaveNode) error {
	rt, err := c.runtime(n.addr, fmt.Sprintf("slave %d", n.index))
	if err != nil {
		return err
	}
	n.rt = rt
	n.s = slave.New(slave.Config{
		Resources: c.cfg.SlaveResources, Hostname: n.addr.Addr().String(),
		WorkDir: n.workDir, LauncherDir: "/nonexistent", Containerizer: n.cz,
		Strict: true, Files: n.files,
	})
	if _, err := n.s.Start(rt); err != nil {
		return fmt.Errorf("sim: slave %d: %w", n.index, err)
	}
	s := n.s
	n.unfollow = detector.Follow(c.group.Detector(), func(info *mesos.MasterInfo) {
		pid, err := process.ParseUPID(info.GetPid())
		s.MasterDetected(pid, info != nil && err == nil)
	})
	n.up = true
	return nil
}

func (c *Cluster) startFramework(n *frameworkNode) error {
	rt, err := c.runtime(n.addr, fmt.Sprintf("framework %d", n.index))
	if err != nil {
		return err
	}
	n.rt = rt
	c.recordLaunches(n)
	info := &mesos.FrameworkInfo{
		User: proto.String("sim"), Name: proto.String(fmt.Sprintf("framework-%d", n.index)),
		Checkpoint: proto.Bool(true), FailoverTimeout: proto.Float64(c.cfg.FailoverTimeout.Seconds()),
		Id: n.id, Role: proto.String(FrameworkRole(n.index)), Principal: proto.String(frameworkPrincipal(n.index)),
	}
	sched := &schedulerShim{c: c, n: n}
	n.d = scheduler.NewDriver(rt, sched, info, process.UPID{}, scheduler.Options{Detector: c.group.Detector()})
	if _, err := n.d.Start(); err != nil {
		return fmt.Errorf("sim: framework %d: %w", n.index, err)
	}
	n.up = true
	return nil
}

// frameworkRoles are the frameworks' roles, by index modulo their
// number: two roles that reserve and one that cannot.
var frameworkRoles = []string{"web", "batch", "*"}

// FrameworkRole is framework k's role.
func FrameworkRole(k int) string { return frameworkRoles[k%len(frameworkRoles)] }

// frameworkPrincipal is framework k's principal (unauthenticated: the
// master takes FrameworkInfo's).
func frameworkPrincipal(k int) string { return fmt.Sprintf("sim-%d", k) }

// settle runs the network until nothing is under way.
func (c *Cluster) settle() { c.net.Clock().Settle() }

// Now is the virtual time.
func (c *Cluster) Now() time.Time { return c.net.Clock().Now() }

// Close stops every host and removes the work directories it made.
func (c *Cluster) Close() {
	for _, n := range c.frameworks {
		if n.up {
			c.net.Crash(n.addr)
		}
	}
	for _, n := range c.slaves {
		if n.unfollow != nil {
			n.unfollow()
		}
		if n.up {
			c.net.Crash(n.addr)
		}
		c.net.Crash(n.execAddr)
	}
	for _, n := range c.masters {
		if n.up {
			c.net.Crash(n.addr)
		}
	}
	if c.ownDir {
		_ = os.RemoveAll(c.dir)
	}
}

// leader is the leading master's node, or nil.
func (c *Cluster) leader() *masterNode {
	info := c.group.Leader()
	if info == nil {
		return nil
	}
	for _, n := range c.masters {
		if n.up && n.m.PID().String() == info.GetPid() {
			return n
		}
	}
	return nil
}
