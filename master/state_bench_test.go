package master

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/resources"
)

// stateFixture is a master holding n slaves and frameworks×tasks running
// tasks (one per slave, round robin), each framework with a full list of
// completed tasks and offers on half the idle slaves: the shape /state
// has at issue 12's scale.
func stateFixture(tb testing.TB, n, frameworks, tasks int) *master {
	tb.Helper()
	m := newMaster(Config{})
	total, err := resources.Parse("cpus:4;mem:8192;disk:65536;ports:[31000-32000]", "*")
	if err != nil {
		tb.Fatal(err)
	}
	taskRes, err := resources.Parse("cpus:0.1;mem:32", "*")
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Unix(1_800_000_000, 0)
	slaves := make([]*slave, n)
	for i := range slaves {
		id := fmt.Sprintf("S-%06d", i)
		info := &mesos.SlaveInfo{Id: &mesos.SlaveID{Value: proto.String(id)}, Hostname: proto.String(fmt.Sprintf("host%d", i)),
			Resources: total.ToProto()}
		s := &slave{id: id, info: info, pid: process.UPID{ID: fmt.Sprintf("slave(%d)", i), Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(5051+i%1000))},
			version: "0.25.0", connected: true, active: true, registered: start, total: total,
			tasks: map[string]map[string]*mesos.Task{}, executors: map[string]map[string]*mesos.ExecutorInfo{}, offers: map[string]*offer{}}
		m.slaves[id] = s
		s.enterBooks(&m.books)
		slaves[i] = s
	}
	for fi := 0; fi < frameworks; fi++ {
		fid := fmt.Sprintf("F-%04d", fi)
		info := &mesos.FrameworkInfo{Id: &mesos.FrameworkID{Value: proto.String(fid)}, Name: proto.String("load"), User: proto.String("root")}
		f := &framework{id: fid, info: info, pid: process.UPID{ID: "scheduler", Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(6000+fi))},
			connected: true, active: true, registered: start,
			tasks: map[string]*mesos.Task{}, offers: map[string]*offer{}, executors: map[string]map[string]*mesos.ExecutorInfo{}}
		m.frameworks[fid] = f
		task := func(ti int, s *slave, state mesos.TaskState) *mesos.Task {
			return &mesos.Task{Name: proto.String("t"), TaskId: &mesos.TaskID{Value: proto.String(fmt.Sprintf("%s-T%d", fid, ti))},
				FrameworkId: info.Id, SlaveId: s.info.Id, State: state.Enum(), Resources: taskRes.ToProto(),
				Statuses: []*mesos.TaskStatus{{State: state.Enum(), Timestamp: proto.Float64(1.8e9)}}}
		}
		for ti := 0; ti < tasks; ti++ {
			s := slaves[(fi*tasks+ti)%n]
			t := task(ti, s, mesos.TaskState_TASK_RUNNING)
			f.tasks[t.GetTaskId().GetValue()] = t
			s.addTask(t)
		}
		// An outstanding offer on every other slave without tasks.
		for si := fi; si < n; si += 2 * frameworks {
			if s := slaves[si]; len(s.tasks) == 0 {
				id := fmt.Sprintf("O-%d", si)
				o := &offer{o: &mesos.Offer{Id: &mesos.OfferID{Value: proto.String(id)}}, f: f, s: s, res: total}
				f.offers[id], s.offers[id], m.offers[id] = o, o, o
			}
		}
		for ti := 0; ti < maxCompletedTasks; ti++ {
			f.completed = append(f.completed, task(tasks+ti, slaves[ti%n], mesos.TaskState_TASK_FINISHED))
		}
	}
	return m
}

// BenchmarkStateHold is how long /master/state holds the master's process
// (what it does before the encoding moves off it), at 50,000 slaves and
// 10 frameworks × 5,000 running tasks.
func BenchmarkStateHold(b *testing.B) {
	m := stateFixture(b, 50000, 10, 5000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.copyState().recycle()
	}
}

// BenchmarkStateEncode is the whole of /master/state at the same scale:
// the hold plus the encoding.
func BenchmarkStateEncode(b *testing.B) {
	m := stateFixture(b, 50000, 10, 5000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := m.copyState()
		out := c.render((*stateCopy).writeState)
		c.recycle()
		b.SetBytes(int64(len(out)))
	}
}

// BenchmarkStateHoldSlavesOnly is the hold at 50,000 slaves without tasks.
func BenchmarkStateHoldSlavesOnly(b *testing.B) {
	m := stateFixture(b, 50000, 0, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.copyState().recycle()
	}
}
