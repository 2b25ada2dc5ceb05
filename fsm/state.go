package fsm

// State is the RFC 9293 state of one TCP endpoint.
type State uint8

// The RFC 9293 states (section 3.3.2).
const (
	Closed State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
	numStates
)

var stateNames = [numStates]string{
	Closed:      "CLOSED",
	Listen:      "LISTEN",
	SynSent:     "SYN_SENT",
	SynReceived: "SYN_RECEIVED",
	Established: "ESTABLISHED",
	FinWait1:    "FIN_WAIT_1",
	FinWait2:    "FIN_WAIT_2",
	CloseWait:   "CLOSE_WAIT",
	Closing:     "CLOSING",
	LastAck:     "LAST_ACK",
	TimeWait:    "TIME_WAIT",
}

// String returns the RFC 9293 name with underscores, such as "SYN_SENT".
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "STATE_INVALID"
}

// ParseState is the inverse of String.
func ParseState(name string) (State, bool) {
	for s, n := range stateNames {
		if n == name {
			return State(s), true
		}
	}
	return Closed, false
}

// States returns every state in RFC order, CLOSED first.
func States() []State {
	s := make([]State, numStates)
	for i := range s {
		s[i] = State(i)
	}
	return s
}

// Synchronized reports whether the handshake is complete from this
// endpoint's point of view (RFC 9293 section 3.5: ESTABLISHED and every
// state after it).
func (s State) Synchronized() bool { return s >= Established && s < numStates }

// Closing reports whether the endpoint has sent or received a FIN.
func (s State) Closing() bool { return s > Established && s < numStates }

// Handshake reports whether the endpoint is in the middle of opening.
func (s State) Handshake() bool { return s == SynSent || s == SynReceived }

// Socket reports whether a kernel would list an endpoint in this state as a
// connection socket (netstat and ss show no CLOSED sockets, and an endpoint
// still in LISTEN is part of its listener, not a connection of its own).
func (s State) Socket() bool { return s != Closed && s != Listen && s < numStates }
