package wireshark

import (
	"math"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// Segment is what the analysis needs of one TCP segment.
type Segment struct {
	// Segment holds the header fields: Seq, Ack, Flags, Len (the payload
	// length from the IP header, as Wireshark's tcp.len), the raw Window and
	// WScale (the window-scale option's shift, capped at 14, or -1 when the
	// segment has none; Wireshark honours it on any segment, not only SYNs).
	fsm.Segment
	// Time is the capture timestamp.
	Time time.Time
	// TFOCookie is set when the segment carries a TCP Fast Open option with
	// a cookie (kind 34, or kind 254 with experiment ID 0xF989), not a
	// cookie request (RFC 7413 section 4.1.1).
	TFOCookie bool
	// HeaderTruncated is set when the capture's snaplen cut the TCP
	// options (capture.Segment.HeaderTruncated). Wireshark analyses such a
	// segment, but its dissection stops at the cut, before the analysis is
	// shown: Add returns only the Fast Open flags, which come before, and
	// skips the window-scaling check that comes after.
	HeaderTruncated bool
}

// Thresholds of packet-tcp.c.
const (
	// fastRetransmitWindow: a fast retransmission comes within this time of
	// the receiver's last ACK.
	fastRetransmitWindow = 20 * time.Millisecond
	// outOfOrderWindow: without a handshake RTT, an out-of-order segment
	// comes within this time of the segment that set the highest sequence
	// number.
	outOfOrderWindow = 3 * time.Millisecond
)

// Window scaling as Wireshark tracks it per direction (tcp_flow_t.win_scale).
const (
	scaleUnknown = -1 // no SYN seen yet: window full is not checked
	scaleNone    = -2 // the handshake did not agree on scaling
)

// flow is one direction of a conversation: the part of Wireshark's
// tcp_flow_t and tcp_analyze_seq_flow_info_t the flags depend on.
// Sequence numbers are plain uint32 because Wireshark treats 0 in nextSeq,
// maxSeqToBeAcked and lastAck as "not seen yet", whatever the wrap.
type flow struct {
	base    uint32 // base_seq: the ISN, or seq-1 (ack-1) when the SYN was not seen
	baseSet bool

	nextSeq   uint32 // the highest sequence number sent, plus one; 0: none yet
	nextSeqAt int64  // Unix ns of the segment that set nextSeq
	// maxSeqToBeAcked is the end of what was sent without a gap: an ACK
	// beyond it acknowledges something the capture missed. 0: none yet.
	maxSeqToBeAcked uint32
	lastAck         uint32 // the ACK field of this direction's last segment
	lastAckAt       int64  // Unix ns of this direction's last segment
	window          uint32 // the raw window of the last segment, MaxUint32 before one
	winScale        int8   // shift, scaleUnknown or scaleNone
	// firstAck is set from this direction's SYN to its first segment with
	// ACK and without SYN: its window is not scaled yet (RFC 7323 section
	// 2.2), which Wireshark honours for window full.
	firstAck bool
	// dupAcks counts this direction's duplicate ACKs since its ACK last
	// changed. Like Wireshark's unsigned counter it is set to MaxUint32
	// after the peer acknowledged data that was not captured, and so
	// counts as two or more for fast retransmission.
	dupAcks uint32
	last    Flags // the flags of this direction's last segment
}

func (f *flow) reset() {
	*f = flow{window: math.MaxUint32, winScale: scaleUnknown}
}

// Conn tracks one conversation as Wireshark's TCP sequence analysis does:
// the segments of one 4-tuple in capture order, both directions. The zero
// value is ready to use. A Conn has a fixed size and Add never allocates.
//
// A Conn follows Wireshark's conversation, not the connection: when a SYN
// arrives whose sequence number differs from the one that began the
// conversation, Wireshark starts a new conversation (a new tcp.stream) on
// the same 4-tuple and flags the SYN ReusedPorts; Add does the same by
// starting over. Streams says how many conversations it has seen.
type Conn struct {
	flow [2]flow
	// mruSYN is the Unix ns of the last SYN without ACK, firstRTT the time
	// from it to the first segment with ACK and without SYN (Wireshark's
	// iRTT, tcp.analysis.initial_rtt). 0 means not yet, as in Wireshark.
	mruSYN, firstRTT int64
	tfoSYNData       bool // a SYN carried a TFO cookie and data
	started          bool
	streams          uint32
}

// Streams returns the number of conversations (tcp.stream values) the
// Conn has seen on its 4-tuple: 0 before the first segment, then 1, plus
// one for each SYN flagged ReusedPorts that started a new one.
func (c *Conn) Streams() uint32 { return c.streams }

// start begins a new conversation.
func (c *Conn) start() {
	streams := c.streams + 1
	*c = Conn{started: true, streams: streams}
	c.flow[0].reset()
	c.flow[1].reset()
}

// Add analyses one segment sent by direction from (0 or 1: any fixed
// choice per endpoint, for instance 0 for the first sender; any other value
// counts as 1) and returns its flags and, for a DuplicateAck, its number
// (tcp.analysis.duplicate_ack_num: 1 for the first duplicate), 0 otherwise.
// Segments must be given in capture order.
func (c *Conn) Add(from int, s Segment) (Flags, uint32) {
	d := 0
	if from != 0 {
		d = 1
	}
	if !c.started {
		c.start()
	}
	seq := uint32(s.Seq)
	var f Flags

	// Port reuse, checked before the analysis (dissect_tcp): a SYN with
	// another ISN than the conversation's first is a new conversation;
	// a SYN-ACK with another ISN only replaces the base.
	switch fwd := &c.flow[d]; s.Flags & (fsm.SYN | fsm.ACK) {
	case fsm.SYN:
		switch {
		case fwd.baseSet && seq != fwd.base:
			c.start()
			f |= ReusedPorts
		case fwd.baseSet:
			// The same SYN again: a retransmission. Forget what the
			// sender sent beyond the contiguous data (an RST may carry
			// any sequence number, RFC 9293 section 3.10.7.4).
			fwd.nextSeq = fwd.maxSeqToBeAcked
		}
	case fsm.SYN | fsm.ACK:
		if fwd.baseSet && seq != fwd.base {
			fwd.base = seq
			f |= ReusedPorts
		}
	}
	fwd, rev := &c.flow[d], &c.flow[1-d]

	// The base sequence numbers relative ones count from: the ISN, or
	// seq-1 and ack-1 when the handshake was not seen.
	if !fwd.baseSet {
		fwd.base = seq - 1
		if s.Flags.Contains(fsm.SYN) {
			fwd.base = seq
		}
		fwd.baseSet = true
	}
	if !rev.baseSet && s.Flags.Contains(fsm.ACK) {
		rev.base = uint32(s.Ack) - 1
		rev.baseSet = true
	}

	now := s.Time.UnixNano()
	f, dup := c.analyse(fwd, rev, &s, now, f)
	f = c.handshake(fwd, rev, &s, now, f)
	if s.HeaderTruncated {
		return f & (TFOSyn | TFOAck | TFOIgnored), 0
	}
	return f, dup
}

// analyse is Wireshark's tcp_analyze_sequence_number: the checks in its
// order, then what it remembers of the segment.
func (c *Conn) analyse(fwd, rev *flow, s *Segment, now int64, f Flags) (Flags, uint32) {
	seq, ack := uint32(s.Seq), uint32(s.Ack)

	f, dup := sender(fwd, rev, s, f)

	// A new ACK number starts the duplicate count again.
	if ack != fwd.lastAck {
		fwd.dupAcks = 0
	}

	// ACKed unseen segment: an ACK beyond what the peer sent without a
	// gap. Once flagged, the boundary moves to the peer's highest sequence
	// number; beyond that, only the first such ACK (or one after a
	// duplicate-ACK count restart) is flagged.
	if s.Flags.Contains(fsm.ACK) && rev.maxSeqToBeAcked != 0 && seqGT(ack, rev.maxSeqToBeAcked) {
		if seqLT(rev.maxSeqToBeAcked, rev.nextSeq) {
			rev.maxSeqToBeAcked = rev.nextSeq
			f |= AckLostSegment
		} else {
			if rev.dupAcks == 0 {
				f |= AckLostSegment
			}
			rev.dupAcks = math.MaxUint32
		}
	}

	if s.Len > 0 || s.Flags.Intersects(fsm.SYN|fsm.FIN) {
		f = c.retransmission(fwd, rev, s, now, f)
	}

	// Remember the segment. SYN and FIN take one sequence number (once,
	// even together); a zero-window probe does not move nextSeq.
	next := seq + s.Len
	if s.Flags.Intersects(fsm.SYN | fsm.FIN) {
		next++
	}
	if f&ZeroWindowProbe == 0 {
		if fwd.nextSeq == 0 || seqGT(next, fwd.nextSeq) {
			fwd.nextSeq = next
			fwd.nextSeqAt = now
		}
		if fwd.maxSeqToBeAcked == 0 || seq == fwd.maxSeqToBeAcked {
			fwd.maxSeqToBeAcked = fwd.nextSeq
		}
	}
	fwd.window = uint32(s.Window)
	fwd.lastAck = ack
	fwd.lastAckAt = now
	fwd.last = f
	return f, dup
}

// sender runs the checks that look at the segment as its sender's next
// one: probes, windows, keep-alives and duplicate ACKs. A zero-window probe,
// a keep-alive ACK and a zero-window probe ACK end them.
func sender(fwd, rev *flow, s *Segment, f Flags) (Flags, uint32) {
	seq, ack, n := uint32(s.Seq), uint32(s.Ack), s.Len
	win := uint32(s.Window)
	plain := !s.Flags.Intersects(fsm.SYN | fsm.FIN | fsm.RST)
	// same: a segment without data that repeats the sender's position.
	same := n == 0 && seq == fwd.nextSeq && ack == fwd.lastAck && plain

	if n == 1 && seq == fwd.nextSeq && rev.window == 0 {
		return f | ZeroWindowProbe, 0
	}
	if win == 0 && plain {
		f |= ZeroWindow
	}
	if fwd.nextSeq != 0 && seqGT(seq, fwd.nextSeq) && !s.Flags.Contains(fsm.RST) {
		f |= LostSegment
	}
	if n <= 1 && seq == fwd.nextSeq-1 && plain {
		f |= KeepAlive
	}
	if same && win != 0 && win != fwd.window {
		f |= WindowUpdate
	}
	if n > 0 && plain && rev.winScale != scaleUnknown {
		shift := uint(0)
		if !rev.firstAck && rev.winScale > 0 {
			shift = uint(rev.winScale)
		}
		if seq+n == rev.lastAck+rev.window<<shift {
			f |= WindowFull
		}
	}
	switch {
	case same && win != 0 && win == fwd.window && rev.last&KeepAlive != 0:
		return f | KeepAliveAck, 0
	case same && win == 0 && fwd.window == 0 && rev.last&ZeroWindowProbe != 0:
		return f | ZeroWindowProbeAck, 0
	case same && win != 0 && win == fwd.window:
		if fwd.dupAcks == math.MaxUint32 {
			fwd.dupAcks = 1 // the count restarts after an ACKed unseen segment
		} else {
			fwd.dupAcks++
		}
		return f | DuplicateAck, fwd.dupAcks
	}
	return f, 0
}

// retransmission classifies a segment that takes sequence space (data,
// SYN or FIN) and does not advance its sender's highest sequence number:
// spurious, fast, out of order, or plain, in Wireshark's order of
// precedence (fast retransmission before out-of-order, the default of the
// preference tcp.fastrt_supersedes_ooo). Keep-alives are none of them.
func (c *Conn) retransmission(fwd, rev *flow, s *Segment, now int64, f Flags) Flags {
	if f&KeepAlive != 0 {
		return f
	}
	seq, n := uint32(s.Seq), s.Len
	behind := fwd.nextSeq != 0 && seqLT(seq, fwd.nextSeq)
	// More than one byte starting one below nextSeq follows a zero-window
	// probe: new data, not a retransmission.
	if n > 1 && fwd.nextSeq-1 == seq {
		behind = false
	}
	// Data the receiver already acknowledged.
	if n > 0 && rev.lastAck != 0 && seqLE(seq+n, rev.lastAck) {
		return f | SpuriousRetransmission | Retransmission
	}
	// At the sequence number of two or more duplicate ACKs, soon after
	// the last ACK.
	if behind && rev.dupAcks >= 2 && rev.lastAck == seq && within(now, rev.lastAckAt, fastRetransmitWindow) {
		return f | FastRetransmission | Retransmission
	}
	// Soon after the highest sequence number, and not ending exactly at
	// it: a segment overtaken on the way.
	threshold := uint64(outOfOrderWindow)
	if c.firstRTT != 0 {
		threshold = uint64(c.firstRTT)
	}
	end := seq + n
	if s.Flags.Intersects(fsm.SYN | fsm.FIN) {
		end++
	}
	if behind && uint64(now-fwd.nextSeqAt) < threshold && fwd.nextSeq != end {
		return f | OutOfOrder
	}
	if behind {
		return f | Retransmission
	}
	return f
}

// handshake does what dissect_tcp does after the analysis: the TFO flags of
// a SYN-ACK, the SYN time and the initial RTT, the first-ACK state, and the
// options (window scale, TFO cookie) with the check that both SYNs agreed on
// window scaling.
func (c *Conn) handshake(fwd, rev *flow, s *Segment, now int64, f Flags) Flags {
	syn := s.Flags.Contains(fsm.SYN)
	switch s.Flags & (fsm.SYN | fsm.ACK) {
	case fsm.SYN | fsm.ACK:
		// The SYN-ACK acknowledges data sent with the SYN (a relative ACK
		// above 1), or ignores the data of a SYN with a cookie.
		if uint32(s.Ack)-rev.base > 1 {
			f |= TFOAck
		} else if c.tfoSYNData {
			f |= TFOIgnored
		}
		fwd.firstAck = true
	case fsm.SYN:
		c.mruSYN = now
		fwd.firstAck = true
	case fsm.ACK:
		if c.mruSYN != 0 && c.firstRTT == 0 {
			c.firstRTT = now - c.mruSYN
		}
		fwd.firstAck = false
	}
	if s.WScale >= 0 {
		fwd.winScale = min(s.WScale, 14)
	}
	if s.TFOCookie && s.Flags&(fsm.SYN|fsm.ACK) == fsm.SYN {
		f |= TFOSyn
		if s.Len > 0 {
			c.tfoSYNData = true
		}
	}
	if syn && !s.HeaderTruncated {
		// Scaling is used only if both SYNs offer it (RFC 7323 section
		// 1.3): a SYN without the option turns it off both ways, a SYN-ACK
		// with it after a SYN without it does not turn it on.
		switch {
		case fwd.winScale == scaleUnknown:
			fwd.winScale, rev.winScale = scaleNone, scaleNone
		case s.Flags.Contains(fsm.ACK) && rev.winScale == scaleNone:
			fwd.winScale = scaleNone
		}
	}
	return f
}

// within reports whether now is less than d after then, counting as
// Wireshark does: a time before then is far away (an unsigned difference).
func within(now, then int64, d time.Duration) bool {
	return uint64(now-then) < uint64(d)
}

// Wireshark's GT_SEQ, LT_SEQ and LE_SEQ: comparisons modulo 2^32.
func seqGT(a, b uint32) bool { return int32(b-a) < 0 }
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }
