package reassembly

import (
	"net/netip"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
	"github.com/tcpstate/tcpstate/reassembly/zeek"
)

// RoleReason says how the table decided which end is the client.
type RoleReason uint8

const (
	RoleBySYN    RoleReason = iota // the client sent the first SYN
	RoleBySYNACK                   // the SYN was not seen; the server sent the SYN-ACK
	RoleByPort                     // no handshake seen: the well-known or lower port is taken as the server (a guess)
)

func (r RoleReason) String() string {
	switch r {
	case RoleBySYN:
		return "first SYN"
	case RoleBySYNACK:
		return "SYN-ACK sender is the server"
	}
	return "guessed: lower port is the server"
}

// Guessed reports whether the roles were guessed without a SYN or SYN-ACK.
func (r RoleReason) Guessed() bool { return r == RoleByPort }

// Dir counts one direction of a connection.
type Dir struct {
	Packets         uint64
	Bytes           uint64 // TCP payload bytes
	IPBytes         uint64 // IP packet bytes, headers included
	Retransmissions uint64
	KeepAlives      uint64
}

// Conn is one connection: one use of a 4-tuple from its first segment to
// its end. Connections come from a Table: the state of one (Machine, Dir,
// FlagCounts, Wireshark, Zeek) lives in a body the table gives it, so a
// zero Conn has none.
type Conn struct {
	ID             uint64 // 1-based, in the order connections were first seen
	Client, Server netip.AddrPort
	First, Last    time.Time
	FirstPacket    uint64
	Anomalies      fsm.Anomaly
	Roles          RoleReason
	// FirstFromClient is true when the client sent the first segment seen.
	FirstFromClient bool
	// Flags are Wireshark's analysis flags of the latest segment, and
	// DupAck its duplicate-ACK number (tcp.analysis.duplicate_ack_num).
	Flags  wireshark.Flags
	DupAck uint32

	wsFirstFromClient bool
	class             class
	listened          bool
	timedOut          bool // its handshake was given up
	evicted           bool // it was evicted idle
	full              bool // it was evicted to make room in a full table
	replaced          bool // a new connection took its 4-tuple
	emitted           int  // transitions already handed to Config.Transition
	prev, next        *Conn

	// order is where Sharded would put it in one table's timer lists.
	order stamp

	// The connection's state: the machines, counters and analyses. Its
	// fields (Machine, Dir, FlagCounts, Wireshark, Zeek) read as the
	// Conn's own. With Config.Compact, the table keeps a connection whose
	// both ends are done in image, packed, and body is nil until the table
	// needs it again (see compact.go).
	*body
	image []byte
	// swept is set once the sweep for Compact has seen the connection
	// where it is filed now.
	swept bool
	// While the connection is packed, tw is how many of its ends are in
	// TIME_WAIT and after the class its TIME_WAIT timers running out leave
	// it in (see sleep), so that a timer can end them without unpacking
	// it: owed is then set, and the next wake runs the timers (see
	// expireTimeWait). tw is 0 when that cannot be done.
	tw    uint8
	after class
	owed  bool
	// xor is set when the image was packed against the table's template
	// (see learner), not before the table had one.
	xor bool
	// timer is, while the connection is packed, when the TIME_WAIT of one
	// of its ends runs out, in Unix nanoseconds (0: none is in TIME_WAIT):
	// Settle leaves it packed before then.
	timer int64
}

// body is what a connection knows besides its identity: about 1.6 KiB of
// plain values (its only pointer is the Machine's overflow history, its
// first word, nil for an ordinary connection), which Config.Compact packs
// into about a third of that.
type body struct {
	Machine fsm.Machine

	// Dir counts segments by sender: Dir[fsm.Client] is client to server.
	Dir [2]Dir
	// FlagCounts counts the connection's segments by analysis flag.
	FlagCounts wireshark.Counts
	// Wireshark is the conversation as Wireshark's TCP analysis sees it.
	// Wireshark keeps one conversation per 4-tuple, so a connection that
	// reuses one carries on its predecessor's. Its endpoint 0 is the first
	// sender on the 4-tuple (the client when wsFirstFromClient).
	Wireshark wireshark.Conn
	// Zeek is the connection as Zeek's TCP analyzer sees it: conn_state,
	// history and conn.log's counters. Its originator is the sender of the
	// first segment (FirstFromClient says which end that was) unless
	// Zeek's rules flip the roles.
	Zeek zeek.Conn
}

// IPv6 reports whether the connection is over IPv6.
func (c *Conn) IPv6() bool { return c.Client.Addr().Is6() && !c.Client.Addr().Is4In6() }

// Evicted reports whether the connection left the table before it was
// done, idle or to make room in a full table: its state is unknown after
// that.
func (c *Conn) Evicted() bool { return c.evicted || (c.full && !c.Machine.Finished()) }

// Ending says in words how the connection ended, or that it had not.
func (c *Conn) Ending() string {
	m := &c.Machine
	if m.Refused() {
		return "refused"
	}
	rst, reset := m.First(fsm.CauseSentRST)
	fin, closed := m.First(fsm.CauseSentFIN)
	cs, ss := m.State(fsm.Client), m.State(fsm.Server)
	switch {
	case reset:
		return byRole(rst.Role, "reset by client", "reset by server")
	case c.full && !m.Finished():
		return "evicted from a full table in " + cs.String() + "/" + ss.String()
	case c.timedOut:
		for i := range m.HistoryLen() {
			if tr := m.HistoryAt(i); tr.Cause == fsm.CauseHandshakeTimeout {
				return "timed out in " + tr.From.String()
			}
		}
		return "timed out"
	case c.replaced && !closed:
		return "replaced by a new connection"
	case closed:
		done := (cs == fsm.Closed || cs == fsm.TimeWait) && (ss == fsm.Closed || ss == fsm.TimeWait)
		if done || c.replaced {
			return byRole(fin.Role, "closed by client", "closed by server")
		}
		if c.evicted {
			return "evicted idle while closing"
		}
		return byRole(fin.Role, "closing, client closed first", "closing, server closed first")
	case c.evicted:
		return "evicted idle"
	case cs == fsm.SynSent || ss == fsm.SynReceived:
		return "handshake incomplete"
	case cs == fsm.Closed && (ss == fsm.Closed || ss == fsm.Listen):
		return "closed"
	}
	return "still open"
}

// byRole returns client's words or server's by r (words made once, not
// for every row of a large capture).
func byRole(r fsm.Role, client, server string) string {
	if r == fsm.Client {
		return client
	}
	return server
}

// class is the timer a connection waits for.
type class uint8

const (
	classIdle      class = iota // evicted after IdleTimeout
	classHandshake              // given up after HandshakeTimeout
	classTimeWait               // an endpoint in TIME_WAIT: closes after 2·MSL
	classDone                   // both ends closed: leaves after 2·MSL of late segments
	numClasses
)

func classOf(m *fsm.Machine) class {
	cs, ss := m.State(fsm.Client), m.State(fsm.Server)
	switch {
	case cs == fsm.TimeWait || ss == fsm.TimeWait:
		return classTimeWait
	case m.Finished():
		return classDone
	case cs.Handshake() || ss.Handshake():
		return classHandshake
	}
	return classIdle
}

// list is an intrusive doubly linked list of connections, oldest first.
type list struct{ head, tail *Conn }

func (l *list) push(c *Conn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *list) unlink(c *Conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if l.head == c {
		l.head = c.next
	} else {
		return // not in this list
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}
