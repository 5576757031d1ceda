package process

import (
	"sort"

	"github.com/gomesos/gomesos/process/future"
)

// AllRoutes collects the routes of every live process of the runtime
// with their help text (process id → routes, as Routes returns them), each
// read on its own process. Processes without routes, and processes that
// end meanwhile, are left out. /help is built on it.
func (rt *Runtime) AllRoutes() future.Future[map[string][][2]string] {
	procs := map[string]*Process{}
	rt.procs.Range(func(k, v any) bool {
		procs[k.(string)] = v.(*Process)
		return true
	})
	ids := make([]string, 0, len(procs))
	for id := range procs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fs := make([]future.Future[[][2]string], len(ids))
	for i, id := range ids {
		fs[i] = Dispatch(rt, procs[id].self, procs[id].Routes)
	}
	return future.Then(future.AwaitAll(fs...), func(done []future.Future[[][2]string]) (map[string][][2]string, error) {
		out := map[string][][2]string{}
		for i, f := range done {
			if routes, err := f.Get(); err == nil && len(routes) > 0 {
				out[ids[i]] = routes
			}
		}
		return out, nil
	})
}
