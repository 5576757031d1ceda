package daemon

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/gomesos/gomesos/flags"
)

// compatFlag is a Mesos flag that gomesos accepts, so that an existing
// Mesos configuration starts unchanged, but that changes nothing here.
// Its value is still parsed as its kind (a duration must be a duration),
// --help says it has no effect and why, and WarnIneffective logs it at
// start-up when it was given.
type compatFlag struct {
	name string
	kind compatKind
	def  string // the default Mesos documents, as the flag parses it; "" for none
	help string
	why  string // why it has no effect here
}

type compatKind int

const (
	compatString compatKind = iota
	compatBool
	compatDuration
	compatBytes
	compatUint
)

// sharedCompat are flags of both the master and the slave without effect
// in either.
var sharedCompat = []compatFlag{
	{name: "firewall_rules", help: "Endpoints to disable, as JSON: {\"disabled_endpoints\":{\"paths\":[...]}}.", why: "every endpoint stays enabled"},
	{name: "initialize_driver_logging", kind: compatBool, def: "true", help: "Initialize glog for the scheduler and executor drivers.", why: "there is no glog; drivers log through log/slog"},
	{name: "logbufsecs", kind: compatUint, def: "0", help: "Seconds to buffer log messages.", why: "log lines are written at once"},
}

// masterCompat are the master's flags without effect.
var masterCompat = []compatFlag{
	{name: "external_log_file", help: "Log file to show through the web UI when stderr logging is not managed by Mesos.", why: "the master serves no log file"},
	{name: "log_auto_initialize", kind: compatBool, def: "true", help: "Initialize the registry's replicated log automatically.", why: "the replicated log always initializes itself"},
	{name: "whitelist", help: "File of the slaves' host names to offer resources of, one per line, re-read periodically.", why: "every registered slave's resources are offered"},
	{name: "max_executors_per_slave", kind: compatUint, help: "Largest number of executors per slave (builds with the network isolator).", why: "there is no network isolator"},
}

// slaveCompat are the slave's flags without effect.
var slaveCompat = []compatFlag{
	{name: "cgroups_cpu_enable_pids_and_tids_count", kind: compatBool, def: "false", help: "Count the processes and threads of containers through cgroups.", why: "usage counts processes from /proc"},
	{name: "cgroups_hierarchy", def: "/sys/fs/cgroup", help: "Where the cgroups hierarchies are mounted.", why: "the hierarchies are found in /proc/mounts"},
	{name: "cgroups_limit_swap", kind: compatBool, def: "false", help: "Limit memory and swap together, not memory alone.", why: "memory alone is limited"},
	{name: "container_disk_watch_interval", kind: compatDuration, def: "15secs", help: "Interval between disk usage checks of the posix/disk isolator.", why: "there is no posix/disk isolator"},
	{name: "enforce_container_disk_quota", kind: compatBool, def: "false", help: "Enforce containers' disk quota (posix/disk).", why: "there is no posix/disk isolator"},
	{name: "default_container_info", help: "ContainerInfo JSON for executors that give none.", why: "executors without a ContainerInfo run on the host"},
	{name: "docker", def: "docker", help: "Path of the docker CLI.", why: "the docker containerizer talks to the Engine API over --docker_socket"},
	{name: "docker_sock", def: "/var/run/docker.sock", help: "Docker socket mounted into the docker executor's container.", why: "--docker_socket is the socket, also the one bound into the containers of --docker_mesos_image"},
	{name: "sandbox_directory", def: "/mnt/mesos/sandbox", help: "Path of the sandbox inside containers.", why: "docker containers get the sandbox at /mnt/mesos/sandbox"},
	{name: "frameworks_home", help: "Directory prefixed to relative executor URIs.", why: "relative URIs are not resolved"},
	{name: "hadoop_home", help: "Where to find hadoop for hdfs:// URIs.", why: "the fetcher takes http, https, file and local paths"},
	{name: "perf_duration", kind: compatDuration, def: "10secs", help: "Length of a perf sample (cgroups/perf_event).", why: "there is no perf_event isolator"},
	{name: "perf_events", help: "perf events sampled by the cgroups/perf_event isolator.", why: "there is no perf_event isolator"},
	{name: "perf_interval", kind: compatDuration, def: "1mins", help: "Interval between perf samples (cgroups/perf_event).", why: "there is no perf_event isolator"},
	{name: "resource_monitoring_interval", kind: compatDuration, def: "1secs", help: "Interval between samples of executors' usage.", why: "usage is measured when /monitor/statistics is read"},
	{name: "revocable_cpu_low_priority", kind: compatBool, def: "true", help: "Run containers with revocable CPU at a low priority (cgroups/cpu).", why: "revocable containers get cpu.shares from their cpus like any other"},
	{name: "slave_subsystems", help: "cgroups subsystems to run the slave itself in, e.g. memory,cpuacct.", why: "the slave stays in its own cgroups"},
	{name: "checkpoint", kind: compatBool, def: "true", help: "Removed in Mesos 0.22: slaves always checkpoint.", why: "slaves always checkpoint"},
	// The network port-mapping isolator's flags.
	{name: "ephemeral_ports_per_container", kind: compatUint, def: "1024", help: "Ephemeral ports per container (network/port_mapping).", why: "there is no network isolator"},
	{name: "eth0_name", help: "Public network interface (network/port_mapping).", why: "there is no network isolator"},
	{name: "lo_name", help: "Loopback interface (network/port_mapping).", why: "there is no network isolator"},
	{name: "egress_rate_limit_per_container", kind: compatBytes, help: "Egress bytes per second of each container (network/port_mapping).", why: "there is no network isolator"},
	{name: "network_enable_socket_statistics_summary", kind: compatBool, def: "false", help: "Per-container socket statistics summary (network/port_mapping).", why: "there is no network isolator"},
	{name: "network_enable_socket_statistics_details", kind: compatBool, def: "false", help: "Per-container socket statistics details (network/port_mapping).", why: "there is no network isolator"},
	{name: "egress_unique_flow_per_container", kind: compatBool, def: "false", help: "A separate flow per container (network/port_mapping).", why: "there is no network isolator"},
}

// registerCompat defines each flag with its kind and marks it as without
// effect.
func registerCompat(fs *flags.FlagSet, list []compatFlag) {
	for _, c := range list {
		switch c.kind {
		case compatString:
			v := new(string)
			if c.def == "" {
				fs.OptString(v, c.name, c.help)
			} else {
				fs.String(v, c.name, c.def, c.help)
			}
		case compatBool:
			fs.Bool(new(bool), c.name, c.def == "true", c.help)
		case compatDuration:
			d, err := flags.ParseDuration(c.def)
			if err != nil {
				panic("daemon: default of --" + c.name + ": " + err.Error())
			}
			fs.Duration(new(time.Duration), c.name, d, c.help)
		case compatBytes:
			var n uint64
			if c.def != "" {
				b, err := flags.ParseBytes(c.def)
				if err != nil {
					panic("daemon: default of --" + c.name + ": " + err.Error())
				}
				n = b
			}
			fs.Bytes(new(uint64), c.name, n, c.help)
		case compatUint:
			var n uint
			if c.def != "" {
				u, err := strconv.ParseUint(c.def, 10, 0)
				if err != nil {
					panic("daemon: default of --" + c.name + ": " + err.Error())
				}
				n = uint(u)
			}
			fs.Uint(new(uint), c.name, n, c.help)
		}
		fs.NoEffect(c.name, c.why)
	}
}

// WarnIneffective logs a warning for each flag that was given but has no
// effect here (see flags.FlagSet.NoEffect), so that an operator who
// relies on one hears of it.
func WarnIneffective(fs *flags.FlagSet, log *slog.Logger) {
	for _, name := range fs.Ineffective() {
		log.Warn("flag --" + name + " is accepted for compatibility with Mesos but has no effect here (see --help)")
	}
}
