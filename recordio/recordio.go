// Package recordio is the framing of the v1 HTTP API's streams
// (RecordIO): each record is its length in bytes as decimal ASCII digits,
// a newline, and then the record itself.
package recordio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxHeader bounds the length line: 20 digits hold any uint64.
const maxHeader = 20

// ErrTooLarge is returned (wrapped) for a record longer than the reader's
// bound; the stream cannot be read further.
var ErrTooLarge = errors.New("recordio: record too large")

// ErrMalformed is returned (wrapped) for a length line that is not
// decimal digits and a newline.
var ErrMalformed = errors.New("recordio: malformed record length")

// Frame returns record with its length line in front.
func Frame(record []byte) []byte {
	out := make([]byte, 0, len(record)+maxHeader+1)
	out = strconv.AppendInt(out, int64(len(record)), 10)
	out = append(out, '\n')
	return append(out, record...)
}

// Writer writes framed records.
type Writer struct {
	w io.Writer
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteRecord writes record, framed, in one Write.
func (w *Writer) WriteRecord(record []byte) error {
	if _, err := w.w.Write(Frame(record)); err != nil {
		return fmt.Errorf("recordio: write: %w", err)
	}
	return nil
}

// Reader reads framed records.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader returns a Reader of r that refuses records longer than max
// bytes (the v1 HTTP clients allow 4 MiB).
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: bufio.NewReader(r), max: max}
}

// ReadRecord returns the next record: io.EOF at the end of the stream
// between records, io.ErrUnexpectedEOF inside one, ErrTooLarge or
// ErrMalformed (wrapped) for a bad length line. The length line is read
// with a bound and the record's buffer is allocated only after its
// length is checked.
func (r *Reader) ReadRecord() ([]byte, error) {
	var header []byte
	for {
		c, err := r.r.ReadByte()
		if err == io.EOF {
			if len(header) == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, fmt.Errorf("recordio: read: %w", err)
		}
		if c == '\n' {
			break
		}
		if c < '0' || c > '9' || len(header) >= maxHeader {
			return nil, fmt.Errorf("%w: %q", ErrMalformed, append(header, c))
		}
		header = append(header, c)
	}
	if len(header) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	n, err := strconv.ParseUint(string(header), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrMalformed, header)
	}
	if n > uint64(r.max) {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, n, r.max)
	}
	record := make([]byte, n)
	if _, err := io.ReadFull(r.r, record); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return record, nil
}
