package mesos

// IsTerminal says whether a task in state s has ended for good (finished,
// failed, killed, lost or in error).
func IsTerminal(s TaskState) bool {
	switch s {
	case TaskState_TASK_FINISHED, TaskState_TASK_FAILED, TaskState_TASK_KILLED,
		TaskState_TASK_LOST, TaskState_TASK_ERROR:
		return true
	}
	return false
}
