package future_test

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gomesos/gomesos/process/future"
)

func ExampleThen() {
	p := future.NewPromise[int]()
	s := future.Then(p.Future(), func(v int) (string, error) { return strconv.Itoa(v * 2), nil })
	s.OnReady(func(v string) { fmt.Println("got", v) })
	p.Set(21)
	// Output: got 42
}

func ExampleRepair() {
	f := future.Failed[int](errors.New("disk full"))
	r := future.Repair(f, func(err error) (int, error) {
		fmt.Println("repairing:", err)
		return -1, nil
	})
	fmt.Println(r)
	// Output:
	// repairing: disk full
	// Future[int] ready: -1
}

func ExamplePromise_Associate() {
	// A producer that hands out its future before it knows where the
	// value will come from.
	outer := future.NewPromise[string]()
	inner := future.NewPromise[string]()
	inner.Future().OnDiscard(func() { inner.Discard() }) // honours requests
	outer.Associate(inner.Future())

	outer.Future().Discard() // the request flows to inner, which gives up
	fmt.Println(outer.Future())
	// Output: Future[string] discarded (discard requested)
}

func ExampleCollect() {
	a, b := future.NewPromise[int](), future.NewPromise[int]()
	all := future.Collect(a.Future(), b.Future(), future.Ready(3))
	b.Set(2)
	a.Set(1)
	fmt.Println(all.Value())
	// Output: [1 2 3]
}
