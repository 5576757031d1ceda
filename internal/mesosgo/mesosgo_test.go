package mesosgo

import (
	"errors"
	"testing"
)

func TestBuild(t *testing.T) {
	bin, err := Build()
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil || bin == "" {
		t.Fatalf("build: %q %v", bin, err)
	}
}

func TestBuildV1(t *testing.T) {
	bin, err := BuildV1()
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil || bin == "" {
		t.Fatalf("build: %q %v", bin, err)
	}
}
