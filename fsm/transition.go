package fsm

import "time"

// Role says which end of a connection an endpoint is.
type Role uint8

const (
	Client Role = iota // the endpoint that sent the first SYN (active open)
	Server             // the endpoint that answered it (passive open)
)

// Peer returns the other role.
func (r Role) Peer() Role { return 1 - r }

func (r Role) String() string {
	if r == Client {
		return "client"
	}
	return "server"
}

// Cause is why an endpoint changed state.
type Cause uint8

// The causes of transitions. Each names the segment or timer that moved the
// endpoint; RFC returns the section of RFC 9293 whose rule applies.
const (
	CauseNone              Cause = iota
	CauseSentSYN                 // the endpoint sent a SYN: active open
	CauseRecvSYN                 // a SYN arrived
	CauseSentSYNACK              // the endpoint answered a SYN with SYN-ACK
	CauseRecvSYNACK              // a SYN-ACK acknowledging its SYN arrived
	CauseSentACKOfSYN            // the endpoint acknowledged the peer's SYN without a SYN of its own: it is synchronized
	CauseRecvACKOfSYN            // an ACK of its SYN arrived
	CauseSentFIN                 // the endpoint sent a FIN: close
	CauseRecvFIN                 // the peer's FIN arrived
	CauseSentACKOfFIN            // the endpoint acknowledged the peer's FIN, so the FIN arrived
	CauseRecvACKOfFIN            // an ACK of its FIN arrived
	CauseSentRST                 // the endpoint sent a RST: abort
	CauseRecvRST                 // an acceptable RST arrived
	CauseRefused                 // the endpoint answered a SYN with RST: nothing listened on the port
	CauseTimeWaitExpired         // 2·MSL passed in TIME_WAIT
	CauseHandshakeTimeout        // no progress in the handshake for longer than a kernel keeps trying
	CausePickup                  // the capture began after the handshake: state assumed from the first segment
	CauseSYNImplied              // the SYN was not captured, but the peer's SYN-ACK acknowledges it
	CausePortReuse               // a new SYN on the same ports ended TIME_WAIT (the kernel's TIME_WAIT reuse)
	CauseLostSYN                 // revision: the SYN was retransmitted unacknowledged, so the receiver never got it
	CauseLostSYNACK              // revision: the SYN-ACK never arrived (the client retransmitted its SYN)
	CauseLostACKOfSYN            // revision: the ACK of the SYN never arrived (the SYN-ACK was retransmitted)
	CauseLostFIN                 // revision: the FIN was retransmitted unacknowledged, so the receiver never got it
	CauseLostACKOfFIN            // revision: the ACK of the FIN never arrived (the FIN was retransmitted)
	CauseFINNotYetReceived       // revision: the endpoint's own FIN does not acknowledge the peer's FIN, so that FIN had not arrived yet
	CauseActiveOpen              // revision: the endpoint sent a SYN of its own, so it was not listening (simultaneous open)
	CauseLostRST                 // revision: the endpoint retransmitted after the peer's RST, so the RST never arrived
	numCauses
)

var causeText = [numCauses]struct{ text, rfc string }{
	CauseNone:              {"", ""},
	CauseSentSYN:           {"sent SYN (active open)", "3.10.1"},
	CauseRecvSYN:           {"received SYN", "3.10.7.2"},
	CauseSentSYNACK:        {"sent SYN-ACK", "3.10.7.2"},
	CauseRecvSYNACK:        {"received SYN-ACK", "3.10.7.3"},
	CauseSentACKOfSYN:      {"sent ACK of peer's SYN", "3.10.7.3"},
	CauseRecvACKOfSYN:      {"received ACK of its SYN", "3.10.7.4"},
	CauseSentFIN:           {"sent FIN (close)", "3.10.4"},
	CauseRecvFIN:           {"received FIN", "3.10.7.4"},
	CauseSentACKOfFIN:      {"acknowledged peer's FIN", "3.10.7.4"},
	CauseRecvACKOfFIN:      {"received ACK of its FIN", "3.10.7.4"},
	CauseSentRST:           {"sent RST (abort)", "3.10.5"},
	CauseRecvRST:           {"received RST", "3.10.7.4"},
	CauseRefused:           {"answered SYN with RST: connection refused", "3.10.7.1"},
	CauseTimeWaitExpired:   {"2·MSL timer expired", "3.10.8"},
	CauseHandshakeTimeout:  {"handshake timed out", "3.10.8"},
	CausePickup:            {"capture began mid-connection", "3.5"},
	CauseSYNImplied:        {"SYN not captured, implied by the SYN-ACK", "3.5"},
	CausePortReuse:         {"new SYN on the same ports ended TIME_WAIT", "3.10.7.4"},
	CauseLostSYN:           {"revised: SYN retransmitted unacknowledged, never received", "3.8.1"},
	CauseLostSYNACK:        {"revised: SYN-ACK never received (SYN retransmitted)", "3.8.1"},
	CauseLostACKOfSYN:      {"revised: ACK of SYN never received (SYN-ACK retransmitted)", "3.8.1"},
	CauseLostFIN:           {"revised: FIN retransmitted unacknowledged, never received", "3.8.1"},
	CauseLostACKOfFIN:      {"revised: ACK of FIN never received (FIN retransmitted)", "3.8.1"},
	CauseFINNotYetReceived: {"revised: its own FIN does not acknowledge the peer's, which had not arrived", "3.6"},
	CauseActiveOpen:        {"revised: sent a SYN of its own, so it was not listening (simultaneous open)", "3.5"},
	CauseLostRST:           {"revised: retransmitted after the RST, which never arrived", "3.8.1"},
}

// String describes the cause in words.
func (c Cause) String() string {
	if c < numCauses {
		return causeText[c].text
	}
	return "unknown cause"
}

// RFC returns the section of RFC 9293 whose rule the transition follows.
func (c Cause) RFC() string {
	if c < numCauses {
		return causeText[c].rfc
	}
	return ""
}

// Anomaly is a set of surprising things about a segment. Anomalies never
// stop the analysis; they are recorded.
type Anomaly uint32

// The anomalies.
const (
	RSTOutOfWindow    Anomaly = 1 << iota // RST outside the receiver's window: ignored (RFC 5961 section 3.2)
	RSTChallenged                         // RST in the window but not at RCV.NXT: the receiver answers with a challenge ACK instead of resetting (RFC 5961 section 3.2)
	RSTIgnored                            // RST the receiver's state ignores (LISTEN, or a SYN_SENT RST not acknowledging the SYN)
	AckUnseenData                         // acknowledges data the capture never saw sent
	SegmentAfterClose                     // a non-RST segment from an endpoint that is CLOSED
	SYNInSynchronized                     // a SYN in a synchronized state: challenge ACK (RFC 5961 section 4)
	NewISN                                // a SYN with a different ISN on an open connection
	SYNACKBadAck                          // a SYN-ACK acknowledging something other than the SYN
	FINAfterGap                           // a FIN beyond data the capture never saw
	DataAfterFIN                          // new data sequenced after the sender's own FIN
	numAnomalies      = iota
)

var anomalyNames = [numAnomalies]string{
	"RST out of window, ignored",
	"RST in window but not at RCV.NXT, challenge ACK expected",
	"RST ignored in this state",
	"ACK of unseen data",
	"segment after close",
	"SYN on a synchronized connection, challenge ACK expected",
	"SYN with a new ISN on an open connection",
	"SYN-ACK acknowledges an unexpected sequence number",
	"FIN after a gap in the data",
	"data after FIN",
}

// Names returns the description of every anomaly in a.
func (a Anomaly) Names() []string {
	var n []string
	for i := range numAnomalies {
		if a&(1<<i) != 0 {
			n = append(n, anomalyNames[i])
		}
	}
	return n
}

// Transition is one change of one endpoint's state.
type Transition struct {
	// Time is the capture time of the packet or timer that caused it, in
	// UTC.
	Time   time.Time
	Packet uint64 // the packet that caused it (0 for a timer)
	Role   Role
	From   State
	To     State
	Cause  Cause
	// Certain is true when the endpoint's own segments (or the clock) prove
	// the transition: the segment that caused it, or later ones (an ACK of
	// the FIN proves the FIN arrived). False while it is only inferred from
	// a segment the endpoint was sent and may not have received.
	Certain bool
	// Revision is true when this transition undoes earlier inferred ones:
	// later packets proved a segment never arrived.
	Revision bool
	// Revised is set on an inferred transition that a later Revision undid.
	Revised bool
}

// transition is how a Machine stores a Transition: its time in the
// machine's nanoseconds, without pointers, in 24 bytes instead of 40.
type transition struct {
	at                         int64
	pkt                        uint64
	role                       Role
	from, to                   State
	cause                      Cause
	certain, revision, revised bool
}
