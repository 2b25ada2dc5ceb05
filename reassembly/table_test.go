package reassembly

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
)

var (
	cli = netip.MustParseAddrPort("192.0.2.1:40000")
	srv = netip.MustParseAddrPort("198.51.100.7:80")
	t0  = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
)

// seg makes a segment; flags use the letters S A F R P.
func seg(src, dst netip.AddrPort, flags string, seq, ack uint32, n int) *capture.Segment {
	var f uint8
	for _, c := range flags {
		switch c {
		case 'S':
			f |= capture.FlagSYN
		case 'A':
			f |= capture.FlagACK
		case 'F':
			f |= capture.FlagFIN
		case 'R':
			f |= capture.FlagRST
		case 'P':
			f |= capture.FlagPSH
		}
	}
	return &capture.Segment{Src: src, Dst: dst, Flags: f, Seq: seq, Ack: ack, PayloadLen: n, IPLen: 52 + n, Window: 500}
}

// feeder adds segments to a table with increasing packet numbers and times.
type feeder struct {
	t   *Table
	now time.Time
	pkt uint64
	// after, if set, is called after each segment.
	after func()
}

func (f *feeder) add(s *capture.Segment, after time.Duration) *Conn {
	f.now = f.now.Add(after)
	f.pkt++
	c, _ := f.t.Add(s, f.now, f.pkt)
	if f.after != nil {
		f.after()
	}
	return c
}

func newFeeder(cfg Config) (*feeder, *[]*Conn) {
	var done []*Conn
	cfg.Finished = func(c *Conn) { done = append(done, c) }
	return &feeder{t: NewTable(cfg), now: t0}, &done
}

// handshakeAndClose runs a full connection, client closing first.
func handshakeAndClose(f *feeder, isn uint32) *Conn {
	ms := time.Millisecond
	c := f.add(seg(cli, srv, "S", isn, 0, 0), ms)
	f.add(seg(srv, cli, "SA", 7000, isn+1, 0), ms)
	f.add(seg(cli, srv, "A", isn+1, 7001, 0), ms)
	f.add(seg(cli, srv, "PA", isn+1, 7001, 100), ms)
	f.add(seg(srv, cli, "PA", 7001, isn+101, 300), ms)
	f.add(seg(cli, srv, "FA", isn+101, 7301, 0), ms)
	f.add(seg(srv, cli, "FA", 7301, isn+102, 0), ms)
	f.add(seg(cli, srv, "A", isn+102, 7302, 0), ms)
	return c
}

func TestKeyIsCanonical(t *testing.T) {
	if KeyOf(cli, srv) != KeyOf(srv, cli) {
		t.Fatal("key depends on direction")
	}
	v6a, v6b := netip.MustParseAddrPort("[2001:db8::1]:5"), netip.MustParseAddrPort("[2001:db8::1]:6")
	if KeyOf(v6a, v6b) != KeyOf(v6b, v6a) || KeyOf(v6a, v6b).Lo != v6a {
		t.Fatal("IPv6 key not canonical by port")
	}
}

func TestConnectionLifecycle(t *testing.T) {
	f, done := newFeeder(Config{})
	c := handshakeAndClose(f, 1000)
	if c.Client != cli || c.Server != srv || c.Roles != RoleBySYN {
		t.Fatalf("roles: client %v server %v by %v", c.Client, c.Server, c.Roles)
	}
	if got := c.Dir[fsm.Client]; got.Packets != 5 || got.Bytes != 100 {
		t.Errorf("client direction %+v", got)
	}
	if got := c.Dir[fsm.Server]; got.Packets != 3 || got.Bytes != 300 {
		t.Errorf("server direction %+v", got)
	}
	if c.Machine.State(fsm.Client) != fsm.TimeWait || c.Machine.State(fsm.Server) != fsm.Closed {
		t.Fatalf("states %s/%s", c.Machine.State(fsm.Client), c.Machine.State(fsm.Server))
	}
	if ls := f.t.Listeners(); len(ls) != 1 || ls[0].Addr != srv || ls[0].Answered != 1 {
		t.Fatalf("listeners %+v", ls)
	}
	// 61 s later TIME_WAIT is over; 2·MSL after that the connection leaves.
	f.t.Advance(f.now.Add(61 * time.Second))
	if c.Machine.State(fsm.Client) != fsm.Closed {
		t.Fatalf("client %s after TIME_WAIT", c.Machine.State(fsm.Client))
	}
	f.t.Advance(f.now.Add(125 * time.Second))
	if len(*done) != 1 || (*done)[0] != c || f.t.Stats().Live != 0 {
		t.Fatalf("finished %d, live %d", len(*done), f.t.Stats().Live)
	}
	if got := c.Ending(); got != "closed by client" {
		t.Errorf("ending %q", got)
	}
}

func TestPortReuseStartsNewConnection(t *testing.T) {
	f, done := newFeeder(Config{})
	first := handshakeAndClose(f, 1000)
	f.now = f.now.Add(5 * time.Second) // still TIME_WAIT
	second := handshakeAndClose(f, 5000)
	if first == second || second.ID != 2 {
		t.Fatalf("SYN after TIME_WAIT did not start a new connection (ids %d, %d)", first.ID, second.ID)
	}
	if len(*done) != 1 || (*done)[0] != first {
		t.Fatalf("first connection not finished on reuse: %d finished", len(*done))
	}
	if first.Machine.State(fsm.Client) != fsm.Closed {
		t.Errorf("first connection's client %s, want CLOSED after reuse", first.Machine.State(fsm.Client))
	}
	last := first.Machine.History()[len(first.Machine.History())-1]
	if last.Cause != fsm.CausePortReuse {
		t.Errorf("last transition of the reused connection: %v", last.Cause)
	}
	if f.t.Stats().PortReuses != 1 {
		t.Errorf("port reuses %d", f.t.Stats().PortReuses)
	}
}

func TestRetransmittedSYNIsSameConnection(t *testing.T) {
	f, _ := newFeeder(Config{})
	a := f.add(seg(cli, srv, "S", 1000, 0, 0), 0)
	b := f.add(seg(cli, srv, "S", 1000, 0, 0), time.Second)
	if a != b {
		t.Fatal("retransmitted SYN started a new connection")
	}
	if b.Dir[fsm.Client].Retransmissions != 1 {
		t.Errorf("retransmissions %d", b.Dir[fsm.Client].Retransmissions)
	}
	// A SYN with another ISN while the first is unanswered: a new attempt.
	c := f.add(seg(cli, srv, "S", 9000, 0, 0), time.Second)
	if c == a {
		t.Fatal("SYN with a new ISN joined the unanswered attempt")
	}
}

func TestRolesWithoutSYN(t *testing.T) {
	f, _ := newFeeder(Config{})
	c := f.add(seg(srv, cli, "SA", 7000, 1001, 0), 0)
	if c.Client != cli || c.Roles != RoleBySYNACK || c.Roles.Guessed() {
		t.Fatalf("SYN-ACK first: client %v by %v", c.Client, c.Roles)
	}
	hi := netip.MustParseAddrPort("192.0.2.9:50000")
	lo := netip.MustParseAddrPort("192.0.2.8:8080")
	c = f.add(seg(lo, hi, "PA", 1, 1, 10), 0)
	if c.Server != lo || !c.Roles.Guessed() {
		t.Fatalf("mid-stream: server %v guessed %v", c.Server, c.Roles.Guessed())
	}
	wk := netip.MustParseAddrPort("192.0.2.8:443")
	c = f.add(seg(netip.MustParseAddrPort("192.0.2.9:100"), wk, "A", 1, 1, 0), 0)
	if c.Server != netip.MustParseAddrPort("192.0.2.9:100") {
		t.Fatalf("lower port should be the server when both are well known: server %v", c.Server)
	}
}

func TestHandshakeTimeoutAndIdleEviction(t *testing.T) {
	f, done := newFeeder(Config{HandshakeTimeout: time.Minute, IdleTimeout: 10 * time.Minute})
	half := f.add(seg(cli, srv, "S", 1000, 0, 0), 0)
	other := netip.MustParseAddrPort("192.0.2.2:40001")
	idle := f.add(seg(other, srv, "S", 1, 0, 0), 0)
	f.add(seg(srv, other, "SA", 50, 2, 0), time.Millisecond)
	f.add(seg(other, srv, "A", 2, 51, 0), time.Millisecond)
	f.t.Advance(f.now.Add(61 * time.Second))
	if half.Machine.State(fsm.Client) != fsm.Closed || half.Ending() != "timed out in SYN_SENT" {
		t.Fatalf("half-open: %s, %q", half.Machine.State(fsm.Client), half.Ending())
	}
	if idle.Machine.State(fsm.Client) != fsm.Established {
		t.Fatalf("established connection touched by the handshake timeout")
	}
	f.t.Advance(f.now.Add(11 * time.Minute))
	if !idle.Evicted() || idle.Ending() != "evicted idle" {
		t.Fatalf("idle: evicted %v, %q", idle.Evicted(), idle.Ending())
	}
	if st := f.t.Stats(); st.TimedOut != 1 || st.Evicted != 1 || st.Live != 0 || len(*done) != 2 {
		t.Fatalf("stats %+v, finished %d", st, len(*done))
	}
}

func TestRefusedAndReset(t *testing.T) {
	f, _ := newFeeder(Config{})
	c := f.add(seg(cli, srv, "S", 1000, 0, 0), 0)
	f.add(seg(srv, cli, "RA", 0, 1001, 0), time.Millisecond)
	if c.Ending() != "refused" || len(f.t.Listeners()) != 0 {
		t.Fatalf("refused: %q, listeners %d", c.Ending(), len(f.t.Listeners()))
	}
	other := netip.MustParseAddrPort("192.0.2.2:40001")
	c = f.add(seg(other, srv, "S", 1, 0, 0), time.Second)
	f.add(seg(srv, other, "SA", 50, 2, 0), time.Millisecond)
	f.add(seg(other, srv, "A", 2, 51, 0), time.Millisecond)
	f.add(seg(srv, other, "RA", 51, 2, 0), time.Millisecond)
	if c.Ending() != "reset by server" {
		t.Fatalf("reset: %q", c.Ending())
	}
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	f, _ := newFeeder(Config{})
	f.add(seg(cli, srv, "S", 1000, 0, 0), 0)
	f.add(seg(srv, cli, "SA", 7000, 1001, 0), time.Millisecond)
	f.add(seg(cli, srv, "A", 1001, 7001, 0), time.Millisecond)
	seq, ack := uint32(1001), uint32(7001)
	d, a := seg(cli, srv, "PA", seq, ack, 100), seg(srv, cli, "A", ack, seq, 0)
	allocs := testing.AllocsPerRun(1000, func() {
		d.Seq += 100
		a.Ack = d.Seq + 100
		f.add(d, time.Microsecond)
		f.add(a, time.Microsecond)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per data segment and ACK", allocs)
	}
}

// TestFullTableEvictsHalfOpenFirst floods a small table with spoofed SYNs:
// the established connection in the middle of the flood survives, and
// keeps its states right.
func TestFullTableEvictsHalfOpenFirst(t *testing.T) {
	f, done := newFeeder(Config{MaxConns: 100})
	ms := time.Millisecond
	c := f.add(seg(cli, srv, "S", 1000, 0, 0), ms)
	f.add(seg(srv, cli, "SA", 7000, 1001, 0), ms)
	f.add(seg(cli, srv, "A", 1001, 7001, 0), ms)
	for i := range 5000 {
		spoof := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), uint16(1024+i))
		f.add(seg(spoof, srv, "S", uint32(i), 0, 0), time.Microsecond)
		if i == 2500 {
			f.add(seg(cli, srv, "PA", 1001, 7001, 100), time.Microsecond)
		}
	}
	st := f.t.Stats()
	if st.Live > 100 || st.Peak != 100 {
		t.Fatalf("live %d, peak %d, want at most 100", st.Live, st.Peak)
	}
	if st.Full.HalfOpen != 4901 || st.Full.Open != 0 || st.Full.Total() != 4901 {
		t.Fatalf("evictions %+v, want 4901 half-open only", st.Full)
	}
	if len(*done) != 4901 {
		t.Fatalf("%d connections handed to Finished, want 4901", len(*done))
	}
	for _, d := range *done {
		if d == c || !d.Evicted() || !strings.HasPrefix(d.Ending(), "evicted from a full table in SYN_SENT") {
			t.Fatalf("evicted %v (%q)", d.Client, d.Ending())
		}
	}
	f.add(seg(cli, srv, "FA", 1101, 7001, 0), ms)
	f.add(seg(srv, cli, "FA", 7001, 1102, 0), ms)
	f.add(seg(cli, srv, "A", 1102, 7002, 0), ms)
	if c.Machine.State(fsm.Client) != fsm.TimeWait || c.Machine.State(fsm.Server) != fsm.Closed {
		t.Fatalf("the established connection ended %s/%s", c.Machine.State(fsm.Client), c.Machine.State(fsm.Server))
	}
	// With nothing half-open left to evict, the oldest idle one goes.
	g, _ := newFeeder(Config{MaxConns: 2})
	for i := range 3 {
		a := netip.AddrPortFrom(cli.Addr(), uint16(50000+i))
		g.add(seg(a, srv, "S", 1, 0, 0), ms)
		g.add(seg(srv, a, "SA", 9, 2, 0), ms)
		g.add(seg(a, srv, "A", 2, 10, 0), ms)
	}
	if st := g.t.Stats(); st.Full.Open != 1 || st.Live != 2 {
		t.Fatalf("established evictions %+v, live %d", st.Full, st.Live)
	}
}

// TestIndexMatchesKey: the index tells 4-tuples apart exactly as Key
// does, in both directions, IPv4 and IPv6 (including IPv4-mapped IPv6
// addresses, which are not IPv4 and hash alike), and its hash does not
// depend on the direction.
func TestIndexMatchesKey(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"),
		netip.MustParseAddr("::ffff:192.0.2.1"), netip.MustParseAddr("::ffff:192.0.2.2"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::1:0:0:1"),
		netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("::"),
		netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	}
	var eps []netip.AddrPort
	for _, a := range addrs {
		for _, p := range []uint16{0, 80, 443, 65535} {
			eps = append(eps, netip.AddrPortFrom(a, p))
		}
	}
	x := newIndex()
	byKey := map[Key]*Conn{}
	for _, a := range eps {
		for _, b := range eps {
			if x.hash(a, b) != x.hash(b, a) {
				t.Fatalf("%v %v: hash depends on direction", a, b)
			}
			k := KeyOf(a, b)
			got := x.get(a, b)
			if got != byKey[k] {
				t.Fatalf("%v %v: found %v, want %v", a, b, got, byKey[k])
			}
			if got == nil {
				c := &Conn{Client: a, Server: b}
				x.put(c)
				byKey[k] = c
			}
		}
	}
	if x.len() != len(byKey) || len(byKey) != len(eps)*(len(eps)+1)/2 {
		t.Fatalf("%d connections, %d keys for %d endpoints", x.len(), len(byKey), len(eps))
	}
	for k, c := range byKey {
		if x.get(k.Hi, k.Lo) != c || x.get(k.Lo, k.Hi) != c {
			t.Fatalf("%v: not found in both directions", k)
		}
	}
}

// TestConnsOldestFirst: Conns sorts by ID both when the IDs in the table
// are dense (placed directly) and when they are spread out (compared).
func TestConnsOldestFirst(t *testing.T) {
	for _, spread := range []uint64{1, 3, 1000} {
		var cs []*Conn
		for i := range uint64(500) {
			cs = append(cs, &Conn{ID: 7 + i*spread})
		}
		shuffled := append([]*Conn(nil), cs...)
		for i := range shuffled {
			j := (i * 7919) % len(shuffled)
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		}
		got := byID(shuffled)
		if len(got) != len(cs) {
			t.Fatalf("spread %d: %d connections, want %d", spread, len(got), len(cs))
		}
		for i := range got {
			if got[i] != cs[i] {
				t.Fatalf("spread %d: position %d has ID %d, want %d", spread, i, got[i].ID, cs[i].ID)
			}
		}
	}
}

// TestSettleEndsTimeWait: Settle ends every TIME_WAIT whose 2·MSL has
// passed, to the nanosecond, and none before, also when the segment that
// began it came with an earlier time than one added before it (Settle
// looks at no connection before TIME_WAIT has passed since the earliest
// segment). The server's duplicate ACK half a second after the close keeps
// the connection in the table past the client's 2·MSL: only Settle ends
// that TIME_WAIT then, not the connection's own timer.
func TestSettleEndsTimeWait(t *testing.T) {
	const isn = 1000
	ms := time.Millisecond
	closing := func(start time.Time) []stamped {
		segs := []*capture.Segment{
			seg(cli, srv, "S", isn, 0, 0), seg(srv, cli, "SA", 7000, isn+1, 0), seg(cli, srv, "A", isn+1, 7001, 0),
			seg(cli, srv, "PA", isn+1, 7001, 100), seg(srv, cli, "PA", 7001, isn+101, 300),
			seg(cli, srv, "FA", isn+101, 7301, 0), seg(srv, cli, "FA", 7301, isn+102, 0), seg(cli, srv, "A", isn+102, 7302, 0),
		}
		var out []stamped
		for i, s := range segs {
			out = append(out, stamped{s, start.Add(time.Duration(i) * ms)})
		}
		return append(out, stamped{seg(srv, cli, "A", 7302, isn+102, 0), start.Add(500 * ms)})
	}
	// A connection's SYN a second after the closing one's first segment,
	// added first: the table's clock is ahead of the closing connection
	// from the start, and 2·MSL from that SYN is after the client's
	// TIME_WAIT has run out.
	other := stamped{seg(netip.MustParseAddrPort("192.0.2.9:40001"), srv, "S", 5, 0, 0), t0.Add(time.Second)}
	cfg := Config{FSM: fsm.Config{MSL: time.Second}}
	since := func(segs []stamped) time.Time {
		tab := NewTable(cfg)
		for i, s := range segs {
			tab.Add(s.seg, s.ts, uint64(i+1))
		}
		for _, c := range tab.Conns() {
			if c.Client == cli && c.Machine.State(fsm.Client) == fsm.TimeWait {
				return c.Machine.TimeWaitSince(fsm.Client)
			}
		}
		t.Fatal("the client is not in TIME_WAIT")
		return time.Time{}
	}
	tw := cfg.FSM.TimeWait()
	for _, tc := range []struct {
		name string
		segs []stamped
	}{
		{"in order", closing(t0)},
		{"backwards", append([]stamped{other}, closing(t0)...)},
	} {
		began := since(tc.segs)
		for _, settle := range []struct {
			after time.Duration
			want  fsm.State
		}{{tw - time.Nanosecond, fsm.TimeWait}, {tw, fsm.Closed}} {
			for _, workers := range []int{1, 2} {
				var tr tracker
				if workers == 1 {
					tr = tableTracker{NewTable(cfg)}
				} else {
					s := NewSharded(cfg, workers)
					defer s.Close()
					tr = s
				}
				for i, s := range tc.segs {
					tr.Add(s.seg, s.ts, uint64(i+1))
				}
				tr.Settle(began.Add(settle.after))
				var got fsm.State = 255
				for _, c := range tr.Conns() {
					if c.Client == cli {
						got = c.Machine.State(fsm.Client)
					}
				}
				if got != settle.want {
					t.Errorf("%s, %d workers, settled %v after TIME_WAIT began: client %v, want %v", tc.name, workers, settle.after, got, settle.want)
				}
			}
		}
	}
}

// stamped is a segment with its capture time.
type stamped struct {
	seg *capture.Segment
	ts  time.Time
}

// TestConnTimes: First and Last give back the times of the first and the
// latest segment, to the nanosecond, before 1970 and after 2262 too (past
// what Unix nanoseconds hold), and a segment earlier than the latest
// leaves Last alone.
func TestConnTimes(t *testing.T) {
	for _, first := range []time.Time{t0.Add(123456789), time.Unix(-5, 7).UTC(), time.Date(2500, 1, 2, 3, 4, 5, 999999999, time.UTC)} {
		var c Conn
		c.setFirst(first)
		later := first.Add(1500 * time.Millisecond)
		c.seen(later)
		c.seen(first.Add(time.Nanosecond))
		if !c.First().Equal(first) || !c.Last().Equal(later) {
			t.Errorf("first %v, last %v: got %v and %v", first, later, c.First(), c.Last())
		}
	}
}
