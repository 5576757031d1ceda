package master

// documentedGauges registers the master metrics the Mesos docs list that
// the core set lacks: the revocable resources (master/<r>_revocable_total,
// _used, _percent: Mesos 1.0 counts revocable resources only there, and
// non-revocable ones in master/<r>_total) and the docs' spelling
// master/slave_shutdowns_cancelled of master/slave_shutdowns_canceled (the
// name in Mesos's code; both are served).
func (m *master) documentedGauges(gauge func(name string, fn func() float64)) {
	for _, name := range []string{"cpus", "mem", "disk"} {
		name := name
		totals := func() (total, used float64) {
			for _, s := range m.slaves {
				total += s.total.Revocable().Scalar(name)
				used += s.used.Revocable().Scalar(name)
			}
			return total, used
		}
		gauge(name+"_revocable_total", func() float64 { t, _ := totals(); return t })
		gauge(name+"_revocable_used", func() float64 { _, u := totals(); return u })
		gauge(name+"_revocable_percent", func() float64 {
			t, u := totals()
			if t == 0 {
				return 0
			}
			return u / t
		})
	}
	gauge("slave_shutdowns_cancelled", func() float64 { return m.metrics.slaveShutdownsCanceled.Value() })
}
