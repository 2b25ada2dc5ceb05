package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// ladderView is one connection drawn as a ladder (sequence) diagram: two
// lifelines, client on the left and server on the right, one arrow per
// segment, and both endpoints' states after every segment. The renderers
// (text, ASCII, Mermaid, SVG) draw it; they compute nothing about TCP.
type ladderView struct {
	ID             uint64
	Proto          string // "tcp" or "tcp6"
	Client, Server netip.AddrPort
	// Notes are lines to print above the ladder: how the roles were decided
	// when no SYN was seen, a mid-stream pickup, and the like.
	Notes []string
	// Start is the time of the connection's first segment; row offsets
	// count from it.
	Start time.Time
	// Absolute is true when Seq and Ack are raw sequence numbers; false
	// when they are relative to each side's ISN (or first sequence number).
	Absolute bool
	// ISN holds each side's base sequence number, indexed by fsm.Role.
	ISN [2]uint32
	// Options are each side's handshake options (from its SYN or SYN-ACK).
	Options [2]handshakeOptions
	// RTT is the handshake round trip as the capture point saw it: SYN to
	// SYN-ACK, and SYN-ACK to the ACK completing the handshake. Valid iff
	// the corresponding Has flag is set.
	SYNToSYNACK, SYNACKToACK       time.Duration
	HasSYNToSYNACK, HasSYNACKToACK bool
	Rows                           []ladderRow
	// Initial are the states before the first segment.
	Initial [2]ladderState
	// Final are the states at the end of the capture: those after the last
	// row, and timers after it (TIME_WAIT running out) with Changed set.
	Final [2]ladderState
	// Ending says in words how the connection ended (as in conns).
	Ending string
}

// handshakeOptions are the TCP options of one side's SYN or SYN-ACK.
type handshakeOptions struct {
	Seen              bool // a SYN or SYN-ACK from that side was captured
	MSS               int  // 0: no MSS option
	WScale            int  // -1: no window-scale option
	SACKPermitted     bool
	Timestamps        bool
	FastOpen          bool // a TCP Fast Open option
	FastOpenCookieLen int
}

// String lists the options the way tcpdump names them: "mss 1460, sackOK,
// TS, wscale 7, TFO cookie 8".
func (o handshakeOptions) String() string {
	var p []string
	if o.MSS > 0 {
		p = append(p, fmt.Sprintf("mss %d", o.MSS))
	}
	if o.SACKPermitted {
		p = append(p, "sackOK")
	}
	if o.Timestamps {
		p = append(p, "TS")
	}
	if o.WScale >= 0 {
		p = append(p, fmt.Sprintf("wscale %d", o.WScale))
	}
	if o.FastOpen {
		if o.FastOpenCookieLen > 0 {
			p = append(p, fmt.Sprintf("TFO cookie %d", o.FastOpenCookieLen))
		} else {
			p = append(p, "TFO cookie request")
		}
	}
	if len(p) == 0 {
		return "no options"
	}
	return strings.Join(p, ", ")
}

// ladderRow is one segment.
type ladderRow struct {
	Offset time.Duration // since ladderView.Start
	Packet uint64        // packet number in the capture (as in events)
	From   fsm.Role      // the sender
	Flags  fsm.Flags
	Seq    uint32 // relative to the sender's ISN unless ladderView.Absolute
	Ack    uint32 // relative to the receiver's ISN unless Absolute; valid iff Flags has ACK
	Len    int    // payload bytes
	Window uint32 // the advertised window, scaled when scaling is in effect
	// Tags describe the segment: "retransmission", "out-of-order",
	// "previous segment not captured", "dup ACK", "keep-alive",
	// "zero window", "RST ignored", "RST challenged", and anomalies.
	Tags []string
	// After holds both endpoints' states after the segment, by fsm.Role.
	After [2]ladderState
}

// ladderState is one endpoint's state at one point of the ladder.
type ladderState struct {
	State fsm.State
	// Changed is true when the segment of this row changed the state.
	Changed bool
	// Path lists the states the endpoint entered on this row, in order,
	// when the segment caused more than one transition (FIN_WAIT_2 then
	// TIME_WAIT on a FIN+ACK received in FIN_WAIT_1); the last is State.
	// The state before the row is not in it.
	Path []fsm.State
	// Inferred is true when the state rests on a segment the endpoint
	// received, not on one it sent, and nothing later proved it.
	Inferred bool
	// Revised is true when later packets proved the transition into this
	// state never happened (the segment never arrived).
	Revised bool
	// Revision is true when this row undid an earlier inferred state.
	Revision bool
	// Cause is why the state changed on this row (empty if it did not);
	// on a revision row, the reason for the revision.
	Cause string
}
