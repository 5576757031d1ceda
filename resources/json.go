package resources

import (
	"strconv"

	"github.com/gomesos/gomesos/internal/jsonw"
)

// jsonMapNames are the scalars ToJSONMap always shows, 0 when absent,
// sorted as the names they are merged with.
var jsonMapNames = [...]string{"cpus", "disk", "gpus", "mem"}

// WriteJSONMap writes what ToJSONMap returns, as encoding/json would
// encode it (names sorted), without building the map: /state writes
// three of these for each of tens of thousands of slaves.
func (rs Resources) WriteJSONMap(w *jsonw.Writer) {
	w.Open()
	fixed := jsonMapNames[:]
	for i := 0; i < len(rs); {
		name := rs[i].Name
		for len(fixed) > 0 && fixed[0] < name {
			w.Key(fixed[0])
			w.Float(0)
			fixed = fixed[1:]
		}
		if len(fixed) > 0 && fixed[0] == name {
			fixed = fixed[1:]
		}
		// As ToJSONMap: scalars of a name add up; a range or set stands
		// for the name, the last one of it winning.
		// (Added as floats, in order, as ToJSONMap adds them.)
		sum := 0.0
		var text *Resource
		for ; i < len(rs) && rs[i].Name == name; i++ {
			if rs[i].Kind == Scalar {
				if text != nil {
					sum, text = 0, nil
				}
				sum += rs[i].Value()
			} else {
				text = &rs[i]
			}
		}
		w.Key(name)
		switch {
		case text == nil:
			w.Float(sum)
		case text.Kind == Ranges: // digits and punctuation: no escaping
			w.B = append(w.B, '"', '[')
			for j, x := range text.Ranges {
				if j > 0 {
					w.B = append(w.B, ',', ' ')
				}
				w.B = strconv.AppendUint(w.B, x.Begin, 10)
				w.B = append(w.B, '-')
				w.B = strconv.AppendUint(w.B, x.End, 10)
			}
			w.B = append(w.B, ']', '"')
		default:
			w.String(text.valueString())
		}
	}
	for _, name := range fixed {
		w.Key(name)
		w.Float(0)
	}
	w.Close()
}
