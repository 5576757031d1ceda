package builtin

import (
	"net/http"
	"strings"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// SpawnHelp starts the "help" process: GET /help lists every process's
// routes with their help text (Markdown-like text; ?format=json gives
// {"processes":[{"id":..,"endpoints":[{"name":..,"text":..}]}]}), /help/<id>
// one process's, /help/<id>/<route> one route's.
func SpawnHelp(rt *process.Runtime) error {
	return spawnOnce(rt, &helpProcess{}, "help")
}

type helpProcess struct {
	process.Process
}

func (h *helpProcess) Initialize() {
	h.Route("/", "Lists the endpoints of every process with their help text.", h.help)
}

func (h *helpProcess) help(r *http.Request) future.Future[*process.Response] {
	// /help, /help/<id>, /help/<id>/<route...>
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/help"), "/")
	id, route, _ := strings.Cut(rest, "/")
	if route != "" {
		route = "/" + route
	}
	asJSON := r.URL.Query().Get("format") == "json"
	return future.ThenF(h.Runtime().AllRoutes(), func(all map[string][][2]string) future.Future[*process.Response] {
		ids := make([]string, 0, len(all))
		for pid := range all {
			if id == "" || pid == id {
				ids = append(ids, pid)
			}
		}
		sortStrings(ids)
		if id != "" && len(ids) == 0 {
			return process.Status(http.StatusNotFound, "no process "+id)
		}
		if route != "" {
			for _, rt := range all[id] {
				if rt[0] == route {
					return process.OK("text/plain; charset=utf-8", []byte("### /"+id+rt[0]+" ###\n"+rt[1]+"\n"))
				}
			}
			return process.Status(http.StatusNotFound, "no endpoint /"+id+route)
		}
		if asJSON {
			type endpoint struct {
				Name string `json:"name"`
				Text string `json:"text"`
			}
			type proc struct {
				ID        string     `json:"id"`
				Endpoints []endpoint `json:"endpoints"`
			}
			out := struct {
				Processes []proc `json:"processes"`
			}{Processes: []proc{}}
			for _, pid := range ids {
				p := proc{ID: pid, Endpoints: []endpoint{}}
				for _, rt := range all[pid] {
					p.Endpoints = append(p.Endpoints, endpoint{Name: rt[0], Text: rt[1]})
				}
				out.Processes = append(out.Processes, p)
			}
			return process.JSON(out)
		}
		var b strings.Builder
		b.WriteString("## HELP ##\n")
		for _, pid := range ids {
			b.WriteString("\n### /" + pid + " ###\n")
			for _, rt := range all[pid] {
				b.WriteString("/" + pid + strings.TrimSuffix(rt[0], "/") + "\n    " + rt[1] + "\n")
			}
		}
		return process.OK("text/plain; charset=utf-8", []byte(b.String()))
	})
}
