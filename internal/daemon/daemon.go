// Package daemon holds what the gomesos binaries share: the logging flags
// (--logging_level, --log_dir, --quiet) on log/slog, the --ip/--port
// address flags, the master address syntax, and waiting for signals.
package daemon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/gomesos/gomesos/detector"
	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Logging is the logging flags of a daemon.
type Logging struct {
	Level string
	Dir   string
	Quiet bool

	level *slog.LevelVar // set by Logger: what /logging/toggle changes
}

// LevelVar is the level of the logger Logger built (nil before): the
// daemon's /logging/toggle changes it for a while.
func (l *Logging) LevelVar() *slog.LevelVar { return l.level }

// Register defines --logging_level, --log_dir and --quiet.
func (l *Logging) Register(fs *flags.FlagSet) {
	fs.String(&l.Level, "logging_level", "INFO", "Log messages at this level or above: INFO, WARNING or ERROR (DEBUG for more).")
	fs.OptString(&l.Dir, "log_dir", "Also write the log to <log_dir>/<program>.log.")
	fs.Bool(&l.Quiet, "quiet", false, "Do not log to stderr.")
}

// File is the log file of program under --log_dir.
func (l *Logging) File(program string) string { return filepath.Join(l.Dir, program+".log") }

// Logger builds the daemon's logger and makes it slog's default. The
// returned function closes the log file.
func (l *Logging) Logger(program string) (*slog.Logger, func(), error) {
	var level slog.Level
	switch strings.ToUpper(l.Level) {
	case "DEBUG", "VERBOSE":
		level = slog.LevelDebug
	case "INFO":
		level = slog.LevelInfo
	case "WARNING", "WARN":
		level = slog.LevelWarn
	case "ERROR":
		level = slog.LevelError
	default:
		return nil, nil, fmt.Errorf("--logging_level: %q is not INFO, WARNING, ERROR or DEBUG", l.Level)
	}
	var outs []io.Writer
	closer := func() {}
	if !l.Quiet {
		outs = append(outs, os.Stderr)
	}
	if l.Dir != "" {
		if err := os.MkdirAll(l.Dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("--log_dir: %w", err)
		}
		f, err := os.OpenFile(l.File(program), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("--log_dir: %w", err)
		}
		outs = append(outs, f)
		closer = func() { _ = f.Close() }
	}
	l.level = new(slog.LevelVar)
	l.level.Set(level)
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(outs...), &slog.HandlerOptions{Level: l.level}))
	slog.SetDefault(logger)
	return logger, closer, nil
}

// Address is the --ip/--port pair (and the advertised ones).
type Address struct {
	IP            string
	IPDiscovery   string
	Port          uint
	AdvertiseIP   string
	AdvertisePort uint
}

// Register defines --ip, --port (with def), --advertise_ip and
// --advertise_port.
func (a *Address) Register(fs *flags.FlagSet, def uint) {
	fs.OptString(&a.IP, "ip", "IP address to listen on (default: all, advertising the host name's address; LIBPROCESS_IP also works).")
	fs.OptString(&a.IPDiscovery, "ip_discovery_command", "Shell command whose output is the IP address to listen on (not with --ip).")
	fs.Uint(&a.Port, "port", def, "Port to listen on.")
	fs.OptString(&a.AdvertiseIP, "advertise_ip", "IP address advertised to reach this daemon (behind NAT).")
	fs.Uint(&a.AdvertisePort, "advertise_port", 0, "Port advertised to reach this daemon (0: the bound port).")
	fs.Check("port", flags.AtMost(&a.Port, 65535))
	fs.Check("advertise_port", flags.AtMost(&a.AdvertisePort, 65535))
}

// Options returns the runtime options for the address flags.
func (a *Address) Options() (process.Options, error) {
	var o process.Options
	ip := netip.IPv4Unspecified()
	if a.IPDiscovery != "" {
		if a.IP != "" {
			return o, errors.New("only one of --ip or --ip_discovery_command may be given")
		}
		out, err := exec.Command("sh", "-c", a.IPDiscovery).Output()
		if err != nil {
			return o, fmt.Errorf("--ip_discovery_command: %w", err)
		}
		a.IP = strings.TrimSpace(string(out))
	}
	if a.IP == "" {
		if env := os.Getenv("LIBPROCESS_IP"); env != "" {
			a.IP = env
		}
	}
	if a.IP != "" {
		p, err := netip.ParseAddr(a.IP)
		if err != nil || !p.Is4() {
			return o, fmt.Errorf("--ip: %q is not an IPv4 address", a.IP)
		}
		ip = p
	}
	if a.Port > 65535 {
		return o, fmt.Errorf("--port: %d is not a port", a.Port)
	}
	o.Bind = netip.AddrPortFrom(ip, uint16(a.Port))
	if a.AdvertiseIP != "" {
		p, err := netip.ParseAddr(a.AdvertiseIP)
		if err != nil || !p.Is4() {
			return o, fmt.Errorf("--advertise_ip: %q is not an IPv4 address", a.AdvertiseIP)
		}
		port := uint16(a.AdvertisePort)
		if port == 0 {
			port = uint16(a.Port)
		}
		o.Advertise = netip.AddrPortFrom(p, port)
	}
	return o, nil
}

// Master is where a --master flag says the master is: a fixed pid, or a
// ZooKeeper group to detect the leader in.
type Master struct {
	PID process.UPID
	ZK  *detector.URL
}

// ParseMaster parses a --master value as Mesos accepts it: `host:port`,
// `master@host:port`, `zk://host:port[,...]/path`, or `file://` holding
// one (already read by the flag parser).
func ParseMaster(s string) (Master, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "zk://") {
		u, err := detector.ParseURL(s)
		if err != nil {
			return Master{}, fmt.Errorf("--master: %w", err)
		}
		return Master{ZK: &u}, nil
	}
	pid, err := MasterPID(s)
	return Master{PID: pid}, err
}

// Follow reports the master to fn: at once for a fixed pid, and on every
// leader change for ZooKeeper (ok false while there is no leader), from
// the ZooKeeper client's goroutine: fn should post to a process, as
// Slave.MasterDetected and Driver.MasterDetected do. The client's retries
// wait on timers (the runtime's Clock). The returned function stops
// following.
func (m Master) Follow(timers future.Timers, log *slog.Logger, fn func(pid process.UPID, ok bool)) (func(), error) {
	if m.ZK == nil {
		fn(m.PID, true)
		return func() {}, nil
	}
	c, err := detector.Connect(*m.ZK, detector.Options{Timers: timers, Logger: log})
	if err != nil {
		return nil, err
	}
	stop := detector.Follow(c.Detector(), func(info *mesos.MasterInfo) {
		if info == nil {
			log.Warn("no leading master in ZooKeeper")
			fn(process.UPID{}, false)
			return
		}
		pid, err := process.ParseUPID(info.GetPid())
		if err != nil {
			log.Error("bad master pid in ZooKeeper", "pid", info.GetPid(), "err", err)
			fn(process.UPID{}, false)
			return
		}
		fn(pid, true)
	})
	return func() {
		stop()
		c.Close()
	}, nil
}

// String is the master as given.
func (m Master) String() string {
	if m.ZK != nil {
		return "zk://" + strings.Join(m.ZK.Servers, ",") + m.ZK.Path
	}
	return m.PID.String()
}

// MasterPID parses a fixed --master value: `host:port` or
// `master@host:port`.
func MasterPID(s string) (process.UPID, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return process.UPID{}, errors.New("--master is required (host:port or zk://host:port/path)")
	}
	if !strings.Contains(s, "@") {
		s = "master@" + s
	}
	id, hostport, _ := strings.Cut(s, "@")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return process.UPID{}, fmt.Errorf("--master=%s: %w", s, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return process.UPID{}, fmt.Errorf("--master=%s: bad port %q", s, port)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		addrs, lerr := net.LookupHost(host)
		if lerr != nil || len(addrs) == 0 {
			return process.UPID{}, fmt.Errorf("--master=%s: cannot resolve %q: %v", s, host, lerr)
		}
		for _, a := range addrs {
			if p, err := netip.ParseAddr(a); err == nil && p.Is4() {
				host = a
				break
			}
		}
	}
	pid, err := process.ParseUPID(id + "@" + net.JoinHostPort(host, port))
	if err != nil {
		return process.UPID{}, fmt.Errorf("--master=%s: %w", s, err)
	}
	return pid, nil
}

// Signals returns a channel that receives SIGTERM, SIGINT, SIGUSR1 and
// SIGQUIT.
func Signals() <-chan os.Signal {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGQUIT)
	return ch
}
