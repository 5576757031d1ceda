package resources

import (
	"encoding/json"
	"strconv"

	"github.com/gomesos/gomesos/internal/jsonw"
)

// jsonMapNames are the scalars JSONMap always shows, 0 when absent,
// sorted as the names they are merged with.
var jsonMapNames = [...]string{"cpus", "disk", "gpus", "mem"}

// JSONMap is rs summarised as Mesos's /state does: an object from each
// name to its value, scalars of a name added up, ranges and sets as text,
// names sorted, and cpus, mem, disk and gpus always there (0 when absent).
func (rs Resources) JSONMap() json.RawMessage {
	var w jsonw.Writer
	rs.WriteJSONMap(&w)
	return w.B
}

// WriteJSONMap writes JSONMap to w without building it apart: /state
// writes three for each of tens of thousands of slaves.
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
		// Scalars of a name add up (as floats, in order, as Mesos's
		// doubles); a range or set stands for the name, the last one of
		// it winning.
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
