package daemon

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/acls"
	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/allocator"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/master/replog"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
	"github.com/gomesos/gomesos/webui"
)

// MasterFlags are mesos-master's flags (also used by mesos-local).
type MasterFlags struct {
	Hostname               string
	WorkDir                string
	Registry               string
	Quorum                 uint
	ReplicatedLogPeers     string
	ZK                     string
	ZKSessionTimeout       time.Duration
	AllocationInterval     time.Duration
	OfferTimeout           time.Duration
	Roles                  string
	Weights                string
	Cluster                string
	SlavePingTimeout       time.Duration
	MaxSlavePingTimeouts   uint
	SlaveRemovalRateLimit  string
	Allocator              string
	WebUIDir               string
	Authenticate           bool
	AuthenticateFrameworks bool
	AuthenticateSlaves     bool
	AuthenticateAgents     bool
	RateLimits             string
	Authenticators         string
	Credentials            string
	ACLs                   string
	Authorizers            string
	SlaveReregisterTimeout time.Duration
	RecoveryRemovalLimit   string
	RegistryStoreTimeout   time.Duration
	RegistryFetchTimeout   time.Duration
	RegistryStrict         bool
	// HTTP authentication (Mesos 1.0).
	AuthenticateHTTP            bool
	AuthenticateHTTPFrameworks  bool
	HTTPFrameworkAuthenticators string
	RootSubmissions             bool
	FrameworkSorter             string
	UserSorter                  string
	// Modules (issue 15).
	Modules string
	Hooks   string
}

// Register defines the master flags.
func (m *MasterFlags) Register(fs *flags.FlagSet) {
	fs.OptString(&m.Hostname, "hostname", "Host name the master advertises (default: its IP).")
	fs.OptString(&m.WorkDir, "work_dir", "Directory for the registry (required with --registry=replicated_log).")
	fs.String(&m.Registry, "registry", "replicated_log", "Registry persistence: in_memory, or replicated_log (a replicated log among --replicated_log_peers, else with --zk a ZooKeeper node, else a lone replica in --work_dir).")
	fs.Duration(&m.RegistryStoreTimeout, "registry_store_timeout", registrar.DefaultStoreTimeout, "How long a failing registry store is retried before the master exits (it does not admit slaves it cannot persist).")
	fs.Duration(&m.RegistryFetchTimeout, "registry_fetch_timeout", registrar.DefaultFetchTimeout, "How long a failing registry fetch is retried at election before the master exits.")
	fs.Bool(&m.RegistryStrict, "registry_strict", false, "[experimental] Reject registry operations that do not fit it: a re-registering slave the registry does not hold is shut down, even with --registry=in_memory. Without it, the registry admits every admission, readmission and removal.")
	fs.Uint(&m.Quorum, "quorum", 1, "Quorum of the registry's replicated log: more than half of the masters in --replicated_log_peers (checked at start-up). Without --replicated_log_peers the registry does not use it (with --zk it is kept in ZooKeeper, else in a lone replica of quorum 1), and a value other than 1 is reported at start-up.")
	fs.OptString(&m.ReplicatedLogPeers, "replicated_log_peers", "Comma-separated ip:port of every master (this one included) that keeps a replica of the registry's replicated log (etcd raft, in --work_dir/replicated_log). The same list on every master, for the life of the work_dir.")
	fs.OptString(&m.ZK, "zk", "ZooKeeper URL for leader election among several masters: zk://[user:pass@]host:port[,...]/path (or file://).")
	fs.Duration(&m.ZKSessionTimeout, "zk_session_timeout", 10*time.Second, "ZooKeeper session timeout.")
	fs.Duration(&m.AllocationInterval, "allocation_interval", time.Second, "Interval between allocation batches.")
	fs.Duration(&m.OfferTimeout, "offer_timeout", 0, "Rescind offers not answered within this time (0: never).")
	fs.OptString(&m.Roles, "roles", "Comma-separated whitelist of roles frameworks may use (default: any).")
	fs.OptString(&m.Weights, "weights", "Comma-separated role=weight list for DRF, e.g. prod=2,dev=1.")
	fs.OptString(&m.Cluster, "cluster", "Cluster name shown in the web UI and /state.")
	fs.Duration(&m.SlavePingTimeout, "slave_ping_timeout", 15*time.Second, "Timeout of each slave ping.")
	fs.Uint(&m.MaxSlavePingTimeouts, "max_slave_ping_timeouts", 5, "Missed pings before a slave is removed.")
	fs.OptString(&m.SlaveRemovalRateLimit, "slave_removal_rate_limit", "Rate limit of removals of unhealthy slaves, N/duration (e.g. 1/10mins).")
	fs.Duration(&m.SlaveReregisterTimeout, "slave_reregister_timeout", 10*time.Minute, "How long a new leading master waits for the registry's slaves to re-register (at least 10mins).")
	fs.String(&m.RecoveryRemovalLimit, "recovery_slave_removal_limit", "100%", "Largest share of the registry's slaves a new master removes for not re-registering; above it, the master exits (fails over) instead, removing none.")
	fs.String(&m.Allocator, "allocator", allocator.DefaultName, "The allocator: a module of kind Allocator, HierarchicalDRF (built in; hierarchical dominant resource fairness) or one linked into a custom build (see --modules).")
	fs.Bool(&m.Authenticate, "authenticate", false, "Only frameworks that authenticated (CRAM-MD5) may register.")
	fs.Bool(&m.AuthenticateFrameworks, "authenticate_frameworks", false, "The Mesos 1.0 name of --authenticate (also v1 HTTP frameworks: Basic credentials from --credentials).")
	fs.OptString(&m.RateLimits, "rate_limits", "Framework rate limits: RateLimits JSON, or a path (or file://) holding it, e.g. {\"limits\":[{\"principal\":\"foo\",\"qps\":55.5,\"capacity\":100000}],\"aggregate_default_qps\":333}.")
	fs.Bool(&m.AuthenticateSlaves, "authenticate_slaves", false, "Only slaves that authenticated (CRAM-MD5) may register.")
	fs.Bool(&m.AuthenticateAgents, "authenticate_agents", false, "The Mesos 1.0 name of --authenticate_slaves.")
	fs.String(&m.Authenticators, "authenticators", crammd5.Name, "Authentication mechanism of frameworks and slaves: a module of kind Authenticator, crammd5 (built in) or one linked into a custom build (see --modules). One only.")
	fs.OptString(&m.Hooks, "hooks", "Master hook modules (kind Hook), comma-separated, in the order they run: their launch-task label decorators relabel the tasks the master launches.")
	fs.OptString(&m.Modules, "modules", "Modules and their parameters: Mesos's JSON ({\"libraries\":[{\"modules\":[{\"name\":..,\"parameters\":[{\"key\":..,\"value\":..}]}]}]}), inline or a file. Modules are Go packages linked into the binary (see package modules); the master builds its --allocator, --authenticators and --hooks through them. An unknown name fails start-up with the list of known ones.")
	fs.OptString(&m.Credentials, "credentials", "Path (or file://) of the accepted credentials: lines `principal secret`, or JSON {\"credentials\":[{\"principal\":..,\"secret\":..}]}.")
	fs.OptString(&m.ACLs, "acls", "ACLs (register_frameworks, run_tasks, shutdown_frameworks) as JSON, or a path (or file://) holding them.")
	fs.String(&m.Authorizers, "authorizers", "local", "Authorizer (local).")
	fs.Bool(&m.AuthenticateHTTP, "authenticate_http", false, "Every operator endpoint Mesos authenticates (/state, /flags, /tasks, /slaves, /frameworks, /roles, /metrics/snapshot, /logging/toggle, /profiler/*, /teardown, /reserve, /unreserve, /create-volumes, /destroy-volumes ...) requires HTTP Basic credentials from --credentials (401 otherwise). Without it, the endpoints that change the cluster require them only when --credentials are given.")
	fs.Bool(&m.AuthenticateHTTPFrameworks, "authenticate_http_frameworks", false, "v1 HTTP frameworks must authenticate every call with HTTP Basic credentials from --credentials (also done by --authenticate).")
	fs.String(&m.HTTPFrameworkAuthenticators, "http_framework_authenticators", "basic", "HTTP authenticator of v1 frameworks (basic).")
	fs.Bool(&m.RootSubmissions, "root_submissions", true, "Frameworks may run as root (false: a framework whose user is root is refused).")
	fs.String(&m.FrameworkSorter, "framework_sorter", "drf", "Policy among the frameworks of a role: drf (dominant_resource_fairness), the only one.")
	fs.String(&m.UserSorter, "user_sorter", "drf", "Policy among roles: drf (dominant_resource_fairness), the only one.")
	fs.OptString(&m.WebUIDir, "webui_dir", "Serve the web UI from this directory instead of the embedded assets.")
	fs.Check("allocation_interval", flags.Positive(&m.AllocationInterval))
	fs.Check("zk_session_timeout", flags.Positive(&m.ZKSessionTimeout))
	fs.Check("slave_ping_timeout", flags.Positive(&m.SlavePingTimeout))
	fs.Check("slave_reregister_timeout", flags.Positive(&m.SlaveReregisterTimeout))
	fs.Check("registry_store_timeout", flags.Positive(&m.RegistryStoreTimeout))
	fs.Check("registry_fetch_timeout", flags.Positive(&m.RegistryFetchTimeout))
	fs.Check("max_slave_ping_timeouts", flags.AtLeast(&m.MaxSlavePingTimeouts, 1))
	fs.Check("quorum", flags.AtLeast(&m.Quorum, 1))
	registerCompat(fs, sharedCompat)
	registerCompat(fs, masterCompat)
}

// Config validates the flags and returns the master configuration.
func (m *MasterFlags) Config(fs *flags.FlagSet, log *slog.Logger) (master.Config, error) {
	var cfg master.Config
	var zkURL *detector.URL
	if m.ZK != "" {
		u, err := detector.ParseURL(m.ZK)
		if err != nil {
			return cfg, fmt.Errorf("--zk: %w", err)
		}
		zkURL = &u
	}
	var store registrar.Storage
	switch m.Registry {
	case "in_memory":
	case "replicated_log":
		// The storage of the replicated log is chosen here: with
		// --replicated_log_peers, the raft log among the masters; else
		// with --zk, Elect puts the registry in ZooKeeper
		// (detector.Registry, fenced on the leader's node); else a lone
		// replica in --work_dir.
		switch {
		case m.ReplicatedLogPeers == "" && zkURL != nil:
		case m.WorkDir != "":
			l, err := m.replicatedLog()
			if err != nil {
				return cfg, err
			}
			store = l
		default:
			return cfg, fmt.Errorf("--work_dir is required with --registry=replicated_log (or use --registry=in_memory)")
		}
	default:
		return cfg, fmt.Errorf("--registry=%s: want in_memory or replicated_log", m.Registry)
	}
	if m.RegistryStoreTimeout <= 0 {
		return cfg, fmt.Errorf("--registry_store_timeout=%v: want a positive duration", m.RegistryStoreTimeout)
	}
	if m.RegistryFetchTimeout <= 0 {
		return cfg, fmt.Errorf("--registry_fetch_timeout=%v: want a positive duration", m.RegistryFetchTimeout)
	}
	if m.Registry == "replicated_log" && m.ReplicatedLogPeers == "" && m.Quorum != 1 {
		where := "a lone replica in --work_dir, of quorum 1"
		if zkURL != nil {
			where = "ZooKeeper (--zk)"
		}
		log.Warn(fmt.Sprintf("--quorum=%d is not used: without --replicated_log_peers the registry is kept in %s", m.Quorum, where))
	}
	limit, err := ParseRemovalLimit(m.RecoveryRemovalLimit)
	if err != nil {
		return cfg, err
	}
	cfg = master.Config{
		Hostname: m.Hostname, Cluster: m.Cluster, AllocationInterval: m.AllocationInterval,
		OfferTimeout: m.OfferTimeout, SlavePingTimeout: m.SlavePingTimeout,
		MaxSlavePingTimeouts: int(m.MaxSlavePingTimeouts), SlaveRemovalRateLimit: m.SlaveRemovalRateLimit,
		Allocator: m.Allocator, WorkDir: m.WorkDir, Flags: fs.Values(),
		Registry: store, RegistryStoreTimeout: m.RegistryStoreTimeout,
		RegistryFetchTimeout: m.RegistryFetchTimeout, RegistryStrict: m.RegistryStrict,
		SlaveReregisterTimeout: m.SlaveReregisterTimeout, RecoverySlaveRemovalLimit: limit,
	}
	mods, err := modules.Parse(m.Modules)
	if err != nil {
		return cfg, err
	}
	cfg.Modules = mods
	if cfg.Hooks, err = mods.Hooks(m.Hooks); err != nil {
		return cfg, err
	}
	if _, err := allocator.Lookup(mods, m.Allocator); err != nil {
		return cfg, fmt.Errorf("--allocator: %w", err)
	}
	if strings.Contains(m.Authenticators, ",") {
		return cfg, fmt.Errorf("--authenticators=%s: only one authenticator may be given", m.Authenticators)
	}
	if cfg.Authenticator, err = modules.New[auth.Authenticator](mods, modules.KindAuthenticator, strings.TrimSpace(m.Authenticators), nil); err != nil {
		return cfg, fmt.Errorf("--authenticators: %w", err)
	}
	cfg.Authenticate, cfg.AuthenticateSlaves = m.Authenticate || m.AuthenticateFrameworks, m.AuthenticateSlaves || m.AuthenticateAgents
	cfg.AuthenticateHTTP, cfg.AuthenticateHTTPFrameworks = m.AuthenticateHTTP, m.AuthenticateHTTPFrameworks
	cfg.NoRootSubmissions = !m.RootSubmissions
	if m.HTTPFrameworkAuthenticators != "basic" {
		return cfg, fmt.Errorf("--http_framework_authenticators=%s: only basic is built", m.HTTPFrameworkAuthenticators)
	}
	for _, sorter := range []struct{ flag, value string }{{"framework_sorter", m.FrameworkSorter}, {"user_sorter", m.UserSorter}} {
		if sorter.value != "drf" && sorter.value != "dominant_resource_fairness" {
			return cfg, fmt.Errorf("--%s=%s: only drf (dominant_resource_fairness) is built", sorter.flag, sorter.value)
		}
	}
	if m.RateLimits != "" {
		data, err := readValueOrFile(m.RateLimits)
		if err != nil {
			return cfg, fmt.Errorf("--rate_limits: %w", err)
		}
		if cfg.RateLimits, err = master.ParseRateLimits(data); err != nil {
			return cfg, fmt.Errorf("--rate_limits: %w", err)
		}
	}
	if m.Credentials != "" {
		data, err := readValueOrFile(m.Credentials)
		if err != nil {
			return cfg, fmt.Errorf("--credentials: %w", err)
		}
		if cfg.Credentials, err = crammd5.ParseCredentials(data); err != nil {
			return cfg, fmt.Errorf("--credentials: %w", err)
		}
	} else if cfg.Authenticate || cfg.AuthenticateSlaves || m.AuthenticateHTTP || m.AuthenticateHTTPFrameworks {
		log.Warn("authentication is required but no --credentials are given: every attempt will fail")
	}
	if m.Authorizers != "local" {
		return cfg, fmt.Errorf("--authorizers=%s: only local is built", m.Authorizers)
	}
	if m.ACLs != "" {
		data, err := readValueOrFile(m.ACLs)
		if err != nil {
			return cfg, fmt.Errorf("--acls: %w", err)
		}
		if cfg.Authorizer, err = acls.Parse(data); err != nil {
			return cfg, fmt.Errorf("--acls: %w", err)
		}
	}
	if m.Roles != "" {
		for _, r := range strings.Split(m.Roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				cfg.Roles = append(cfg.Roles, r)
			}
		}
	}
	if m.Weights != "" {
		cfg.Weights = make(map[string]float64)
		for _, kv := range strings.Split(m.Weights, ",") {
			role, w, ok := strings.Cut(strings.TrimSpace(kv), "=")
			f, err := strconv.ParseFloat(w, 64)
			if !ok || err != nil || f <= 0 || role == "" {
				return cfg, fmt.Errorf("--weights: bad entry %q (want role=weight, weight > 0)", kv)
			}
			cfg.Weights[role] = f
		}
	}
	if m.WebUIDir != "" {
		cfg.WebUI = http.FileServer(http.Dir(m.WebUIDir))
	} else {
		cfg.WebUI = webui.Handler()
	}
	return cfg, nil
}

// ParseRemovalLimit parses --recovery_slave_removal_limit (`0%` to
// `100%`) into master.Config's RecoverySlaveRemovalLimit: the fraction,
// with 0% as -1 (the Config's zero value means the default, 100%).
func ParseRemovalLimit(s string) (float64, error) {
	pct, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	limit, err := strconv.ParseFloat(pct, 64)
	if !ok || err != nil || limit < 0 || limit > 100 {
		return 0, fmt.Errorf("--recovery_slave_removal_limit=%s: want a percentage from 0%% to 100%%", s)
	}
	if limit == 0 {
		return -1, nil
	}
	return limit / 100, nil
}

// Elect connects to ZooKeeper (with --zk) and puts the election there:
// cfg gets the group's contender and detector, and with
// --registry=replicated_log the group's registry znode. The client's
// retries wait on rt's Clock. Without --zk it does nothing (the master
// leads at once). The returned function closes the session.
func (m *MasterFlags) Elect(rt *process.Runtime, cfg *master.Config, log *slog.Logger) (func(), error) {
	if m.ZK == "" {
		return func() {}, nil
	}
	u, err := detector.ParseURL(m.ZK)
	if err != nil {
		return nil, fmt.Errorf("--zk: %w", err)
	}
	c, err := detector.Connect(u, detector.Options{SessionTimeout: m.ZKSessionTimeout, Timers: rt.Clock(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("--zk: %w", err)
	}
	cfg.Contender = c.Contender()
	cfg.Detector = c.Detector()
	if m.Registry == "replicated_log" && m.ReplicatedLogPeers == "" {
		// The masters of a ZooKeeper group share the registry there.
		cfg.Registry = c.Registry()
	}
	return c.Close, nil
}

// replicatedLog is the registry's replica in --work_dir/replicated_log:
// one of --replicated_log_peers, or alone without them.
func (m *MasterFlags) replicatedLog() (*replog.Log, error) {
	var peers []netip.AddrPort
	if m.ReplicatedLogPeers != "" {
		for _, s := range strings.Split(m.ReplicatedLogPeers, ",") {
			a, err := netip.ParseAddrPort(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("--replicated_log_peers: %q: want ip:port", s)
			}
			peers = append(peers, a)
		}
		if err := replog.CheckQuorum(int(m.Quorum), len(peers)); err != nil {
			return nil, err
		}
	}
	// A read or write that cannot commit fails well before the registrar
	// gives up, so that its error (why there is no quorum) is the one the
	// master exits with.
	timeout := replog.DefaultTimeout
	if half := m.RegistryStoreTimeout / 2; half > 0 && half < timeout {
		timeout = half
	}
	l, err := replog.New(replog.Config{Dir: filepath.Join(m.WorkDir, "replicated_log"), Peers: peers, Quorum: int(m.Quorum), Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("--registry=replicated_log: %w", err)
	}
	return l, nil
}

// StartRegistry starts the registry's replica of the replicated log on
// rt, when cfg's registry is one; its address must be among
// --replicated_log_peers.
func StartRegistry(rt *process.Runtime, cfg *master.Config) error {
	if l, ok := cfg.Registry.(*replog.Log); ok {
		if _, err := l.Start(rt); err != nil {
			return fmt.Errorf("--registry=replicated_log: %w", err)
		}
	}
	return nil
}

// WaitMaster waits until a signal stops the master (exit code 0) or the
// master ends itself (lost leadership, a registry it cannot store: exit
// code 1, with the reason on stderr), as Mesos masters abort for their
// supervisor to restart them.
func WaitMaster(ms *master.Master, log *slog.Logger) int {
	done := ms.Done()
	select {
	case sig := <-Signals():
		log.Info("shutting down", "signal", sig.String())
		return 0
	case <-done.Done():
	}
	if err := done.Err(); err != nil {
		log.Error("master exited", "reason", err.Error())
		fmt.Fprintln(os.Stderr, "mesos-master:", err)
		return 1
	}
	return 0
}

// readValueOrFile reads a flag value that is either a path (absolute, as
// Mesos's --credentials/--credential take it) or the content itself (the
// flags package already expanded file:// values).
func readValueOrFile(v string) ([]byte, error) {
	if strings.HasPrefix(v, "/") && !strings.ContainsAny(v, "\n{ ") {
		return os.ReadFile(v)
	}
	return []byte(v), nil
}

// MasterMain is the whole of mesos-master: flags, logging, the runtime,
// the registry, the election and the master, then signals (see
// WaitMaster). It returns the exit code.
func MasterMain(program string, args, environ []string) int {
	fs := flags.New(program, "Runs a Mesos master.")
	var addr Address
	var logging Logging
	var mf MasterFlags
	addr.Register(fs, 5050)
	logging.Register(fs)
	mf.Register(fs)
	if exit, code := flags.Main(fs, args, environ, os.Stdout, os.Stderr); exit {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
		return 1
	}
	log, closeLog, err := logging.Logger(program)
	if err != nil {
		return fail(err)
	}
	defer closeLog()
	WarnIneffective(fs, log)
	cfg, err := mf.Config(fs, log)
	if err != nil {
		log.Error("bad flags", "err", err)
		return fail(err)
	}
	opts, err := addr.Options()
	if err != nil {
		return fail(err)
	}
	opts.Logger = log
	rt, err := process.New(opts)
	if err != nil {
		return fail(err)
	}
	defer rt.Close()
	Builtins(rt, log, &logging)
	if logging.Dir != "" {
		// /files/read?path=/master/log, for the web UI's log link.
		slave.AttachLogAt(rt, slave.MasterLogPath, logging.File(program))
	}
	if err := StartRegistry(rt, &cfg); err != nil {
		log.Error("cannot start the registry", "err", err)
		return fail(err)
	}
	stop, err := mf.Elect(rt, &cfg, log)
	if err != nil {
		return fail(err)
	}
	defer stop()
	m := master.New(cfg)
	pid, err := m.Start(rt)
	if err != nil {
		return fail(err)
	}
	log.Info("master started", "pid", pid.String(), "webui", "http://"+rt.Addr().String()+"/")
	return WaitMaster(m, log)
}
