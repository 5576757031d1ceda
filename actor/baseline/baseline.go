// Package baseline measures raw protoactor-go, with none of gomesos's
// layers, so that benchmarks can compare the runtime against its engine in
// the same run. It lives under actor/ because only actor/ may import
// protoactor-go.
package baseline

import (
	"io"
	"log/slog"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type ping struct {
	peer *pa.PID
	n    int64
	done chan struct{}
}

// PingPong plays n strict ping-pong rounds (one message in flight) between
// two protoactor actors with a small protobuf message passed by pointer,
// and returns the messages per second (two messages per round).
func PingPong(n int64) float64 {
	sys := pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	defer sys.Shutdown()
	done := make(chan struct{})
	pong := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if m, ok := ctx.Message().(*wrapperspb.Int64Value); ok {
			ctx.Send(ctx.Sender(), wrapperspb.Int64(m.Value+1))
		}
	}))
	var pingPID *pa.PID
	pingPID = sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if m, ok := ctx.Message().(*wrapperspb.Int64Value); ok {
			if m.Value >= 2*n {
				close(done)
				return
			}
			ctx.RequestWithCustomSender(pong, wrapperspb.Int64(m.Value+1), pingPID)
		}
	}))
	start := time.Now() // wall-clock: a benchmark measures real time
	sys.Root.RequestWithCustomSender(pong, wrapperspb.Int64(0), pingPID)
	<-done
	el := time.Since(start) // wall-clock: a benchmark measures real time
	return float64(2*n) / el.Seconds()
}
