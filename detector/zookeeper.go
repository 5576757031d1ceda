// ZooKeeper election and detection, as Mesos does it: each master contends
// by creating an ephemeral sequential node `<path>/json.info_<seq>` holding
// its MasterInfo as JSON; the node with the lowest sequence is the leader;
// slaves, schedulers and standby masters watch the children of `<path>` to
// learn the leader's pid.
//
// A contender whose ZooKeeper session expires has lost its node: its Lost
// future fails and the master must stop (Mesos masters abort, and a
// supervisor restarts them). Detectors survive session changes and report
// nil while there is no leader. The client works on goroutines of its own
// (ZooKeeper is an OS edge); its results reach processes only through
// futures, and it waits only on the Timers it is given.

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

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/process/future"
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

// Options configure a ZooKeeper client.
type Options struct {
	// SessionTimeout is the ZooKeeper session timeout (10 s).
	SessionTimeout time.Duration
	// Timers schedules the retries of failed ZooKeeper reads (the
	// runtime's Clock, process.Clock); required.
	Timers future.Timers
	// Logger receives the client's logs (slog.Default).
	Logger *slog.Logger
}

// Client is a ZooKeeper session for contending and detecting.
type Client struct {
	url    URL
	conn   *zk.Conn
	log    *slog.Logger
	timers future.Timers

	mu       sync.Mutex
	expired  []chan struct{} // closed on session expiry
	closed   chan struct{}
	detector *zkDetector
	leading  string // the path of this client's last elected node, if any
}

type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "zookeeper")
}

// Connect opens a session with the servers of u (it connects in the
// background and reconnects by itself).
func Connect(u URL, opts Options) (*Client, error) {
	if opts.Timers == nil {
		return nil, fmt.Errorf("zookeeper %s: no Timers given", strings.Join(u.Servers, ","))
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = DefaultSessionTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Client{url: u, log: log, timers: opts.Timers, closed: make(chan struct{})}
	conn, events, err := zk.Connect(u.Servers, opts.SessionTimeout, zk.WithLogger(zkLogger{log}))
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
	go func() { // the session's events, until the connection closes
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

// pause waits a second on the client's Timers before a retry; it reports
// false when expired, withdraw (either may be nil) or the client's end
// came first.
func (c *Client) pause(expired, withdraw <-chan struct{}) bool {
	wake := make(chan struct{})
	cancel := c.timers.AfterFunc(time.Second, func() { close(wake) })
	defer cancel()
	select {
	case <-wake:
		return true
	case <-expired:
	case <-withdraw:
	case <-c.closed:
	}
	return false
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

// Contender returns a contender in the client's group.
func (c *Client) Contender() Contender { return &zkContender{c: c} }

type zkContender struct {
	c *Client

	mu       sync.Mutex
	withdraw chan struct{} // closed to end the current candidacy
}

// Contend creates info's node and watches the group until the node is the
// lowest (elected) or gone (lost); see Contender.
func (z *zkContender) Contend(info *mesos.MasterInfo) future.Future[Lost] {
	z.Withdraw()
	withdraw := make(chan struct{})
	z.mu.Lock()
	z.withdraw = withdraw
	z.mu.Unlock()
	elected := future.NewPromise[Lost]()
	lost := future.NewPromise[future.Nothing]()
	go z.c.contend(info, withdraw, elected, lost) // ZooKeeper calls block: the OS edge
	return elected.Future()
}

// Withdraw deletes the node of the current candidacy; see Contender.
func (z *zkContender) Withdraw() {
	z.mu.Lock()
	w := z.withdraw
	z.withdraw = nil
	z.mu.Unlock()
	if w != nil {
		close(w)
	}
}

func (c *Client) contend(info *mesos.MasterInfo, withdraw chan struct{}, elected *future.Promise[Lost], lost *future.Promise[future.Nothing]) {
	isElected := false
	path := ""
	end := func(err error) {
		if err == nil {
			lost.Set(future.Nothing{})
		} else {
			lost.Fail(err)
		}
		if !isElected {
			if err == nil {
				err = ErrLost
			}
			elected.Fail(err)
		}
	}
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(info)
	if err != nil {
		end(fmt.Errorf("contend: %w", err))
		return
	}
	if err := c.ensurePath(); err != nil {
		end(fmt.Errorf("contend: %w", err))
		return
	}
	expired := c.onExpiry()
	path, err = c.conn.Create(c.url.Path+"/"+NodePrefix, data, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		end(fmt.Errorf("contend: create %s/%s: %w", c.url.Path, NodePrefix, err))
		return
	}
	node := path[strings.LastIndex(path, "/")+1:]
	c.log.Info("contending for leadership", "node", path)
	for {
		children, _, watch, err := c.conn.ChildrenW(c.url.Path)
		if err == nil {
			present := false
			for _, ch := range children {
				present = present || ch == node
			}
			if !present {
				c.log.Error("our leadership node is gone", "node", node)
				end(fmt.Errorf("node %s is gone: %w", path, ErrLost))
				return
			}
			if leaderNode(children) == node && !isElected {
				isElected = true
				c.log.Info("elected in ZooKeeper", "node", node)
				c.setLeading(path)
				elected.Set(lost.Future())
			}
		}
		select {
		case <-watch:
		case <-expired:
			end(fmt.Errorf("ZooKeeper session expired: %w", ErrLost))
			return
		case <-withdraw:
			if derr := c.conn.Delete(path, -1); derr != nil {
				c.log.Warn("cannot delete our leadership node", "node", path, "err", derr)
			}
			end(nil)
			return
		case <-c.closed:
			end(nil)
			return
		}
		if err != nil && !c.pause(expired, withdraw) {
			select {
			case <-expired:
				end(fmt.Errorf("ZooKeeper session expired: %w", ErrLost))
			default:
				end(nil)
			}
			return
		}
	}
}

// setLeading records path as the node of this client's elected
// contender: the registry's writes are fenced on it. It is kept when the
// leadership ends: the node is gone then, and ZooKeeper refuses the
// writes that check it.
func (c *Client) setLeading(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leading = path
}

// leadingNode is the node of this client's last elected contender (""
// when none was elected).
func (c *Client) leadingNode() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading
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

// Detector returns the detector of the client's group: one watch of the
// group's children, shared by every Detect call.
func (c *Client) Detector() Detector {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.detector == nil {
		c.detector = &zkDetector{}
		go c.watchLeader(c.detector) // ZooKeeper watches block: the OS edge
	}
	return c.detector
}

type zkDetector struct{ state leaderState }

func (d *zkDetector) Detect(previous *mesos.MasterInfo) future.Future[*mesos.MasterInfo] {
	return d.state.detect(previous)
}

// watchLeader reports the leading master (nil when there is none) to d
// at once and whenever it changes, until the client is closed.
func (c *Client) watchLeader(d *zkDetector) {
	current := "\x00" // nothing reported yet
	report := func(node string, info *mesos.MasterInfo) {
		if node != current {
			current = node
			d.state.set(info)()
		}
	}
	for {
		var watch <-chan zk.Event
		children, _, w, err := c.conn.ChildrenW(c.url.Path)
		switch {
		case errors.Is(err, zk.ErrNoNode):
			report("", nil)
			var exists bool
			exists, _, w, err = c.conn.ExistsW(c.url.Path)
			if err == nil && exists {
				continue // created since: read its children
			}
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
			if !c.pause(nil, nil) {
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
}
