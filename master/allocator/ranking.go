package allocator

import (
	"cmp"
	"slices"
	"sort"
)

// ranked is what a ranking orders: a role or a framework, by the rank it
// was last placed with, then by name.
type ranked interface {
	comparable
	rankKey() (rank float64, name string)
}

// ranking is a slice kept sorted by (rank, name). Names are unique, so the
// order is total and an element is found by binary search on the key it
// was placed with. Re-placing one element after its rank changed costs a
// binary search and one block move, not a pass of comparisons.
type ranking[T ranked] []T

func keyLess(ar float64, an string, br float64, bn string) bool {
	if ar != br {
		return ar < br
	}
	return an < bn
}

// search returns the first index of l[lo:hi] whose element does not sort
// before (r, n).
func (l ranking[T]) search(lo, hi int, r float64, n string) int {
	return lo + sort.Search(hi-lo, func(i int) bool {
		ir, in := l[lo+i].rankKey()
		return !keyLess(ir, in, r, n)
	})
}

// indexOf returns x's index, or -1. x's key must be the one it was placed
// with; an element placed out of order (while a ranking awaits a full
// sort) is still found, by a scan.
func (l ranking[T]) indexOf(x T) int {
	r, n := x.rankKey()
	if i := l.search(0, len(l), r, n); i < len(l) && l[i] == x {
		return i
	}
	return slices.Index(l, x)
}

// insert places x by its key.
func (l *ranking[T]) insert(x T) {
	r, n := x.rankKey()
	*l = slices.Insert(*l, l.search(0, len(*l), r, n), x)
}

// remove takes x out.
func (l *ranking[T]) remove(x T) {
	if i := l.indexOf(x); i >= 0 {
		*l = slices.Delete(*l, i, i+1)
	}
}

// fix re-places the element at i after its key changed; the others must
// be in order.
func (l ranking[T]) fix(i int) {
	x := l[i]
	r, n := x.rankKey()
	if i > 0 {
		if pr, pn := l[i-1].rankKey(); keyLess(r, n, pr, pn) {
			j := l.search(0, i, r, n)
			copy(l[j+1:i+1], l[j:i])
			l[j] = x
			return
		}
	}
	j := l.search(i+1, len(l), r, n) - 1 // x's new place
	copy(l[i:j], l[i+1:j+1])
	l[j] = x
}

// sort orders the whole ranking (after every rank changed).
func (l ranking[T]) sort() {
	slices.SortFunc(l, func(a, b T) int {
		ar, an := a.rankKey()
		br, bn := b.rankKey()
		if c := cmp.Compare(ar, br); c != 0 {
			return c
		}
		return cmp.Compare(an, bn)
	})
}
