package reassembly

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
)

// record is one TCP segment of a capture, decoded once so that every run
// of a comparison gets the same stream.
type record struct {
	seg capture.Segment
	ts  time.Time
	pkt uint64
}

// readCapture decodes every TCP segment of a capture file.
func readCapture(tb testing.TB, path string) []record {
	tb.Helper()
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var (
		recs []record
		pkt  capture.Packet
		dec  capture.Decoder
		seg  capture.Segment
		last time.Time
	)
	for {
		err := src.Next(&pkt)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if pkt.Time.IsZero() {
			pkt.Time = last
		}
		last = pkt.Time
		if dec.Decode(pkt.LinkType, pkt.Data, &seg) == capture.ClassTCP {
			// Keep the payload: whether the capture cut it matters (Zeek).
			seg.Payload = append([]byte(nil), seg.Payload...)
			recs = append(recs, record{seg, pkt.Time, pkt.Num})
		}
	}
	return recs
}

// ciMustNotSkip skips the test, or fails it when CI=true: there the
// environment is expected to have what the test needs.
func ciMustNotSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

var generated struct {
	once  sync.Once
	dir   string
	err   error
	files map[string]string
}

// generatedCaptures writes the pcapgen captures the comparisons run on,
// once per test binary: a long capture with port reuse and TIME_WAIT that
// runs out, and a busy one with a half-open SYN flood whose handshakes time
// out.
func generatedCaptures(t *testing.T) map[string]string {
	generated.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			generated.err = fmt.Errorf("the go command is needed to build cmd/pcapgen: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "tcpstate-shard-test")
		if err != nil {
			generated.err = err
			return
		}
		generated.dir = dir
		bin := filepath.Join(dir, "pcapgen")
		build := exec.Command(goTool, "build", "-o", bin, "./cmd/pcapgen")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			generated.err = fmt.Errorf("building pcapgen: %v\n%s", err, out)
			return
		}
		generated.files = map[string]string{}
		for name, args := range map[string][]string{
			"reuse.pcap":   {"-conns", "4000", "-concurrency", "2", "-seed", "3"},
			"flood.pcapng": {"-conns", "3000", "-concurrency", "300", "-seed", "5", "-flood", "3000", "-flood-synack", "-flood-rate", "1500"},
		} {
			path := filepath.Join(dir, name)
			gen := exec.Command(bin, append([]string{"-o", path}, args...)...)
			if out, err := gen.CombinedOutput(); err != nil {
				generated.err = fmt.Errorf("pcapgen %v: %v\n%s", args, err, out)
				return
			}
			generated.files[name] = path
		}
	})
	if generated.err != nil {
		ciMustNotSkip(t, "%v", generated.err)
	}
	return generated.files
}

func TestMain(m *testing.M) {
	code := m.Run()
	if generated.dir != "" {
		os.RemoveAll(generated.dir)
	}
	os.Exit(code)
}

// tracker is what the comparison needs of a Table and of a Sharded.
type tracker interface {
	Add(*capture.Segment, time.Time, uint64)
	Advance(time.Time)
	Settle(time.Time)
	Conns() []*Conn
	Listeners() []*Listener
	Stats() Stats
}

// tableTracker is a Table behind the interface.
type tableTracker struct{ *Table }

func (t tableTracker) Add(s *capture.Segment, ts time.Time, pkt uint64) { t.Table.Add(s, ts, pkt) }

// outcome is everything a run reports.
type outcome struct {
	finished  []*Conn // in the order Finished was called
	mid       []string
	live      []*Conn // after Settle
	listeners []*Listener
	stats     Stats
}

// run feeds recs to a new tracker, looks at it in the middle (Advance and
// Conns, as a snapshot does), settles it at the end and collects the
// results.
func run(recs []record, cfg Config, newTracker func(Config) tracker) outcome {
	var o outcome
	// A copy of each: with Config.Compact the table reuses the body once
	// Finished returns (an overflowing history is not reused).
	cfg.Finished = func(c *Conn) {
		cp, b := *c, *c.body
		cp.body = &b
		o.finished = append(o.finished, &cp)
	}
	t := newTracker(cfg)
	var last time.Time
	for i := range recs {
		r := &recs[i]
		if i == len(recs)/2 {
			t.Advance(r.ts)
			for _, c := range t.Conns() {
				o.mid = append(o.mid, fmt.Sprintf("%d %s/%s sendq %d/%d", c.ID,
					c.Machine.State(fsm.Client), c.Machine.State(fsm.Server),
					c.Machine.SendQ(fsm.Client), c.Machine.SendQ(fsm.Server)))
			}
		}
		t.Add(&r.seg, r.ts, r.pkt)
		if r.ts.After(last) {
			last = r.ts
		}
	}
	t.Settle(last)
	o.live = t.Conns()
	o.listeners = t.Listeners()
	o.stats = t.Stats()
	if s, ok := t.(*Sharded); ok {
		s.Close()
	}
	return o
}

func runTable(recs []record, cfg Config) outcome {
	return run(recs, cfg, func(cfg Config) tracker { return tableTracker{NewTable(cfg)} })
}

func runSharded(recs []record, cfg Config, workers int) outcome {
	return run(recs, cfg, func(cfg Config) tracker { return NewSharded(cfg, workers) })
}

// diffConn describes how two connections differ, or returns "".
func diffConn(a, b *Conn) string {
	type view struct {
		ID                               uint64
		Client, Server                   netip.AddrPort
		Roles                            RoleReason
		First, Last                      time.Time
		FirstPacket                      uint64
		Dir                              [2]Dir
		Anomalies                        fsm.Anomaly
		Ending                           string
		Evicted                          bool
		Class                            class
		Listened, TimedOut, Full, Replcd bool
	}
	see := func(c *Conn) view {
		return view{c.ID, c.Client, c.Server, c.Roles, c.First(), c.Last(), c.FirstPacket, c.Dir, c.Anomalies,
			c.Ending(), c.Evicted(), c.class, c.listened, c.timedOut, c.full, c.replaced}
	}
	if va, vb := see(a), see(b); va != vb {
		return fmt.Sprintf("table %+v\nsharded %+v", va, vb)
	}
	// The machines whole: states, every endpoint's tracking and the
	// history with its revisions.
	if !reflect.DeepEqual(a.Machine, b.Machine) {
		return fmt.Sprintf("machines differ\ntable   %v\nsharded %v", a.Machine.History(), b.Machine.History())
	}
	// Zeek's and Wireshark's views of it.
	if !reflect.DeepEqual(a.Zeek, b.Zeek) {
		return fmt.Sprintf("zeek differs: table %s %s, sharded %s %s", a.Zeek.State(), a.Zeek.History(), b.Zeek.State(), b.Zeek.History())
	}
	if a.Wireshark != b.Wireshark || a.FlagCounts != b.FlagCounts || a.Flags != b.Flags || a.DupAck != b.DupAck {
		return fmt.Sprintf("wireshark analysis differs: table %v, sharded %v", a.FlagCounts.Map(), b.FlagCounts.Map())
	}
	return ""
}

// compare fails t where got differs from want.
func compare(t *testing.T, want, got outcome) {
	t.Helper()
	conns := func(what string, w, g []*Conn) {
		t.Helper()
		if len(w) != len(g) {
			t.Errorf("%s: %d connections from the table, %d sharded", what, len(w), len(g))
		}
		bad := 0
		for i := range min(len(w), len(g)) {
			if d := diffConn(w[i], g[i]); d != "" {
				if bad++; bad <= 3 {
					t.Errorf("%s, connection %d of %d:\n%s", what, i+1, len(w), d)
				}
			}
		}
		if bad > 3 {
			t.Errorf("%s: %d connections differ", what, bad)
		}
	}
	conns("finished (in order)", want.finished, got.finished)
	conns("live at the end", want.live, got.live)
	if !reflect.DeepEqual(want.mid, got.mid) {
		t.Errorf("snapshot in the middle: %d connections from the table, %d sharded, or their states differ", len(want.mid), len(got.mid))
	}
	if !reflect.DeepEqual(want.listeners, got.listeners) {
		t.Errorf("listeners:\ntable   %v\nsharded %v", listenersString(want.listeners), listenersString(got.listeners))
	}
	if want.stats != got.stats {
		t.Errorf("stats:\ntable   %+v\nsharded %+v", want.stats, got.stats)
	}
}

func listenersString(ls []*Listener) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%v since %v answered %d; ", l.Addr, l.Since.Format(time.RFC3339Nano), l.Answered)
	}
	return b.String()
}

// jitter moves every timestamp by up to ±d, so that timestamps go
// backwards and the timer lists are no longer in deadline order. The
// result is still a stream both trackers must agree on.
func jitter(recs []record, d time.Duration, seed uint64) []record {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	out := make([]record, len(recs))
	for i, rec := range recs {
		rec.ts = rec.ts.Add(time.Duration(r.Int64N(int64(2*d+1))) - d)
		out[i] = rec
	}
	return out
}

// shortTimers makes the timers fire all through a capture of seconds:
// TIME_WAIT of 400 ms, handshakes given up after 1.5 s, idle connections
// evicted after 2.5 s.
var shortTimers = Config{FSM: fsm.Config{MSL: 200 * time.Millisecond}, HandshakeTimeout: 1500 * time.Millisecond, IdleTimeout: 2500 * time.Millisecond}

// TestShardedMatchesTable runs generated captures through one Table and
// through Sharded with 2, 3 and 4 workers, with the default timers and with
// short ones, on the capture's timestamps and on jittered ones, and wants
// the same results from all: every connection (ID, roles, times, counters,
// ending, whole state machine), in the order Finished saw them, a snapshot
// in the middle, listeners and stats.
func TestShardedMatchesTable(t *testing.T) {
	files := generatedCaptures(t)
	for _, name := range []string{"reuse.pcap", "flood.pcapng"} {
		recs := readCapture(t, files[name])
		streams := []struct {
			name string
			recs []record
		}{
			{"as captured", recs},
			{"jittered 300ms", jitter(recs, 300*time.Millisecond, 1)},
		}
		for _, st := range streams {
			for _, cf := range []struct {
				name string
				cfg  Config
			}{{"default timers", Config{}}, {"short timers", shortTimers}} {
				want := runTable(st.recs, cf.cfg)
				if name == "reuse.pcap" && cf.name == "default timers" && want.stats.PortReuses == 0 {
					t.Fatalf("%s: no port reuse: the capture does not test it", name)
				}
				if cf.name == "short timers" && (want.stats.TimeWaitClosed == 0 || want.stats.TimedOut == 0 || want.stats.Evicted == 0) {
					t.Fatalf("%s %s: timers did not fire: %+v", name, st.name, want.stats)
				}
				for _, workers := range []int{2, 3, 4} {
					t.Run(fmt.Sprintf("%s/%s/%s/%d workers", name, st.name, cf.name, workers), func(t *testing.T) {
						compare(t, want, runSharded(st.recs, cf.cfg, workers))
					})
				}
			}
		}
	}
}

// TestShardedMatchesTableOnSamples does the same on every sample capture.
func TestShardedMatchesTableOnSamples(t *testing.T) {
	paths, err := filepath.Glob("../pcaps/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range paths {
		if !strings.Contains(filepath.Base(path), ".pcap") {
			continue
		}
		n++
		recs := readCapture(t, path)
		for _, cfg := range []Config{{}, shortTimers} {
			want := runTable(recs, cfg)
			for _, workers := range []int{2, 3, 4} {
				t.Run(fmt.Sprintf("%s/%d workers", filepath.Base(path), workers), func(t *testing.T) {
					compare(t, want, runSharded(recs, cfg, workers))
				})
			}
		}
	}
	if n < 20 {
		t.Fatalf("found %d sample captures in ../pcaps", n)
	}
}

// TestShardedSingle: with one worker, or with a Transition callback, a
// Sharded is a Table on the caller's goroutine, callbacks included.
func TestShardedSingle(t *testing.T) {
	if w := NewSharded(Config{}, 2).Workers(); w != 2 {
		t.Fatalf("Workers() = %d, want 2", w)
	}
	var transitions, finished int
	for _, s := range []*Sharded{
		NewSharded(Config{Finished: func(*Conn) { finished++ }}, 1),
		NewSharded(Config{Finished: func(*Conn) { finished++ }, Transition: func(*Conn, *fsm.Transition) { transitions++ }}, 4),
	} {
		if s.Workers() != 1 {
			t.Fatalf("Workers() = %d, want 1", s.Workers())
		}
		transitions, finished = 0, 0
		ms := time.Millisecond
		now := t0
		for _, sg := range []*capture.Segment{
			seg(cli, srv, "S", 1000, 0, 0), seg(srv, cli, "SA", 7000, 1001, 0), seg(cli, srv, "A", 1001, 7001, 0),
			seg(cli, srv, "FA", 1001, 7001, 0), seg(srv, cli, "FA", 7001, 1002, 0), seg(cli, srv, "A", 1002, 7002, 0),
		} {
			now = now.Add(ms)
			s.Add(sg, now, 1)
		}
		// Synchronous, as a Table: the connection is there at once.
		if cs := s.single.Conns(); len(cs) != 1 || cs[0].Machine.State(fsm.Client) != fsm.TimeWait {
			t.Fatalf("single table: %d connections", len(cs))
		}
		s.Advance(now.Add(3 * time.Minute))
		if finished != 1 {
			t.Fatalf("Finished called %d times, want 1, at once", finished)
		}
		s.Close()
		if s.cfg.Transition != nil && transitions == 0 {
			t.Fatal("Transition not called")
		}
	}
}

// feedSharded returns a function that adds segments to s, each step
// after the one before.
func feedSharded(s *Sharded, step time.Duration) func(*capture.Segment) {
	now, pkt := t0, uint64(0)
	return func(sg *capture.Segment) {
		pkt++
		now = now.Add(step)
		s.Add(sg, now, pkt)
	}
}

// TestShardedSteadyStateAllocatesNothing: the path of a segment (batching,
// the worker, recycling the batch) allocates nothing once the connections
// exist.
func TestShardedSteadyStateAllocatesNothing(t *testing.T) {
	s := NewSharded(Config{}, 2)
	defer s.Close()
	const conns = 64
	type flow struct{ data, ack *capture.Segment }
	flows := make([]flow, conns)
	add := feedSharded(s, time.Microsecond)
	for i := range flows {
		c := netip.AddrPortFrom(cli.Addr(), uint16(40000+i))
		add(seg(c, srv, "S", 1000, 0, 0))
		add(seg(srv, c, "SA", 7000, 1001, 0))
		add(seg(c, srv, "A", 1001, 7001, 0))
		flows[i] = flow{seg(c, srv, "PA", 1001, 7001, 100), seg(srv, c, "A", 7001, 1101, 0)}
	}
	s.Wait()
	step := func() {
		for i := range flows {
			f := &flows[i]
			f.data.Seq += 100
			f.ack.Ack = f.data.Seq + 100
			add(f.data)
			add(f.ack)
		}
	}
	for range 100 { // warm up: slices and maps at their working size
		step()
	}
	// Each run adds 128 segments; fewer than one allocation per run in
	// total rounds down to 0.
	if allocs := testing.AllocsPerRun(500, step); allocs != 0 {
		t.Fatalf("%.0f allocations per 128 segments", allocs)
	}
	if st := s.Stats(); st.Live != conns || st.Segments != uint64(3*conns+2*conns*601) {
		t.Fatalf("stats %+v", st)
	}
}

// TestShardedMaxConnsPerWorker: the cap is split across the workers, so
// memory stays bounded; the evictions are each worker's own (and may
// differ from one table's).
func TestShardedMaxConnsPerWorker(t *testing.T) {
	var finished int
	s := NewSharded(Config{MaxConns: 100, Finished: func(*Conn) { finished++ }}, 2)
	now := t0
	for i := range 5000 {
		spoof := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), uint16(1024+i))
		now = now.Add(time.Microsecond)
		s.Add(seg(spoof, srv, "S", uint32(i), 0, 0), now, uint64(i+1))
	}
	st := s.Stats()
	s.Close()
	for _, sh := range s.shards {
		if n := sh.t.conns.len(); n > 50 {
			t.Errorf("a worker holds %d connections, cap 50", n)
		}
	}
	if st.Live > 100 || st.Peak > 100 || st.Conns != 5000 || uint64(finished) != st.Full.HalfOpen || st.Full.HalfOpen != 5000-uint64(st.Live) {
		t.Fatalf("stats %+v, finished %d", st, finished)
	}
}

// TestShardedFlushMatchesTable: Flush hands every connection to Finished
// in the order one table does, after the timers have run through a
// capture.
func TestShardedFlushMatchesTable(t *testing.T) {
	files := generatedCaptures(t)
	recs := readCapture(t, files["flood.pcapng"])
	flush := func(newTracker func(Config) tracker) outcome {
		var o outcome
		cfg := shortTimers
		cfg.Finished = func(c *Conn) { o.finished = append(o.finished, c) }
		tr := newTracker(cfg)
		for i := range recs {
			tr.Add(&recs[i].seg, recs[i].ts, recs[i].pkt)
		}
		before := len(o.finished)
		switch tr := tr.(type) {
		case tableTracker:
			tr.Flush()
		case *Sharded:
			tr.Flush()
			defer tr.Close()
		}
		if len(o.finished) == before {
			panic("Flush finished nothing")
		}
		o.live, o.listeners, o.stats = tr.Conns(), tr.Listeners(), tr.Stats()
		return o
	}
	want := flush(func(cfg Config) tracker { return tableTracker{NewTable(cfg)} })
	if want.stats.Live != 0 {
		t.Fatalf("%d connections left after Flush", want.stats.Live)
	}
	for _, workers := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			compare(t, want, flush(func(cfg Config) tracker { return NewSharded(cfg, workers) }))
		})
	}
}

// TestShardedFlushThenMore: after a Flush, with connections reused
// (Recycle and Compact), a Sharded takes more segments and a second Flush
// and still matches one table: every connection Flush handed over goes
// back to its worker once, and none is reused twice.
func TestShardedFlushThenMore(t *testing.T) {
	recs := readCapture(t, generatedCaptures(t)["reuse.pcap"])
	half := len(recs) / 2
	run := func(newTracker func(Config) tracker, flush func(tracker)) []string {
		var got []string
		cfg := Config{Recycle: true, Compact: true}
		cfg.Finished = func(c *Conn) {
			got = append(got, fmt.Sprintf("%d %v-%v %v/%v %+v %s %s", c.ID, c.Client, c.Server,
				c.Machine.State(fsm.Client), c.Machine.State(fsm.Server), c.Dir, c.Zeek.History(), c.Ending()))
		}
		tr := newTracker(cfg)
		for i := range recs {
			if i == half {
				flush(tr)
			}
			tr.Add(&recs[i].seg, recs[i].ts, recs[i].pkt)
		}
		flush(tr)
		return got
	}
	want := run(func(cfg Config) tracker { return tableTracker{NewTable(cfg)} },
		func(tr tracker) { tr.(tableTracker).Flush() })
	if len(want) < 4000 {
		t.Fatalf("one table finished %d connections, want at least 4000", len(want))
	}
	for _, workers := range []int{2, 3} {
		var s *Sharded
		got := run(func(cfg Config) tracker { s = NewSharded(cfg, workers); return s },
			func(tr tracker) { tr.(*Sharded).Flush() })
		s.Close()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%d workers: connection %d of %d (%d finished by the table) is\n%s\nwant\n%s", workers, i, len(got), len(want), got[i], want[i])
				}
			}
			t.Fatalf("%d workers: %d connections finished, want %d", workers, len(got), len(want))
		}
	}
}

// pausing is a Sharded closed every 5000 segments.
type pausing struct {
	*Sharded
	n int
}

func (p *pausing) Add(s *capture.Segment, ts time.Time, pkt uint64) {
	if p.n++; p.n%5000 == 0 {
		p.Sharded.Close()
		if p.running {
			panic("workers still running after Close")
		}
	}
	p.Sharded.Add(s, ts, pkt)
}

// TestShardedCloseAndGoOn: Close stops the workers; adding again starts
// them, and the results are the same as without the pauses.
func TestShardedCloseAndGoOn(t *testing.T) {
	files := generatedCaptures(t)
	recs := readCapture(t, files["reuse.pcap"])
	want := runTable(recs, shortTimers)
	var p *pausing
	got := run(recs, shortTimers, func(cfg Config) tracker {
		p = &pausing{Sharded: NewSharded(cfg, 2)}
		return p
	})
	p.Close()
	compare(t, want, got)
	if p.n < 5000 {
		t.Fatalf("%d segments: never paused", p.n)
	}
}

func TestShardOfIsSymmetric(t *testing.T) {
	v6a, v6b := netip.MustParseAddrPort("[2001:db8::1]:443"), netip.MustParseAddrPort("[2001:db8::99]:50000")
	s3, s4 := NewSharded(Config{}, 3), NewSharded(Config{}, 4)
	defer s3.Close()
	defer s4.Close()
	counts := make([]int, 3)
	for i := range 3000 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(30000+i))
		n := s3.shardOf(c, srv)
		if n != s3.shardOf(srv, c) {
			t.Fatal("the worker depends on the direction")
		}
		counts[n]++
	}
	if s4.shardOf(v6a, v6b) != s4.shardOf(v6b, v6a) {
		t.Fatal("the worker depends on the direction (IPv6)")
	}
	for i, n := range counts {
		if n < 800 {
			t.Errorf("worker %d got %d of 3000 connections", i, n)
		}
	}
}

// A Sharded is used as a Table is, except that Add returns nothing and the
// results are read once the segments are in (Settle, Conns and Stats wait
// for the workers).
func ExampleSharded() {
	var finished int
	s := NewSharded(Config{Finished: func(*Conn) { finished++ }}, 2)
	defer s.Close()
	client := netip.MustParseAddrPort("192.0.2.1:40000")
	server := netip.MustParseAddrPort("198.51.100.7:443")
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	for i, sg := range []*capture.Segment{
		{Src: client, Dst: server, Flags: capture.FlagSYN, Seq: 1000},
		{Src: server, Dst: client, Flags: capture.FlagSYN | capture.FlagACK, Seq: 7000, Ack: 1001},
		{Src: client, Dst: server, Flags: capture.FlagACK, Seq: 1001, Ack: 7001},
		{Src: client, Dst: server, Flags: capture.FlagRST, Seq: 1001},
	} {
		now = now.Add(time.Millisecond)
		s.Add(sg, now, uint64(i+1))
	}
	s.Settle(now.Add(2 * time.Minute)) // the reset connection leaves after 2·MSL
	st := s.Stats()
	fmt.Println(st.Conns, "connection,", finished, "finished,", st.Live, "live")
	// Output: 1 connection, 1 finished, 0 live
}

// TestShardedRecycles: with Config.Recycle, the connections Finished is
// done with go back to their workers and are reused, as one table reuses
// them; without it, every connection is a Conn of its own.
func TestShardedRecycles(t *testing.T) {
	for _, recycle := range []bool{false, true} {
		seen := map[*Conn]bool{}
		s := NewSharded(Config{Recycle: recycle, Compact: true, FSM: fsm.Config{MSL: 50 * time.Millisecond},
			Finished: func(c *Conn) { seen[c] = true }}, 2)
		add := feedSharded(s, time.Millisecond)
		// Many more than the batches in flight hold (batchesPerShard of
		// batchLen segments a worker): connections go back with a
		// worker's next batch.
		const conns = 20000
		for i := range conns {
			c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(1024+i%5000))
			add(seg(c, srv, "S", 1000, 0, 0))
			add(seg(srv, c, "SA", 7000, 1001, 0))
			add(seg(c, srv, "RA", 1001, 7001, 0))
		}
		s.Flush()
		s.Close()
		if st := s.Stats(); st.Conns != conns {
			t.Fatalf("Recycle %v: %d connections, want %d", recycle, st.Conns, conns)
		}
		if reused := len(seen) < conns/2; reused != recycle {
			t.Errorf("Recycle %v: %d connections in %d Conns", recycle, conns, len(seen))
		}
	}
}

// FuzzSharded runs fuzzed segments (see fuzzSegments) through one table
// and through Sharded tables of 2 and 3 workers, all reusing connections
// (Recycle, Compact) under short timers, with a Flush where the first
// byte says and another at the end, and compares every connection as
// Finished is handed it, the connections left before the last Flush, and
// the stats.
func FuzzSharded(f *testing.F) {
	f.Add([]byte{
		3,
		0x01, 0x10, 0x02, 0, 0, 0, 1, // SYN
		0x10, 0x01, 0x12, 0, 1, 0, 1, // SYN-ACK
		0x01, 0x10, 0x10, 1, 1, 0, 1, // ACK
		0x21, 0x10, 0x02, 4, 0, 0, 1, // another client
		0x01, 0x10, 0x11, 1, 1, 0, 1, // FIN
		0x10, 0x01, 0x11, 1, 2, 0, 1, // FIN
		0x01, 0x10, 0x10, 2, 2, 0, 1, // ACK
		0x01, 0x10, 0x02, 9, 0, 0, 60, // the 4-tuple again, after TIME_WAIT
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		// The first byte: where to flush in the middle, and (its low bit)
		// whether to skip Wireshark's analysis.
		noWS := data[0]&1 == 1
		at, data := int(data[0]>>1), data[1:]
		// run's trace shows Wireshark's flag counts when flags is set.
		run := func(newTracker func(Config) tracker, flush func(tracker), noWS, flags bool) string {
			var b strings.Builder
			see := func(what string, c *Conn) {
				fmt.Fprintf(&b, "%s %d %v-%v %v %v/%v first %v/%d last %v %+v %s %s %s\n", what, c.ID, c.Client, c.Server, c.Roles,
					c.Machine.State(fsm.Client), c.Machine.State(fsm.Server), c.First(), c.FirstPacket, c.Last(), c.Dir,
					c.Zeek.State(), c.Zeek.History(), c.Ending())
				if flags {
					fmt.Fprintf(&b, "  flags %v\n", c.FlagCounts.Map())
				}
			}
			cfg := Config{
				Recycle: true, Compact: true, IdleTimeout: 20 * time.Second, HandshakeTimeout: 5 * time.Second,
				FSM:         fsm.Config{MSL: time.Second},
				Finished:    func(c *Conn) { see("finished", c) },
				NoWireshark: noWS,
			}
			tr := newTracker(cfg)
			n := 0
			var now time.Time
			fuzzSegments(data, func(s *capture.Segment, ts time.Time, pkt uint64) {
				if n == at {
					flush(tr)
					b.WriteString("flushed\n")
				}
				n++
				now = ts
				tr.Add(s, ts, pkt)
			})
			tr.Settle(now)
			for _, c := range tr.Conns() {
				see("live", c)
			}
			flush(tr)
			fmt.Fprintf(&b, "stats %+v\n", tr.Stats())
			return b.String()
		}
		table := func(cfg Config) tracker { return tableTracker{NewTable(cfg)} }
		flushTable := func(tr tracker) { tr.(tableTracker).Flush() }
		want := run(table, flushTable, noWS, !noWS)
		if noWS {
			// Skipping Wireshark's analysis changes nothing else.
			if full := run(table, flushTable, false, false); full != want {
				compareTraces(t, full, want)
				t.Fatal("a table without Wireshark's analysis differs from one with it")
			}
		}
		for _, workers := range []int{2, 3} {
			var s *Sharded
			got := run(func(cfg Config) tracker { s = NewSharded(cfg, workers); return s },
				func(tr tracker) { tr.(*Sharded).Flush() }, noWS, !noWS)
			s.Close()
			if got != want {
				compareTraces(t, want, got)
				t.Fatalf("%d workers differ from one table", workers)
			}
		}
	})
}

// TestNoWireshark: skipping Wireshark's analysis changes nothing else:
// the machines, Zeek's view, counters, timers and port reuse come out as
// with it, from a Table and from Sharded, on the sample captures and on
// generated ones.
func TestNoWireshark(t *testing.T) {
	paths, err := filepath.Glob("../pcaps/*.pcap*")
	if err != nil || len(paths) < 20 {
		t.Fatalf("sample captures: %d, %v", len(paths), err)
	}
	files := generatedCaptures(t)
	paths = append(paths, files["reuse.pcap"], files["flood.pcapng"])
	for _, path := range paths {
		recs := readCapture(t, path)
		for _, base := range []Config{{Compact: true, Recycle: true}, shortTimers} {
			want := runTable(recs, base)
			for _, cs := range [][]*Conn{want.finished, want.live} {
				for _, c := range cs {
					c.Wireshark, c.FlagCounts, c.Flags, c.DupAck = wireshark.Conn{}, wireshark.Counts{}, 0, 0
				}
			}
			cfg := base
			cfg.NoWireshark = true
			t.Run(filepath.Base(path)+"/table", func(t *testing.T) { compare(t, want, runTable(recs, cfg)) })
			t.Run(filepath.Base(path)+"/sharded", func(t *testing.T) { compare(t, want, runSharded(recs, cfg, 2)) })
		}
	}
}
