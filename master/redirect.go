package master

import (
	"net/http"
	"strconv"

	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// leaderBase returns "//host:port" of the leading master (this one when
// it leads), or "" when no leader is known. The host is the leader's
// advertised hostname, else its IP.
func (m *master) leaderBase() string {
	leader := m.detected
	if m.leader {
		leader = m.info
	}
	if leader == nil {
		return ""
	}
	host := leader.GetHostname()
	if host == "" {
		host = leader.GetAddress().GetIp()
	}
	if host == "" {
		return ""
	}
	return "//" + host + ":" + strconv.Itoa(int(leader.GetPort()))
}

// redirectToLeader answers, as Mesos does, a request that only the leading
// master serves: 307 Temporary Redirect to the same path on the leader
// ("//host:port/path", the scheme left to the client), or 503 when no
// leader is known. Run it on the master.
func (m *master) redirectToLeader(path string) future.Future[*process.Response] {
	base := m.leaderBase()
	if base == "" {
		return process.Status(http.StatusServiceUnavailable, "No leader elected")
	}
	h := http.Header{}
	h.Set("Location", base+path)
	return future.Ready(&process.Response{Status: http.StatusTemporaryRedirect, Header: h})
}

// redirect serves /master/redirect: 307 to the leader's root
// ("//host:port", so that following it cannot loop), 503 when no leader
// is known.
func (m *master) redirect(*http.Request) future.Future[*process.Response] {
	return m.redirectToLeader("")
}
