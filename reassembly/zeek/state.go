package zeek

// EndpointState is Zeek's coarse state of one endpoint (TCP_INACTIVE ...
// TCP_RESET in Zeek's scripts; EndpointState in its TCP_Endpoint.h). It is
// not an RFC 9293 state: it records what the endpoint has been seen to send.
type EndpointState uint8

// The endpoint states, in Zeek's order.
const (
	Inactive    EndpointState = iota // nothing seen from this side
	SynSent                          // a SYN seen, no SYN-ACK
	SynAckSent                       // a SYN-ACK seen from the originator (no initial SYN)
	Partial                          // data or ACKs seen, but no SYN
	Established                      // the SYN-ACK was seen (or implied)
	Closed                           // a FIN seen
	Reset                            // a RST seen
)

var endpointStateNames = [...]string{
	Inactive:    "TCP_INACTIVE",
	SynSent:     "TCP_SYN_SENT",
	SynAckSent:  "TCP_SYN_ACK_SENT",
	Partial:     "TCP_PARTIAL",
	Established: "TCP_ESTABLISHED",
	Closed:      "TCP_CLOSED",
	Reset:       "TCP_RESET",
}

// String names the state the way Zeek's scripts do (TCP_SYN_SENT, ...).
func (s EndpointState) String() string {
	if int(s) < len(endpointStateNames) {
		return endpointStateNames[s]
	}
	return "TCP_UNKNOWN"
}

// States lists every conn_state code Zeek logs for TCP, in the order of the
// conn.log documentation.
var States = [...]string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}

// connState is the conn_state function of Zeek's
// scripts/base/protocols/conn/main.zeek for TCP, applied to the two
// endpoints' states, their sizes and the history.
func connState(os, rs EndpointState, origSize, respSize uint64, h *history) string {
	oInactive := os == Inactive || os == Partial
	rInactive := rs == Inactive || rs == Partial
	switch {
	case rs == Reset:
		// A RST answer to an attempt (or two RSTs and nothing else) is a
		// rejection.
		if os == SynSent || os == SynAckSent || (os == Reset && origSize == 0 && respSize == 0) {
			return "REJ"
		}
		if oInactive {
			return "RSTRH"
		}
		return "RSTR"
	case os == Reset:
		if rInactive {
			// Current Zeek calls it RSTOS0 only when the history shows
			// the originator's SYN and then its RST with no handshake,
			// ACK, FIN, gap or odd flags of its own in between (older
			// versions did not look at the history).
			if h.rstos0() {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == Closed && os == Closed:
		// Both FINs seen; the last ACK is not needed.
		return "SF"
	case os == Closed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == Closed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == SynSent && rs == Inactive:
		return "S0"
	case os == Established && rs == Established:
		return "S1"
	}
	return "OTH"
}
