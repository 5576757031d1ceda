package future

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

func properties(t *testing.T) *gopter.Properties {
	t.Helper()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	return gopter.NewProperties(params)
}

// Head outcomes for a chain.
const (
	headReady = iota
	headFail
	headDiscard
	headDiscardRequest // discard requested at the end; the producer honours it
)

// chainStep is step i of a Then/ThenF chain: fn(x) = x*3 + k, by one of
// three routes (Then, ThenF with a ready future, ThenF with a future that
// completes later).
func runChain(steps []int, head, failAt int) string {
	var (
		pending []func() // inner promises to complete later, in order
		calls   []int
		errAt   = fmt.Errorf("step %d failed", failAt)
		errHead = errors.New("head failed")
	)
	p := NewPromise[int64]()
	f := p.Future()
	for i, k := range steps {
		k := int64(k)
		switch k % 3 {
		case 0:
			f = Then(f, func(x int64) (int64, error) {
				calls = append(calls, i)
				if i == failAt {
					return 0, errAt
				}
				return x*3 + k, nil
			})
		case 1:
			f = ThenF(f, func(x int64) Future[int64] {
				calls = append(calls, i)
				if i == failAt {
					return Failed[int64](errAt)
				}
				return Ready(x*3 + k)
			})
		default:
			f = ThenF(f, func(x int64) Future[int64] {
				calls = append(calls, i)
				q := NewPromise[int64]()
				pending = append(pending, func() {
					if i == failAt {
						q.Fail(errAt)
					} else {
						q.Set(x*3 + k)
					}
				})
				return q.Future()
			})
		}
	}
	end := f

	const start = 5
	switch head {
	case headReady:
		p.Set(start)
	case headFail:
		p.Fail(errHead)
	case headDiscard:
		p.Discard()
	case headDiscardRequest:
		end.Discard()
		if !p.Future().HasDiscard() {
			return "discard request on the end did not reach the head"
		}
		p.Discard()
	}
	for len(pending) > 0 {
		next := pending[0]
		pending = pending[1:]
		next()
	}

	switch {
	case head == headFail:
		if len(calls) != 0 || end.Err() != errHead {
			return fmt.Sprintf("head failure: end %v after %d calls, want the head's error", end, len(calls))
		}
	case head == headDiscard || head == headDiscardRequest:
		if len(calls) != 0 || !end.IsDiscarded() {
			return fmt.Sprintf("head discarded: end %v after %d calls", end, len(calls))
		}
	case failAt < len(steps):
		if end.Err() != errAt || len(calls) != failAt+1 {
			return fmt.Sprintf("step %d failed: end %v after %d calls, want that step's error", failAt, end, len(calls))
		}
	default:
		want := int64(start)
		for _, k := range steps {
			want = want*3 + int64(k)
		}
		if v, err := end.Get(); v != want || err != nil || len(calls) != len(steps) {
			return fmt.Sprintf("end %v, %v after %d calls, want %d", v, err, len(calls), want)
		}
	}
	for i, c := range calls {
		if c != i {
			return fmt.Sprintf("steps ran out of order: %v", calls)
		}
	}
	return ""
}

func TestPropThenChains(t *testing.T) {
	props := properties(t)
	props.Property("a Then/ThenF chain composes its functions and carries failure and discard to the end",
		prop.ForAll(runChain,
			gen.SliceOf(gen.IntRange(0, 1000)),
			gen.IntRange(headReady, headDiscardRequest),
			gen.IntRange(0, 120),
		))
	props.TestingRun(t)
}

// Input outcomes for Collect and AwaitAll: 0 fails, 1 is discarded, the
// rest are ready.
func outcomeGen() gopter.Gen { return gen.SliceOf(gen.IntRange(0, 29)) }

type inputs struct {
	ps    []*Promise[int]
	fs    []Future[int]
	errs  []error
	order []int
	kinds []int
}

func newInputs(kinds []int, seed uint64) *inputs {
	in := &inputs{kinds: kinds}
	for i := range kinds {
		p := NewPromise[int]()
		in.ps = append(in.ps, p)
		in.fs = append(in.fs, p.Future())
		in.errs = append(in.errs, fmt.Errorf("input %d failed", i))
	}
	in.order = rand.New(rand.NewPCG(seed, 0x5eed)).Perm(len(kinds))
	return in
}

func (in *inputs) value(i int) int { return i*10 + in.kinds[i] }

func (in *inputs) complete(i int) {
	switch in.kinds[i] {
	case 0:
		in.ps[i].Fail(in.errs[i])
	case 1:
		in.ps[i].Discard()
	default:
		in.ps[i].Set(in.value(i))
	}
}

func TestPropCollect(t *testing.T) {
	props := properties(t)
	props.Property("Collect fails iff an input fails or is discarded, else yields values in input order",
		prop.ForAll(func(kinds []int, seed uint64) string {
			in := newInputs(kinds, seed)
			c := Collect(in.fs...)
			var firstBad error
			for n, i := range in.order {
				if firstBad == nil && c.IsFailed() {
					return "failed before any input failed"
				}
				if firstBad == nil && !c.IsPending() {
					return fmt.Sprintf("complete after %d of %d inputs: %v", n, len(kinds), c)
				}
				in.complete(i)
				if firstBad == nil {
					switch in.kinds[i] {
					case 0:
						firstBad = in.errs[i]
					case 1:
						firstBad = ErrDiscarded
					}
					if firstBad != nil && !errors.Is(c.Err(), firstBad) {
						return fmt.Sprintf("input %d: %v; collect %v did not fail with it at once", i, firstBad, c)
					}
				}
			}
			if firstBad != nil {
				if !errors.Is(c.Err(), firstBad) {
					return fmt.Sprintf("collect %v, want failure %v", c, firstBad)
				}
				return ""
			}
			vs := c.Value()
			if !c.IsReady() || len(vs) != len(kinds) {
				return fmt.Sprintf("all ready but collect %v", c)
			}
			for i, v := range vs {
				if v != in.value(i) {
					return fmt.Sprintf("value %d = %d, want %d", i, v, in.value(i))
				}
			}
			return ""
		}, outcomeGen(), gen.UInt64()))
	props.TestingRun(t)
}

func TestPropAwaitAll(t *testing.T) {
	props := properties(t)
	props.Property("AwaitAll completes only after every input completes, with the inputs in order",
		prop.ForAll(func(kinds []int, seed uint64) string {
			in := newInputs(kinds, seed)
			a := AwaitAll(in.fs...)
			for n, i := range in.order {
				if !a.IsPending() {
					return fmt.Sprintf("complete after %d of %d inputs", n, len(kinds))
				}
				in.complete(i)
			}
			fs := a.Value()
			if !a.IsReady() || len(fs) != len(kinds) {
				return fmt.Sprintf("AwaitAll %v after all inputs completed", a)
			}
			for i, f := range fs {
				if f != in.fs[i] || f.IsPending() {
					return fmt.Sprintf("future %d is %v, want input %d, complete", i, f, i)
				}
			}
			return ""
		}, outcomeGen(), gen.UInt64()))
	props.TestingRun(t)
}

func TestPropSelect(t *testing.T) {
	props := properties(t)
	props.Property("Select yields the first input to complete",
		prop.ForAll(func(kinds []int, seed uint64) string {
			if len(kinds) == 0 {
				return ""
			}
			in := newInputs(kinds, seed)
			s := Select(in.fs...)
			for _, i := range in.order {
				in.complete(i)
			}
			if w := s.Value(); w != in.fs[in.order[0]] {
				return fmt.Sprintf("Select yielded %v, want input %d", w, in.order[0])
			}
			return ""
		}, outcomeGen(), gen.UInt64()))
	props.TestingRun(t)
}

// Operations on a promise: Set, Fail, Discard (producer), and a discard
// request (consumer).
const (
	opSet = iota
	opFail
	opDiscard
	opRequest
)

func TestPropCallbackRunsOnce(t *testing.T) {
	props := properties(t)
	props.Property("a callback registered at any point runs exactly once, if its kind matches",
		prop.ForAll(func(ops []int, at int) string {
			at %= len(ops) + 1
			p := NewPromise[int]()
			f := p.Future()
			var ready, failed, discarded, anyN, discard int
			register := func() {
				f.OnReady(func(int) { ready++ }).
					OnFailed(func(error) { failed++ }).
					OnDiscarded(func() { discarded++ }).
					OnAny(func(Future[int]) { anyN++ }).
					OnDiscard(func() { discard++ })
			}
			requested := false // a request made while pending
			for i, op := range append(ops, opSet) {
				if i == at {
					register()
				}
				switch op {
				case opSet:
					p.Set(i)
				case opFail:
					p.Fail(errBoom)
				case opDiscard:
					p.Discard()
				case opRequest:
					if f.IsPending() {
						requested = true
					}
					f.Discard()
				}
			}
			st := f.State()
			want := func(n int, ok bool) bool { return (n == 1) == ok && n <= 1 }
			if !want(anyN, true) || !want(ready, st == StateReady) || !want(failed, st == StateFailed) ||
				!want(discarded, st == StateDiscarded) || !want(discard, requested) {
				return fmt.Sprintf("state %v, request %v: ready %d failed %d discarded %d any %d discard %d",
					st, requested, ready, failed, discarded, anyN, discard)
			}
			return ""
		}, gen.SliceOf(gen.IntRange(opSet, opRequest)), gen.IntRange(0, 1000)))
	props.TestingRun(t)
}
