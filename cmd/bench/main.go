// Command bench measures gomesos against the baselines its issues name,
// in the same run, and prints one line per figure: `NAME key=value ...`.
//
//	go run ./cmd/bench                     # every figure
//	go run ./cmd/bench local-pingpong settle
//	go run ./cmd/bench -runs=7 remote-stream
//
// Each figure is the median of -runs repetitions (min and max also shown).
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/gomesos/gomesos/executor"
)

// figure measures one named figure and prints its line.
type figure struct {
	name string
	run  func(cfg config) (string, error)
}

type config struct {
	runs int
	n    int
}

var figures = []figure{
	{"local-pingpong", localPingPong},
	{"remote-stream", remoteStream},
	{"settle", settleIdle},
	{"allocator", allocatorGrid},
	{"launch", launchLatency},
	{"recovery", recoveryTime},
	{"flood", flood},
	{"sim", simSeeds},
}

func main() {
	if filepath.Base(os.Args[0]) == "mesos-executor" {
		// The slave figures run this binary as the command executor.
		os.Exit(executor.RunCommandExecutor())
	}
	if os.Getenv(sinkEnv) != "" {
		runSink()
		return
	}
	runs := flag.Int("runs", 5, "repetitions per figure (the median is reported)")
	n := flag.Int("n", 0, "messages per run (0: each figure's default)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (the load generator, say) to this file")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: bench [-runs N] [-n N] [NAME...]\nfigures:")
		for _, f := range figures {
			fmt.Fprintf(os.Stderr, " %s", f.name)
		}
		fmt.Fprintln(os.Stderr)
		flag.PrintDefaults()
	}
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	names := flag.Args()
	if len(names) == 0 {
		for _, f := range figures {
			names = append(names, f.name)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: -cpuprofile: %v\n", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := config{runs: max(1, *runs), n: *n}
	failed := false
	for _, name := range names {
		f, ok := find(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: unknown figure %q\n", name)
			failed = true
			continue
		}
		line, err := f.run(cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", name, err)
			failed = true
			continue
		}
		fmt.Println(name + " " + line)
	}
	if failed {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func find(name string) (figure, bool) {
	for _, f := range figures {
		if f.name == name {
			return f, true
		}
	}
	return figure{}, false
}

// stats summarises repeated measurements.
type stats struct{ median, min, max float64 }

func summarize(xs []float64) stats {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{median: m, min: s[0], max: s[len(s)-1]}
}

func kv(pairs ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch v := pairs[i+1].(type) {
		case float64:
			if v >= 100 {
				fmt.Fprintf(&b, "%s=%.0f", pairs[i], v)
			} else {
				fmt.Fprintf(&b, "%s=%.3g", pairs[i], v)
			}
		default:
			fmt.Fprintf(&b, "%s=%v", pairs[i], v)
		}
	}
	return b.String()
}
