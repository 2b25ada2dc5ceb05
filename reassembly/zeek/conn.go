package zeek

import (
	"math/bits"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// Segment is what a Conn needs of one TCP segment.
type Segment struct {
	Flags    fsm.Flags
	Seq, Ack uint32
	// Window is the raw, unscaled window field; only a zero matters here.
	Window uint16
	// Len is the TCP payload length according to the IP header, even if the
	// capture cut the payload short.
	Len int
	// IPLen is the IP packet's length with its header, as the IP header
	// says (IPv6: the payload length plus 40). Zeek's orig_ip_bytes and
	// resp_ip_bytes add these up.
	IPLen int
	// Time is the capture timestamp.
	Time time.Time
	// PayloadCut is true when the capture holds fewer payload bytes than
	// Len (a small snaplen). Zeek does not reassemble such a payload, so
	// its bytes can later show up as a content gap.
	PayloadCut bool
	// BadChecksum is true when the TCP checksum is wrong. Zeek (unless run
	// with -C) drops such a segment after logging a 'C' or 'c': it is not
	// counted and changes no state.
	BadChecksum bool
}

// Side is one direction's conn.log counters.
type Side struct {
	// Pkts and IPBytes are orig_pkts/orig_ip_bytes or resp_pkts/
	// resp_ip_bytes: segments sent and their IP lengths summed.
	Pkts, IPBytes uint64
	// Bytes is orig_bytes or resp_bytes: the sequence-number span this side
	// covered (sent or acknowledged), less SYN and FIN. Zeek logs it only
	// when the duration is positive.
	Bytes uint64
}

// Conn tracks one connection as Zeek's TCP analyzer would. The zero value is
// ready. It grows nothing per segment: Add never allocates.
//
// The two endpoints are called A, the sender of the first segment given to
// Add, and B. The originator is A unless Zeek's rules flip the roles.
type Conn struct {
	ep      [2]endpoint // [0] is A, [1] is B
	orig    uint8       // index of the originator in ep
	flipped bool        // the originator is B
	started bool        // a segment was added (or StartFlipped called)
	setup   bool        // endpoints initialised

	partial   bool  // Zeek's is_partial
	firstSeen uint8 // Zeek's first_packet_seen: 1 originator, 2 responder

	hist history

	// Times are Unix nanoseconds, so that a Conn holds no pointer (the
	// garbage collector need not scan it); 0 means unset.
	first, last int64
	// Zeek's timers that remove a connection: the attempt timer (an
	// unanswered SYN), the delete timer after a complete close, and the
	// inactivity timeout, which is short until the handshake is done.
	attemptAt, deleteAt int64
	lastSeen            int64 // the last segment's time, whatever it was
	longIdle            bool  // the handshake is over: the long inactivity timeout
}

// Zeek's default timer settings (init-bare.zeek).
const (
	attemptDelay    = 5 * time.Second // tcp_attempt_delay
	closeDelay      = 5 * time.Second // tcp_close_delay
	shortInactivity = time.Minute     // udp_inactivity_timeout, which TCP starts with
	tcpInactivity   = 5 * time.Minute // tcp_inactivity_timeout
)

func (c *Conn) init() {
	if !c.setup {
		c.setup = true
		c.ep[0].init()
		c.ep[1].init()
	}
}

// StartFlipped makes B the originator from the start, as Zeek does when it
// creates a connection whose first segment comes from a likely server port
// (see FlipsOnCreate); the history begins with '^'. It must be called
// before the first Add and does nothing after it.
func (c *Conn) StartFlipped() {
	if c.started || c.flipped {
		return
	}
	c.init()
	c.flipRoles()
	c.hist.add('^')
}

// FlipsOnCreate is Zeek's rule (TCPAnalyzer::WantConnection) for flipping a
// connection when it is created: the first segment is not a plain SYN and
// comes from a likely server port, and either the destination is not one,
// or both are, the segment is not a SYN-ACK and the source port is the
// lower. likely says whether a port is in Zeek's likely_server_ports (which
// depends on the analyzers loaded); nil means none is.
func FlipsOnCreate(first fsm.Flags, srcPort, dstPort uint16, likely func(port uint16) bool) bool {
	if likely == nil || (first.Contains(fsm.SYN) && !first.Contains(fsm.ACK)) {
		return false
	}
	if !likely(srcPort) {
		return false
	}
	if likely(dstPort) {
		return !first.Contains(fsm.SYN) && srcPort < dstPort
	}
	return true
}

// flipRoles swaps originator and responder (Connection::FlipRoles and
// TCPSessionAdapter::FlipRoles, without the history letter).
func (c *Conn) flipRoles() {
	c.flipped = !c.flipped
	c.orig ^= 1
	c.firstSeen = (c.firstSeen&1)<<1 | (c.firstSeen&2)>>1
	c.partial = false
}

// Flipped reports whether the originator is B, the endpoint that did not
// send the first segment.
func (c *Conn) Flipped() bool { return c.flipped }

// isOrig reports whether endpoint i is the originator.
func (c *Conn) isOrig(i int) bool { return uint8(i) == c.orig }

// Add takes one segment, which it only reads. a is true when it was sent
// by A, the endpoint that sent the first segment given to this Conn.
//
// The segment comes by pointer, and is read field by field: passed whole
// (eleven fields, too many for registers), it was copied from where the
// caller had just written it a field at a time, with wide loads that wait
// for those narrow stores, and copied again for each function it went on
// to.
func (c *Conn) Add(a bool, s *Segment) {
	c.init()
	now := s.Time.UnixNano()
	if !c.started {
		c.started = true
		c.first, c.last = now, now
	}
	if c.attemptAt != 0 && now >= c.attemptAt {
		c.attemptAt = 0 // the attempt timer went off (Expired tells what it did)
	}
	c.lastSeen = now
	n := max(s.Len, 0) // the payload's length
	e := 1
	if a {
		e = 0
	}
	if s.BadChecksum {
		// TCPAnalyzer::ValidateChecksum: a 'C' on the log scale, nothing else.
		if c.ep[e].chk.hit() {
			c.hist.addRole(c.isOrig(e), 'C')
		}
		return
	}
	c.flipAfterSYNACK(s, n)
	c.process(e, s, n)
	// ConnSize counts the segment for its sender.
	c.ep[e].pkts++
	c.ep[e].ipBytes += uint64(max(s.IPLen, 0))
	c.closeDeferred()
	if !c.longIdle && (!c.ep[0].inHandshake() || !c.ep[1].inHandshake()) {
		c.longIdle = true
	}
}

// flipAfterSYNACK flips a connection that began with the originator's
// SYN-ACK when the next thing seen, from either side, is an ACK or data:
// a scan's SYN-ACK draws a RST or nothing, so this is a connection whose
// SYN was missed (Zeek 5.1, zeek/zeek#2191). The SYN-ACK's sender becomes
// the established responder; the history is rewritten to start with '^'.
// n is the segment's payload length.
func (c *Conn) flipAfterSYNACK(s *Segment, n int) {
	o, r := &c.ep[c.orig], &c.ep[c.orig^1]
	if o.state != SynAckSent || r.state != Inactive {
		return
	}
	if s.Flags.Intersects(fsm.SYN|fsm.FIN|fsm.RST) || (!s.Flags.Contains(fsm.ACK) && n == 0) {
		return
	}
	c.flipRoles()
	o.setState(Established)
	c.hist.flip()
}

// process is TCPSessionAdapter::Process for one segment from endpoint e,
// whose payload is n bytes long.
func (c *Conn) process(e int, s *Segment, n int) {
	ep, peer := &c.ep[e], &c.ep[e^1]
	isOrig := c.isOrig(e)
	f := s.Flags
	syn, fin, rst, ack := f.Contains(fsm.SYN), f.Contains(fsm.FIN), f.Contains(fsm.RST), f.Contains(fsm.ACK)

	c.setPartialStatus(isOrig, syn, ack)

	segLen := n
	if syn {
		segLen++
	}
	if fin {
		segLen++
	}
	if rst {
		segLen -= n // a RST's payload is not part of the stream
	}
	onePast := s.Seq + uint32(segLen)
	c.initEndpoint(ep, syn, s.Seq, onePast)

	relSeq, underflow := ep.relativeSeq(s.Seq, ep.last, ep.seqWraps)
	c.updateHistory(isOrig, ep, f, relSeq, n)

	// update_window: a zero window is logged unless it comes with or after
	// a RST, or after the peer's FIN.
	if s.Window == 0 && !rst && peer.state != Closed && ep.state != Reset {
		if ep.win0.hit() {
			c.hist.addRole(isOrig, 'W')
		}
	}

	if !c.ep[0].didClose || !c.ep[1].didClose {
		c.last = s.Time.UnixNano()
	}
	if fin {
		ep.finCnt++
		ep.finSeq = relSeq + uint64(segLen)
	}
	if rst {
		ep.rstCnt++
	}

	var relAck uint64
	if ack {
		if peer.state == Inactive {
			// init_peer: number the peer's stream as if its SYN had been
			// seen just before what this segment acknowledges.
			relAck = 1
			peer.initSeqs(s.Ack-1, s.Ack-1, s.Ack-1)
		} else {
			r, under := peer.relativeSeq(s.Ack, peer.ack, peer.ackWraps)
			switch {
			case under:
				relAck = 0
			case !rst: // ACKs in RSTs are not trusted
				relAck = r
				if d := int32(s.Ack - peer.ack); !(s.Ack == 0 && d > tooLargeSeqDelta) && d > 0 {
					peer.updateAckSeq(s.Ack)
				}
			default:
				relAck = r
			}
		}
	}

	deltaLast := c.updateLastSeq(isOrig, ep, onePast, syn, fin, rst, n)
	doClose := c.updateStateMachine(e, s, n, deltaLast)

	if ack {
		// After the state machine, so a gap revealed by a FIN's or RST's
		// ACK is judged by the new states.
		c.ackReceived(e^1, relAck)
	}

	// CheckPIA_FirstPacket, with the role the segment arrived with.
	if isOrig {
		c.firstSeen |= 1
	} else {
		c.firstSeen |= 2
	}

	if n > 0 && !rst && !underflow && !s.PayloadCut {
		relData := relSeq
		if syn {
			relData++
		}
		c.dataSent(e, relData, uint64(n))
	}

	if doClose {
		c.connectionClosed(e)
	}
}

// setPartialStatus is TCPSessionAdapter::SetPartialStatus.
func (c *Conn) setPartialStatus(isOrig, syn, ack bool) {
	if isOrig {
		if c.firstSeen&1 == 0 {
			c.partial = !syn || ack
		}
	} else if c.firstSeen&2 == 0 && !c.partial {
		c.partial = !syn
	}
}

// initEndpoint is init_endpoint: set up or reset an endpoint's sequence
// numbers from its first segment, or from a SYN that starts it over.
func (c *Conn) initEndpoint(ep *endpoint, syn bool, seq, onePast uint32) {
	switch ep.state {
	case Inactive:
		if syn {
			ep.initSeqs(seq, seq, onePast)
		} else {
			// A partial connection: number it as if a SYN came just
			// before, without making this segment look like a repeat.
			ep.initSeqs(seq-1, seq-1, seq)
		}
	case SynSent, SynAckSent:
		if syn && seq != ep.startSeq() {
			ep.initSeqs(seq, seq, onePast)
		}
	case Established, Partial:
		if syn {
			ep.initSeqs(seq, seq, onePast)
		}
	case Reset:
		if syn && ep.prev == Inactive {
			ep.initSeqs(seq, seq, onePast)
		}
	}
}

// updateHistory is update_history: the letters for a segment's flags.
func (c *Conn) updateHistory(isOrig bool, ep *endpoint, f fsm.Flags, relSeq uint64, n int) {
	syn, fin, rst := f.Contains(fsm.SYN), f.Contains(fsm.FIN), f.Contains(fsm.RST)
	h := &c.hist
	switch {
	case bits.OnesCount8(uint8(f&(fsm.SYN|fsm.FIN|fsm.RST))) > 1:
		if fin && rst {
			h.check(isOrig, histFINRST, 'I')
		} else {
			h.check(isOrig, histMultiFlg, 'Q')
		}
	case syn:
		code := byte('S')
		if f.Contains(fsm.ACK) {
			code = 'H'
		}
		// Again only when the sequence number changed.
		if h.check(isOrig, histSYN, code) && relSeq != ep.histLastSYN {
			h.addRole(isOrig, code)
		}
		ep.histLastSYN = relSeq
	case fin:
		// A FIN's sequence number is the one after its data.
		at := relSeq + uint64(n)
		if h.check(isOrig, histFIN, 'F') && at != ep.histLastFIN {
			h.addRole(isOrig, 'F')
		}
		ep.histLastFIN = at
	case rst:
		if h.check(isOrig, histRST, 'R') && relSeq != ep.histLastRST {
			h.addRole(isOrig, 'R')
		}
		ep.histLastRST = relSeq
	case n > 0:
		h.check(isOrig, histData, 'D')
	case f.Contains(fsm.ACK):
		h.check(isOrig, histACK, 'A')
	}
}

// updateLastSeq is update_last_seq: move the endpoint's highest sequence
// number, or count a retransmission ('T', log scale).
func (c *Conn) updateLastSeq(isOrig bool, ep *endpoint, onePast uint32, syn, fin, rst bool, n int) int32 {
	delta := int32(onePast - ep.last)
	switch {
	case (syn || rst) && (delta > tooLargeSeqDelta || delta < -tooLargeSeqDelta):
		// An outlandish jump in a SYN or RST is not trusted.
	case fin && ep.last == ep.startSeq()+1:
		// Only the SYN and now the FIN: take the FIN's word even if it
		// seems to go backwards (connections over 2 GB).
		ep.updateLastSeq(onePast)
	case ep.state == Reset:
		// After a RST no sequence number is trusted.
	case delta > 0:
		ep.updateLastSeq(onePast)
	case n > 0:
		if ep.rxmt.hit() {
			c.hist.addRole(isOrig, 'T')
		}
	}
	return delta
}

// updateStateMachine is TCPSessionAdapter::UpdateStateMachine for a segment
// from endpoint e with an n-byte payload; it reports whether the segment
// closes e's side.
func (c *Conn) updateStateMachine(e int, s *Segment, n int, deltaLast int32) (doClose bool) {
	ep, peer := &c.ep[e], &c.ep[e^1]
	isOrig := c.isOrig(e)
	f := s.Flags
	syn, fin, rst, ack := f.Contains(fsm.SYN), f.Contains(fsm.FIN), f.Contains(fsm.RST), f.Contains(fsm.ACK)

	switch ep.state {
	case Inactive:
		if syn {
			if isOrig {
				if ack {
					ep.setState(SynAckSent)
				} else {
					ep.setState(SynSent)
				}
				c.attemptAt = s.Time.UnixNano() + int64(attemptDelay)
			} else {
				if !ack && peer.state == SynAckSent && s.Seq == ep.startSeq() {
					// The originator's SYN-ACK came before the
					// responder's SYN (reordered capture): swap roles
					// and establish.
					c.partial = false
					c.flipRoles()
					c.hist.add('^')
					peer.setState(Established)
					c.firstSeen |= 1
				}
				if peer.state == SynSent {
					peer.setState(Established)
				}
				ep.setState(Established)
			}
		}
		if fin {
			ep.setState(Closed)
			doClose = true
		}
		if rst {
			ep.setState(Reset)
			doClose = true
		}
		if ep.state == Inactive {
			// No control flag changed the state.
			switch {
			case !isOrig && n == 0 && c.ep[c.orig].state == SynSent:
				// An ACK of the SYN before the SYN-ACK: not yet a
				// partial connection.
			case ack && peer.state == Established:
				// The SYN-ACK was seen but not the SYN: this ACK
				// completes the handshake.
				ep.setState(Established)
				c.partial = false
				if isOrig {
					c.firstSeen |= 1
				} else {
					c.firstSeen |= 2
				}
			default:
				ep.setState(Partial)
			}
		}
	case SynSent, SynAckSent:
		if fin {
			ep.setState(Closed)
			doClose = true
		}
		if rst {
			ep.setState(Reset)
			doClose = true
		}
	case Established, Partial:
		if syn && ep.state == Partial && peer.state == Inactive && !ack {
			ep.setState(SynSent)
		}
		if fin && !rst {
			ep.setState(Closed)
			if peer.state == Reset && peer.prev == Closed {
				// The peer's FIN then RST was a normal close.
				peer.setState(Closed)
			}
			doClose = true
		}
		if rst {
			ep.setState(Reset)
			doClose = true
		}
	case Closed:
		// A RST after our FIN counts unless the peer closed too.
		if rst && peer.state != Closed {
			ep.setState(Reset)
			if !ep.didClose {
				doClose = true
			}
		}
	case Reset:
		// Nothing moves an endpoint out of RESET.
	}
	_ = deltaLast // Zeek uses it only for a weird
	return doClose
}

// dataSent is TCP_Reassembler::DataSent for endpoint e's payload at
// relative sequence number seq.
func (c *Conn) dataSent(e int, seq, n uint64) {
	ep := &c.ep[e]
	if ep.skip {
		return
	}
	ackd := ep.relative(ep.ack, ep.ackWraps)
	upper := seq + n
	if seq < ackd {
		if upper <= ackd {
			return // delivered and acknowledged before
		}
		seq = ackd
	}
	// Reassembler::NewBlock: what lies below the trim point is old.
	if upper <= ep.trim {
		return
	}
	seq = max(seq, ep.trim)
	ep.insert(seq, upper)
	ep.deliver()
	if ep.noDataAcked() && ep.size(&c.ep[e^1]) > maxInitialWindow {
		// Much sent and nothing acknowledged: Zeek stops keeping the
		// delivered data for ACKs.
		ep.trim = max(ep.trim, ep.reassem)
	}
	if ep.noDataAcked() && ep.undeliveredBytes() > maxAboveHole {
		ep.clearSpans()
		ep.skip = true
	}
	if ep.bufferedBytes() > maxUnacked {
		ep.clearSpans()
		ep.skip = true
	}
}

// ackReceived is TCP_Reassembler::AckReceived for endpoint e: the peer
// acknowledged e's stream up to relative sequence number seq. Data
// acknowledged but never seen is a content gap.
func (c *Conn) ackReceived(e int, seq uint64) {
	ep := &c.ep[e]
	if ep.finCnt > 0 && seq >= ep.finSeq {
		seq = ep.finSeq - 1 // the FIN octet is not data
	}
	if seq <= ep.trim {
		return
	}
	if seq > ep.reassem {
		c.undelivered(e, seq)
	}
	ep.trim = seq
	// Ranges now below the trim point are gone.
	for ep.nspans > 0 && ep.spans[0].hi <= seq {
		copy(ep.spans[:], ep.spans[1:ep.nspans])
		ep.nspans--
	}
}

// undelivered is TCP_Reassembler::Undelivered: everything up to upTo was
// acknowledged, so holes below it will never be filled.
func (c *Conn) undelivered(e int, upTo uint64) {
	ep := &c.ep[e]
	if upTo <= 2 && c.partial {
		// The first ACK of a partial connection, whose start was made up.
		return
	}
	if !ep.skip {
		for ep.nspans > 0 && ep.spans[0].lo < upTo {
			b := ep.spans[0]
			if b.lo > ep.reassem {
				c.gap(e, b.lo-ep.reassem)
				ep.reassem = b.lo
			}
			ep.deliver()
		}
		if upTo > ep.reassem {
			c.gap(e, upTo-ep.reassem)
		}
	}
	ep.reassem = max(ep.reassem, upTo)
}

// gap is TCP_Reassembler::Gap: Zeek logs 'G' (log scale) and counts
// missed_bytes only while both sides are established or cleanly closing.
func (c *Conn) gap(e int, n uint64) {
	ep, peer := &c.ep[e], &c.ep[e^1]
	if !ep.clean() || !peer.clean() {
		return
	}
	if ep.gap.hit() {
		c.hist.addRole(c.isOrig(e), 'G')
	}
	ep.missed += n
}

// dataPending is TCP_Reassembler::DataPending: e's stream has data not yet
// delivered in order.
func (c *Conn) dataPending(e int) bool {
	ep, peer := &c.ep[e], &c.ep[e^1]
	if ep.skip {
		return false
	}
	delivered := uint64(ep.start) + ep.reassem
	last := uint64(ep.seqWraps)<<32 + uint64(ep.last)
	if last < delivered {
		return false
	}
	if delivered != last-1 && delivered != last {
		return true
	}
	return ep.state != Reset && peer.undeliveredBytes() > 0
}

// connectionClosed is TCPSessionAdapter::ConnectionClosed, reduced to when
// Zeek considers a side closed: at once, or once its data is delivered.
func (c *Conn) connectionClosed(e int) {
	ep := &c.ep[e]
	if c.dataPending(e) {
		ep.closePending = true
		return
	}
	c.closed(e)
}

// closed marks e's side closed; when that completes the connection's close
// (a RST, both sides closed, or a peer never seen), Zeek removes it after
// its close delay.
func (c *Conn) closed(e int) {
	ep, peer := &c.ep[e], &c.ep[e^1]
	ep.closePending = false
	if ep.didClose {
		return
	}
	ep.didClose = true
	if ep.state == Reset || peer.didClose || peer.state == Inactive {
		c.attemptAt = 0
		c.deleteAt = c.last + int64(closeDelay)
	}
}

// closeDeferred completes closes that waited for data (EndpointEOF).
func (c *Conn) closeDeferred() {
	for e := range c.ep {
		if c.ep[e].closePending && !c.dataPending(e) {
			c.closed(e)
		}
	}
}

// IsReuse reports whether Zeek would end this connection and start a new
// one with s on the same 4-tuple (TCPSessionAdapter::IsReuse): a SYN (or,
// while the originator was never seen, a SYN-ACK) whose sequence number is
// not this connection's, or any such SYN once either side has closed.
// The caller then gives s to a new Conn.
func (c *Conn) IsReuse(s *Segment) bool {
	if !c.started || !s.Flags.Contains(fsm.SYN) {
		return false
	}
	o, r := &c.ep[c.orig], &c.ep[c.orig^1]
	connOrig := o
	if s.Flags.Contains(fsm.ACK) {
		if o.state != Inactive {
			return false
		}
		connOrig = r
	}
	if o.didClose || r.didClose {
		return true
	}
	if s.Seq == connOrig.startSeq() {
		return false
	}
	if !s.Flags.Contains(fsm.ACK) && connOrig.state == SynAckSent && r.state == Inactive && s.Seq == r.startSeq() {
		// The SYN to an already seen SYN-ACK: the roles will be flipped,
		// not a new connection started.
		return false
	}
	return true
}

// Expired reports whether Zeek's timers would have removed the connection
// by now, no segment having come since the last one: an attempt whose SYN
// was not answered within 5 s, a connection closed (both FINs, a RST, or a
// FIN from a side whose peer was never seen) more than 5 s ago, or one idle
// for Zeek's inactivity timeout (1 minute during the handshake, 5 minutes
// after). A segment for an expired connection belongs to a new Conn. The
// timers Zeek uses for half-closed connections are not modelled.
func (c *Conn) Expired(now time.Time) bool {
	if !c.started {
		return false
	}
	o, r := &c.ep[c.orig], &c.ep[c.orig^1]
	t := now.UnixNano()
	if c.attemptAt != 0 && t >= c.attemptAt &&
		(o.state == SynSent || o.state == SynAckSent) && r.state == Inactive {
		return true
	}
	if c.deleteAt != 0 && t >= c.deleteAt {
		return true
	}
	idle := shortInactivity
	if c.longIdle {
		idle = tcpInactivity
	}
	return t >= c.last+int64(idle)
}

// State returns Zeek's conn_state code for the connection as it stands.
func (c *Conn) State() string {
	o, r := &c.ep[c.orig], &c.ep[c.orig^1]
	return connState(o.state, r.state, o.size(r), r.size(o), &c.hist)
}

// History returns Zeek's history string: upper case for the originator,
// lower case for the responder.
func (c *Conn) History() string { return string(c.hist.b[:c.hist.n]) }

// AppendHistory appends the history to b, without allocating when b has
// room.
func (c *Conn) AppendHistory(b []byte) []byte { return append(b, c.hist.b[:c.hist.n]...) }

// HistoryTruncated reports whether letters were dropped because the
// history reached MaxHistory.
func (c *Conn) HistoryTruncated() bool { return c.hist.cut }

// Orig returns the originator's counters.
func (c *Conn) Orig() Side { return c.side(int(c.orig)) }

// Resp returns the responder's counters.
func (c *Conn) Resp() Side { return c.side(int(c.orig ^ 1)) }

func (c *Conn) side(i int) Side {
	ep := &c.ep[i]
	return Side{Pkts: ep.pkts, IPBytes: ep.ipBytes, Bytes: ep.size(&c.ep[i^1])}
}

// OrigState and RespState return Zeek's states of the two endpoints, from
// which State is derived.
func (c *Conn) OrigState() EndpointState { return c.ep[c.orig].state }

// RespState returns the responder's Zeek state.
func (c *Conn) RespState() EndpointState { return c.ep[c.orig^1].state }

// MissedBytes is conn.log's missed_bytes: bytes both sides' ACKs showed
// were sent but that the capture never delivered, counted while the
// connection was established or closing cleanly.
func (c *Conn) MissedBytes() uint64 { return c.ep[0].missed + c.ep[1].missed }

// First is the time of the first segment (conn.log's ts).
func (c *Conn) First() time.Time { return unixTime(c.first) }

// Last is the time of the last segment Zeek counts towards the duration:
// segments after both sides closed do not move it.
func (c *Conn) Last() time.Time { return unixTime(c.last) }

// Duration is conn.log's duration, Last minus First. Zeek logs orig_bytes
// and resp_bytes only when it is positive.
func (c *Conn) Duration() time.Duration { return time.Duration(c.last - c.first) }

// unixTime turns Unix nanoseconds back into a time (zero for unset).
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Closed reports whether either side has closed in Zeek's sense (a FIN or
// RST whose data was all delivered).
func (c *Conn) Closed() bool { return c.ep[0].didClose || c.ep[1].didClose }
