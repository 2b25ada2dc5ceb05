package zeek_test

import (
	"fmt"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/zeek"
)

// A connection whose SYN was not captured: Zeek flips the roles when the
// ACK after the SYN-ACK shows a real connection, and says so with '^'.
func ExampleConn() {
	t := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	var c zeek.Conn
	add := func(fromA bool, f fsm.Flags, seq, ack uint32, n int) {
		t = t.Add(time.Millisecond)
		c.Add(fromA, &zeek.Segment{Flags: f, Seq: seq, Ack: ack, Len: n, IPLen: 40 + n, Window: 512, Time: t})
	}
	// A is the server: its SYN-ACK is the first segment seen.
	add(true, fsm.SYN|fsm.ACK, 5000, 1001, 0)
	add(false, fsm.ACK, 1001, 5001, 0)
	add(false, fsm.PSH|fsm.ACK, 1001, 5001, 20)
	add(true, fsm.PSH|fsm.ACK, 5001, 1021, 300)
	add(false, fsm.FIN|fsm.ACK, 1021, 5301, 0)
	add(true, fsm.FIN|fsm.ACK, 5301, 1022, 0)
	add(false, fsm.ACK, 1022, 5302, 0)

	o, r := c.Orig(), c.Resp()
	fmt.Println("flipped:", c.Flipped())
	fmt.Println(c.State(), c.History())
	fmt.Printf("orig %d pkts %d bytes, resp %d pkts %d bytes, duration %v\n", o.Pkts, o.Bytes, r.Pkts, r.Bytes, c.Duration())
	// Output:
	// flipped: true
	// SF ^hADdFf
	// orig 4 pkts 20 bytes, resp 3 pkts 300 bytes, duration 5ms
}
