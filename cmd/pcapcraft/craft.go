package main

// The crafting helpers: a capture file under construction, connections with a
// client and a server endpoint that track their own sequence numbers, and a
// tiny RFC 9293 simulation of both endpoints, so that every scenario can
// check the final states written in its README entry against what its
// segments actually did.

import (
	"fmt"
	"github.com/tcpstate/tcpstate/fsm"
	"hash/fnv"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// epoch is t=0 of every capture.
var epoch = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// twoMSL is how long TIME_WAIT lasts (Linux: 60 s).
const twoMSL = 60 * time.Second

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

// Wrap-safe sequence comparisons (RFC 1982 style).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// rng is splitmix64: tiny, and its output is fixed forever (unlike a
// library generator whose algorithm could change).
type rng struct{ s uint64 }

func newRNG(seed string) *rng {
	h := fnv.New64a()
	h.Write([]byte(seed))
	return &rng{h.Sum64()}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) u32() uint32           { return uint32(r.next() >> 32) }
func (r *rng) intn(n int) int        { return int(r.next() % uint64(n)) }
func (r *rng) u16() uint16           { return uint16(r.next() >> 48) }
func mac(last byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, last} }

// linkKind says how a connection's packets are framed.
type linkKind int

const (
	linkEthernet linkKind = iota
	linkDot1Q             // Ethernet + one 802.1Q tag
	linkQinQ              // Ethernet + 802.1ad S-tag (0x88a8) + 802.1Q C-tag
	linkRaw               // bare IPv4/IPv6 (LINKTYPE_RAW)
	linkNull              // BSD loopback: 4-byte host-order (little-endian) address family
)

// file is one capture under construction.
type file struct {
	name     string
	linkType layers.LinkType
	ng       bool   // write pcapng instead of pcap
	about    string // markdown: what the capture shows
	rng      *rng
	conns    []*conn
	pkts     []*packet // captured packets in creation order; sorted by time when written
}

func newFile(name string) *file {
	return &file{
		name:     name,
		linkType: layers.LinkTypeEthernet,
		ng:       strings.HasSuffix(name, ".pcapng"),
		rng:      newRNG(name),
	}
}

// endpoint is one side of a connection, with its send/receive sequence
// variables (SND.NXT, RCV.NXT) and its simulated RFC 9293 state.
type endpoint struct {
	role    string // "client" or "server"
	mac     net.HardwareAddr
	ap      netip.AddrPort
	isn     uint32
	sndNxt  uint32 // next sequence number to send
	rcvNxt  uint32 // next sequence number expected from the peer
	synRcvd bool   // rcvNxt is known (the peer's SYN arrived)
	finSent bool
	finSeq  uint32 // sequence number of our FIN

	state    state
	twSince  time.Duration // when TIME_WAIT was (re)entered
	tsOff    uint32        // this endpoint's TSval clock offset
	tsRecent uint32        // last TSval received, echoed as TSecr
	mss      uint16
	wscale   uint8
	synWin   uint16 // window on SYN / SYN-ACK (never scaled)
	win      uint16 // window field on later segments (scaled by the peer)
	ttl      uint8
	ipID     uint16
	flow     uint32 // IPv6 flow label
	bare     bool   // its SYN carries no options at all (flood tools)
	text     string // payload filler; byte k of the stream is text[k%len]
}

// bytesAt returns n payload bytes starting at sequence number seq of this
// endpoint's stream, so retransmissions and probes repeat the same bytes.
func (e *endpoint) bytesAt(seq uint32, n int) []byte {
	if n == 0 {
		return nil
	}
	off := seq - (e.isn + 1)
	b := make([]byte, n)
	for i := range b {
		b[i] = e.text[int((off+uint32(i))%uint32(len(e.text)))]
	}
	return b
}

func (e *endpoint) setState(s state, now time.Duration) {
	e.state = s
	if s == timeWait {
		e.twSince = now
	}
}

// conn is one TCP connection (one 4-tuple, one incarnation).
type conn struct {
	f              *file
	label          string
	group          string // connections of one group are summarised as one README row
	groupClients   string // the group's clients, for that row
	client, server *endpoint
	link           linkKind
	vlan, svlan    uint16
	ts             bool          // TCP timestamps negotiated (TS option on every segment)
	halfRTT        time.Duration // gap between a segment and the other side's answer
	serverTurn     time.Duration // if set, the gap before the server answers (capture at the server)
	now            time.Duration // this connection's clock, from the capture epoch
	fixed          bool          // the next segment goes out exactly at now (set by wait/at)
	last           *endpoint     // sender of the previous segment
	hidden         bool          // segments are sent but not captured
	lastPkt        *packet
	segs           []*seg

	expClient, expServer state
	expWhy               noteText
	hasExp               bool
	finalClient          state
	finalServer          state
	isnNote              [2]string // README remark on a not-captured ISN
}

// conn adds a connection between client and server ("addr:port"); the
// client endpoint starts CLOSED, the server LISTEN.
func (f *file) conn(label, client, server string) *conn {
	c := &conn{f: f, label: label, ts: true, halfRTT: 2 * time.Millisecond}
	if f.linkType == layers.LinkTypeRaw {
		c.link = linkRaw
	} else if f.linkType == layers.LinkTypeNull {
		c.link = linkNull
	}
	c.client = f.endpoint("client", client, 1, closed)
	c.server = f.endpoint("server", server, 2, listen)
	c.client.synWin, c.client.win, c.client.text = 64240, 502, clientText
	c.server.synWin, c.server.win, c.server.text = 65160, 509, serverText
	c.server.ttl = 57 // the capture is taken near the client
	f.conns = append(f.conns, c)
	return c
}

func (f *file) endpoint(role, ap string, macByte byte, st state) *endpoint {
	e := &endpoint{
		role:   role,
		mac:    mac(macByte),
		ap:     netip.MustParseAddrPort(ap),
		state:  st,
		tsOff:  f.rng.u32(),
		mss:    1460,
		wscale: 7,
		ttl:    64,
		ipID:   f.rng.u16(),
		flow:   f.rng.u32() & 0xfffff,
	}
	if e.ap.Addr().Is6() {
		e.mss = 1440
	}
	e.isn = f.rng.u32()
	e.sndNxt = e.isn
	return e
}

// isns sets both initial sequence numbers.
func (c *conn) isns(client, server uint32) *conn {
	c.client.isn, c.client.sndNxt = client, client
	c.server.isn, c.server.sndNxt = server, server
	return c
}

func (c *conn) peer(e *endpoint) *endpoint {
	if e == c.client {
		return c.server
	}
	return c.client
}

// wait makes the next segment leave d after the previous one (instead of
// the automatic gap).
func (c *conn) wait(d time.Duration) {
	c.now += d
	c.fixed = true
}

// at makes the next segment leave at time t of the capture.
func (c *conn) at(t time.Duration) {
	c.now = t
	c.fixed = true
}

// uncaptured runs steps whose segments happen but are not in the capture.
func (c *conn) uncaptured(steps func()) {
	c.hidden = true
	steps()
	c.hidden = false
}

// expect records the final states the README promises, and why; finish
// checks them against the simulation. Arguments are as for seg.note.
func (c *conn) expect(client, server state, why string, args ...any) {
	c.expClient, c.expServer, c.hasExp = client, server, true
	c.expWhy = noteText{why, args}
}

// jitter returns base ± pct% (deterministic), rounded to the microsecond.
func (c *conn) jitter(base time.Duration, pct int) time.Duration {
	d := base + base*time.Duration(c.f.rng.intn(2*pct+1)-pct)/100
	return d.Round(time.Microsecond)
}

func (c *conn) tick(from *endpoint) {
	switch {
	case c.fixed:
		c.fixed = false
	case c.last == nil:
	case from == c.last:
		c.now += c.jitter(30*time.Microsecond, 50) // back to back
	case from == c.server && c.serverTurn != 0:
		c.now += c.jitter(c.serverTurn, 10)
	default:
		c.now += c.jitter(c.halfRTT, 10) // the other side's answer
	}
	c.now = c.now.Round(time.Microsecond)
	c.last = from
}

// seg is one TCP segment.
type seg struct {
	c                       *conn
	from, to                *endpoint
	syn, ack, fin, rst, psh bool
	seq, ackNo              uint32
	win                     uint16
	payload                 []byte
	tsval, tsecr            uint32
	opts                    []layers.TCPOption
	extra                   []layers.TCPOption // appended after the standard options (TFO cookie)
	ttl                     uint8
	spoofed                 bool // sent by a third party in the name of from
	hasTS                   bool // carries the timestamps option
	rtxOf                   *seg // the segment this one retransmits (noted in the README)
	at                      time.Duration
	pkt                     *packet // nil when not captured
}

func (s *seg) len() int { return len(s.payload) }

// end is the sequence number after the segment (SYN and FIN count one).
func (s *seg) end() uint32 {
	return s.seq + uint32(len(s.payload)) + b2u(s.syn) + b2u(s.fin)
}

// note attaches a README remark to the segment's packet. Arguments that are
// *seg print as their packet numbers, arguments of type tm as seconds since
// the first packet of the capture.
func (s *seg) note(format string, args ...any) *seg {
	if s.pkt != nil {
		s.pkt.notes = append(s.pkt.notes, noteText{format, args})
	}
	return s
}

// cookie appends a TCP Fast Open cookie option (kind 34), padded with two
// NOPs as Linux does.
func (s *seg) cookie(v []byte) *seg {
	s.extra = append(s.extra,
		layers.TCPOption{OptionType: 34, OptionLength: uint8(2 + len(v)), OptionData: v},
		layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
		layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1})
	s.opts = append(s.opts, s.extra...)
	return s
}

// tm is a point in time of the capture (from the epoch), for notes.
type tm time.Duration

type noteText struct {
	format string
	args   []any
}

// packet is a captured segment.
type packet struct {
	s     *seg
	at    time.Duration
	ipID  uint16
	num   int // 1-based position in the file, set when the file is finished
	notes []noteText
	after [2]state // client, server state once this packet (and anything crossing it) arrived
}

func (c *conn) newSeg(from *endpoint, flags string) *seg {
	s := &seg{c: c, from: from, to: c.peer(from), ttl: from.ttl}
	for _, f := range flags {
		switch f {
		case 'S':
			s.syn = true
		case 'A':
			s.ack = true
		case 'F':
			s.fin = true
		case 'R':
			s.rst = true
		case 'P':
			s.psh = true
		default:
			panic(fmt.Sprintf("%s: unknown flag %q in %q", c.f.name, f, flags))
		}
	}
	c.tick(from)
	s.at = c.now
	s.tsval = from.tsOff + uint32(c.now/time.Millisecond)
	if s.ack {
		s.tsecr = from.tsRecent
	}
	switch {
	case s.rst:
		s.win = 0
	case s.syn:
		s.win = from.synWin
	default:
		s.win = from.win
	}
	return s
}

// options returns Linux's option layout: MSS, SACK-permitted, timestamps,
// NOP, window scale on SYNs; NOP, NOP, timestamps on every later segment.
// Resets carry none (as Linux's tcp_v4_send_reset).
func (c *conn) options(s *seg) []layers.TCPOption {
	e := s.from
	nop := layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1}
	ts := layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10,
		OptionData: be32(s.tsval, s.tsecr)}
	switch {
	case s.rst, s.spoofed:
		return nil
	case s.syn && e.bare:
		return nil
	case s.syn:
		s.hasTS = c.ts
		o := []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4,
			OptionData: []byte{byte(e.mss >> 8), byte(e.mss)}}}
		if c.ts {
			o = append(o,
				layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
				ts, nop,
				layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3,
					OptionData: []byte{e.wscale}})
		}
		return o
	case c.ts:
		s.hasTS = true
		return []layers.TCPOption{nop, nop, ts}
	}
	return nil
}

func be32(vs ...uint32) []byte {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return b
}

// emit sends a segment from e at SND.NXT (the ISN for a SYN) carrying n
// payload bytes and acknowledging RCV.NXT, without delivering it: it is in
// flight (see deliver) or lost.
func (c *conn) emit(from *endpoint, flags string, n int) *seg {
	s := c.newSeg(from, flags)
	if s.syn {
		s.seq = from.isn
	} else {
		s.seq = from.sndNxt
	}
	if s.ack {
		if !from.synRcvd {
			panic(fmt.Sprintf("%s/%s: %s sends an ACK before knowing the peer's ISN", c.f.name, c.label, from.role))
		}
		s.ackNo = from.rcvNxt
	}
	s.payload = from.bytesAt(s.seq+b2u(s.syn), n)
	if seqGT(s.end(), from.sndNxt) {
		from.sndNxt = s.end()
	}
	if s.fin && !from.finSent {
		from.finSent, from.finSeq = true, s.end()-1
	}
	s.opts = c.options(s)
	c.simSend(s)
	c.put(s)
	return s
}

// send emits a segment and delivers it to the peer.
func (c *conn) send(from *endpoint, flags string, n int) *seg {
	s := c.emit(from, flags, n)
	c.deliver(s)
	return s
}

// data sends n bytes with PSH+ACK.
func (c *conn) data(from *endpoint, n int) *seg { return c.send(from, "PA", n) }

// raw emits a segment with the given sequence and acknowledgment numbers
// without touching either side's sequence variables (probes, forged
// resets). It is not delivered.
func (c *conn) raw(from *endpoint, flags string, seq, ack uint32, n int) *seg {
	s := c.newSeg(from, flags)
	s.seq = seq
	if s.ack {
		s.ackNo = ack
	}
	s.payload = from.bytesAt(seq, n)
	s.opts = c.options(s)
	c.put(s)
	return s
}

// forge emits a segment injected by a third party in the name of from:
// no options, its own TTL. It is not delivered.
func (c *conn) forge(from *endpoint, flags string, seq, ack uint32) *seg {
	s := c.newSeg(from, flags)
	s.spoofed = true
	s.seq, s.ttl = seq, 49
	if s.ack {
		s.ackNo = ack
	}
	s.win = 0
	c.put(s)
	return s
}

// resend retransmits s (same sequence number, flags and payload) with a
// fresh timestamp and the current RCV.NXT. It is not delivered.
func (c *conn) resend(s *seg) *seg {
	r := c.newSeg(s.from, "")
	r.syn, r.ack, r.fin, r.rst, r.psh = s.syn, s.ack, s.fin, s.rst, s.psh
	r.seq, r.payload, r.rtxOf = s.seq, s.payload, s
	if r.ack {
		r.ackNo = r.from.rcvNxt
		r.tsecr = r.from.tsRecent
	}
	if r.syn {
		r.win = s.win
	}
	r.opts = append(c.options(r), s.extra...)
	r.extra = s.extra
	c.put(r)
	return r
}

// deliver makes the segment arrive at its receiver.
func (c *conn) deliver(s *seg) {
	c.simRecv(s)
	c.snap()
}

func (c *conn) put(s *seg) {
	c.segs = append(c.segs, s)
	p := &packet{s: s, at: s.at, ipID: s.from.ipID}
	s.from.ipID++
	if !c.hidden {
		s.pkt = p
		c.f.pkts = append(c.f.pkts, p)
		c.lastPkt = p
	}
	c.snap()
}

func (c *conn) snap() {
	if c.lastPkt != nil {
		c.lastPkt.after = [2]state{c.client.state, c.server.state}
	}
}

// simSend applies what sending s proves about its sender.
func (c *conn) simSend(s *seg) {
	e := s.from
	switch {
	case s.spoofed:
		return
	case s.rst:
		e.setState(closed, c.now)
		return
	case s.syn && !s.ack && (e.state == closed || e.state == listen):
		e.setState(synSent, c.now)
	}
	if s.fin {
		switch e.state {
		case established, synReceived:
			e.setState(finWait1, c.now)
		case closeWait:
			e.setState(lastAck, c.now)
		}
	}
}

// simRecv is RFC 9293 section 3.10.7 (with the RFC 5961 reset check) for
// the paths the scenarios use.
func (c *conn) simRecv(s *seg) {
	r := s.to
	if s.hasTS && (!r.synRcvd || seqLE(s.seq, r.rcvNxt)) {
		r.tsRecent = s.tsval
	}
	if s.rst {
		switch r.state {
		case synSent:
			if s.ack && s.ackNo == r.sndNxt {
				r.setState(closed, c.now)
			}
		case closed, listen:
		default:
			// Only an exact match resets; in-window otherwise earns a
			// challenge ACK (the scenario sends it), outside is dropped.
			if r.synRcvd && s.seq == r.rcvNxt {
				r.setState(closed, c.now)
			}
		}
		return
	}
	if s.syn {
		switch r.state {
		case closed, listen:
			if !s.ack {
				r.rcvNxt, r.synRcvd = s.end(), true
				if r.state == listen {
					r.setState(synReceived, c.now)
				}
			}
		case synSent:
			if !s.ack {
				r.rcvNxt, r.synRcvd = s.end(), true
				r.setState(synReceived, c.now) // simultaneous open
			} else if s.ackNo == r.sndNxt {
				r.rcvNxt, r.synRcvd = s.end(), true
				r.setState(established, c.now)
			}
		case synReceived:
			if s.ack && s.ackNo == r.sndNxt && s.seq+1 == r.rcvNxt {
				r.setState(established, c.now) // the crossing SYN-ACK of a simultaneous open
			}
		}
		return
	}
	if !r.synRcvd || r.state == closed || r.state == listen {
		return
	}
	if s.ack {
		if r.state == synReceived && seqGT(s.ackNo, r.isn) && seqLE(s.ackNo, r.sndNxt) {
			r.setState(established, c.now)
		}
		if r.finSent && seqGT(s.ackNo, r.finSeq) {
			switch r.state {
			case finWait1:
				r.setState(finWait2, c.now)
			case closing:
				r.setState(timeWait, c.now)
			case lastAck:
				r.setState(closed, c.now)
			}
		}
	}
	if seqLE(s.seq, r.rcvNxt) && seqGT(s.end(), r.rcvNxt) {
		r.rcvNxt = s.end()
		if s.fin {
			switch r.state {
			case established, synReceived:
				r.setState(closeWait, c.now)
			case finWait1:
				r.setState(closing, c.now)
			case finWait2:
				r.setState(timeWait, c.now)
			}
		}
	} else if s.fin && r.state == timeWait && s.end() == r.rcvNxt {
		r.twSince = c.now // a retransmitted FIN restarts the 2·MSL timer
	}
}

// Common steps.

// handshake is SYN, SYN-ACK, ACK.
func (c *conn) handshake() {
	c.send(c.client, "S", 0)
	c.send(c.server, "SA", 0)
	c.send(c.client, "A", 0)
}

// closeFrom is the four-segment close started by a: FIN, ACK, FIN, ACK.
func (c *conn) closeFrom(a *endpoint) [4]*seg {
	b := c.peer(a)
	return [4]*seg{
		c.send(a, "FA", 0),
		c.send(b, "A", 0),
		c.send(b, "FA", 0),
		c.send(a, "A", 0),
	}
}

// exchange is a request, its response in MSS-sized segments, and the
// client's ACK.
func (c *conn) exchange(req, resp int) {
	c.data(c.client, req)
	for resp > 0 {
		n := min(resp, int(c.client.mss)-12)
		resp -= n
		c.data(c.server, n)
	}
	c.send(c.client, "A", 0)
}

const clientText = "GET /articles/tcp-states HTTP/1.1\r\nHost: www.example.com\r\n" +
	"User-Agent: pcapcraft/1.0\r\nAccept: */*\r\nAccept-Encoding: identity\r\n\r\n"

const serverText = "HTTP/1.1 200 OK\r\nServer: example\r\nContent-Type: text/plain\r\n\r\n" +
	"LISTEN SYN-SENT SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 CLOSE-WAIT CLOSING " +
	"LAST-ACK TIME-WAIT CLOSED\n"
