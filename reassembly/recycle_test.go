package reassembly

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
)

// churn feeds a table connections that open, exchange data, close and
// leave: clients on ports cycling through a range, a new connection
// starting every step, so that the table holds a steady population.
type churn struct {
	f     *feeder
	next  int
	ports int
}

// conn runs one whole connection (client closing first) from the next
// client port; its segments are interleaved with nothing, but the
// connection lingers in TIME_WAIT while later ones run.
func (ch *churn) conn() {
	i := ch.next
	ch.next++
	c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 200)}), uint16(20000+i%ch.ports))
	isn := uint32(i) * 7919
	us := time.Millisecond
	f := ch.f
	f.add(seg(c, srv, "S", isn, 0, 0), us)
	f.add(seg(srv, c, "SA", 7000, isn+1, 0), us)
	f.add(seg(c, srv, "A", isn+1, 7001, 0), us)
	f.add(seg(c, srv, "PA", isn+1, 7001, 100), us)
	f.add(seg(srv, c, "PA", 7001, isn+101, 300), us)
	f.add(seg(c, srv, "FA", isn+101, 7301, 0), us)
	f.add(seg(srv, c, "FA", 7301, isn+102, 0), us)
	f.add(seg(c, srv, "A", isn+102, 7302, 0), us)
}

// TestRecycleSteadyStateAllocatesNothing: with Config.Recycle, a table whose
// connections come and go reuses them, so once it has grown, whole
// connections (handshake, data, close, TIME_WAIT running out, leaving the
// table) allocate nothing.
func TestRecycleSteadyStateAllocatesNothing(t *testing.T) {
	f := &feeder{t: NewTable(Config{Recycle: true, FSM: fsm.Config{MSL: 5 * time.Millisecond}, Finished: func(*Conn) {}}), now: t0}
	ch := &churn{f: f, ports: 1000}
	// 8 ms a connection, 2·MSL = 10 ms in TIME_WAIT and as many closed,
	// and the table advancing every second of capture time: about 130
	// connections live at the peak.
	for range 2000 {
		ch.conn()
	}
	peak := f.t.Stats().Peak
	allocs := testing.AllocsPerRun(20, func() {
		for range 1000 {
			ch.conn()
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 1000 connections in the steady state", allocs)
	}
	if st := f.t.Stats(); st.Peak != peak || st.TimeWaitClosed == 0 {
		t.Fatalf("not a steady state: peak %d then %d, %d TIME_WAIT closed", peak, st.Peak, st.TimeWaitClosed)
	}
}

// trace runs segments through a table and writes down everything the table
// hands out: each transition as it comes, each connection as it leaves
// (copied then, since a recycled one is overwritten later), and the end.
//
// Like a caller that prints transitions with the segment that caused them,
// it keeps the *Conn of each transition until Add returns: that is as long
// as Recycle promises a connection that left stays as it was.
type trace struct {
	b       strings.Builder
	t       *Table
	pending []pendingTransition
}

type pendingTransition struct {
	c  *Conn
	tr fsm.Transition
}

func newTrace(cfg Config) *trace {
	tr := &trace{}
	cfg.Transition = func(c *Conn, x *fsm.Transition) {
		tr.pending = append(tr.pending, pendingTransition{c, *x})
	}
	cfg.Finished = func(c *Conn) { tr.conn("finished", c) }
	tr.t = NewTable(cfg)
	return tr
}

func (tr *trace) conn(what string, c *Conn) {
	m := &c.Machine
	fmt.Fprintf(&tr.b, "%s %d %v-%v by %v first %v/%d last %v dir %+v anomalies %v evicted %v ending %q states %v/%v sendq %d/%d\n",
		what, c.ID, c.Client, c.Server, c.Roles, c.First(), c.FirstPacket, c.Last(), c.Dir, c.Anomalies.Names(), c.Evicted(),
		c.Ending(), m.State(fsm.Client), m.State(fsm.Server), m.SendQ(fsm.Client), m.SendQ(fsm.Server))
	for _, h := range m.History() {
		fmt.Fprintf(&tr.b, "  %+v\n", h)
	}
}

func (tr *trace) add(s *capture.Segment, ts time.Time, pkt uint64) {
	c, rep := tr.t.Add(s, ts, pkt)
	tr.flush()
	fmt.Fprintf(&tr.b, "pkt %d -> conn %d %+v\n", pkt, c.ID, rep)
}

// flush writes the transitions of the last call down.
func (tr *trace) flush() {
	for _, p := range tr.pending {
		fmt.Fprintf(&tr.b, "conn %d %v-%v: %+v\n", p.c.ID, p.c.Client, p.c.Server, p.tr)
	}
	tr.pending = tr.pending[:0]
}

func (tr *trace) end() string {
	tr.t.Settle(tr.t.Now())
	tr.flush()
	for _, c := range tr.t.Conns() {
		tr.conn("live", c)
	}
	fmt.Fprintf(&tr.b, "stats %+v listeners %d\n", tr.t.Stats(), len(tr.t.Listeners()))
	tr.t.Flush()
	return tr.b.String()
}

// TestRecycleChangesNothing runs the sample captures, and a churn of
// connections through a small table, with and without Config.Recycle and
// Compact: what
// the table hands out must be the same, down to every transition.
func TestRecycleChangesNothing(t *testing.T) {
	configs := map[string]Config{
		"defaults": {},
		// Short timers and a tiny table: connections leave (and are
		// reused) all the time.
		"small": {MaxConns: 3, IdleTimeout: 2 * time.Second, HandshakeTimeout: time.Second, FSM: fsm.Config{MSL: 100 * time.Millisecond}},
	}
	files, err := filepath.Glob("../pcaps/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample captures: %v", err)
	}
	for _, file := range files {
		for name, cfg := range configs {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				recs := readCapture(t, file)
				run := func(recycle, compact bool) string {
					cfg.Recycle, cfg.Compact = recycle, compact
					tr := newTrace(cfg)
					for i := range recs {
						tr.add(&recs[i].seg, recs[i].ts, recs[i].pkt)
					}
					return tr.end()
				}
				plain := run(false, false)
				compareTraces(t, plain, run(true, false))
				compareTraces(t, plain, run(true, true))
			})
		}
	}
	t.Run("churn", func(t *testing.T) {
		run := func(recycle, compact bool) string {
			cfg := configs["small"]
			cfg.Recycle, cfg.Compact = recycle, compact
			cfg.MaxConns = 50
			tr := newTrace(cfg)
			// Count the distinct Conns: with Recycle, far fewer than
			// connections.
			seen := map[*Conn]bool{}
			finished := tr.t.cfg.Finished
			tr.t.cfg.Finished = func(c *Conn) { seen[c] = true; finished(c) }
			defer func() {
				conns := tr.t.Stats().Conns
				if reused := uint64(len(seen)) < conns/2; reused != recycle {
					t.Errorf("Recycle %v: %d connections in %d Conns", recycle, conns, len(seen))
				}
			}()
			f := &feeder{t: tr.t, now: t0, after: tr.flush}
			ch := &churn{f: f, ports: 70}
			// Connections overlap: every third one is left half-open, and
			// every fifth is reset after its handshake.
			for i := range 3000 {
				c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(1024+i%300))
				switch {
				case i%3 == 0:
					f.add(seg(c, srv, "S", uint32(i), 0, 0), time.Millisecond)
				case i%5 == 0:
					f.add(seg(c, srv, "S", uint32(i), 0, 0), time.Millisecond)
					f.add(seg(srv, c, "SA", 9, uint32(i)+1, 0), time.Millisecond)
					f.add(seg(c, srv, "RA", uint32(i)+1, 10, 0), time.Millisecond)
				default:
					ch.conn()
				}
			}
			// The feeder bypassed the trace's packet lines; the
			// transitions and the connections leaving say enough.
			return tr.end()
		}
		plain := run(false, false)
		compareTraces(t, plain, run(true, false))
		compareTraces(t, plain, run(false, true))
		compareTraces(t, plain, run(true, true))
	})
}

func compareTraces(t *testing.T, plain, recycled string) {
	t.Helper()
	if plain == recycled {
		return
	}
	p, r := strings.Split(plain, "\n"), strings.Split(recycled, "\n")
	for i := range min(len(p), len(r)) {
		if p[i] != r[i] {
			t.Fatalf("line %d differs:\nplain table:      %s\nreusing/packing:  %s", i+1, p[i], r[i])
		}
	}
	t.Fatalf("plain table %d lines, reusing/packing %d", len(p), len(r))
}

// FuzzRecycle runs random segments among a few hosts through a tiny table
// with short timers, with and without Config.Recycle and Compact, and compares all
// that the two tables hand out. Each 7 bytes make a segment: sender and
// receiver (a byte each: host and port), flags, sequence and
// acknowledgment numbers (a byte each, scaled), payload length and the
// time since the previous segment.
// fuzzSegments turns fuzz data into segments, 7 bytes each: source and
// destination (a host in the high nibble, a port in the low bits), flags,
// sequence and acknowledgment numbers in hundreds, payload length, and the
// time since the previous one in 50 ms steps. It stops after 500.
func fuzzSegments(data []byte, fn func(s *capture.Segment, now time.Time, pkt uint64)) {
	hosts := []netip.Addr{
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:192.0.2.1"),
	}
	endpoint := func(b byte) netip.AddrPort {
		return netip.AddrPortFrom(hosts[int(b>>4)%len(hosts)], []uint16{80, 443, 40000, 40001}[b&3])
	}
	now := t0
	for i := 0; i+7 <= len(data) && i < 7*500; i += 7 {
		d := data[i : i+7]
		src, dst := endpoint(d[0]), endpoint(d[1])
		if src == dst {
			continue
		}
		now = now.Add(time.Duration(d[6]) * 50 * time.Millisecond)
		s := capture.Segment{
			Src: src, Dst: dst, Flags: d[2], Seq: uint32(d[3]) * 100, Ack: uint32(d[4]) * 100,
			PayloadLen: int(d[5]), IPLen: 40 + int(d[5]), Window: 1000,
		}
		fn(&s, now, uint64(i/7+1))
	}
}

func FuzzRecycle(f *testing.F) {
	f.Add([]byte{
		0x01, 0x10, 0x02, 0, 0, 0, 1, // SYN
		0x10, 0x01, 0x12, 0, 1, 0, 1, // SYN-ACK
		0x01, 0x10, 0x10, 1, 1, 0, 1, // ACK
		0x01, 0x10, 0x11, 1, 1, 0, 1, // FIN
		0x10, 0x01, 0x11, 1, 2, 0, 1, // FIN
		0x01, 0x10, 0x10, 2, 2, 0, 1, // ACK
		0x21, 0x10, 0x02, 9, 0, 0, 200, // another client, much later
	})
	f.Add([]byte{0x01, 0x10, 0x02, 0, 0, 0, 1, 0x01, 0x10, 0x02, 0, 0, 0, 1, 0x10, 0x01, 0x14, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func(recycle, compact bool) string {
			tr := newTrace(Config{
				Recycle: recycle, Compact: compact, MaxConns: 3, IdleTimeout: 20 * time.Second, HandshakeTimeout: 5 * time.Second,
				FSM: fsm.Config{MSL: time.Second},
			})
			fuzzSegments(data, func(s *capture.Segment, now time.Time, pkt uint64) { tr.add(s, now, pkt) })
			return tr.end()
		}
		plain := run(false, false)
		compareTraces(t, plain, run(true, false))
		compareTraces(t, plain, run(false, true))
		compareTraces(t, plain, run(true, true))
	})
}
