package wireshark_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
)

// A segment is lost before the capture point; the receiver's duplicate
// ACKs bring a fast retransmission. One Conn per 4-tuple, direction 0 for
// the first sender.
func ExampleConn() {
	client := netip.MustParseAddrPort("192.0.2.1:40000")
	server := netip.MustParseAddrPort("198.51.100.1:443")
	t0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	segments := []struct {
		src      netip.AddrPort
		ms       int
		flags    fsm.Flags
		seq, ack fsm.Seq
		len      uint32
		wscale   int8
	}{
		{client, 0, fsm.SYN, 1000, 0, 0, 7},
		{server, 1, fsm.SYN | fsm.ACK, 5000, 1001, 0, 7},
		{client, 2, fsm.ACK, 1001, 5001, 0, -1},
		{client, 10, fsm.ACK | fsm.PSH, 1101, 5001, 100, -1}, // 1001-1100 was lost
		{server, 11, fsm.ACK, 5001, 1001, 0, -1},
		{server, 12, fsm.ACK, 5001, 1001, 0, -1},
		{server, 13, fsm.ACK, 5001, 1001, 0, -1},
		{client, 15, fsm.ACK | fsm.PSH, 1001, 5001, 100, -1},
		{server, 16, fsm.ACK, 5001, 1201, 0, -1},
	}
	conns := map[[2]netip.AddrPort]*wireshark.Conn{}
	first := map[[2]netip.AddrPort]netip.AddrPort{}
	for i, s := range segments {
		dst := server
		if s.src == server {
			dst = client
		}
		key := [2]netip.AddrPort{s.src, dst}
		if dst.Compare(s.src) < 0 {
			key = [2]netip.AddrPort{dst, s.src}
		}
		c := conns[key]
		if c == nil {
			c = new(wireshark.Conn)
			conns[key] = c
			first[key] = s.src
		}
		from := 1
		if s.src == first[key] {
			from = 0
		}
		f, dup := c.Add(from, wireshark.Segment{
			Segment: fsm.Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: s.wscale},
			Time:    t0.Add(time.Duration(s.ms) * time.Millisecond),
		})
		if dup != 0 {
			fmt.Printf("%d %-2s %v #%d\n", i+1, s.flags, f, dup)
			continue
		}
		fmt.Printf("%d %-2s %v\n", i+1, s.flags, f)
	}
	// Output:
	// 1 S  none
	// 2 S. none
	// 3 .  none
	// 4 P. lost_segment
	// 5 .  duplicate_ack #1
	// 6 .  duplicate_ack #2
	// 7 .  duplicate_ack #3
	// 8 P. retransmission,fast_retransmission
	// 9 .  none
}
