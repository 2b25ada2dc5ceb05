package fsm

// Endpoint is one end of a connection as the capture shows it: its state
// and what it sent. Fields are read-only outside the package.
//
// Fields are ordered by size, so that the struct has no padding: a table
// holds two endpoints for every connection.
type Endpoint struct {
	// timeWaitSince is when it entered TIME_WAIT (or last restarted the
	// timer there), in the machine's nanoseconds; valid while State is
	// TimeWait. Machine.TimeWaitSince returns it as a time.
	timeWaitSince int64

	// ISN is the initial sequence number; valid iff HasISN.
	ISN Seq
	// Base is the sequence number relative numbers count from: the ISN, or
	// the first sequence number seen when the SYN was not captured.
	Base Seq
	// SndNxt is one past the highest sequence number the endpoint sent (SYN
	// and FIN included); valid once it has sent a segment.
	SndNxt Seq
	// Ack is the highest acknowledgment number the endpoint sent: its
	// RCV.NXT as the wire shows it; valid iff HasAck.
	Ack Seq
	// FIN is the sequence number of the endpoint's FIN; valid iff HasFIN.
	FIN Seq
	// Window is the last receive window it advertised, scaled.
	Window uint32

	// holeStart and holeLen are the last gap in what it sent that the
	// capture saw: segments filling it are out of order, not retransmitted.
	holeStart Seq
	holeLen   uint32
	synEnd    Seq // one past its SYN and the data the SYN carried (Fast Open)
	finAck    Seq // the acknowledgment its FIN segment carried; valid iff finAcks
	log       [logCap]entry
	rawWindow uint16 // the window field of its last segment

	State State
	// Passive is true while the endpoint is assumed to have begun in LISTEN.
	Passive bool
	HasISN  bool
	HasAck  bool
	HasFIN  bool
	// WScale is the window-scale shift it offered on its SYN, -1 if none.
	WScale int8

	initial State // the state before the first transition
	base    State // the state after every event that can no longer be revised
	n       uint8 // events in log
	hasSeq  bool  // it has sent a segment: SndNxt and Base are valid
	// synLost and finLost are set once the capture proves that a copy of
	// its SYN or FIN was lost: further copies are not assumed delivered.
	synLost, finLost bool
	// ackOfSYNLost and ackOfFINLost are set once the capture proves that its
	// acknowledgment of the peer's SYN or FIN was lost.
	ackOfSYNLost, ackOfFINLost bool
	// synConfirmed is set once it sent a segment without SYN acknowledging
	// the peer's SYN (it is synchronized), finConfirmed once it acknowledged
	// the peer's FIN: later ACKs prove nothing new.
	synConfirmed, finConfirmed bool
	scaleOK                    bool // both SYNs offered window scaling
	sentSYN                    bool // it sent a SYN or SYN-ACK
	synTracked                 bool // its first SYN was seen: WScale and synEnd are set
	finAcks                    bool
	sentSYNACK                 bool // it sent a SYN-ACK
	wasOpen                    bool // it has been in a state other than CLOSED and LISTEN
}

// reset makes e a new endpoint in state s. It clears e and then sets the
// fields: a literal was built on the stack and copied with wide loads of
// its fields' narrow stores, which wait for them.
func (e *Endpoint) reset(s State, passive bool) {
	*e = Endpoint{}
	e.State, e.initial, e.base, e.Passive, e.WScale = s, s, s, passive, -1
}

// event is something that happened to one endpoint.
type event uint8

const (
	evSendSYN event = iota
	evSendSYNACK
	evSendACKOfSYN
	evSendFIN
	evSendACKOfFIN
	evSendRST
	evRecvSYN
	evRecvSYNACK
	evRecvACKOfSYN
	evRecvFIN
	evRecvACKOfFIN
	evRecvRST
	evTimeWaitExpired
	evGiveUp
)

// confirms lists the inferred events a certain event proves happened: a
// SYN-ACK proves its sender got the SYN, an ACK of the peer's SYN proves
// the handshake completed, an ACK of the peer's FIN proves the FIN arrived.
func (ev event) confirms() []event {
	switch ev {
	case evSendSYNACK:
		return confirmSYN
	case evSendACKOfSYN:
		return confirmSync
	case evSendACKOfFIN:
		return confirmFIN
	}
	return nil
}

var (
	confirmSYN  = []event{evRecvSYN}
	confirmSync = []event{evRecvSYNACK, evRecvACKOfSYN}
	confirmFIN  = []event{evRecvFIN}
)

// next is the RFC 9293 state diagram (section 3.3.2, Figure 5) with the
// processing rules of section 3.10.7: the state an endpoint in s enters
// when ev happens to it. Events that do not apply in s leave it unchanged.
func next(s State, ev event, passive bool) State {
	switch ev {
	case evSendRST, evRecvRST:
		switch s {
		case Closed:
			return Closed
		case Listen:
			if ev == evRecvRST {
				return Listen // 3.10.7.2: an incoming RST is ignored in LISTEN
			}
			return Closed
		case SynReceived:
			if passive {
				return Listen // 3.10.7.4: a passive open returns to LISTEN
			}
		}
		return Closed
	case evTimeWaitExpired:
		if s == TimeWait {
			return Closed
		}
		return s
	case evGiveUp:
		if s == SynSent {
			return Closed
		}
		if s == SynReceived {
			if passive {
				return Listen
			}
			return Closed
		}
		return s
	}
	switch s {
	case Closed:
		if ev == evSendSYN {
			return SynSent
		}
	case Listen:
		switch ev {
		case evRecvSYN, evSendSYNACK:
			return SynReceived
		case evSendSYN:
			return SynSent
		}
	case SynSent:
		switch ev {
		case evRecvSYNACK, evSendACKOfSYN:
			return Established
		case evRecvSYN, evSendSYNACK: // simultaneous open
			return SynReceived
		}
	case SynReceived:
		switch ev {
		case evRecvACKOfSYN, evRecvSYNACK, evSendACKOfSYN:
			return Established
		case evSendFIN:
			return FinWait1
		case evRecvFIN, evSendACKOfFIN:
			return CloseWait
		}
	case Established:
		switch ev {
		case evSendFIN:
			return FinWait1
		case evRecvFIN, evSendACKOfFIN:
			return CloseWait
		}
	case FinWait1:
		switch ev {
		case evRecvACKOfFIN:
			return FinWait2
		case evRecvFIN, evSendACKOfFIN:
			return Closing
		}
	case FinWait2:
		if ev == evRecvFIN || ev == evSendACKOfFIN {
			return TimeWait
		}
	case CloseWait:
		if ev == evSendFIN {
			return LastAck
		}
	case Closing:
		if ev == evRecvACKOfFIN {
			return TimeWait
		}
	case LastAck:
		if ev == evRecvACKOfFIN {
			return Closed
		}
	}
	return s
}

// logCap bounds the events kept for revision; older ones become permanent.
const logCap = 8

// entry is an event that still matters for revision. Every event in the
// log changed the state, so it has a transition in the history, whose time
// is the event's.
type entry struct {
	hist    int32 // index in the machine's history of the transition it caused
	ev      event
	certain bool
}

// replay recomputes the state of e from its base through its log. When the
// log enters TIME_WAIT, timed is true and since is when it last did.
func (m *Machine) replay(e *Endpoint) (s State, since int64, timed bool) {
	s = e.base
	for i := range int(e.n) {
		n := next(s, e.log[i].ev, e.Passive)
		if n != s && n == TimeWait {
			since, timed = m.hist(int(e.log[i].hist)).at, true
		}
		s = n
	}
	return s, since, timed
}

// fold makes the oldest events permanent while they are certain.
func (e *Endpoint) fold() {
	k := uint8(0)
	for k < e.n && e.log[k].certain {
		e.base = next(e.base, e.log[k].ev, e.Passive)
		k++
	}
	if k > 0 {
		copy(e.log[:], e.log[k:e.n])
		e.n -= k
	}
}

// push appends an event to the log, making the oldest permanent if full.
func (e *Endpoint) push(en entry) {
	if e.n == logCap {
		e.base = next(e.base, e.log[0].ev, e.Passive)
		copy(e.log[:], e.log[1:])
		e.n--
	}
	e.log[e.n] = en
	e.n++
}

// find returns the index of the newest inferred event ev, or -1.
func (e *Endpoint) find(ev event) int {
	for i := int(e.n) - 1; i >= 0; i-- {
		if l := &e.log[i]; l.ev == ev && !l.certain {
			return i
		}
	}
	return -1
}
