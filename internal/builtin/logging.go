package builtin

import (
	"log/slog"
	"net/http"
	"strconv"

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
	return spawnOnce(rt, &loggingProcess{level: level, original: level.Level()}, "logging")
}

type loggingProcess struct {
	process.Process
	level    *slog.LevelVar
	original slog.Level
	revert   *process.Timer
}

func (l *loggingProcess) Initialize() {
	l.Route("/toggle", "Sets the logging verbosity level for a specified duration: level=<N>&duration=<D>.", l.toggle)
}

func (l *loggingProcess) toggle(r *http.Request) future.Future[*process.Response] {
	q := r.URL.Query()
	if q.Get("level") == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'level' in query")
	}
	if q.Get("duration") == "" {
		return process.Status(http.StatusBadRequest, "Expecting 'duration' in query")
	}
	n, err := strconv.Atoi(q.Get("level"))
	if err != nil || n < 0 {
		return process.Status(http.StatusBadRequest, "Invalid level '"+q.Get("level")+"'")
	}
	d, err := flags.ParseDuration(q.Get("duration"))
	if err != nil || d <= 0 {
		return process.Status(http.StatusBadRequest, "Invalid duration '"+q.Get("duration")+"'")
	}
	target := l.original
	if n > 0 && target > slog.LevelDebug {
		target = slog.LevelDebug
	}
	l.level.Set(target)
	l.Clock().Cancel(l.revert)
	l.revert = l.Delay(d, func() { l.level.Set(l.original) })
	return process.Status(http.StatusOK, "")
}
