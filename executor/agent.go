package executor

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gomesos/gomesos/internal/v1http"
	"github.com/gomesos/gomesos/mesos/executorpb"
	v1 "github.com/gomesos/gomesos/mesos/v1/executorpb"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/recordio"
)

// Agent is an HTTP executor's line to its slave's v1 executor API
// (/api/v1/executor). Its methods return at once; the answers come as
// futures, completed by the HTTP I/O.
type Agent interface {
	// Subscribe posts a SUBSCRIBE call; the future is ready with the
	// stream of Events once the slave answered 200.
	Subscribe(call *executorpb.Call) future.Future[Events]
	// Call posts an UPDATE or MESSAGE call; the future is ready once the
	// slave answered 202.
	Call(call *executorpb.Call) future.Future[future.Nothing]
}

// Events is a subscription's stream of Events.
type Events interface {
	// Next is the next Event; failed once the stream ends or breaks.
	// One Next at a time.
	Next() future.Future[*executorpb.Event]
	// Close ends the subscription.
	Close()
}

// maxEvent bounds one Event on the stream (as the v1 clients do).
const maxEvent = 4 << 20

// HTTPAgent is the Agent over HTTP: calls go to URL, in JSON or protobuf.
type HTTPAgent struct {
	URL  string
	JSON bool
	// Client posts the calls (nil: one that gives up after 30 s without
	// an answer); subscriptions use a client without that bound.
	Client *http.Client
	stream *http.Client
}

// NewHTTPAgent returns the Agent of the slave whose API is at url.
func NewHTTPAgent(url string, json bool) *HTTPAgent {
	dial := (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	return &HTTPAgent{
		URL: url, JSON: json,
		Client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dial}},
		stream: &http.Client{Transport: &http.Transport{DialContext: dial, ResponseHeaderTimeout: 30 * time.Second}},
	}
}

// AgentURL is the v1 executor API of the slave at pid's address, under
// the slave's process id (/slave(1)/api/v1/executor), as Mesos's own
// executor library finds it; this also works where the slave shares its
// port with a master (mesos-local).
func AgentURL(slave string) string {
	at := strings.LastIndexByte(slave, '@')
	return "http://" + slave[at+1:] + "/" + slave[:at] + "/api/v1/executor"
}

// ioEdge runs blocking HTTP I/O on a goroutine of its own; its result
// comes back as a future (the driver continues on its process).
func ioEdge(fn func()) { go fn() }

func (a *HTTPAgent) media() string {
	if a.JSON {
		return v1http.MediaJSON
	}
	return v1http.MediaProtobuf
}

func (a *HTTPAgent) post(client *http.Client, call *executorpb.Call) (*http.Response, error) {
	body, err := v1http.Encode(call, a.JSON, &v1.Call{})
	if err != nil {
		return nil, fmt.Errorf("encode %s call: %w", call.GetType(), err)
	}
	req, err := http.NewRequest(http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s call: %w", call.GetType(), err)
	}
	req.Header.Set("Content-Type", a.media())
	req.Header.Set("Accept", a.media())
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s call: %w", call.GetType(), err)
	}
	return resp, nil
}

// refused is the error of an answer other than the one expected.
func refused(call *executorpb.Call, resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	return fmt.Errorf("%s call: the slave answered %s: %s", call.GetType(), resp.Status, strings.TrimSpace(string(msg)))
}

// Subscribe implements Agent.
func (a *HTTPAgent) Subscribe(call *executorpb.Call) future.Future[Events] {
	return future.Async(ioEdge, func() (Events, error) {
		resp, err := a.post(a.stream, call)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, refused(call, resp)
		}
		media := v1http.MediaType(resp.Header.Get("Content-Type"))
		return &httpEvents{body: resp.Body, rd: recordio.NewReader(resp.Body, maxEvent), media: media}, nil
	})
}

// Call implements Agent.
func (a *HTTPAgent) Call(call *executorpb.Call) future.Future[future.Nothing] {
	return future.Async(ioEdge, func() (future.Nothing, error) {
		resp, err := a.post(a.Client, call)
		if err != nil {
			return future.Nothing{}, err
		}
		if resp.StatusCode != http.StatusAccepted {
			return future.Nothing{}, refused(call, resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return future.Nothing{}, nil
	})
}

type httpEvents struct {
	body  io.ReadCloser
	rd    *recordio.Reader
	media string
}

func (e *httpEvents) Next() future.Future[*executorpb.Event] {
	return future.Async(ioEdge, func() (*executorpb.Event, error) {
		rec, err := e.rd.ReadRecord()
		if err != nil {
			return nil, fmt.Errorf("executor event stream: %w", err)
		}
		ev := &executorpb.Event{}
		if err := v1http.Decode(e.media, rec, ev, &v1.Event{}); err != nil {
			return nil, fmt.Errorf("executor event stream: %w", err)
		}
		return ev, nil
	})
}

func (e *httpEvents) Close() { _ = e.body.Close() }
