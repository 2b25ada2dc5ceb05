package fsm

import "time"

// Step processes one segment sent by the endpoint with role from, captured
// at time at as packet number pkt. Transitions it causes are appended to
// History; the Report says what else it learned.
func (m *Machine) Step(from Role, seg *Segment, at time.Time, pkt uint64) Report {
	var rep Report
	m.now, m.pkt = m.stamp(at), pkt
	n0 := m.HistoryLen()
	a := &m.ep[from]
	if !m.started {
		m.start(from, seg)
	}
	synRetx := seg.Flags.Contains(SYN) && a.HasISN && seg.Seq == a.ISN
	finRetx := seg.Flags.Contains(FIN) && a.HasFIN && seg.end()-1 == a.FIN
	m.track(from, seg, &rep)
	if rep.Kind.Contains(Retransmission) {
		// Retransmitting after a RST shows the RST never arrived.
		m.revoke(from, evRecvRST, CauseLostRST)
	}
	if seg.Flags.Contains(RST) {
		m.reset(from, seg, &rep)
	} else {
		m.sent(from, seg, synRetx, finRetx, &rep)
		if a.State == Closed && a.wasOpen && !seg.Flags.Contains(SYN) {
			rep.Anomalies |= SegmentAfterClose
		}
		m.received(from.Peer(), seg)
	}
	rep.Transitions = m.HistoryLen() - n0
	return rep
}

// start sets the machine up from the first segment of the connection.
func (m *Machine) start(from Role, seg *Segment) {
	m.started = true
	f := seg.Flags
	switch {
	case f.Contains(SYN) && !f.Contains(ACK):
		// The normal case: a client's SYN to a listening server.
	case f.Contains(SYN | ACK):
		// The client's SYN was not captured; the SYN-ACK acknowledges it.
		c := &m.ep[from.Peer()]
		c.ISN, c.HasISN = seg.Ack-1, true
		c.Base, c.SndNxt, c.hasSeq = c.ISN, seg.Ack, true
		m.force(from.Peer(), SynSent, CauseSYNImplied)
	default:
		// Picked up mid-stream: both sides are assumed ESTABLISHED.
		m.pickedUp = true
		m.force(Client, Established, CausePickup)
		m.force(Server, Established, CausePickup)
		if f.Contains(ACK) {
			p := &m.ep[from.Peer()]
			p.Base, p.SndNxt, p.hasSeq = seg.Ack, seg.Ack, true
		}
	}
}

// force puts an endpoint in state s as an assumption nothing can revise.
func (m *Machine) force(r Role, s State, c Cause) {
	e := &m.ep[r]
	m.record(r, e.State, s, c, false, false)
	e.State, e.base, e.wasOpen = s, s, true
}

// track keeps the sender's sequence bookkeeping: ISN, SND.NXT, the highest
// ACK, the window, and what kind of segment it is: retransmission,
// keep-alive, out of order, after a gap, duplicate ACK, zero window.
func (m *Machine) track(from Role, seg *Segment, rep *Report) {
	a, b := &m.ep[from], &m.ep[from.Peer()]
	f := seg.Flags
	if f.Contains(ACK) {
		if b.hasSeq && b.SndNxt.LessThan(seg.Ack) && !m.pickedUp {
			rep.Anomalies |= AckUnseenData
		}
		// A duplicate ACK repeats the last one, window and all, while the
		// peer has data outstanding (RFC 5681 section 2).
		if a.HasAck && seg.Ack == a.Ack && seg.Len == 0 && !f.Intersects(SYN|FIN|RST) &&
			seg.Window == a.rawWindow && b.hasSeq && seg.Ack.LessThan(b.SndNxt) {
			rep.Kind |= DupAck
		}
		if !a.HasAck || a.Ack.LessThan(seg.Ack) {
			a.Ack, a.HasAck = seg.Ack, true
		}
	}
	if seg.Window == 0 && !f.Contains(RST) {
		rep.Kind |= ZeroWindow
	}
	a.rawWindow = seg.Window
	if f.Contains(SYN) {
		if !a.HasISN {
			a.ISN, a.HasISN = seg.Seq, true
		}
		if !a.synTracked {
			// Window scaling is agreed by the first SYN of each side (RFC
			// 7323 section 2.2); a retransmission cannot change it.
			a.synTracked = true
			a.WScale = seg.WScale
			a.synEnd = seg.Seq.Add(1 + seg.Len)
			if a.WScale >= 0 && b.WScale >= 0 && b.synTracked {
				a.scaleOK, b.scaleOK = true, true
			}
		}
		a.Window = uint32(seg.Window)
	} else if a.scaleOK {
		a.Window = uint32(seg.Window) << max(min(a.WScale, 14), 0)
	} else {
		a.Window = uint32(seg.Window)
	}
	if f.Contains(RST) {
		return // a RST's sequence number is checked, not trusted
	}
	end := seg.end()
	if !a.hasSeq {
		a.hasSeq, a.Base, a.SndNxt = true, seg.Seq, end
		return
	}
	consumes := seg.Len > 0 || f.Intersects(SYN|FIN)
	switch {
	case seg.Len <= 1 && !f.Intersects(SYN|FIN) && seg.Seq == a.SndNxt-1 && b.HasAck && b.Ack == a.SndNxt:
		// A keep-alive is sent with nothing outstanding (RFC 9293 section
		// 3.8.4); one byte repeated while unacknowledged is a retransmission.
		rep.Kind |= KeepAlive
	case consumes && end.LessThanEq(a.SndNxt):
		if a.holeLen > 0 && a.holeStart.LessThanEq(seg.Seq) && end.LessThanEq(a.holeStart.Add(a.holeLen)) {
			// It fills the gap the capture saw: it was sent before the
			// segment after it, and overtaken or missed by the capture.
			rep.Kind |= OutOfOrder
			if seg.Seq == a.holeStart {
				a.holeStart, a.holeLen = end, a.holeLen-uint32(end-seg.Seq)
			}
		} else {
			rep.Kind |= Retransmission
		}
	case consumes && a.SndNxt.LessThan(seg.Seq):
		rep.Kind |= Gap
		a.holeStart, a.holeLen = a.SndNxt, uint32(seg.Seq-a.SndNxt)
	}
	if a.HasFIN && seg.Len > 0 && a.FIN.LessThan(seg.Seq.Add(seg.Len)) && !f.Contains(FIN) {
		rep.Anomalies |= DataAfterFIN
	}
	if f.Contains(FIN) && a.SndNxt.LessThan(seg.Seq) {
		rep.Anomalies |= FINAfterGap
	}
	a.SndNxt = a.SndNxt.Max(end)
}

// sent applies what a segment proves about its sender (certain
// transitions), and the revisions that a retransmission proves.
func (m *Machine) sent(from Role, seg *Segment, synRetx, finRetx bool, rep *Report) {
	a, b := &m.ep[from], &m.ep[from.Peer()]
	f := seg.Flags
	if f.Contains(SYN) {
		// In a simultaneous open the SYN-ACK repeats the endpoint's SYN.
		firstSYNACK := f.Contains(ACK) && !a.sentSYNACK
		switch {
		case a.sentSYN && !synRetx:
			rep.Anomalies |= NewISN
		case synRetx && !firstSYNACK:
			m.synRetransmitted(from)
		case f.Contains(ACK):
			a.sentSYN, a.sentSYNACK = true, true
			// Acceptable: ISS < SEG.ACK =< SND.NXT (RFC 9293 section
			// 3.10.7.3); with Fast Open it may cover the SYN's data.
			if b.HasISN && (seg.Ack.LessThanEq(b.ISN) || (b.hasSeq && b.SndNxt.LessThan(seg.Ack))) {
				rep.Anomalies |= SYNACKBadAck
			}
			if from == Server && a.Passive && a.State != SynSent {
				m.answered = true
			}
			m.apply(from, evSendSYNACK, true, CauseSentSYNACK)
		default:
			a.sentSYN = true
			if a.State.Synchronized() {
				rep.Anomalies |= SYNInSynchronized
				break
			}
			reapply := false
			if a.Passive && a.base == Listen && (a.n == 0 || (a.n == 1 && a.log[0].ev == evRecvSYN)) {
				// A SYN of its own: it opened actively (simultaneous open),
				// and had not received the peer's SYN, or it would have
				// answered with SYN-ACK.
				a.Passive, a.base = false, Closed
				reapply = m.revoke(from, evRecvSYN, CauseActiveOpen)
				if a.State != Closed {
					m.record(from, a.State, Closed, CauseActiveOpen, false, true)
					a.State = Closed
				}
				if !m.hasLive(from) {
					a.initial = Closed // nothing that stands says it ever listened
				}
			}
			m.apply(from, evSendSYN, true, CauseSentSYN)
			if reapply && !b.synLost {
				m.apply(from, evRecvSYN, false, CauseRecvSYN) // the peer's SYN is still on its way
			}
		}
	}
	if f.Contains(ACK) && !f.Contains(SYN) && b.HasISN && !a.synConfirmed && acksSYN(b, seg.Ack) {
		a.synConfirmed = true
		m.apply(from, evSendACKOfSYN, true, CauseSentACKOfSYN)
	}
	if f.Contains(ACK) && b.HasFIN && !a.finConfirmed && b.FIN.LessThan(seg.Ack) {
		a.finConfirmed = true
		m.apply(from, evSendACKOfFIN, true, CauseSentACKOfFIN)
		// The peer's FIN segment acknowledged our FIN too: that arrived.
		if a.HasFIN && b.finAcks && a.FIN.LessThan(b.finAck) && !m.confirm(from, evRecvACKOfFIN) {
			m.apply(from, evRecvACKOfFIN, true, CauseRecvACKOfFIN)
		}
	}
	if f.Contains(FIN) {
		switch {
		case finRetx:
			m.finRetransmitted(from)
		case !a.HasFIN:
			a.FIN, a.HasFIN = seg.end()-1, true
			a.finAck, a.finAcks = seg.Ack, f.Contains(ACK)
			// A FIN that does not acknowledge the peer's FIN was sent before
			// that FIN arrived (simultaneous close).
			reapply := b.HasFIN && !a.finConfirmed && m.revoke(from, evRecvFIN, CauseFINNotYetReceived)
			m.apply(from, evSendFIN, true, CauseSentFIN)
			if reapply && !b.finLost {
				m.apply(from, evRecvFIN, false, CauseRecvFIN) // the peer's FIN is still on its way
			}
		}
	}
}

// received applies what the segment is inferred to do to its receiver.
//
// Copies of a segment proven lost (the same SYN or FIN, or a pure ACK
// repeating one that never arrived) are not assumed delivered: the
// receiver moves only when its own segments show it got one. A segment
// carrying anything new (data, a FIN) is assumed delivered again.
func (m *Machine) received(to Role, seg *Segment) {
	a, b := &m.ep[to.Peer()], &m.ep[to]
	f := seg.Flags
	pure := seg.Len == 0 && !f.Intersects(SYN|FIN|RST)
	if f.Contains(SYN) {
		switch {
		case !f.Contains(ACK):
			if !a.synLost {
				m.apply(to, evRecvSYN, false, CauseRecvSYN)
			}
		case b.HasISN && b.ISN.LessThan(seg.Ack) && seg.Ack.LessThanEq(b.SndNxt) && !a.synLost && !a.ackOfSYNLost:
			m.apply(to, evRecvSYNACK, false, CauseRecvSYNACK)
		}
	}
	if f.Contains(ACK) {
		if !f.Contains(SYN) && b.State == SynReceived && b.HasISN && b.ISN.LessThan(seg.Ack) && !(pure && a.ackOfSYNLost) {
			m.apply(to, evRecvACKOfSYN, false, CauseRecvACKOfSYN)
		}
		if b.HasFIN && b.FIN.LessThan(seg.Ack) && !(pure && a.ackOfFINLost) {
			switch b.State {
			case FinWait1, Closing, LastAck:
				m.apply(to, evRecvACKOfFIN, false, CauseRecvACKOfFIN)
			}
		}
	}
	if f.Contains(FIN) && !a.finLost {
		m.apply(to, evRecvFIN, false, CauseRecvFIN)
	}
}

// synRetransmitted handles a copy of a SYN or SYN-ACK already seen. If the
// receiver had acknowledged the SYN, its acknowledgment never arrived;
// otherwise the SYN itself never did (RFC 9293 section 3.8.1: a sender
// retransmits only what was not acknowledged in time).
func (m *Machine) synRetransmitted(from Role) {
	a, b := &m.ep[from], &m.ep[from.Peer()]
	if b.HasAck && a.ISN.LessThan(b.Ack) {
		if !b.ackOfSYNLost {
			b.ackOfSYNLost = true
			if !m.revoke(from, evRecvSYNACK, CauseLostSYNACK) {
				m.revoke(from, evRecvACKOfSYN, CauseLostACKOfSYN)
			}
		}
		return
	}
	if !a.synLost {
		a.synLost = true
		if !m.revoke(from.Peer(), evRecvSYN, CauseLostSYN) {
			m.revoke(from.Peer(), evRecvSYNACK, CauseLostSYNACK)
		}
	}
}

// finRetransmitted handles a copy of a FIN already seen, as
// synRetransmitted does for SYNs.
func (m *Machine) finRetransmitted(from Role) {
	a, b := &m.ep[from], &m.ep[from.Peer()]
	if b.HasAck && a.FIN.LessThan(b.Ack) {
		if !b.ackOfFINLost {
			b.ackOfFINLost = true
			m.revoke(from, evRecvACKOfFIN, CauseLostACKOfFIN)
		}
		return
	}
	if !a.finLost {
		a.finLost = true
		m.revoke(from.Peer(), evRecvFIN, CauseLostFIN)
	}
}

// reset handles a segment with RST (RFC 9293 sections 3.10.7.3 and
// 3.10.7.4, RFC 5961 section 3.2). The receiver resets only if the RST is
// acceptable: in SYN_SENT it must acknowledge the SYN, in a synchronized
// state its sequence number must be exactly RCV.NXT (in the window but not
// exact draws a challenge ACK; outside the window it is dropped). The
// sender is taken as closed only when its RST is acceptable: a real
// endpoint aborts at its own SND.NXT, while a RST the receiver would drop is
// more likely stale or forged than proof that its apparent sender closed.
func (m *Machine) reset(from Role, seg *Segment, rep *Report) {
	a, b := &m.ep[from], &m.ep[from.Peer()]
	accept := true
	switch b.State {
	case Closed:
	case Listen:
		rep.Anomalies |= RSTIgnored
		accept = false
	case SynSent:
		if !seg.Flags.Contains(ACK) || !b.HasISN || !b.ISN.LessThan(seg.Ack) || b.SndNxt.LessThan(seg.Ack) {
			rep.Anomalies |= RSTIgnored
			accept = false
		}
	default:
		if a.hasSeq && seg.Seq != a.SndNxt && !(b.HasAck && seg.Seq == b.Ack) {
			accept = false
			wnd := max(b.Window, 1)
			rcvNxt := a.SndNxt
			if b.HasAck {
				rcvNxt = b.Ack
			}
			if seg.Seq.InWindow(rcvNxt, wnd) || seg.Seq.InWindow(a.SndNxt, wnd) {
				rep.Anomalies |= RSTChallenged
			} else {
				rep.Anomalies |= RSTOutOfWindow
			}
		}
	}
	if !accept {
		return
	}
	if from == Server && a.Passive && a.base == Listen && !a.hasSeq && b.State == SynSent {
		// An acceptable RST in answer to the client's SYN: nothing
		// listened there (RFC 9293 section 3.10.7.1).
		m.refused = true
		a.Passive, a.base = false, Closed
		if !m.revoke(from, evRecvSYN, CauseRefused) && a.State != Closed {
			m.record(from, a.State, Closed, CauseRefused, true, false)
			a.State = Closed
		}
	}
	m.apply(from, evSendRST, true, CauseSentRST)
	if b.State != Closed {
		m.apply(from.Peer(), evRecvRST, false, CauseRecvRST)
	}
}

// apply makes ev happen to the endpoint with role r.
func (m *Machine) apply(r Role, ev event, certain bool, c Cause) {
	e := &m.ep[r]
	if certain {
		for _, inferred := range ev.confirms() {
			m.confirm(r, inferred)
		}
	}
	from := e.State
	to := next(from, ev, e.Passive)
	if to == from {
		if to == TimeWait && (ev == evRecvFIN || ev == evSendACKOfFIN) {
			e.timeWaitSince = m.now // a FIN in TIME_WAIT restarts the 2·MSL timer
		}
		e.fold()
		return
	}
	e.push(entry{ev: ev, certain: certain, hist: m.nhist})
	m.record(r, from, to, c, certain, false)
	e.State = to
	if to == TimeWait {
		e.timeWaitSince = m.now
	}
	if to != Closed && to != Listen {
		e.wasOpen = true
	}
	e.fold()
}

// revoke undoes the newest inferred event ev of the endpoint with role r,
// and the inferences that followed it: later packets proved that the
// segment never arrived, so neither did those after it (a receiver that got
// a later segment would have shown it). It does nothing when the
// endpoint's own segments have built on the event since. It reports whether
// it undid anything.
func (m *Machine) revoke(r Role, ev event, c Cause) bool {
	e := &m.ep[r]
	i := e.find(ev)
	if i < 0 {
		return false
	}
	for j := i + 1; j < int(e.n); j++ {
		if e.log[j].certain {
			return false
		}
	}
	// Everything the endpoint went through since rests on it, revisions
	// included.
	for k := int(e.log[i].hist); k < m.HistoryLen(); k++ {
		if tr := m.hist(k); tr.role == r {
			tr.revised, tr.certain = true, false
		}
	}
	e.n = uint8(i)
	to, since, timed := m.replay(e)
	if to != e.State {
		// The state it returns to is as certain as the events that remain.
		certain := true
		for j := range int(e.n) {
			certain = certain && e.log[j].certain
		}
		m.record(r, e.State, to, c, certain, true)
		e.State = to
		if to == TimeWait && timed {
			e.timeWaitSince = since
		}
	}
	return true
}

// record appends a transition to the history, field by field: built
// whole, it was written to the stack a byte at a time and copied with
// 16-byte loads, which wait for the narrow stores they span.
func (m *Machine) record(r Role, from, to State, c Cause, certain, revision bool) {
	t := m.appendHist()
	t.at, t.pkt, t.role, t.from, t.to = m.now, m.pkt, r, from, to
	t.cause, t.certain, t.revision, t.revised = c, certain, revision, false
}

// confirm marks the newest inferred event ev of the endpoint with role r,
// and the transition it caused, certain. It reports whether there was one.
func (m *Machine) confirm(r Role, ev event) bool {
	e := &m.ep[r]
	i := e.find(ev)
	if i < 0 {
		return false
	}
	e.log[i].certain = true
	m.hist(int(e.log[i].hist)).certain = true
	e.fold()
	return true
}

// acksSYN reports whether ack acknowledges the SYN of e, and with Fast
// Open the data the SYN carried: only then does sending it prove the
// handshake complete (a Fast Open server sends data from SYN_RECEIVED,
// RFC 7413 section 4.2, acknowledging just the SYN and its data).
func acksSYN(e *Endpoint, ack Seq) bool {
	if e.synTracked && e.synEnd != e.ISN.Add(1) {
		return e.synEnd.LessThan(ack)
	}
	return e.ISN.LessThan(ack)
}

// hasLive reports whether the endpoint with role r has a transition that
// stands: neither revised nor itself a revision.
func (m *Machine) hasLive(r Role) bool {
	for i := range m.HistoryLen() {
		if tr := m.hist(i); tr.role == r && !tr.revised && !tr.revision {
			return true
		}
	}
	return false
}
