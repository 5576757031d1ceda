package daemon

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/flags"
)

// documentedFlag is a line of testdata/documented-flags.txt.
type documentedFlag struct {
	daemon, name, value string
	boolean             bool
}

// documentedFlags reads testdata/documented-flags.txt, with @TMP@ as tmp.
func documentedFlags(t *testing.T, tmp string) []documentedFlag {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "documented-flags.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []documentedFlag
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, " ", 3)
		if len(fields) < 2 {
			t.Fatalf("bad line %q", line)
		}
		d := documentedFlag{daemon: fields[0], name: fields[1], boolean: len(fields) == 2}
		if !d.boolean {
			d.value = strings.ReplaceAll(fields[2], "@TMP@", tmp)
			if d.value == `""` {
				d.value = ""
			}
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// args are the flags of daemon ("master" or "slave") as a command line,
// leaving out those that exit (--help, --version) and
// --ip_discovery_command (Mesos refuses it with --ip).
func (fl documentedFlagList) args(daemon string) []string {
	var args []string
	for _, d := range fl {
		if d.daemon != daemon && d.daemon != "both" {
			continue
		}
		switch d.name {
		case "help", "version", "ip_discovery_command":
			continue
		}
		if d.boolean {
			args = append(args, "--"+d.name)
		} else {
			args = append(args, "--"+d.name+"="+d.value)
		}
	}
	return args
}

type documentedFlagList []documentedFlag

// Every flag of the Mesos 0.25 documentation's master and slave tables is
// accepted, all at once, by the flag sets mesos-master and mesos-slave
// use, and the resulting configuration is valid: an existing Mesos
// configuration starts unchanged. Each flag is listed by --help; those
// without effect here say so there and are warned about at start-up.
// Flags beyond the documentation (ours, Mesos 1.0's) are fine.
func TestDocumentedFlagsAccepted(t *testing.T) {
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "whitelist"), []byte("slave1.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "launcher"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "launcher", "mesos-executor"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	list := documentedFlagList(documentedFlags(t, tmp))
	if len(list) < 100 {
		t.Fatalf("only %d documented flags read", len(list))
	}

	for _, daemon := range []string{"master", "slave"} {
		t.Run(daemon, func(t *testing.T) {
			fs := flags.New("mesos-"+daemon, "")
			var addr Address
			var logging Logging
			var mf MasterFlags
			var sf SlaveFlags
			port := uint(5050)
			if daemon == "slave" {
				port = 5051
			}
			addr.Register(fs, port)
			logging.Register(fs)
			if daemon == "master" {
				mf.Register(fs)
			} else {
				sf.Register(fs, true)
			}
			usage := fs.Usage()
			for _, d := range list {
				if d.daemon != daemon && d.daemon != "both" {
					continue
				}
				if !usageEntry(usage, d.name, "") {
					t.Errorf("--help does not list --%s", d.name)
				}
			}
			args := list.args(daemon)
			if err := fs.Parse(args, nil); err != nil {
				t.Fatalf("the documented flags are refused: %v\nargs: %q", err, args)
			}
			var logged bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logged, nil))
			WarnIneffective(fs, log)
			if daemon == "master" {
				if _, err := mf.Config(fs, log); err != nil {
					t.Fatalf("master configuration: %v", err)
				}
			} else {
				master, err := ParseMaster(sf.Master)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sf.Config(master.PID, log); err != nil {
					t.Fatalf("slave configuration: %v", err)
				}
			}
			if _, err := addr.Options(); err != nil {
				t.Fatalf("address: %v", err)
			}
			ineffective := fs.Ineffective()
			if len(ineffective) == 0 {
				t.Fatal("no flag is without effect")
			}
			for _, name := range ineffective {
				if !strings.Contains(logged.String(), "flag --"+name+" is accepted for compatibility") {
					t.Errorf("no start-up warning for --%s:\n%s", name, logged.String())
				}
				if !usageEntry(usage, name, "Accepted for compatibility, no effect here") {
					t.Errorf("--help does not say --%s has no effect", name)
				}
			}
			sort.Strings(ineffective)
			t.Logf("%d documented flags, %d of them without effect here: %s", len(args), len(ineffective), strings.Join(ineffective, " "))
		})
	}

	// --ip_discovery_command: its output is the address; not with --ip.
	var addr Address
	fs := flags.New("mesos-master", "")
	addr.Register(fs, 5050)
	if err := fs.Parse([]string{"--ip_discovery_command=echo 127.0.0.1"}, nil); err != nil {
		t.Fatal(err)
	}
	o, err := addr.Options()
	if err != nil || o.Bind.Addr().String() != "127.0.0.1" {
		t.Fatalf("--ip_discovery_command: %v %v", o.Bind, err)
	}
	addr = Address{}
	fs = flags.New("mesos-master", "")
	addr.Register(fs, 5050)
	if err := fs.Parse([]string{"--ip=127.0.0.1", "--ip_discovery_command=echo 127.0.0.1"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := addr.Options(); err == nil || !strings.Contains(err.Error(), "--ip_discovery_command") {
		t.Fatalf("--ip with --ip_discovery_command: %v", err)
	}
	addr = Address{IPDiscovery: "exit 3"}
	if _, err := addr.Options(); err == nil || !strings.Contains(err.Error(), "--ip_discovery_command") {
		t.Fatalf("a failing --ip_discovery_command: %v", err)
	}
}

// usageEntry reports whether --help lists flag name with an entry that
// mentions s (entries may wrap onto following indented lines).
func usageEntry(usage, name, s string) bool {
	lines := strings.Split(usage, "\n")
	for i, l := range lines {
		label := strings.Fields(l + " x")[0]
		if !strings.HasPrefix(l, "  --") || (label != "--"+name+"=VALUE" && label != "--[no-]"+name) {
			continue
		}
		entry := l
		for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "    "); j++ {
			entry += lines[j]
		}
		return strings.Contains(entry, s)
	}
	return false
}

// --quorum is checked against --replicated_log_peers, and a quorum the
// registry does not use is reported.
func TestQuorumFlag(t *testing.T) {
	config := func(args ...string) (string, error) {
		fs := flags.New("mesos-master", "")
		var m MasterFlags
		m.Register(fs)
		if err := fs.Parse(args, nil); err != nil {
			return "", err
		}
		var logged bytes.Buffer
		_, err := m.Config(fs, slog.New(slog.NewTextHandler(&logged, nil)))
		return logged.String(), err
	}
	work := "--work_dir=" + t.TempDir()
	if logged, err := config(work, "--zk=zk://127.0.0.1:2181/mesos", "--quorum=2"); err != nil || !strings.Contains(logged, "--quorum=2 is not used") || !strings.Contains(logged, "ZooKeeper") {
		t.Errorf("--zk --quorum=2: %v, logged %q", err, logged)
	}
	if logged, err := config(work, "--quorum=2"); err != nil || !strings.Contains(logged, "--quorum=2 is not used") {
		t.Errorf("lone --quorum=2: %v, logged %q", err, logged)
	}
	if logged, err := config(work, "--zk=zk://127.0.0.1:2181/mesos"); err != nil || strings.Contains(logged, "quorum") {
		t.Errorf("--zk: %v, logged %q", err, logged)
	}
	for _, bad := range []string{"--quorum=1", "--quorum=4", "--quorum=0"} {
		if _, err := config(work, "--replicated_log_peers=127.0.0.1:5050,127.0.0.2:5050,127.0.0.3:5050", bad); err == nil || !strings.Contains(err.Error(), "--quorum") {
			t.Errorf("%s of 3 masters: %v", bad, err)
		}
	}
}

// Mesos 1.0's HTTP authentication flags and --root_submissions reach the
// master's configuration; other authenticators and sorters are refused.
func TestHTTPAuthenticationFlags(t *testing.T) {
	cfg, err := masterConfig("--registry=in_memory", "--authenticate_http", "--authenticate_http_frameworks", "--http_framework_authenticators=basic", "--no-root_submissions", "--credentials=ops secret")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AuthenticateHTTP || !cfg.AuthenticateHTTPFrameworks || !cfg.NoRootSubmissions || cfg.Authenticate || cfg.Credentials["ops"] != "secret" {
		t.Fatalf("config: %+v", cfg)
	}
	if cfg, err = masterConfig("--registry=in_memory", "--authenticate_agents"); err != nil || !cfg.AuthenticateSlaves {
		t.Fatalf("--authenticate_agents: %v %v", err, cfg.AuthenticateSlaves)
	}
	if cfg, err = masterConfig("--registry=in_memory"); err != nil || cfg.AuthenticateHTTP || cfg.AuthenticateHTTPFrameworks || cfg.NoRootSubmissions {
		t.Fatalf("defaults: %v %+v", err, cfg)
	}
	for _, bad := range []string{"--http_framework_authenticators=kerberos", "--framework_sorter=fifo", "--user_sorter=fair"} {
		if _, err := masterConfig("--registry=in_memory", bad); err == nil || !strings.Contains(err.Error(), strings.SplitN(bad, "=", 2)[0]) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestParseEnvironment(t *testing.T) {
	env, err := parseEnvironment(`{"PATH":"/bin:/usr/bin","LD_LIBRARY_PATH":"/usr/local/lib"}`)
	if err != nil || len(env) != 2 || env["PATH"] != "/bin:/usr/bin" {
		t.Fatalf("%v %v", env, err)
	}
	for _, bad := range []string{`{"N":1}`, `["PATH"]`, `PATH=/bin`} {
		if _, err := parseEnvironment(bad); err == nil || !strings.Contains(err.Error(), "--executor_environment_variables") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
