package allocator

import (
	"fmt"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// TestRankingStaysSorted: inserting, removing and re-ranking elements one
// at a time (few distinct ranks, so names break many ties) leaves the
// ranking equal to a full sort, and every element is found where it is.
func TestRankingStaysSorted(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property("a ranking re-placed one element at a time equals a full sort", prop.ForAll(
		func(ops []int) (bool, error) {
			var l ranking[*frameworkState]
			in := map[string]*frameworkState{}
			for step, op := range ops {
				id := fmt.Sprintf("f%d", op%13)
				share := float64(op/13%4) / 4
				f := in[id]
				switch {
				case f == nil:
					f = &frameworkState{id: id, share: share}
					in[id] = f
					l.insert(f)
				case op%5 == 0:
					l.remove(f)
					delete(in, id)
				default:
					i := l.indexOf(f)
					f.share = share
					l.fix(i)
				}
				want := slices.Clone(l)
				want.sort()
				if !slices.Equal(l, want) {
					return false, fmt.Errorf("step %d: ranking %v, sorted %v", step, names(l), names(want))
				}
				for i, f := range l {
					if got := l.indexOf(f); got != i {
						return false, fmt.Errorf("step %d: %s at %d found at %d", step, f.id, i, got)
					}
				}
				if len(l) != len(in) {
					return false, fmt.Errorf("step %d: %d ranked, %d added", step, len(l), len(in))
				}
			}
			return true, nil
		},
		gen.SliceOf(gen.IntRange(0, 13*4*5)),
	))
	props.TestingRun(t)
}

func names(l ranking[*frameworkState]) []string {
	var out []string
	for _, f := range l {
		out = append(out, fmt.Sprintf("%s:%g", f.id, f.share))
	}
	return out
}
