package fsm

import "time"

// Config tunes a Machine. The zero value is Linux's behaviour.
type Config struct {
	// MSL is the maximum segment lifetime; TIME_WAIT lasts 2·MSL.
	// Zero means 30 s, so that TIME_WAIT lasts 60 s as on Linux.
	MSL time.Duration
}

// TimeWait returns how long TIME_WAIT lasts: 2·MSL.
func (c Config) TimeWait() time.Duration {
	if c.MSL <= 0 {
		return 60 * time.Second
	}
	return 2 * c.MSL
}

// Segment is what the machine needs of a TCP segment.
type Segment struct {
	Seq, Ack Seq
	Flags    Flags
	Len      uint32 // payload bytes
	Window   uint16 // the raw window field
	WScale   int8   // window-scale option of a SYN, -1 if absent
}

// end returns the sequence number after the segment (SYN and FIN count).
func (s *Segment) end() Seq {
	e := s.Seq.Add(s.Len)
	if s.Flags.Contains(SYN) {
		e++
	}
	if s.Flags.Contains(FIN) {
		e++
	}
	return e
}

// Report is what Step learned about one segment besides transitions.
type Report struct {
	Anomalies Anomaly
	// Retransmission is set when the segment carries only sequence space
	// that was already sent (data, SYN or FIN); keep-alives are not counted.
	Retransmission bool
	// KeepAlive is set for a probe one byte behind SND.NXT carrying 0 or 1
	// byte (RFC 9293 section 3.8.4).
	KeepAlive bool
	// OutOfOrder is set for a segment that fills a gap the capture saw in
	// the sender's sequence space (not counted as a retransmission).
	OutOfOrder bool
	// Gap is set when the segment starts beyond everything the sender was
	// seen sending: the segment before it was not captured.
	Gap bool
	// DupAck is set for a pure ACK repeating the sender's last ACK and
	// window while the peer has data outstanding.
	DupAck bool
	// ZeroWindow is set when the sender advertises a zero window.
	ZeroWindow bool
	// Transitions counts the transitions the segment caused; they are the
	// last entries of History.
	Transitions int
}

// Machine tracks both endpoints of one connection. The zero value is not
// ready: call Reset first. A Machine must not be copied after Reset.
type Machine struct {
	cfg      Config
	ep       [2]Endpoint
	hist     []Transition
	inline   [12]Transition
	started  bool
	pickedUp bool
	refused  bool
	answered bool
	now      time.Time
	pkt      uint64
}

// Reset makes m a new connection whose client is CLOSED and whose server is
// LISTEN.
func (m *Machine) Reset(cfg Config) {
	*m = Machine{cfg: cfg}
	m.hist = m.inline[:0]
	m.ep[Client].reset(Closed, false)
	m.ep[Server].reset(Listen, true)
}

// Endpoint returns the endpoint with role r. It is read-only.
func (m *Machine) Endpoint(r Role) *Endpoint { return &m.ep[r] }

// State returns the current state of the endpoint with role r.
func (m *Machine) State(r Role) State { return m.ep[r].State }

// History returns every transition so far, oldest first. The slice is owned
// by the machine; Revised flags in it change as later packets arrive.
func (m *Machine) History() []Transition { return m.hist }

// PickedUp reports whether the capture began after the handshake.
func (m *Machine) PickedUp() bool { return m.pickedUp }

// Refused reports whether the server answered the client's SYN with RST.
func (m *Machine) Refused() bool { return m.refused }

// Answered reports whether the server answered a SYN with a SYN-ACK from
// LISTEN: its address and port are a listening socket.
func (m *Machine) Answered() bool { return m.answered }

// Started reports whether the machine has seen a segment.
func (m *Machine) Started() bool { return m.started }

// StateAt returns the state the endpoint with role r was in at time t, as
// the whole history known now tells it: inferred transitions that were
// later revised never happened.
func (m *Machine) StateAt(r Role, t time.Time) State {
	if tr, ok := m.LastAt(r, t); ok {
		return tr.To
	}
	return m.ep[r].initial
}

// LastAt returns the last transition of the endpoint with role r at or
// before time t that was not revised, and false if there was none.
func (m *Machine) LastAt(r Role, t time.Time) (Transition, bool) {
	var last Transition
	found := false
	for i := range m.hist {
		tr := &m.hist[i]
		if tr.Time.After(t) {
			break
		}
		if tr.Role == r && !tr.Revised {
			last, found = *tr, true
		}
	}
	return last, found
}

// Finished reports whether both endpoints are CLOSED (or back in LISTEN):
// nothing more can happen on the connection but a new one on the same
// ports.
func (m *Machine) Finished() bool {
	c, s := m.ep[Client].State, m.ep[Server].State
	return c == Closed && (s == Closed || s == Listen) && m.started
}

// SendQ returns what the Linux kernel would show as Send-Q for the
// endpoint with role r: the sequence space it has sent that its peer has
// not acknowledged, as far as the capture shows, with SYN and FIN counting
// one each. A passive open in SYN_RECEIVED is a request socket, which the
// kernel shows with 0; so is an endpoint that is not a socket.
func (m *Machine) SendQ(r Role) uint32 {
	e, p := &m.ep[r], &m.ep[r.Peer()]
	if !e.hasSeq || !e.State.Socket() || (e.State == SynReceived && e.Passive) {
		return 0
	}
	una := e.Base
	if e.HasISN {
		una = e.ISN
	}
	if p.HasAck {
		// Acknowledgments proven lost never moved SND.UNA.
		ack := p.Ack
		if p.ackOfFINLost && e.HasFIN && e.FIN.LessThan(ack) {
			ack = e.FIN
		}
		if p.ackOfSYNLost && e.HasISN && e.ISN.LessThan(ack) {
			ack = e.ISN
		}
		una = una.Max(ack)
	}
	if d := e.SndNxt.Sub(una); d > 0 {
		return uint32(d)
	}
	return 0
}

// Advance runs the timers up to now: an endpoint whose 2·MSL in TIME_WAIT
// has passed becomes CLOSED. It returns the number of transitions added.
func (m *Machine) Advance(now time.Time) int {
	n := len(m.hist)
	tw := m.cfg.TimeWait()
	// The endpoint whose timer runs out first closes first, so that the
	// history stays in time order.
	order := [2]Role{Client, Server}
	if m.ep[Server].TimeWaitSince.Before(m.ep[Client].TimeWaitSince) {
		order = [2]Role{Server, Client}
	}
	for _, r := range order {
		e := &m.ep[r]
		if e.State == TimeWait && !now.Before(e.TimeWaitSince.Add(tw)) {
			at := e.TimeWaitSince.Add(tw)
			if n := len(m.hist); n > 0 && at.Before(m.hist[n-1].Time) {
				at = m.hist[n-1].Time // a revision restored a TIME_WAIT already over
			}
			m.now, m.pkt = at, 0
			m.apply(r, evTimeWaitExpired, true, CauseTimeWaitExpired)
		}
	}
	return len(m.hist) - n
}

// GiveUp closes endpoints still in the handshake, as a kernel does when
// its SYN or SYN-ACK retransmissions run out.
func (m *Machine) GiveUp(now time.Time) int {
	n := len(m.hist)
	m.now, m.pkt = now, 0
	for r := Client; r <= Server; r++ {
		if m.ep[r].State.Handshake() {
			m.apply(r, evGiveUp, true, CauseHandshakeTimeout)
		}
	}
	return len(m.hist) - n
}

// EndTimeWait closes an endpoint in TIME_WAIT because a new connection
// reuses its ports.
func (m *Machine) EndTimeWait(now time.Time, pkt uint64) int {
	n := len(m.hist)
	m.now, m.pkt = now, pkt
	for r := Client; r <= Server; r++ {
		if m.ep[r].State == TimeWait {
			m.apply(r, evTimeWaitExpired, true, CausePortReuse)
		}
	}
	return len(m.hist) - n
}
