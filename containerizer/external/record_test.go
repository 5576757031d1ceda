package external

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	cpb "github.com/gomesos/gomesos/mesos/containerizerpb"
)

func TestRecordRoundTrip(t *testing.T) {
	in := &cpb.Termination{Killed: proto.Bool(true), Message: proto.String("Memory limit exceeded"), Status: proto.Int32(9)}
	var buf bytes.Buffer
	if err := WriteRecord(&buf, in); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if n := binary.NativeEndian.Uint32(b); int(n) != len(b)-4 {
		t.Fatalf("length header %d for %d bytes", n, len(b)-4)
	}
	var out cpb.Termination
	if err := decodeOnly(b, &out); err != nil || !proto.Equal(in, &out) {
		t.Fatalf("got %v (%v)", &out, err)
	}
}

// The docs' example: the first bytes of a Launch, "40020000" = 576 bytes
// on a little-endian machine.
func TestRecordHeaderIsNative(t *testing.T) {
	hdr := []byte{0x40, 0x02, 0x00, 0x00}
	if binary.NativeEndian.Uint32(hdr) != 576 && binary.NativeEndian.Uint32(hdr) != 0x40020000 {
		t.Fatal("unexpected byte order")
	}
}

func TestRecordGarbage(t *testing.T) {
	good, _ := proto.Marshal(&cpb.Containers{Containers: []*mesos.ContainerID{{Value: proto.String("a")}}})
	frame := func(n uint32, b []byte) []byte {
		h := make([]byte, 4)
		binary.NativeEndian.PutUint32(h, n)
		return append(h, b...)
	}
	for name, tc := range map[string]struct {
		in   []byte
		m    proto.Message
		want string
	}{
		"empty":         {nil, &cpb.Containers{}, "no record"},
		"short header":  {[]byte{1, 2}, &cpb.Containers{}, "record length"},
		"zero":          {frame(0, nil), &cpb.Containers{}, "length 0"},
		"short payload": {frame(100, good), &cpb.Containers{}, "record of length 100"},
		"huge":          {frame(MaxRecord+1, nil), &cpb.Containers{}, "exceeds"},
		"trailing":      {append(frame(uint32(len(good)), good), 'x'), &cpb.Containers{}, "1 bytes after"},
		"text":          {[]byte("this is not a record"), &cpb.Containers{}, "exceeds"},
		"missing field": {frame(2, []byte{0x18, 0x01}), &cpb.Termination{}, "not a mesos.containerizer.Termination"},
	} {
		err := decodeOnly(tc.in, tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
		}
	}
}

func FuzzReadRecord(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteRecord(&buf, &cpb.Termination{Killed: proto.Bool(false), Message: proto.String("done")})
	f.Add(buf.Bytes())
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = decodeOnly(b, &cpb.Termination{})
		_ = decodeOnly(b, &mesos.ResourceStatistics{})
	})
}
