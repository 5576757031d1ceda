package process

import (
	"net/http"

	"github.com/gomesos/gomesos/actor"
	"github.com/gomesos/gomesos/process/future"
)

// Message is a named message as a process receives it: the protobuf's full
// type name and its serialized bytes.
type Message struct {
	Name string
	From UPID
	To   UPID
	Body []byte
}

type messageEvent struct {
	actor.Mark
	msg    Message
	passed []*Filter // filters that released or copied it (nil normally)
}

type dispatchEvent struct {
	actor.Mark
	fn      func()
	method  any    // the function dispatched, named lazily for filters
	abandon func() // fails the dispatch's future when never run
	passed  []*Filter
}

type httpEvent struct {
	actor.Mark
	req     *http.Request
	path    string // the path inside the process, starting with '/'
	promise *future.Promise[*Response]
}

type exitedEvent struct {
	actor.Mark
	pid    UPID // the process that ended
	passed []*Filter
}

type terminateEvent struct {
	actor.Mark
}
