package sim

import (
	"testing"
	"time"

	"github.com/gomesos/gomesos/mesos"
)

func TestSmoke(t *testing.T) {
	s := Schedule{Shape: Shape{Masters: 1, Slaves: 2, Frameworks: 1}, Events: []Event{
		{At: time.Second, Kind: Launch, Count: 3},
		{At: 30 * time.Second, Kind: Kill, Pick: 1},
		{At: 60 * time.Second, Kind: EndTask, Pick: 0, State: mesos.TaskState_TASK_FAILED},
	}}
	start := time.Now()
	res, err := Run(Config{Seed: 1}, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %v; %d deliveries", res.Report(), time.Since(start), res.Delivered)
	if res.Violation != nil {
		t.Fatal(res.Report())
	}
}
