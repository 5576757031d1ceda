package builtin

import (
	"bytes"
	"net/http"
	"runtime/pprof"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// ProfilerEnv is the environment variable that enables the profiler
// routes, as in libprocess: LIBPROCESS_ENABLE_PROFILER=1.
const ProfilerEnv = "LIBPROCESS_ENABLE_PROFILER"

// SpawnProfiler starts the "profiler" process: POST or GET
// /profiler/start begins a CPU profile of the whole daemon and
// /profiler/stop ends it and answers the profile in pprof's format
// (`curl -o cpu.pprof .../profiler/stop; go tool pprof cpu.pprof`), where
// libprocess answers a gperftools file. Unless enabled, both routes answer
// 400 and say how to enable them: a profile costs CPU and shows internals,
// so an operator turns it on when starting the daemon.
func SpawnProfiler(rt *process.Runtime, enabled bool) error {
	return spawnOnce(rt, &profilerProcess{enabled: enabled}, "profiler")
}

type profilerProcess struct {
	process.Process
	enabled bool
	out     *bytes.Buffer // the running profile's output; nil when stopped
}

func (p *profilerProcess) Initialize() {
	p.Route("/start", "Starts a CPU profile of this daemon (needs "+ProfilerEnv+"=1 in its environment).", p.start)
	p.Route("/stop", "Stops the CPU profile and answers it in pprof's format.", p.stop)
}

// disabled is the answer of both routes when the profiler is off.
func disabled() future.Future[*process.Response] {
	return process.Status(http.StatusBadRequest,
		"The profiler is disabled: start the daemon with "+ProfilerEnv+"=1 in its environment.")
}

func (p *profilerProcess) start(*http.Request) future.Future[*process.Response] {
	if !p.enabled {
		return disabled()
	}
	if p.out != nil {
		return process.Status(http.StatusBadRequest, "The profiler is already running.")
	}
	out := &bytes.Buffer{}
	if err := pprof.StartCPUProfile(out); err != nil {
		// Another profile of this OS process (a second runtime, a test's
		// -cpuprofile) holds Go's one CPU profiler.
		return process.Status(http.StatusConflict, "Cannot start the profiler: "+err.Error())
	}
	p.out = out
	return process.Status(http.StatusOK, "Profiler started.")
}

func (p *profilerProcess) stop(*http.Request) future.Future[*process.Response] {
	if !p.enabled {
		return disabled()
	}
	if p.out == nil {
		return process.Status(http.StatusBadRequest, "The profiler is not running.")
	}
	pprof.StopCPUProfile()
	body := p.out.Bytes()
	p.out = nil
	return future.Ready(&process.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/octet-stream"}},
		Body:   body,
	})
}
