package wireshark

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// handshake is a three-way handshake 1 ms apart (an initial RTT of 2 ms):
// client ISN 100, server ISN 500, windows of 1000, no window scaling.
func handshake() []step {
	return []step{
		c2s("S", 100, 0, 0, 1000),
		s2c("SA", 500, 101, 0, 1000),
		c2s("A", 101, 501, 0, 1000),
	}
}

// seq joins steps.
func seq(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// sequences are hand-made conversations with the flags Wireshark gives
// every segment: each flag alone, then where several apply at once and
// Wireshark's order of checks decides. TestSequences checks the analysis
// against them, TestSequencesTshark checks them against tshark.
var sequences = []struct {
	name  string
	steps []step
}{
	{"a clean exchange has no flags", seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000),
		s2c("A", 501, 201, 0, 1000),
		s2c("PA", 501, 201, 50, 1000),
		c2s("A", 201, 551, 0, 1000),
		c2s("FA", 201, 551, 0, 1000),
		s2c("FA", 551, 202, 0, 1000),
		c2s("A", 202, 552, 0, 1000),
	})},

	// retransmission
	{"data sent again later is a retransmission", seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000).at(ms(10)),
		c2s("PA", 101, 501, 100, 1000).at(ms(300)).is(Retransmission),
	})},
	{"a SYN sent again is a retransmission, not port reuse", []step{
		c2s("S", 100, 0, 0, 1000).at(0),
		c2s("S", 100, 0, 0, 1000).at(time.Second).is(Retransmission),
		s2c("SA", 500, 101, 0, 1000),
		c2s("A", 101, 501, 0, 1000),
	}},
	{"a SYN sent again forgets what was sent beyond a gap", seq(handshake(), []step{
		c2s("PA", 301, 501, 10, 1000).is(LostSegment),
		c2s("S", 100, 0, 0, 1000).is(Retransmission),
		c2s("PA", 101, 501, 10, 1000), // nothing: the gap was forgotten
	})},
	{"a FIN sent again is a retransmission", seq(handshake(), []step{
		c2s("FA", 101, 501, 0, 1000).at(ms(10)),
		c2s("FA", 101, 501, 0, 1000).at(ms(300)).is(Retransmission),
	})},
	{"a retransmission before the segment it repeats is far away in time", seq(handshake(), []step{
		c2s("PA", 111, 501, 10, 1000).at(ms(10)).is(LostSegment),
		c2s("PA", 101, 501, 10, 1000).at(ms(9)).is(Retransmission), // the clock stepped back
	})},

	// fast retransmission
	{"a retransmission after duplicate ACKs is fast", seq(handshake(), []step{
		c2s("PA", 111, 501, 10, 1000).at(ms(10)).is(LostSegment),
		c2s("PA", 121, 501, 10, 1000).at(ms(11)),
		s2c("A", 501, 101, 0, 1000).at(ms(12)).dup(1),
		s2c("A", 501, 101, 0, 1000).at(ms(13)).dup(2),
		s2c("A", 501, 101, 0, 1000).at(ms(14)).dup(3),
		c2s("PA", 101, 501, 10, 1000).at(ms(20)).is(FastRetransmission | Retransmission),
		s2c("A", 501, 131, 0, 1000).at(ms(21)),
	})},
	{"a fast retransmission comes within 20 ms of the last ACK", seq(handshake(), []step{
		c2s("PA", 111, 501, 10, 1000).at(ms(10)).is(LostSegment),
		s2c("A", 501, 101, 0, 1000).at(ms(12)).dup(1),
		s2c("A", 501, 101, 0, 1000).at(ms(13)).dup(2),
		c2s("PA", 101, 501, 10, 1000).at(ms(33)).is(Retransmission),
	})},
	{"one duplicate ACK is not enough for a fast retransmission", seq(handshake(), []step{
		c2s("PA", 111, 501, 10, 1000).at(ms(10)).is(LostSegment),
		s2c("A", 501, 101, 0, 1000).at(ms(12)).dup(1),
		c2s("PA", 101, 501, 10, 1000).at(ms(14)).is(Retransmission),
	})},

	// spurious retransmission
	{"data the receiver acknowledged is a spurious retransmission", seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000).at(ms(10)),
		s2c("A", 501, 201, 0, 1000).at(ms(11)),
		c2s("PA", 101, 501, 100, 1000).at(ms(300)).is(SpuriousRetransmission | Retransmission),
	})},

	// out of order
	{"a segment that fills a gap at once is out of order", seq(handshake(), []step{
		c2s("PA", 111, 501, 10, 1000).at(ms(10)).is(LostSegment),
		c2s("PA", 101, 501, 10, 1000).at(ms(11)).is(OutOfOrder),
	})},
	{"out of order means within the handshake's RTT", []step{
		c2s("S", 100, 0, 0, 1000).at(0),
		s2c("SA", 500, 101, 0, 1000).at(ms(20)),
		c2s("A", 101, 501, 0, 1000).at(ms(50)), // initial RTT 50 ms
		c2s("PA", 111, 501, 10, 1000).at(ms(60)).is(LostSegment),
		c2s("PA", 101, 501, 10, 1000).at(ms(90)).is(OutOfOrder),
		c2s("PA", 131, 501, 10, 1000).at(ms(100)).is(LostSegment),
		c2s("PA", 121, 501, 10, 1000).at(ms(151)).is(Retransmission),
	}},
	{"without a handshake out of order means within 3 ms", []step{
		c2s("PA", 1000, 5000, 10, 1000).at(0),
		c2s("PA", 1020, 5000, 10, 1000).at(ms(1)).is(LostSegment),
		c2s("PA", 1010, 5000, 10, 1000).at(ms(3)).is(OutOfOrder),
		c2s("PA", 1040, 5000, 10, 1000).at(ms(10)).is(LostSegment),
		c2s("PA", 1030, 5000, 10, 1000).at(ms(14)).is(Retransmission),
	}},
	{"a segment ending at the highest sequence number is not out of order", seq(handshake(), []step{
		c2s("PA", 101, 501, 20, 1000).at(ms(10)),
		c2s("PA", 111, 501, 10, 1000).at(ms(10) + 100*time.Microsecond).is(Retransmission),
	})},

	// previous segment not captured
	{"a segment beyond the highest sequence number follows a lost one", seq(handshake(), []step{
		c2s("PA", 201, 501, 10, 1000).is(LostSegment),
		c2s("A", 301, 501, 0, 1000).is(LostSegment), // an ACK too moves the highest sequence number
		c2s("PA", 301, 501, 10, 1000),
		c2s("R", 5000, 0, 0, 0), // never an RST
	})},

	// ACKed unseen segment
	{"an ACK of data the capture missed", seq(handshake(), []step{
		s2c("PA", 501, 101, 10, 1000),
		c2s("A", 101, 531, 0, 1000).is(AckLostSegment),
		c2s("A", 101, 541, 0, 1000), // flagged once until the sender's ACK moves
	})},
	{"an ACK beyond a gap flags once and moves the boundary", seq(handshake(), []step{
		c2s("PA", 101, 501, 10, 1000),
		s2c("PA", 501, 101, 10, 1000),
		s2c("PA", 521, 101, 10, 1000).is(LostSegment),
		c2s("A", 111, 531, 0, 1000).is(AckLostSegment),
		s2c("PA", 531, 111, 10, 1000),
		c2s("A", 111, 541, 0, 1000),
	})},

	// duplicate ACK
	{"duplicate ACKs are counted until the ACK moves", seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000),
		s2c("A", 501, 201, 0, 1000),
		s2c("A", 501, 201, 0, 1000).dup(1),
		s2c("A", 501, 201, 0, 1000).dup(2),
		s2c("A", 501, 201, 0, 2000).is(WindowUpdate), // another window: not a duplicate
		s2c("A", 501, 201, 0, 2000).dup(3),
		c2s("PA", 201, 501, 100, 1000),
		s2c("A", 501, 301, 0, 2000),
		s2c("A", 501, 301, 0, 2000).dup(1),
		s2c("PA", 501, 301, 10, 2000), // data is never a duplicate ACK
	})},
	{"an ACK of unseen data restarts the peer's duplicate count", seq(handshake(), []step{
		s2c("PA", 501, 101, 10, 1000),
		c2s("A", 101, 531, 0, 1000).is(AckLostSegment),
		s2c("A", 511, 101, 0, 1000).dup(1),
		s2c("A", 511, 101, 0, 1000).dup(2),
	})},
	{"a zero window repeated is not a duplicate ACK", seq(handshake(), []step{
		s2c("A", 501, 101, 0, 0).is(ZeroWindow),
		s2c("A", 501, 101, 0, 0).is(ZeroWindow),
	})},

	// keep-alive
	{"keep-alives and their ACKs", seq(handshake(), []step{
		c2s("PA", 101, 501, 10, 1000),
		s2c("A", 501, 111, 0, 1000),
		c2s("A", 110, 501, 0, 1000).at(10 * time.Second).is(KeepAlive),
		s2c("A", 501, 111, 0, 1000).is(KeepAliveAck),                   // not a duplicate ACK
		c2s("A", 110, 501, 1, 1000).at(20 * time.Second).is(KeepAlive), // one byte, and not a retransmission
		s2c("A", 501, 111, 0, 1000).is(KeepAliveAck),
		s2c("A", 501, 111, 0, 1000).is(KeepAliveAck), // the keep-alive is still the client's last segment
		c2s("PA", 111, 501, 10, 1000),
		s2c("A", 501, 111, 0, 1000).dup(1),
	})},
	{"data from one below the highest sequence number is new data", seq(handshake(), []step{
		c2s("PA", 101, 501, 10, 1000),
		c2s("A", 110, 501, 1, 1000).is(KeepAlive),
		c2s("PA", 110, 501, 100, 1000),
	})},

	// zero window
	{"a zero window, probes, their ACKs and the window opening", seq(handshake(), []step{
		c2s("PA", 101, 501, 10, 1000),
		s2c("A", 501, 111, 0, 0).is(ZeroWindow),
		c2s("A", 111, 501, 1, 1000).at(ms(200)).is(ZeroWindowProbe),
		s2c("A", 501, 111, 0, 0).is(ZeroWindow | ZeroWindowProbeAck),
		c2s("A", 111, 501, 1, 0).at(ms(600)).is(ZeroWindowProbe), // no further check, not even its own zero window
		s2c("A", 501, 111, 0, 0).is(ZeroWindow | ZeroWindowProbeAck),
		s2c("A", 501, 111, 0, 1000).is(WindowUpdate),
		c2s("PA", 111, 501, 100, 1000), // a probe does not move the highest sequence number
	})},

	// window full
	{"data that fills the peer's scaled window", []step{
		c2s("S", 100, 0, 0, 1000).ws(7),
		s2c("SA", 500, 101, 0, 100).ws(7),
		c2s("A", 101, 501, 0, 1000),
		c2s("PA", 101, 501, 100, 1000).is(WindowFull), // the SYN-ACK's window is not scaled
		s2c("A", 501, 201, 0, 1),
		c2s("PA", 201, 501, 128, 1000).is(WindowFull), // 1 << 7
	}},
	{"window full without scaling", []step{
		c2s("S", 100, 0, 0, 1000),
		s2c("SA", 500, 101, 0, 100).ws(7), // one SYN without the option: no scaling
		c2s("A", 101, 501, 0, 1000),
		c2s("PA", 101, 501, 100, 1000).is(WindowFull),
		s2c("A", 501, 201, 0, 10),
		c2s("PA", 201, 501, 10, 1000).is(WindowFull),
	}},
	{"window full is not checked before a SYN shows the scaling", []step{
		c2s("PA", 1000, 5000, 10, 1000),
		s2c("A", 5000, 1010, 0, 10),
		c2s("PA", 1010, 5000, 10, 1000),
	}},

	// window update
	{"a new window alone is a window update", seq(handshake(), []step{
		s2c("A", 501, 101, 0, 3000).is(WindowUpdate),
		c2s("A", 101, 501, 0, 500).is(WindowUpdate),
	})},

	// reused ports
	{"a SYN with a new ISN starts a new conversation", seq(handshake(), []step{
		c2s("FA", 101, 501, 0, 1000),
		s2c("FA", 501, 102, 0, 1000),
		c2s("A", 102, 502, 0, 1000),
		c2s("S", 900, 0, 0, 1000).at(5 * time.Second).is(ReusedPorts),
		s2c("SA", 2000, 901, 0, 1000), // nothing of the old conversation is left
		c2s("A", 901, 2001, 0, 1000),
		c2s("S", 100, 0, 0, 1000).at(9 * time.Second).is(ReusedPorts), // the old ISN is new again
	})},
	{"a SYN with the old ISN after a close is a retransmission", seq(handshake(), []step{
		c2s("FA", 101, 501, 0, 1000),
		s2c("FA", 501, 102, 0, 1000),
		c2s("A", 102, 502, 0, 1000),
		c2s("S", 100, 0, 0, 1000).is(Retransmission),
	})},
	{"a SYN-ACK with another ISN", []step{
		c2s("S", 100, 0, 0, 1000),
		s2c("SA", 500, 101, 0, 1000),
		s2c("SA", 700, 101, 0, 1000).is(ReusedPorts | LostSegment),
		c2s("A", 101, 701, 0, 1000).is(AckLostSegment),
	}},

	// TCP Fast Open
	{"a SYN with a cookie and data whose data is acknowledged", []step{
		c2s("S", 100, 0, 20, 1000).tfo().is(TFOSyn),
		s2c("SA", 500, 121, 0, 1000).is(TFOAck),
		c2s("A", 121, 501, 0, 1000),
	}},
	{"a SYN with a cookie and data whose data is ignored", []step{
		c2s("S", 100, 0, 20, 1000).tfo().is(TFOSyn),
		s2c("SA", 500, 101, 0, 1000).is(TFOIgnored),
		c2s("A", 121, 501, 0, 1000),                      // the SYN's data still took sequence space
		c2s("PA", 101, 501, 20, 1000).is(Retransmission), // so sending it again repeats it
	}},
	{"a cookie without data", []step{
		c2s("S", 100, 0, 0, 1000).tfo().is(TFOSyn),
		s2c("SA", 500, 101, 0, 1000),
	}},

	// Wireshark's arithmetic
	{"sequence number 0 means none yet", []step{
		c2s("S", 0xffffffff, 0, 0, 1000).at(0),
		c2s("S", 0xffffffff, 0, 0, 1000).at(time.Second), // not flagged: its end, 0, reads as nothing sent
		s2c("SA", 500, 0, 0, 1000),
		c2s("A", 0, 501, 0, 1000),
		c2s("PA", 100, 501, 10, 1000), // nor a gap
	}},
	{"after an ACK of unseen data any retransmission at the ACK is fast", seq(handshake(), []step{
		c2s("PA", 101, 501, 10, 1000).at(ms(3)),
		s2c("PA", 501, 101, 10, 1000).at(ms(4)),
		c2s("A", 111, 531, 0, 1000).at(ms(6)).is(AckLostSegment),
		// Wireshark's duplicate count of the server now reads as 2^32-1.
		c2s("PA", 101, 531, 10, 1000).at(ms(15)).is(FastRetransmission | Retransmission),
	})},

	// precedence
	{"fast retransmission is checked before out of order", seq(handshake(), []step{
		c2s("PA", 111, 501, 10, 1000).at(ms(10)).is(LostSegment),
		c2s("PA", 121, 501, 10, 1000).at(ms(11)),
		s2c("A", 501, 101, 0, 1000).at(ms(11) + 200*time.Microsecond).dup(1),
		s2c("A", 501, 101, 0, 1000).at(ms(11) + 400*time.Microsecond).dup(2),
		c2s("PA", 101, 501, 10, 1000).at(ms(12)).is(FastRetransmission | Retransmission),
	})},
	{"spurious retransmission is checked before out of order", seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000).at(ms(10)),
		s2c("A", 501, 201, 0, 1000).at(ms(10) + 500*time.Microsecond),
		c2s("PA", 201, 501, 100, 1000).at(ms(11)),
		c2s("PA", 101, 501, 100, 1000).at(ms(11) + 500*time.Microsecond).is(SpuriousRetransmission | Retransmission),
	})},
	{"a zero window and a lost segment together", seq(handshake(), []step{
		c2s("A", 301, 501, 0, 0).is(ZeroWindow | LostSegment),
	})},
	{"an RST with data behind is a retransmission", seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000).at(ms(10)),
		c2s("RA", 101, 501, 10, 0).at(ms(300)).is(Retransmission),
	})},
}

// TestSequences checks the analysis of every hand-made sequence, segment
// by segment.
func TestSequences(t *testing.T) {
	for _, tc := range sequences {
		t.Run(tc.name, func(t *testing.T) {
			var c Conn
			for i, s := range timeline(tc.steps) {
				f, dup := c.Add(s.from, s.seg)
				if got := (verdict{f, dup}); got != s.want {
					t.Errorf("#%d %v: got %v, want %v", i+1, s, got, s.want)
				}
			}
		})
	}
}

// TestSequencesTshark checks the hand-made sequences' expected flags with
// tshark: they are Wireshark's, not only this package's. All sequences go
// in one capture, each on its own client port.
func TestSequencesTshark(t *testing.T) {
	tshark := requireTshark(t)
	var all []step
	for i, tc := range sequences {
		for _, s := range timeline(tc.steps) {
			s.port = uint16(30000 + i)
			s.seg.Time = s.seg.Time.Add(time.Duration(i) * time.Hour)
			all = append(all, s)
		}
	}
	path := filepath.Join(t.TempDir(), "sequences.pcap")
	writePcap(t, path, all, 0)
	got := tsharkVerdicts(t, tshark, path)
	frame := uint64(0)
	for _, tc := range sequences {
		for i := range tc.steps {
			frame++
			if s := all[frame-1]; got[frame] != s.want {
				t.Errorf("%s: #%d %v: tshark %v, expected %v", tc.name, i+1, s, got[frame], s.want)
			}
		}
	}
	t.Logf("%d segments of %d sequences as tshark sees them", frame, len(sequences))
}

// TestEveryFlag makes sure the sequences cover every flag.
func TestEveryFlag(t *testing.T) {
	var seen Flags
	for _, tc := range sequences {
		for _, s := range tc.steps {
			seen |= s.want.flags
		}
	}
	if missing := AllFlags &^ seen; missing != 0 {
		t.Errorf("no sequence shows %v", missing)
	}
}

// TestStreams counts conversations: a SYN with a new ISN starts one, a
// SYN-ACK with a new ISN does not.
func TestStreams(t *testing.T) {
	var c Conn
	if c.Streams() != 0 {
		t.Fatalf("zero Conn: Streams %d, want 0", c.Streams())
	}
	steps := timeline([]step{
		c2s("S", 100, 0, 0, 1000),
		s2c("SA", 500, 101, 0, 1000),
		s2c("SA", 700, 101, 0, 1000),
		c2s("S", 100, 0, 0, 1000),
		c2s("S", 900, 0, 0, 1000),
		s2c("S", 1900, 0, 0, 1000),
		s2c("S", 1500, 0, 0, 1000),
	})
	want := []uint32{1, 1, 1, 1, 2, 2, 3}
	for i, s := range steps {
		c.Add(s.from, s.seg)
		if c.Streams() != want[i] {
			t.Errorf("after #%d %v: Streams %d, want %d", i+1, s, c.Streams(), want[i])
		}
	}
}

// TestHeaderTruncated: a segment whose options the snaplen cut is analysed
// but shows only the Fast Open flags, as tshark's dissection stops at the
// cut.
func TestHeaderTruncated(t *testing.T) {
	steps := timeline(seq(handshake(), []step{
		c2s("PA", 101, 501, 100, 1000).at(ms(10)),
		c2s("PA", 101, 501, 100, 1000).at(ms(300)),
		c2s("PA", 101, 501, 100, 1000).at(ms(600)),
	}))
	steps[4].seg.HeaderTruncated = true
	var c Conn
	for i, s := range steps {
		f, _ := c.Add(s.from, s.seg)
		want := Flags(0)
		if i == 5 {
			want = Retransmission
		}
		if f != want {
			t.Errorf("#%d: %v, want %v", i+1, f, want)
		}
	}

	var tfo Conn
	syn := c2s("S", 100, 0, 20, 1000).tfo().at(0)
	syn.seg.HeaderTruncated = true
	if f, _ := tfo.Add(0, syn.seg); f != TFOSyn {
		t.Errorf("cut SYN with a cookie: %v, want %v", f, TFOSyn)
	}
}

// TestDirection: any value other than 0 is the second direction.
func TestDirection(t *testing.T) {
	var a, b Conn
	for _, s := range timeline(seq(handshake(), []step{
		s2c("A", 501, 101, 0, 1000).dup(1),
	})) {
		fa, da := a.Add(s.from, s.seg)
		fb, db := b.Add(s.from*-7, s.seg)
		if fa != fb || da != db {
			t.Errorf("%v: from %d gives %v #%d, from %d gives %v #%d", s, s.from, fa, da, s.from*-7, fb, db)
		}
	}
}

// TestAddAllocs: Add never allocates.
func TestAddAllocs(t *testing.T) {
	steps := walk(rand.New(rand.NewPCG(7, 7)), 40000, t0, 2000)
	allocs := testing.AllocsPerRun(20, func() {
		var c Conn
		for _, s := range steps {
			c.Add(s.from, s.seg)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run of %d segments, want 0", allocs, len(steps))
	}
}

// BenchmarkAdd analyses a random conversation, segment by segment.
func BenchmarkAdd(b *testing.B) {
	steps := walk(rand.New(rand.NewPCG(7, 7)), 40000, t0, 4096)
	var c Conn
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i % len(steps)
		if j == 0 {
			c = Conn{}
		}
		c.Add(steps[j].from, steps[j].seg)
	}
}
