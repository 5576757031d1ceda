package state

import (
	"encoding/binary"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

// FuzzDecodeMessages feeds the checkpoint record reader arbitrary bytes
// (a damaged task.updates): it never panics, never allocates for a
// declared size it does not hold, cuts only a partial trailing record,
// and reports anything else as corruption.
func FuzzDecodeMessages(f *testing.F) {
	rec := func(m proto.Message) []byte {
		b, err := record(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	update := rec(&messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_UPDATE.Enum(),
		Update: &messages.StatusUpdate{
			FrameworkId: &mesos.FrameworkID{Value: proto.String("f")},
			Status:      &mesos.TaskStatus{TaskId: &mesos.TaskID{Value: proto.String("t")}, State: mesos.TaskState_TASK_RUNNING.Enum()},
			Timestamp:   proto.Float64(1), Uuid: []byte("u1"),
		}})
	ack := rec(&messages.StatusUpdateRecord{Type: messages.StatusUpdateRecord_ACK.Enum(), Uuid: []byte("u1")})
	f.Add([]byte{})
	f.Add(update)
	f.Add(append(append([]byte{}, update...), ack...))
	f.Add(append(append([]byte{}, update...), ack[:5]...))
	f.Add(append(append([]byte{}, update...), 0xff, 0xff, 0xff, 0x7f))
	f.Add([]byte{3, 0, 0, 0, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		records, whole := SplitRecords(data)
		if whole < 0 || whole > len(data) {
			t.Fatalf("whole %d of %d bytes", whole, len(data))
		}
		n := 0
		for _, r := range records {
			if got := binary.LittleEndian.Uint32(data[n:]); int(got) != len(r) {
				t.Fatalf("record of %d bytes framed as %d", len(r), got)
			}
			n += 4 + len(r)
		}
		if n != whole {
			t.Fatalf("records fill %d bytes, whole says %d", n, whole)
		}
		if rest, _ := SplitRecords(data[whole:]); len(rest) != 0 {
			t.Fatal("a whole record was left after whole")
		}
		msgs, err := DecodeMessages("task.updates", data, func() *messages.StatusUpdateRecord { return new(messages.StatusUpdateRecord) })
		var torn *TornError
		switch {
		case err == nil:
			if whole != len(data) || len(msgs) != len(records) {
				t.Fatalf("no error, but %d of %d bytes and %d of %d records", whole, len(data), len(msgs), len(records))
			}
		case errors.As(err, &torn):
			if torn.Whole != int64(whole) || len(msgs) != len(records) {
				t.Fatalf("torn at %d, whole %d", torn.Whole, whole)
			}
		case !errors.Is(err, ErrCorrupt):
			t.Fatalf("error neither torn nor corrupt: %v", err)
		}
	})
}
