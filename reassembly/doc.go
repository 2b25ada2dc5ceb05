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
// Memory follows the connections in the table, not the packets: an open
// connection costs about 2 KiB of heap with its share of the index, most of
// it Zeek's and Wireshark's views of it. Closed connections stay for 2·MSL
// (TIME_WAIT, or to absorb late segments), so a busy capture holds every
// connection of the last minute or two; with Config.Compact those whose
// both ends are done are kept packed, in about 0.8 KiB. Adding a segment
// allocates nothing once its connection exists; with Config.Recycle,
// connections that left are reused, so that a table in its steady state
// allocates next to nothing (Compact packs into images it keeps for reuse,
// by length, when their connections leave).
//
// Sharded spreads the work of a Table over several cores: connections are
// split across worker goroutines by their 4-tuple, and what it reports is
// what one Table would report.
package reassembly
