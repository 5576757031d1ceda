// Package allocator decides which framework is offered which slave's
// resources. The core is a plain Go value with no actors and no clock
// reads (time comes in as arguments), so it is tested and benchmarked
// directly; the master drives it. The default allocator, HierarchicalDRF,
// sorts roles by weighted dominant share and frameworks within a role by
// dominant share, and gives each framework a whole slave's free resources
// per cycle, as Mesos's hierarchical allocator does.
package allocator

import (
	"fmt"
	"time"

	"github.com/gomesos/gomesos/modules"
	"github.com/gomesos/gomesos/process/future"
	"github.com/gomesos/gomesos/resources"
)

// Decision is one offer to make: a framework gets resources of a slave.
type Decision struct {
	FrameworkID string
	SlaveID     string
	Resources   resources.Resources
}

// Options configure an allocator.
type Options struct {
	// Roles, if set, is the whitelist of roles (informational here; the
	// master refuses frameworks of other roles).
	Roles []string
	// Weights of roles; unlisted roles weigh 1.
	Weights map[string]float64
	// Seed orders slaves in each cycle (Mesos shuffles them).
	Seed uint64
	// Parameters are the allocator module's parameters from --modules
	// (set by New; nil when --modules does not list it).
	Parameters modules.Parameters
}

// Allocator is what the master needs from an allocator.
type Allocator interface {
	AddFramework(id, role string, used map[string]resources.Resources, now time.Time)
	RemoveFramework(id string)
	ActivateFramework(id string)
	DeactivateFramework(id string)
	AddSlave(id, hostname string, total resources.Resources, used map[string]resources.Resources)
	RemoveSlave(id string)
	ActivateSlave(id string)
	DeactivateSlave(id string)
	// RecoverResources returns resources a framework held on a slave;
	// refuseSeconds > 0 filters them from that framework on that slave
	// for that long.
	RecoverResources(frameworkID, slaveID string, res resources.Resources, refuseSeconds float64, now time.Time)
	// UpdateAllocation records offer operations (RESERVE, UNRESERVE,
	// CREATE, DESTROY) a framework applied to resources it was offered on
	// a slave: consumed, part of what it holds there, became produced;
	// the slave's total changes likewise.
	UpdateAllocation(frameworkID, slaveID string, consumed, produced resources.Resources)
	// UpdateAvailable applies an operator's operation to a slave's
	// unallocated resources: consumed becomes produced. It fails, changing
	// nothing, when consumed is not all unallocated.
	UpdateAvailable(slaveID string, consumed, produced resources.Resources) future.Future[future.Nothing]
	// UpdateFramework opts a framework in (or out) of revocable
	// resources: the REVOCABLE_RESOURCES capability.
	UpdateFramework(id string, revocable bool)
	// UpdateSlave replaces a slave's revocable resources with its latest
	// oversubscription estimate (UpdateSlaveMessage).
	UpdateSlave(id string, oversubscribed resources.Resources)
	ReviveOffers(frameworkID string)
	SuppressOffers(frameworkID string)
	// SetQuota guarantees role the non-revocable scalar quantities of
	// guarantee, honoured before fair sharing (Mesos 1.0's quota).
	SetQuota(role string, guarantee resources.Resources)
	// RemoveQuota ends a role's guarantee.
	RemoveQuota(role string)
	// Allocate runs one cycle over every active slave.
	Allocate(now time.Time) []Decision
}

// Constructor builds an allocator. It is what a module of kind
// modules.KindAllocator makes: Register wraps one as such a module.
type Constructor func(Options) (Allocator, error)

// Register makes an allocator available by name to --allocator: a module
// of kind Allocator in package modules' registry, whose --modules
// parameters reach ctor as Options.Parameters. It panics when the name
// is taken. The built-in HierarchicalDRF registers itself here.
func Register(name string, ctor Constructor) {
	modules.Register(modules.KindAllocator, name, func(p modules.Parameters) (any, error) {
		return Constructor(func(o Options) (Allocator, error) {
			o.Parameters = p
			return ctor(o)
		}), nil
	})
}

// Lookup resolves the allocator module name with its parameters in mods
// (nil: no --modules); an unknown name is an error listing the known
// allocators.
func Lookup(mods *modules.Config, name string) (Constructor, error) {
	return modules.New[Constructor](mods, modules.KindAllocator, name, nil)
}

// New builds the allocator module name (see Lookup) with opts.
func New(mods *modules.Config, name string, opts Options) (Allocator, error) {
	ctor, err := Lookup(mods, name)
	if err != nil {
		return nil, err
	}
	a, err := ctor(opts)
	if err != nil {
		return nil, fmt.Errorf("allocator %s: %w", name, err)
	}
	return a, nil
}

// DefaultName is the default --allocator, Mesos's name for its
// hierarchical DRF allocator.
const DefaultName = "HierarchicalDRF"

func init() {
	Register(DefaultName, func(o Options) (Allocator, error) { return NewDRF(o), nil })
}
