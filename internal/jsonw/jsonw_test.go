package jsonw

import (
	"encoding/json"
	"math"
	"testing"
)

// Strings and floats read as encoding/json writes them, byte for byte.
func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"quoted"`, `back\slash`, "<a>&b", "tab\there", "nl\n", "\x00\x1f", "é", "\u2028\u2029", "bad\xffutf8", "日本"} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("string %q: got %s, want %s", s, got, want)
		}
	}
	for _, f := range []float64{0, 1, -1, 0.1, 1.5, 1024, 1800000020.2499998, 1e-6, 1e-7, 1.5e-9, 1e20, 1e21, 1e22, -2.5e-8, math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.125} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f, 64); string(got) != string(want) {
			t.Errorf("float %v: got %s, want %s", f, got, want)
		}
	}
	for _, f := range []float32{0.1, 1.5, 3.4e38, 1e-7} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, float64(f), 32); string(got) != string(want) {
			t.Errorf("float32 %v: got %s, want %s", f, got, want)
		}
	}
	if got := string(AppendFloat(nil, math.NaN(), 64)); got != "null" {
		t.Errorf("NaN: %s", got)
	}
}

// A document nests objects and arrays with the commas in place.
func TestWriterNests(t *testing.T) {
	var w Writer
	w.Open()
	w.Key("a")
	w.Int(1)
	w.Key("list")
	w.OpenArray()
	for i := 0; i < 2; i++ {
		w.Elem()
		w.Open()
		w.Key("x")
		w.Bool(i == 0)
		w.Key("empty")
		w.Open()
		w.Close()
		w.Close()
	}
	w.CloseArray()
	w.Key("none")
	w.Strings(nil)
	w.Key("v")
	w.Value(map[string]int{"k": 2})
	w.Key("f")
	w.Float(2.5)
	w.Close()
	want := `{"a":1,"list":[{"x":true,"empty":{}},{"x":false,"empty":{}}],"none":null,"v":{"k":2},"f":2.5}`
	if string(w.B) != want || !json.Valid(w.B) {
		t.Fatalf("got %s", w.B)
	}
}
