package daemon

import (
	"log/slog"
	"os"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/process"
)

// Builtins starts what every daemon serves besides its own routes:
// /help, /version, /system/stats.json (and the system/* metrics) and
// /logging/toggle on the logging's level, and /profiler/start and /stop
// (enabled by LIBPROCESS_ENABLE_PROFILER=1, as in libprocess). A process already running (the
// master spawns the first three too) is left as it is.
func Builtins(rt *process.Runtime, log *slog.Logger, logging *Logging) {
	for name, spawn := range map[string]func() error{
		"/help":              func() error { return builtin.SpawnHelp(rt) },
		"/version":           func() error { return builtin.SpawnVersion(rt, flags.Version) },
		"/system/stats.json": func() error { return builtin.SpawnSystem(rt) },
		"/logging/toggle":    func() error { return builtin.SpawnLogging(rt, logging.LevelVar()) },
		"/profiler":          func() error { return builtin.SpawnProfiler(rt, os.Getenv(builtin.ProfilerEnv) == "1") },
	} {
		if err := spawn(); err != nil {
			log.Error("cannot serve "+name, "err", err)
		}
	}
}
