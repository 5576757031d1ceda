package mesos

import (
	"bytes"
	"math/rand"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewUUIDIsVersion4FromTheSource(t *testing.T) {
	seeded := func(seed int64) func([]byte) {
		r := rand.New(rand.NewSource(seed))
		return func(b []byte) { r.Read(b) }
	}
	a, b := NewUUID(seeded(7)), NewUUID(seeded(7))
	if a != b {
		t.Fatalf("same seed, different uuids: %s %s", a, b)
	}
	if c := NewUUID(seeded(8)); c == a {
		t.Fatalf("different seeds, same uuid %s", c)
	}
	if a.Version() != 4 || a.Variant() != uuid.RFC4122 {
		t.Fatalf("uuid %s: version %d variant %v, want 4 RFC4122", a, a.Version(), a.Variant())
	}
	parsed, err := uuid.Parse(a.String())
	if err != nil || !bytes.Equal(parsed[:], a[:]) {
		t.Fatalf("text form %q does not parse back: %v", a.String(), err)
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Unix(1700000000, 0),
		time.Unix(1700000000, 123456000),
		time.Date(2016, 7, 27, 12, 0, 0, 500000000, time.UTC),
	} {
		s := Timestamp(tm)
		if want := float64(tm.UnixNano()) / 1e9; s != want {
			t.Errorf("Timestamp(%v) = %v, want %v", tm, s, want)
		}
		back := TimestampTime(s)
		if d := back.Sub(tm); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("TimestampTime(Timestamp(%v)) = %v, off by %v", tm, back, d)
		}
	}
	if Timestamp(time.Time{}) != 0 || !TimestampTime(0).IsZero() {
		t.Error("the zero time is not 0 and back")
	}
}
