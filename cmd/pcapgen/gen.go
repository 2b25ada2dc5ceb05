package main

// The scheduler: a pool of -concurrency connection slots and the flood, all
// driven by one queue of timed events. Each turn pops the earliest event,
// writes its one packet and queues what comes next: the connection's next
// step, or, once its script is done, the first step of a new connection in
// the same slot. Timestamps strictly increase (a packet due at the same
// microsecond as the previous one is written a microsecond later).

import (
	"encoding/binary"
	"time"
)

// config is what the flags ask for.
type config struct {
	seed        uint64
	conns       int   // normal connections to start; < 0 for no limit
	concurrency int   // connections alive at once
	rate        int   // new connections a second at most; 0 for no limit
	packets     int64 // stop after this many packets; 0 for no limit
	flood       int   // spoofed SYNs
	floodSYNACK bool  // the server answers each (and retransmits the answer once)
	floodRate   int   // spoofed SYNs per second
	start       time.Time
	ng          bool // pcapng instead of pcap
}

// Timers an analyzer applies (tcpstate's defaults; Linux's values).
const (
	timeWaitLen      = 60 * 1_000_000  // 2·MSL, µs
	handshakeTimeout = 120 * 1_000_000 // µs
	reuseAfter       = timeWaitLen + 1_000_000
	startRamp        = 100_000 // the pool's first connections start over this many µs
)

// Event kinds.
const (
	evConn        uint8 = iota // the next step of the connection in slot idx
	evFloodSYN                 // spoofed SYN number idx
	evFloodSYNACK              // the server's answer to it
	evFloodRetx                // the answer, retransmitted after 1 s
)

type event struct {
	t    int64 // µs from the start of the capture
	ord  uint64
	kind uint8
	idx  uint32
}

// eventQueue is a binary min-heap on (t, ord): ord breaks ties in the order
// events were queued, so the output does not depend on heap internals.
type eventQueue struct {
	h   []event
	ord uint64
}

func (q *eventQueue) less(i, j int) bool {
	a, b := &q.h[i], &q.h[j]
	return a.t < b.t || a.t == b.t && a.ord < b.ord
}

func (q *eventQueue) push(t int64, kind uint8, idx uint32) {
	q.ord++
	q.h = append(q.h, event{t, q.ord, kind, idx})
	for i := len(q.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *eventQueue) pop() event {
	e := q.h[0]
	n := len(q.h) - 1
	q.h[0] = q.h[n]
	q.h = q.h[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && q.less(l, m) {
			m = l
		}
		if l+1 < n && q.less(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return e
}

// timerQueue holds the deadlines of connections whose state pair changes
// by a timer (TIME_WAIT running out, a handshake given up) unless the
// capture ends first. Deadlines that pass while generating are counted at
// once, so the queue holds only the last minutes.
type timerQueue struct {
	before, after pair
	d             []int64
	head          int
}

func (q *timerQueue) push(d int64) { q.d = append(q.d, d) }

// expire counts the deadlines at the front that are ≤ now into n.
func (q *timerQueue) expire(now int64, n *[numStates][numStates]int) {
	for q.head < len(q.d) && q.d[q.head] <= now {
		n[q.after.client][q.after.server]++
		q.head++
	}
	if q.head > 4096 && q.head > len(q.d)/2 {
		q.d = q.d[:copy(q.d, q.d[q.head:])]
		q.head = 0
	}
}

// finish counts every remaining deadline as passed (≤ end) or not.
func (q *timerQueue) finish(end int64, n *[numStates][numStates]int) {
	for _, d := range q.d[q.head:] {
		p := q.before
		if d <= end {
			p = q.after
		}
		n[p.client][p.server]++
	}
	q.d, q.head = q.d[:0], 0
}

// stats is what was generated.
type stats struct {
	packets   int64
	bytes     int64 // written before compression
	kinds     [numKinds]int
	features  [numFeatures]int
	flood     int // spoofed SYNs written
	retx      int // retransmitted segments (SYN, data, SYN-ACK)
	keepAlive int // keep-alive probes
	cut       int // connections cut short by -packets
	first     int64
	last      int64
	atEnd     [numStates][numStates]int // connections by state pair at the end of the capture
}

// generator writes one capture.
type generator struct {
	cfg     config
	r       *rng
	out     *output
	hosts   []host
	slots   []conn
	q       eventQueue
	now     int64 // time of the last packet, µs from the start
	started int   // normal connections started
	reuse   []tuple
	reuseAt int
	texts   [2]*text
	tcp     tcpHeader
	floodH  linkIP
	perm    permutation
	timers  [3]timerQueue // client TIME_WAIT, server TIME_WAIT, flood handshakes
	stats   stats
}

const reuseCap = 1 << 14

func newGenerator(cfg config, out *output) *generator {
	r := newRNG(cfg.seed)
	g := &generator{cfg: cfg, r: r, out: out, now: -1}
	conc := max(cfg.concurrency, 1)
	if cfg.conns >= 0 {
		conc = min(conc, cfg.conns)
	}
	g.hosts = newHosts(max(4096, 4*conc), r, cfg.seed)
	g.slots = make([]conn, conc)
	g.reuse = make([]tuple, 0, reuseCap)
	g.texts = [2]*text{newText(requestText), newText(responseText)}
	// 198.18.0.0/15 (RFC 2544) × ports 1024-65535: 8,455,716,864 distinct sources
	g.perm = newPermutation(131072*64512, 33, cfg.seed^0x666c6f6f64)
	g.timers = [3]timerQueue{
		{before: pair{timeWait, closed}, after: pair{closed, closed}},
		{before: pair{closed, timeWait}, after: pair{closed, closed}},
		{before: floodInfo.final, after: floodGivenUp},
	}
	for i := range g.slots {
		g.startConn(i, int64(r.intn(startRamp)))
	}
	if cfg.flood > 0 {
		g.q.push(g.floodTime(0), evFloodSYN, 0)
	}
	return g
}

// run plays events until the last one, or until the packet limit.
func (g *generator) run() {
	for g.step() {
	}
	g.stats.last = g.now
	g.finish()
}

// step writes the next packet. It returns false when there is none left,
// or the packet limit is reached.
func (g *generator) step() bool {
	if len(g.q.h) == 0 || g.cfg.packets > 0 && g.stats.packets >= g.cfg.packets || g.out.failed.Load() {
		return false
	}
	e := g.q.pop()
	t := max(e.t, g.now+1)
	g.now = t
	if g.stats.packets == 0 {
		g.stats.first = t
	}
	switch e.kind {
	case evConn:
		g.playConn(int(e.idx), t)
	case evFloodSYN:
		g.floodSYN(e.idx, t)
	case evFloodSYNACK, evFloodRetx:
		g.floodSYNACK(e.idx, t, e.kind == evFloodRetx)
	}
	g.stats.packets++
	return true
}

// startConn starts a new connection in slot i at time t, if the limit
// allows.
func (g *generator) startConn(i int, t int64) bool {
	if g.cfg.conns >= 0 && g.started >= g.cfg.conns {
		return false
	}
	g.started++
	var tu tuple
	reused := false
	if g.reuseAt < len(g.reuse) && g.reuse[g.reuseAt].end+reuseAfter <= t && g.r.permille(20) {
		tu, reused = g.reuse[g.reuseAt], true
		g.reuseAt++
		if g.reuseAt == len(g.reuse) {
			g.reuse, g.reuseAt = g.reuse[:0], 0
		}
	}
	c := &g.slots[i]
	c.setup(g.r, g.hosts, tu, reused)
	c.startedAt = t
	g.q.push(t, evConn, uint32(i))
	return true
}

// playConn writes the next step of the connection in slot i at time t.
func (g *generator) playConn(i int, t int64) {
	c := &g.slots[i]
	st := &c.steps[c.next]
	if c.next == 0 {
		g.stats.kinds[c.kind]++
		for f := range featureNames {
			if c.feat&(1<<f) != 0 {
				g.stats.features[f]++
			}
		}
	}
	g.writeStep(c, st, t)
	c.lastAt = t
	if st.enterTWait {
		c.twAt = t
	}
	switch st.note {
	case noteRetx:
		g.stats.retx++
	case noteKeepAlive:
		g.stats.keepAlive++
	}
	c.next++
	if c.next < len(c.steps) {
		g.q.push(t+c.steps[c.next].at-st.at, evConn, uint32(i))
		return
	}
	c.live = false
	g.connDone(c)
	next := t + int64(g.r.intn(2_000))
	if g.cfg.rate > 0 {
		// Each slot starts a connection every len(slots)/rate seconds on
		// average (from half to one and a half times that, at random).
		period := int64(len(g.slots)) * 1_000_000 / int64(g.cfg.rate)
		next = max(next, c.startedAt+period/2+int64(g.r.intn(int(max(period, 1)))))
	}
	g.startConn(i, next)
}

// connDone counts a finished connection's final states (later, for those
// a timer may change) and may keep its 4-tuple for reuse.
func (g *generator) connDone(c *conn) {
	switch p := c.steps[len(c.steps)-1].after; p {
	case g.timers[0].before:
		g.timers[0].push(c.twAt + timeWaitLen)
	case g.timers[1].before:
		g.timers[1].push(c.twAt + timeWaitLen)
	default:
		g.stats.atEnd[p.client][p.server]++
	}
	for k := range g.timers {
		g.timers[k].expire(g.now, &g.stats.atEnd)
	}
	if len(g.reuse) < reuseCap && g.r.permille(30) {
		g.reuse = append(g.reuse, tuple{host: c.host, cport: c.port[client], sport: c.port[server], end: c.lastAt})
	}
}

// finish counts the connections still open or waiting for a timer at the
// end of the capture.
func (g *generator) finish() {
	end := g.now
	for k := range g.timers {
		g.timers[k].finish(end, &g.stats.atEnd)
	}
	for i := range g.slots {
		c := &g.slots[i]
		if !c.live || c.next == 0 {
			continue
		}
		g.stats.cut++
		p := c.steps[c.next-1].after
		if c.twAt >= 0 && c.twAt+timeWaitLen <= end {
			if p.client == timeWait {
				p.client = closed
			}
			if p.server == timeWait {
				p.server = closed
			}
		}
		g.stats.atEnd[p.client][p.server]++
	}
	for _, e := range g.q.h {
		switch e.kind {
		case evFloodSYNACK:
			g.stats.cut++
			g.stats.atEnd[synSent][synReceived]++
		case evFloodRetx:
			g.stats.cut++
			g.stats.atEnd[established][synReceived]++ // the SYN-ACK is taken to have arrived
		}
	}
}

// writeStep writes one segment of a connection.
func (g *generator) writeStep(c *conn, st *step, t int64) {
	d := st.from
	h := &g.tcp
	h.sport, h.dport = c.port[d], c.port[1-d]
	h.seq = c.isn[d] + st.seq
	h.ack = 0
	if st.flags&flagACK != 0 {
		h.ack = c.isn[1-d] + st.ack
	}
	h.flags, h.win, h.optLen = st.flags, st.win, 0
	tsval := c.tsOff[d] + uint32((g.out.base+t)/1000) // a millisecond clock
	ecr := c.lastTS[1-d]
	switch st.opt {
	case optSYN:
		if st.flags&flagACK == 0 {
			ecr = 0
		}
		h.mss(c.mssOpt[d])
		h.sackOK()
		h.timestamps(tsval, ecr)
		h.nop()
		h.wscale(7)
	case optTS, optTSSACK:
		h.nop()
		h.nop()
		h.timestamps(tsval, ecr)
		if st.opt == optTSSACK {
			h.nop()
			h.nop()
			h.sack(c.isn[1-d]+st.sackL, c.isn[1-d]+st.sackR)
		}
	}
	if st.opt != optNone {
		c.lastTS[d] = tsval
	}
	var payload []byte
	var psum uint32
	if st.n > 0 {
		payload, psum = g.texts[d].at(st.seq-1, int(st.n))
	}
	g.out.packet(t, &c.hdr[d], h, c.ipID[d], payload, psum)
	c.ipID[d]++
}

// Flood: spoofed SYN number i comes from source perm(i) of 198.18.0.0/15
// × ports 1024-65535, so all are distinct; everything else about it is a
// hash of i, so pending answers need no state.

func (g *generator) floodTime(i uint32) int64 {
	period := int64(1_000_000_000) / int64(max(g.cfg.floodRate, 1)) // ns
	h := mix(g.cfg.seed ^ uint64(i)<<20 ^ 0x74696d65)
	return (int64(i)*period + int64(h%uint64(period))) / 1000
}

// floodSource returns spoofed SYN i's source, port, ISN, TTL, window and
// the server's ISN.
func (g *generator) floodSource(i uint32) (a addr, port uint16, isn uint32, ttl uint8, win uint16, sisn uint32) {
	x := g.perm.at(uint64(i))
	ip := 198<<24 | 18<<16 | uint32(x%131072)
	binary.BigEndian.PutUint32(a.b[:], ip)
	port = uint16(1024 + x/131072)
	h := mix(g.cfg.seed ^ uint64(i) ^ 0x73796e)
	wins := [...]uint16{512, 1024, 2048, 5840, 8192, 14600, 29200, 64240, 65535}
	return a, port, uint32(h), uint8(32 + h>>32%224), wins[h>>40%uint64(len(wins))], uint32(h >> 16)
}

func (g *generator) floodSYN(i uint32, t int64) {
	src, port, isn, ttl, win, _ := g.floodSource(i)
	g.floodH.set(&src, &serverV4, &macGateway, &macServer, 0, ttl, 0, true)
	h := &g.tcp
	*h = tcpHeader{sport: port, dport: floodPort, seq: isn, flags: flagSYN, win: win}
	g.out.packet(t, &g.floodH, h, uint16(isn>>7), nil, 0)
	g.stats.flood++
	if int(i)+1 < g.cfg.flood {
		g.q.push(max(g.floodTime(i+1), t+1), evFloodSYN, i+1)
	}
	if g.cfg.floodSYNACK {
		g.q.push(t+int64(20+isn%40), evFloodSYNACK, i)
		return
	}
	g.timers[2].push(t + handshakeTimeout)
	if i%1024 == 0 {
		g.timers[2].expire(g.now, &g.stats.atEnd)
	}
}

// floodSYNACK is the server's answer (MSS only: the SYN offered no other
// option), or its one retransmission a second later, which shows that the
// first never got an answer.
func (g *generator) floodSYNACK(i uint32, t int64, retx bool) {
	dst, port, isn, _, _, sisn := g.floodSource(i)
	g.floodH.set(&serverV4, &dst, &macServer, &macGateway, 0, 64, 0, false)
	h := &g.tcp
	*h = tcpHeader{sport: floodPort, dport: port, seq: sisn, ack: isn + 1, flags: flagSYN | flagACK, win: 64240}
	h.mss(1460)
	g.out.packet(t, &g.floodH, h, 0, nil, 0)
	if !retx {
		g.q.push(t+1_000_000+int64(sisn%2_000), evFloodRetx, i)
		return
	}
	g.stats.retx++
	g.timers[2].push(t + handshakeTimeout)
	if i%1024 == 0 {
		g.timers[2].expire(g.now, &g.stats.atEnd)
	}
}

const requestText = "GET /api/v2/orders?customer=4711&page=3 HTTP/1.1\r\nHost: shop.example.com\r\n" +
	"User-Agent: pcapgen/1.0\r\nAccept: application/json\r\nAccept-Encoding: gzip, br\r\n" +
	"Cookie: session=6b1d0c7e2f0a4d83b7e5c1a9\r\n\r\n" +
	"{\"order\":{\"items\":[{\"sku\":\"A-1001\",\"qty\":2},{\"sku\":\"B-2002\",\"qty\":1}],\"note\":\"leave at door\"}}\n"

const responseText = "HTTP/1.1 200 OK\r\nServer: example\r\nContent-Type: application/json\r\n" +
	"Cache-Control: no-store\r\nContent-Length: 18734\r\n\r\n" +
	"{\"orders\":[{\"id\":90817,\"state\":\"ESTABLISHED\",\"total\":\"41.90\",\"lines\":[\"LISTEN\",\"SYN-SENT\"," +
	"\"SYN-RECEIVED\",\"FIN-WAIT-1\",\"FIN-WAIT-2\",\"CLOSE-WAIT\",\"CLOSING\",\"LAST-ACK\",\"TIME-WAIT\"]}]}\n"
