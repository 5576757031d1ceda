package flags

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// config is a fixture with one flag of every kind.
type config struct {
	workDir  string
	zk       string
	quiet    bool
	auth     bool
	port     int
	quorum   uint
	weight   float64
	timeout  time.Duration
	memory   uint64
	roles    listValue
	verbose  toggle
	flagsSet *FlagSet
}

// listValue is a Var that keeps a comma-separated list.
type listValue struct{ items []string }

func (l *listValue) Set(s string) error {
	if s == "" {
		return errors.New("empty list")
	}
	l.items = strings.Split(s, ",")
	return nil
}
func (l *listValue) String() string { return strings.Join(l.items, ",") }

// toggle is a Var that is a boolean flag.
type toggle struct{ on bool }

func (t *toggle) Set(s string) error {
	b, err := strconv.ParseBool(s)
	t.on = b
	return err
}
func (t *toggle) String() string { return strconv.FormatBool(t.on) }
func (t *toggle) IsBool() bool   { return true }

func newConfig() *config {
	c := &config{roles: listValue{items: []string{"*"}}}
	fs := New("mesos-test", "Runs a test daemon.")
	fs.String(&c.workDir, "work_dir", "/var/lib/mesos", "Where to keep state.")
	fs.OptString(&c.zk, "zk", "ZooKeeper URL.")
	fs.Bool(&c.quiet, "quiet", false, "Disable logging to stderr.")
	fs.Bool(&c.auth, "authenticate", true, "Require authentication.")
	fs.Int(&c.port, "port", 5050, "Port to listen on.")
	fs.Uint(&c.quorum, "quorum", 1, "Replicated log quorum.")
	fs.Float64(&c.weight, "weight", 0.5, "A weight.")
	fs.Duration(&c.timeout, "timeout", 10*time.Second, "A timeout.")
	fs.Bytes(&c.memory, "memory", 2<<30, "Memory to offer.")
	fs.Var(&c.roles, "roles", "Roles.")
	fs.Var(&c.verbose, "verbose", "Talk more.")
	c.flagsSet = fs
	return c
}

func defaults() map[string]string {
	return map[string]string{
		"work_dir":     "/var/lib/mesos",
		"quiet":        "false",
		"authenticate": "true",
		"port":         "5050",
		"quorum":       "1",
		"weight":       "0.5",
		"timeout":      "10secs",
		"memory":       "2GB",
		"roles":        "*",
		"verbose":      "false",
	}
}

// with returns defaults() with the given pairs changed.
func with(kv ...string) map[string]string {
	m := defaults()
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     []string
		want    map[string]string // nil when an error is expected
		wantErr []string          // substrings of the error
	}{
		{name: "nothing", want: defaults()},
		{name: "string", args: []string{"--work_dir=/tmp/w"}, want: with("work_dir", "/tmp/w")},
		{name: "empty string", args: []string{"--work_dir="}, want: with("work_dir", "")},
		{name: "value with equals", args: []string{"--work_dir=a=b"}, want: with("work_dir", "a=b")},
		{name: "optional string", args: []string{"--zk=zk://h:2181/mesos"}, want: with("zk", "zk://h:2181/mesos")},
		{name: "bare bool", args: []string{"--quiet"}, want: with("quiet", "true")},
		{name: "bool true", args: []string{"--quiet=true"}, want: with("quiet", "true")},
		{name: "bool false", args: []string{"--authenticate=false"}, want: with("authenticate", "false")},
		{name: "bool 1", args: []string{"--quiet=1"}, want: with("quiet", "true")},
		{name: "no- bool", args: []string{"--no-authenticate"}, want: with("authenticate", "false")},
		{name: "no- Var bool", args: []string{"--no-verbose"}, want: with("verbose", "false")},
		{name: "bare Var bool", args: []string{"--verbose"}, want: with("verbose", "true")},
		{name: "int", args: []string{"--port=5051"}, want: with("port", "5051")},
		{name: "negative int", args: []string{"--port=-1"}, want: with("port", "-1")},
		{name: "uint", args: []string{"--quorum=3"}, want: with("quorum", "3")},
		{name: "float", args: []string{"--weight=2.25"}, want: with("weight", "2.25")},
		{name: "duration mesos", args: []string{"--timeout=1.5mins"}, want: with("timeout", "1.5mins")},
		{name: "duration go", args: []string{"--timeout=90s"}, want: with("timeout", "1.5mins")},
		{name: "duration ms", args: []string{"--timeout=500ms"}, want: with("timeout", "500ms")},
		{name: "bytes", args: []string{"--memory=512MB"}, want: with("memory", "512MB")},
		{name: "bytes fraction", args: []string{"--memory=1.5GB"}, want: with("memory", "1536MB")},
		{name: "var", args: []string{"--roles=a,b"}, want: with("roles", "a,b")},
		{
			name: "many",
			args: []string{"--work_dir=/w", "--no-authenticate", "--quiet", "--port=1", "--timeout=2hrs", "--memory=10KB"},
			want: with("work_dir", "/w", "authenticate", "false", "quiet", "true", "port", "1", "timeout", "2hrs", "memory", "10KB"),
		},
		{name: "help=false", args: []string{"--help=false", "--port=2"}, want: with("port", "2")},
		{name: "no-version", args: []string{"--no-version"}, want: defaults()},
		{name: "trailing --", args: []string{"--port=2", "--"}, want: with("port", "2")},

		{name: "env string", env: []string{"MESOS_WORK_DIR=/env"}, want: with("work_dir", "/env")},
		{name: "env bool", env: []string{"MESOS_QUIET=true"}, want: with("quiet", "true")},
		{name: "env duration", env: []string{"MESOS_TIMEOUT=3days"}, want: with("timeout", "3days")},
		{name: "env optional", env: []string{"MESOS_ZK=zk://x/y"}, want: with("zk", "zk://x/y")},
		{
			name: "command line wins over env",
			args: []string{"--port=1"},
			env:  []string{"MESOS_PORT=2", "MESOS_QUORUM=5"},
			want: with("port", "1", "quorum", "5"),
		},
		{
			name: "command line wins over bad env",
			args: []string{"--port=1"},
			env:  []string{"MESOS_PORT=nonsense"},
			want: with("port", "1"),
		},
		{
			name: "no- on command line wins over env",
			args: []string{"--no-quiet"},
			env:  []string{"MESOS_QUIET=true"},
			want: defaults(),
		},
		{name: "later env duplicate wins", env: []string{"MESOS_PORT=2", "MESOS_PORT=3"}, want: with("port", "3")},
		{
			name: "unknown and unrelated env ignored",
			env:  []string{"MESOS_NO_SUCH_FLAG=1", "PORT=9", "HOME=/root", "MESOS_HELP=true", "MESOS_VERSION=1", "garbage"},
			want: defaults(),
		},
		{name: "env name is upper case only", env: []string{"MESOS_port=7"}, want: defaults()},

		{name: "unknown flag", args: []string{"--foo=1"}, wantErr: []string{"unknown flag: --foo"}},
		{
			name:    "unknown flags all named",
			args:    []string{"--foo=1", "--port=2", "--bar", "--no-baz"},
			wantErr: []string{"unknown flags: --foo, --bar, --no-baz"},
		},
		{name: "no- on non-bool", args: []string{"--no-port"}, wantErr: []string{"--port", "not a boolean"}},
		{name: "no- with value", args: []string{"--no-quiet=true"}, wantErr: []string{"--no-quiet", "takes no value"}},
		{name: "missing value", args: []string{"--port"}, wantErr: []string{"--port", "needs a value"}},
		{
			name:    "space-separated value",
			args:    []string{"--work_dir", "/tmp"},
			wantErr: []string{"--work_dir needs a value", `unexpected argument "/tmp"`},
		},
		{name: "positional", args: []string{"serve"}, wantErr: []string{`unexpected argument "serve"`}},
		{name: "single dash", args: []string{"-port=1"}, wantErr: []string{`unexpected argument "-port=1"`}},
		{name: "triple dash", args: []string{"---port=1"}, wantErr: []string{`unexpected argument "---port=1"`}},
		{name: "empty name", args: []string{"--=1"}, wantErr: []string{`unexpected argument "--=1"`}},
		{name: "after --", args: []string{"--", "--port=1"}, wantErr: []string{`unexpected argument "--port=1"`}},
		{name: "duplicate", args: []string{"--port=1", "--port=2"}, wantErr: []string{"--port given more than once"}},
		{name: "duplicate via no-", args: []string{"--quiet", "--no-quiet"}, wantErr: []string{"--quiet given more than once"}},
		{name: "bad int", args: []string{"--port=abc"}, wantErr: []string{`invalid value "abc" for flag --port`}},
		{name: "int out of range", args: []string{"--port=99999999999999999999"}, wantErr: []string{"--port", "out of range"}},
		{name: "octal-looking int is decimal", args: []string{"--port=010"}, want: with("port", "10")},
		{name: "negative uint", args: []string{"--quorum=-1"}, wantErr: []string{`invalid value "-1" for flag --quorum`}},
		{name: "bad bool", args: []string{"--quiet=maybe"}, wantErr: []string{`invalid value "maybe" for flag --quiet`}},
		{name: "bad float", args: []string{"--weight=heavy"}, wantErr: []string{`"heavy"`, "--weight"}},
		{name: "NaN float", args: []string{"--weight=NaN"}, wantErr: []string{`"NaN"`, "--weight"}},
		{name: "bad duration", args: []string{"--timeout=10parsecs"}, wantErr: []string{`invalid value "10parsecs" for flag --timeout`}},
		{name: "bad bytes", args: []string{"--memory=10"}, wantErr: []string{`invalid value "10" for flag --memory`}},
		{name: "bad var", args: []string{"--roles="}, wantErr: []string{"--roles", "empty list"}},
		{name: "bad help value", args: []string{"--help=maybe"}, wantErr: []string{`invalid value "maybe" for flag --help`}},
		{name: "bad env", env: []string{"MESOS_PORT=x"}, wantErr: []string{`invalid value "x" for flag --port (from MESOS_PORT)`}},
		{name: "empty env bool", env: []string{"MESOS_QUIET="}, wantErr: []string{"--quiet (from MESOS_QUIET)"}},
		{
			name:    "all problems reported",
			args:    []string{"--port=x", "--nope", "--quorum=y"},
			env:     []string{"MESOS_TIMEOUT=z"},
			wantErr: []string{"--port", "--quorum", "--timeout", "unknown flag: --nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig()
			err := c.flagsSet.Parse(tt.args, tt.env)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Parse(%q, %q) succeeded, want error containing %q", tt.args, tt.env, tt.wantErr)
				}
				for _, sub := range tt.wantErr {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("Parse(%q, %q) error %q does not contain %q", tt.args, tt.env, err, sub)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tt.args, tt.env, err)
			}
			if got := c.flagsSet.Values(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Values() = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseBindsVariables(t *testing.T) {
	c := newConfig()
	args := []string{
		"--work_dir=/w", "--zk=zk://a/b", "--quiet", "--no-authenticate", "--port=1", "--quorum=2",
		"--weight=1.25", "--timeout=1.5mins", "--memory=3MB", "--roles=x,y", "--verbose",
	}
	if err := c.flagsSet.Parse(args, nil); err != nil {
		t.Fatal(err)
	}
	want := config{
		workDir: "/w", zk: "zk://a/b", quiet: true, auth: false, port: 1, quorum: 2, weight: 1.25,
		timeout: 90 * time.Second, memory: 3 << 20, roles: listValue{[]string{"x", "y"}}, verbose: toggle{true},
	}
	c.flagsSet = nil
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("variables = %+v\nwant %+v", *c, want)
	}
}

func TestDefaultsAssignedAtDefinition(t *testing.T) {
	c := newConfig()
	if c.workDir != "/var/lib/mesos" || !c.auth || c.port != 5050 || c.timeout != 10*time.Second || c.memory != 2<<30 {
		t.Errorf("defaults not assigned: %+v", *c)
	}
	var zk = "untouched"
	fs := New("p", "")
	fs.OptString(&zk, "zk", "")
	if zk != "untouched" {
		t.Errorf("OptString changed its variable to %q", zk)
	}
}

func TestIsSet(t *testing.T) {
	c := newConfig()
	err := c.flagsSet.Parse([]string{"--port=5050", "--no-quiet"}, []string{"MESOS_ZK=zk://e/f", "MESOS_UNKNOWN=1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"port": true, "quiet": true, "zk": true, // command line (even at the default) and env
		"work_dir": false, "timeout": false, "unknown": false, "nonexistent": false, "help": false,
	} {
		if got := c.flagsSet.IsSet(name); got != want {
			t.Errorf("IsSet(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValuesOmitsUnsetOptional(t *testing.T) {
	c := newConfig()
	if err := c.flagsSet.Parse(nil, nil); err != nil {
		t.Fatal(err)
	}
	v := c.flagsSet.Values()
	for _, name := range []string{"zk", "help", "version"} {
		if _, ok := v[name]; ok {
			t.Errorf("Values() has %q: %v", name, v)
		}
	}
}

func TestFileValues(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zk := write("zk", "  zk://10.0.0.1:2181/mesos\n\n")
	port := write("port", "5151\n")
	bad := write("bad", "not-a-port\n")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		args    []string
		env     []string
		want    map[string]string
		wantErr []string
	}{
		{name: "command line", args: []string{"--zk=file://" + zk}, want: with("zk", "zk://10.0.0.1:2181/mesos")},
		{name: "typed", args: []string{"--port=file://" + port}, want: with("port", "5151")},
		{name: "env", env: []string{"MESOS_PORT=file://" + port}, want: with("port", "5151")},
		{name: "missing file", args: []string{"--zk=file://" + missing}, wantErr: []string{"--zk", missing}},
		{name: "missing file env", env: []string{"MESOS_ZK=file://" + missing}, wantErr: []string{"MESOS_ZK", missing}},
		{name: "directory", args: []string{"--zk=file://" + dir}, wantErr: []string{"--zk", dir}},
		{name: "bad content", args: []string{"--port=file://" + bad}, wantErr: []string{"--port", "file://" + bad}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig()
			err := c.flagsSet.Parse(tt.args, tt.env)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Parse succeeded, want error")
				}
				for _, sub := range tt.wantErr {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error %q does not contain %q", err, sub)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.flagsSet.Values(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Values() = %v\nwant %v", got, tt.want)
			}
		})
	}

	t.Run("unreadable wraps fs error", func(t *testing.T) {
		c := newConfig()
		err := c.flagsSet.Parse([]string{"--zk=file://" + missing}, nil)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error %v does not wrap os.ErrNotExist", err)
		}
	})
}

func TestUnknownFlagsError(t *testing.T) {
	c := newConfig()
	err := c.flagsSet.Parse([]string{"--foo", "--port=x", "--bar=2"}, nil)
	var u *UnknownFlagsError
	if !errors.As(err, &u) {
		t.Fatalf("error %v is not an *UnknownFlagsError", err)
	}
	if want := []string{"--foo", "--bar"}; !reflect.DeepEqual(u.Names, want) {
		t.Errorf("Names = %q, want %q", u.Names, want)
	}
	if !errors.Is(err, strconv.ErrSyntax) {
		t.Errorf("error %v does not wrap strconv.ErrSyntax from --port=x", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		want error
	}{
		{[]string{"--help"}, ErrHelp},
		{[]string{"--help=true"}, ErrHelp},
		{[]string{"--port=x", "--nope", "--help"}, ErrHelp}, // help wins over other errors
		{[]string{"--version", "--help"}, ErrHelp},
		{[]string{"--version"}, ErrVersion},
		{[]string{"--version=1", "--bogus"}, ErrVersion},
		{[]string{"--help=false"}, nil},
		{[]string{"--no-help", "--no-version"}, nil},
		{[]string{"--", "--help"}, nil}, // after "--": an unexpected argument, not help
	}
	for _, tt := range tests {
		err := newConfig().flagsSet.Parse(tt.args, []string{"MESOS_HELP=1"})
		if tt.want == nil {
			if errors.Is(err, ErrHelp) || errors.Is(err, ErrVersion) {
				t.Errorf("Parse(%q) = %v, want neither help nor version", tt.args, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.args, err, tt.want)
		}
	}
}

func TestUsage(t *testing.T) {
	fs := newConfig().flagsSet
	fs.String(new(string), "a_very_long_flag_name_that_overflows_the_column", "x", "Long one.\nSecond line.")
	u := fs.Usage()
	t.Log("\n" + u)

	if !strings.HasPrefix(u, "Usage: mesos-test [options]\n\nRuns a test daemon.\n\n") {
		t.Errorf("usage does not start with the usage line and summary:\n%s", u)
	}
	wantLines := []string{
		"--[no-]authenticate",
		"--[no-]help",
		"--memory=VALUE",
		"--[no-]quiet",
		"--[no-]verbose",
		"--port=VALUE",
		"--quorum=VALUE",
		"--roles=VALUE",
		"--timeout=VALUE",
		"--[no-]version",
		"--weight=VALUE",
		"--work_dir=VALUE",
		"--zk=VALUE",
		"--a_very_long_flag_name_that_overflows_the_column=VALUE",
	}
	for _, want := range wantLines {
		if !strings.Contains(u, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	wantDefaults := map[string]string{
		"--[no-]authenticate": "Require authentication. (default: true)",
		"--[no-]quiet":        "Disable logging to stderr. (default: false)",
		"--memory=VALUE":      "Memory to offer. (default: 2GB)",
		"--port=VALUE":        "Port to listen on. (default: 5050)",
		"--quorum=VALUE":      "Replicated log quorum. (default: 1)",
		"--timeout=VALUE":     "A timeout. (default: 10secs)",
		"--weight=VALUE":      "A weight. (default: 0.5)",
		"--work_dir=VALUE":    "Where to keep state. (default: /var/lib/mesos)",
		"--roles=VALUE":       "Roles. (default: *)",
		"--zk=VALUE":          "ZooKeeper URL.",
	}
	lines := strings.Split(u, "\n")
	for label, rest := range wantDefaults {
		found := false
		for _, line := range lines {
			fields := strings.Fields(line)
			if len(fields) > 0 && fields[0] == label {
				found = true
				if got := strings.Join(fields[1:], " "); got != rest {
					t.Errorf("line for %s: got %q, want %q", label, got, rest)
				}
			}
		}
		if !found {
			t.Errorf("no line starts with %s", label)
		}
	}
	if strings.Contains(u, "--zk=VALUE") && strings.Contains(lineWith(lines, "--zk=VALUE"), "default") {
		t.Errorf("optional flag shows a default: %q", lineWith(lines, "--zk=VALUE"))
	}

	// Sorted by name.
	var order []string
	for _, line := range lines {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "--") {
			name := strings.TrimPrefix(strings.TrimPrefix(f[0], "--"), "[no-]")
			name, _, _ = strings.Cut(name, "=")
			order = append(order, name)
		}
	}
	if len(order) != len(fs.flags) {
		t.Errorf("usage lists %d flags, want %d: %q", len(order), len(fs.flags), order)
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("usage not sorted: %q before %q", order[i-1], order[i])
		}
	}

	// Multi-line help is indented under the help column, and a long label
	// puts its help on the next line.
	i := strings.Index(u, "--a_very_long_flag_name_that_overflows_the_column=VALUE\n")
	if i < 0 {
		t.Fatalf("long flag does not end its line")
	}
	next := strings.SplitN(u[i:], "\n", 4)
	if !strings.HasPrefix(next[1], "      ") || strings.TrimSpace(next[1]) != "Long one." ||
		strings.TrimSpace(next[2]) != "Second line. (default: x)" || !strings.HasPrefix(next[2], "      ") {
		t.Errorf("long flag help badly laid out: %q", next[:3])
	}
	for _, line := range lines {
		if strings.TrimRight(line, " ") != line {
			t.Errorf("trailing space in %q", line)
		}
	}
}

func lineWith(lines []string, sub string) string {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestMainHelper(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantExit   bool
		wantCode   int
		wantStdout string // substring; "" means empty
		wantStderr string // substring; "" means empty
	}{
		{name: "ok", args: []string{"--port=1"}},
		{name: "help", args: []string{"--help"}, wantExit: true, wantStdout: "Usage: mesos-test [options]"},
		{name: "version", args: []string{"--version"}, wantExit: true, wantStdout: "mesos 1.0.0\n"},
		{
			name: "error", args: []string{"--nope", "--port=x"}, wantExit: true, wantCode: 1,
			wantStderr: "mesos-test: unknown flag: --nope\nRun 'mesos-test --help' to list the flags.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			exit, code := Main(newConfig().flagsSet, tt.args, nil, &stdout, &stderr)
			if exit != tt.wantExit || code != tt.wantCode {
				t.Errorf("Main = (%v, %d), want (%v, %d)", exit, code, tt.wantExit, tt.wantCode)
			}
			check := func(what, got, want string) {
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", what, got, want)
				}
			}
			check("stdout", stdout.String(), tt.wantStdout)
			check("stderr", stderr.String(), tt.wantStderr)
		})
	}

	t.Run("every error line prefixed", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		Main(newConfig().flagsSet, []string{"--port=x", "--quorum=y"}, nil, &stdout, &stderr)
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "mesos-test: invalid value \"x\" for flag --port") ||
			!strings.HasPrefix(lines[1], "mesos-test: invalid value \"y\" for flag --quorum") {
			t.Errorf("stderr = %q", stderr.String())
		}
	})

	t.Run("custom version", func(t *testing.T) {
		fs := New("p", "")
		fs.Version = "0.25.0"
		var stdout bytes.Buffer
		Main(fs, []string{"--version"}, nil, &stdout, &stdout)
		if stdout.String() != "mesos 0.25.0\n" {
			t.Errorf("stdout = %q", stdout.String())
		}
	})
}

func TestSet(t *testing.T) {
	c := newConfig()
	if err := c.flagsSet.Set("timeout", "2mins"); err != nil {
		t.Fatal(err)
	}
	if c.timeout != 2*time.Minute || !c.flagsSet.IsSet("timeout") {
		t.Errorf("timeout = %v, IsSet = %v", c.timeout, c.flagsSet.IsSet("timeout"))
	}
	for _, name := range []string{"nope", "help"} {
		var u *UnknownFlagsError
		if err := c.flagsSet.Set(name, "1"); !errors.As(err, &u) {
			t.Errorf("Set(%q) = %v, want *UnknownFlagsError", name, err)
		}
	}
	if err := c.flagsSet.Set("port", "x"); err == nil || !strings.Contains(err.Error(), "--port") {
		t.Errorf("Set(port, x) = %v", err)
	}
	if got := c.flagsSet.Program(); got != "mesos-test" {
		t.Errorf("Program() = %q", got)
	}
}

func TestDefinitionPanics(t *testing.T) {
	tests := map[string]func(fs *FlagSet){
		"duplicate": func(fs *FlagSet) { fs.Int(new(int), "port", 1, "") },
		"help":      func(fs *FlagSet) { fs.Bool(new(bool), "help", false, "") },
		"version":   func(fs *FlagSet) { fs.OptString(new(string), "version", "") },
		"empty":     func(fs *FlagSet) { fs.String(new(string), "", "", "") },
		"equals":    func(fs *FlagSet) { fs.String(new(string), "a=b", "", "") },
		"dash":      func(fs *FlagSet) { fs.String(new(string), "-a", "", "") },
		"no-":       func(fs *FlagSet) { fs.Bool(new(bool), "no-thing", false, "") },
		"nil Var":   func(fs *FlagSet) { fs.Var(nil, "x", "") },
	}
	for name, define := range tests {
		t.Run(name, func(t *testing.T) {
			fs := New("p", "")
			fs.Int(new(int), "port", 1, "")
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			define(fs)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0ns", 0},
		{"1ns", 1},
		{"10us", 10 * time.Microsecond},
		{"500ms", 500 * time.Millisecond},
		{"1secs", time.Second},
		{"10secs", 10 * time.Second},
		{"1.5secs", 1500 * time.Millisecond},
		{"1.5mins", 90 * time.Second},
		{"10mins", 10 * time.Minute},
		{"6hrs", 6 * time.Hour},
		{"3days", 72 * time.Hour},
		{"2weeks", 14 * 24 * time.Hour},
		{"0.5weeks", 84 * time.Hour},
		{".5secs", 500 * time.Millisecond},
		{"1.secs", time.Second},
		{"1e3ms", time.Second},
		{"1.5E-3secs", 1500 * time.Microsecond},
		{"+2secs", 2 * time.Second},
		{"-2secs", -2 * time.Second},
		{"0.1secs", 100 * time.Millisecond},
		{"1.0000000001secs", time.Second}, // truncated below a nanosecond
		{"  15secs ", 15 * time.Second},
		{"15 secs", 15 * time.Second},
		{"9223372036.854775807secs", math.MaxInt64},
		{"-9223372036.854775808secs", math.MinInt64},
		// Go syntax.
		{"10s", 10 * time.Second},
		{"1m", time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1m30ms", time.Minute + 30*time.Millisecond},
		{"1.5h", 90 * time.Minute},
		{"-1s", -time.Second},
		{"0", 0},
		{"2µs", 2 * time.Microsecond},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}

	for _, bad := range []string{
		"", "  ", "secs", "10", "10parsecs", "10 seconds", "1..5secs", "1.5.secs", "--1secs", "1e1000secs",
		"1e9999secs", "1esecs", "abc", "1/2secs", "0x10secs", "inf secs", "NaNsecs", "Infsecs",
		"9223372036.854775808secs", "15251weeks", "1_000secs",
	} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want error", bad, d)
		} else if !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParseDuration(%q) error %q does not quote the input", bad, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0ns"},
		{1, "1ns"},
		{999, "999ns"},
		{1500, "1.5us"},
		{time.Millisecond, "1ms"},
		{1234567, "1.234567ms"},
		{time.Second, "1secs"},
		{10 * time.Second, "10secs"},
		{1500 * time.Millisecond, "1.5secs"},
		{59 * time.Second, "59secs"},
		{time.Minute, "1mins"},
		{90 * time.Second, "1.5mins"},
		{100 * time.Second, "100secs"}, // 1.666... mins does not terminate
		{75 * time.Second, "1.25mins"},
		{time.Hour, "1hrs"},
		{6 * time.Hour, "6hrs"},
		{36 * time.Hour, "1.5days"},
		{72 * time.Hour, "3days"},
		{7 * 24 * time.Hour, "1weeks"},
		{14 * 24 * time.Hour, "2weeks"},
		{-10 * time.Second, "-10secs"},
		{-90 * time.Second, "-1.5mins"},
		{time.Second + 1, "1.000000001secs"},
		{math.MaxInt64, "9223372036.854775807secs"},
		{math.MinInt64, "-9223372036.854775808secs"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", int64(tt.in), got, tt.want)
		}
		if back, err := ParseDuration(tt.want); err != nil || back != tt.in {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.want, back, err, tt.in)
		}
	}
}

func TestDurationRoundTrip(t *testing.T) {
	units := []time.Duration{1, time.Microsecond, time.Millisecond, time.Second, time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
	for _, u := range units {
		for _, k := range []int64{1, 2, 3, 7, 10, 13, 60, 99, 1000, 12345} {
			for _, extra := range []time.Duration{0, 1, 999, 333333} {
				d := time.Duration(k)*u + extra
				for _, d := range []time.Duration{d, -d} {
					s := FormatDuration(d)
					back, err := ParseDuration(s)
					if err != nil || back != d {
						t.Errorf("ParseDuration(FormatDuration(%d) = %q) = %d, %v", int64(d), s, int64(back), err)
					}
				}
			}
		}
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"0B", 0},
		{"100B", 100},
		{"10KB", 10 << 10},
		{"37500KB", 37500 << 10},
		{"512MB", 512 << 20},
		{"100MB", 100 << 20},
		{"2GB", 2 << 30},
		{"1.5GB", 3 << 29},
		{"1TB", 1 << 40},
		{"0.5KB", 512},
		{"1.0001KB", 1024}, // truncated to whole bytes
		{"2gb", 2 << 30},
		{"2 GB", 2 << 30},
		{" 1kb ", 1024},
		{"1e3B", 1000},
		{"-0B", 0},
		{"16777215.5TB", 16777215<<40 + 1<<39},
		{"18446744073709551615B", math.MaxUint64},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "B", "10", "10XB", "10 bytes", "-1B", "-1KB", "1..2MB", "16777216TB", "18446744073709551616B",
		"1e999TB", "0x10B", "NaNB", "InfGB", "1/2GB", "GB",
	} {
		if n, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want error", bad, n)
		} else if !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParseBytes(%q) error %q does not quote the input", bad, err)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1023, "1023B"},
		{1024, "1KB"},
		{1536, "1536B"},
		{3 << 29, "1536MB"},
		{512 << 20, "512MB"},
		{2 << 30, "2GB"},
		{5 << 40, "5TB"},
		{1 << 50, "1024TB"},
		{math.MaxUint64, "18446744073709551615B"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.in); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := ParseBytes(tt.want); err != nil || back != tt.in {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tt.want, back, err, tt.in)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10secs", "1.5mins", "500ms", "1h30m", "-2weeks", "1e3ns", ".5days", "", "x", "9223372036.854775807secs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		out := FormatDuration(d)
		back, err := ParseDuration(out)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %d, formatted %q, read back as %d, %v", s, int64(d), out, int64(back), err)
		}
	})
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"2GB", "1.5KB", "100B", "0B", "-1B", "1e3MB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			return
		}
		out := FormatBytes(n)
		back, err := ParseBytes(out)
		if err != nil || back != n {
			t.Fatalf("ParseBytes(%q) = %d, formatted %q, read back as %d, %v", s, n, out, back, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("--port=1 --no-quiet --timeout=1.5mins", "MESOS_WORK_DIR=/x")
	f.Add("--help --nope", "")
	f.Add("--no-port -- x", "MESOS_PORT=y")
	f.Fuzz(func(t *testing.T, args, env string) {
		if strings.Contains(args, "file:") || strings.Contains(env, "file:") {
			return // reading arbitrary files (/dev/zero) is not the point here
		}
		c := newConfig()
		err := c.flagsSet.Parse(strings.Fields(args), strings.Split(env, "\n"))
		if err == nil {
			_ = c.flagsSet.Values()
		}
		_ = c.flagsSet.Usage()
	})
}

func TestNoEffect(t *testing.T) {
	fs := New("prog", "")
	var perf time.Duration
	var whitelist, real string
	fs.Duration(&perf, "perf_interval", time.Minute, "Interval between perf samples.")
	fs.OptString(&whitelist, "whitelist", "Slaves to admit.")
	fs.OptString(&real, "real", "A real flag.")
	fs.NoEffect("perf_interval", "")
	fs.NoEffect("whitelist", "every slave is admitted")
	usage := fs.Usage()
	for _, want := range []string{
		"Interval between perf samples. Accepted for compatibility, no effect here. (default: 1mins)",
		"Slaves to admit. Accepted for compatibility, no effect here: every slave is admitted.",
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
	if !strings.Contains(usage, "--real=VALUE           A real flag.\n") {
		t.Errorf("a real flag is marked:\n%s", usage)
	}
	if got := fs.Ineffective(); len(got) != 0 {
		t.Fatalf("before parsing: %v", got)
	}
	// A flag without effect still checks its value.
	if err := fs.Parse([]string{"--perf_interval=soon"}, nil); err == nil || !strings.Contains(err.Error(), "--perf_interval") {
		t.Fatalf("bad value: %v", err)
	}
	fs = New("prog", "")
	fs.Duration(&perf, "perf_interval", time.Minute, "")
	fs.OptString(&whitelist, "whitelist", "")
	fs.OptString(&real, "real", "")
	fs.NoEffect("perf_interval", "")
	fs.NoEffect("whitelist", "")
	if err := fs.Parse([]string{"--real=x", "--perf_interval=2mins"}, []string{"MESOS_WHITELIST=file:///dev/null"}); err != nil {
		t.Fatal(err)
	}
	if got := fs.Ineffective(); strings.Join(got, ",") != "perf_interval,whitelist" {
		t.Fatalf("Ineffective() = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("NoEffect of an undefined flag did not panic")
		}
	}()
	fs.NoEffect("nope", "")
}

func TestHas(t *testing.T) {
	fs := New("prog", "")
	var s string
	var b bool
	fs.OptString(&s, "work_dir", "")
	fs.Bool(&b, "quiet", false, "")
	if !fs.Has("work_dir") || !fs.Has("quiet") || !fs.Has("help") || fs.Has("nope") || fs.Has("no-quiet") {
		t.Error("Has")
	}
	if !fs.IsBool("quiet") || fs.IsBool("work_dir") || fs.IsBool("nope") {
		t.Error("IsBool")
	}
}
