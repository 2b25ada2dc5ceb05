package reassembly

import (
	"math"
	"net/netip"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/tcpstate/tcpstate/capture"
)

// Sharded is a connection table split across worker goroutines, so that
// the work of tracking connections runs on several cores while the caller
// reads and decodes on its own. Each worker owns a Table and every segment
// goes, with all others of its 4-tuple, to the worker a hash of the
// 4-tuple picks, in batches.
//
// What it reports is what one Table given the same calls would report:
// the same connections with the same IDs, roles, times, counters, states,
// histories and endings, the same listeners and the same Stats, and
// Finished is called with the same connections in the same order. This
// holds because the clock is the caller's, not the workers': Sharded keeps
// it exactly as a Table does and delivers each tick (Advance) to every
// worker at the same place in the stream, and the timers of a tick run over
// all the workers' connections in the order one table's lists would hold
// them (see expire). There is one exception, MaxConns: see NewSharded.
//
// Config.Finished is called on the goroutine that calls Add, Advance,
// Settle, Flush, Wait or Close, from inside those calls, never concurrently,
// and in the order a Table calls it, but later: a connection is handed over
// once every worker has got past the segment or tick that ended it, which
// may be some batches after the call that ended it, and at the latest by
// Wait. The connection has its final ID by then and no worker touches it
// again. Finished must not call the Sharded's methods.
//
// With Config.Recycle or Compact, a connection goes back to its worker for
// reuse once Finished returns (with the worker's next batch): Finished
// must copy what it needs, as a Table's promises it.
//
// Config.Transition cannot be honoured that way (it sees connections while
// they are live, in capture order), so a Config with Transition set gets a
// single Table on the caller's goroutine, as does workers <= 1: the methods
// then behave exactly as the Table's and Finished is called synchronously.
//
// The methods must be called from one goroutine. A Sharded with workers
// holds goroutines from the first Add until Close.
type Sharded struct {
	cfg    Config // defaults applied; Finished is the caller's
	single *Table // set when everything runs on the caller's goroutine

	shards []*shard
	// keys hashes a segment's ends as every worker's index does (they
	// share its seed): the caller works the hash out once, picks the
	// worker from its high half, and the worker's index looks it up by
	// its low half.
	keys    index
	out     chan *batch // batches the workers are done with
	running bool
	wg      sync.WaitGroup

	// The clock, kept exactly as a Table keeps its own.
	now, nextTick time.Time
	// seq numbers the stream: one for each segment and each tick, in the
	// order of the calls. It orders what the workers report back.
	seq uint64

	ticks     []*tick // ticks sent and not yet merged, oldest first, from tickHead
	tickHead  int
	freeTicks []*tick

	// What merging the workers' events in stream order made of them.
	nextID     uint64
	live, peak int
}

// The batches a worker gets: batchLen entries each, and at most
// batchesPerShard of them per worker in flight or being filled, which
// bounds the memory and how far the caller can run ahead. With 3
// goroutines on 2 cores (the caller's and two workers) the slack matters:
// with 4 batches the caller and the workers waited for each other more
// (conns on a 1M-packet capture, 15 rounds: 8 batches 2.2% less wall
// time, 6 3.1%, 16 1.9%, 8 of 1024 entries 3.2%; about 0.1 MiB a batch).
const (
	batchLen        = 512
	batchesPerShard = 8
)

// shard is one worker and its table. The fields of the first group are
// the worker's: the goroutine that calls Add touches them only while the
// worker waits for a batch, and another worker only while this one waits
// at a tick (see arrive). Those of the last group belong to the goroutine
// that calls Add.
type shard struct {
	i int
	t *Table
	// listenedAt is the stream position of the segment that made each of
	// t's listeners: the earliest one wins when they are merged.
	listenedAt map[netip.AddrPort]uint64
	sink       *[]event // where connections leaving t are reported
	cur        uint64   // stream position of the work in progress

	// The groups are a cache line apart: the worker writes cur, and the
	// caller reads fill, on every segment; in one line, the line went
	// from one core to the other and back with each segment.
	_ [cacheLine]byte

	in chan *batch // the batches sent to the worker

	fill *batch   // the batch being filled
	free []*batch // batches ready to fill
	// back holds connections Finished is done with, for the worker to
	// reuse (Config.Recycle) or to reuse their bodies (Compact); they go
	// with its next batch.
	back   []*Conn
	sent   []uint64 // stream position of the first entry of each batch in flight, oldest first
	events []event  // reported back, not yet merged, from evHead
	evHead int
}

// cacheLine is the size of a cache line (64 bytes on amd64 and most arm64;
// a larger one only shares a line again).
const cacheLine = 64

// batch is a run of segments and ticks for one worker, and what the worker
// reports back about them.
type batch struct {
	shard   int
	entries []entry
	events  []event
	hasTick bool
	back    []*Conn // connections to reuse (shard.back)
}

// entry is a segment (Payload dropped: the table does not read it) or a
// tick.
type entry struct {
	seg  capture.Segment
	cut  bool // the capture cut the payload (seg's is dropped)
	ts   time.Time
	pkt  uint64
	seq  uint64
	tick *tick // a tick, not a segment
	// h is the hash of the segment's ends (see Sharded.keys); 0 in a
	// tick.
	h uint64
}

// event is a connection created or leaving its table, at stream position
// seq.
type event struct {
	seq    uint64
	c      *Conn
	create bool
}

// stamp orders the connections of all the workers as one table's timer
// lists would: Conn.order is the stamp of the last time the connection was
// filed. A connection filed by a segment carries the segment's stream
// position; one refiled by a timer carries the tick's position and its rank
// among the connections that tick refiled. (A field, not a map beside the
// table: the map cost about 60 ns of CPU per segment.)
type stamp struct{ seq, sub uint64 }

func (a stamp) less(b stamp) bool { return a.seq < b.seq || a.seq == b.seq && a.sub < b.sub }

// tick is one Advance on its way through the workers. Each worker arrives
// at it at its place in the stream; the last to arrive runs the timers for
// all of them (expire) while those whose connections it touches wait.
type tick struct {
	seq uint64
	now time.Time

	mu      sync.Mutex
	cond    sync.Cond
	arrived int
	done    bool
	anyDue  bool
	due     []bool                  // the worker had a timer due: it waits and its table takes part
	heads   [][numClasses]headStamp // the list heads of a worker with nothing due, which stay put
	events  []event                 // connections the timers removed, in order
	evHead  int
}

// headStamp is the stamp of a list's head, if the list has one.
type headStamp struct {
	at stamp
	ok bool
}

// never is a clock reading no capture reaches: a worker's table never ticks
// on its own segments.
var never = time.Unix(math.MaxInt64-62135596800, 999999999)

// NewSharded returns an empty table spread over workers goroutines, or,
// with workers <= 1 or cfg.Transition set, a single Table used in place
// (see Sharded).
//
// MaxConns caps each worker's table at MaxConns/workers (rounded up), so
// that memory stays bounded as it is with one table. The output matches a
// single table only while no worker's table is full: the table that evicts
// picks among its own connections, and a worker's table can fill before the
// total reaches MaxConns when the hash spreads connections unevenly.
// Stats.Full says when that happened.
func NewSharded(cfg Config, workers int) *Sharded {
	cfg.defaults()
	s := &Sharded{cfg: cfg}
	if workers <= 1 || cfg.Transition != nil {
		s.single = NewTable(cfg)
		return s
	}
	per := cfg
	per.MaxConns = (cfg.MaxConns + workers - 1) / workers
	// A worker's table hands its connections over to Finished later, so
	// it cannot reuse them at once: they come back from deliver instead.
	per.Recycle = false
	s.out = make(chan *batch, workers*batchesPerShard)
	s.keys = newIndex()
	for i := range workers {
		sh := &shard{i: i, listenedAt: make(map[netip.AddrPort]uint64)}
		per.Finished = sh.finished
		sh.t = NewTable(per)
		sh.t.conns.seed = s.keys.seed
		sh.t.nextTick = never
		sh.t.keepsFinished = true
		for range batchesPerShard {
			sh.free = append(sh.free, &batch{shard: i, entries: make([]entry, 0, batchLen)})
		}
		s.shards = append(s.shards, sh)
	}
	return s
}

// Workers returns the number of worker goroutines: 1 when everything runs
// on the caller's goroutine.
func (s *Sharded) Workers() int {
	if s.single != nil {
		return 1
	}
	return len(s.shards)
}

// Now returns the clock: the latest timestamp given to Add or Advance.
func (s *Sharded) Now() time.Time {
	if s.single != nil {
		return s.single.Now()
	}
	return s.now
}

// Add hands one segment to the worker of its connection. Unlike Table.Add
// it returns nothing: the segment is processed later, on the worker. The
// segment is copied without its payload; seg can be reused at once.
func (s *Sharded) Add(seg *capture.Segment, ts time.Time, pkt uint64) {
	if s.single != nil {
		s.single.Add(seg, ts, pkt)
		return
	}
	// The clock ticks where Table.Add would tick it.
	if ts.After(s.now) {
		s.now = ts
		if !s.now.Before(s.nextTick) {
			s.tick(s.now)
		}
	}
	s.seq++
	h := s.keys.hash(seg.Src, seg.Dst)
	sh := s.shards[s.pick(h)]
	e := s.entry(sh)
	e.seg = *seg
	e.seg.Payload = nil
	e.cut = len(seg.Payload) < seg.PayloadLen
	e.ts, e.pkt, e.seq, e.tick, e.h = ts, pkt, s.seq, nil, h
	if len(sh.fill.entries) == batchLen {
		s.send(sh)
		s.sendLagging()
	}
}

// Advance moves the clock to now as Table.Advance does. Its effects happen
// in stream order on the workers: connections it ends reach Finished later.
func (s *Sharded) Advance(now time.Time) {
	if s.single != nil {
		s.single.Advance(now)
		return
	}
	s.tick(now)
}

// Settle runs every live connection's timers up to now, as Table.Settle
// does, and waits for the workers.
func (s *Sharded) Settle(now time.Time) {
	if s.single != nil {
		s.single.Settle(now)
		return
	}
	s.tick(now)
	s.Wait()
	// Table.Settle's second pass runs the timers of every connection in
	// ID order and refiles those they changed. Running them is the same in
	// any order; the refiling is done in ID order, so that the lists and
	// stamps (which go on from a stream position of their own) are one
	// table's.
	s.seq++
	var changed []*Conn
	for _, sh := range s.shards {
		if !sh.t.mayExpire(sh.t.now) {
			continue
		}
		for c := range sh.t.conns.all() {
			// Only an endpoint in TIME_WAIT has a timer to run.
			if c.class != classTimeWait || !c.timerDue(sh.t.now) {
				continue
			}
			if n := sh.t.runTimeWait(c); n > 0 {
				sh.t.stats.TimeWaitClosed += uint64(n)
				sh.t.emit(c)
				changed = append(changed, c)
			}
		}
	}
	sort.Slice(changed, func(i, j int) bool { return changed[i].ID < changed[j].ID })
	for _, c := range changed {
		sh := s.shards[s.shardOf(c.Client, c.Server)]
		sh.t.file(c)
		c.order = stamp{s.seq, c.ID}
	}
}

// Flush removes every connection, oldest first, calling Finished for each,
// as Table.Flush does.
//
// The tables empty themselves in parallel, each on a goroutine of its own
// (the workers are idle), oldest first, flushWindow connections at a time:
// removed and unpacked, a window goes to the caller, which merges the
// windows of all the tables by ID and calls Finished; the connections then
// go back to their table to be reused. At most flushAhead windows a table
// are unpacked at once, so that packed connections are not all unpacked
// at the end of a capture.
func (s *Sharded) Flush() {
	if s.single != nil {
		s.single.Flush()
		return
	}
	s.Wait()
	s.seq++
	reuse := s.cfg.Recycle || s.cfg.Compact
	type stream struct {
		windows chan []*Conn // removed, in ID order
		done    chan []*Conn // windows Finished is done with
		win     []*Conn      // the window being merged, whole
		cur     []*Conn      // what of it is left to merge
	}
	// refill gives st's merged window back and takes the next; it reports
	// false when the table is empty.
	refill := func(st *stream) bool {
		if st.win != nil {
			st.done <- st.win
		}
		st.win, _ = <-st.windows
		st.cur = st.win
		return st.win != nil
	}
	streams := make([]*stream, len(s.shards))
	var wg sync.WaitGroup
	for i, sh := range s.shards {
		// done never holds more than the windows a table may have out
		// (see flushAhead): the caller never waits to give one back.
		st := &stream{windows: make(chan []*Conn, flushAhead), done: make(chan []*Conn, flushAhead+1)}
		streams[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := sh.t.drain()
			var left []event // what sh.finished reports: the window itself
			sh.sink, sh.cur = &left, s.seq
			giveBack := func(win []*Conn) {
				if reuse {
					for _, c := range win {
						sh.t.takeBack(c, s.cfg.Recycle)
					}
				}
			}
			for len(cs) > 0 {
				win := cs[:min(flushWindow, len(cs))]
				sh.t.removeFirst(cs, len(win))
				cs = cs[len(win):]
				clear(left)
				left = left[:0]
				// Take back what the caller is done with before unpacking more.
				for more := true; more; {
					select {
					case w := <-st.done:
						giveBack(w)
					default:
						more = false
					}
				}
				st.windows <- win
			}
			close(st.windows)
			for w := range st.done {
				giveBack(w)
			}
		}()
	}
	// Merge the windows by ID.
	for {
		var pick *stream
		for _, st := range streams {
			if len(st.cur) == 0 && !refill(st) {
				continue
			}
			if pick == nil || st.cur[0].ID < pick.cur[0].ID {
				pick = st
			}
		}
		if pick == nil {
			break
		}
		c := pick.cur[0]
		pick.cur = pick.cur[1:]
		s.handOver(c)
	}
	for _, st := range streams {
		close(st.done)
	}
	wg.Wait()
}

// flushWindow is how many connections a table removes at once in Flush,
// and flushAhead how many windows it may have removed before Finished is
// done with them.
const (
	flushWindow = 64
	flushAhead  = 2
)

// Wait returns once the workers have processed everything given so far and
// Finished has been called for every connection that left a table.
func (s *Sharded) Wait() {
	if s.single != nil {
		return
	}
	for _, sh := range s.shards {
		if sh.fill != nil && len(sh.fill.entries) > 0 {
			s.send(sh)
		}
	}
	for s.inFlight() {
		s.receive()
	}
	s.merge()
}

// Close waits for the workers and stops them. The results stay readable;
// adding more starts the workers again.
func (s *Sharded) Close() {
	if s.single != nil {
		return
	}
	s.Wait()
	if !s.running {
		return
	}
	for _, sh := range s.shards {
		close(sh.in)
	}
	s.wg.Wait()
	s.running = false
}

// Conns returns the connections in the tables, oldest first. It waits for
// the workers.
func (s *Sharded) Conns() []*Conn {
	if s.single != nil {
		return s.single.Conns()
	}
	s.Wait()
	cs := s.conns()
	for _, c := range cs {
		s.shards[s.shardOf(c.Client, c.Server)].t.wake(c)
	}
	return cs
}

// Each calls fn with each connection in the tables, oldest first, as
// Table.Each does. It waits for the workers.
func (s *Sharded) Each(fn func(*Conn)) {
	if s.single != nil {
		s.single.Each(fn)
		return
	}
	s.Wait()
	for _, c := range s.conns() {
		s.shards[s.shardOf(c.Client, c.Server)].t.visit(c, fn)
	}
}

// conns returns the connections in the tables, oldest first, packed or
// not.
func (s *Sharded) conns() []*Conn {
	n := 0
	for _, sh := range s.shards {
		n += sh.t.conns.len()
	}
	cs := make([]*Conn, 0, n)
	for _, sh := range s.shards {
		for c := range sh.t.conns.all() {
			cs = append(cs, c)
		}
	}
	return byID(cs)
}

// Listeners returns the listening sockets inferred so far, sorted by
// address: each worker's, merged by address, with the Since of the one
// seen first and the Answered of all. It waits for the workers.
func (s *Sharded) Listeners() []*Listener {
	if s.single != nil {
		return s.single.Listeners()
	}
	s.Wait()
	type first struct {
		l  *Listener
		at uint64
	}
	byAddr := make(map[netip.AddrPort]first)
	for _, sh := range s.shards {
		for addr, l := range sh.t.listeners {
			at := sh.listenedAt[addr]
			f, ok := byAddr[addr]
			if !ok {
				byAddr[addr] = first{&Listener{Addr: addr, Since: l.Since, Answered: l.Answered}, at}
				continue
			}
			f.l.Answered += l.Answered
			if at < f.at {
				f.l.Since, f.at = l.Since, at
				byAddr[addr] = f
			}
		}
	}
	ls := make([]*Listener, 0, len(byAddr))
	for _, f := range byAddr {
		ls = append(ls, f.l)
	}
	sort.Slice(ls, func(i, j int) bool { return less(ls[i].Addr, ls[j].Addr) })
	return ls
}

// Stats returns the counters: the workers' summed, and Peak, the most
// connections the tables held at once, counted from the connections'
// creations and departures in stream order. It waits for the workers.
func (s *Sharded) Stats() Stats {
	if s.single != nil {
		return s.single.Stats()
	}
	s.Wait()
	var st Stats
	for _, sh := range s.shards {
		w := sh.t.Stats()
		st.Segments += w.Segments
		st.Conns += w.Conns
		st.Live += w.Live
		st.PortReuses += w.PortReuses
		st.TimedOut += w.TimedOut
		st.Evicted += w.Evicted
		st.TimeWaitClosed += w.TimeWaitClosed
		st.Full.Closed += w.Full.Closed
		st.Full.HalfOpen += w.Full.HalfOpen
		st.Full.TimeWait += w.Full.TimeWait
		st.Full.Open += w.Full.Open
	}
	st.Peak = s.peak
	return st
}

// shardOf picks the worker of the connection between a and b: the hash is
// the same in both directions.
func (s *Sharded) shardOf(a, b netip.AddrPort) int { return s.pick(s.keys.hash(a, b)) }

// pick is the worker of hash h: its high half scaled to the workers. (An
// index's slot comes from the low half, so a worker's connections still
// fill all of its slots.)
func (s *Sharded) pick(h uint64) int { return int((h >> 32) * uint64(len(s.shards)) >> 32) }

// tick moves the clock as Table.Advance does and sends the tick to every
// worker at this place in the stream.
func (s *Sharded) tick(now time.Time) {
	if now.After(s.now) {
		s.now = now
	}
	s.nextTick = s.now.Add(time.Second)
	s.seq++
	tk := s.newTick()
	tk.seq, tk.now = s.seq, s.now
	s.ticks = append(s.ticks, tk)
	for _, sh := range s.shards {
		e := s.entry(sh)
		*e = entry{seq: s.seq, tick: tk}
		sh.fill.hasTick = true
		if len(sh.fill.entries) == batchLen {
			s.send(sh)
		}
	}
}

func (s *Sharded) newTick() *tick {
	if n := len(s.freeTicks); n > 0 {
		tk := s.freeTicks[n-1]
		s.freeTicks = s.freeTicks[:n-1]
		return tk
	}
	tk := &tick{due: make([]bool, len(s.shards)), heads: make([][numClasses]headStamp, len(s.shards))}
	tk.cond.L = &tk.mu
	return tk
}

func (s *Sharded) freeTick(tk *tick) {
	tk.arrived, tk.done, tk.anyDue = 0, false, false
	clear(tk.events)
	tk.events, tk.evHead = tk.events[:0], 0
	s.freeTicks = append(s.freeTicks, tk)
}

// entry returns the next free entry of sh's batch, waiting for a batch to
// come back when all of sh's are in flight.
func (s *Sharded) entry(sh *shard) *entry {
	b := sh.fill
	if b == nil {
		for len(sh.free) == 0 {
			s.await()
		}
		b = sh.free[len(sh.free)-1]
		sh.free = sh.free[:len(sh.free)-1]
		sh.fill = b
	}
	n := len(b.entries)
	b.entries = b.entries[:n+1]
	return &b.entries[n]
}

// await receives one batch back from a worker. Workers wait for each other
// at ticks, so first every batch holding a tick goes out: a worker waiting
// at a tick is then never waiting for a batch that is not on its way.
func (s *Sharded) await() {
	for _, sh := range s.shards {
		if sh.fill != nil && sh.fill.hasTick {
			s.send(sh)
		}
	}
	s.receive()
}

// send hands sh's batch to its worker.
func (s *Sharded) send(sh *shard) {
	b := sh.fill
	sh.fill = nil
	b.back, sh.back = sh.back, b.back[:0]
	sh.sent = append(sh.sent, b.entries[0].seq)
	s.start()
	sh.in <- b // never blocks: the channel holds all of sh's batches
}

// sendLagging sends the partly filled batches of workers whose traffic is
// light: until they go, the connections other workers report cannot be
// merged, and pile up.
func (s *Sharded) sendLagging() {
	lag := uint64(4 * batchLen * len(s.shards))
	for _, sh := range s.shards {
		if b := sh.fill; b != nil && len(b.entries) > 0 && b.entries[0].seq+lag < s.seq {
			s.send(sh)
		}
	}
}

func (s *Sharded) inFlight() bool {
	for _, sh := range s.shards {
		if len(sh.sent) > 0 {
			return true
		}
	}
	return false
}

// receive takes one batch back from a worker, keeps what it reported and
// merges what can be merged.
func (s *Sharded) receive() {
	b := <-s.out
	sh := s.shards[b.shard]
	sh.sent = append(sh.sent[:0], sh.sent[1:]...)
	sh.events = append(sh.events, b.events...)
	clear(b.events)
	b.events = b.events[:0]
	b.entries = b.entries[:0] // every field is written again before it is read
	b.hasTick = false
	sh.free = append(sh.free, b)
	s.merge()
}

// start starts the workers if they are not running.
func (s *Sharded) start() {
	if s.running {
		return
	}
	s.running = true
	for _, sh := range s.shards {
		sh.in = make(chan *batch, batchesPerShard)
		s.wg.Add(1)
		go s.work(sh)
	}
}

// merge hands over, in stream order, the events of every position that all
// the workers have got past: a new connection gets its ID (the order of
// creation over all the tables, as one table numbers them), a connection
// that left goes to Finished.
func (s *Sharded) merge() {
	// Everything before the first position still with a worker (or not yet
	// sent) is final.
	var w uint64 = math.MaxUint64
	for _, sh := range s.shards {
		switch {
		case len(sh.sent) > 0:
			w = min(w, sh.sent[0])
		case sh.fill != nil && len(sh.fill.entries) > 0:
			w = min(w, sh.fill.entries[0].seq)
		}
	}
	for {
		var (
			best *event
			from *int
		)
		for _, sh := range s.shards {
			if sh.evHead < len(sh.events) {
				if e := &sh.events[sh.evHead]; e.seq < w && (best == nil || e.seq < best.seq) {
					best, from = e, &sh.evHead
				}
			}
		}
		// A tick's events are read only once every worker is past it: the
		// last to arrive wrote them before it went on.
		for s.tickHead < len(s.ticks) && s.ticks[s.tickHead].seq < w {
			tk := s.ticks[s.tickHead]
			if tk.evHead < len(tk.events) {
				if e := &tk.events[tk.evHead]; best == nil || e.seq < best.seq {
					best, from = e, &tk.evHead
				}
				break
			}
			s.ticks[s.tickHead] = nil
			s.tickHead++
			s.freeTick(tk)
		}
		if best == nil {
			break
		}
		*from++
		s.deliver(*best)
	}
	if s.tickHead == len(s.ticks) {
		s.ticks, s.tickHead = s.ticks[:0], 0
	}
	for _, sh := range s.shards {
		if sh.evHead == len(sh.events) {
			clear(sh.events)
			sh.events, sh.evHead = sh.events[:0], 0
		}
	}
}

func (s *Sharded) deliver(e event) {
	if e.create {
		s.nextID++
		e.c.ID = s.nextID
		s.live++
		s.peak = max(s.peak, s.live)
		return
	}
	s.handOver(e.c)
	if s.cfg.Recycle || s.cfg.Compact {
		sh := s.shards[s.shardOf(e.c.Client, e.c.Server)]
		sh.back = append(sh.back, e.c)
	}
}

// handOver gives Finished a connection that left its table.
func (s *Sharded) handOver(c *Conn) {
	s.live--
	if s.cfg.Finished != nil {
		s.cfg.Finished(c)
	}
}

// work is a worker: it runs its batches through its table.
func (s *Sharded) work(sh *shard) {
	defer s.wg.Done()
	for b := range sh.in {
		for i, c := range b.back {
			sh.t.takeBack(c, s.cfg.Recycle)
			b.back[i] = nil
		}
		b.back = b.back[:0]
		sh.sink = &b.events
		for i := range min(len(b.entries), aheadHash) {
			sh.ahead(b.entries, i-aheadHash)
		}
		for i := range b.entries {
			sh.ahead(b.entries, i)
			e := &b.entries[i]
			if e.tick != nil {
				s.arrive(sh, e.tick)
				sh.sink = &b.events
				continue
			}
			sh.add(e)
		}
		s.out <- b
	}
}

// add runs one segment through the worker's table and notes what the
// merge needs: a connection created, a listener found, where the
// connection now stands in its timer list.
func (sh *shard) add(e *entry) {
	t := sh.t
	sh.cur = e.seq
	conns, listeners := t.stats.Conns, len(t.listeners)
	c, _ := t.add(&e.seg, e.cut, e.ts, e.pkt, e.h)
	if t.stats.Conns != conns {
		*sh.sink = append(*sh.sink, event{seq: e.seq, c: c, create: true})
	}
	if len(t.listeners) != listeners {
		sh.listenedAt[c.Server] = e.seq
	}
	c.order = stamp{seq: e.seq}
}

// How far ahead of the segment being processed ahead works: it prefetches
// the index slot of the segment aheadHash places on (whose hash the caller
// worked out), then reads the slot of the one aheadConn places on and
// prefetches its connection.
// In a busy capture a segment's connection is nearly always out of the
// cache (tens of thousands of connections of 1 KiB or more each), and the
// slot and the connection are found one after the other: asked for when
// the segment comes, they are two cache misses in a row. On a capture of
// 90k connections this took about 3% off the CPU time of conns (prefetching
// the connection's state as well took nothing more off).
const (
	aheadHash = 12
	aheadConn = 6
)

// ahead prepares the segments after the i-th of es (see aheadHash). It only
// reads the table: a prefetch of a connection that has left, or of a slot
// the index has since moved, is only wasted.
func (sh *shard) ahead(es []entry, i int) {
	x := &sh.t.conns
	if len(x.slots) == 0 {
		return
	}
	mask := uint64(len(x.slots) - 1)
	if j := i + aheadHash; j < len(es) && es[j].h != 0 {
		prefetch(unsafe.Pointer(&x.slots[home(es[j].h, mask)]), 1)
	}
	if j := i + aheadConn; j >= 0 && j < len(es) && es[j].h != 0 {
		if s := &x.slots[home(es[j].h, mask)]; s.h == es[j].h {
			prefetch(unsafe.Pointer(s.c), unsafe.Sizeof(Conn{}))
		}
	}
}

// finished is the worker table's Config.Finished.
func (sh *shard) finished(c *Conn) {
	*sh.sink = append(*sh.sink, event{seq: sh.cur, c: c})
}

// due reports whether a timer of Table.Advance would act on the head of
// one of the table's lists at now.
func (sh *shard) due(now time.Time) bool {
	cfg := &sh.t.cfg
	tw := cfg.FSM.TimeWait()
	after := [numClasses]time.Duration{
		classIdle: cfg.IdleTimeout, classHandshake: cfg.HandshakeTimeout,
		classTimeWait: tw, classDone: tw,
	}
	for cl := range class(numClasses) {
		if c := sh.t.lists[cl].head; c != nil && !now.Before(c.Last().Add(after[cl])) {
			return true
		}
	}
	return false
}

// arrive is a worker reaching a tick. A worker none of whose list heads is
// due leaves the stamps of its heads and goes on: the tick cannot change
// its table, since a timer list is worked from its head and stops at the
// first connection not due. One with a head due waits. The last to arrive
// runs the tick over the tables that had something due, then lets their
// workers go on.
func (s *Sharded) arrive(sh *shard, tk *tick) {
	t := sh.t
	t.sweep()
	if tk.now.After(t.now) {
		t.now = tk.now
	}
	due := sh.due(tk.now)
	if due {
		sh.prewake(tk.now)
	}
	var heads [numClasses]headStamp
	if !due {
		for cl := range class(numClasses) {
			if c := t.lists[cl].head; c != nil {
				heads[cl] = headStamp{c.order, true}
			}
		}
	}
	tk.mu.Lock()
	tk.due[sh.i], tk.heads[sh.i] = due, heads
	tk.anyDue = tk.anyDue || due
	tk.arrived++
	if tk.arrived < len(s.shards) {
		for due && !tk.done {
			tk.cond.Wait()
		}
		tk.mu.Unlock()
	} else {
		tk.mu.Unlock()
		if tk.anyDue {
			s.expire(tk)
		}
		tk.mu.Lock()
		tk.done = true
		tk.cond.Broadcast()
		tk.mu.Unlock()
	}
	if due {
		// Pack again, on this worker's goroutine, what prewake unpacked
		// and the tick refiled.
		t.sweep()
	}
}

// prewake unpacks, on the worker's own goroutine, the packed connections
// a tick at now may reach: those at the head of the worker's TIME_WAIT and
// done lists whose time is up, at most prewakeMax of them. expire runs on
// one goroutine while the others wait, and unpacking and packing were most
// of its work on a long capture (every connection is unpacked when its
// TIME_WAIT ends, packed again, and unpacked when it leaves). The worker
// packs what the tick refiled in its sweep after the tick (see arrive):
// expire packs again only what it unpacked itself. It may stop short of
// some (see expire): those stay unpacked until a later tick refiles them.
func (sh *shard) prewake(now time.Time) {
	t := sh.t
	tw := t.cfg.FSM.TimeWait()
	n := 0
	for _, cl := range [...]class{classTimeWait, classDone} {
		for c := t.lists[cl].head; c != nil && n < prewakeMax && !now.Before(c.Last().Add(tw)); c = c.next {
			if c.body == nil && c.tw() == 0 { // one with tw set is expired packed
				t.wake(c)
				n++
			}
		}
	}
}

// prewakeMax bounds the connections a worker unpacks ahead of a tick, and
// so the memory they take at once (about 1.6 KiB each): a tick after a
// long quiet spell of a capture can end the TIME_WAIT of every connection
// in the table; past the bound, expire unpacks and packs them one at a
// time.
const prewakeMax = 4096

// expire runs the timers of Table.Advance at a tick over the tables of the
// workers that had something due, as if their connections were in one
// table. Table.Advance works each timer list from its head and stops at the
// first connection not yet due. The lists are not always in deadline order
// (a connection refiled by a timer keeps its old Last; capture timestamps
// can go backwards), so which connections a tick reaches depends on what
// stands before them in one table's list. expire therefore walks the lists
// of all the tables together, in stamp order, taking each time the head
// that one table's list would have, and the heads left by the workers with
// nothing due stop it as they would stop one table.
//
// It must do what Table.Advance does, step for step; the tests compare the
// two on captures whose timers fire all the time.
func (s *Sharded) expire(tk *tick) {
	for i, sh := range s.shards {
		if tk.due[i] {
			sh.sink, sh.cur = &tk.events, tk.seq
		}
	}
	// refile is Table.refile over the merged lists: c goes to the back of
	// the list of its new state, and the loop stops if c stayed at the head
	// of the one it was in (it is alone there).
	var sub uint64
	refileAs := func(sh *shard, c *Conn, cl class) (stuck bool) {
		was := c.class
		sh.t.fileAs(c, cl)
		sub++
		c.order = stamp{tk.seq, sub}
		if c.class != was {
			return false
		}
		_, h := s.head(tk, was)
		return h == c
	}
	now, tw := tk.now, s.cfg.FSM.TimeWait()
	for {
		sh, c := s.head(tk, classTimeWait)
		if c == nil || now.Before(c.Last().Add(tw)) {
			break
		}
		t := sh.t
		if t.expireTimeWait(c) {
			if refileAs(sh, c, c.after()) {
				break
			}
			continue
		}
		packed := c.body == nil // if prewake unpacked it, its worker's sweep packs it
		t.wake(c)
		t.stats.TimeWaitClosed += uint64(c.Machine.Advance(now))
		t.emit(c)
		stuck := refileAs(sh, c, classOf(&c.Machine))
		t.repack(c, packed)
		if stuck {
			break
		}
	}
	for {
		sh, c := s.head(tk, classHandshake)
		if c == nil || now.Before(c.Last().Add(s.cfg.HandshakeTimeout)) {
			break
		}
		t := sh.t
		t.wake(c)
		c.Machine.GiveUp(c.Last().Add(s.cfg.HandshakeTimeout))
		t.emit(c)
		c.timedOut = true
		t.stats.TimedOut++
		if refileAs(sh, c, classOf(&c.Machine)) {
			break
		}
	}
	for {
		sh, c := s.head(tk, classIdle)
		if c == nil || now.Before(c.Last().Add(s.cfg.IdleTimeout)) {
			break
		}
		c.evicted = true
		sh.t.stats.Evicted++
		sh.t.remove(c)
	}
	for {
		sh, c := s.head(tk, classDone)
		if c == nil || now.Before(c.Last().Add(tw)) {
			break
		}
		sh.t.remove(c)
	}
}

// head returns the connection that would head list cl of one table holding
// all the workers' connections, with its worker; nil if that list is empty
// or headed by a connection of a worker with nothing due.
func (s *Sharded) head(tk *tick, cl class) (*shard, *Conn) {
	var (
		best  stamp
		bsh   *shard
		bc    *Conn
		found bool
	)
	for i, sh := range s.shards {
		var (
			at stamp
			c  *Conn
		)
		switch {
		case tk.due[i]:
			if c = sh.t.lists[cl].head; c == nil {
				continue
			}
			at = c.order
		case tk.heads[i][cl].ok:
			at = tk.heads[i][cl].at
		default:
			continue
		}
		if !found || at.less(best) {
			best, bsh, bc, found = at, sh, c, true
		}
	}
	return bsh, bc
}
