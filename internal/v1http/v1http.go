// Package v1http holds what the v1 HTTP APIs (/api/v1/scheduler on the
// master, /api/v1/executor on the slave) share: their media types, the
// choice of the stream's codec from the Accept header, and the two codecs
// of a call or event. A call or event is held internally in the v0
// package's types (mesos.*, slave_id) and written on the wire either as
// protobuf (the same bytes: the v1 messages keep every field number) or as
// JSON in the v1 names (agent_id), as Mesos writes and reads it
// (mesos/jsonv1).
package v1http

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos/jsonv1"
)

// Media types of the v1 APIs.
const (
	MediaJSON     = "application/json"
	MediaProtobuf = "application/x-protobuf"
)

// MediaType returns the media type of a request's Content-Type header
// (its parameters dropped).
func MediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.TrimSpace(contentType)
	}
	return mt
}

// ResponseCodec picks a stream's media type from the Accept headers
// (every value, as some clients send the header twice): JSON when none is
// given, and false when neither JSON nor protobuf is acceptable.
func ResponseCodec(r *http.Request) (string, bool) {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return MediaJSON, true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			switch mt {
			case MediaJSON, "*/*", "application/*":
				return MediaJSON, true
			case MediaProtobuf:
				return MediaProtobuf, true
			}
		}
	}
	return "", false
}

// Encode writes m as protobuf, or (json) as the v1 message v1 (a new,
// empty message of m's v1 twin) in Mesos's JSON.
func Encode(m proto.Message, json bool, v1 proto.Message) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil || !json {
		return b, err
	}
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(b, v1); err != nil {
		return nil, fmt.Errorf("v1http: encode %s: %w", v1.ProtoReflect().Descriptor().FullName(), err)
	}
	return jsonv1.Marshal(v1)
}

// Decode reads body of the given media type into m; JSON is read as the
// v1 message v1 (a new, empty message of m's v1 twin) in Mesos's JSON.
func Decode(mediaType string, body []byte, m, v1 proto.Message) error {
	switch mediaType {
	case MediaProtobuf:
		return proto.Unmarshal(body, m)
	case MediaJSON:
		if err := jsonv1.Unmarshal(body, v1); err != nil {
			return err
		}
		b, err := proto.Marshal(v1)
		if err != nil {
			return err
		}
		return proto.Unmarshal(b, m)
	}
	return fmt.Errorf("unsupported content type %q", mediaType)
}

// Stream is the body of a subscription's response: it writes each
// RecordIO frame of frames as it comes, flushing after each, until frames
// is closed or ctx (the request's) is done, and then calls ended (the
// subscriber went away, or the stream was ended).
func Stream(ctx context.Context, frames <-chan []byte, ended func()) func(w io.Writer, flush func()) error {
	return func(w io.Writer, flush func()) error {
		defer ended()
		for {
			select {
			case frame, ok := <-frames:
				if !ok {
					return nil
				}
				if _, err := w.Write(frame); err != nil {
					return err
				}
				flush()
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}
