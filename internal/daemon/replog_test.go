package daemon

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/master/replog"
)

// --registry=replicated_log: a raft log among --replicated_log_peers
// (quorum a majority of them), or a lone replica in --work_dir.
func TestReplicatedLogFlags(t *testing.T) {
	config := func(args ...string) (any, error) {
		fs := flags.New("mesos-master", "")
		var m MasterFlags
		m.Register(fs)
		if err := fs.Parse(args, nil); err != nil {
			return nil, err
		}
		cfg, err := m.Config(fs, slog.New(slog.DiscardHandler))
		return cfg.Registry, err
	}
	peers := "--replicated_log_peers=127.0.0.1:5050,127.0.0.2:5050,127.0.0.3:5050"
	work := "--work_dir=" + t.TempDir()
	for _, c := range []struct {
		args []string
		err  string // "" for a replicated log
	}{
		{[]string{work}, ""},
		{[]string{work, peers, "--quorum=2"}, ""},
		{[]string{work, peers, "--quorum=3"}, ""},
		{[]string{work, peers, "--zk=zk://127.0.0.1:2181/mesos", "--quorum=2"}, ""},
		{[]string{work, peers}, "--quorum=1 with 3 replicas"},
		{[]string{work, peers, "--quorum=4"}, "--quorum=4 with 3 replicas"},
		{[]string{work, "--quorum=2"}, ""}, // not used by a lone replica: a warning (TestQuorumFlag)
		{[]string{work, "--replicated_log_peers=master1:5050", "--quorum=1"}, "want ip:port"},
		{[]string{peers, "--quorum=2"}, "--work_dir is required"},
	} {
		reg, err := config(c.args...)
		if c.err == "" {
			if _, ok := reg.(*replog.Log); err != nil || !ok {
				t.Errorf("%v: registry %T, %v; want a replicated log", c.args, reg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.err)
		}
	}
}
