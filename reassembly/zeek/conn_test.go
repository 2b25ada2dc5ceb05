package zeek

import (
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// step is one segment of a test sequence: sent by A (the first sender) or
// by B.
type step struct {
	a bool
	s Segment
}

var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// parseFlags reads the letters S A F R P U.
func parseFlags(s string) fsm.Flags {
	var f fsm.Flags
	for _, c := range s {
		switch c {
		case 'S':
			f |= fsm.SYN
		case 'A':
			f |= fsm.ACK
		case 'F':
			f |= fsm.FIN
		case 'R':
			f |= fsm.RST
		case 'P':
			f |= fsm.PSH
		case 'U':
			f |= fsm.URG
		default:
			panic("bad flag " + string(c))
		}
	}
	return f
}

func mk(a bool, flags string, seq, ack uint32, n int) step {
	return step{a: a, s: Segment{Flags: parseFlags(flags), Seq: seq, Ack: ack, Len: n, IPLen: 40 + n, Window: 1000}}
}

// o and r make a segment from A, the endpoint that sends first (the
// originator unless the roles flip), and from B.
func o(flags string, seq, ack uint32, n int) step { return mk(true, flags, seq, ack, n) }
func r(flags string, seq, ack uint32, n int) step { return mk(false, flags, seq, ack, n) }

func (st step) win(w uint16) step { st.s.Window = w; return st }
func (st step) bad() step         { st.s.BadChecksum = true; return st }
func (st step) cut() step         { st.s.PayloadCut = true; return st }

// times repeats a step n times.
func times(n int, st step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = st
	}
	return out
}

func seq(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch p := p.(type) {
		case step:
			out = append(out, p)
		case []step:
			out = append(out, p...)
		default:
			panic("seq: not a step")
		}
	}
	return out
}

// feed gives the steps to c, one millisecond apart.
func feed(c *Conn, steps []step) {
	at := t0
	for _, st := range steps {
		st.s.Time = at
		c.Add(st.a, &st.s)
		at = at.Add(time.Millisecond)
	}
}

func run(flip bool, steps []step) *Conn {
	var c Conn
	if flip {
		c.StartFlipped()
	}
	feed(&c, steps)
	return &c
}

// A's ISN is 1000, B's 5000.
var handshake = []step{
	o("S", 1000, 0, 0),
	r("SA", 5000, 1001, 0),
	o("A", 1001, 5001, 0),
}

func TestConnStateAndHistory(t *testing.T) {
	tests := []struct {
		name    string
		flip    bool // Zeek flipped the connection when it created it
		steps   []step
		state   string
		history string
		flipped bool
	}{
		// Every conn_state code.
		{name: "S0 attempt, no reply", steps: seq(o("S", 1000, 0, 0)), state: "S0", history: "S"},
		{name: "S1 established", steps: handshake, state: "S1", history: "ShA"},
		{name: "SF normal close", steps: seq(handshake,
			o("PA", 1001, 5001, 10), r("A", 5001, 1011, 0), r("PA", 5001, 1011, 20), o("A", 1011, 5021, 0),
			o("FA", 1011, 5021, 0), r("FA", 5021, 1012, 0), o("A", 1012, 5022, 0)),
			state: "SF", history: "ShADadFf"},
		{name: "SF needs both FINs, not the last ACK", steps: seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0)),
			state: "SF", history: "ShAFf"},
		{name: "REJ: RST answers the SYN", steps: seq(o("S", 1000, 0, 0), r("RA", 0, 1001, 0)), state: "REJ", history: "Sr"},
		{name: "S2 originator closed", steps: seq(handshake, o("FA", 1001, 5001, 0)), state: "S2", history: "ShAF"},
		{name: "S3 responder closed", steps: seq(handshake, r("FA", 5001, 1001, 0)), state: "S3", history: "ShAf"},
		{name: "RSTO originator aborted", steps: seq(handshake, o("RA", 1001, 5001, 0)), state: "RSTO", history: "ShAR"},
		{name: "RSTR responder aborted", steps: seq(handshake, r("RA", 5001, 1001, 0)), state: "RSTR", history: "ShAr"},
		{name: "RSTOS0 SYN then RST", steps: seq(o("S", 1000, 0, 0), o("R", 1001, 0, 0)), state: "RSTOS0", history: "SR"},
		{name: "OTH not RSTOS0: an ACK between SYN and RST", steps: seq(o("S", 1000, 0, 0), o("A", 1001, 7, 0), o("R", 1001, 0, 0)),
			state: "OTH", history: "SAR"},
		{name: "RSTRH SYN-ACK then RST, no SYN", flip: true, steps: seq(o("SA", 5000, 1001, 0), o("R", 5001, 0, 0)),
			state: "RSTRH", history: "^hr", flipped: true},
		{name: "RSTRH midstream, responder resets", steps: seq(o("PA", 1001, 5001, 10), r("R", 5001, 0, 0)),
			state: "RSTRH", history: "Dr"},
		{name: "SH SYN then FIN, no reply", steps: seq(o("S", 1000, 0, 0), o("F", 1001, 0, 0)), state: "SH", history: "SF"},
		{name: "SHR SYN-ACK then FIN, no SYN", flip: true, steps: seq(o("SA", 5000, 1001, 0), o("FA", 5001, 1001, 0)),
			state: "SHR", history: "^hf", flipped: true},
		{name: "OTH midstream", steps: seq(o("PA", 1001, 5001, 10), r("A", 5001, 1011, 0)), state: "OTH", history: "Da"},
		{name: "SF midstream with both FINs", steps: seq(o("PA", 1001, 5001, 10), r("A", 5001, 1011, 0),
			o("FA", 1011, 5001, 0), r("FA", 5001, 1012, 0)), state: "SF", history: "DaFf"},

		// Roles.
		{name: "SYN-ACK first flips on the next ACK", steps: seq(o("SA", 5000, 1001, 0), r("A", 1001, 5001, 0)),
			state: "S1", history: "^hA", flipped: true},
		{name: "SYN-ACK first flips on data from its sender", steps: seq(o("SA", 5000, 1001, 0), o("PA", 5001, 1001, 10)),
			state: "OTH", history: "^hd", flipped: true},
		{name: "SYN-ACK first, whole connection", steps: seq(o("SA", 5000, 1001, 0), r("A", 1001, 5001, 0),
			r("PA", 1001, 5001, 10), o("A", 5001, 1011, 0), o("FA", 5001, 1011, 0), r("FA", 1011, 5002, 0), o("A", 5002, 1012, 0)),
			state: "SF", history: "^hADafF", flipped: true},
		{name: "SYN-ACK first, only RST follows: no flip", steps: seq(o("SA", 5000, 1001, 0), r("R", 1001, 0, 0)),
			state: "REJ", history: "Hr"},
		{name: "SYN-ACK retransmitted: no flip yet", steps: seq(o("SA", 5000, 1001, 0), o("SA", 5000, 1001, 0)),
			state: "OTH", history: "H"},
		{name: "SYN after its SYN-ACK (reordered) flips", steps: seq(o("SA", 5000, 1001, 0), r("S", 1000, 0, 0), r("A", 1001, 5001, 0)),
			state: "S1", history: "Hs^A", flipped: true},
		{name: "flipped at creation by port", flip: true, steps: seq(o("PA", 5001, 1001, 10), r("A", 1001, 5011, 0)),
			state: "OTH", history: "^dA", flipped: true},

		// Letters: once per direction for A D I Q, again on a new sequence
		// number for S H F R, log scale for C G T W.
		{name: "S once for a retransmitted SYN", steps: seq(times(3, o("S", 1000, 0, 0))), state: "S0", history: "S"},
		{name: "S again on a new sequence number", steps: seq(o("S", 1000, 0, 0), o("R", 1001, 0, 0), o("S", 3000, 0, 0)),
			state: "RSTOS0", history: "SRS"},
		{name: "R again on a new sequence number", steps: seq(handshake, o("RA", 1001, 5001, 0), o("RA", 1001, 5001, 0), o("R", 2000, 0, 0)),
			state: "RSTO", history: "ShARR"},
		{name: "F again only when its sequence moves", steps: seq(handshake, o("FA", 1001, 5001, 0), o("FA", 1001, 5001, 0),
			o("FPA", 1001, 5001, 10)), state: "S2", history: "ShAFF"},
		{name: "FIN with data logs F, not D", steps: seq(handshake, o("FPA", 1001, 5001, 10)), state: "S2", history: "ShAF"},
		{name: "A and D once per direction", steps: seq(handshake, o("PA", 1001, 5001, 5), o("PA", 1006, 5001, 5),
			r("A", 5001, 1006, 0), r("A", 5001, 1011, 0), r("PA", 5001, 1011, 5), r("PA", 5006, 1011, 5)),
			state: "S1", history: "ShADad"},
		{name: "I for FIN+RST", steps: seq(handshake, o("FRA", 1001, 5001, 0)), state: "RSTO", history: "ShAI"},
		{name: "Q for SYN+FIN", steps: seq(o("SF", 1000, 0, 0)), state: "SH", history: "Q"},
		// The SYN in it establishes the originator before the RST resets
		// the responder, so this is no rejection.
		{name: "q for the responder's SYN+RST", steps: seq(o("S", 1000, 0, 0), r("SRA", 5000, 1001, 0)),
			state: "RSTR", history: "Sq"},
		{name: "C and c for bad checksums", steps: seq(o("S", 1000, 0, 0).bad(), o("S", 1000, 0, 0), r("SA", 5000, 1001, 0).bad()),
			state: "S0", history: "CSc"},
		{name: "T and t for retransmitted data", steps: seq(handshake, o("PA", 1001, 5001, 10), o("PA", 1001, 5001, 10),
			r("PA", 5001, 1011, 10), r("PA", 5001, 1011, 10)), state: "S1", history: "ShADTdt"},
		{name: "W and w for zero windows", steps: seq(handshake, r("A", 5001, 1001, 0).win(0), o("A", 1001, 5001, 0).win(0)),
			state: "S1", history: "ShAawW"},
		{name: "no W after the peer's FIN", steps: seq(handshake, o("FA", 1001, 5001, 0), r("A", 5001, 1002, 0).win(0)),
			state: "S2", history: "ShAFa"},
		{name: "G for data acknowledged but never seen", steps: seq(handshake, o("PA", 1001, 5001, 10), o("PA", 1021, 5001, 10),
			r("A", 5001, 1031, 0)), state: "S1", history: "ShADaG"},
		{name: "g for the responder's gap", steps: seq(handshake, r("PA", 5001, 1001, 10), r("PA", 5021, 1001, 10),
			o("A", 1001, 5031, 0)), state: "S1", history: "ShAdg"},
		{name: "no G in a partial connection", steps: seq(o("PA", 1001, 5001, 10), o("PA", 1021, 5001, 10), r("A", 5001, 1031, 0)),
			state: "OTH", history: "Da"},
		{name: "G for a payload the capture cut", steps: seq(handshake, o("PA", 1001, 5001, 10).cut(), r("A", 5001, 1011, 0)),
			state: "S1", history: "ShADaG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := run(tt.flip, tt.steps)
			if got := c.State(); got != tt.state {
				t.Errorf("state %s, want %s (orig %v, resp %v, history %q)", got, tt.state, c.OrigState(), c.RespState(), c.History())
			}
			if got := c.History(); got != tt.history {
				t.Errorf("history %q, want %q", got, tt.history)
			}
			if c.Flipped() != tt.flipped {
				t.Errorf("flipped %v, want %v", c.Flipped(), tt.flipped)
			}
		})
	}
}

// Every conn_state code and every history letter Zeek uses for TCP is
// produced by some case above; this guards the tables against losing one.
func TestCoverage(t *testing.T) {
	states := map[string]bool{}
	letters := map[rune]bool{}
	for _, name := range []string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"} {
		states[name] = false
	}
	for _, l := range "SHADFRCGTWIQ^shadfrcgtwiq" {
		letters[l] = false
	}
	// Re-run the table through a recorder.
	record := func(c *Conn) {
		states[c.State()] = true
		for _, l := range c.History() {
			letters[l] = true
		}
	}
	for _, steps := range coverageSequences() {
		record(run(steps.flip, steps.steps))
	}
	for s, seen := range states {
		if !seen {
			t.Errorf("no sequence produces conn_state %s", s)
		}
	}
	for l, seen := range letters {
		if !seen {
			t.Errorf("no sequence produces history letter %c", l)
		}
	}
}

type flipSteps struct {
	flip  bool
	steps []step
}

func coverageSequences() []flipSteps {
	return []flipSteps{
		{steps: seq(o("S", 1000, 0, 0))},
		{steps: handshake},
		{steps: seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0))},
		{steps: seq(o("S", 1000, 0, 0), r("RA", 0, 1001, 0))},
		{steps: seq(handshake, o("FA", 1001, 5001, 0))},
		{steps: seq(handshake, r("FA", 5001, 1001, 0))},
		{steps: seq(handshake, o("RA", 1001, 5001, 0))},
		{steps: seq(handshake, r("RA", 5001, 1001, 0))},
		{steps: seq(o("S", 1000, 0, 0), o("R", 1001, 0, 0))},
		{flip: true, steps: seq(o("SA", 5000, 1001, 0), o("R", 5001, 0, 0))},
		{steps: seq(o("S", 1000, 0, 0), o("F", 1001, 0, 0))},
		{flip: true, steps: seq(o("SA", 5000, 1001, 0), o("FA", 5001, 1001, 0))},
		{steps: seq(o("PA", 1001, 5001, 10), r("A", 5001, 1011, 0))},
		{steps: seq(o("S", 1000, 0, 0).bad(), r("SA", 5000, 1001, 0).bad())},
		{steps: seq(handshake, o("PA", 1001, 5001, 10), o("PA", 1001, 5001, 10), r("PA", 5001, 1011, 10), r("PA", 5001, 1011, 10))},
		{steps: seq(handshake, r("A", 5001, 1001, 0).win(0), o("A", 1001, 5001, 0).win(0))},
		{steps: seq(handshake, o("PA", 1001, 5001, 10), o("PA", 1021, 5001, 10), r("A", 5001, 1031, 0))},
		{steps: seq(handshake, r("PA", 5001, 1001, 10), r("PA", 5021, 1001, 10), o("A", 1001, 5031, 0))},
		{steps: seq(handshake, o("FRA", 1001, 5001, 0), r("FRA", 5001, 1001, 0))},
		{steps: seq(o("SF", 1000, 0, 0), r("SFA", 5000, 1001, 0))},
		{steps: seq(handshake, r("FA", 5001, 1001, 0), o("FA", 1001, 5002, 0), r("RA", 5002, 1002, 0))},
		{steps: seq(o("SA", 5000, 1001, 0), r("S", 1000, 0, 0), r("A", 1001, 5001, 0))},
	}
}

// The log-scale letters are logged at the 1st, 10th, 100th and 1000th
// occurrence, and not in between.
func TestLogScaleLetters(t *testing.T) {
	tests := []struct {
		name   string
		steps  func(n int) []step
		letter string
	}{
		{"T retransmissions", func(n int) []step {
			return seq(handshake, o("PA", 1001, 5001, 10), times(n, o("PA", 1001, 5001, 10)))
		}, "T"},
		{"t retransmissions", func(n int) []step {
			return seq(handshake, r("PA", 5001, 1001, 10), times(n, r("PA", 5001, 1001, 10)))
		}, "t"},
		{"W zero windows", func(n int) []step { return seq(handshake, times(n, o("A", 1001, 5001, 0).win(0))) }, "W"},
		{"w zero windows", func(n int) []step { return seq(handshake, times(n, r("A", 5001, 1001, 0).win(0))) }, "w"},
		{"C bad checksums", func(n int) []step { return times(n, o("S", 1000, 0, 0).bad()) }, "C"},
		{"c bad checksums", func(n int) []step { return seq(o("S", 1000, 0, 0), times(n, r("SA", 5000, 1001, 0).bad())) }, "c"},
		{"G gaps", func(n int) []step {
			// Each round: data with a one-byte hole before it, then an
			// ACK of all of it.
			out := seq(handshake)
			next := uint32(1001)
			for range n {
				out = append(out, o("PA", next+1, 5001, 1), r("A", 5001, next+2, 0))
				next += 2
			}
			return out
		}, "G"},
	}
	want := map[int]int{1: 1, 9: 1, 10: 2, 11: 2, 99: 2, 100: 3, 999: 3, 1000: 4, 1001: 4}
	for _, tt := range tests {
		for n, count := range want {
			c := run(false, tt.steps(n))
			if got := strings.Count(c.History(), tt.letter); got != count {
				t.Errorf("%s: %d occurrences give %d %q in %q, want %d", tt.name, n, got, tt.letter, c.History(), count)
			}
		}
	}
}

// The 32-bit arithmetic of Zeek's threshold, at its overflow.
func TestScaledOverflow(t *testing.T) {
	s := scaled{n: 999_999_999, next: 1_000_000_000}
	if !s.hit() {
		t.Fatal("the 10^9th occurrence was not logged")
	}
	// 10^10 does not fit in 32 bits: Zeek's threshold becomes 10^10 mod 2^32.
	if s.next != 1410065408 {
		t.Fatalf("next threshold %d, want 1410065408", s.next)
	}
	s = scaled{n: 4294967294, next: 4294967295}
	if !s.hit() || s.n != 0 || s.next != 4294967295 {
		t.Fatalf("at the top threshold: %+v, want the count reset and the threshold kept", s)
	}
}

func TestCounters(t *testing.T) {
	c := run(false, seq(handshake,
		o("PA", 1001, 5001, 10), r("A", 5001, 1011, 0), r("PA", 5001, 1011, 20), o("A", 1011, 5021, 0),
		o("FA", 1011, 5021, 0), r("FA", 5021, 1012, 0), o("A", 1012, 5022, 0)))
	if got, want := c.Orig(), (Side{Pkts: 6, IPBytes: 6*40 + 10, Bytes: 10}); got != want {
		t.Errorf("orig %+v, want %+v", got, want)
	}
	if got, want := c.Resp(), (Side{Pkts: 4, IPBytes: 4*40 + 20, Bytes: 20}); got != want {
		t.Errorf("resp %+v, want %+v", got, want)
	}
	// The duration ends at the second FIN: the last ACK comes after both
	// sides closed.
	if got := c.Duration(); got != 8*time.Millisecond {
		t.Errorf("duration %v, want 8ms", got)
	}
	if c.MissedBytes() != 0 {
		t.Errorf("missed %d, want 0", c.MissedBytes())
	}
}

// orig_bytes comes from sequence numbers: retransmissions do not count
// twice, and data acknowledged but never captured counts (and is missed).
func TestBytesFromSequenceSpans(t *testing.T) {
	c := run(false, seq(handshake, o("PA", 1001, 5001, 100), o("PA", 1001, 5001, 100),
		o("PA", 1201, 5001, 100), r("A", 5001, 1301, 0)))
	if got := c.Orig().Bytes; got != 300 {
		t.Errorf("orig bytes %d, want 300 (the span 1001..1300)", got)
	}
	if got := c.MissedBytes(); got != 100 {
		t.Errorf("missed %d, want 100 (1101..1200)", got)
	}
	if got := c.History(); got != "ShADTaG" {
		t.Errorf("history %q, want ShADTaG", got)
	}
	// A hole filled before the ACK is no gap.
	c = run(false, seq(handshake, o("PA", 1101, 5001, 100), o("PA", 1001, 5001, 100), r("A", 5001, 1201, 0)))
	if c.MissedBytes() != 0 || strings.ContainsRune(c.History(), 'G') {
		t.Errorf("reordered data: missed %d, history %q; want no gap", c.MissedBytes(), c.History())
	}
	// Two holes under one ACK: two gaps, 'G' once (log scale).
	c = run(false, seq(handshake, o("PA", 1011, 5001, 10), o("PA", 1031, 5001, 10), r("A", 5001, 1041, 0)))
	if c.MissedBytes() != 20 {
		t.Errorf("two holes: missed %d, want 20", c.MissedBytes())
	}
}

// A 4-tuple reused: the SYN with a new ISN after the close is for a new
// Conn, and the two connections' results are independent.
func TestPortReuse(t *testing.T) {
	first := seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0), o("A", 1002, 5002, 0))
	second := seq(o("S", 9000, 0, 0), r("SA", 7000, 9001, 0), o("A", 9001, 7001, 0), o("RA", 9001, 7001, 0))
	var conns []*Conn
	cur := &Conn{}
	conns = append(conns, cur)
	at := t0
	for _, st := range append(first, second...) {
		st.s.Time = at
		at = at.Add(time.Second)
		if cur.IsReuse(&st.s) {
			cur = &Conn{}
			conns = append(conns, cur)
		}
		cur.Add(st.a, &st.s)
	}
	if len(conns) != 2 {
		t.Fatalf("%d connections, want 2", len(conns))
	}
	for i, want := range []struct{ state, history string }{{"SF", "ShAFf"}, {"RSTO", "ShAR"}} {
		if got := conns[i].State() + " " + conns[i].History(); got != want.state+" "+want.history {
			t.Errorf("connection %d: %s, want %s %s", i+1, got, want.state, want.history)
		}
	}
	if conns[1].First() != t0.Add(6*time.Second) {
		t.Errorf("second connection starts at %v", conns[1].First())
	}
}

func TestIsReuse(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		next  step
		want  bool
	}{
		{"retransmitted SYN", seq(o("S", 1000, 0, 0)), o("S", 1000, 0, 0), false},
		{"SYN with a new ISN", seq(o("S", 1000, 0, 0)), o("S", 2000, 0, 0), true},
		{"not a SYN", seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0)), o("A", 1002, 5002, 0), false},
		{"SYN after the close", seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0)), o("S", 1000, 0, 0), true},
		{"SYN-ACK once the originator was seen", seq(o("S", 1000, 0, 0)), r("SA", 5000, 1001, 0), false},
		{"SYN to a SYN-ACK seen first", seq(o("SA", 5000, 1001, 0)), r("S", 1000, 0, 0), false},
		{"simultaneous open: the other SYN", seq(o("S", 1000, 0, 0)), r("S", 5000, 0, 0), true},
		{"nothing yet", nil, o("S", 1000, 0, 0), false},
	}
	for _, tt := range tests {
		c := run(false, tt.steps)
		if got := c.IsReuse(&tt.next.s); got != tt.want {
			t.Errorf("%s: IsReuse %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFlipsOnCreate(t *testing.T) {
	likely := func(p uint16) bool { return p == 80 || p == 443 }
	tests := []struct {
		flags    string
		src, dst uint16
		likely   func(uint16) bool
		want     bool
	}{
		{"S", 80, 40000, likely, false},    // a SYN is never flipped
		{"SA", 80, 40000, likely, true},    // SYN-ACK from a server port
		{"A", 80, 40000, likely, true},     // midstream from a server port
		{"A", 40000, 80, likely, false},    // from the client side
		{"A", 80, 443, likely, true},       // both likely: lower source port wins
		{"A", 443, 80, likely, false},      // both likely, source higher
		{"SA", 80, 443, likely, false},     // both likely and a SYN-ACK: a scan, maybe
		{"SA", 80, 40000, nil, false},      // no likely ports
		{"PA", 443, 50000, likely, true},   // data from a server port
		{"R", 40000, 40001, likely, false}, // neither
	}
	for _, tt := range tests {
		if got := FlipsOnCreate(parseFlags(tt.flags), tt.src, tt.dst, tt.likely); got != tt.want {
			t.Errorf("FlipsOnCreate(%s, %d, %d) = %v, want %v", tt.flags, tt.src, tt.dst, got, tt.want)
		}
	}
}

func TestHistoryBounded(t *testing.T) {
	// Each RST with a new sequence number adds an 'R'.
	var steps []step
	for i := range MaxHistory + 10 {
		steps = append(steps, o("R", uint32(1000+100*i), 0, 0))
	}
	c := run(false, steps)
	if n := len(c.History()); n != MaxHistory || !c.HistoryTruncated() {
		t.Fatalf("history of %d letters (truncated %v), want %d and truncated", n, c.HistoryTruncated(), MaxHistory)
	}
	if c := run(false, handshake); c.HistoryTruncated() {
		t.Fatal("a short history is reported truncated")
	}
}

// Add never allocates, whatever the segment.
func TestAddAllocs(t *testing.T) {
	steps := seq(o("SA", 5000, 1001, 0), r("A", 1001, 5001, 0), r("PA", 1001, 5001, 10).cut(),
		o("PA", 5021, 1011, 10), o("PA", 5001, 1011, 5), r("A", 1011, 5031, 0).win(0), o("S", 9, 0, 0).bad(),
		o("FA", 5031, 1011, 0), r("FRA", 1011, 5032, 0))
	var buf [MaxHistory]byte
	allocs := testing.AllocsPerRun(100, func() {
		var c Conn
		for _, st := range steps {
			st.s.Time = t0
			c.Add(st.a, &st.s)
		}
		_ = c.State()
		_ = c.AppendHistory(buf[:0])
		_ = c.IsReuse(&steps[0].s)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per connection, want 0", allocs)
	}
}

func BenchmarkAdd(b *testing.B) {
	steps := seq(handshake, o("PA", 1001, 5001, 100), r("A", 5001, 1101, 0), r("PA", 5001, 1101, 1000),
		o("A", 1101, 6001, 0), o("FA", 1101, 6001, 0), r("FA", 6001, 1102, 0), o("A", 1102, 6002, 0))
	b.ReportAllocs()
	var c Conn
	for i := 0; b.Loop(); i++ {
		if i%len(steps) == 0 {
			c = Conn{}
		}
		st := steps[i%len(steps)]
		st.s.Time = t0
		c.Add(st.a, &st.s)
	}
}

// Expired follows Zeek's timers: the attempt timer for an unanswered SYN,
// the delete timer after a close, the inactivity timeouts.
func TestExpired(t *testing.T) {
	tests := []struct {
		name  string
		steps []step // one millisecond apart from t0
		after time.Duration
		want  bool
	}{
		{"unanswered SYN at 4.9 s", seq(o("S", 1000, 0, 0)), 4900 * time.Millisecond, false},
		{"unanswered SYN at 5 s", seq(o("S", 1000, 0, 0)), 5 * time.Second, true},
		{"answered SYN at 5 s", handshake, 5 * time.Second, false},
		{"SYN-ACK only, no answer", seq(o("SA", 5000, 1001, 0)), 5 * time.Second, true},
		{"closed 4 s ago", seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0)), 4 * time.Second, false},
		{"closed 5 s ago", seq(handshake, o("FA", 1001, 5001, 0), r("FA", 5001, 1002, 0)), 5*time.Second + 5*time.Millisecond, true},
		{"reset 5 s ago", seq(handshake, o("RA", 1001, 5001, 0)), 5*time.Second + 3*time.Millisecond, true},
		{"half closed 5 s ago", seq(handshake, o("FA", 1001, 5001, 0)), 10 * time.Second, false},
		{"established, idle 4 min", handshake, 4 * time.Minute, false},
		{"established, idle 5 min", handshake, 5*time.Minute + 2*time.Millisecond, true},
		{"partial, idle 5 min", seq(o("PA", 1001, 5001, 10)), 5 * time.Minute, true},
	}
	for _, tt := range tests {
		c := run(false, tt.steps)
		if got := c.Expired(t0.Add(tt.after)); got != tt.want {
			t.Errorf("%s: Expired %v, want %v", tt.name, got, tt.want)
		}
	}
	// A segment after the attempt time while answered consumes the timer.
	var c Conn
	feed(&c, handshake)
	if c.Expired(t0.Add(6 * time.Second)) {
		t.Error("an established connection expired at its attempt time")
	}
	if new(Conn).Expired(t0) {
		t.Error("an empty Conn expired")
	}
}
