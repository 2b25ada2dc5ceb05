package reassembly

import (
	"net/netip"
	"sort"
	"time"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
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
	// table. The table forgets the connection afterwards.
	Finished func(*Conn)
	// Transition, if set, is called with every transition as it happens,
	// in capture-time order: those a segment causes and those of timers
	// (TIME_WAIT running out, handshakes given up, port reuse). Revisions
	// come as transitions of their own; Revised flags on earlier ones are
	// set later, in the connection's history. The transition is valid only
	// during the call: copy it to keep it.
	Transition func(*Conn, *fsm.Transition)
}

// DefaultMaxConns is the default cap on connections in the table. A
// connection costs about 1.6 KiB of heap (3 to 4 KiB of resident memory with
// the garbage collector's headroom), so the cap bounds the table near 2 GiB.
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

// Key is the canonical key of a 4-tuple: the same for both directions.
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
	conns     map[Key]*Conn
	lists     [numClasses]list
	listeners map[netip.AddrPort]*Listener
	nextID    uint64
	now       time.Time
	nextTick  time.Time
	stats     Stats
	seg       fsm.Segment
	tr        fsm.Transition // what Config.Transition is handed
}

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
	return &Table{cfg: cfg, conns: make(map[Key]*Conn), listeners: make(map[netip.AddrPort]*Listener)}
}

// Now returns the table's clock: the latest timestamp it has seen.
func (t *Table) Now() time.Time { return t.now }

// Stats returns the counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Live = len(t.conns)
	return s
}

// Add runs one segment through its connection and returns the connection
// and what the state machine made of the segment.
func (t *Table) Add(s *capture.Segment, ts time.Time, pkt uint64) (*Conn, fsm.Report) {
	t.stats.Segments++
	if ts.After(t.now) {
		t.now = ts
		if !t.now.Before(t.nextTick) {
			t.Advance(t.now)
		}
	}
	f := fsm.Flags(s.Flags)
	key := KeyOf(s.Src, s.Dst)
	c := t.conns[key]
	if c != nil && f.Contains(fsm.SYN) && !f.Contains(fsm.ACK) && c.reusedBy(s) {
		c.Machine.EndTimeWait(ts, pkt)
		t.emit(c)
		c.replaced = true
		t.remove(c)
		t.stats.PortReuses++
		c = nil
	}
	if c == nil {
		c = t.newConn(key, s, ts, pkt)
	}
	from := fsm.Client
	if s.Src != c.Client {
		from = fsm.Server
	}
	t.seg = fsm.Segment{
		Seq: fsm.Seq(s.Seq), Ack: fsm.Seq(s.Ack), Flags: f,
		Len: uint32(s.PayloadLen), Window: s.Window, WScale: -1,
	}
	if s.Opts.Has&capture.OptWScale != 0 {
		t.seg.WScale = int8(min(s.Opts.WScale, 14))
	}
	rep := c.Machine.Step(from, &t.seg, ts, pkt)
	t.emit(c)
	d := &c.Dir[from]
	d.Packets++
	d.Bytes += uint64(s.PayloadLen)
	d.IPBytes += uint64(s.IPLen)
	if rep.Retransmission {
		d.Retransmissions++
	}
	if rep.KeepAlive {
		d.KeepAlives++
	}
	c.Anomalies |= rep.Anomalies
	if ts.After(c.Last) {
		c.Last = ts
	}
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

func (t *Table) newConn(key Key, s *capture.Segment, ts time.Time, pkt uint64) *Conn {
	if len(t.conns) >= t.cfg.MaxConns {
		t.makeRoom()
	}
	t.nextID++
	t.stats.Conns++
	c := &Conn{ID: t.nextID, key: key, First: ts, Last: ts, FirstPacket: pkt}
	c.Client, c.Server, c.Roles = roles(s)
	c.Machine.Reset(t.cfg.FSM)
	t.conns[key] = c
	t.stats.Peak = max(t.stats.Peak, len(t.conns))
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

// roles decides client and server from the first segment seen (DESIGN:
// the sender of the first SYN is the client; the sender of a SYN-ACK is the
// server; otherwise the well-known or lower port is the server, a guess).
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
	if now.After(t.now) {
		t.now = now
	}
	t.nextTick = t.now.Add(time.Second)
	tw := t.cfg.FSM.TimeWait()
	for c := t.lists[classTimeWait].head; c != nil && !t.now.Before(c.Last.Add(tw)); c = t.lists[classTimeWait].head {
		t.stats.TimeWaitClosed += uint64(c.Machine.Advance(t.now))
		t.emit(c)
		if t.refile(c) {
			break
		}
	}
	for c := t.lists[classHandshake].head; c != nil && !t.now.Before(c.Last.Add(t.cfg.HandshakeTimeout)); c = t.lists[classHandshake].head {
		c.Machine.GiveUp(c.Last.Add(t.cfg.HandshakeTimeout))
		t.emit(c)
		c.timedOut = true
		t.stats.TimedOut++
		if t.refile(c) {
			break
		}
	}
	for c := t.lists[classIdle].head; c != nil && !t.now.Before(c.Last.Add(t.cfg.IdleTimeout)); c = t.lists[classIdle].head {
		c.evicted = true
		t.stats.Evicted++
		t.remove(c)
	}
	for c := t.lists[classDone].head; c != nil && !t.now.Before(c.Last.Add(tw)); c = t.lists[classDone].head {
		t.remove(c)
	}
}

// Settle runs every live connection's timers up to now, including those
// the coarse per-class lists in Advance have not reached yet: what the
// table shows after Settle is exact at now. Call it at the end of a capture.
func (t *Table) Settle(now time.Time) {
	t.Advance(now)
	for _, c := range t.Conns() {
		if n := c.Machine.Advance(t.now); n > 0 {
			t.stats.TimeWaitClosed += uint64(n)
			t.emit(c)
			t.file(c)
		}
	}
}

// emit hands the connection's new transitions to the Transition callback.
func (t *Table) emit(c *Conn) {
	n := c.Machine.HistoryLen()
	if t.cfg.Transition != nil {
		for i := c.emitted; i < n; i++ {
			t.tr = c.Machine.HistoryAt(i)
			t.cfg.Transition(c, &t.tr)
		}
	}
	c.emitted = n
}

// refile files c again after a timer changed it. It reports whether c
// stayed at the head of the list it was in, so that the caller stops.
func (t *Table) refile(c *Conn) (stuck bool) {
	was := c.class
	t.file(c)
	return c.class == was && t.lists[was].head == c
}

// file puts c at the back of the list its state belongs to.
func (t *Table) file(c *Conn) {
	t.lists[c.class].unlink(c)
	c.class = classOf(&c.Machine)
	t.lists[c.class].push(c)
}

func (t *Table) remove(c *Conn) {
	t.lists[c.class].unlink(c)
	if t.conns[c.key] == c {
		delete(t.conns, c.key)
	}
	if t.cfg.Finished != nil {
		t.cfg.Finished(c)
	}
}

// Conns returns the connections in the table, oldest first.
func (t *Table) Conns() []*Conn {
	cs := make([]*Conn, 0, len(t.conns))
	for _, c := range t.conns {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	return cs
}

// Listeners returns the listening sockets inferred so far, sorted by address.
func (t *Table) Listeners() []*Listener {
	ls := make([]*Listener, 0, len(t.listeners))
	for _, l := range t.listeners {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool { return less(ls[i].Addr, ls[j].Addr) })
	return ls
}

// Flush removes every connection from the table, oldest first, calling
// Finished for each: the end of the capture.
func (t *Table) Flush() {
	for _, c := range t.Conns() {
		t.remove(c)
	}
}
