package containerizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/modules"
)

// ContainerLogger gives the process of a Mesos containerizer container
// its stdout and stderr: Mesos 1.0's container logger, chosen by the
// slave's --container_logger among the modules of kind ContainerLogger.
// Only the Mesos containerizer asks it (the docker executor copies its
// container's output into the sandbox itself, and an external
// containerizer program decides on its own); recovered containers keep
// the files they were started with.
type ContainerLogger interface {
	// Prepare opens what the container of executor, whose sandbox is
	// the directory sandbox, writes its stdout and stderr to. The
	// containerizer hands both files to the container's process and
	// closes its own copies once the process has started; a logger that
	// processes the output (rotating, shipping it) gives the write ends
	// of pipes read by a process of its own, which must outlive the
	// slave as the container does.
	Prepare(executor *mesos.ExecutorInfo, sandbox string) (stdout, stderr *os.File, err error)
}

// SandboxLoggerName is the built-in container logger's module name: the
// default of --container_logger.
const SandboxLoggerName = "sandbox"

// SandboxLogger is the built-in container logger: the container writes
// the files stdout and stderr of its sandbox, appending to them.
type SandboxLogger struct{}

// Prepare implements ContainerLogger.
func (SandboxLogger) Prepare(_ *mesos.ExecutorInfo, sandbox string) (*os.File, *os.File, error) {
	out, err1 := os.OpenFile(filepath.Join(sandbox, "stdout"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	errf, err2 := os.OpenFile(filepath.Join(sandbox, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err := errors.Join(err1, err2); err != nil {
		if out != nil {
			out.Close()
		}
		if errf != nil {
			errf.Close()
		}
		return nil, nil, fmt.Errorf("sandbox stdout/stderr: %w", err)
	}
	return out, errf, nil
}

// RegisterContainerLogger makes a container logger available by name to
// --container_logger: a module of kind ContainerLogger in package
// modules' registry, built from its --modules parameters. It panics when
// the name is taken.
func RegisterContainerLogger(name string, ctor func(modules.Parameters) (ContainerLogger, error)) {
	modules.Register(modules.KindContainerLogger, name, func(p modules.Parameters) (any, error) { return ctor(p) })
}

// NewContainerLogger builds the container logger module name with its
// parameters from mods (nil: none); "" is the sandbox logger.
func NewContainerLogger(mods *modules.Config, name string) (ContainerLogger, error) {
	if name == "" {
		name = SandboxLoggerName
	}
	return modules.New[ContainerLogger](mods, modules.KindContainerLogger, name, nil)
}

func init() {
	RegisterContainerLogger(SandboxLoggerName, func(p modules.Parameters) (ContainerLogger, error) {
		for k := range p {
			return nil, fmt.Errorf("sandbox container logger: unknown parameter %q", k)
		}
		return SandboxLogger{}, nil
	})
}
