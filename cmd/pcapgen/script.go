package main

// A connection's script: every segment it will send, worked out when the
// connection starts, with its time (µs from the connection's first
// segment), sequence and acknowledgment numbers relative to the ISNs, and
// the two endpoints' states after it as an analyzer sees them (every
// captured segment taken to arrive). The scheduler then plays the script one
// segment per turn.
//
// The capture point is the server (a busy server's capture): a segment the
// server answers is followed by the answer after the server's turnaround
// (tens of µs), one the client answers by a round trip.

const (
	dirC2S = 0 // client to server
	dirS2C = 1 // server to client

	server = dirS2C // index of the server in per-endpoint arrays (it sends S2C)
	client = dirC2S

	rto        = 200_000   // Linux's minimum retransmission timeout, µs
	synRTO     = 1_000_000 // initial SYN retransmission timeout, µs
	delayedAck = 40_000    // Linux's delayed-ACK timer, µs
	initCwnd   = 10        // initial congestion window, segments
)

// Options a segment carries.
const (
	optNone   uint8 = iota
	optSYN          // MSS, SACK permitted, timestamps, NOP, window scale (Linux's order)
	optTS           // NOP, NOP, timestamps
	optTSSACK       // NOP, NOP, timestamps, NOP, NOP, one SACK block
)

// What a step is, for the counters.
const (
	noteNone uint8 = iota
	noteRetx
	noteKeepAlive
)

// step is one segment of a script.
type step struct {
	at         int64  // µs from the connection's first segment
	seq, ack   uint32 // relative to the sender's and the receiver's ISN
	sackL      uint32 // SACK block, relative to the receiver's ISN (optTSSACK)
	sackR      uint32
	n          uint16 // payload bytes
	win        uint16
	from       uint8 // dirC2S or dirS2C
	flags      uint8
	opt        uint8
	note       uint8
	after      pair // states once the segment is taken to have arrived
	enterTWait bool // the segment puts an endpoint into TIME_WAIT, or restarts its 2·MSL timer
}

// script builds the steps of one connection.
type script struct {
	steps []step
	nxt   [2]uint32 // SND.NXT of each endpoint, relative to its ISN
	rcv   [2]uint32 // RCV.NXT of each endpoint, relative to the peer's ISN
	fin   [2]uint32 // sequence number after the endpoint's FIN, 0 before it sends one
	st    [2]state  // current states, client then server
	r     *rng

	// Per-connection timing (µs) and sizes.
	rtt     int64    // round trip between the capture point and the client
	turn    [2]int64 // how long each endpoint takes to answer a segment it received
	upGap   int64    // spacing of full-sized client segments at the capture point (its access link)
	mss     [2]int   // payload of a full segment from each endpoint
	win     [2]uint16
	synWin  [2]uint16
	scratch []flightSeg
}

// flightSeg is a data segment of the flight being built.
type flightSeg struct {
	step     int // index in steps
	at       int64
	seq, end uint32
	lost     bool
}

// reset prepares s for a new connection, keeping its buffers.
func (s *script) reset(r *rng) {
	*s = script{steps: s.steps[:0], scratch: s.scratch[:0], r: r, st: [2]state{closed, listen}}
}

// last returns the time and sender of the last step.
func (s *script) last() (int64, uint8) {
	if len(s.steps) == 0 {
		return 0, dirS2C
	}
	l := &s.steps[len(s.steps)-1]
	return l.at, l.from
}

// jitter returns d ± 10%.
func (s *script) jitter(d int64) int64 {
	if d < 10 {
		return d
	}
	return d - d/10 + int64(s.r.intn(int(d/5)+1))
}

// answerDelay is how long after the previous captured segment from the
// peer the endpoint's answer reaches the capture point.
func (s *script) answerDelay(from uint8) int64 {
	if from == server {
		return s.jitter(s.turn[server])
	}
	return s.jitter(s.rtt) + s.jitter(s.turn[client])
}

// at returns when a segment from from leaves, app µs after it is due: an
// answer to the peer's last segment, or a follow-up to its own.
func (s *script) at(from uint8, app int64) int64 {
	t, prev := s.last()
	if len(s.steps) == 0 {
		return 0
	}
	if prev != from {
		return t + app + s.answerDelay(from)
	}
	return t + app + int64(1+s.r.intn(8))
}

// push appends a segment from from at time at, carrying n bytes from SND.NXT
// and acknowledging the sender's RCV.NXT. Call settle afterwards.
func (s *script) push(at int64, from uint8, flags uint8, n int) *step {
	seq := s.nxt[from]
	if flags&flagSYN != 0 {
		seq = 0
	}
	return s.pushAt(at, from, flags, seq, n)
}

// pushAt is push from sequence number seq: SND.NXT advances only when the
// segment goes beyond it (not for retransmissions and probes).
func (s *script) pushAt(at int64, from uint8, flags uint8, seq uint32, n int) *step {
	st := step{at: at, from: from, flags: flags, seq: seq, n: uint16(n), win: s.win[from], opt: optTS}
	if flags&flagACK != 0 {
		st.ack = s.rcv[from]
	}
	if flags&flagSYN != 0 {
		st.opt, st.win = optSYN, s.synWin[from]
	}
	end := seq + uint32(n)
	if flags&(flagSYN|flagFIN) != 0 {
		end++
	}
	if flags&flagFIN != 0 {
		s.fin[from] = end
	}
	if int32(end-s.nxt[from]) > 0 {
		s.nxt[from] = end
	}
	s.steps = append(s.steps, st)
	return &s.steps[len(s.steps)-1]
}

// send is push, delivered (the peer's RCV.NXT advances), and settled.
func (s *script) send(at int64, from uint8, flags uint8, n int) *step {
	i := len(s.steps)
	s.push(at, from, flags, n)
	s.rcv[1-from] = s.nxt[from]
	s.settle(i)
	return &s.steps[i]
}

// settle orders the steps from index i on by time (a flight's data and
// ACKs interleave) and works out the states after each.
func (s *script) settle(i int) {
	t := s.steps[i:]
	for a := 1; a < len(t); a++ { // insertion sort: stable, and flights are nearly sorted
		for b := a; b > 0 && t[b].at < t[b-1].at; b-- {
			t[b], t[b-1] = t[b-1], t[b]
		}
	}
	for k := range t {
		s.track(&t[k])
	}
}

// track applies a segment to the two states the way an analyzer does when
// every segment arrives (RFC 9293 section 3.10.7; all resets here are
// acceptable).
func (s *script) track(st *step) {
	me, peer := &s.st[st.from], &s.st[1-st.from]
	enter := func(e *state, n state) {
		if n == timeWait && *e != timeWait {
			st.enterTWait = true
		}
		*e = n
	}
	switch {
	case st.flags&flagRST != 0:
		*me, *peer = closed, closed
	case st.flags&flagSYN != 0 && st.flags&flagACK != 0:
		*me, *peer = synReceived, established
	case st.flags&flagSYN != 0:
		// A retransmitted SYN proves the first never arrived; the server
		// is then taken to have the SYN only once its SYN-ACK shows it.
		*me, *peer = synSent, synReceived
		if st.note == noteRetx {
			*peer = listen
		}
	default:
		if st.flags&flagACK != 0 {
			if *peer == synReceived {
				*peer = established
			}
			if f := s.fin[1-st.from]; f != 0 && int32(st.ack-f) >= 0 {
				if *me == timeWait {
					// acknowledging the FIN from TIME_WAIT (re)starts
					// the 2·MSL timer, as tcpstate counts it
					st.enterTWait = true
				}
				switch *peer {
				case finWait1:
					*peer = finWait2
				case closing:
					enter(peer, timeWait)
				case lastAck:
					*peer = closed
				}
			}
		}
		if st.flags&flagFIN != 0 {
			switch *me {
			case established:
				*me = finWait1
			case closeWait:
				*me = lastAck
			}
			switch *peer {
			case established:
				*peer = closeWait
			case finWait1:
				*peer = closing
			case finWait2:
				enter(peer, timeWait)
			}
		}
	}
	st.after = pair{s.st[client], s.st[server]}
}

// handshake is SYN (sent again after 1 s, sometimes twice, when lost),
// SYN-ACK, ACK.
func (s *script) handshake(synLost bool) {
	s.send(0, client, flagSYN, 0)
	if synLost {
		for k, n := 0, 1+b2i(s.r.permille(100)); k < n; k++ {
			t, _ := s.last()
			s.push(t+synRTO<<k+int64(s.r.intn(3000)), client, flagSYN, 0).note = noteRetx
			s.settle(len(s.steps) - 1)
		}
	}
	s.send(s.at(server, 0), server, flagSYN|flagACK, 0)
	s.send(s.at(client, 0), client, flagACK, 0)
}

// refuse answers the SYN with RST-ACK: nothing listens on the port. The
// server's ISN is 0 for this connection, so seq 0 is the RFC's absolute 0.
func (s *script) refuse() {
	s.send(0, client, flagSYN, 0)
	st := s.send(s.at(server, 0), server, flagRST|flagACK, 0)
	st.seq, st.opt, st.win = 0, optNone, 0
}

// xfer says how a transfer goes.
type xfer struct {
	delay   int64 // µs between being due and the first segment (think time)
	lose    int   // index of a segment lost after the capture point, -1 for none
	swap    int   // index k: segments k and k+1 reach the capture point swapped, -1 for none
	fin     bool  // the last segment carries FIN
	lastAck bool  // the receiver acknowledges the end of the transfer now (not with its next segment)
}

// transfer sends n bytes from from in MSS-sized segments, in slow-start
// flights (10, 20, 40, ... segments, each sent when the previous one is
// acknowledged). The receiver acknowledges every second segment and the
// last one of each flight; a segment beyond a hole draws an immediate
// duplicate ACK with a SACK block; a lost segment is retransmitted after
// three duplicate ACKs (fast retransmit) or after the RTO.
func (s *script) transfer(from uint8, n int, o xfer) {
	to := 1 - from
	mss := s.mss[from]
	segs := (n + mss - 1) / mss
	gap := int64(12) // server: 1 Gb/s serialization of a full frame
	if from == client {
		gap = s.upGap
	}
	t := s.at(from, o.delay)
	for idx, cwnd := 0, initCwnd; idx < segs; cwnd *= 2 {
		m := min(cwnd, segs-idx)
		i0 := len(s.steps)
		s.scratch = s.scratch[:0]
		for j := 0; j < m; j++ {
			size := min(mss, n)
			n -= size
			flags := flagACK
			if n == 0 {
				flags |= flagPSH
				if o.fin {
					flags |= flagFIN
				}
			}
			if j > 0 {
				t += gap*int64(size)/int64(mss) + int64(s.r.intn(4))
			}
			st := s.push(t, from, flags, size)
			s.scratch = append(s.scratch, flightSeg{step: len(s.steps) - 1, at: t, seq: st.seq,
				end: s.nxt[from], lost: idx+j == o.lose})
		}
		if k := o.swap - idx; k >= 0 && k+1 < m {
			// segment k+1 overtakes segment k: swap their times, and keep
			// the scratch list in arrival order
			a, b := s.scratch[k], s.scratch[k+1]
			a.at, b.at = b.at, a.at
			s.steps[a.step].at, s.steps[b.step].at = a.at, b.at
			s.scratch[k], s.scratch[k+1] = b, a
		}
		final := idx+m == segs
		last := s.acks(from, to, final && !o.lastAck)
		idx += m
		s.settle(i0)
		if idx < segs {
			t = last + s.answerDelay(from) // the next flight leaves when the ACKs reach the sender
		}
	}
}

// acks adds the receiver's acknowledgments of the flight in s.scratch
// (in arrival order) and the retransmission of a lost segment, and returns
// the time of the last of them. With quiet, the receiver leaves the ACK of
// the flight's end to its next segment.
func (s *script) acks(from, to uint8, quiet bool) int64 {
	fl := s.scratch
	cum := s.rcv[to]
	var sackL, sackR uint32 // one block above a hole, enough for one hole
	var hole *flightSeg
	inOrder, dups := 0, 0
	var lastAt, thirdDup int64
	ackAt := func(segAt int64) int64 {
		at := max(segAt+s.answerDelay(to), lastAt+1)
		lastAt = at
		return at
	}
	ack := func(at int64, withSACK bool) {
		st := s.push(at, to, flagACK, 0)
		st.ack = cum
		if withSACK {
			st.opt, st.sackL, st.sackR = optTSSACK, sackL, sackR
		}
	}
	for i := range fl {
		f := &fl[i]
		switch {
		case f.lost:
			hole = f
		case f.seq == cum:
			cum = f.end
			inOrder++
			filled := sackR != 0 && cum == sackL
			if filled {
				cum, sackL, sackR = sackR, 0, 0
			}
			if filled || inOrder%2 == 0 || i == len(fl)-1 && !quiet {
				ack(ackAt(f.at), false)
			}
		default: // beyond a hole (lost, or overtaken): duplicate ACK at once
			if sackR == 0 {
				sackL = f.seq
			}
			sackR = f.end
			ack(ackAt(f.at), true)
			if dups++; dups == 3 {
				thirdDup = lastAt
			}
		}
	}
	if hole != nil {
		var at int64
		if dups >= 3 {
			at = thirdDup + s.answerDelay(from)
		} else {
			at = hole.at + rto + s.rtt
		}
		at = max(at, lastAt+1)
		orig := s.steps[hole.step]
		s.pushAt(at, from, orig.flags, orig.seq, int(orig.n)).note = noteRetx
		cum = max(sackR, hole.end)
		sackL, sackR = 0, 0
		lastAt = at
		ack(ackAt(at), false)
	}
	s.rcv[to] = cum
	return lastAt
}

// exchange is a request and its response.
func (s *script) exchange(req, resp int, think int64, lose, swap int, closeAfter bool) {
	s.transfer(client, req, xfer{delay: s.clientThink(), lose: -1, swap: swap, lastAck: think >= delayedAck})
	s.transfer(server, resp, xfer{delay: think, lose: lose, swap: -1, lastAck: !closeAfter})
}

func (s *script) clientThink() int64 { return s.r.spread(20, 20_000) }

// closeBy is the close started by e: FIN; the peer's ACK and FIN (or one
// FIN-ACK when its application closes at once); the last ACK.
func (s *script) closeBy(e uint8, delay int64) {
	p := 1 - e
	s.send(s.at(e, delay), e, flagFIN|flagACK, 0)
	if s.r.permille(500) {
		s.send(s.at(p, 0), p, flagFIN|flagACK, 0)
	} else {
		s.send(s.at(p, 0), p, flagACK, 0)
		s.send(s.at(p, s.r.spread(20, 5_000)), p, flagFIN|flagACK, 0)
	}
	s.send(s.at(e, 0), e, flagACK, 0)
}

// abort is an RST from e at its SND.NXT, acknowledging what it received
// (Linux's active reset: RST-ACK).
func (s *script) abort(e uint8, delay int64) {
	s.send(s.at(e, delay), e, flagRST|flagACK, 0)
}

// keepAlive idles, then e probes once or twice (seq = SND.NXT − 1, no
// data) and the peer answers each probe with an ACK.
func (s *script) keepAlive(e uint8) {
	idle := s.r.spread(1_000_000, 4_000_000)
	for k, n := 0, s.r.between(1, 2); k < n; k++ {
		t, _ := s.last()
		s.pushAt(t+idle, e, flagACK, s.nxt[e]-1, 0).note = noteKeepAlive
		s.settle(len(s.steps) - 1)
		s.send(s.at(1-e, 0), 1-e, flagACK, 0)
		idle = s.r.spread(1_000_000, 2_000_000)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
