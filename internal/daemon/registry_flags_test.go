package daemon

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/master"
	"github.com/gomesos/gomesos/master/registrar"
)

// masterConfig parses mesos-master's flags into its configuration.
func masterConfig(args ...string) (master.Config, error) {
	fs := flags.New("mesos-master", "")
	var addr Address
	var m MasterFlags
	addr.Register(fs, 5050)
	m.Register(fs)
	if err := fs.Parse(args, nil); err != nil {
		return master.Config{}, err
	}
	return m.Config(fs, slog.Default())
}

// The registrar's flags reach the master's configuration, with Mesos's
// defaults.
func TestRegistrarFlags(t *testing.T) {
	cfg, err := masterConfig("--registry=in_memory")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RegistryFetchTimeout != time.Minute || cfg.RegistryStoreTimeout != registrar.DefaultStoreTimeout || cfg.RegistryStrict || cfg.RecoverySlaveRemovalLimit != 1 {
		t.Fatalf("defaults: fetch %v store %v strict %v limit %v", cfg.RegistryFetchTimeout, cfg.RegistryStoreTimeout, cfg.RegistryStrict, cfg.RecoverySlaveRemovalLimit)
	}

	cfg, err = masterConfig("--registry=in_memory", "--registry_fetch_timeout=30secs", "--registry_strict", "--recovery_slave_removal_limit=25%")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RegistryFetchTimeout != 30*time.Second || !cfg.RegistryStrict || cfg.RecoverySlaveRemovalLimit != 0.25 {
		t.Fatalf("set: fetch %v strict %v limit %v", cfg.RegistryFetchTimeout, cfg.RegistryStrict, cfg.RecoverySlaveRemovalLimit)
	}

	for _, bad := range [][]string{
		{"--registry_fetch_timeout=0secs"},
		{"--registry_fetch_timeout=-1mins"},
		{"--registry_store_timeout=0secs"},
		{"--recovery_slave_removal_limit=150%"},
		{"--recovery_slave_removal_limit=50"},
		{"--registry_strict=maybe"},
	} {
		if _, err := masterConfig(append([]string{"--registry=in_memory"}, bad...)...); err == nil || !strings.Contains(err.Error(), strings.SplitN(bad[0], "=", 2)[0]) {
			t.Errorf("%v: %v, want an error naming the flag", bad, err)
		}
	}
}

func TestParseRemovalLimit(t *testing.T) {
	for in, want := range map[string]float64{"100%": 1, "50%": 0.5, "0.5%": 0.005, "0%": -1} {
		if got, err := ParseRemovalLimit(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "%", "-1%", "101%", "1", "x%"} {
		if _, err := ParseRemovalLimit(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
