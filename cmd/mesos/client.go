package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// client talks to the masters and slaves over HTTP.
type client struct {
	master            string // host:port as given
	leader            string // host:port of the leading master, once found
	principal, secret string
	http              *http.Client
}

func newClient(master, principal, secret string) *client {
	return &client{
		master: master, principal: principal, secret: secret,
		http: &http.Client{
			Timeout: 30 * time.Second,
			// Redirects are followed by hand: /master/redirect's
			// Location is the leader's "//host:port".
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// httpError is an answer other than 200.
type httpError struct {
	url    string
	status int
	body   string
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("%s answered %d %s", e.url, e.status, http.StatusText(e.status))
	if b := strings.TrimSpace(e.body); b != "" {
		msg += ": " + b
	}
	if e.status == http.StatusUnauthorized {
		msg += " (give --principal and --secret, or MESOS_PRINCIPAL and MESOS_SECRET)"
	}
	return msg
}

// get fetches http://hostport/path and returns its body when it answers
// 200.
func (c *client) get(hostport, path string) ([]byte, error) {
	u := "http://" + hostport + path
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if c.principal != "" {
		req.SetBasicAuth(c.principal, c.secret)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, &httpError{url: u, status: resp.StatusCode, body: string(body)}
	}
	return body, nil
}

// leading finds the leading master through --master's /master/redirect
// (a standby master names the leader; the leader names itself).
func (c *client) leading() (string, error) {
	if c.leader != "" {
		return c.leader, nil
	}
	u := "http://" + c.master + "/master/redirect"
	resp, err := c.http.Get(u)
	if err != nil {
		return "", fmt.Errorf("cannot reach the master at %s: %w", c.master, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusTemporaryRedirect, http.StatusFound, http.StatusMovedPermanently, http.StatusSeeOther:
	case http.StatusServiceUnavailable:
		return "", fmt.Errorf("the master at %s knows no leading master (no leader elected)", c.master)
	default:
		return "", fmt.Errorf("%s answered %d %s, not a redirect to the leading master", u, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host == "" {
		return "", fmt.Errorf("%s redirected to %q, not to a master", u, resp.Header.Get("Location"))
	}
	c.leader = loc.Host
	return c.leader, nil
}

// masterState reads the leading master's /master/state.
func (c *client) masterState() (*masterState, []byte, error) {
	leader, err := c.leading()
	if err != nil {
		return nil, nil, err
	}
	body, err := c.get(leader, "/master/state")
	if err != nil {
		return nil, nil, err
	}
	var s masterState
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, nil, fmt.Errorf("the master's /master/state: %w", err)
	}
	return &s, body, nil
}

func (c *client) state(w io.Writer) error {
	_, body, err := c.masterState()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

func (c *client) ps(w io.Writer, all bool) error {
	s, _, err := c.masterState()
	if err != nil {
		return err
	}
	return formatPS(w, s, s.tasks(all))
}

// sandboxFile is a file of a task's sandbox on its slave.
type sandboxFile struct {
	slave string // host:port
	path  string
	task  taskRow
}

// locate finds task's file: the task in the master's state, its slave,
// and the executor's directory in the slave's state.
func (c *client) locate(task, file string) (*sandboxFile, error) {
	s, _, err := c.masterState()
	if err != nil {
		return nil, err
	}
	row, err := s.findTask(task)
	if err != nil {
		return nil, err
	}
	sl, ok := s.slave(row.task.SlaveID)
	if !ok {
		return nil, fmt.Errorf("the slave %s of task %s is not registered with the master (down or removed): its sandbox cannot be read", row.task.SlaveID, row.task.ID)
	}
	id, hostport, ok := strings.Cut(sl.PID, "@")
	if !ok {
		return nil, fmt.Errorf("slave %s has no pid in the master's state (%q)", sl.ID, sl.PID)
	}
	body, err := c.get(hostport, "/"+id+"/state")
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return nil, err
		}
		return nil, fmt.Errorf("slave %s at %s is not reachable: %w", sl.ID, hostport, err)
	}
	var ss slaveState
	if err := json.Unmarshal(body, &ss); err != nil {
		return nil, fmt.Errorf("slave %s's /state: %w", sl.ID, err)
	}
	dir, ok := ss.sandbox(row.task.FrameworkID, row.task.ID)
	if !ok {
		return nil, fmt.Errorf("slave %s knows no executor of task %s (its sandbox may have been garbage-collected)", sl.ID, row.task.ID)
	}
	path := file
	if !strings.HasPrefix(file, "/") {
		path = strings.TrimSuffix(dir, "/") + "/" + file
	}
	return &sandboxFile{slave: hostport, path: path, task: row}, nil
}

// readChunk is one /files/read answer.
type readChunk struct {
	Offset int64  `json:"offset"`
	Data   string `json:"data"`
}

// read reads from offset (-1: only the file's size, as the offset).
func (c *client) read(f *sandboxFile, offset, length int64) (readChunk, error) {
	q := url.Values{"path": {f.path}, "offset": {strconv.FormatInt(offset, 10)}, "length": {strconv.FormatInt(length, 10)}}
	body, err := c.get(f.slave, "/files/read?"+q.Encode())
	if err != nil {
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusNotFound {
			return readChunk{}, fmt.Errorf("no file %s in the sandbox of task %s", f.path, f.task.task.ID)
		}
		if !errors.As(err, &he) {
			return readChunk{}, fmt.Errorf("the slave at %s is not reachable: %w", f.slave, err)
		}
		return readChunk{}, err
	}
	var ch readChunk
	if err := json.Unmarshal(body, &ch); err != nil {
		return readChunk{}, fmt.Errorf("/files/read: %w", err)
	}
	return ch, nil
}

// chunk is the length asked of each /files/read.
const chunk = 64 * 1024

// copyFrom writes the file from offset to its current end and returns
// the offset reached.
func (c *client) copyFrom(w io.Writer, f *sandboxFile, offset int64) (int64, error) {
	return c.copyRange(w, f, offset, -1)
}

func (c *client) cat(w io.Writer, task, file string) error {
	f, err := c.locate(task, file)
	if err != nil {
		return err
	}
	_, err = c.copyFrom(w, f, 0)
	return err
}

// tail writes the file's last n lines and, with follow, what is written
// to it afterwards, until the task ends (what it wrote last included) or
// stop.
func (c *client) tail(w io.Writer, task, file string, n int, follow bool, interval time.Duration, stop <-chan os.Signal) error {
	f, err := c.locate(task, file)
	if err != nil {
		return err
	}
	end, err := c.read(f, -1, 0)
	if err != nil {
		return err
	}
	size := end.Offset
	// Read back from the end until n lines are in hand.
	var tailData string
	start := size
	for start > 0 && strings.Count(strings.TrimSuffix(tailData, "\n"), "\n") < n {
		from := max(0, start-chunk)
		var part strings.Builder
		if _, err := c.copyRange(&part, f, from, start); err != nil {
			return err
		}
		tailData = part.String() + tailData
		start = from
	}
	if _, err := io.WriteString(w, lastLines(tailData, n)); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	offset := size
	for {
		if offset, err = c.copyFrom(w, f, offset); err != nil {
			return err
		}
		if done, err := c.taskEnded(f.task); err != nil || done {
			if err == nil {
				// What it wrote before it ended.
				_, err = c.copyFrom(w, f, offset)
			}
			return err
		}
		select {
		case <-stop:
			return nil
		case <-time.After(interval): // wall-clock: the user follows a file
		}
	}
}

// copyRange writes the file's bytes in [from, to), or from from to its
// current end when to is negative, and returns the offset reached.
func (c *client) copyRange(w io.Writer, f *sandboxFile, from, to int64) (int64, error) {
	for to < 0 || from < to {
		length := int64(chunk)
		if to >= 0 {
			length = min(chunk, to-from)
		}
		ch, err := c.read(f, from, length)
		if err != nil {
			return from, err
		}
		if ch.Data == "" {
			return from, nil
		}
		if _, err := io.WriteString(w, ch.Data); err != nil {
			return from, err
		}
		from = ch.Offset + int64(len(ch.Data))
	}
	return from, nil
}

// taskEnded asks the master whether the task is in a terminal state (or
// gone from its state).
func (c *client) taskEnded(t taskRow) (bool, error) {
	s, _, err := c.masterState()
	if err != nil {
		return false, err
	}
	for _, r := range s.tasks(true) {
		if r.task.ID == t.task.ID && r.task.FrameworkID == t.task.FrameworkID {
			if !terminal(r.task.State) {
				return false, nil
			}
		}
	}
	return true, nil
}
