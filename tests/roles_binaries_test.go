package tests

import (
	"fmt"
	"path/filepath"
	"testing"
)

// --roles, --weights and --default_role through the binaries: /roles
// lists the whitelist with the weights, a framework of another role is
// refused with Mesos's message, the slave's resources are reserved for
// its default role and a framework of that role runs a task on them.
func TestBinariesRolesWeightsDefaultRole(t *testing.T) {
	bin := binaries(t)
	mport := freePort(t)
	c := &binCluster{bin: bin, master: fmt.Sprintf("127.0.0.1:%d", mport), work: t.TempDir(), slavePort: freePort(t)}
	m := startProc(t, filepath.Join(bin, "mesos-master"), "--ip=127.0.0.1", fmt.Sprintf("--port=%d", mport), "--registry=in_memory",
		"--allocation_interval=100ms", "--roles=prod,dev", "--weights=prod=2.5")
	m.line(t, "master started")
	c.slaveArgs = []string{"--master=" + c.master, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", c.slavePort),
		"--work_dir=" + c.work, "--resources=cpus:2;mem:1024;disk:100;ports:[31000-31010]", "--default_role=prod",
		"--registration_backoff_factor=10ms", "--switch_user=false", "--fetcher_cache_dir=" + filepath.Join(c.work, "fetch")}
	c.startSlave(t).line(t, "registered with the master")

	roles := map[string]float64{}
	for _, r := range getState(t, c.master, "/master/roles")["roles"].([]any) {
		obj := r.(map[string]any)
		roles[obj["name"].(string)] = obj["weight"].(float64)
	}
	if roles["prod"] != 2.5 || roles["dev"] != 1 || roles["*"] != 1 || len(roles) != 3 {
		t.Fatalf("/master/roles: %v", roles)
	}
	s := getState(t, c.master, "/master/state")["slaves"].([]any)[0].(map[string]any)
	if summary, _ := reservedOf(s, "prod"); summary["cpus"] != 2.0 || summary["mem"] != 1024.0 {
		t.Fatalf("reserved_resources %v", s["reserved_resources"])
	}

	other := c.execute(t, "--name=other", "--role=other", "--command=true", "--resources=cpus:0.5;mem:64")
	other.line(t, "Role 'other' is not present in the master's --roles")
	if code := other.exitCode(t); code == 0 {
		t.Fatal("a framework of a role outside --roles ran")
	}
	prod := c.execute(t, "--name=prod", "--role=prod", "--command=true", "--resources=cpus:0.5;mem:64")
	prod.line(t, "TASK_FINISHED for task prod")
}
