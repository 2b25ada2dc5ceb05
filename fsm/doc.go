// Package fsm holds the TCP endpoint state machine of RFC 9293 as a passive
// observer can run it: it sees the segments both endpoints send, but not
// which of them arrived, so it tracks both endpoints of a connection at once.
//
// A Machine is one connection. Each observed segment is given to Step with
// the role (client or server) of its sender. A segment proves things about
// its sender (a FIN on the wire shows its sender left ESTABLISHED): those
// transitions are certain. What it does to the receiver is only inferred:
// the inference is applied when the segment is observed and revised when
// later segments prove it never arrived (the sender retransmits it, or the
// receiver carries on as if it never came). Every transition records its
// cause, whether it is certain, and the packet and time that caused it.
//
// The package does no I/O, keeps no clock of its own (capture timestamps
// are its only time) and knows nothing of addresses; it imports only the
// standard library. A Machine is small and holds no pointer but for a
// history longer than an ordinary connection's, so that a table of
// hundreds of thousands of them costs the garbage collector little: it
// keeps times as nanoseconds and transitions in a compact form, and
// History, HistoryAt and LastAt hand them out as Transition values.
package fsm
