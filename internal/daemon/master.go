package daemon

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/webui"
)

// MasterFlags are mesos-master's flags (also used by mesos-local).
type MasterFlags struct {
	Hostname              string
	WorkDir               string
	Registry              string
	Quorum                uint
	ZK                    string
	AllocationInterval    time.Duration
	OfferTimeout          time.Duration
	Roles                 string
	Weights               string
	Cluster               string
	SlavePingTimeout      time.Duration
	MaxSlavePingTimeouts  uint
	SlaveRemovalRateLimit string
	Allocator             string
	WebUIDir              string
}

// Register defines the master flags.
func (m *MasterFlags) Register(fs *flags.FlagSet) {
	fs.OptString(&m.Hostname, "hostname", "Host name the master advertises (default: its IP).")
	fs.OptString(&m.WorkDir, "work_dir", "Directory for the registry (required with --registry=replicated_log).")
	fs.String(&m.Registry, "registry", "replicated_log", "Registry persistence: in_memory or replicated_log. Note: gomesos keeps the registry in memory either way for now.")
	fs.Uint(&m.Quorum, "quorum", 1, "Size of the replicated log quorum (with --zk).")
	fs.OptString(&m.ZK, "zk", "ZooKeeper URL for leader election (zk://host:port/path); not supported yet.")
	fs.Duration(&m.AllocationInterval, "allocation_interval", time.Second, "Interval between allocation batches.")
	fs.Duration(&m.OfferTimeout, "offer_timeout", 0, "Rescind offers not answered within this time (0: never).")
	fs.OptString(&m.Roles, "roles", "Comma-separated whitelist of roles frameworks may use (default: any).")
	fs.OptString(&m.Weights, "weights", "Comma-separated role=weight list for DRF, e.g. prod=2,dev=1.")
	fs.OptString(&m.Cluster, "cluster", "Cluster name shown in the web UI and /state.")
	fs.Duration(&m.SlavePingTimeout, "slave_ping_timeout", 15*time.Second, "Timeout of each slave ping.")
	fs.Uint(&m.MaxSlavePingTimeouts, "max_slave_ping_timeouts", 5, "Missed pings before a slave is removed.")
	fs.OptString(&m.SlaveRemovalRateLimit, "slave_removal_rate_limit", "Rate limit of removals of unhealthy slaves, N/duration (e.g. 1/10mins).")
	fs.String(&m.Allocator, "allocator", "HierarchicalDRF", "The allocator.")
	fs.OptString(&m.WebUIDir, "webui_dir", "Serve the web UI from this directory instead of the embedded assets.")
}

// Config validates the flags and returns the master configuration.
func (m *MasterFlags) Config(fs *flags.FlagSet, log *slog.Logger) (master.Config, error) {
	var cfg master.Config
	if m.ZK != "" {
		return cfg, fmt.Errorf("--zk=%s: ZooKeeper leader election is not supported yet; run a single master without --zk", m.ZK)
	}
	switch m.Registry {
	case "in_memory":
	case "replicated_log":
		if m.WorkDir == "" {
			return cfg, fmt.Errorf("--work_dir is required with --registry=replicated_log (or use --registry=in_memory)")
		}
		log.Warn("the registry is kept in memory: a restarted master forgets its slaves until they re-register (the replicated log is not built yet)")
	default:
		return cfg, fmt.Errorf("--registry=%s: want in_memory or replicated_log", m.Registry)
	}
	cfg = master.Config{
		Hostname: m.Hostname, Cluster: m.Cluster, AllocationInterval: m.AllocationInterval,
		OfferTimeout: m.OfferTimeout, SlavePingTimeout: m.SlavePingTimeout,
		MaxSlavePingTimeouts: int(m.MaxSlavePingTimeouts), SlaveRemovalRateLimit: m.SlaveRemovalRateLimit,
		Allocator: m.Allocator, WorkDir: m.WorkDir, Flags: fs.Values(),
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
