//go:build ignore

// This program is a mesos-go 0.0.6 messenger used as a peer in gomesos's
// interop tests and benchmarks. It is built in GOPATH mode against the
// Debian package golang-github-mesos-mesos-go-dev (see mesosgo.go).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/mesos/mesos-go/api/v0/mesosproto"
	"github.com/mesos/mesos-go/api/v0/messenger"
	"github.com/mesos/mesos-go/api/v0/upid"
)

func main() {
	mode := flag.String("mode", "echo", "echo, send, sink or source")
	to := flag.String("to", "", "peer UPID (send, source)")
	n := flag.Int("n", 1, "messages (send, sink, source)")
	flag.Parse()
	if dir, err := ioutil.TempDir("", "mesosgo-peer"); err == nil {
		flag.Set("log_dir", dir) // glog, quiet
	}
	flag.Set("stderrthreshold", "FATAL")

	self, _ := upid.Parse("mesosgo(1)@127.0.0.1:0")
	m := messenger.NewHttpWithBindingAddress(*self, net.ParseIP("127.0.0.1"))
	var mu sync.Mutex
	count := 0
	done := make(chan *upid.UPID, 1)
	ctx := context.Background()

	must(m.Install(func(from *upid.UPID, msg proto.Message) {
		ping := msg.(*mesosproto.PingSlaveMessage)
		switch *mode {
		case "echo":
			fmt.Printf("PING from=%s connected=%v\n", from, ping.GetConnected())
			_ = m.Send(ctx, from, &mesosproto.PongSlaveMessage{})
		case "sink":
			mu.Lock()
			count++
			c := count
			mu.Unlock()
			if c == *n {
				_ = m.Send(ctx, from, &mesosproto.PongSlaveMessage{})
			}
		}
	}, &mesosproto.PingSlaveMessage{}))
	must(m.Install(func(from *upid.UPID, msg proto.Message) {
		mu.Lock()
		count++
		c := count
		mu.Unlock()
		if *mode == "send" && c == *n || *mode == "source" {
			select {
			case done <- from:
			default:
			}
		}
	}, &mesosproto.PongSlaveMessage{}))
	must(m.Start())
	fmt.Printf("UPID %s\n", m.UPID())

	switch *mode {
	case "echo", "sink":
		r := bufio.NewReader(os.Stdin)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				os.Exit(0)
			}
		}
	case "send", "source":
		peer, err := upid.Parse(*to)
		must(err)
		start := time.Now()
		total := *n
		if *mode == "send" {
			total = *n
		}
		for i := 0; i < total; i++ {
			must(m.Send(ctx, peer, &mesosproto.PingSlaveMessage{Connected: proto.Bool(true)}))
		}
		select {
		case from := <-done:
			if *mode == "send" {
				fmt.Printf("PONG from=%s\n", from)
			} else {
				fmt.Printf("RATE %.0f\n", float64(*n)/time.Since(start).Seconds())
			}
			os.Exit(0)
		case <-time.After(60 * time.Second):
			fmt.Println("TIMEOUT")
			os.Exit(1)
		}
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesosgo peer:", err)
		os.Exit(2)
	}
}
