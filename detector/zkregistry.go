package detector

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-zookeeper/zk"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process/future"
)

// ErrFenced fails a registry write that must not happen: the writer no
// longer leads (its leadership node is gone) or the registry changed
// since the writer read it (another master wrote it). The writer must
// stop; retrying cannot help.
var ErrFenced = errors.New("registry write fenced: this master no longer leads or another master wrote the registry")

// DefaultChunkSize is the largest chunk of a ZooKeeper registry (below
// ZooKeeper's 1 MB limit on a znode and on a request).
const DefaultChunkSize = 512 << 10

// chunkPrefix names the chunk znodes (sequential children of the root).
const chunkPrefix = "c-"

// headerFormat marks the root's data as a chunk list (older versions
// stored the whole registry in the root).
const headerFormat = "gomesos.registry/2"

// header is the root znode's data: the chunks that, concatenated in
// order, are the serialized registry.
type header struct {
	Format string   `json:"format"`
	Chunks []string `json:"chunks"`
	Sizes  []int    `json:"sizes"`
}

// Registry is the registrar's ZooKeeper storage: the registry of the
// masters of a group, under `<path>/registry` next to the masters' nodes
// (detectors tell them apart by prefix), so that every master of the
// group reads what the last leader wrote.
//
// The registry is stored in versions: immutable chunk znodes (sequential
// children `c-<seq>` of the root, each at most ChunkSize bytes; the first
// holds everything but the slaves, the others groups of slaves) and the
// root, whose data lists the chunks of the current version. A store
// writes the chunks it lacks, then switches the root to them in one
// ZooKeeper multi that also checks that the root still has the version
// this Registry last read or wrote and that this client's leadership
// node still exists. A deposed leader's store therefore fails (with
// ErrFenced) and leaves the registry as the new leader has it. Chunks
// equal to one of the current version are reused, so admitting a slave
// rewrites only the last chunk.
//
// Calls block on ZooKeeper and return completed futures (the registrar
// calls them from its own process, one at a time).
type Registry struct {
	// ChunkSize bounds a chunk's size (DefaultChunkSize when 0).
	ChunkSize int

	c    *Client
	root string

	mu      sync.Mutex
	read    bool                // version is known
	version int32               // the root's version; -1: no root
	current []string            // the chunks of that version
	byHash  map[[32]byte]string // chunk content hash -> chunk name, of current
	unsure  *attempt            // a commit whose answer was lost
}

// attempt is a commit whose outcome is unknown: the next store looks
// whether the root holds it.
type attempt struct {
	data   []byte // the root's data it would have written
	names  []string
	chunks [][]byte
}

// Registry returns the group's registry. Its writes are fenced on the
// node of this client's elected contender: Store fails with ErrFenced
// when none was elected or its node is gone.
func (c *Client) Registry() *Registry {
	return &Registry{c: c, root: c.url.Path + "/registry", version: -1}
}

// Load reads the stored registry (nil when there is none) and remembers
// its version: the next Store succeeds only over that version.
func (r *Registry) Load() future.Future[*messages.Registry] {
	r.mu.Lock()
	defer r.mu.Unlock()
	var reg *messages.Registry
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var retry bool
		reg, retry, err = r.load()
		if !retry {
			break
		}
	}
	if err != nil {
		return future.Failed[*messages.Registry](err)
	}
	r.sweep()
	return future.Ready(reg)
}

// load reads the root and its chunks; retry says a chunk went away
// meanwhile (the registry was replaced: read it again).
func (r *Registry) load() (reg *messages.Registry, retry bool, err error) {
	data, stat, err := r.c.conn.Get(r.root)
	if errors.Is(err, zk.ErrNoNode) {
		r.remember(-1, nil, nil)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("registry %s: %w", r.root, err)
	}
	if len(data) == 0 {
		r.remember(stat.Version, nil, nil)
		return nil, false, nil
	}
	if data[0] != '{' { // a registry stored whole, by an older version
		reg := &messages.Registry{}
		if err := proto.Unmarshal(data, reg); err != nil {
			return nil, false, fmt.Errorf("registry %s: %w", r.root, err)
		}
		r.remember(stat.Version, nil, nil)
		return reg, false, nil
	}
	h, err := parseHeader(data)
	if err != nil {
		return nil, false, fmt.Errorf("registry %s: %w", r.root, err)
	}
	var all []byte
	chunks := make([][]byte, len(h.Chunks))
	for i, name := range h.Chunks {
		b, _, err := r.c.conn.Get(r.root + "/" + name)
		if errors.Is(err, zk.ErrNoNode) {
			return nil, true, fmt.Errorf("registry %s: chunk %s of the current version is gone", r.root, name)
		}
		if err != nil {
			return nil, false, fmt.Errorf("registry %s: chunk %s: %w", r.root, name, err)
		}
		if len(b) != h.Sizes[i] {
			return nil, false, fmt.Errorf("registry %s: chunk %s has %d bytes, want %d", r.root, name, len(b), h.Sizes[i])
		}
		chunks[i] = b
		all = append(all, b...)
	}
	reg = &messages.Registry{}
	if err := proto.Unmarshal(all, reg); err != nil {
		return nil, false, fmt.Errorf("registry %s: %w", r.root, err)
	}
	r.remember(stat.Version, h.Chunks, chunks)
	return reg, false, nil
}

func parseHeader(data []byte) (header, error) {
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("bad chunk list: %w", err)
	}
	if h.Format != headerFormat || len(h.Sizes) != len(h.Chunks) {
		return h, fmt.Errorf("bad chunk list (format %q, %d chunks, %d sizes)", h.Format, len(h.Chunks), len(h.Sizes))
	}
	return h, nil
}

// remember records the version read or written and its chunks.
func (r *Registry) remember(version int32, names []string, chunks [][]byte) {
	r.read = true
	r.version = version
	r.current = names
	r.byHash = make(map[[32]byte]string, len(names))
	for i, name := range names {
		r.byHash[sha256.Sum256(chunks[i])] = name
	}
}

// sweep deletes chunks that no version can come to use: those not in the
// current version and older than its newest chunk. (A writer whose
// chunks would be used must have read the current version first, so it
// created them after all of the current version's.) Best effort.
func (r *Registry) sweep() {
	if len(r.current) == 0 {
		return
	}
	newest := int64(-1)
	for _, name := range r.current {
		newest = max(newest, chunkSeq(name))
	}
	children, _, err := r.c.conn.Children(r.root)
	if err != nil {
		r.c.log.Debug("cannot list the registry's chunks", "err", err)
		return
	}
	for _, name := range children {
		if seq := chunkSeq(name); seq >= 0 && seq < newest && !slices.Contains(r.current, name) {
			if err := r.c.conn.Delete(r.root+"/"+name, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
				r.c.log.Debug("cannot delete an unused registry chunk", "chunk", name, "err", err)
			}
		}
	}
}

// chunkSeq is the sequence number of a chunk znode, or -1.
func chunkSeq(name string) int64 {
	s, ok := strings.CutPrefix(name, chunkPrefix)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Store replaces the stored registry, if this client's contender still
// leads and the registry is still at the version Load (or the last
// Store) saw; otherwise it fails with ErrFenced. Without a Load before,
// the version present now is the one expected.
func (r *Registry) Store(reg *messages.Registry) future.Future[future.Nothing] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.store(reg); err != nil {
		return future.Failed[future.Nothing](err)
	}
	return future.Ready(future.Nothing{})
}

func (r *Registry) store(reg *messages.Registry) error {
	leader := r.c.leadingNode()
	if leader == "" {
		return fmt.Errorf("registry %s: %w (not elected)", r.root, ErrFenced)
	}
	if !r.read {
		if err := r.readVersion(); err != nil {
			return err
		}
	}
	if err := r.settle(); err != nil {
		return err
	}
	chunks, err := split(reg, r.chunkSize())
	if err != nil {
		return fmt.Errorf("registry %s: %w", r.root, err)
	}
	expected := r.version
	if r.version < 0 {
		if err := r.c.ensurePath(); err != nil {
			return fmt.Errorf("registry: %w", err)
		}
		_, err := r.c.conn.Create(r.root, nil, zk.FlagPersistent, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("registry %s: %w", r.root, err)
		}
		expected = 0 // an empty root, unless another master wrote since
	}
	h := header{Format: headerFormat, Chunks: make([]string, len(chunks)), Sizes: make([]int, len(chunks))}
	var created []string
	for i, b := range chunks {
		h.Sizes[i] = len(b)
		if name, ok := r.byHash[sha256.Sum256(b)]; ok {
			h.Chunks[i] = name
			continue
		}
		path, err := r.c.conn.Create(r.root+"/"+chunkPrefix, b, zk.FlagPersistent|zk.FlagSequence, zk.WorldACL(zk.PermAll))
		if err != nil {
			r.deleteChunks(created)
			return fmt.Errorf("registry %s: write a chunk: %w", r.root, err)
		}
		h.Chunks[i] = path[strings.LastIndex(path, "/")+1:]
		created = append(created, h.Chunks[i])
	}
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("registry %s: %w", r.root, err)
	}
	res, err := r.c.conn.Multi(
		&zk.CheckVersionRequest{Path: leader, Version: -1},
		&zk.SetDataRequest{Path: r.root, Data: data, Version: expected},
	)
	var version int32
	switch {
	case err == nil && len(res) == 2 && res[1].Stat != nil:
		version = res[1].Stat.Version
	case err == nil:
		return fmt.Errorf("registry %s: unexpected answer to the commit: %v", r.root, res)
	default:
		// The answer may have been lost after the commit: if the root
		// holds our chunk list (no other writer names these chunks), it
		// was written.
		got, stat, gerr := r.c.conn.Get(r.root)
		if gerr == nil && len(created) > 0 && bytes.Equal(got, data) {
			version = stat.Version
			break
		}
		if fenced(res) {
			r.deleteChunks(created)
			return fmt.Errorf("registry %s: %w (%s)", r.root, ErrFenced, why(res, leader))
		}
		if len(created) > 0 {
			r.unsure = &attempt{data: data, names: h.Chunks, chunks: chunks}
		}
		return fmt.Errorf("registry %s: commit: %w", r.root, err)
	}
	replaced := r.current
	r.remember(version, h.Chunks, chunks)
	var unused []string
	for _, name := range replaced {
		if !slices.Contains(h.Chunks, name) {
			unused = append(unused, name)
		}
	}
	r.deleteChunks(unused)
	return nil
}

// settle learns the outcome of a commit whose answer was lost: if the
// root holds it, it is the version this Registry writes over.
func (r *Registry) settle() error {
	if r.unsure == nil {
		return nil
	}
	got, stat, err := r.c.conn.Get(r.root)
	if err != nil {
		return fmt.Errorf("registry %s: %w", r.root, err)
	}
	if bytes.Equal(got, r.unsure.data) {
		r.remember(stat.Version, r.unsure.names, r.unsure.chunks)
	}
	r.unsure = nil
	return nil
}

// fenced reports whether a multi failed on its checks (the leader's
// node is gone, or the root has another version).
func fenced(res []zk.MultiResponse) bool {
	for _, op := range res {
		if errors.Is(op.Error, zk.ErrNoNode) || errors.Is(op.Error, zk.ErrBadVersion) {
			return true
		}
	}
	return false
}

func why(res []zk.MultiResponse, leader string) string {
	if len(res) > 0 && errors.Is(res[0].Error, zk.ErrNoNode) {
		return "leadership node " + leader + " is gone"
	}
	return "the registry changed since this master read it"
}

// readVersion reads the root's version and chunks (a Store without Load).
func (r *Registry) readVersion() error {
	_, _, err := r.load()
	return err
}

func (r *Registry) chunkSize() int {
	if r.ChunkSize > 0 {
		return r.ChunkSize
	}
	return DefaultChunkSize
}

// deleteChunks deletes chunk znodes, best effort.
func (r *Registry) deleteChunks(names []string) {
	for _, name := range names {
		if err := r.c.conn.Delete(r.root+"/"+name, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			r.c.log.Debug("cannot delete a registry chunk", "chunk", name, "err", err)
		}
	}
}

// split serializes reg in chunks whose concatenation is reg's encoding
// (protobuf merges concatenated messages, appending repeated fields): the
// first holds everything but the slaves, the next ones runs of slaves of
// at most size bytes (a larger slave gets a chunk of its own). The same
// registry gives the same chunks, and appending a slave changes only the
// last one.
func split(reg *messages.Registry, size int) ([][]byte, error) {
	opts := proto.MarshalOptions{Deterministic: true}
	// Everything but the slaves, sharing reg's values (no copy of them).
	rest := &messages.Registry{}
	src, dst := reg.ProtoReflect(), rest.ProtoReflect()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != "slaves" {
			dst.Set(fd, v)
		}
		return true
	})
	dst.SetUnknown(src.GetUnknown())
	first, err := opts.Marshal(rest)
	if err != nil {
		return nil, fmt.Errorf("serialize the registry: %w", err)
	}
	chunks := [][]byte{first}
	slaves := reg.GetSlaves().GetSlaves()
	flush := func(run []*messages.Registry_Slave) error {
		if len(run) == 0 {
			return nil
		}
		b, err := opts.Marshal(&messages.Registry{Slaves: &messages.Registry_Slaves{Slaves: run}})
		if err != nil {
			return fmt.Errorf("serialize the registry's slaves: %w", err)
		}
		chunks = append(chunks, b)
		return nil
	}
	start, used := 0, 0
	for i, s := range slaves {
		n := proto.Size(s) + 4 // the slave's tag and length
		if i > start && used+n+8 > size {
			if err := flush(slaves[start:i]); err != nil {
				return nil, err
			}
			start, used = i, 0
		}
		used += n
	}
	if err := flush(slaves[start:]); err != nil {
		return nil, err
	}
	return chunks, nil
}
