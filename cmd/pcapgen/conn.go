package main

// Normal connections: the client hosts they come from, and how a
// connection is set up and its script written.

import "encoding/binary"

// host is a client host.
type host struct {
	a        addr
	vlan     uint16 // 802.1Q VLAN its frames carry, 0 for none
	ttl      uint8  // TTL (hop limit) of its packets at the capture point
	nextPort uint16 // next ephemeral port it will use
}

const (
	ephemeralLo = 32768 // Linux's default ip_local_port_range
	ephemeralHi = 60999
)

// newHosts makes n client hosts: IPv4 addresses in 10.0.0.0/8, IPv6 in
// 2001:db8:1000::/36, all distinct; ~20% IPv6 and ~5% on a VLAN.
func newHosts(n int, r *rng, seed uint64) []host {
	const v4Space = 65536 * 254 // 10.a.b.c with c in 1..254
	perm := newPermutation(v4Space, 24, seed^0x686f737473)
	vlans := [...]uint16{100, 101, 102, 200, 300}
	hs := make([]host, n)
	for i := range hs {
		h := &hs[i]
		if r.permille(200) {
			h.a.v6 = true
			copy(h.a.b[:], []byte{0x20, 0x01, 0x0d, 0xb8})
			binary.BigEndian.PutUint16(h.a.b[4:], 0x1000|uint16(i>>16&0x0fff))
			binary.BigEndian.PutUint16(h.a.b[6:], uint16(i))
			binary.BigEndian.PutUint64(h.a.b[8:], r.next()|1)
		} else {
			x := uint32(perm.at(uint64(i)))
			h.a.b[0] = 10
			binary.BigEndian.PutUint16(h.a.b[1:], uint16(x/254))
			h.a.b[3] = byte(1 + x%254)
		}
		if r.permille(50) {
			h.vlan = vlans[r.intn(len(vlans))]
		}
		base := 64
		if r.permille(200) {
			base = 128 // Windows clients
		}
		h.ttl = uint8(base - r.between(2, 20))
		h.nextPort = uint16(r.between(ephemeralLo, ephemeralHi))
	}
	return hs
}

// port hands out the host's next ephemeral port (Linux walks the range).
func (h *host) port(r *rng) uint16 {
	p := h.nextPort
	n := int(p) + r.between(1, 8)
	if n > ephemeralHi {
		n -= ephemeralHi - ephemeralLo + 1
	}
	h.nextPort = uint16(n)
	return p
}

var (
	serverV4 = addr{b: [16]byte{198, 51, 100, 10}}
	serverV6 = addr{b: [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}, v6: true}
)

// serverPorts are the services of the server, with their share per mille.
var serverPorts = [...]struct {
	port   uint16
	weight int
}{{443, 600}, {80, 200}, {8080, 80}, {5432, 60}, {6379, 60}}

const floodPort = 80

// conn is one normal connection, in its slot of the pool.
type conn struct {
	script
	kind   kind
	feat   feature
	host   int32
	port   [2]uint16 // client's, server's
	isn    [2]uint32
	tsOff  [2]uint32 // each endpoint's TSval clock offset
	lastTS [2]uint32 // each endpoint's latest TSval (echoed by the peer)
	ipID   [2]uint16
	mssOpt [2]uint16
	hdr    [2]linkIP // by direction
	next   int       // next step to play
	// startedAt is when its first packet was due, µs from the start.
	startedAt int64
	lastAt    int64 // capture time of its last packet
	twAt      int64 // capture time an endpoint entered TIME_WAIT
	live      bool
}

// tuple is a connection's 4-tuple, remembered for port reuse.
type tuple struct {
	host  int32
	cport uint16
	sport uint16
	end   int64 // capture time of the connection's last packet
}

// setup picks the connection's kind, features, endpoints and numbers, and
// writes its script.
func (c *conn) setup(r *rng, hs []host, tu tuple, reused bool) {
	c.script.reset(r)
	c.kind = pickKind(r)
	c.feat = 0
	if reused {
		c.feat |= featPortReuse
	} else {
		tu.host = int32(r.intn(len(hs)))
		tu.cport = hs[tu.host].port(r)
		tu.sport = pickPort(r)
	}
	h := &hs[tu.host]
	c.host, c.port = tu.host, [2]uint16{tu.cport, tu.sport}
	srv := &serverV4
	if h.a.v6 {
		c.feat |= featIPv6
		srv = &serverV6
	}
	if h.vlan != 0 {
		c.feat |= featVLAN
	}
	c.hdr[dirC2S].set(&h.a, srv, &macGateway, &macServer, h.vlan, h.ttl, r.u32(), true)
	c.hdr[dirS2C].set(srv, &h.a, &macServer, &macGateway, h.vlan, 64, r.u32(), false)
	c.isn = [2]uint32{r.u32(), r.u32()}
	if c.kind == refused {
		c.isn[server] = 0
	}
	c.tsOff = [2]uint32{r.u32(), r.u32()}
	c.lastTS = [2]uint32{}
	c.ipID = [2]uint16{uint16(r.u32()), uint16(r.u32())}
	c.next, c.twAt, c.live = 0, -1, true

	s := &c.script
	mss := 1460
	s.synWin = [2]uint16{64240, 65160}
	if h.a.v6 {
		mss = 1440
		s.synWin = [2]uint16{64800, 64260}
	}
	c.mssOpt = [2]uint16{uint16(mss), uint16(mss)}
	s.mss = [2]int{mss - 12, mss - 12} // timestamps take 12 bytes of every segment
	s.win = [2]uint16{uint16(r.between(495, 512)), uint16(r.between(501, 1002))}
	s.rtt = r.spread(100, 50_000)
	s.turn = [2]int64{int64(r.between(10, 60)), int64(r.between(8, 80))}
	s.upGap = r.spread(12, 1_200)

	if c.kind != refused {
		if r.permille(15) {
			c.feat |= featSYNRetx
		}
		if r.permille(30) {
			c.feat |= featLoss
		}
		if r.permille(20) {
			c.feat |= featReorder
		}
		if r.permille(3) {
			c.feat |= featKeepAlive
		}
	}
	c.write(r)
}

// write writes the script of the connection's kind.
func (c *conn) write(r *rng) {
	s := &c.script
	if c.kind == refused {
		s.refuse()
		return
	}
	s.handshake(c.feat&featSYNRetx != 0)
	n := 1
	if r.permille(100) {
		n = r.between(2, 4) // a persistent connection
	}
	for i := 0; i < n; i++ {
		first, last := i == 0, i == n-1
		req, lose, swap := r.between(80, 900), -1, -1
		if r.permille(50) || first && c.feat&featReorder != 0 {
			req = int(r.spread(1_500, 9_000)) // a POST: several segments
		}
		if first && c.feat&featReorder != 0 {
			segs := (req + s.mss[client] - 1) / s.mss[client]
			swap = r.intn(segs - 1)
		}
		resp := responseSize(r)
		if first && c.feat&featLoss != 0 {
			resp = max(resp, r.between(3, 12)*s.mss[server])
			segs := (resp + s.mss[server] - 1) / s.mss[server]
			lose = r.intn(segs - 1) // never the last: it may carry a FIN
		}
		think := r.spread(50, 20_000)
		switch {
		case last && c.kind == halfClose:
			// shutdown(SHUT_WR) right after the request; the response
			// flows to a client in FIN_WAIT_2
			s.transfer(client, req, xfer{delay: s.clientThink(), lose: -1, swap: swap})
			s.send(s.at(client, int64(r.between(5, 50))), client, flagFIN|flagACK, 0)
			s.send(s.at(server, 0), server, flagACK, 0)
			s.transfer(server, resp, xfer{delay: think, lose: lose, swap: -1, lastAck: true})
			s.send(s.at(server, r.spread(20, 2_000)), server, flagFIN|flagACK, 0)
			s.send(s.at(client, 0), client, flagACK, 0)
			return
		case last && c.kind == serverClose && lose < 0 && r.permille(350):
			// close() before the response is out: FIN rides on its last segment
			s.transfer(client, req, xfer{delay: s.clientThink(), lose: -1, swap: swap, lastAck: think >= delayedAck})
			s.transfer(server, resp, xfer{delay: think, lose: -1, swap: -1, fin: true, lastAck: true})
			s.send(s.at(client, r.spread(20, 2_000)), client, flagFIN|flagACK, 0)
			s.send(s.at(server, 0), server, flagACK, 0)
			return
		}
		idle := first && c.feat&featKeepAlive != 0
		// the client's FIN may acknowledge the response (it closes at once)
		closeAfter := last && !idle && c.kind == clientClose && r.permille(500)
		s.exchange(req, resp, think, lose, swap, closeAfter)
		if idle {
			e := uint8(client)
			if r.permille(300) {
				e = server
			}
			s.keepAlive(e)
		}
	}
	switch c.kind {
	case clientClose:
		s.closeBy(client, r.spread(20, 5_000))
	case serverClose:
		s.closeBy(server, r.spread(20, 5_000))
	case clientReset:
		s.abort(client, r.spread(100, 50_000))
	case serverReset:
		s.abort(server, r.spread(100, 50_000))
	}
}

func pickKind(r *rng) kind {
	x := r.intn(1000)
	for k := range kinds {
		if x -= kinds[k].weight; x < 0 {
			return kind(k)
		}
	}
	return clientClose
}

func pickPort(r *rng) uint16 {
	x := r.intn(1000)
	for _, p := range serverPorts {
		if x -= p.weight; x < 0 {
			return p.port
		}
	}
	return serverPorts[0].port
}

// responseSize is mostly one segment, sometimes a few, rarely tens.
func responseSize(r *rng) int {
	switch x := r.intn(100); {
	case x < 75:
		return r.between(60, 1_400)
	case x < 94:
		return r.between(1_500, 4_500)
	case x < 99:
		return r.between(4_500, 15_000)
	default:
		return r.between(15_000, 40_000)
	}
}
