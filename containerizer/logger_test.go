package containerizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/modules"
)

// prefixLogger is an out-of-tree style container logger: the container's
// stdout and stderr go to files named by its parameter prefix.
type prefixLogger struct{ prefix string }

func (l prefixLogger) Prepare(e *mesos.ExecutorInfo, sandbox string) (*os.File, *os.File, error) {
	out, err := os.Create(filepath.Join(sandbox, l.prefix+".out"))
	if err != nil {
		return nil, nil, err
	}
	errf, err := os.Create(filepath.Join(sandbox, l.prefix+".err"))
	if err != nil {
		out.Close()
		return nil, nil, err
	}
	return out, errf, nil
}

// isolatorParams receives the parameters test/params is built with.
var isolatorParams = make(chan modules.Parameters, 1)

func init() {
	RegisterIsolator("test/params", func(c IsolatorConfig) (Isolator, error) {
		isolatorParams <- c.Parameters
		return posixCPU{}, nil
	})
	RegisterContainerLogger("test/prefix", func(p modules.Parameters) (ContainerLogger, error) {
		return prefixLogger{prefix: p["prefix"]}, nil
	})
}

// The Mesos containerizer gives its containers the stdout and stderr of
// its container logger: the sandbox's files by default, or a module's
// (built with its --modules parameters).
func TestContainerLoggerModule(t *testing.T) {
	mods, err := modules.Parse(`{"libraries":[{"modules":[{"name":"test/prefix","parameters":[{"key":"prefix","value":"task"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		logger        string
		stdout, stder string
	}{{"", "stdout", "stderr"}, {"test/prefix", "task.out", "task.err"}} {
		logger, err := NewContainerLogger(mods, tc.logger)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewMesos(Config{Isolation: "posix/cpu", Now: fixedNow, ContainerLogger: logger})
		if err != nil {
			t.Fatal(err)
		}
		s := spec(t, "c1", "echo out; echo err >&2", "cpus:0.1")
		if _, err := get(t, c.Launch(s)); err != nil {
			t.Fatal(err)
		}
		wait(t, c, "c1")
		for name, want := range map[string]string{tc.stdout: "out\n", tc.stder: "err\n"} {
			got, err := os.ReadFile(filepath.Join(s.Directory, name))
			if err != nil || string(got) != want {
				t.Errorf("logger %q: %s holds %q (%v), want %q", tc.logger, name, got, err, want)
			}
		}
	}
	if _, err := NewContainerLogger(nil, "nope"); err == nil || !strings.Contains(err.Error(), `unknown ContainerLogger module "nope" (known: sandbox, test/prefix)`) {
		t.Errorf("unknown logger: %v", err)
	}
}

// An isolator module gets its --modules parameters.
func TestIsolatorModuleParameters(t *testing.T) {
	mods, err := modules.Parse(`{"libraries":[{"file":"libx.so","modules":[{"name":"test/params","parameters":[{"key":"k","value":"v"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMesos(Config{Isolation: "test/params", Now: fixedNow, Modules: mods}); err != nil {
		t.Fatal(err)
	}
	if p := <-isolatorParams; p["k"] != "v" {
		t.Fatalf("isolator parameters %v", p)
	}
}
