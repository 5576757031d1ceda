// Package wire is the libprocess HTTP wire protocol: the byte-exact
// encoding of messages, a decoder for what peers send (messages from
// libprocess and mesos-go, and plain HTTP requests for routes), and the
// Transport that listens on a port and keeps outbound connections.
//
// Outbound, each message is `POST /<to-id>/<name> HTTP/1.1` with the
// libprocess headers and exactly one chunk of body; writes are pipelined
// and whatever comes back is read and discarded. Inbound, messages are
// answered 202 Accepted (404 for an unknown process) in request order,
// and other requests go to the Receiver's ServeHTTP.
package wire

import (
	"strconv"

	"github.com/gomesos/gomesos/process/upid"
)

// AppendMessage appends the libprocess encoding of one message to dst: the
// request line, User-Agent, Libprocess-From, Connection: Keep-Alive, an
// empty Host, and the body as a single chunk (no body: no framing at all).
func AppendMessage(dst []byte, from, to upid.UPID, name string, body []byte) []byte {
	fromText := from.String()
	dst = append(dst, "POST /"...)
	if to.ID != "" {
		dst = append(dst, to.ID...)
		dst = append(dst, '/')
	}
	dst = append(dst, name...)
	dst = append(dst, " HTTP/1.1\r\nUser-Agent: libprocess/"...)
	dst = append(dst, fromText...)
	dst = append(dst, "\r\nLibprocess-From: "...)
	dst = append(dst, fromText...)
	dst = append(dst, "\r\nConnection: Keep-Alive\r\nHost: \r\n"...)
	if len(body) == 0 {
		return append(dst, "\r\n"...)
	}
	dst = append(dst, "Transfer-Encoding: chunked\r\n\r\n"...)
	dst = strconv.AppendUint(dst, uint64(len(body)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, body...)
	return append(dst, "\r\n0\r\n\r\n"...)
}
