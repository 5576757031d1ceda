// Package detector is master election and detection on ZooKeeper, as
// Mesos does it: each master contends by creating an ephemeral sequential
// node `<path>/json.info_<seq>` holding its MasterInfo as JSON; the node
// with the lowest sequence is the leader; slaves, schedulers and standby
// masters watch the children of `<path>` to learn the leader's pid.
// mesos-go 0.0.6's detector reads the same nodes.
//
// A contender whose ZooKeeper session expires has lost its node: its
// Lost channel closes and the master must stop (Mesos masters abort, and a
// supervisor restarts them). Detectors survive session changes and report
// nil while there is no leader.
package detector

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/messages"
)

// NodePrefix is the prefix of the masters' nodes.
const NodePrefix = "json.info_"

// DefaultSessionTimeout is Mesos's --zk_session_timeout.
const DefaultSessionTimeout = 10 * time.Second

// URL is a parsed zk:// URL.
type URL struct {
	Servers        []string // host:port
	Path           string   // the group's znode, e.g. /mesos
	User, Password string   // digest credentials, if any
}

// ParseURL parses `zk://[user:password@]host1:port1,host2:port2/path`.
func ParseURL(s string) (URL, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "zk://")
	if !ok {
		return URL{}, fmt.Errorf("ZooKeeper URL %q: want zk://host:port[,host:port...]/path", s)
	}
	var u URL
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		cred := rest[:at]
		rest = rest[at+1:]
		user, pass, ok := strings.Cut(cred, ":")
		if !ok || user == "" {
			return URL{}, fmt.Errorf("ZooKeeper URL %q: credentials must be user:password", s)
		}
		u.User, u.Password = user, pass
	}
	hosts, path, ok := strings.Cut(rest, "/")
	if !ok || path == "" || hosts == "" {
		return URL{}, fmt.Errorf("ZooKeeper URL %q: want zk://host:port[,host:port...]/path", s)
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if !strings.Contains(h, ":") {
			h += ":2181"
		}
		u.Servers = append(u.Servers, h)
	}
	if len(u.Servers) == 0 {
		return URL{}, fmt.Errorf("ZooKeeper URL %q: no servers", s)
	}
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	u.Path = "/" + strings.TrimSuffix(path, "/")
	return u, nil
}

// Client is a ZooKeeper session for contending and detecting.
type Client struct {
	url  URL
	conn *zk.Conn
	log  *slog.Logger

	mu      sync.Mutex
	expired []chan struct{} // closed on session expiry
	closed  chan struct{}
}

type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "zookeeper")
}

// Connect opens a session with the servers of u (it connects in the
// background and reconnects by itself).
func Connect(u URL, sessionTimeout time.Duration, log *slog.Logger) (*Client, error) {
	if sessionTimeout <= 0 {
		sessionTimeout = DefaultSessionTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Client{url: u, log: log, closed: make(chan struct{})}
	conn, events, err := zk.Connect(u.Servers, sessionTimeout, zk.WithLogger(zkLogger{log}))
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", strings.Join(u.Servers, ","), err)
	}
	if u.User != "" {
		if err := conn.AddAuth("digest", []byte(u.User+":"+u.Password)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("zookeeper auth: %w", err)
		}
	}
	c.conn = conn
	go func() {
		for ev := range events {
			if ev.Type == zk.EventSession && ev.State == zk.StateExpired {
				log.Warn("ZooKeeper session expired")
				c.mu.Lock()
				for _, ch := range c.expired {
					close(ch)
				}
				c.expired = nil
				c.mu.Unlock()
			}
		}
	}()
	return c, nil
}

// Close ends the session (a contender's node goes away with it).
func (c *Client) Close() {
	select {
	case <-c.closed:
	default:
		close(c.closed)
		c.conn.Close()
	}
}

func (c *Client) onExpiry() <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	c.expired = append(c.expired, ch)
	c.mu.Unlock()
	return ch
}

// ensurePath creates the group's znode and its parents.
func (c *Client) ensurePath() error {
	p := ""
	for _, part := range strings.Split(strings.TrimPrefix(c.url.Path, "/"), "/") {
		p += "/" + part
		_, err := c.conn.Create(p, nil, zk.FlagPersistent, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	return nil
}

// Contention is a master's candidacy.
type Contention struct {
	Node    string        // our znode
	Elected chan struct{} // closed when we lead
	Lost    chan struct{} // closed when our node is gone (session expiry)
}

// Contend publishes info as a candidate. Elected closes once its node is
// the lowest; Lost closes if the node disappears.
func (c *Client) Contend(info *mesos.MasterInfo) (*Contention, error) {
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("contend: %w", err)
	}
	if err := c.ensurePath(); err != nil {
		return nil, fmt.Errorf("contend: %w", err)
	}
	expired := c.onExpiry()
	node, err := c.conn.Create(c.url.Path+"/"+NodePrefix, data, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		return nil, fmt.Errorf("contend: create %s/%s: %w", c.url.Path, NodePrefix, err)
	}
	ct := &Contention{Node: node[strings.LastIndex(node, "/")+1:], Elected: make(chan struct{}), Lost: make(chan struct{})}
	c.log.Info("contending for leadership", "node", node)
	go func() {
		defer close(ct.Lost)
		elected := false
		for {
			children, _, watch, err := c.conn.ChildrenW(c.url.Path)
			if err == nil {
				present, lowest := false, leaderNode(children)
				for _, ch := range children {
					present = present || ch == ct.Node
				}
				if !present {
					c.log.Error("our leadership node is gone", "node", ct.Node)
					return
				}
				if lowest == ct.Node && !elected {
					elected = true
					close(ct.Elected)
				}
			}
			select {
			case <-watch:
			case <-expired:
				return
			case <-c.closed:
				return
			}
			if err != nil {
				select {
				case <-time.After(time.Second): // wall-clock: retry a failed ZooKeeper read
				case <-expired:
					return
				case <-c.closed:
					return
				}
			}
		}
	}()
	return ct, nil
}

// leaderNode is the lowest `json.info_` child (nodes of other names are
// not masters).
func leaderNode(children []string) string {
	var ours []string
	for _, ch := range children {
		if strings.HasPrefix(ch, NodePrefix) {
			ours = append(ours, ch)
		}
	}
	if len(ours) == 0 {
		return ""
	}
	sort.Slice(ours, func(i, j int) bool { return seq(ours[i]) < seq(ours[j]) })
	return ours[0]
}

func seq(node string) string { return node[strings.LastIndex(node, "_")+1:] }

// Detect calls fn with the leading master (nil when there is none) at
// once and whenever it changes, until the client is closed. fn runs on
// the detector's goroutine.
func (c *Client) Detect(fn func(*mesos.MasterInfo)) {
	go func() {
		current := "\x00" // nothing reported yet
		report := func(node string, info *mesos.MasterInfo) {
			if node != current {
				current = node
				fn(info)
			}
		}
		for {
			var watch <-chan zk.Event
			children, _, w, err := c.conn.ChildrenW(c.url.Path)
			switch {
			case errors.Is(err, zk.ErrNoNode):
				report("", nil)
				_, _, w, err = c.conn.ExistsW(c.url.Path)
				watch = w
			case err == nil:
				watch = w
				node := leaderNode(children)
				if node == "" {
					report("", nil)
					break
				}
				data, _, gerr := c.conn.Get(c.url.Path + "/" + node)
				if gerr != nil {
					err = gerr
					break
				}
				info := &mesos.MasterInfo{}
				if uerr := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, info); uerr != nil {
					c.log.Error("bad MasterInfo in ZooKeeper", "node", node, "err", uerr)
					report(node, nil)
					break
				}
				report(node, info)
			}
			if err != nil {
				c.log.Debug("ZooKeeper read failed; retrying", "err", err)
				select {
				case <-time.After(time.Second): // wall-clock: retry a failed ZooKeeper read
				case <-c.closed:
					return
				}
				continue
			}
			select {
			case <-watch:
			case <-c.closed:
				return
			}
		}
	}()
}

// Registry is a znode that holds a master's registry (`<path>/registry`,
// next to the masters' nodes, which detectors tell apart by prefix), so
// that every master of the group sees the one the last leader wrote.
type Registry struct {
	c    *Client
	node string
}

// Registry returns the group's registry znode.
func (c *Client) Registry() *Registry { return &Registry{c: c, node: c.url.Path + "/registry"} }

// Load reads the stored registry (nil when there is none).
func (r *Registry) Load() (*messages.Registry, error) {
	data, _, err := r.c.conn.Get(r.node)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.node, err)
	}
	reg := &messages.Registry{}
	if err := proto.Unmarshal(data, reg); err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.node, err)
	}
	return reg, nil
}

// Save replaces the stored registry.
func (r *Registry) Save(reg *messages.Registry) error {
	data, err := proto.Marshal(reg)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	if err := r.c.ensurePath(); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	if _, err := r.c.conn.Set(r.node, data, -1); errors.Is(err, zk.ErrNoNode) {
		_, err = r.c.conn.Create(r.node, data, zk.FlagPersistent, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("registry %s: %w", r.node, err)
		}
		if errors.Is(err, zk.ErrNodeExists) {
			_, err = r.c.conn.Set(r.node, data, -1)
		}
		if err != nil {
			return fmt.Errorf("registry %s: %w", r.node, err)
		}
	} else if err != nil {
		return fmt.Errorf("registry %s: %w", r.node, err)
	}
	return nil
}
