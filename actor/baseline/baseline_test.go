package baseline

import "testing"

func TestPingPong(t *testing.T) {
	r := PingPong(10000)
	if r <= 0 {
		t.Fatalf("rate %v", r)
	}
	t.Logf("raw protoactor ping-pong: %.0f msgs/s", r)
}
