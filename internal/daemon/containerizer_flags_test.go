package daemon

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/process"
)

// An unknown module or hook fails the slave's start-up, naming the known
// ones.
func TestSlaveModuleAndHookFlagsValidated(t *testing.T) {
	for _, tc := range []struct {
		flags SlaveFlags
		want  string
	}{
		{SlaveFlags{Modules: `{"libraries":[{"file":"libfoo.so","modules":[{"name":"org_apache_mesos_Nope"}]}]}`}, `unknown module "org_apache_mesos_Nope" (known: `},
		{SlaveFlags{Modules: `{"libraries":[{"modules":[{"name":"x","extra":1}]}]}`}, "not Mesos's modules JSON"},
		{SlaveFlags{Hooks: "org_apache_mesos_Nope"}, `--hooks: unknown Hook module "org_apache_mesos_Nope"`},
	} {
		tc.flags.WorkDir = t.TempDir()
		tc.flags.Authenticatee = "crammd5"
		_, err := tc.flags.Config(process.UPID{}, slog.Default())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.flags, err, tc.want)
		}
	}
}
