package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gomesos/gomesos/actor/baseline"
	"github.com/gomesos/gomesos/internal/mesosgo"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// pinger answers each Int64Value with the next one until n, then
// completes done.
type pinger struct {
	process.Process
	n    int64
	done *future.Promise[time.Time]
}

func (p *pinger) Initialize() {
	process.Install(&p.Process, func(from process.UPID, m *wrapperspb.Int64Value) {
		if p.done != nil && m.Value >= p.n {
			p.done.Set(time.Now())
			return
		}
		_ = p.Send(from, wrapperspb.Int64(m.Value+1))
	})
}

// localPingPong: strict ping-pong in one runtime versus raw protoactor-go,
// alternating runs so that noise hits both.
func localPingPong(cfg config) (string, error) {
	n := int64(cfg.n)
	if n <= 0 {
		n = 200000
	}
	rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:1"), Logger: quiet})
	if err != nil {
		return "", err
	}
	defer rt.Close()
	var ours, raw []float64
	for i := 0; i < cfg.runs; i++ {
		done := future.NewPromise[time.Time]()
		a, err := rt.Spawn(&pinger{n: n, done: done}, rt.GenerateID("ping"))
		if err != nil {
			return "", err
		}
		b, err := rt.Spawn(&pinger{n: n}, rt.GenerateID("pong"))
		if err != nil {
			return "", err
		}
		start := time.Now()
		_ = rt.Send(a, b, wrapperspb.Int64(0))
		end, _ := done.Future().Get()
		ours = append(ours, float64(n)/end.Sub(start).Seconds())
		rt.Terminate(a)
		rt.Terminate(b)
		raw = append(raw, baseline.PingPong(n/2))
	}
	o, r := summarize(ours), summarize(raw)
	return kv("ours_msgs_per_sec", o.median, "protoactor_msgs_per_sec", r.median, "ratio", o.median/r.median,
		"ours_min", o.min, "ours_max", o.max), nil
}

// settleIdle: wall time of Settle on an idle paused runtime.
func settleIdle(cfg config) (string, error) {
	rt, err := process.New(process.Options{NoNetwork: true, Bind: netip.MustParseAddrPort("127.0.0.1:1"), Logger: quiet, Testing: true})
	if err != nil {
		return "", err
	}
	defer rt.Close()
	rt.Clock().Pause()
	const reps = 10000
	var us []float64
	for i := 0; i < cfg.runs; i++ {
		start := time.Now()
		for j := 0; j < reps; j++ {
			rt.Clock().Settle()
		}
		us = append(us, float64(time.Since(start).Microseconds())/reps)
	}
	s := summarize(us)
	return kv("idle_us", s.median, "max_us", s.max), nil
}

const (
	sinkEnv  = "GOMESOS_BENCH_SINK"
	pingName = "mesos.internal.PingSlaveMessage"
	pongName = "mesos.internal.PongSlaveMessage"
)

var pingBody = []byte{0x08, 0x01}

// runSink is the other OS process of remote-stream: it counts pings and
// answers the N-th with a pong.
func runSink() {
	n, _ := strconv.Atoi(os.Getenv(sinkEnv))
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	count := 0
	s := &rawProc{init: func(p *rawProc) {
		p.InstallRaw(pingName, func(from process.UPID, _ []byte) error {
			count++
			if count%n == 0 {
				p.Runtime().Post(p.Self(), from, pongName, nil)
			}
			return nil
		})
	}}
	pid, err := rt.Spawn(s, "sink")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("UPID %s\n", pid)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
}

type rawProc struct {
	process.Process
	init func(p *rawProc)
}

func (p *rawProc) Initialize() { p.init(p) }

// remoteStream: a one-way stream between two OS processes over loopback,
// ours versus mesos-go 0.0.6's messenger.
func remoteStream(cfg config) (string, error) {
	n := cfg.n
	if n <= 0 {
		n = 400000
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), sinkEnv+"="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start sink: %w", err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read sink UPID: %w", err)
	}
	sinkPID, err := process.ParseUPID(strings.TrimPrefix(strings.TrimSpace(line), "UPID "))
	if err != nil {
		return "", err
	}
	rt, err := process.New(process.Options{Bind: netip.MustParseAddrPort("127.0.0.1:0"), Logger: quiet})
	if err != nil {
		return "", err
	}
	defer rt.Close()
	pongs := make(chan struct{}, 1)
	src, err := rt.Spawn(&rawProc{init: func(p *rawProc) {
		p.InstallRaw(pongName, func(process.UPID, []byte) error {
			pongs <- struct{}{}
			return nil
		})
	}}, "source")
	if err != nil {
		return "", err
	}
	var ours []float64
	for i := 0; i < cfg.runs; i++ {
		start := time.Now()
		for j := 0; j < n; j++ {
			rt.Post(src, sinkPID, pingName, pingBody)
		}
		select {
		case <-pongs:
		case <-time.After(2 * time.Minute):
			return "", errors.New("sink never answered")
		}
		ours = append(ours, float64(n)/time.Since(start).Seconds())
	}
	o := summarize(ours)
	out := kv("msgs_per_sec", o.median, "min", o.min, "max", o.max)

	mg, err := mesosGoStream(cfg.runs, 3000)
	switch {
	case errors.Is(err, mesosgo.ErrUnavailable):
		return out + " mesosgo=unavailable", nil
	case err != nil:
		return "", err
	}
	return out + " " + kv("mesosgo_msgs_per_sec", mg, "ratio", o.median/mg), nil
}

// mesosGoStream measures mesos-go's messenger source → sink between two
// OS processes and returns the median rate.
func mesosGoStream(runs, n int) (float64, error) {
	var rates []float64
	for i := 0; i < runs; i++ {
		sink, err := mesosgo.Start("-mode=sink", "-n="+strconv.Itoa(n))
		if err != nil {
			return 0, err
		}
		source, err := mesosgo.Start("-mode=source", "-to="+sink.UPID, "-n="+strconv.Itoa(n))
		if err != nil {
			sink.Stop()
			return 0, err
		}
		line, err := source.Line("RATE ", 2*time.Minute)
		source.Stop()
		sink.Stop()
		if err != nil {
			return 0, err
		}
		r, err := strconv.ParseFloat(strings.TrimPrefix(line, "RATE "), 64)
		if err != nil {
			return 0, fmt.Errorf("mesos-go rate %q: %w", line, err)
		}
		rates = append(rates, r)
	}
	return summarize(rates).median, nil
}
