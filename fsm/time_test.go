package fsm

import (
	"math"
	"testing"
	"time"
)

func TestSinceSaturates(t *testing.T) {
	epoch := t0.Unix()
	tests := []struct {
		t    time.Time
		want int64
	}{
		{t0, 0},
		{t0.Add(1500 * time.Millisecond), 1_500_000_000},
		{t0.Add(-time.Nanosecond), -1},
		{time.Unix(epoch+maxEpochSeconds, 999_999_999), maxEpochSeconds*1e9 + 999_999_999},
		{time.Unix(epoch+maxEpochSeconds+1, 0), math.MaxInt64},
		{time.Unix(epoch-maxEpochSeconds-1, 0), math.MinInt64},
		{time.Unix(math.MaxInt64/2, 0), math.MaxInt64},
		{time.Time{}, math.MinInt64}, // year 1 is 2025 years before 2026
	}
	for _, tc := range tests {
		if got := since(epoch, tc.t); got != tc.want {
			t.Errorf("since(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
	// The subtraction itself would overflow.
	if got := since(math.MinInt64/2, time.Unix(math.MaxInt64/2, 0)); got != math.MaxInt64 {
		t.Errorf("since across the whole range = %d, want MaxInt64", got)
	}
	if got := since(math.MaxInt64/2, time.Unix(math.MinInt64/2, 0)); got != math.MinInt64 {
		t.Errorf("since across the whole range backwards = %d, want MinInt64", got)
	}
	if got := addNanos(math.MaxInt64-5, time.Second); got != math.MaxInt64 {
		t.Errorf("addNanos past the end = %d", got)
	}
	if got := addNanos(math.MinInt64+5, -time.Second); got != math.MinInt64 {
		t.Errorf("addNanos before the start = %d", got)
	}
	if got := addNanos(10, 60*time.Second); got != 60_000_000_010 {
		t.Errorf("addNanos = %d", got)
	}
}

// TestTimesComeBackExactly: whatever the capture's timestamps are, the
// history gives them back as they were (in UTC), TIME_WAIT ends 2·MSL
// after it began, and StateAt and LastAt see them in the right order.
func TestTimesComeBackExactly(t *testing.T) {
	for _, start := range []time.Time{
		{}, // a packet without a timestamp (pcapng simple packet block)
		time.Unix(0, 0).UTC(),
		time.Date(2026, 1, 15, 10, 0, 0, 123_456_789, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 0, 1, time.UTC), // a damaged pcapng timestamp
		time.Date(2026, 1, 15, 10, 0, 0, 7, time.FixedZone("CET", 3600)),
	} {
		var m Machine
		m.Reset(Config{})
		steps := []step{
			c2s("S", 100, 0, 0, ""), s2c("SA", 300, 101, 0, ""), c2s("A", 101, 301, 0, ""),
			c2s("FA", 101, 301, 0, ""), s2c("FA", 301, 102, 0, ""), c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		}
		at := make([]time.Time, len(steps))
		for i, s := range steps {
			at[i] = start.Add(time.Duration(i) * 1001 * time.Microsecond)
			seg := Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: 1000, WScale: -1}
			m.Step(s.from, &seg, at[i], uint64(i+1))
		}
		if got := m.State(Client).String() + "/" + m.State(Server).String(); got != "TIME_WAIT/CLOSED" {
			t.Fatalf("start %v: states %s", start, got)
		}
		for i := range m.HistoryLen() {
			tr := m.HistoryAt(i)
			if want := at[tr.Packet-1]; !tr.Time.Equal(want) || tr.Time.Location() != time.UTC {
				t.Errorf("start %v: transition %d at %v, want %v in UTC", start, i, tr.Time, want)
			}
		}
		// The client's timer starts when the server's FIN arrives, which
		// lies between the FIN and the client's ACK of it.
		since := m.TimeWaitSince(Client)
		if !since.Equal(at[4]) && !since.Equal(at[5]) {
			t.Errorf("start %v: TIME_WAIT since %v, want %v or %v", start, since, at[4], at[5])
		}
		if n := m.Advance(since.Add(60*time.Second - 1)); n != 0 {
			t.Errorf("start %v: TIME_WAIT ended a nanosecond early", start)
		}
		if n := m.Advance(since.Add(60 * time.Second)); n != 1 || m.State(Client) != Closed {
			t.Fatalf("start %v: TIME_WAIT did not end after 60 s", start)
		}
		last := m.HistoryAt(m.HistoryLen() - 1)
		if !last.Time.Equal(since.Add(60 * time.Second)) {
			t.Errorf("start %v: TIME_WAIT ended at %v, want %v", start, last.Time, since.Add(60*time.Second))
		}
		if got := m.StateAt(Client, at[1].Add(-1)); got != SynSent {
			t.Errorf("start %v: client just before the SYN-ACK in %s", start, got)
		}
		if tr, ok := m.LastAt(Server, at[5]); !ok || tr.To != Closed || !tr.Time.Equal(at[5]) {
			t.Errorf("start %v: server's last transition by the last ACK: %+v %v", start, tr, ok)
		}
	}
}

// TestTimesBeyondTheRange: times further than 292 years from the first one
// saturate: the machine keeps their order and does not fail.
func TestTimesBeyondTheRange(t *testing.T) {
	var m Machine
	m.Reset(Config{})
	far := time.Date(2900, 1, 1, 0, 0, 0, 0, time.UTC)
	m.Step(Client, &Segment{Seq: 100, Flags: SYN, WScale: -1}, t0, 1)
	m.Step(Server, &Segment{Seq: 300, Ack: 101, Flags: SYN | ACK, WScale: -1}, far, 2)
	m.Step(Client, &Segment{Seq: 101, Ack: 301, Flags: ACK, WScale: -1}, far.Add(time.Hour), 3)
	h := m.History()
	for i := 1; i < len(h); i++ {
		if h[i].Time.Before(h[i-1].Time) {
			t.Fatalf("transition %d at %v before %v", i, h[i].Time, h[i-1].Time)
		}
	}
	if got := m.StateAt(Server, far.Add(2*time.Hour)); got != Established {
		t.Errorf("server at the end: %s", got)
	}
	if got := m.StateAt(Server, t0); got != SynReceived {
		t.Errorf("server at the start: %s", got)
	}
}

// TestLongHistory: a history longer than the machine keeps inline goes on
// in the overflow, reads the same through History and HistoryAt, and a
// machine Reset for a new connection keeps the overflow's storage, so that
// the same long connection again allocates nothing.
func TestLongHistory(t *testing.T) {
	steps := pThen(pOpen(), c2s("PA", 101, 301, 100, est))
	// The server resets; the client retransmits, so the RST never
	// arrived: two transitions of the client each time.
	for range 20 {
		steps = append(steps,
			s2c("RA", 301, 201, 0, "CLOSED/CLOSED"),
			c2s("PA", 101, 301, 100, "ESTABLISHED/CLOSED"))
	}
	segs := make([]Segment, len(steps))
	for i, s := range steps {
		segs[i] = Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: -1}
	}
	var m Machine
	feed := func() {
		m.Reset(Config{})
		now := t0
		for i := range segs {
			now = now.Add(time.Millisecond)
			m.Step(steps[i].from, &segs[i], now, uint64(i+1))
		}
	}
	feed()
	if got := m.State(Client).String() + "/" + m.State(Server).String(); got != "ESTABLISHED/CLOSED" {
		t.Fatalf("states %s\n%s", got, dump(&m))
	}
	h := m.History()
	if len(h) != m.HistoryLen() || len(h) < 3*histInline {
		t.Fatalf("%d transitions (HistoryLen %d), want more than %d", len(h), m.HistoryLen(), 3*histInline)
	}
	for i := range h {
		if h[i] != m.HistoryAt(i) {
			t.Fatalf("History()[%d] = %+v, HistoryAt = %+v", i, h[i], m.HistoryAt(i))
		}
		if i > 0 && h[i].Packet < h[i-1].Packet {
			t.Fatalf("transition %d of packet %d after one of packet %d", i, h[i].Packet, h[i-1].Packet)
		}
	}
	if last := h[len(h)-1]; last.Role != Client || last.Cause != CauseLostRST || last.Packet != uint64(len(steps)) {
		t.Errorf("last transition %+v", last)
	}
	if allocs := testing.AllocsPerRun(10, feed); allocs != 0 {
		t.Errorf("the long connection again on a Reset machine: %v allocations", allocs)
	}
}
