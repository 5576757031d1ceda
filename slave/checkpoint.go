package slave

import (
	"fmt"
	"path/filepath"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/slave/state"
)

// checkpointFramework writes the framework's info and pid.
func (s *slave) checkpointFramework(f *framework) error {
	sid := s.info.GetId().GetValue()
	if err := state.WriteMessage(s.cfg.Files, s.paths.FrameworkInfo(sid, f.id), f.info); err != nil {
		return fmt.Errorf("checkpoint framework %s: %w", f.id, err)
	}
	if f.pid.IsValid() {
		if err := state.WriteString(s.cfg.Files, s.paths.FrameworkPID(sid, f.id), f.pid.String()); err != nil {
			return fmt.Errorf("checkpoint framework %s: %w", f.id, err)
		}
	}
	return nil
}

// checkpointExecutor writes the executor's info and points runs/latest
// at its new run.
func (s *slave) checkpointExecutor(f *framework, e *executor) error {
	sid := s.info.GetId().GetValue()
	if err := state.WriteMessage(s.cfg.Files, s.paths.ExecutorInfo(sid, f.id, e.id), e.info); err != nil {
		return fmt.Errorf("checkpoint executor %s: %w", e.id, err)
	}
	if err := state.Link(s.cfg.Files, e.containerID, filepath.Join(s.paths.Executor(sid, f.id, e.id), "runs", "latest")); err != nil {
		return fmt.Errorf("checkpoint executor %s: %w", e.id, err)
	}
	return nil
}

// checkpointTask writes the task of a checkpointing executor.
func (s *slave) checkpointTask(fid string, e *executor, t *mesos.Task) error {
	if !e.checkpoint {
		return nil
	}
	sid := s.info.GetId().GetValue()
	if err := state.WriteMessage(s.cfg.Files, s.paths.TaskInfo(sid, fid, e.id, e.containerID, t.GetTaskId().GetValue()), t); err != nil {
		return fmt.Errorf("checkpoint task %s: %w", t.GetTaskId().GetValue(), err)
	}
	return nil
}
