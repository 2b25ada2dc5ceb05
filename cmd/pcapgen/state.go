package main

import "github.com/tcpstate/tcpstate/fsm"

// state is an RFC 9293 state: the analyzer's own type, so that the names
// this program writes are the ones tcpstate prints.
type state = fsm.State

const (
	closed      = fsm.Closed
	listen      = fsm.Listen
	synSent     = fsm.SynSent
	synReceived = fsm.SynReceived
	established = fsm.Established
	finWait1    = fsm.FinWait1
	finWait2    = fsm.FinWait2
	closeWait   = fsm.CloseWait
	closing     = fsm.Closing
	lastAck     = fsm.LastAck
	timeWait    = fsm.TimeWait
)

// numStates sizes arrays indexed by state.
const numStates = int(fsm.TimeWait) + 1

// pair is the states of a connection's client and server.
type pair struct{ client, server state }

func (p pair) String() string { return p.client.String() + "/" + p.server.String() }

// kind is how a normal connection ends; it decides its final states.
type kind uint8

const (
	clientClose kind = iota // the client closes first: client TIME_WAIT
	serverClose             // the server closes first: server TIME_WAIT
	halfClose               // the client shuts down its side after the request; the response follows its FIN
	clientReset             // the client aborts with RST
	serverReset             // the server aborts with RST
	refused                 // the SYN is answered by RST-ACK
	numKinds
)

// kindInfo describes a kind: its name, its share of the connections (per
// mille), the states an analyzer must end with right after its last
// segment (before any timer runs) and the ending tcpstate prints.
type kindInfo struct {
	name   string
	weight int
	final  pair
	ending string
}

var kinds = [numKinds]kindInfo{
	clientClose: {"client-close", 560, pair{timeWait, closed}, "closed by client"},
	serverClose: {"server-close", 250, pair{closed, timeWait}, "closed by server"},
	halfClose:   {"half-close", 50, pair{timeWait, closed}, "closed by client"},
	clientReset: {"client-reset", 40, pair{closed, closed}, "reset by client"},
	serverReset: {"server-reset", 40, pair{closed, closed}, "reset by server"},
	refused:     {"refused", 60, pair{closed, closed}, "refused"},
}

func (k kind) String() string { return kinds[k].name }

// Flood connections (one spoofed SYN, maybe answered) end half-open.
var (
	floodInfo = kindInfo{name: "flood", final: pair{synSent, synReceived}, ending: "handshake incomplete"}
	// after the analyzer gives up on the handshake (2 min without a segment)
	floodGivenUp = pair{closed, listen}
)

// feature is something a normal connection does besides its kind.
type feature uint16

const (
	featIPv6      feature = 1 << iota // over IPv6
	featVLAN                          // its frames carry an 802.1Q tag
	featSYNRetx                       // its first SYN goes unanswered and is sent again after 1 s
	featLoss                          // a data segment is lost after the capture point and retransmitted
	featReorder                       // two request segments reach the capture point out of order
	featKeepAlive                     // it idles and exchanges keep-alive probes
	featPortReuse                     // it reuses the 4-tuple of a connection that ended > 60 s earlier
	numFeatures   = iota
)

var featureNames = [numFeatures]string{"ipv6", "vlan", "syn_retransmit", "data_loss", "out_of_order",
	"keepalive", "port_reuse"}
