package docker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// APIVersion is the Engine API version the client speaks (Docker 20.10;
// newer daemons serve it too).
const APIVersion = "v1.41"

// DefaultSocket is the Engine's default socket (--docker_socket).
const DefaultSocket = "/var/run/docker.sock"

// Client speaks the Docker Engine API over its unix socket with plain
// HTTP and JSON: the few calls the containerizer needs do not justify the
// official client's dependency tree. Its methods block; the containerizer
// calls them on its own goroutines.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the Engine listening on socket.
func NewClient(socket string) *Client {
	if socket == "" {
		socket = DefaultSocket
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &Client{socket: socket, http: &http.Client{Transport: tr}}
}

// APIError is an error answer of the Engine.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("docker: %d: %s", e.Status, e.Message) }

// IsNotFound says whether err is the Engine's 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// do sends a request and decodes a JSON answer into out (when non-nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body io.Reader, contentType string, out any) error {
	u := "http://docker/" + APIVersion + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("docker %s %s (socket %s): %w", method, path, c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var m struct{ Message string }
		if json.Unmarshal(b, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(b))
		}
		return &APIError{Status: resp.StatusCode, Message: m.Message}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *Client) doJSON(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	return c.do(ctx, method, path, query, body, ct, out)
}

// Ping checks that the Engine answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/_ping", nil, nil, "", nil)
}

// ImageExists says whether the Engine has image.
func (c *Client) ImageExists(ctx context.Context, image string) (bool, error) {
	err := c.do(ctx, http.MethodGet, "/images/"+image+"/json", nil, nil, "", nil)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Pull pulls image from its registry.
func (c *Client) Pull(ctx context.Context, image string) error {
	name, tag := image, "latest"
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		name, tag = image[:i], image[i+1:]
	}
	var progress bytes.Buffer
	err := c.do(ctx, http.MethodPost, "/images/create", url.Values{"fromImage": {name}, "tag": {tag}}, nil, "", &progress)
	if err != nil {
		return fmt.Errorf("pull %s: %w", image, err)
	}
	// Errors during a pull come in the progress stream.
	dec := json.NewDecoder(&progress)
	for {
		var m struct{ Error string }
		if dec.Decode(&m) != nil {
			return nil
		}
		if m.Error != "" {
			return fmt.Errorf("pull %s: %s", image, m.Error)
		}
	}
}

// Import creates image from a tar archive of a root file system (as
// `docker import` does).
func (c *Client) Import(ctx context.Context, image string, tar io.Reader) error {
	name, tag := image, "latest"
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		name, tag = image[:i], image[i+1:]
	}
	return c.do(ctx, http.MethodPost, "/images/create", url.Values{"fromSrc": {"-"}, "repo": {name}, "tag": {tag}}, tar, "application/x-tar", nil)
}

// PortBinding is one host port of a container port.
type PortBinding struct {
	HostIP   string `json:"HostIp,omitempty"`
	HostPort string
}

// HostConfig is the part of a container's configuration about the host.
type HostConfig struct {
	Binds        []string                 `json:",omitempty"`
	NetworkMode  string                   `json:",omitempty"`
	PortBindings map[string][]PortBinding `json:",omitempty"`
	Privileged   bool                     `json:",omitempty"`
	Memory       int64                    `json:",omitempty"`
	CPUShares    int64                    `json:"CpuShares,omitempty"`
}

// ContainerConfig is a container's configuration for create.
type ContainerConfig struct {
	Image        string
	Cmd          []string            `json:",omitempty"`
	Entrypoint   []string            `json:",omitempty"`
	Env          []string            `json:",omitempty"`
	WorkingDir   string              `json:",omitempty"`
	Hostname     string              `json:",omitempty"`
	User         string              `json:",omitempty"`
	Labels       map[string]string   `json:",omitempty"`
	ExposedPorts map[string]struct{} `json:",omitempty"`
	HostConfig   HostConfig
}

// Create creates the named container.
func (c *Client) Create(ctx context.Context, name string, cfg ContainerConfig) error {
	return c.doJSON(ctx, http.MethodPost, "/containers/create", url.Values{"name": {name}}, cfg, nil)
}

// Start starts a created container.
func (c *Client) Start(ctx context.Context, name string) error {
	err := c.do(ctx, http.MethodPost, "/containers/"+name+"/start", nil, nil, "", nil)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotModified {
		return nil // already started
	}
	return err
}

// Stop stops a container: SIGTERM, then SIGKILL after timeout seconds.
func (c *Client) Stop(ctx context.Context, name string, timeout int) error {
	err := c.do(ctx, http.MethodPost, "/containers/"+name+"/stop", url.Values{"t": {fmt.Sprint(timeout)}}, nil, "", nil)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotModified {
		return nil // already stopped
	}
	return err
}

// Wait blocks until the container has stopped and returns its exit code.
func (c *Client) Wait(ctx context.Context, name string) (int, error) {
	var out struct {
		StatusCode int
		Error      *struct{ Message string }
	}
	if err := c.do(ctx, http.MethodPost, "/containers/"+name+"/wait", nil, nil, "", &out); err != nil {
		return -1, err
	}
	if out.Error != nil && out.Error.Message != "" {
		return -1, errors.New(out.Error.Message)
	}
	return out.StatusCode, nil
}

// ContainerState is the part of a container's inspection the
// containerizer reads.
type ContainerState struct {
	Running  bool
	Pid      int
	ExitCode int
}

// Inspect returns the state of a container.
func (c *Client) Inspect(ctx context.Context, name string) (ContainerState, error) {
	var out struct{ State ContainerState }
	err := c.do(ctx, http.MethodGet, "/containers/"+name+"/json", nil, nil, "", &out)
	return out.State, err
}

// Remove removes a container, killing it first if it runs.
func (c *Client) Remove(ctx context.Context, name string) error {
	err := c.do(ctx, http.MethodDelete, "/containers/"+name, url.Values{"force": {"1"}, "v": {"1"}}, nil, "", nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Update changes a running container's memory limit and CPU shares.
func (c *Client) Update(ctx context.Context, name string, memory, cpuShares int64) error {
	body := map[string]int64{"Memory": memory, "MemorySwap": -1, "CpuShares": cpuShares}
	return c.doJSON(ctx, http.MethodPost, "/containers/"+name+"/update", nil, body, nil)
}

// Container is one entry of List.
type Container struct {
	ID     string `json:"Id"`
	Names  []string
	State  string
	Labels map[string]string
}

// List lists the containers (stopped ones too) carrying label (k=v).
func (c *Client) List(ctx context.Context, label string) ([]Container, error) {
	filters, _ := json.Marshal(map[string][]string{"label": {label}})
	var out []Container
	err := c.do(ctx, http.MethodGet, "/containers/json", url.Values{"all": {"1"}, "filters": {string(filters)}}, nil, "", &out)
	return out, err
}

// Stats is the part of a container's stats the containerizer reads.
type Stats struct {
	CPUStats struct {
		CPUUsage struct {
			TotalUsage        uint64 `json:"total_usage"`
			UsageInKernelmode uint64 `json:"usage_in_kernelmode"`
			UsageInUsermode   uint64 `json:"usage_in_usermode"`
		} `json:"cpu_usage"`
		ThrottlingData struct {
			Periods          uint64 `json:"periods"`
			ThrottledPeriods uint64 `json:"throttled_periods"`
			ThrottledTime    uint64 `json:"throttled_time"`
		} `json:"throttling_data"`
	} `json:"cpu_stats"`
	MemoryStats struct {
		Usage uint64            `json:"usage"`
		Limit uint64            `json:"limit"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"memory_stats"`
}

// Stats samples a container's resource usage once.
func (c *Client) Stats(ctx context.Context, name string) (*Stats, error) {
	var s Stats
	if err := c.do(ctx, http.MethodGet, "/containers/"+name+"/stats", url.Values{"stream": {"0"}}, nil, "", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Logs follows a container's output from its start, copying its stdout
// and stderr to the writers until the container stops (the Engine's
// multiplexed stream: an 8-byte header, stream and length, per frame).
func (c *Client) Logs(ctx context.Context, name string, stdout, stderr io.Writer) error {
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	logsEdge(func() {
		err := c.do(ctx, http.MethodGet, "/containers/"+name+"/logs", url.Values{"follow": {"1"}, "stdout": {"1"}, "stderr": {"1"}}, nil, "", pw)
		pw.CloseWithError(err)
		errc <- err
	})
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(pr, hdr[:]); err != nil {
			pr.Close()
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return <-errc
			}
			return err
		}
		w := stdout
		if hdr[0] == 2 {
			w = stderr
		}
		if _, err := io.CopyN(w, pr, int64(binary.BigEndian.Uint32(hdr[4:]))); err != nil {
			pr.Close()
			return err
		}
	}
}
