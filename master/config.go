package master

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gomesos/gomesos/auth"
	"github.com/gomesos/gomesos/auth/acls"
	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process/metrics"
)

// Config holds the master's settings; the mesos-master flags map onto it.
// The zero value is completed by Defaults.
type Config struct {
	// Hostname advertised in MasterInfo and offers' URLs; default: the IP.
	Hostname string
	// Cluster is the human-readable cluster name shown in /state.
	Cluster string
	// AllocationInterval is the batch interval of the allocator (1 s).
	AllocationInterval time.Duration
	// OfferTimeout rescinds offers not answered in time; 0 means never.
	OfferTimeout time.Duration
	// SlavePingTimeout is the interval and timeout of slave pings (15 s).
	SlavePingTimeout time.Duration
	// MaxSlavePingTimeouts is how many pings may go unanswered (5).
	MaxSlavePingTimeouts int
	// SlaveRemovalRateLimit limits removals of slaves that failed health
	// checks, as `N/duration` (e.g. `1/10mins`); empty means no limit.
	SlaveRemovalRateLimit string
	// Roles, if not empty, is the whitelist of framework roles.
	Roles []string
	// Weights of roles for DRF (`role=weight`); unlisted roles weigh 1.
	Weights map[string]float64
	// Allocator names the allocator (--allocator): a module of kind
	// Allocator (package modules), HierarchicalDRF by default.
	Allocator string
	// Modules is --modules: the parameters of the modules the master
	// builds by name (the allocator); nil gives none.
	Modules *modules.Config
	// Hooks (--hooks, built by package modules) decorate the labels of
	// the tasks the master launches.
	Hooks []modules.Hook
	// WorkDir is where the registry would be kept (flag only for now).
	WorkDir string
	// Flags is the flag set as given, served by /master/flags.
	Flags map[string]string
	// Version is the Mesos version this master reports.
	Version string
	// Authenticate requires frameworks to authenticate (CRAM-MD5) before
	// they register (--authenticate); AuthenticateSlaves the same for
	// slaves (--authenticate_slaves). Credentials are the principals and
	// secrets accepted (--credentials).
	Authenticate       bool
	AuthenticateSlaves bool
	Credentials        map[string]string
	// Authenticator runs the master's side of framework and slave
	// authentication (--authenticators, a module of kind Authenticator);
	// nil is CRAM-MD5. Start gives it Credentials.
	Authenticator auth.Authenticator
	// AuthenticateHTTP makes every operator endpoint that Mesos
	// authenticates (/state, /flags, /teardown, /reserve ...) require
	// HTTP Basic credentials from Credentials (--authenticate_http);
	// without it only the endpoints that change the cluster do, and only
	// when there are Credentials. AuthenticateHTTPFrameworks makes v1
	// HTTP frameworks authenticate (--authenticate_http_frameworks; also
	// done by Authenticate).
	AuthenticateHTTP           bool
	AuthenticateHTTPFrameworks bool
	// NoRootSubmissions refuses frameworks whose user is root
	// (--no-root_submissions).
	NoRootSubmissions bool
	// Authorizer, when set, checks the register_frameworks, run_tasks and
	// shutdown_frameworks ACLs (--acls); nil allows everything.
	Authorizer *acls.Authorizer
	// Registry persists the admitted slaves (--registry=replicated_log:
	// registrar.File, or detector.Registry with ZooKeeper); nil keeps
	// them in memory only (--registry=in_memory).
	Registry registrar.Storage
	// RegistryStoreTimeout (20 s) bounds the retries of a failing
	// registry store; past it the master exits
	// (--registry_store_timeout).
	RegistryStoreTimeout time.Duration
	// RegistryFetchTimeout (1 min) bounds the retries of a failing
	// registry load at election; past it the master exits
	// (--registry_fetch_timeout).
	RegistryFetchTimeout time.Duration
	// RegistryStrict makes the registry reject operations that do not fit
	// it (readmitting a slave it does not hold, admitting one it holds),
	// and the master refuse re-registering slaves it does not hold, even
	// with the in-memory registry (--registry_strict).
	RegistryStrict bool
	// SlaveReregisterTimeout (10 min, also the minimum) is how long a new
	// leading master waits for the registry's slaves to re-register;
	// RecoverySlaveRemovalLimit is the largest fraction of them it will
	// then remove: above it, it exits instead (0 or above 1 means 1, i.e.
	// 100%; a negative value means 0%: any missing slave makes it exit).
	SlaveReregisterTimeout    time.Duration
	RecoverySlaveRemovalLimit float64
	// Contender, when set, enters the master into an election (ZooKeeper,
	// or an in-memory detector.Group): it drops messages until elected,
	// and exits when its leadership or candidacy is lost. Nil: the master
	// leads at once (standalone).
	Contender detector.Contender
	// Detector, when set, tells a standby master who leads, for /state and
	// /redirect.
	Detector detector.Detector
	// RateLimits, when set, throttles the messages and v1 calls of
	// frameworks per principal (--rate_limits); nil throttles nothing.
	RateLimits *RateLimits
	// WebUI, if set, is served at / and /static/ (the web UI).
	WebUI http.Handler
}

// Defaults fills unset fields with Mesos's defaults.
func (c *Config) Defaults() {
	if c.AllocationInterval <= 0 {
		c.AllocationInterval = time.Second
	}
	if c.SlavePingTimeout <= 0 {
		c.SlavePingTimeout = 15 * time.Second
	}
	if c.MaxSlavePingTimeouts <= 0 {
		c.MaxSlavePingTimeouts = 5
	}
	if c.Allocator == "" {
		c.Allocator = "HierarchicalDRF"
	}
	if c.Version == "" {
		c.Version = "1.0.0"
	}
	if c.SlaveReregisterTimeout < DefaultSlaveReregisterTimeout {
		c.SlaveReregisterTimeout = DefaultSlaveReregisterTimeout
	}
	if c.RegistryStoreTimeout <= 0 {
		c.RegistryStoreTimeout = registrar.DefaultStoreTimeout
	}
	if c.RegistryFetchTimeout <= 0 {
		c.RegistryFetchTimeout = registrar.DefaultFetchTimeout
	}
	if c.RecoverySlaveRemovalLimit == 0 || c.RecoverySlaveRemovalLimit > 1 {
		c.RecoverySlaveRemovalLimit = 1
	}
}

// RateLimit is a parsed `N/duration` limit: at most Permits per Per.
type RateLimit struct {
	Permits int
	Per     time.Duration
}

// ParseRateLimit parses `N/duration`, the duration in Mesos syntax
// (`10mins`, `30secs`) or Go syntax.
func ParseRateLimit(s string) (RateLimit, error) {
	n, d, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return RateLimit{}, fmt.Errorf("rate limit %q: want N/duration", s)
	}
	permits, err := strconv.Atoi(n)
	if err != nil || permits <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: %q is not a positive count", s, n)
	}
	per, err := metrics.ParseDuration(d)
	if err != nil || per <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: bad duration %q", s, d)
	}
	return RateLimit{Permits: permits, Per: per}, nil
}
