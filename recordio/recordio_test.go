package recordio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	records := []string{`{"type":"SUBSCRIBED"}`, "", "\n12\n", strings.Repeat("x", 1000)}
	for _, r := range records {
		if err := w.WriteRecord([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(buf.String(), "21\n{\"type\":\"SUBSCRIBED\"}0\n4\n\n12\n1000\n") {
		t.Fatalf("framed %q", buf.String()[:40])
	}
	r := NewReader(&buf, 1<<20)
	for _, want := range records {
		got, err := r.ReadRecord()
		if err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.ReadRecord(); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestBadStreams(t *testing.T) {
	for in, want := range map[string]error{
		"5\nabc":                    io.ErrUnexpectedEOF,
		"12":                        io.ErrUnexpectedEOF,
		"\n":                        ErrMalformed,
		"-1\n":                      ErrMalformed,
		" 1\nx":                     ErrMalformed,
		"1x\n":                      ErrMalformed,
		"99999999999999999999999\n": ErrMalformed,
		"18446744073709551616\n":    ErrMalformed, // 2^64
		"1025\n":                    ErrTooLarge,
		"18446744073709551615\n":    ErrTooLarge,
	} {
		_, err := NewReader(strings.NewReader(in), 1024).ReadRecord()
		if !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", in, err, want)
		}
	}
}

// FuzzReader: any stream reads as records within the bound until a clean
// error, never a panic; the records framed again read back the same.
func FuzzReader(f *testing.F) {
	f.Add([]byte("21\n{\"type\":\"SUBSCRIBED\"}0\n4\n\n12\n"))
	f.Add([]byte("3\nabc2\nde"))
	f.Add([]byte("00000000000000000001\nx"))
	f.Add([]byte("18446744073709551615\n"))
	f.Add([]byte("-1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 1 << 16
		r := NewReader(bytes.NewReader(data), max)
		var records [][]byte
		for {
			rec, err := r.ReadRecord()
			if err != nil {
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(rec) > max {
				t.Fatalf("record of %d bytes over the bound", len(rec))
			}
			records = append(records, rec)
		}
		var framed bytes.Buffer
		for _, rec := range records {
			framed.Write(Frame(rec))
		}
		again := NewReader(&framed, max)
		for i, want := range records {
			got, err := again.ReadRecord()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("record %d: %q, %v; want %q", i, got, err, want)
			}
		}
		if _, err := again.ReadRecord(); err != io.EOF {
			t.Fatalf("after the records: %v, want io.EOF", err)
		}
	})
}
