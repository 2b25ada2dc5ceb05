package reassembly

import (
	"net/netip"
	"time"
	"unsafe"

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
//
// A table holds one for every connection it keeps, so it is kept to 192
// bytes, three cache lines, all of which a segment reads: the times as
// seconds and nanoseconds (First and Last make them times again), the
// image as a pointer, a length and a class (see TestConnSize).
type Conn struct {
	ID             uint64 // 1-based, in the order connections were first seen
	Client, Server netip.AddrPort
	// The times of the first and the latest segment, Unix seconds and
	// nanoseconds (see First and Last).
	firstSec, lastSec   int64
	firstNsec, lastNsec int32
	FirstPacket         uint64
	Anomalies           fsm.Anomaly
	// Flags are Wireshark's analysis flags of the latest segment, and
	// DupAck its duplicate-ACK number (tcp.analysis.duplicate_ack_num).
	Flags   wireshark.Flags
	DupAck  uint32
	emitted int32 // transitions already handed to Config.Transition
	Roles   RoleReason
	// FirstFromClient is true when the client sent the first segment seen.
	FirstFromClient bool

	wsFirstFromClient bool
	class             class
	listened          bool
	timedOut          bool // its handshake was given up
	evicted           bool // it was evicted idle
	full              bool // it was evicted to make room in a full table
	replaced          bool // a new connection took its 4-tuple
	// swept is set once the sweep for Compact has seen the connection
	// where it is filed now.
	swept bool
	// While the connection is packed, expiry says how many of its ends are
	// in TIME_WAIT and the class their TIME_WAIT timers running out leave
	// it in (tw and after; see sleep), so that a timer can end them
	// without unpacking it: owed is then set, and the next wake runs the
	// timers (see expireTimeWait). tw is 0 when that cannot be done.
	expiry uint8
	owed   bool
	// xor is set when the image was packed against the table's template
	// (see learner), not before the table had one.
	xor bool
	// The image (see image): its capacity in imageSteps, and its length.
	imageSteps uint8
	imageLen   uint16

	prev, next *Conn

	// order is where Sharded would put it in one table's timer lists.
	order stamp

	// The connection's state: the machines, counters and analyses. Its
	// fields (Machine, Dir, FlagCounts, Wireshark, Zeek) read as the
	// Conn's own. With Config.Compact, the table keeps a connection whose
	// both ends are done in its image, packed, and body is nil until the
	// table needs it again (see compact.go).
	*body
	imageData *byte
	// timer is, while the connection is packed, when the TIME_WAIT of one
	// of its ends runs out, in Unix nanoseconds (0: none is in TIME_WAIT):
	// Settle leaves it packed before then.
	timer int64
}

// tw is how many of c's ends expiry says are in TIME_WAIT (at most 2).
func (c *Conn) tw() uint8 { return c.expiry & 3 }

// after is the class expiry says c's TIME_WAIT timers leave it in.
func (c *Conn) after() class { return class(c.expiry >> 2) }

// setExpiry sets expiry to tw ends and the class after.
func (c *Conn) setExpiry(tw uint8, after class) { c.expiry = tw&3 | uint8(after)<<2 }

// First returns the time of the connection's first segment, in UTC.
func (c *Conn) First() time.Time { return time.Unix(c.firstSec, int64(c.firstNsec)).UTC() }

// Last returns the time of the connection's latest segment, in UTC.
func (c *Conn) Last() time.Time { return time.Unix(c.lastSec, int64(c.lastNsec)).UTC() }

// setFirst sets both times to t: the connection's first segment.
func (c *Conn) setFirst(t time.Time) {
	c.firstSec, c.firstNsec = t.Unix(), int32(t.Nanosecond())
	c.lastSec, c.lastNsec = c.firstSec, c.firstNsec
}

// seen makes t the latest time if it is later.
func (c *Conn) seen(t time.Time) {
	if sec, nsec := t.Unix(), int32(t.Nanosecond()); sec > c.lastSec || sec == c.lastSec && nsec > c.lastNsec {
		c.lastSec, c.lastNsec = sec, nsec
	}
}

// image returns the connection's image, of length imageLen and capacity
// imageSteps times imageStep (nil if it has none).
func (c *Conn) image() []byte {
	if c.imageData == nil {
		return nil
	}
	return unsafe.Slice(c.imageData, int(c.imageSteps)*imageStep)[:c.imageLen]
}

// setImage makes img the connection's image: an image from imagePool, whose
// capacity is a whole number of imageSteps, or nil.
func (c *Conn) setImage(img []byte) {
	c.imageData, c.imageLen, c.imageSteps = unsafe.SliceData(img), uint16(len(img)), uint8(cap(img)/imageStep)
	if cap(img) == 0 {
		c.imageData = nil
	}
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
