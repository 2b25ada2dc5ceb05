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

// Report is what Step learned about one segment besides transitions. (It
// has no more than four fields, so that Step returns it in registers: a
// struct of more is built and copied through memory, and the copy, wide
// loads of what narrow stores had just written, stalled every segment.)
type Report struct {
	Anomalies Anomaly
	// Kind says what sort of segment it was, beyond its flags.
	Kind Kind
	// Transitions counts the transitions the segment caused; they are the
	// last entries of History.
	Transitions int
}

// Kind is a set of the sorts of segment Step tells apart (see Report).
type Kind uint8

const (
	// Retransmission: the segment carries only sequence space that was
	// already sent (data, SYN or FIN); keep-alives are not counted.
	Retransmission Kind = 1 << iota
	// KeepAlive: a probe one byte behind SND.NXT carrying 0 or 1 byte
	// (RFC 9293 section 3.8.4).
	KeepAlive
	// OutOfOrder: the segment fills a gap the capture saw in the sender's
	// sequence space (not counted as a retransmission).
	OutOfOrder
	// Gap: the segment starts beyond everything the sender was seen
	// sending: the segment before it was not captured.
	Gap
	// DupAck: a pure ACK repeating the sender's last ACK and window while
	// the peer has data outstanding.
	DupAck
	// ZeroWindow: the sender advertises a zero window.
	ZeroWindow
)

// Contains reports whether k includes every sort in x.
func (k Kind) Contains(x Kind) bool { return k&x == x }

// Machine tracks both endpoints of one connection. The zero value is not
// ready: call Reset first. A Machine that goes on stepping must not be
// copied: the copy would share its overflow history.
//
// A Machine holds no pointer but its overflow history, which is nil for an
// ordinary connection: the transitions of a handshake, an exchange and a
// close fit in the machine itself, so a table of machines costs the garbage
// collector little.
type Machine struct {
	// spill holds the transitions after the first histInline.
	spill    []transition
	cfg      Config
	epoch    int64 // the Unix second times count from (see time.go)
	now      int64 // the time of the packet or timer being processed
	pkt      uint64
	ep       [2]Endpoint
	inline   [histInline]transition
	nhist    int32 // transitions in the history
	started  bool
	pickedUp bool
	refused  bool
	answered bool
	hasEpoch bool
}

// histInline is how many transitions a Machine keeps without allocating:
// a handshake, a close from either side and TIME_WAIT running out take 11.
const histInline = 12

// Reset makes m a new connection whose client is CLOSED and whose server is
// LISTEN. It keeps the storage m grew for a long history, so that a
// recycled machine does not allocate again.
func (m *Machine) Reset(cfg Config) {
	spill := m.spill[:0]
	*m = Machine{} // then the fields, as Endpoint.reset does
	m.cfg, m.spill = cfg, spill
	m.ep[Client].reset(Closed, false)
	m.ep[Server].reset(Listen, true)
}

// Endpoint returns the endpoint with role r. It is read-only.
func (m *Machine) Endpoint(r Role) *Endpoint { return &m.ep[r] }

// State returns the current state of the endpoint with role r.
func (m *Machine) State(r Role) State { return m.ep[r].State }

// History returns every transition so far, oldest first, in a new slice:
// Revised flags in it are those known now, and later packets may set more.
// HistoryLen and HistoryAt read the history without allocating.
func (m *Machine) History() []Transition {
	h := make([]Transition, m.HistoryLen())
	for i := range h {
		h[i] = m.HistoryAt(i)
	}
	return h
}

// HistoryInline reports whether the whole history is kept in the machine
// itself: then its overflow storage holds nothing, and every byte of the
// machine after it is a plain value.
func (m *Machine) HistoryInline() bool { return m.nhist <= histInline }

// HistoryLen returns the number of transitions so far.
func (m *Machine) HistoryLen() int { return int(m.nhist) }

// HistoryAt returns transition i of the history, 0 being the oldest. It
// panics if i is not in [0, HistoryLen()), like a slice index.
func (m *Machine) HistoryAt(i int) Transition {
	t := m.hist(i)
	return Transition{
		Time: m.timeOf(t.at), Packet: t.pkt, Role: t.role, From: t.from, To: t.to,
		Cause: t.cause, Certain: t.certain, Revision: t.revision, Revised: t.revised,
	}
}

// First returns the oldest transition of the history with the given cause
// that stands: neither a revision nor undone by one. It reports false if
// there is none. Cheaper than walking HistoryAt, which dates every
// transition it returns.
func (m *Machine) First(cause Cause) (Transition, bool) {
	for i := range int(m.nhist) {
		if t := m.hist(i); t.cause == cause && !t.revised && !t.revision {
			return m.HistoryAt(i), true
		}
	}
	return Transition{}, false
}

// hist returns transition i as the machine stores it.
func (m *Machine) hist(i int) *transition {
	if i < histInline {
		if i >= int(m.nhist) {
			panic("fsm: history index out of range")
		}
		return &m.inline[i]
	}
	return &m.spill[i-histInline]
}

// appendHist adds a transition to the history and returns it: the caller
// sets every field (the place may hold an older machine's transition).
func (m *Machine) appendHist() *transition {
	var t *transition
	if m.nhist < histInline {
		t = &m.inline[m.nhist]
	} else {
		m.spill = append(m.spill, transition{})
		t = &m.spill[len(m.spill)-1]
	}
	m.nhist++
	return t
}

// TimeWaitSince returns when the endpoint with role r entered TIME_WAIT,
// or last restarted the timer there; valid while its state is TimeWait.
func (m *Machine) TimeWaitSince(r Role) time.Time { return m.timeOf(m.ep[r].timeWaitSince) }

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
	if i := m.lastAt(r, t); i >= 0 {
		return m.hist(i).to
	}
	return m.ep[r].initial
}

// LastAt returns the last transition of the endpoint with role r at or
// before time t that was not revised, and false if there was none.
func (m *Machine) LastAt(r Role, t time.Time) (Transition, bool) {
	if i := m.lastAt(r, t); i >= 0 {
		return m.HistoryAt(i), true
	}
	return Transition{}, false
}

// lastAt returns the index of what LastAt returns, or -1.
func (m *Machine) lastAt(r Role, t time.Time) int {
	if m.nhist == 0 {
		return -1
	}
	at := since(m.epoch, t)
	last := -1
	for i := range m.HistoryLen() {
		tr := m.hist(i)
		if tr.at > at {
			break
		}
		if tr.role == r && !tr.revised {
			last = i
		}
	}
	return last
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
	n := m.HistoryLen()
	if m.ep[Client].State != TimeWait && m.ep[Server].State != TimeWait {
		return 0
	}
	tw := m.cfg.TimeWait()
	t := m.stamp(now)
	// The endpoint whose timer runs out first closes first, so that the
	// history stays in time order.
	order := [2]Role{Client, Server}
	if m.ep[Server].timeWaitSince < m.ep[Client].timeWaitSince {
		order = [2]Role{Server, Client}
	}
	for _, r := range order {
		e := &m.ep[r]
		if e.State == TimeWait && t >= addNanos(e.timeWaitSince, tw) {
			at := addNanos(e.timeWaitSince, tw)
			if m.nhist > 0 && at < m.hist(m.HistoryLen()-1).at {
				at = m.hist(m.HistoryLen() - 1).at // a revision restored a TIME_WAIT already over
			}
			m.now, m.pkt = at, 0
			m.apply(r, evTimeWaitExpired, true, CauseTimeWaitExpired)
		}
	}
	return m.HistoryLen() - n
}

// GiveUp closes endpoints still in the handshake, as a kernel does when
// its SYN or SYN-ACK retransmissions run out.
func (m *Machine) GiveUp(now time.Time) int {
	n := m.HistoryLen()
	m.now, m.pkt = m.stamp(now), 0
	for r := Client; r <= Server; r++ {
		if m.ep[r].State.Handshake() {
			m.apply(r, evGiveUp, true, CauseHandshakeTimeout)
		}
	}
	return m.HistoryLen() - n
}

// EndTimeWait closes an endpoint in TIME_WAIT because a new connection
// reuses its ports.
func (m *Machine) EndTimeWait(now time.Time, pkt uint64) int {
	n := m.HistoryLen()
	m.now, m.pkt = m.stamp(now), pkt
	for r := Client; r <= Server; r++ {
		if m.ep[r].State == TimeWait {
			m.apply(r, evTimeWaitExpired, true, CausePortReuse)
		}
	}
	return m.HistoryLen() - n
}
