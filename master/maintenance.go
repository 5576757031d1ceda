package master

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gomesos/gomesos/master/registrar"
	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/allocatorpb"
	"github.com/gomesos/gomesos/mesos/jsonv1"
	"github.com/gomesos/gomesos/mesos/maintenancepb"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/process"
	"github.com/gomesos/gomesos/process/future"
)

// Maintenance, as Mesos 1.0 does it. An operator posts a schedule of
// windows (machines and an unavailability); its machines are DRAINING:
// offers of their slaves carry the unavailability, and frameworks that
// hold resources there get inverse offers, which they accept or decline
// (/maintenance/status shows their answers). /machine/down takes DRAINING
// machines DOWN: their slaves are shut down and removed, and a slave on a
// DOWN machine cannot register. /machine/up brings them back (UP) and
// takes them out of the schedule. The machines and the schedule are kept
// in the registry.

// maintenanceState is the master's view of machines under maintenance
// (the registry's machines; every other machine is UP).
type maintenanceState struct {
	machines map[string]*mesos.MachineInfo // by registrar.MachineKey
	schedule *maintenancepb.Schedule       // nil: none

	inverse     map[string]*inverseOffer // by offer id
	outstanding map[ioKey]*inverseOffer
	statuses    map[string]map[string]*allocatorpb.InverseOfferStatus // slave → framework
	filters     map[ioKey]time.Time                                   // no inverse offer before
	timer       *process.Timer                                        // the next inverse offer pass
}

type ioKey struct{ framework, slave string }

// inverseOffer is an outstanding inverse offer.
type inverseOffer struct {
	io      *mesos.InverseOffer
	key     ioKey
	timeout *process.Timer
}

func newMaintenanceState() maintenanceState {
	return maintenanceState{
		machines:    make(map[string]*mesos.MachineInfo),
		inverse:     make(map[string]*inverseOffer),
		outstanding: make(map[ioKey]*inverseOffer),
		statuses:    make(map[string]map[string]*allocatorpb.InverseOfferStatus),
		filters:     make(map[ioKey]time.Time),
	}
}

// machineKeyOf is the key of the machine a slave at pid with info runs
// on: its hostname and the IP it talks from, as Mesos's MachineID.
func machineKeyOf(info *mesos.SlaveInfo, pid process.UPID) string {
	return registrar.MachineKey(&mesos.MachineID{Hostname: proto.String(info.GetHostname()), Ip: proto.String(pid.Addr.Addr().Unmap().String())})
}

// machineOf returns the maintenance record of s's machine, or nil (UP).
func (m *master) machineOf(s *slave) *mesos.MachineInfo {
	if len(m.maint.machines) == 0 {
		return nil
	}
	return m.maint.machines[machineKeyOf(s.info, s.pid)]
}

// machineDown says whether a slave with info registering from pid is on
// a DOWN machine; it is then told to shut down, as Mesos does.
func (m *master) machineDown(info *mesos.SlaveInfo, from process.UPID) bool {
	mi := m.maint.machines[machineKeyOf(info, from)]
	if mi.GetMode() != mesos.MachineInfo_DOWN {
		return false
	}
	m.log.Warn("refusing registration of a slave on a DOWN machine", "pid", from.String(), "hostname", info.GetHostname())
	m.send(from, &messages.ShutdownMessage{Message: proto.String("Machine is `DOWN`")})
	return true
}

func (m *master) installMaintenanceRoutes() {
	m.Route("/maintenance/schedule", "Gets (GET) or replaces (POST a maintenance Schedule) the maintenance schedule.", m.maintenanceScheduleHTTP)
	m.Route("/maintenance/status", "The machines under maintenance: draining ones with the frameworks' answers to inverse offers, and down ones.", m.maintenanceStatusHTTP)
	m.Route("/machine/down", "Brings DRAINING machines DOWN: POST a JSON array of MachineIDs.", func(r *http.Request) future.Future[*process.Response] {
		return m.machinesHTTP(r, true)
	})
	m.Route("/machine/up", "Brings DOWN machines back UP: POST a JSON array of MachineIDs.", func(r *http.Request) future.Future[*process.Response] {
		return m.machinesHTTP(r, false)
	})
}

// ParseSchedule reads a maintenance schedule (JSON) and checks it as
// Mesos 1.0 does, against the machines now under maintenance (a DOWN
// machine must stay in the schedule).
func ParseSchedule(body []byte, machines map[string]*mesos.MachineInfo) (*maintenancepb.Schedule, error) {
	s := &maintenancepb.Schedule{}
	if err := jsonv1.Unmarshal(body, s); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, w := range s.GetWindows() {
		if len(w.GetMachineIds()) == 0 {
			return nil, errors.New("List of machines in the maintenance window is empty")
		}
		if w.GetUnavailability().GetDuration().GetNanoseconds() < 0 {
			return nil, errors.New("Unavailability 'duration' is negative")
		}
		for _, id := range w.GetMachineIds() {
			if err := validateMachineID(id); err != nil {
				return nil, err
			}
			if seen[registrar.MachineKey(id)] {
				return nil, fmt.Errorf("Machine '%s' appears more than once in the schedule", machineJSON(id))
			}
			seen[registrar.MachineKey(id)] = true
		}
	}
	for _, k := range sortedKeys(machines) {
		if mi := machines[k]; mi.GetMode() == mesos.MachineInfo_DOWN && !seen[k] {
			return nil, fmt.Errorf("Machine '%s' is deactivated and cannot be removed from the schedule", machineJSON(mi.GetId()))
		}
	}
	return s, nil
}

// ParseMachineIDs reads the body of /machine/down and /machine/up: a
// JSON array of MachineIDs, none twice, each with a hostname or an IP.
func ParseMachineIDs(body []byte) ([]*mesos.MachineID, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("Failed to parse JSON array: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("List of machines is empty")
	}
	seen := map[string]bool{}
	ids := make([]*mesos.MachineID, 0, len(raw))
	for _, item := range raw {
		id := &mesos.MachineID{}
		if err := jsonv1.Unmarshal(item, id); err != nil {
			return nil, err
		}
		if err := validateMachineID(id); err != nil {
			return nil, err
		}
		if seen[registrar.MachineKey(id)] {
			return nil, fmt.Errorf("Machine '%s' appears more than once in the schedule", machineJSON(id))
		}
		seen[registrar.MachineKey(id)] = true
		ids = append(ids, id)
	}
	return ids, nil
}

func validateMachineID(id *mesos.MachineID) error {
	if id.GetHostname() == "" && id.GetIp() == "" {
		return errors.New("Both 'hostname' and 'ip' for a machine are empty")
	}
	if ip := id.GetIp(); ip != "" {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			return fmt.Errorf("Failed to parse IP '%s'", ip)
		}
	}
	return nil
}

func machineJSON(id *mesos.MachineID) string {
	b, _ := jsonv1.Marshal(id)
	return string(b)
}

func (m *master) maintenanceScheduleHTTP(r *http.Request) future.Future[*process.Response] {
	if _, resp, ok := m.operatorCaller(r); !ok {
		return resp
	}
	switch r.Method {
	case http.MethodGet:
		s := m.maint.schedule
		if s == nil {
			s = &maintenancepb.Schedule{}
		}
		body, err := jsonv1.Marshal(s)
		if err != nil {
			return process.Status(http.StatusInternalServerError, err.Error())
		}
		return process.OK("application/json", body)
	case http.MethodPost:
	default:
		return process.Status(http.StatusMethodNotAllowed, "Expecting one of { 'GET', 'POST' }, but received '"+r.Method+"'")
	}
	body, err := readBody(r)
	if err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	schedule, err := ParseSchedule(body, m.maint.machines)
	if err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	return m.afterStored(m.registrar.apply(registrar.UpdateSchedule(schedule)), func() *process.Response {
		m.applySchedule(schedule)
		return &process.Response{Status: http.StatusOK}
	})
}

// applySchedule takes a stored schedule: machines it leaves are UP,
// machines it names are DRAINING (DOWN ones stay DOWN) with its
// unavailability.
func (m *master) applySchedule(schedule *maintenancepb.Schedule) {
	windows := map[string]*maintenancepb.Window{}
	for _, w := range schedule.GetWindows() {
		for _, id := range w.GetMachineIds() {
			windows[registrar.MachineKey(id)] = w
		}
	}
	for _, k := range sortedKeys(m.maint.machines) {
		if _, ok := windows[k]; !ok {
			delete(m.maint.machines, k)
			m.unavailabilityChanged(k)
		}
	}
	for _, k := range sortedKeys(windows) {
		w := windows[k]
		mi := m.maint.machines[k]
		if mi == nil {
			var id *mesos.MachineID
			for _, x := range w.GetMachineIds() {
				if registrar.MachineKey(x) == k {
					id = x
				}
			}
			mi = &mesos.MachineInfo{Id: proto.Clone(id).(*mesos.MachineID), Mode: mesos.MachineInfo_DRAINING.Enum()}
			m.maint.machines[k] = mi
		}
		mi.Unavailability = proto.Clone(w.GetUnavailability()).(*mesos.Unavailability)
		m.unavailabilityChanged(k)
	}
	m.maint.schedule = proto.Clone(schedule).(*maintenancepb.Schedule)
	if len(schedule.GetWindows()) == 0 {
		m.maint.schedule = nil
	}
	m.sendInverseOffers()
}

// unavailabilityChanged rescinds the offers and inverse offers of the
// slaves on machine k (new ones carry the new unavailability) and forgets
// the frameworks' answers to the old one.
func (m *master) unavailabilityChanged(k string) {
	for _, s := range m.sortedSlaves() {
		if machineKeyOf(s.info, s.pid) != k {
			continue
		}
		m.rescindSlaveOffers(s)
		delete(m.maint.statuses, s.id)
		for key := range m.maint.filters {
			if key.slave == s.id {
				delete(m.maint.filters, key)
			}
		}
	}
}

func (m *master) machinesHTTP(r *http.Request, down bool) future.Future[*process.Response] {
	if _, resp, ok := m.operatorCaller(r); !ok {
		return resp
	}
	if r.Method != http.MethodPost {
		return process.Status(http.StatusMethodNotAllowed, "Expecting 'POST', received '"+r.Method+"'")
	}
	body, err := readBody(r)
	if err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	ids, err := ParseMachineIDs(body)
	if err != nil {
		return process.Status(http.StatusBadRequest, err.Error())
	}
	want, verb, op := mesos.MachineInfo_DRAINING, "brought down", registrar.StartMaintenance(ids)
	if !down {
		want, verb, op = mesos.MachineInfo_DOWN, "brought up", registrar.StopMaintenance(ids)
	}
	for _, id := range ids {
		mi := m.maint.machines[registrar.MachineKey(id)]
		if mi == nil {
			return process.Status(http.StatusBadRequest, "Machine '"+machineJSON(id)+"' is not part of a maintenance schedule")
		}
		if mi.GetMode() != want {
			return process.Status(http.StatusBadRequest, "Machine '"+machineJSON(id)+"' is not in "+want.String()+" mode and cannot be "+verb)
		}
	}
	return m.afterStored(m.registrar.apply(op), func() *process.Response {
		if down {
			m.machinesDown(ids)
		} else {
			m.machinesUp(ids)
		}
		return &process.Response{Status: http.StatusOK}
	})
}

// machinesDown shuts down and removes the slaves of machines ids, which
// are DOWN from now on.
func (m *master) machinesDown(ids []*mesos.MachineID) {
	keys := map[string]bool{}
	for _, id := range ids {
		keys[registrar.MachineKey(id)] = true
	}
	for _, s := range m.sortedSlaves() {
		if keys[machineKeyOf(s.info, s.pid)] {
			const why = "Operator initiated 'Machine DOWN'"
			m.send(s.pid, &messages.ShutdownMessage{Message: proto.String(why)})
			m.removeSlave(s, why)
		}
	}
	for k := range keys {
		if mi := m.maint.machines[k]; mi != nil {
			mi.Mode = mesos.MachineInfo_DOWN.Enum()
		}
	}
}

// machinesUp brings machines ids UP: out of maintenance and the schedule.
func (m *master) machinesUp(ids []*mesos.MachineID) {
	keys := map[string]bool{}
	for _, id := range ids {
		k := registrar.MachineKey(id)
		keys[k] = true
		delete(m.maint.machines, k)
	}
	if m.maint.schedule != nil {
		left := registrar.RemoveMachines([]*maintenancepb.Schedule{m.maint.schedule}, keys)
		m.maint.schedule = nil
		if len(left) > 0 {
			m.maint.schedule = left[0]
		}
	}
}

func (m *master) maintenanceStatusHTTP(r *http.Request) future.Future[*process.Response] {
	if _, resp, ok := m.operatorCaller(r); !ok {
		return resp
	}
	if r.Method != http.MethodGet {
		return process.Status(http.StatusMethodNotAllowed, "Expecting 'GET', received '"+r.Method+"'")
	}
	body, err := jsonv1.Marshal(m.maintenanceStatus())
	if err != nil {
		return process.Status(http.StatusInternalServerError, err.Error())
	}
	return process.OK("application/json", body)
}

// maintenanceStatus is the ClusterStatus of /maintenance/status.
func (m *master) maintenanceStatus() *maintenancepb.ClusterStatus {
	out := &maintenancepb.ClusterStatus{}
	slavesOn := map[string][]string{}
	for _, s := range m.sortedSlaves() {
		k := machineKeyOf(s.info, s.pid)
		slavesOn[k] = append(slavesOn[k], s.id)
	}
	for _, k := range sortedKeys(m.maint.machines) {
		mi := m.maint.machines[k]
		switch mi.GetMode() {
		case mesos.MachineInfo_DRAINING:
			d := &maintenancepb.ClusterStatus_DrainingMachine{Id: mi.GetId()}
			for _, sid := range slavesOn[k] {
				st := m.maint.statuses[sid]
				for _, fid := range sortedKeys(st) {
					d.Statuses = append(d.Statuses, st[fid])
				}
			}
			out.DrainingMachines = append(out.DrainingMachines, d)
		case mesos.MachineInfo_DOWN:
			out.DownMachines = append(out.DownMachines, mi.GetId())
		}
	}
	return out
}

// recoverMachines takes the registry's machines and schedule (a new
// leader); inverse offers start afresh.
func (m *master) recoverMachines(reg *messages.Registry) {
	for _, mc := range reg.GetMachines().GetMachines() {
		m.maint.machines[registrar.MachineKey(mc.GetInfo().GetId())] = proto.Clone(mc.GetInfo()).(*mesos.MachineInfo)
	}
	if s := reg.GetSchedules(); len(s) > 0 {
		m.maint.schedule = proto.Clone(s[0]).(*maintenancepb.Schedule)
	}
	if len(m.maint.machines) > 0 {
		m.log.Info("recovered machines under maintenance from the registry", "machines", len(m.maint.machines))
		m.sendInverseOffers()
	}
}

// sendInverseOffers makes an inverse offer to every framework that holds
// resources (tasks, executors or offers) on a slave of a DRAINING machine,
// unless one is outstanding or its last answer filters it; it runs again
// every allocation interval while machines are under maintenance, as
// Mesos's allocator does. Frameworks subscribed over HTTP hear of them
// (INVERSE_OFFERS); Mesos sends them to no driver-based scheduler.
func (m *master) sendInverseOffers() {
	m.Clock().Cancel(m.maint.timer)
	m.maint.timer = nil
	if len(m.maint.machines) == 0 || !m.leader {
		return
	}
	defer func() {
		m.maint.timer = m.Delay(m.cfg.AllocationInterval, m.sendInverseOffers)
	}()
	now := m.Clock().Now()
	byFramework := map[string]*messages.InverseOffersMessage{}
	var order []string
	for _, s := range m.sortedSlaves() {
		mi := m.machineOf(s)
		if mi.GetMode() != mesos.MachineInfo_DRAINING || mi.GetUnavailability() == nil || !s.active {
			continue
		}
		holders := map[string]bool{}
		for fid := range s.tasks {
			holders[fid] = true
		}
		for fid := range s.executors {
			holders[fid] = true
		}
		for _, o := range s.offers {
			holders[o.f.id] = true
		}
		for _, fid := range sortedKeys(holders) {
			f := m.frameworks[fid]
			key := ioKey{fid, s.id}
			if f == nil || !f.active || !f.connected || m.maint.outstanding[key] != nil {
				continue
			}
			if until, ok := m.maint.filters[key]; ok {
				if now.Before(until) {
					continue
				}
				delete(m.maint.filters, key)
			}
			io := &inverseOffer{key: key, io: &mesos.InverseOffer{
				Id:             m.newOfferID(),
				Url:            slaveURL(s),
				FrameworkId:    f.frameworkID(),
				SlaveId:        s.slaveID(),
				Unavailability: proto.Clone(mi.GetUnavailability()).(*mesos.Unavailability),
			}}
			id := io.io.GetId().GetValue()
			m.maint.inverse[id] = io
			m.maint.outstanding[key] = io
			if m.cfg.OfferTimeout > 0 {
				io.timeout = m.Delay(m.cfg.OfferTimeout, func() {
					if io := m.maint.inverse[id]; io != nil {
						m.rescindInverseOffer(io)
					}
				})
			}
			msg := byFramework[fid]
			if msg == nil {
				msg = &messages.InverseOffersMessage{}
				byFramework[fid] = msg
				order = append(order, fid)
			}
			msg.InverseOffers = append(msg.InverseOffers, io.io)
			msg.Pids = append(msg.Pids, s.pid.String())
		}
	}
	for _, fid := range order {
		f := m.frameworks[fid]
		m.log.Info("sending inverse offers", "framework", fid, "inverse_offers", len(byFramework[fid].InverseOffers))
		if m.httpSchedulers[f.pid] {
			m.send(f.pid, byFramework[fid])
		}
	}
}

// slaveURL is the URL of a slave, as Mesos puts it in (inverse) offers.
func slaveURL(s *slave) *mesos.URL {
	return &mesos.URL{
		Scheme: proto.String("http"),
		Address: &mesos.Address{
			Hostname: proto.String(s.info.GetHostname()),
			Ip:       proto.String(s.pid.Addr.Addr().Unmap().String()),
			Port:     proto.Int32(int32(s.pid.Addr.Port())),
		},
		Path: proto.String("/" + s.pid.ID),
	}
}

// removeInverseOffer forgets io.
func (m *master) removeInverseOffer(io *inverseOffer) {
	delete(m.maint.inverse, io.io.GetId().GetValue())
	if m.maint.outstanding[io.key] == io {
		delete(m.maint.outstanding, io.key)
	}
	m.Clock().Cancel(io.timeout)
}

// rescindInverseOffer withdraws io from its framework.
func (m *master) rescindInverseOffer(io *inverseOffer) {
	if f := m.frameworks[io.key.framework]; f != nil && f.connected && m.httpSchedulers[f.pid] {
		m.send(f.pid, &messages.RescindInverseOfferMessage{InverseOfferId: io.io.GetId()})
	}
	m.removeInverseOffer(io)
}

// rescindInverseOffers withdraws the inverse offers that match.
func (m *master) rescindInverseOffers(match func(ioKey) bool) {
	for _, id := range sortedKeys(m.maint.inverse) {
		if io := m.maint.inverse[id]; match(io.key) {
			m.rescindInverseOffer(io)
		}
	}
}

// answerInverseOffers handles ACCEPT_INVERSE_OFFERS and
// DECLINE_INVERSE_OFFERS: each of f's inverse offers named is answered
// (shown in /maintenance/status), and no new one comes for that slave
// for the filter's refuse_seconds (5 by default).
func (m *master) answerInverseOffers(f *framework, ids []*mesos.OfferID, filters *mesos.Filters, accept bool) {
	status := allocatorpb.InverseOfferStatus_DECLINE
	if accept {
		status = allocatorpb.InverseOfferStatus_ACCEPT
	}
	now := m.Clock().Now()
	for _, id := range ids {
		io := m.maint.inverse[id.GetValue()]
		if io == nil || io.key.framework != f.id {
			m.log.Warn("ignoring an answer to an inverse offer that is no longer valid", "framework", f.id, "inverse_offer", id.GetValue(), "accept", accept)
			continue
		}
		m.log.Info("inverse offer answered", "framework", f.id, "slave", io.key.slave, "status", status.String())
		st := m.maint.statuses[io.key.slave]
		if st == nil {
			st = make(map[string]*allocatorpb.InverseOfferStatus)
			m.maint.statuses[io.key.slave] = st
		}
		st[f.id] = &allocatorpb.InverseOfferStatus{
			Status:      status.Enum(),
			FrameworkId: f.frameworkID(),
			Timestamp:   &mesos.TimeInfo{Nanoseconds: proto.Int64(now.UnixNano())},
		}
		refuse := min(refuseSeconds(filters), 100*365*24*3600.0) // beyond: "forever"
		m.maint.filters[io.key] = now.Add(time.Duration(refuse * float64(time.Second)))
		m.removeInverseOffer(io)
	}
}

// stopMaintenance ends the master's maintenance timer (the master stops).
func (m *master) stopMaintenance() {
	m.Clock().Cancel(m.maint.timer)
	for _, io := range m.maint.inverse {
		m.Clock().Cancel(io.timeout)
	}
}
