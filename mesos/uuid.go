package mesos

import (
	"fmt"

	"github.com/google/uuid"
)

// NewUUID returns a random (version 4) UUID whose bits come from fill,
// which must fill its argument with random bytes. Pass a runtime's
// RandBytes, so that ids drawn on a deterministic runtime replay with its
// seed. The 16 bytes (u[:]) are what status updates carry; u.String() is
// the text form used for framework, master and container ids.
func NewUUID(fill func([]byte)) uuid.UUID {
	u, err := uuid.NewRandomFromReader(fillReader(fill))
	if err != nil {
		// fillReader never fails, so neither can this.
		panic(fmt.Sprintf("mesos: new uuid: %v", err))
	}
	return u
}

// fillReader is an io.Reader over a byte-filling function.
type fillReader func([]byte)

func (f fillReader) Read(b []byte) (int, error) {
	f(b)
	return len(b), nil
}

// UUIDString is the text form of a uuid carried as bytes (a status
// update's), for logs and errors; bytes that are not a uuid are shown in
// hex.
func UUIDString(b []byte) string {
	if u, err := uuid.FromBytes(b); err == nil {
		return u.String()
	}
	return fmt.Sprintf("%x", b)
}
