// Package reassembly owns the connection table: it finds the connection of
// every decoded TCP segment by a canonical key of its 4-tuple, decides which
// end is the client and which the server (and how sure it is), starts a new
// connection when a 4-tuple is reused, runs each connection's fsm.Machine,
// keeps per-direction packet, byte and retransmission counters, and retires
// connections: TIME_WAIT that ran out, handshakes a kernel would have given
// up on, and idle connections.
//
// Time is the capture's: the table's clock advances with the timestamps of
// the segments given to it, and with Advance.
//
// Sharded spreads the work of a Table over several cores: connections are
// split across worker goroutines by their 4-tuple, and what it reports is
// what one Table would report.
package reassembly
