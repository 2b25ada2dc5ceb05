// Package wireshark recomputes Wireshark's TCP analysis flags: for every
// segment, the tcp.analysis.* fields tshark would show on it (retransmission,
// fast and spurious retransmission, out-of-order, previous segment not
// captured, ACKed unseen segment, duplicate ACK and its number, keep-alive
// and its ACK, zero window, zero-window probe and its ACK, window update,
// window full, reused ports, and the TCP Fast Open flags), with Wireshark's
// definitions, thresholds and order of precedence, as tshark 4.0 computes
// them in its first pass with the default preferences.
//
// A Conn is one Wireshark conversation: the segments of one 4-tuple, both
// directions, in capture order. Add takes a segment and returns its Flags.
// Wireshark keys conversations by 4-tuple alone and starts a new one only
// when a SYN repeats the 4-tuple with another ISN; to agree with it, keep
// one Conn per 4-tuple for as long as the 4-tuple may come back. The
// package's tests compare every flag on every frame of the sample captures
// and of random conversations with tshark; docs/wireshark.md lists the
// rules and the few places where the analysis can differ.
//
// The package imports only fsm and the standard library; a Conn has a fixed
// size and Add does not allocate.
package wireshark
