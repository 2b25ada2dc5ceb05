package fsm_test

import (
	"fmt"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// A client opens a connection with the three-way handshake. Every segment
// moves its sender for certain and its receiver by inference; Report says
// how many transitions it added to the end of History.
func ExampleMachine() {
	var m fsm.Machine
	m.Reset(fsm.Config{})
	t0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	segments := []struct {
		from fsm.Role
		seg  fsm.Segment
	}{
		{fsm.Client, fsm.Segment{Seq: 100, Flags: fsm.SYN, Window: 64240, WScale: 7}},
		{fsm.Server, fsm.Segment{Seq: 300, Ack: 101, Flags: fsm.SYN | fsm.ACK, Window: 65160, WScale: 7}},
		{fsm.Client, fsm.Segment{Seq: 101, Ack: 301, Flags: fsm.ACK, Window: 502, WScale: -1}},
	}
	for i, s := range segments {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		rep := m.Step(s.from, &s.seg, at, uint64(i+1))
		h := m.History()
		fmt.Printf("packet %d: %s %s\n", i+1, s.from, s.seg.Flags)
		for _, tr := range h[len(h)-rep.Transitions:] {
			how := "inferred"
			if tr.Certain {
				how = "certain"
			}
			fmt.Printf("  %s: %s -> %s (%s)\n", tr.Role, tr.From, tr.To, how)
		}
	}
	fmt.Println(m.State(fsm.Client), m.State(fsm.Server))
	// Output:
	// packet 1: client S
	//   client: CLOSED -> SYN_SENT (certain)
	//   server: LISTEN -> SYN_RECEIVED (inferred)
	// packet 2: server S.
	//   client: SYN_SENT -> ESTABLISHED (inferred)
	// packet 3: client .
	//   server: SYN_RECEIVED -> ESTABLISHED (inferred)
	// ESTABLISHED ESTABLISHED
}

// A retransmitted SYN proves the first copy never arrived: the server's
// inferred SYN_RECEIVED is revised away, and StateAt answers for the past
// with what the whole capture shows.
func ExampleMachine_StateAt() {
	var m fsm.Machine
	m.Reset(fsm.Config{})
	t0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	syn := fsm.Segment{Seq: 100, Flags: fsm.SYN, Window: 64240, WScale: -1}
	m.Step(fsm.Client, &syn, t0, 1)
	fmt.Println("after the SYN:", m.State(fsm.Server))
	syn2 := syn
	m.Step(fsm.Client, &syn2, t0.Add(time.Second), 2)
	fmt.Println("the server at the first SYN, as known now:", m.StateAt(fsm.Server, t0))
	for _, tr := range m.History() {
		if tr.Revision {
			fmt.Printf("revision at packet %d: %s %s -> %s: %s\n", tr.Packet, tr.Role, tr.From, tr.To, tr.Cause)
		}
	}
	// Output:
	// after the SYN: SYN_RECEIVED
	// the server at the first SYN, as known now: LISTEN
	// revision at packet 2: server SYN_RECEIVED -> LISTEN: revised: SYN retransmitted unacknowledged, never received
}
