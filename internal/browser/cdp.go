package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Page is one tab of a headless Chromium driven over the DevTools
// protocol, spoken on a pipe (--remote-debugging-pipe: commands go to the
// browser's file descriptor 3, answers and events come back on 4, each a
// JSON object ended by a NUL byte), so it needs no WebSocket library.
// Unlike DumpDOM, a Page stays open: a test navigates, evaluates
// JavaScript, waits for the page to reach a state and takes screenshots,
// in real time. Close it when done.
type Page struct {
	cmd     *exec.Cmd
	profile string
	toB     *os.File // our end of the browser's fd 3
	fromB   *os.File // our end of the browser's fd 4
	session string   // the attached tab's sessionId

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpReply
	errs    []string // uncaught exceptions and console errors
	dead    error    // set when the pipe from the browser ends
	done    chan struct{}
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type cdpMessage struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
	cdpReply
}

// Open starts a headless Chromium with a throwaway profile and opens one
// tab of width x height CSS pixels on about:blank. The browser is killed
// by Close, or when ctx is done.
func Open(ctx context.Context, width, height int) (*Page, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "gomesos-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser: create profile directory: %w", err)
	}
	cmdR, cmdW, err := os.Pipe() // commands: we write, the browser reads fd 3
	if err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("browser: pipe: %w", err)
	}
	evR, evW, err := os.Pipe() // answers: the browser writes fd 4, we read
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("browser: pipe: %w", err)
	}
	argv := append(commonArgs(profile), "--remote-debugging-pipe",
		fmt.Sprintf("--window-size=%d,%d", width, height), "about:blank")
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.ExtraFiles = []*os.File{cmdR, evW}
	cmd.Env = append(os.Environ(), "HOME="+profile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	setGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		evR.Close()
		evW.Close()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("browser: start %s: %w", bin, err)
	}
	cmdR.Close()
	evW.Close()
	p := &Page{cmd: cmd, profile: profile, toB: cmdW, fromB: evR, pending: map[int]chan cdpReply{}, done: make(chan struct{})}
	go p.read()
	go func() {
		_ = cmd.Wait()
		killGroup(cmd)
		evR.Close() // unblocks read if a helper still holds fd 4
	}()

	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := p.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		p.Close()
		return nil, fmt.Errorf("%w; stderr: %s", err, tail(stderr.String(), 2000))
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := p.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		p.Close()
		return nil, err
	}
	p.session = attached.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if err := p.call(ctx, p.session, m, nil, nil); err != nil {
			p.Close()
			return nil, err
		}
	}
	if err := p.call(ctx, p.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// read dispatches what the browser writes until the pipe ends.
func (p *Page) read() {
	r := bufio.NewReaderSize(p.fromB, 1<<20)
	var err error
	for {
		var b []byte
		b, err = r.ReadBytes(0)
		if err != nil {
			break
		}
		var m cdpMessage
		if json.Unmarshal(b[:len(b)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			p.mu.Lock()
			ch := p.pending[m.ID]
			delete(p.pending, m.ID)
			p.mu.Unlock()
			if ch != nil {
				ch <- m.cdpReply
			}
			continue
		}
		p.event(m)
	}
	p.mu.Lock()
	p.dead = fmt.Errorf("browser: the DevTools pipe closed: %w", err)
	for id, ch := range p.pending {
		close(ch)
		delete(p.pending, id)
	}
	p.mu.Unlock()
	close(p.done)
}

// event records the page's uncaught exceptions and console errors.
func (p *Page) event(m cdpMessage) {
	var text string
	switch m.Method {
	case "Runtime.exceptionThrown":
		var ev struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				URL       string `json:"url"`
				Line      int    `json:"lineNumber"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		if json.Unmarshal(m.Params, &ev) != nil {
			return
		}
		d := ev.ExceptionDetails
		text = fmt.Sprintf("exception at %s:%d: %s %s", d.URL, d.Line+1, d.Text, d.Exception.Description)
	case "Runtime.consoleAPICalled":
		var ev struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(m.Params, &ev) != nil || ev.Type != "error" {
			return
		}
		text = "console.error:"
		for _, a := range ev.Args {
			if a.Value != nil {
				text += fmt.Sprintf(" %v", a.Value)
			} else {
				text += " " + a.Description
			}
		}
	default:
		return
	}
	p.mu.Lock()
	p.errs = append(p.errs, text)
	p.mu.Unlock()
}

// Errors returns the uncaught exceptions and console.error calls the page
// made so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// call sends one command (to the browser when session is "", else to the
// tab) and decodes its result into out (unless nil).
func (p *Page) call(ctx context.Context, session, method string, params any, out any) error {
	p.mu.Lock()
	if p.dead != nil {
		err := p.dead
		p.mu.Unlock()
		return fmt.Errorf("browser: %s: %w", method, err)
	}
	p.nextID++
	id := p.nextID
	ch := make(chan cdpReply, 1)
	p.pending[id] = ch
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err == nil {
		_, err = p.toB.Write(append(b, 0))
	}
	if err != nil {
		delete(p.pending, id)
		p.mu.Unlock()
		return fmt.Errorf("browser: send %s: %w", method, err)
	}
	p.mu.Unlock()
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("browser: %s: the browser went away", method)
		}
		if r.Error != nil {
			return fmt.Errorf("browser: %s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if out != nil {
			if err := json.Unmarshal(r.Result, out); err != nil {
				return fmt.Errorf("browser: %s: decode result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		return fmt.Errorf("browser: %s: %w", method, ctx.Err())
	}
}

// Navigate loads url in the tab and returns once the browser committed to
// it (scripts may still be loading: wait for what the test needs with
// WaitFor).
func (p *Page) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("browser: navigate to %s: %s", url, r.ErrorText)
	}
	return nil
}

// Eval evaluates the JavaScript expression expr in the page (awaiting it
// if it is a promise) and decodes its value, as JSON, into out (unless
// nil). A thrown exception is an error.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.call(ctx, p.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true,
	}, &r)
	if err != nil {
		return err
	}
	if d := r.ExceptionDetails; d != nil {
		return fmt.Errorf("browser: evaluate %q: %s %s", expr, d.Text, d.Exception.Description)
	}
	if out != nil && len(r.Result.Value) > 0 {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			return fmt.Errorf("browser: evaluate %q: decode %s: %w", expr, r.Result.Value, err)
		}
	}
	return nil
}

// PollInterval is how often WaitFor evaluates its expression again.
const PollInterval = 100 * time.Millisecond

// WaitFor evaluates expr every PollInterval until its value is truthy in
// JavaScript's sense, then decodes that value into out (unless nil). It
// fails when ctx is done, saying what expr last gave. Evaluation errors
// (say, while the page navigates) are retried.
func (p *Page) WaitFor(ctx context.Context, expr string, out any) error {
	var last json.RawMessage
	var lastErr error
	wrapped := "(function(){ var v = (" + expr + "); return v ? {ok: true, v: v} : {ok: false, v: v === undefined ? null : v}; })()"
	for {
		var r struct {
			OK bool            `json:"ok"`
			V  json.RawMessage `json:"v"`
		}
		err := p.Eval(ctx, wrapped, &r)
		switch {
		case err == nil && r.OK:
			if out != nil {
				return json.Unmarshal(r.V, out)
			}
			return nil
		case err == nil:
			last, lastErr = r.V, nil
		default:
			lastErr = err
		}
		t := time.NewTimer(PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr != nil {
				return fmt.Errorf("browser: waiting for %s: %w (last error: %v)", expr, ctx.Err(), lastErr)
			}
			return fmt.Errorf("browser: waiting for %s: %w (last value: %s)", expr, ctx.Err(), last)
		case <-p.done:
			t.Stop()
			return fmt.Errorf("browser: waiting for %s: the browser went away", expr)
		case <-t.C:
		}
	}
}

// maxShotHeight bounds the height of a Screenshot, in CSS pixels.
const maxShotHeight = 6000

// Screenshot captures the whole page (not only the viewport, up to 6000
// pixels down) as a PNG into file.
func (p *Page) Screenshot(ctx context.Context, file string) error {
	var m struct {
		Content struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := p.call(ctx, p.session, "Page.getLayoutMetrics", nil, &m); err != nil {
		return err
	}
	params := map[string]any{"format": "png"}
	if w, h := m.Content.Width, min(m.Content.Height, maxShotHeight); w > 0 && h > 0 {
		params["captureBeyondViewport"] = true
		params["clip"] = map[string]any{"x": 0, "y": 0, "width": w, "height": h, "scale": 1}
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, p.session, "Page.captureScreenshot", params, &r); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return fmt.Errorf("browser: screenshot: decode: %w", err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return errors.New("browser: screenshot: not a PNG")
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	return nil
}

// Close kills the browser and removes its profile.
func (p *Page) Close() {
	_ = p.toB.Close()
	killGroup(p.cmd)
	<-p.done
	_ = os.RemoveAll(p.profile)
}
