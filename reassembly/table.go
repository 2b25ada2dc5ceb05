package reassembly

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
	"unsafe"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
	"github.com/tcpstate/tcpstate/reassembly/zeek"
)

// Config tunes a Table. Zero values take the defaults.
type Config struct {
	FSM fsm.Config
	// IdleTimeout evicts a connection that has seen no segment for this
	// long. Default 2 h: Linux's first keep-alive probe comes after 2 h, so
	// a live connection that was silent longer is rare.
	IdleTimeout time.Duration
	// MaxConns caps the connections in the table; 0 means DefaultMaxConns.
	// When a new connection finds the table full, one is evicted to make
	// room, in this order: connections already closed (kept only to absorb
	// late segments), half-open handshakes, TIME_WAIT, and last the
	// established connection that has been silent longest. Evictions are
	// counted in Stats, and evicted connections are handed to Finished.
	MaxConns int
	// HandshakeTimeout closes endpoints stuck in SYN_SENT or SYN_RECEIVED
	// after this long without a segment. Default 2 min: Linux gives up on
	// a SYN after about 127 s and on a SYN-ACK after about 63 s.
	HandshakeTimeout time.Duration
	// Finished, if set, is called with each connection as it leaves the
	// table. The table forgets the connection afterwards, unless Recycle
	// is set.
	Finished func(*Conn)
	// Recycle lets the table reuse the memory of a connection that has
	// left it for a later one, so that a capture with connections coming
	// and going costs no allocation per connection once the table has
	// grown. It is a promise: once Finished has been called with a
	// connection, nothing uses that *Conn (nor its Machine) after the next
	// call to Add, Advance, Settle or Flush begins; copy what you need.
	Recycle bool
	// Compact keeps the connections whose both ends are done (TIME_WAIT or
	// CLOSED) packed in about a third of their memory until something needs
	// them again (see compact.go): a capture of many short connections,
	// which the table holds for 2·MSL after they close, then needs less
	// than half the memory. It is a promise, stronger than Recycle's: the
	// caller uses a *Conn (and its Machine) only during the call that
	// handed it over, the Finished or Transition call or the Add that
	// returned it, and the connections Conns returns until the next call.
	Compact bool
	// NoVocabularies skips Zeek's and Wireshark's analyses of every segment
	// (Conn.Zeek, Conn.Wireshark, Flags, DupAck and FlagCounts stay zero),
	// for a caller that shows only the RFC 9293 states: about 70 ns a
	// segment less.
	NoVocabularies bool
	// NoWireshark skips Wireshark's analysis of every segment, for a
	// caller that shows Zeek's but not Wireshark's: Conn.Wireshark, Flags,
	// DupAck and FlagCounts stay zero.
	NoWireshark bool
	// Transition, if set, is called with every transition as it happens,
	// in capture-time order: those a segment causes and those of timers
	// (TIME_WAIT running out, handshakes given up, port reuse). Revisions
	// come as transitions of their own; Revised flags on earlier ones are
	// set later, in the connection's history. The transition is valid only
	// during the call: copy it to keep it.
	Transition func(*Conn, *fsm.Transition)
}

// DefaultMaxConns is the default cap on connections in the table. An open
// connection costs about 2 KiB of heap (its Conn, its body with the Zeek
// and Wireshark views, and its share of the index), a done one packed by
// Config.Compact about 0.8 KiB (BenchmarkTableMemory measures both), and
// up to twice that in resident memory with the garbage collector's
// headroom: the cap bounds the table near 2 GiB.
const DefaultMaxConns = 500_000

func (c *Config) defaults() {
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Hour
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 2 * time.Minute
	}
}

// Key is the canonical key of a 4-tuple: the same for both directions. (The
// table itself finds connections by a hash of their ends that does not
// depend on their order: see index.)
type Key struct {
	Lo, Hi netip.AddrPort
}

// KeyOf returns the key of a segment from src to dst.
func KeyOf(src, dst netip.AddrPort) Key {
	if less(dst, src) {
		return Key{dst, src}
	}
	return Key{src, dst}
}

func less(a, b netip.AddrPort) bool {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c < 0
	}
	return a.Port() < b.Port()
}

// Stats counts what the table did.
type Stats struct {
	Segments       uint64 // segments given to Add
	Conns          uint64 // connections created
	Live           int    // connections in the table now
	PortReuses     uint64 // connections started on a 4-tuple whose earlier connection was done
	TimedOut       uint64 // handshakes given up
	Evicted        uint64 // idle connections evicted
	TimeWaitClosed uint64 // endpoints whose TIME_WAIT ran out
	// Full counts connections evicted because the table was full, by what
	// they were: closed, half-open, in TIME_WAIT, established but idle.
	Full FullEvictions
	// Peak is the most connections the table held at once.
	Peak int
}

// FullEvictions counts the connections evicted from a full table.
type FullEvictions struct {
	Closed, HalfOpen, TimeWait, Open uint64
}

// Total is the number of connections evicted from a full table.
func (f FullEvictions) Total() uint64 { return f.Closed + f.HalfOpen + f.TimeWait + f.Open }

// Table is the connection table.
type Table struct {
	cfg       Config
	conns     index
	lists     [numClasses]list
	listeners map[netip.AddrPort]*Listener
	nextID    uint64
	now       time.Time
	nextTick  time.Time
	// earliest is the earliest time of a segment added (zero before the
	// first): every TIME_WAIT began at a segment's time, so none can run
	// out before earliest plus TIME_WAIT (see mayExpire).
	earliest time.Time
	stats    Stats
	seg      fsm.Segment    // the segment the machine steps with
	zseg     zeek.Segment   // and Zeek's analysis
	tr       fsm.Transition // what Config.Transition is handed
	// free holds connections to reuse (Config.Recycle); released holds
	// those that left during the current call, reusable from the next.
	free, released *Conn
	nfree          int
	// slab is where new connections come from, allocated many at a time
	// (see alloc), and bodySlab their bodies.
	slab     []Conn
	bodySlab []body
	// bodies are bodies to reuse, images images to reuse by length (see
	// imageClass), and scratch the buffer sleep packs into
	// (Config.Compact).
	bodies []*body
	images imagePool
	// codec is what sleep packs against, once learn has worked it out
	// from the first bodies packed (see learner).
	codec   *codec
	learn   *learner
	scratch []byte
	packs   uint64 // connections packed, for tests
	// xorPacks counts those packed against the template, for tests.
	xorPacks uint64
	// keepsFinished says that Finished keeps the connections it is given
	// (a worker of Sharded): their bodies are not reused.
	keepsFinished bool
}

// slabConns is how many connections alloc allocates at once, with
// Config.Recycle: one allocation instead of slabConns while the table grows.
// A slab stays in memory while any of its connections is used, which reuse
// makes harmless.
const slabConns = 64

// Listener is a listening socket inferred from the capture.
type Listener struct {
	Addr netip.AddrPort
	// Since is when it was first seen answering a SYN.
	Since time.Time
	// Answered counts the SYNs it answered with SYN-ACK.
	Answered uint64
}

// NewTable returns an empty table.
func NewTable(cfg Config) *Table {
	cfg.defaults()
	return &Table{cfg: cfg, conns: newIndex(), listeners: make(map[netip.AddrPort]*Listener)}
}

// Now returns the table's clock: the latest timestamp it has seen.
func (t *Table) Now() time.Time { return t.now }

// Stats returns the counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Live = t.conns.len()
	return s
}

// Add runs one segment through its connection and returns the connection
// and what the state machine made of the segment.
func (t *Table) Add(s *capture.Segment, ts time.Time, pkt uint64) (*Conn, fsm.Report) {
	return t.add(s, len(s.Payload) < s.PayloadLen, ts, pkt, 0)
}

// add is Add for a segment whose payload may have been dropped: cut says
// whether the capture had cut it short.
//
// h is the index's hash of the segment's ends when the caller has it
// already, else 0.
func (t *Table) add(s *capture.Segment, cut bool, ts time.Time, pkt uint64, h uint64) (*Conn, fsm.Report) {
	t.reclaim()
	t.stats.Segments++
	if t.stats.Segments%sweepEvery == 0 {
		t.sweep()
	}
	if ts.After(t.now) {
		if t.earliest.IsZero() {
			t.earliest = ts
		}
		t.now = ts
		if !t.now.Before(t.nextTick) {
			t.advance(t.now)
		}
	} else if ts.Before(t.earliest) || t.earliest.IsZero() {
		t.earliest = ts
	}
	f := fsm.Flags(s.Flags)
	if h == 0 {
		h = t.conns.hash(s.Src, s.Dst)
	}
	c := t.conns.find(h, s.Src, s.Dst)
	if c != nil {
		t.wake(c)
	}
	switch {
	case c == nil:
		c = t.newConn(s, ts, pkt)
	case f.Contains(fsm.SYN) && !f.Contains(fsm.ACK) && c.reusedBy(s):
		c = t.replace(c, s, ts, pkt)
	}
	from := fsm.Client
	if s.Src != c.Client {
		from = fsm.Server
	}
	// Field by field: a composite literal is built on the stack with
	// narrow stores and copied with wide loads, which cannot be
	// forwarded from them (a stall on every segment).
	seg := &t.seg
	seg.Seq, seg.Ack, seg.Flags = fsm.Seq(s.Seq), fsm.Seq(s.Ack), f
	seg.Len, seg.Window, seg.WScale = uint32(s.PayloadLen), s.Window, -1
	if s.Opts.Has&capture.OptWScale != 0 {
		seg.WScale = int8(min(s.Opts.WScale, 14))
	}
	rep := c.Machine.Step(from, &t.seg, ts, pkt)
	if !t.cfg.NoVocabularies {
		t.vocabularies(c, s, from, cut, ts)
	}
	t.emit(c)
	d := &c.Dir[from]
	d.Packets++
	d.Bytes += uint64(s.PayloadLen)
	d.IPBytes += uint64(s.IPLen)
	if rep.Kind.Contains(fsm.Retransmission) {
		d.Retransmissions++
	}
	if rep.Kind.Contains(fsm.KeepAlive) {
		d.KeepAlives++
	}
	c.Anomalies |= rep.Anomalies
	c.seen(ts)
	if !c.listened && c.Machine.Answered() {
		c.listened = true
		l := t.listeners[c.Server]
		if l == nil {
			l = &Listener{Addr: c.Server, Since: ts}
			t.listeners[c.Server] = l
		}
		l.Answered++
	}
	t.file(c)
	return c, rep
}

// replace ends c, whose 4-tuple s starts a new connection on, and returns
// the new one. (Apart from add, whose every segment would otherwise zero
// room for a Wireshark conversation on its stack.)
func (t *Table) replace(c *Conn, s *capture.Segment, ts time.Time, pkt uint64) *Conn {
	c.Machine.EndTimeWait(ts, pkt)
	t.emit(c)
	c.replaced = true
	// Wireshark's conversation on the 4-tuple goes on in the new
	// connection (taken before Finished: c may be reused then).
	ws, wsFirst := c.Wireshark, c.Server
	if c.wsFirstFromClient {
		wsFirst = c.Client
	}
	t.remove(c)
	t.stats.PortReuses++
	n := t.newConn(s, ts, pkt)
	n.Wireshark = ws
	n.wsFirstFromClient = wsFirst == n.Client
	return n
}

// vocabularies runs Wireshark's and Zeek's analyses of a segment.
func (t *Table) vocabularies(c *Conn, s *capture.Segment, from fsm.Role, cut bool, ts time.Time) {
	if !t.cfg.NoWireshark {
		wsFrom := 0
		if (from == fsm.Client) != c.wsFirstFromClient {
			wsFrom = 1
		}
		c.Flags, c.DupAck = c.Wireshark.Add(wsFrom, wireshark.Segment{
			Segment: t.seg, Time: ts, HeaderTruncated: s.HeaderTruncated,
			TFOCookie: s.Opts.Has&capture.OptFastOpen != 0 && s.Opts.TFOCookieLen > 0,
		})
		c.FlagCounts.Add(c.Flags)
	}
	z := &t.zseg // field by field, as t.seg (see add)
	z.Flags, z.Seq, z.Ack, z.Window, z.Len, z.IPLen = t.seg.Flags, s.Seq, s.Ack, s.Window, s.PayloadLen, s.IPLen
	z.Time, z.PayloadCut, z.BadChecksum = ts, cut, false
	c.Zeek.Add((from == fsm.Client) == c.FirstFromClient, z)
}

// reusedBy reports whether a SYN from src starts a new connection on the
// 4-tuple rather than belonging to c: c is done (both ends CLOSED, or what
// is left is TIME_WAIT, which Linux lets a new SYN end), or its sender is
// still opening with a different ISN.
func (c *Conn) reusedBy(s *capture.Segment) bool {
	m := &c.Machine
	cs, ss := m.State(fsm.Client), m.State(fsm.Server)
	done := func(st fsm.State) bool { return st == fsm.Closed || st == fsm.TimeWait || st == fsm.Listen }
	if done(cs) && done(ss) {
		return true
	}
	from := fsm.Client
	if s.Src != c.Client {
		from = fsm.Server
	}
	e := m.Endpoint(from)
	return e.HasISN && fsm.Seq(s.Seq) != e.ISN && !e.State.Synchronized()
}

func (t *Table) newConn(s *capture.Segment, ts time.Time, pkt uint64) *Conn {
	if t.conns.len() >= t.cfg.MaxConns {
		t.makeRoom()
	}
	t.nextID++
	t.stats.Conns++
	c := t.alloc()
	c.ID, c.FirstPacket = t.nextID, pkt
	c.setFirst(ts)
	c.Client, c.Server, c.Roles = roles(s)
	c.FirstFromClient = s.Src == c.Client
	c.wsFirstFromClient = c.FirstFromClient
	if !t.cfg.NoVocabularies && zeek.FlipsOnCreate(fsm.Flags(s.Flags), s.Src.Port(), s.Dst.Port(), zeek.LikelyServerPort) {
		c.Zeek.StartFlipped()
	}
	c.Machine.Reset(t.cfg.FSM)
	t.conns.put(c)
	t.stats.Peak = max(t.stats.Peak, t.conns.len())
	return c
}

// makeRoom evicts one connection from a full table: the least valuable
// first (see Config.MaxConns).
func (t *Table) makeRoom() {
	for _, k := range [...]struct {
		cl    class
		count *uint64
	}{
		{classDone, &t.stats.Full.Closed},
		{classHandshake, &t.stats.Full.HalfOpen},
		{classTimeWait, &t.stats.Full.TimeWait},
		{classIdle, &t.stats.Full.Open},
	} {
		if c := t.lists[k.cl].head; c != nil {
			(*k.count)++
			c.full = true
			t.remove(c)
			return
		}
	}
}

// roles decides client and server from the first segment seen (see
// docs/semantics.md): the sender of the first SYN is the client; the
// sender of a SYN-ACK is the server; otherwise the well-known or lower port
// is the server, a guess.
func roles(s *capture.Segment) (client, server netip.AddrPort, how RoleReason) {
	f := fsm.Flags(s.Flags)
	switch {
	case f.Contains(fsm.SYN) && !f.Contains(fsm.ACK):
		return s.Src, s.Dst, RoleBySYN
	case f.Contains(fsm.SYN | fsm.ACK):
		return s.Dst, s.Src, RoleBySYNACK
	}
	sp, dp := s.Src.Port(), s.Dst.Port()
	srcServer := sp < dp
	if (sp < 1024) != (dp < 1024) {
		srcServer = sp < 1024
	}
	if srcServer {
		return s.Dst, s.Src, RoleByPort
	}
	return s.Src, s.Dst, RoleByPort
}

// Advance moves the clock to now: TIME_WAIT that ran out ends, stuck
// handshakes are given up, idle connections are evicted, and connections
// that are done leave the table once late segments can no longer come.
func (t *Table) Advance(now time.Time) {
	t.reclaim()
	t.advance(now)
}

func (t *Table) advance(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
	t.nextTick = t.now.Add(time.Second)
	t.sweep()
	tw := t.cfg.FSM.TimeWait()
	for c := t.lists[classTimeWait].head; c != nil && !t.now.Before(c.Last().Add(tw)); c = t.lists[classTimeWait].head {
		if t.expireTimeWait(c) {
			if t.refileAs(c, c.after()) {
				break
			}
			continue
		}
		packed := c.body == nil
		t.wake(c)
		t.stats.TimeWaitClosed += uint64(c.Machine.Advance(t.now))
		t.emit(c)
		stuck := t.refile(c)
		t.repack(c, packed)
		if stuck {
			break
		}
	}
	for c := t.lists[classHandshake].head; c != nil && !t.now.Before(c.Last().Add(t.cfg.HandshakeTimeout)); c = t.lists[classHandshake].head {
		t.wake(c)
		c.Machine.GiveUp(c.Last().Add(t.cfg.HandshakeTimeout))
		t.emit(c)
		c.timedOut = true
		t.stats.TimedOut++
		if t.refile(c) {
			break
		}
	}
	for c := t.lists[classIdle].head; c != nil && !t.now.Before(c.Last().Add(t.cfg.IdleTimeout)); c = t.lists[classIdle].head {
		c.evicted = true
		t.stats.Evicted++
		t.remove(c)
	}
	for c := t.lists[classDone].head; c != nil && !t.now.Before(c.Last().Add(tw)); c = t.lists[classDone].head {
		t.remove(c)
	}
}

// Settle runs every live connection's timers up to now, including those
// the coarse per-class lists in Advance have not reached yet: what the
// table shows after Settle is exact at now. Call it at the end of a capture.
func (t *Table) Settle(now time.Time) {
	t.reclaim()
	t.advance(now)
	// Only connections with an endpoint in TIME_WAIT have a timer to run;
	// they are in the TIME_WAIT list, and their transitions are handed out
	// in the order of the connections.
	if !t.mayExpire(now) {
		return
	}
	var cs []*Conn
	for c := t.lists[classTimeWait].head; c != nil; c = c.next {
		if c.timerDue(t.now) {
			cs = append(cs, c)
		}
	}
	for _, c := range byID(cs) {
		if n := t.runTimeWait(c); n > 0 {
			t.stats.TimeWaitClosed += uint64(n)
			t.emit(c)
			t.file(c)
		}
	}
}

// mayExpire reports whether a TIME_WAIT in the table may have run out at
// now (a microsecond early, as timerDue; the machines decide): not before
// TIME_WAIT has passed since the earliest segment. Before then, Settle has
// no connection to look at: a capture shorter than TIME_WAIT ends with
// none of its 90k connections read again (3 ms of a 200 ms run).
func (t *Table) mayExpire(now time.Time) bool {
	return !t.earliest.IsZero() && !now.Add(time.Microsecond).Before(t.earliest.Add(t.cfg.FSM.TimeWait()))
}

// runTimeWait runs c's TIME_WAIT timers up to the table's clock and
// returns the transitions they made. A packed connection they did not
// change stays packed.
func (t *Table) runTimeWait(c *Conn) int {
	packed := c.body == nil
	t.wake(c)
	n := c.Machine.Advance(t.now)
	if n == 0 && packed {
		t.sleep(c)
	}
	return n
}

// emit hands the connection's new transitions to the Transition callback.
func (t *Table) emit(c *Conn) {
	n := c.Machine.HistoryLen()
	if t.cfg.Transition != nil {
		for i := int(c.emitted); i < n; i++ {
			t.tr = c.Machine.HistoryAt(i)
			t.cfg.Transition(c, &t.tr)
		}
	}
	c.emitted = int32(n)
}

// refile files c again after a timer changed it. It reports whether c
// stayed at the head of the list it was in, so that the caller stops.
func (t *Table) refile(c *Conn) (stuck bool) {
	return t.refileAs(c, classOf(&c.Machine))
}

// refileAs is refile with c's new class known.
func (t *Table) refileAs(c *Conn, cl class) (stuck bool) {
	was := c.class
	t.fileAs(c, cl)
	return c.class == was && t.lists[was].head == c
}

// file puts c at the back of the list its state belongs to.
func (t *Table) file(c *Conn) {
	t.fileAs(c, classOf(&c.Machine))
}

// fileAs puts c at the back of list cl.
func (t *Table) fileAs(c *Conn, cl class) {
	c.swept = false
	if cl == c.class && t.lists[cl].tail == c {
		return // already there
	}
	t.lists[c.class].unlink(c)
	c.class = cl
	t.lists[cl].push(c)
}

func (t *Table) remove(c *Conn) {
	t.lists[c.class].unlink(c)
	t.conns.remove(c)
	if t.cfg.Finished != nil {
		t.wake(c)
		t.cfg.Finished(c)
		if t.cfg.Compact && !t.keepsFinished {
			t.retire(c)
		}
	}
	t.release(c)
}

// alloc returns a connection to fill in: a recycled one, or a new one.
// Its body's Machine is left for newConn to reset: it keeps the storage it
// grew (fsm.Machine.Reset).
func (t *Table) alloc() *Conn {
	var c *Conn
	switch {
	case t.free != nil:
		c = t.free
		t.free, t.nfree = c.next, t.nfree-1
		t.images.put(c.image())
		*c = Conn{body: c.body}
	case !t.cfg.Recycle:
		// A slab would stay in memory while any of its connections is
		// used: without reuse, a few long-lived ones would keep the
		// memory of every connection that left.
		c = new(Conn)
		c.touch()
	default:
		if len(t.slab) == 0 {
			t.slab = make([]Conn, slabConns)
			for i := range t.slab {
				t.slab[i].touch()
			}
		}
		c = &t.slab[0]
		t.slab = t.slab[1:]
	}
	if c.body == nil {
		c.body = t.getBody()
	}
	b := c.body
	// One at a time: assigned together, the zero values were built on
	// the stack and copied with loads spanning two of those stores.
	b.Dir = [2]Dir{}
	b.FlagCounts = wireshark.Counts{}
	b.Wireshark = wireshark.Conn{}
	b.Zeek = zeek.Conn{}
	return c
}

// touch writes a connection's first and last words, before anything reads
// them. Memory fresh from the kernel is not cleared by the allocator, and
// the first touch of each page decides how it is mapped: a read (the check
// for a body below, or the collector scanning a slab) maps the shared zero
// page, and the write that follows faults a second time, copies the page
// and flushes the TLB of every CPU the process runs on. A Conn can span
// two pages, hence both ends. Not inlined: the compiler drops stores of
// zeros into what new just returned.
//
//go:noinline
func (c *Conn) touch() { c.ID, c.timer = 0, 0 }

// release keeps a connection that left the table for reuse, from the next
// call on (Config.Recycle). No more are kept than the table holds, plus a
// little: after a peak, memory goes back to the garbage collector.
func (t *Table) release(c *Conn) {
	if !t.cfg.Recycle || t.nfree >= t.conns.len()+minFree {
		return
	}
	c.prev, c.next = nil, t.released
	t.released = c
	t.nfree++
}

// minFree is how many connections Recycle keeps even in an empty table.
const minFree = 1024

// reclaim makes the connections released by the previous call reusable.
func (t *Table) reclaim() {
	for t.released != nil {
		c := t.released
		t.released = c.next
		c.next = t.free
		t.free = c
	}
}

// Conns returns the connections in the table, oldest first.
func (t *Table) Conns() []*Conn {
	t.reclaim()
	cs := t.list()
	for _, c := range cs {
		t.wake(c)
	}
	return cs
}

// Each calls fn with each connection in the table, oldest first. A packed
// connection (Config.Compact) is unpacked for the call only, so that
// memory stays as it is, where Conns would unpack them all. fn must not
// keep the connection nor call the table's methods.
func (t *Table) Each(fn func(*Conn)) {
	t.reclaim()
	for _, c := range t.list() {
		t.visit(c, fn)
	}
}

// visit calls fn with c unpacked, and packs it again if it was.
func (t *Table) visit(c *Conn, fn func(*Conn)) {
	if c.body != nil {
		fn(c)
		return
	}
	n, owed := c.imageLen, c.owed
	t.wake(c)
	fn(c)
	// Nothing changed: the image, which wake leaves in place, still holds,
	// with the timers it owes.
	t.putBody(c.body)
	c.body, c.imageLen, c.owed = nil, n, owed
}

// list returns the connections in the table, oldest first, packed or not.
func (t *Table) list() []*Conn {
	cs := make([]*Conn, 0, t.conns.len())
	for c := range t.conns.all() {
		cs = append(cs, c)
	}
	return byID(cs)
}

// byID sorts connections by ID, oldest first, in place. IDs are given out
// in order, so those in the table usually span a range not much wider
// than their number: then each goes straight to its place, without
// comparisons (and the cache misses of reading the IDs again and again).
func byID(cs []*Conn) []*Conn {
	if len(cs) < 2 {
		return cs
	}
	lo, hi := cs[0].ID, cs[0].ID
	for _, c := range cs {
		lo, hi = min(lo, c.ID), max(hi, c.ID)
	}
	if span := hi - lo + 1; span <= 4*uint64(len(cs)) {
		slots := make([]*Conn, span)
		for _, c := range cs {
			slots[c.ID-lo] = c
		}
		cs = cs[:0]
		for _, c := range slots {
			if c != nil {
				cs = append(cs, c)
			}
		}
		return cs
	}
	slices.SortFunc(cs, func(a, b *Conn) int { return cmp.Compare(a.ID, b.ID) })
	return cs
}

// Listeners returns the listening sockets inferred so far, sorted by address.
func (t *Table) Listeners() []*Listener {
	ls := make([]*Listener, 0, len(t.listeners))
	for _, l := range t.listeners {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *Listener) int {
		if less(a.Addr, b.Addr) {
			return -1
		}
		if less(b.Addr, a.Addr) {
			return 1
		}
		return 0
	})
	return ls
}

// Flush removes every connection from the table, oldest first, calling
// Finished for each: the end of the capture.
func (t *Table) Flush() {
	t.reclaim()
	cs := t.drain()
	t.removeFirst(cs, len(cs))
}

// removeFirst removes the first n connections of cs, in order, as Flush
// does. Most are packed at the end of a capture, and their headers and
// images are far apart and out of the cache: it prefetches the header of
// the connection removeHeaderAhead places on and the image of the one
// removeImageAhead places on, reading past n when cs goes on.
func (t *Table) removeFirst(cs []*Conn, n int) {
	for i, c := range cs[:n] {
		if j := i + removeHeaderAhead; j < len(cs) {
			prefetch(unsafe.Pointer(cs[j]), unsafe.Sizeof(Conn{}))
		}
		if j := i + removeImageAhead; j < len(cs) {
			if d := cs[j]; d.body == nil && d.imageLen > 0 {
				prefetch(unsafe.Pointer(d.imageData), uintptr(d.imageLen))
			}
		}
		t.remove(c)
	}
}

const (
	removeHeaderAhead = 16
	removeImageAhead  = 8
)

// drain returns the connections in the table, oldest first, for Flush to
// remove, and empties the index at once: nothing looks a connection up
// while they leave, and clearing the slots is cheaper than taking each
// connection out of them (a cache miss each, 10 ms of a capture of 90k).
func (t *Table) drain() []*Conn {
	cs := t.list()
	t.conns.clear()
	return cs
}
