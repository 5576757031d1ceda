package daemon

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/executor"
	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
)

// SlaveFlags are mesos-slave's flags (also used by mesos-local).
type SlaveFlags struct {
	Master                        string
	Hostname                      string
	WorkDir                       string
	Resources                     string
	Attributes                    string
	Isolation                     string
	LauncherDir                   string
	Recover                       string
	Strict                        bool
	RecoveryTimeout               time.Duration
	ExecutorRegistrationTimeout   time.Duration
	ExecutorReregistrationTimeout time.Duration
	HTTPCommandExecutor           bool
	ExecutorShutdownGracePeriod   time.Duration
	RegistrationBackoffFactor     time.Duration
	GCDelay                       time.Duration
	DiskWatchInterval             time.Duration
	GCDiskHeadroom                float64
	FetcherCacheDir               string
	FetcherCacheSize              uint64
	CgroupsRoot                   string
	CgroupsEnableCFS              bool
	SwitchUser                    bool
	Credential                    string
	Authenticatee                 string

	// Containerizers (issue 15).
	Containerizers        string
	ContainerizerPath     string
	DefaultContainerImage string
	DockerSocket          string
	DockerRemoveDelay     time.Duration
	DockerKillOrphans     bool
	DockerStopTimeout     time.Duration
	DockerMesosImage      string
	Modules               string
	Hooks                 string
	ContainerLogger       string
	// Oversubscription (see slave/oversubscription.go).
	ResourceEstimator               string
	ResourceEstimatorParams         string
	OversubscribedResources         string
	OversubscribedResourcesInterval time.Duration
	QoSController                   string
	QoSControllerParams             string
	QoSCorrectionIntervalMin        time.Duration
	DefaultRole                     string
	ExternalLogFile                 string
	ExecutorEnvironmentVariables    string
}

// Register defines the slave flags. withMaster adds --master (mesos-local
// has its own master).
func (s *SlaveFlags) Register(fs *flags.FlagSet, withMaster bool) {
	if withMaster {
		fs.OptString(&s.Master, "master", "The master: host:port, master@host:port, zk://host:port[,...]/path, or file:// holding one.")
	}
	fs.OptString(&s.Hostname, "hostname", "Host name the slave reports (default: its IP).")
	fs.String(&s.WorkDir, "work_dir", "/tmp/mesos", "Directory for sandboxes and checkpoints.")
	fs.OptString(&s.Resources, "resources", "Total resources, e.g. cpus:4;mem:8192;disk:40960;ports:[31000-32000] or JSON; what is left out is detected from the machine.")
	fs.OptString(&s.Attributes, "attributes", "Attributes of the machine, e.g. rack:r1;zone:west.")
	fs.String(&s.Isolation, "isolation", "posix/cpu,posix/mem", "Isolators (modules of kind Isolator): posix/cpu, posix/mem, cgroups/cpu, cgroups/mem, or ones linked into a custom build (see --modules); or external (deprecated: the external containerizer in place of mesos).")
	fs.OptString(&s.LauncherDir, "launcher_dir", "Directory of mesos-executor (default: the directory of this binary).")
	fs.String(&s.Recover, "recover", "reconnect", "On restart: reconnect to live executors, or cleanup (kill them and exit).")
	fs.Bool(&s.Strict, "strict", true, "Fail recovery on any error in the checkpointed state (false: skip what cannot be read).")
	fs.Duration(&s.RecoveryTimeout, "recovery_timeout", 15*time.Minute, "How long executors wait for a restarted slave before exiting.")
	fs.Duration(&s.ExecutorRegistrationTimeout, "executor_registration_timeout", time.Minute, "Destroy executors that have not registered by then.")
	fs.Duration(&s.ExecutorReregistrationTimeout, "executor_reregistration_timeout", 2*time.Second, "How long a recovered slave waits for executors to re-register.")
	fs.Bool(&s.HTTPCommandExecutor, "http_command_executor", false, "The command executor speaks the v1 executor HTTP API (/api/v1/executor) instead of libprocess messages.")
	fs.Duration(&s.ExecutorShutdownGracePeriod, "executor_shutdown_grace_period", 5*time.Second, "Time executors get to shut down before they are killed.")
	fs.Duration(&s.RegistrationBackoffFactor, "registration_backoff_factor", time.Second, "Registration retries wait a random time up to this, doubling up to 1 minute.")
	fs.Duration(&s.GCDelay, "gc_delay", 7*24*time.Hour, "Longest time a finished sandbox is kept.")
	fs.Duration(&s.DiskWatchInterval, "disk_watch_interval", time.Minute, "Interval between disk usage checks that shorten --gc_delay.")
	fs.Float64(&s.GCDiskHeadroom, "gc_disk_headroom", 0.1, "Fraction of the disk to keep free by collecting sandboxes sooner.")
	fs.String(&s.FetcherCacheDir, "fetcher_cache_dir", "/tmp/mesos/fetch", "Parent directory of the fetcher cache.")
	fs.Bytes(&s.FetcherCacheSize, "fetcher_cache_size", 2<<30, "Size of the fetcher cache.")
	fs.String(&s.CgroupsRoot, "cgroups_root", "mesos", "Name of the root cgroup of containers.")
	fs.Bool(&s.CgroupsEnableCFS, "cgroups_enable_cfs", false, "Cap CPU with CFS bandwidth limits (cgroups/cpu).")
	fs.OptString(&s.Credential, "credential", "Path (or file://) of this slave's credential: `principal secret` or JSON {\"principal\":..,\"secret\":..}; the slave authenticates before registering.")
	fs.String(&s.Authenticatee, "authenticatee", crammd5.Name, "Authentication mechanism with the master: a module of kind Authenticatee, crammd5 (built in) or one linked into a custom build (see --modules).")
	fs.Bool(&s.SwitchUser, "switch_user", true, "Run executors as the framework's user (when the slave runs as root).")
	// Containerizers.
	fs.String(&s.Containerizers, "containerizers", "mesos", "Containerizers tried in order for each container: mesos, external, docker.")
	fs.OptString(&s.ContainerizerPath, "containerizer_path", "The external containerizer program (with --containerizers=external or --isolation=external).")
	fs.OptString(&s.DefaultContainerImage, "default_container_image", "Default container image, given to the external containerizer on launch.")
	fs.String(&s.DockerSocket, "docker_socket", "/var/run/docker.sock", "The Docker Engine's socket (--containerizers=docker).")
	fs.Duration(&s.DockerRemoveDelay, "docker_remove_delay", 6*time.Hour, "How long a stopped docker container is kept before it is removed.")
	fs.Bool(&s.DockerKillOrphans, "docker_kill_orphans", true, "At recovery, remove this slave's docker containers it does not know of.")
	fs.Duration(&s.DockerStopTimeout, "docker_stop_timeout", 0, "Time between SIGTERM and SIGKILL when a docker container is stopped.")
	fs.OptString(&s.DockerMesosImage, "docker_mesos_image", "The Docker image this slave itself runs in. The host side of docker containers (the command executors of docker tasks, and the runners of executors in images) then runs in containers of this image (host network; the sandbox and --docker_socket bound at their host paths; mesos-executor at its --launcher_dir path in the image) instead of as the slave's children, so that it outlives the slave's container; a restarted slave adopts them through the Engine.")
	fs.OptString(&s.Modules, "modules", "Modules and their parameters: Mesos's JSON ({\"libraries\":[{\"modules\":[{\"name\":..,\"parameters\":[{\"key\":..,\"value\":..}]}]}]}), inline or a file. Modules are Go packages linked into the binary (see package modules); --hooks, --isolation, --authenticatee, --resource_estimator, --qos_controller and --container_logger name them. An unknown name fails start-up with the list of known ones.")
	fs.OptString(&s.Hooks, "hooks", "Slave hook modules (kind Hook), comma-separated, in the order they run.")
	fs.OptString(&s.ContainerLogger, "container_logger", "Container logger module (kind ContainerLogger) that gives the Mesos containerizer's containers their stdout and stderr; default: sandbox (built in), the files stdout and stderr of the sandbox.")

	fs.OptString(&s.ResourceEstimator, "resource_estimator", "Resource estimator for oversubscription (a module of kind ResourceEstimator): noop, fixed (alias org_apache_mesos_FixedResourceEstimator; revocable resources from its parameter resources, or --oversubscribed_resources) or one linked into a custom build (see --modules).")
	fs.OptString(&s.ResourceEstimatorParams, "resource_estimator_params", "Parameters of the resource estimator, over those --modules gives it: key=value pairs separated by , or ;, or, without =, the fixed estimator's resources (as --oversubscribed_resources).")
	fs.OptString(&s.OversubscribedResources, "oversubscribed_resources", "Resources the fixed estimator offers as revocable, e.g. cpus:2;mem:512 (implies --resource_estimator=fixed).")
	fs.Duration(&s.OversubscribedResourcesInterval, "oversubscribed_resources_interval", 15*time.Second, "Interval between polls of the resource estimator.")
	fs.OptString(&s.QoSController, "qos_controller", "QoS controller (a module of kind QoSController): noop, load (alias org_apache_mesos_LoadQoSController; kills executors using revocable resources when the load average passes its parameters load_threshold_5min or load_threshold_15min) or one linked into a custom build (see --modules).")
	fs.OptString(&s.QoSControllerParams, "qos_controller_params", "Parameters of the QoS controller, over those --modules gives it: key=value pairs separated by , or ; (load: load_threshold_5min=X,load_threshold_15min=Y).")
	fs.Duration(&s.QoSCorrectionIntervalMin, "qos_correction_interval_min", 0, "Smallest interval between QoS corrections (at least 100ms).")
	fs.String(&s.DefaultRole, "default_role", "*", "Role of the resources given without one in --resources and of those detected.")
	fs.OptString(&s.ExternalLogFile, "external_log_file", "Log file of this slave written by something else (its stderr captured by a supervisor), served at /files/read?path=/slave/log when there is no --log_dir.")
	fs.OptString(&s.ExecutorEnvironmentVariables, "executor_environment_variables", "JSON object of the environment variables executors (and their tasks) get in place of the slave's own, e.g. {\"PATH\":\"/bin:/usr/bin\"} (or a path, or file://, holding it). Default: the slave's PATH, HOME, USER, TMPDIR and LANG.")
	registerCompat(fs, sharedCompat)
	registerCompat(fs, slaveCompat)
	fs.Check("recovery_timeout", flags.Positive(&s.RecoveryTimeout))
	fs.Check("executor_registration_timeout", flags.Positive(&s.ExecutorRegistrationTimeout))
	fs.Check("executor_reregistration_timeout", flags.Positive(&s.ExecutorReregistrationTimeout))
	fs.Check("disk_watch_interval", flags.Positive(&s.DiskWatchInterval))
	fs.Check("gc_disk_headroom", flags.Between(&s.GCDiskHeadroom, 0, 1))
}

// Config returns the slave configuration for master.
func (s *SlaveFlags) Config(master process.UPID, log *slog.Logger) (slave.Config, error) {
	launcher, err := launcherDir(s.LauncherDir, s.WorkDir, log)
	if err != nil {
		return slave.Config{}, err
	}
	mods, err := modules.Parse(s.Modules)
	if err != nil {
		return slave.Config{}, err
	}
	authn, err := modules.New[auth.Authenticatee](mods, modules.KindAuthenticatee, s.Authenticatee, nil)
	if err != nil {
		return slave.Config{}, fmt.Errorf("--authenticatee: %w", err)
	}
	var cred *mesos.Credential
	if s.Credential != "" {
		data, err := readValueOrFile(s.Credential)
		if err != nil {
			return slave.Config{}, fmt.Errorf("--credential: %w", err)
		}
		p, secret, err := crammd5.ParseCredential(data)
		if err != nil {
			return slave.Config{}, fmt.Errorf("--credential: %w", err)
		}
		cred = &mesos.Credential{Principal: proto.String(p), Secret: proto.String(secret)}
	}
	var execEnv map[string]string
	if s.ExecutorEnvironmentVariables != "" {
		if execEnv, err = parseEnvironment(s.ExecutorEnvironmentVariables); err != nil {
			return slave.Config{}, err
		}
	}
	if s.Isolation != "external" {
		for _, n := range strings.Split(s.Isolation, ",") {
			if n = strings.TrimSpace(n); n == "" {
				continue
			}
			if _, err := modules.New[containerizer.IsolatorFactory](mods, modules.KindIsolator, n, nil); err != nil {
				return slave.Config{}, fmt.Errorf("--isolation: %w", err)
			}
		}
	}
	hooks, err := mods.Hooks(s.Hooks)
	if err != nil {
		return slave.Config{}, err
	}
	estName, estParams := s.ResourceEstimator, s.ResourceEstimatorParams
	if s.OversubscribedResources != "" {
		if estName != "" && estName != "fixed" {
			return slave.Config{}, fmt.Errorf("--oversubscribed_resources needs --resource_estimator=fixed, not %s", estName)
		}
		estName, estParams = "fixed", s.OversubscribedResources
	}
	var est slave.ResourceEstimator
	if estName != "" {
		if est, err = slave.NewResourceEstimator(mods, estName, estParams); err != nil {
			return slave.Config{}, fmt.Errorf("--resource_estimator: %w", err)
		}
		if _, noop := est.(slave.NoopEstimator); noop {
			est = nil // nothing to poll
		}
	}
	var qos slave.QoSController
	if s.QoSController != "" {
		if qos, err = slave.NewQoSController(mods, s.QoSController, s.QoSControllerParams); err != nil {
			return slave.Config{}, fmt.Errorf("--qos_controller: %w", err)
		}
		if _, noop := qos.(slave.NoopQoSController); noop {
			qos = nil
		}
	}
	logger, err := containerizer.NewContainerLogger(mods, s.ContainerLogger)
	if err != nil {
		return slave.Config{}, fmt.Errorf("--container_logger: %w", err)
	}
	return slave.Config{
		Modules:                         mods,
		Hooks:                           hooks,
		ContainerLogger:                 logger,
		Authenticatee:                   authn,
		ExecutorEnvironment:             execEnv,
		ResourceEstimator:               est,
		OversubscribedResourcesInterval: s.OversubscribedResourcesInterval,
		QoSController:                   qos,
		QoSCorrectionInterval:           s.QoSCorrectionIntervalMin,
		DefaultRole:                     s.DefaultRole,
		Credential:                      cred,
		Master:                          master, Resources: s.Resources, Attributes: s.Attributes, Hostname: s.Hostname,
		WorkDir: s.WorkDir, LauncherDir: launcher, Isolation: s.Isolation,
		RegistrationBackoffFactor:     s.RegistrationBackoffFactor,
		ExecutorRegistrationTimeout:   s.ExecutorRegistrationTimeout,
		ExecutorShutdownGracePeriod:   s.ExecutorShutdownGracePeriod,
		Recover:                       s.Recover,
		Strict:                        s.Strict,
		RecoveryTimeout:               s.RecoveryTimeout,
		ExecutorReregistrationTimeout: s.ExecutorReregistrationTimeout,
		HTTPCommandExecutor:           s.HTTPCommandExecutor,
		GCDelay:                       s.GCDelay,
		DiskWatchInterval:             s.DiskWatchInterval,
		GCDiskHeadroom:                s.GCDiskHeadroom,
		FetcherCacheDir:               s.FetcherCacheDir,
		FetcherCacheSize:              s.FetcherCacheSize,
		CgroupsRoot:                   s.CgroupsRoot,
		CgroupsEnableCFS:              s.CgroupsEnableCFS,
		SwitchUser:                    s.SwitchUser,
		Containerizers:                s.Containerizers,
		ContainerizerPath:             s.ContainerizerPath,
		DefaultContainerImage:         s.DefaultContainerImage,
		DockerSocket:                  s.DockerSocket,
		DockerRemoveDelay:             s.DockerRemoveDelay,
		DockerKillOrphans:             s.DockerKillOrphans,
		DockerStopTimeout:             s.DockerStopTimeout,
		DockerMesosImage:              s.DockerMesosImage,
	}, nil
}

// launcherDir finds mesos-executor: in dir if given, else beside this
// binary; when it is not there, this binary itself serves as the command
// executor (it must call RunAsExecutor first thing in main) through a
// link in work_dir.
func launcherDir(dir, workDir string, log *slog.Logger) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "mesos-executor")); err != nil {
			return "", fmt.Errorf("--launcher_dir=%s: no mesos-executor there: %w", dir, err)
		}
		return dir, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this binary: %w", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(self), "mesos-executor")); err == nil {
		return filepath.Dir(self), nil
	}
	bin := filepath.Join(workDir, "bin")
	link := filepath.Join(bin, "mesos-executor")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", fmt.Errorf("launcher dir: %w", err)
	}
	_ = os.Remove(link)
	if err := os.Symlink(self, link); err != nil {
		return "", fmt.Errorf("launcher dir: %w", err)
	}
	log.Info("no mesos-executor beside this binary; it serves as the command executor", "launcher_dir", bin)
	return bin, nil
}

// RunAsExecutor runs the command executor and exits when this binary was
// started as mesos-executor (see launcherDir).
func RunAsExecutor() {
	if filepath.Base(os.Args[0]) == "mesos-executor" {
		os.Exit(executor.RunCommandExecutor())
	}
}

// SlaveMain is the whole of mesos-slave (and mesos-agent): flags, logging,
// the runtime and the slave, then signals. SIGTERM, SIGINT and SIGUSR1
// shut the slave down cleanly (executors shut down, UnregisterSlaveMessage
// to the master); SIGQUIT ends it without either, leaving checkpointing
// executors running for a restarted slave to recover.
func SlaveMain(program string, args, environ []string) int {
	fs := flags.New(program, "Runs a Mesos slave (agent).")
	var addr Address
	var logging Logging
	var sf SlaveFlags
	addr.Register(fs, 5051)
	logging.Register(fs)
	sf.Register(fs, true)
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
	master, err := ParseMaster(sf.Master)
	if err != nil {
		return fail(err)
	}
	cfg, err := sf.Config(master.PID, log)
	if err != nil {
		return fail(err)
	}
	cfg.Flags = fs.Values()
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
	cz, err := slave.Containerizers(rt, cfg)
	if err != nil {
		return fail(err)
	}
	cfg.Containerizer = cz
	s := slave.New(cfg)
	pid, err := s.Start(rt)
	if err != nil {
		return fail(err)
	}
	log.Info("slave started", "pid", pid.String(), "master", master.String(), "work_dir", cfg.WorkDir)
	// As in Mesos, requests that name no process go to the slave:
	// /api/v1 and /state as well as /slave(1)/api/v1 and /slave(1)/state.
	rt.SetDelegate(pid.ID)
	Builtins(rt, log, &logging)
	if logging.Dir != "" {
		slave.AttachLog(rt, logging.File(program))
	} else if sf.ExternalLogFile != "" {
		slave.AttachLog(rt, sf.ExternalLogFile)
	}
	if master.ZK != nil {
		stop, err := master.Follow(rt.Clock(), log, s.MasterDetected)
		if err != nil {
			return fail(err)
		}
		defer stop()
	}
	signals := Signals()
	done := s.Done().Done()
	select {
	case <-done:
		log.Info("slave terminated")
		return 0
	case sig := <-signals:
		if sig == syscall.SIGQUIT {
			log.Info("leaving executors running for recovery", "signal", sig.String())
			s.Detach()
		} else {
			log.Info("shutting down", "signal", sig.String())
			s.Stop()
		}
	}
	<-done
	return 0
}

// parseEnvironment reads --executor_environment_variables: a JSON object
// of string values, inline or in a file.
func parseEnvironment(value string) (map[string]string, error) {
	data, err := readValueOrFile(value)
	if err != nil {
		return nil, fmt.Errorf("--executor_environment_variables: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("--executor_environment_variables: not a JSON object: %w", err)
	}
	env := make(map[string]string, len(raw))
	for k, v := range raw {
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("--executor_environment_variables: the value of %q is not a string", k)
		}
		env[k] = str
	}
	return env, nil
}
