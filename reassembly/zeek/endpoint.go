package zeek

// Constants of Zeek's TCP analysis (TCPSessionAdapter.cc and the defaults
// in init-bare.zeek).
const (
	// tooLargeSeqDelta: a SYN or RST whose sequence number jumps further
	// than this does not move the endpoint's last sequence number.
	tooLargeSeqDelta = 1048576
	// maxInitialWindow is tcp_max_initial_window: delivered data is no
	// longer kept for ACKs once this much was sent with none acknowledged.
	maxInitialWindow = 16384
	// maxAboveHole is tcp_max_above_hole_without_any_acks: with no data
	// acknowledged, this much undelivered data above a hole makes Zeek give
	// up reassembling the direction.
	maxAboveHole = 16384
	// maxUnacked is tcp_excessive_data_without_further_acks.
	maxUnacked = 10 * 1024 * 1024
)

// maxSpans is how many out-of-order ranges an endpoint remembers above its
// first hole. Zeek keeps every block; when more ranges than this are
// pending, the two closest are merged, which can only hide a gap between
// them (see docs/zeek.md).
const maxSpans = 8

// span is a range [lo, hi) of relative sequence numbers that was received
// but not yet delivered in order.
type span struct{ lo, hi uint64 }

// endpoint is one side of the connection as Zeek's TCP_Endpoint and its
// TCP_Reassembler keep it, reduced to what conn.log needs.
type endpoint struct {
	state, prev EndpointState

	// Sequence bookkeeping (TCP_Endpoint's start_seq, last_seq, ack_seq
	// and their wrap counts). start is signed 64-bit as in Zeek.
	start              int64
	last, ack          uint32
	seqWraps, ackWraps uint32

	finCnt, rstCnt uint32
	finSeq         uint64 // relative sequence number just after the FIN

	didClose     bool // Zeek has reported this side closing
	closePending bool // a close waits for data still to be delivered

	histLastSYN, histLastFIN, histLastRST uint64

	chk, rxmt, win0, gap scaled

	// ConnSize's counters: packets and IP bytes this side sent.
	pkts, ipBytes uint64

	// Reassembly (TCP_Reassembler): the next relative sequence number to
	// deliver, how far the stream was trimmed by ACKs, the out-of-order
	// ranges, and whether Zeek gave up on the direction.
	reassem, trim uint64
	spans         [maxSpans]span
	nspans        uint8
	skip          bool
	missed        uint64 // bytes reported as content gaps
}

func (e *endpoint) init() {
	e.reassem, e.trim = 1, 1
}

func (e *endpoint) setState(s EndpointState) {
	if s != e.state {
		e.prev = e.state
		e.state = s
	}
}

// inHandshake is true in the states before an endpoint is established.
func (e *endpoint) inHandshake() bool {
	return e.state == Inactive || e.state == SynSent || e.state == SynAckSent
}

// startSeq is Zeek's StartSeq(): the start as a 32-bit sequence number.
func (e *endpoint) startSeq() uint32 { return uint32(e.start) }

func (e *endpoint) initSeqs(start, ack, last uint32) {
	e.start = int64(start)
	e.ack = ack
	e.last = last
}

// relative is Zeek's ToRelativeSeqSpace.
func (e *endpoint) relative(seq, wraps uint32) uint64 {
	return uint64(wraps)<<32 + uint64(seq) - uint64(e.start)
}

// relativeSeq is Zeek's get_relative_seq: seq relative to the endpoint's
// start, with wrap-arounds counted from last. underflow is set when seq
// lies before the start.
func (e *endpoint) relativeSeq(seq, last, wraps uint32) (rel uint64, underflow bool) {
	delta := int32(seq - last)
	if delta < 0 {
		if wraps > 0 && seq > last {
			wraps--
		}
	} else if delta > 0 {
		if seq < last {
			wraps++
		}
	}
	if wraps == 0 {
		d := int32(seq - e.startSeq())
		return uint64(int64(d)), d < 0
	}
	return e.relative(seq, wraps), false
}

func (e *endpoint) updateLastSeq(seq uint32) {
	if seq < e.last {
		e.seqWraps++
	}
	e.last = seq
}

func (e *endpoint) updateAckSeq(seq uint32) {
	if seq < e.ack {
		e.ackWraps++
	}
	e.ack = seq
}

// noDataAcked is true when at most the SYN of this side was acknowledged.
func (e *endpoint) noDataAcked() bool {
	ack := uint64(e.ackWraps)<<32 + uint64(e.ack)
	start := uint64(e.start)
	return ack == start || ack == start+1
}

// size is TCP_Endpoint::Size, which conn.log reports as orig_bytes and
// resp_bytes: the span of sequence space sent or acknowledged, less the
// SYN and FIN octets. It is not a payload sum: retransmissions do not
// count twice, and data never captured but acknowledged does count.
func (e *endpoint) size(peer *endpoint) uint64 {
	if e.prev == SynSent && e.state == Reset && peer.state == Inactive && !e.noDataAcked() {
		// A half-open connection discovered and aborted: its sequence
		// numbers say nothing about data.
		return 0
	}
	last := uint64(e.seqWraps)<<32 + uint64(e.last)
	ack := uint64(e.ackWraps)<<32 + uint64(e.ack)
	var n uint64
	if last > ack {
		n = last - uint64(e.start)
	} else {
		n = ack - uint64(e.start)
	}
	if n != 0 {
		n-- // the SYN octet (assumed for partial connections too)
	}
	if e.finCnt > 0 && n != 0 {
		n-- // the FIN octet
	}
	return n
}

// clean is true for an endpoint established, or closed from established:
// only then does Zeek trust a content gap (TCP_Reassembler.cc is_clean).
func (e *endpoint) clean() bool {
	return e.state == Established || (e.state == Closed && e.prev == Established)
}

// undeliveredBytes is NumUndeliveredBytes: from the delivery edge to the
// end of the highest range received.
func (e *endpoint) undeliveredBytes() uint64 {
	if e.nspans == 0 {
		return 0
	}
	return e.spans[e.nspans-1].hi - e.reassem
}

// bufferedBytes approximates the reassembler's DataSize: delivered data not
// yet trimmed by an ACK plus the out-of-order ranges.
func (e *endpoint) bufferedBytes() uint64 {
	var n uint64
	if e.reassem > e.trim {
		n = e.reassem - e.trim
	}
	for _, s := range e.spans[:e.nspans] {
		n += s.hi - s.lo
	}
	return n
}

// insert records [lo, hi) as received above the delivery edge, merging
// ranges that touch. Ranges are kept sorted and disjoint.
func (e *endpoint) insert(lo, hi uint64) {
	if lo < e.reassem {
		lo = e.reassem
	}
	if hi <= lo {
		return
	}
	n := int(e.nspans)
	// First range that ends at or after lo.
	i := 0
	for i < n && e.spans[i].hi < lo {
		i++
	}
	// Ranges i..j-1 touch [lo, hi).
	j := i
	for j < n && e.spans[j].lo <= hi {
		lo = min(lo, e.spans[j].lo)
		hi = max(hi, e.spans[j].hi)
		j++
	}
	switch {
	case j > i: // merged into one: put it at i, close the hole
		e.spans[i] = span{lo, hi}
		copy(e.spans[i+1:], e.spans[j:n])
		n -= j - i - 1
	case n < maxSpans:
		copy(e.spans[i+1:n+1], e.spans[i:n])
		e.spans[i] = span{lo, hi}
		n++
	default:
		// No room: merge the new range with its nearest neighbour by
		// covering the hole between them (the one gap we give up on).
		if i == n || (i > 0 && lo-e.spans[i-1].hi <= e.spans[i].lo-hi) {
			e.spans[i-1].hi = hi
		} else {
			e.spans[i].lo = lo
		}
	}
	e.nspans = uint8(n)
}

// deliver advances the delivery edge over ranges that now start at it.
func (e *endpoint) deliver() {
	k := 0
	for k < int(e.nspans) && e.spans[k].lo <= e.reassem {
		e.reassem = max(e.reassem, e.spans[k].hi)
		k++
	}
	if k > 0 {
		copy(e.spans[:], e.spans[k:e.nspans])
		e.nspans -= uint8(k)
	}
}

func (e *endpoint) clearSpans() { e.nspans = 0 }
