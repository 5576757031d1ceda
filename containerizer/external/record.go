package external

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// MaxRecord bounds a record's payload (a Launch carries a TaskInfo, whose
// data field may be large).
const MaxRecord = 64 << 20

// WriteRecord writes m as one record of the external containerizer
// protocol: its length as a 4-byte unsigned integer in the machine's byte
// order (Mesos writes a native uint32), then its bytes.
func WriteRecord(w io.Writer, m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %T: %w", m, err)
	}
	buf := make([]byte, 4+len(b))
	binary.NativeEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	_, err = w.Write(buf)
	return err
}

// ReadRecord reads one record from r into m. A missing, empty, short or
// oversized record, or a payload that is not a valid m (required fields
// included), is an error that says which.
func ReadRecord(r io.Reader, m proto.Message) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("no record (empty input)")
		}
		return fmt.Errorf("record length: %w", err)
	}
	n := binary.NativeEndian.Uint32(hdr[:])
	if n == 0 {
		return errors.New("record of length 0")
	}
	if n > MaxRecord {
		return fmt.Errorf("record length %d exceeds %d", n, MaxRecord)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("record of length %d: %w", n, err)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("record is not a %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// decodeOnly reads exactly one record from b into m: trailing bytes are
// an error too.
func decodeOnly(b []byte, m proto.Message) error {
	r := &sliceReader{b: b}
	if err := ReadRecord(r, m); err != nil {
		return err
	}
	if len(r.b) > 0 {
		return fmt.Errorf("%d bytes after the record", len(r.b))
	}
	return nil
}

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
