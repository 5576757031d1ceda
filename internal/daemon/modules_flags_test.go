package daemon

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/gomesos/gomesos/auth/crammd5"
	"github.com/gomesos/gomesos/containerizer"
	"github.com/gomesos/gomesos/flags"
	"github.com/gomesos/gomesos/master/allocator"
	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/slave"
)

// testAllocator is an allocator module of this test: it keeps the
// parameters it was built with.
const testAllocator = "gomesos_test_Allocator"

var testAllocatorParams = make(chan modules.Parameters, 1)

func init() {
	allocator.Register(testAllocator, func(o allocator.Options) (allocator.Allocator, error) {
		testAllocatorParams <- o.Parameters
		return allocator.NewDRF(o), nil
	})
}

// slaveConfig parses args as mesos-slave does and builds its
// configuration.
func slaveConfig(t *testing.T, args ...string) (slave.Config, error) {
	t.Helper()
	fs := flags.New("mesos-slave", "")
	var sf SlaveFlags
	sf.Register(fs, true)
	if err := fs.Parse(append([]string{"--master=127.0.0.1:5050", "--work_dir=" + t.TempDir()}, args...), nil); err != nil {
		t.Fatal(err)
	}
	return sf.Config(process.UPID{}, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
}

// Every flag that names a module resolves it through package modules: an
// unknown name fails start-up with the flag, the kind and the known
// modules of that kind.
func TestModuleFlagsRejectUnknownNames(t *testing.T) {
	for _, tc := range []struct {
		daemon, flag, want string
	}{
		{"master", "--allocator=Nope", `--allocator: unknown Allocator module "Nope" (known: ` + allocator.DefaultName + ", " + testAllocator + ")"},
		{"master", "--authenticators=nope", `--authenticators: unknown Authenticator module "nope" (known: crammd5)`},
		{"master", "--authenticators=crammd5,crammd5", `--authenticators=crammd5,crammd5: only one authenticator may be given`},
		{"master", `--modules={"libraries":[{"file":"liba.so","modules":[{"name":"org_apache_mesos_Nope"}]}]}`, `--modules: unknown module "org_apache_mesos_Nope" (known: Allocator/HierarchicalDRF, `},
		{"master", "--hooks=nope", `--hooks: unknown Hook module "nope" (known: )`},
		{"slave", "--authenticatee=nope", `--authenticatee: unknown Authenticatee module "nope" (known: crammd5)`},
		{"slave", "--resource_estimator=nope", `--resource_estimator: unknown ResourceEstimator module "nope" (known: fixed, noop, org_apache_mesos_FixedResourceEstimator)`},
		{"slave", "--qos_controller=nope", `--qos_controller: unknown QoSController module "nope" (known: load, noop, org_apache_mesos_LoadQoSController)`},
		{"slave", "--container_logger=nope", `--container_logger: unknown ContainerLogger module "nope" (known: sandbox)`},
		{"slave", "--isolation=posix/cpu,nope", `--isolation: unknown Isolator module "nope" (known: cgroups/cpu, cgroups/mem, posix/cpu, posix/mem)`},
		{"slave", "--hooks=nope", `--hooks: unknown Hook module "nope" (known: )`},
		{"slave", "--resource_estimator=crammd5", `--resource_estimator: unknown ResourceEstimator module "crammd5"`},
		{"slave", "--resource_estimator=fixed", `--resource_estimator: ResourceEstimator module "fixed": fixed resource estimator: the parameter resources is required`},
		{"slave", "--qos_controller=load", `--qos_controller: QoSController module "load": load QoS controller: give load_threshold_5min or load_threshold_15min`},
		{"slave", `--modules={"libraries":[{"modules":[{"name":"sandbox","parameters":[{"key":"max_size","value":"1MB"}]}]}]}`, `--container_logger: ContainerLogger module "sandbox": sandbox container logger: unknown parameter "max_size"`},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			var err error
			if tc.daemon == "master" {
				_, err = masterConfig("--registry=in_memory", tc.flag)
			} else {
				_, err = slaveConfig(t, tc.flag)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %s: err %v, want %q", tc.daemon, tc.flag, err, tc.want)
			}
		})
	}
}

// The modules named by the flags are built with their parameters from
// --modules (and the slave's own parameter flags, which win).
func TestModuleFlagsPassParameters(t *testing.T) {
	cfg, err := masterConfig("--registry=in_memory", "--allocator="+testAllocator,
		`--modules={"libraries":[{"file":"/usr/lib/liballoc.so","modules":[{"name":"`+testAllocator+`","parameters":[{"key":"k","value":"v"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Authenticator.(*crammd5.Authenticator); !ok {
		t.Errorf("--authenticators default built %T", cfg.Authenticator)
	}
	if _, err := allocator.New(cfg.Modules, cfg.Allocator, allocator.Options{}); err != nil {
		t.Fatal(err)
	}
	if p := <-testAllocatorParams; p["k"] != "v" {
		t.Errorf("the allocator module got parameters %v", p)
	}

	for _, tc := range []struct {
		args []string
		cpus float64
	}{
		{[]string{"--resource_estimator=org_apache_mesos_FixedResourceEstimator",
			`--modules={"libraries":[{"file":"/usr/lib/libfixed.so","modules":[{"name":"org_apache_mesos_FixedResourceEstimator","parameters":[{"key":"resources","value":"cpus:3"}]}]}]}`}, 3},
		{[]string{"--resource_estimator=fixed", "--resource_estimator_params=cpus:2;mem:64"}, 2},
		{[]string{"--resource_estimator=fixed", "--resource_estimator_params=resources=cpus:5",
			`--modules={"libraries":[{"modules":[{"name":"fixed","parameters":[{"key":"resources","value":"cpus:3"}]}]}]}`}, 5},
		{[]string{"--oversubscribed_resources=cpus:4"}, 4},
	} {
		scfg, err := slaveConfig(t, tc.args...)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		fixed, ok := scfg.ResourceEstimator.(slave.FixedEstimator)
		if !ok || fixed.Resources.Scalar("cpus") != tc.cpus {
			t.Errorf("%q: estimator %#v, want fixed cpus:%v", tc.args, scfg.ResourceEstimator, tc.cpus)
		}
	}

	scfg, err := slaveConfig(t, "--qos_controller=org_apache_mesos_LoadQoSController", "--resource_estimator=noop",
		`--modules={"libraries":[{"modules":[{"name":"org_apache_mesos_LoadQoSController","parameters":[{"key":"load_threshold_5min","value":"7"}]}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if q, ok := scfg.QoSController.(*slave.LoadQoSController); !ok || q.Threshold5 != 7 {
		t.Errorf("qos controller %#v, want load with load_threshold_5min 7", scfg.QoSController)
	}
	if scfg.ResourceEstimator != nil {
		t.Errorf("--resource_estimator=noop built %#v, want none to poll", scfg.ResourceEstimator)
	}
	if _, ok := scfg.ContainerLogger.(containerizer.SandboxLogger); !ok {
		t.Errorf("--container_logger default built %T", scfg.ContainerLogger)
	}
	if _, ok := scfg.Authenticatee.(crammd5.Authenticatee); !ok {
		t.Errorf("--authenticatee default built %T", scfg.Authenticatee)
	}
}
