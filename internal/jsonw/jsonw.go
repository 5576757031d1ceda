// Package jsonw writes JSON by appending to a byte slice, field by field,
// for documents too big to build as maps first (a master's /state at
// 50,000 slaves). What it writes reads back as encoding/json's output
// would: strings escaped the same way (HTML characters included), floats
// in the same shortest form.
package jsonw

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// Writer appends one JSON document to B. Objects and arrays nest: Open
// and OpenArray start one, Close and CloseArray end it; Key starts a
// member and Elem an array element, each adding the comma it needs.
// Values (String, Float, ...) follow a Key or an Elem.
type Writer struct {
	B     []byte
	first bool // nothing written yet in the innermost object or array
}

// Open starts an object.
func (w *Writer) Open() { w.B = append(w.B, '{'); w.first = true }

// Close ends an object.
func (w *Writer) Close() { w.B = append(w.B, '}'); w.first = false }

// OpenArray starts an array.
func (w *Writer) OpenArray() { w.B = append(w.B, '['); w.first = true }

// CloseArray ends an array.
func (w *Writer) CloseArray() { w.B = append(w.B, ']'); w.first = false }

// Key starts an object member; k must need no escaping (a field name).
func (w *Writer) Key(k string) {
	w.comma()
	w.B = append(w.B, '"')
	w.B = append(w.B, k...)
	w.B = append(w.B, '"', ':')
}

// Elem starts an array element.
func (w *Writer) Elem() { w.comma() }

func (w *Writer) comma() {
	if !w.first {
		w.B = append(w.B, ',')
	}
	w.first = false
}

// KeyString writes the member k: s.
func (w *Writer) KeyString(k, s string) { w.Key(k); w.String(s) }

// KeyFloat writes the member k: f.
func (w *Writer) KeyFloat(k string, f float64) { w.Key(k); w.Float(f) }

// KeyInt writes the member k: i.
func (w *Writer) KeyInt(k string, i int64) { w.Key(k); w.Int(i) }

// KeyBool writes the member k: b.
func (w *Writer) KeyBool(k string, b bool) { w.Key(k); w.Bool(b) }

// String writes s as a JSON string.
func (w *Writer) String(s string) { w.B = AppendString(w.B, s) }

// Float writes f as encoding/json writes a float64; NaN and infinities,
// which JSON has not, as null.
func (w *Writer) Float(f float64) { w.B = AppendFloat(w.B, f, 64) }

// Int writes an integer.
func (w *Writer) Int(i int64) { w.B = strconv.AppendInt(w.B, i, 10) }

// Bool writes a boolean.
func (w *Writer) Bool(b bool) { w.B = strconv.AppendBool(w.B, b) }

// Raw writes b, which must be one JSON value.
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

// Value writes v by encoding/json: for small values of irregular shape.
// A value encoding/json refuses is written as null.
func (w *Writer) Value(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("null")
	}
	w.B = append(w.B, b...)
}

// Strings writes a list of strings (null for a nil one, as encoding/json).
func (w *Writer) Strings(ss []string) {
	if ss == nil {
		w.B = append(w.B, "null"...)
		return
	}
	w.OpenArray()
	for _, s := range ss {
		w.Elem()
		w.String(s)
	}
	w.CloseArray()
}

// safe marks the ASCII bytes encoding/json writes as they are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendString appends s as encoding/json writes a string.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !safe[c] {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendFloat appends f as encoding/json writes a float of the given bits
// (32 or 64): the shortest form that reads back to the same value, in
// exponent form only below 1e-6 and from 1e21 (with a one-digit negative
// exponent, as JavaScript writes it); NaN and infinities as null.
func AppendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' { // 1e-07 → 1e-7
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b = append(b[:len(b)-2], b[len(b)-1])
		}
	}
	return b
}
