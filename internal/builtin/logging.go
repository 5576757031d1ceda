package builtin

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// SpawnLogging starts the "logging" process: GET
// /logging/toggle?level=N&duration=D raises the daemon's log verbosity to
// level N for duration D (Mesos duration syntax, e.g. 30secs, 5mins), then
// puts back the level the daemon started with. Level 0 is that level;
// every level above 0 logs debug messages too (slog has one level below
// INFO where glog has many). A later toggle replaces an earlier one.
func SpawnLogging(rt *process.Runtime, level *slog.LevelVar) error {
	if level == nil {
		level = new(slog.LevelVar)
	}
	l := &loggingProcess{level: level, original: level.Level()}
	if err := spawnOnce(rt, l, "logging"); err != nil {
		return err
	}
	loggers.mu.Lock()
	if loggers.byRuntime[rt] == nil && l.Self().ID != "" {
		loggers.byRuntime[rt] = l
	}
	loggers.mu.Unlock()
	return nil
}

// loggers finds each runtime's logging process, for the v1 operator APIs.
var loggers = struct {
	mu        sync.Mutex
	byRuntime map[*process.Runtime]*loggingProcess
}{byRuntime: map[*process.Runtime]*loggingProcess{}}

// ErrNoLogging means the runtime runs no logging process.
var ErrNoLogging = errors.New("this daemon does not serve /logging")

func loggingOf(rt *process.Runtime) *loggingProcess {
	loggers.mu.Lock()
	defer loggers.mu.Unlock()
	return loggers.byRuntime[rt]
}

// LoggingLevel returns the verbosity the runtime's logging process holds:
// 0, or the level of a toggle still in force (the v1 operator APIs'
// GET_LOGGING_LEVEL).
func LoggingLevel(rt *process.Runtime) future.Future[uint32] {
	l := loggingOf(rt)
	if l == nil {
		return future.Failed[uint32](ErrNoLogging)
	}
	return process.Dispatch(rt, l.Self(), func() uint32 { return l.verbosity })
}

// SetLoggingLevel raises the verbosity to level for d, as
// /logging/toggle does (the v1 operator APIs' SET_LOGGING_LEVEL).
func SetLoggingLevel(rt *process.Runtime, level uint32, d time.Duration) future.Future[future.Nothing] {
	l := loggingOf(rt)
	if l == nil {
		return future.Failed[future.Nothing](ErrNoLogging)
	}
	return process.Dispatch(rt, l.Self(), func() future.Nothing {
		l.set(level, d)
		return future.Nothing{}
	})
}

type loggingProcess struct {
	process.Process
	level     *slog.LevelVar
	original  slog.Level
	verbosity uint32 // the level of the toggle in force, 0 without one
	revert    *process.Timer
}

func (l *loggingProcess) Initialize() {
	l.Route("/toggle", "Sets the logging verbosity level for a specified duration: level=<N>&duration=<D>.", l.toggle)
}

// Finalize forgets the process.
func (l *loggingProcess) Finalize() {
	loggers.mu.Lock()
	if loggers.byRuntime[l.Runtime()] == l {
		delete(loggers.byRuntime, l.Runtime())
	}
	loggers.mu.Unlock()
}

func (l *loggingProcess) toggle(r *http.Request) future.Future[*process.Response] {
	q := r.URL.Query()
	if q.Get("level") == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'level' in query")
	}
	if q.Get("duration") == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'duration' in query")
	}
	n, err := strconv.ParseUint(q.Get("level"), 10, 32)
	if err != nil {
		return process.Status(http.StatusBadRequest, "Invalid level '"+q.Get("level")+"'")
	}
	d, err := flags.ParseDuration(q.Get("duration"))
	if err != nil || d <= 0 {
		return process.Status(http.StatusBadRequest, "Invalid duration '"+q.Get("duration")+"'")
	}
	l.set(uint32(n), d)
	return process.Status(http.StatusOK, "")
}

// set puts the verbosity at n for d, then back.
func (l *loggingProcess) set(n uint32, d time.Duration) {
	target := l.original
	if n > 0 && target > slog.LevelDebug {
		target = slog.LevelDebug
	}
	l.level.Set(target)
	l.verbosity = n
	l.Clock().Cancel(l.revert)
	l.revert = l.Delay(d, func() {
		l.level.Set(l.original)
		l.verbosity = 0
	})
}
