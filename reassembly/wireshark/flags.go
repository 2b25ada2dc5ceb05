package wireshark

import (
	"math/bits"
	"strings"
)

// Flags is a set of Wireshark's TCP analysis flags: the tcp.analysis.*
// display-filter fields that Wireshark sets on a segment. A bit is set
// exactly when tshark would show the field of that name on the segment.
//
// Retransmission is therefore set for every kind of retransmission:
// Wireshark's "fast retransmission" and "spurious retransmission" also
// carry tcp.analysis.retransmission, so that a filter on it finds them all.
type Flags uint32

// The flags, one per tcp.analysis field. The comment is Wireshark's
// definition (packet-tcp.c, and the User's Guide section "TCP Analysis").
const (
	// Retransmission: the segment carries data, SYN or FIN and does not
	// advance the sender's highest sequence number (and is no keep-alive);
	// also set with FastRetransmission and SpuriousRetransmission.
	Retransmission Flags = 1 << iota
	// FastRetransmission: a retransmission at the sequence number the
	// receiver repeated in two or more duplicate ACKs, less than 20 ms
	// after the receiver's last segment.
	FastRetransmission
	// SpuriousRetransmission: data the receiver had already acknowledged
	// (it ends at or before the receiver's last ACK).
	SpuriousRetransmission
	// OutOfOrder: a segment below the sender's highest sequence number
	// that came less than the handshake's RTT (3 ms when it is not known)
	// after the segment that set it, and does not end exactly there.
	OutOfOrder
	// LostSegment ("previous segment not captured"): the segment starts
	// beyond the sender's highest sequence number. RST is never flagged.
	LostSegment
	// AckLostSegment ("ACKed segment that wasn't captured"): the segment
	// acknowledges beyond the highest contiguous sequence number the peer
	// was seen sending.
	AckLostSegment
	// DuplicateAck: no data, no SYN/FIN/RST, a non-zero window equal to
	// the sender's previous one, and the same SEQ and ACK as the sender's
	// previous segment. Its count is returned with it.
	DuplicateAck
	// KeepAlive: 0 or 1 byte, no SYN/FIN/RST, one byte below the sender's
	// next expected sequence number.
	KeepAlive
	// KeepAliveAck: a duplicate ACK answering a keep-alive (the peer's
	// previous segment was one).
	KeepAliveAck
	// ZeroWindow: a window field of zero on a segment without SYN/FIN/RST.
	ZeroWindow
	// ZeroWindowProbe: one byte at the sender's next expected sequence
	// number while the peer's last window was zero.
	ZeroWindowProbe
	// ZeroWindowProbeAck: a repeated zero-window ACK answering a zero-window
	// probe (the peer's previous segment was one).
	ZeroWindowProbeAck
	// WindowUpdate: no data, no SYN/FIN/RST, the same SEQ and ACK as the
	// sender's previous segment and a different, non-zero window.
	WindowUpdate
	// WindowFull: data that ends exactly at the right edge of the window
	// the peer last advertised (only once the peer's window scaling is
	// known). SYN/FIN/RST segments are never flagged.
	WindowFull
	// ReusedPorts: a SYN without ACK whose sequence number differs from
	// its sender's ISN as Wireshark recorded it (the first SYN's, or one
	// below the first sequence number or peer's ACK seen when the
	// conversation began without a SYN): a new conversation starts on the
	// 4-tuple. Also a SYN-ACK whose sequence number differs so.
	ReusedPorts
	// TFOSyn: a SYN carrying a TCP Fast Open cookie (RFC 7413).
	TFOSyn
	// TFOAck: a SYN-ACK that acknowledges data sent with the SYN.
	TFOAck
	// TFOIgnored: a SYN-ACK that acknowledges only the SYN although the
	// SYN carried a cookie and data.
	TFOIgnored

	numFlags = iota
)

// AllFlags is every flag Wireshark 4.0 sets.
const AllFlags Flags = 1<<numFlags - 1

// flagNames are the tcp.analysis field names, in bit order.
var flagNames = [numFlags]string{
	"retransmission",
	"fast_retransmission",
	"spurious_retransmission",
	"out_of_order",
	"lost_segment",
	"ack_lost_segment",
	"duplicate_ack",
	"keep_alive",
	"keep_alive_ack",
	"zero_window",
	"zero_window_probe",
	"zero_window_probe_ack",
	"window_update",
	"window_full",
	"reused_ports",
	"tfo_syn",
	"tfo_ack",
	"tfo_ignored",
}

// Contains reports whether every flag in o is set in f.
func (f Flags) Contains(o Flags) bool { return f&o == o }

// Names returns the tcp.analysis field name of every flag in f, in bit
// order ("retransmission", "duplicate_ack", ...); prefix each with
// "tcp.analysis." for a display filter.
func (f Flags) Names() []string {
	var n []string
	for i, name := range flagNames {
		if f&(1<<i) != 0 {
			n = append(n, name)
		}
	}
	return n
}

// String joins the names with commas, or returns "none".
func (f Flags) String() string {
	if f&AllFlags == 0 {
		return "none"
	}
	return strings.Join(f.Names(), ",")
}

// ParseFlag returns the flag a tcp.analysis field name stands for, with or
// without the "tcp.analysis." prefix.
func ParseFlag(name string) (Flags, bool) {
	name = strings.TrimPrefix(name, "tcp.analysis.")
	for i, n := range flagNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// NumFlags is the number of analysis flags.
const NumFlags = numFlags

// Counts counts segments by analysis flag: Counts[i] is the count of the
// flag 1<<i.
type Counts [numFlags]uint32

// Add counts the flags of one segment.
func (c *Counts) Add(f Flags) {
	for f &= AllFlags; f != 0; f &= f - 1 {
		c[bits.TrailingZeros32(uint32(f))]++
	}
}

// Map returns the counts that are not zero, by tshark field name.
func (c *Counts) Map() map[string]uint32 {
	m := map[string]uint32{}
	for i, n := range c {
		if n > 0 {
			m[flagNames[i]] = n
		}
	}
	return m
}
