package actor

import cmap "github.com/orcaman/concurrent-map"

// protoactor's process registry is 1024 buckets, each a concurrent map
// of cmap.SHARD_COUNT (32) locked shards: 32,768 maps and locks an engine,
// made when the engine is and scanned by every garbage collection while it
// lives. One shard a bucket keeps 1024-way locking for the registry and
// makes an engine about 30 times smaller (a simulation makes one per run).
// The registry is the only user of cmap in the program, and no engine
// exists before this runs.
func init() { cmap.SHARD_COUNT = 1 }
