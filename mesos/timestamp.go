package mesos

import (
	"math"
	"time"
)

// Timestamp returns t as Mesos writes time stamps (TaskStatus.timestamp,
// StatusUpdate.timestamp, the *_time fields of the state endpoints):
// seconds since the Unix epoch as a float64. The zero time is 0.
func Timestamp(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// TimestampTime is the inverse of Timestamp: the time of a Mesos time
// stamp, to the precision a float64 keeps (well under a microsecond for
// today's dates). 0 gives the zero time.
func TimestampTime(seconds float64) time.Time {
	if seconds == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(math.Round(seconds*1e9)))
}
