// Package operatorapi holds what the master's and the slave's v1 operator
// APIs (POST /api/v1, Mesos 1.x) share: reading a call in either media
// type and answering in the one the client accepts, with Mesos's status
// codes; converting between the v0 protobufs the daemons keep and the v1
// ones of the API (the same wire layout: "agent" for "slave"); and the
// answers both daemons give alike (flags, version, metrics, logging
// level).
package operatorapi

import (
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/internal/builtin"
	"github.com/gomesos/gomesos/internal/v1http"
	"github.com/gomesos/gomesos/mesos/jsonv1"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Media types of the v1 APIs (internal/v1http owns them).
const (
	MediaJSON     = v1http.MediaJSON
	MediaProtobuf = v1http.MediaProtobuf
)

// Error is a refusal with the HTTP status Mesos answers it with.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Response is the answer e stands for.
func (e *Error) Response() future.Future[*process.Response] {
	return process.Status(e.Status, e.Message)
}

// Errorf returns an Error with a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// RequestMedia checks a call's method and Content-Type: 405 unless POST,
// 400 without a Content-Type, 415 for another media type than JSON or
// protobuf.
func RequestMedia(r *http.Request) (string, *Error) {
	if r.Method != http.MethodPost {
		return "", Errorf(http.StatusMethodNotAllowed, "Expecting a 'POST' request, received '%s'", r.Method)
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", Errorf(http.StatusBadRequest, "Expecting 'Content-Type' to be present")
	}
	media, _, _ := mime.ParseMediaType(ct)
	if media != MediaJSON && media != MediaProtobuf {
		return "", Errorf(http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of %s or %s", MediaJSON, MediaProtobuf)
	}
	return media, nil
}

// ResponseMedia picks the answer's media type from the Accept headers
// (v1http.ResponseCodec): JSON when there is none; ok is false when the
// client accepts neither (406).
func ResponseMedia(r *http.Request) (media string, ok bool) { return v1http.ResponseCodec(r) }

// NotAcceptable is the 406 answer to a client that accepts neither media
// type.
func NotAcceptable() *Error {
	return Errorf(http.StatusNotAcceptable, "Expecting 'Accept' to allow '%s' or '%s'", MediaProtobuf, MediaJSON)
}

// Decode reads body, in media, into m: protobuf, or JSON as Mesos reads
// it (mesos/jsonv1). Fields m does not know are dropped in both.
func Decode(media string, body []byte, m proto.Message) error {
	switch media {
	case MediaProtobuf:
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, m); err != nil {
			return fmt.Errorf("Failed to parse body into %s protobuf: %w", m.ProtoReflect().Descriptor().Name(), err)
		}
		return nil
	case MediaJSON:
		if err := jsonv1.Unmarshal(body, m); err != nil {
			return fmt.Errorf("Failed to convert JSON into %s protobuf: %w", m.ProtoReflect().Descriptor().Name(), err)
		}
		return nil
	}
	return fmt.Errorf("unsupported media type %q", media)
}

// Encode writes m in media: protobuf, or JSON as Mesos writes it.
func Encode(media string, m proto.Message) ([]byte, error) {
	if media == MediaProtobuf {
		return proto.Marshal(m)
	}
	return jsonv1.Marshal(m)
}

// Answer is a 200 response carrying m in media.
func Answer(media string, m proto.Message) future.Future[*process.Response] {
	body, err := Encode(media, m)
	if err != nil {
		return process.Status(http.StatusInternalServerError, "Failed to encode the response: "+err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", media)
	return future.Ready(&process.Response{Status: http.StatusOK, Header: h, Body: body})
}

// NoContent is the answer of a call that returns nothing: the status
// alone, without a Content-Type (mesos-go's client refuses one).
func NoContent(status int) future.Future[*process.Response] {
	return future.Ready(&process.Response{Status: status, Header: http.Header{}})
}

// Convert copies src into dst, a message of the same wire layout in the
// other API version (v0 ↔ v1: mesos.Task ↔ mesos.v1.Task). Fields dst
// does not know are dropped; dst is returned.
func Convert[T proto.Message](dst T, src proto.Message) T {
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(src)
	if err == nil {
		err = proto.UnmarshalOptions{AllowPartial: true, DiscardUnknown: true}.Unmarshal(b, dst)
	}
	if err != nil {
		// Both sides are our own generated types of one layout: a
		// failure is a programming error.
		panic(fmt.Sprintf("operatorapi: convert %T to %T: %v", src, dst, err))
	}
	return dst
}

// ConvertAll converts each of src with Convert into a new T from newT.
func ConvertAll[T, S proto.Message](src []S, newT func() T) []T {
	out := make([]T, 0, len(src))
	for _, s := range src {
		out = append(out, Convert(newT(), s))
	}
	return out
}

// TimeInfo is t as a v1 TimeInfo, or nil for the zero time.
func TimeInfo(t time.Time) *mesospb.TimeInfo {
	if t.IsZero() {
		return nil
	}
	return &mesospb.TimeInfo{Nanoseconds: proto.Int64(t.UnixNano())}
}

// Flags lists a daemon's flags by name.
func Flags(flags map[string]string) []*mesospb.Flag {
	out := make([]*mesospb.Flag, 0, len(flags))
	for _, n := range slices.Sorted(maps.Keys(flags)) {
		out = append(out, &mesospb.Flag{Name: proto.String(n), Value: proto.String(flags[n])})
	}
	return out
}

// Metrics takes a snapshot of the runtime's metrics, off every process
// (gauges dispatch to the processes they read), bounded by timeout (the
// registry's default when nil or not positive). Gauges that do not answer
// in time are left out, as in /metrics/snapshot.
func Metrics(rt *process.Runtime, timeout *mesospb.DurationInfo) future.Future[[]*mesospb.Metric] {
	return future.Async(edge, func() ([]*mesospb.Metric, error) {
		snap := rt.MetricsSnapshot(time.Duration(timeout.GetNanoseconds()))
		out := make([]*mesospb.Metric, 0, len(snap))
		for _, n := range slices.Sorted(maps.Keys(snap)) {
			out = append(out, &mesospb.Metric{Name: proto.String(n), Value: proto.Float64(snap[n])})
		}
		return out, nil
	})
}

// edge runs work that blocks (waiting on other processes, the disk) on a
// goroutine of its own; its future completes from there.
func edge(fn func()) { go fn() }

// Blocking runs fn at the edge (off every process) and returns its result
// as a future: the operator APIs' file reads go through it.
func Blocking[T any](fn func() (T, error)) future.Future[T] { return future.Async(edge, fn) }

// VersionInfo is /version's answer as a v1 VersionInfo.
func VersionInfo(version string) *mesospb.VersionInfo {
	b := builtin.Build(version)
	return &mesospb.VersionInfo{
		Version:   proto.String(b.Version),
		BuildDate: proto.String(b.BuildDate),
		BuildTime: proto.Float64(b.BuildTime),
		BuildUser: proto.String(b.BuildUser),
		GitSha:    proto.String(b.GitSHA),
		GitBranch: proto.String(b.GitBranch),
		GitTag:    proto.String(b.GitTag),
	}
}

// Need is the validation message for a call whose type needs a body
// field: "" when present, else Mesos's "Expecting 'field' to be present".
func Need(present bool, field string) string {
	if !present {
		return "Expecting '" + field + "' to be present"
	}
	return ""
}
