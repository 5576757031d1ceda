package future

import "testing"

var sink int

func addOne(v int) (int, error) { return v + 1, nil }

// A promise, its future, one OnReady and Set: the common dispatch shape.
func BenchmarkSetOnReady(b *testing.B) {
	b.ReportAllocs()
	fn := func(v int) { sink += v }
	for i := 0; b.Loop(); i++ {
		p := NewPromise[int]()
		p.Future().OnReady(fn)
		p.Set(i)
	}
}

// The same with the callback registered after completion.
func BenchmarkSetThenOnReady(b *testing.B) {
	b.ReportAllocs()
	fn := func(v int) { sink += v }
	for i := 0; b.Loop(); i++ {
		p := NewPromise[int]()
		p.Set(i)
		p.Future().OnReady(fn)
	}
}

// A chain of ten Thens built on a pending promise, then completed.
func BenchmarkThenChain(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := NewPromise[int]()
		f := p.Future()
		for range 10 {
			f = Then(f, addOne)
		}
		p.Set(i)
		sink += f.Value()
	}
}

// A ThenF chain whose continuations return ready futures.
func BenchmarkThenFChain(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := NewPromise[int]()
		f := p.Future()
		for range 10 {
			f = ThenF(f, func(v int) Future[int] { return Ready(v + 1) })
		}
		p.Set(i)
		sink += f.Value()
	}
}

// Collect over 16 pending inputs.
func BenchmarkCollect16(b *testing.B) {
	b.ReportAllocs()
	ps := make([]*Promise[int], 16)
	fs := make([]Future[int], 16)
	for b.Loop() {
		for i := range ps {
			ps[i] = NewPromise[int]()
			fs[i] = ps[i].Future()
		}
		c := Collect(fs...)
		for i, p := range ps {
			p.Set(i)
		}
		sink += len(c.Value())
	}
}

// Parallel Set and OnReady on shared promises.
func BenchmarkSetOnReadyParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		fn := func(v int) { n += v }
		for pb.Next() {
			p := NewPromise[int]()
			p.Future().OnReady(fn)
			p.Set(1)
		}
	})
}
