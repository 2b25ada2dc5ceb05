// Package zeek computes, for one TCP connection, the conn.log fields that
// Zeek's TCP analyzer produces: conn_state (S0, S1, SF, REJ, S2, S3, RSTO,
// RSTR, RSTOS0, RSTRH, SH, SHR, OTH), the history string, orig_bytes and
// resp_bytes (from sequence-number spans, as Zeek measures them), missed_bytes
// (content gaps), orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes, and the
// start and end times that make the duration.
//
// It owns one thing: a faithful, allocation-free model of the per-connection
// part of Zeek's analysis. A Conn keeps Zeek's coarse per-endpoint states
// (inactive, SYN sent, SYN-ACK sent, partial, established, closed, reset),
// the sequence-number bookkeeping they are derived from, the history letters
// with Zeek's once-per-direction and log-scale rules, who is the originator
// (including Zeek's role flips, which prefix the history with '^'), and as
// much of Zeek's stream reassembly as is needed to see content gaps: the
// contiguous edge of each direction and a fixed number of out-of-order
// ranges, never payload bytes.
//
// It does not own the connection table: the caller decides which segments
// belong to which Conn (IsReuse says when Zeek would start a new one on the
// same 4-tuple), gives each segment to Add with its direction, and reads
// the fields when the connection is done. It knows nothing of addresses and
// ports; FlipsOnCreate applies Zeek's likely-server-port rule when the caller
// knows the ports. It does no I/O and keeps no clock but the segments'
// timestamps. Timer-driven behaviour of Zeek (connections removed after
// their close delay or inactivity timeout) is the caller's to decide.
//
// docs/zeek.md says which Zeek version the rules follow, where each comes
// from, and every place where this package knowingly differs.
package zeek
