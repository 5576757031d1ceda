package daemon

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/flags"
)

// --rate_limits reaches the master's configuration; a bad value is
// refused naming the flag. --authenticate_frameworks is --authenticate.
func TestMasterRateLimitsAndAuthenticateFrameworksFlags(t *testing.T) {
	parse := func(args ...string) (*flags.FlagSet, *MasterFlags) {
		fs := flags.New("mesos-master", "")
		var m MasterFlags
		m.Register(fs)
		if err := fs.Parse(append([]string{"--registry=in_memory"}, args...), nil); err != nil {
			t.Fatal(err)
		}
		return fs, &m
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fs, m := parse(`--rate_limits={"limits":[{"principal":"foo","qps":2,"capacity":10}]}`, "--authenticate_frameworks")
	cfg, err := m.Config(fs, log)
	if err != nil {
		t.Fatal(err)
	}
	if rl := cfg.RateLimits; rl == nil || len(rl.Limits) != 1 || rl.Limits[0].Throttle.QPS != 2 || rl.Limits[0].Throttle.Capacity != 10 {
		t.Fatalf("rate limits %+v", cfg.RateLimits)
	}
	if !cfg.Authenticate {
		t.Fatal("--authenticate_frameworks did not turn framework authentication on")
	}
	fs, m = parse(`--rate_limits={"limits":[{"principal":"foo","qps":-1}]}`)
	if _, err := m.Config(fs, log); err == nil || !strings.Contains(err.Error(), "--rate_limits") {
		t.Fatalf("negative qps: %v", err)
	}
}
