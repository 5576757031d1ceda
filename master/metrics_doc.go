package master

// documentedGauges registers master metrics under the names the Mesos
// docs use where Mesos's code spells them otherwise:
// master/slave_shutdowns_cancelled (docs) beside
// master/slave_shutdowns_canceled (code); both are served.
func (m *master) documentedGauges() {
	if err := m.Gauge("master/slave_shutdowns_cancelled", func() float64 { return m.metrics.slaveShutdownsCanceled.Value() }); err != nil {
		m.log.Error("cannot register metric", "name", "master/slave_shutdowns_cancelled", "err", err)
	}
}
