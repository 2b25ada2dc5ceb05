package fsm

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// step is one segment of a test sequence.
type step struct {
	from     Role
	flags    Flags
	seq, ack Seq
	len      uint32
	at       time.Duration // since t0; zero means 10 ms after the previous step
	want     string        // "CLIENT/SERVER" states after the step; empty: not checked
}

func parseFlags(s string) Flags {
	var f Flags
	for _, c := range s {
		switch c {
		case 'S':
			f |= SYN
		case 'A', '.':
			f |= ACK
		case 'F':
			f |= FIN
		case 'R':
			f |= RST
		case 'P':
			f |= PSH
		default:
			panic("bad flag " + string(c))
		}
	}
	return f
}

// c2s and s2c make a step from the client and from the server.
func c2s(flags string, seq, ack Seq, n uint32, want string) step {
	return step{from: Client, flags: parseFlags(flags), seq: seq, ack: ack, len: n, want: want}
}

func s2c(flags string, seq, ack Seq, n uint32, want string) step {
	return step{from: Server, flags: parseFlags(flags), seq: seq, ack: ack, len: n, want: want}
}

// after sets the step's time since the start of the sequence.
func (s step) after(d time.Duration) step { s.at = d; return s }

var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// run feeds the steps to a new machine, checking states after each step.
func run(t *testing.T, cfg Config, steps []step) *Machine {
	t.Helper()
	var m Machine
	m.Reset(cfg)
	now := t0
	for i, s := range steps {
		if s.at != 0 {
			now = t0.Add(s.at)
		} else {
			now = now.Add(10 * time.Millisecond)
		}
		m.Advance(now)
		seg := Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: -1}
		m.Step(s.from, &seg, now, uint64(i+1))
		if s.want == "" {
			continue
		}
		if got := m.State(Client).String() + "/" + m.State(Server).String(); got != s.want {
			t.Fatalf("after step %d (%s %s seq=%d ack=%d len=%d): states %s, want %s\n%s",
				i+1, s.from, s.flags, s.seq, s.ack, s.len, got, s.want, dump(&m))
		}
	}
	return &m
}

func dump(m *Machine) string {
	var b strings.Builder
	for _, tr := range m.History() {
		fmt.Fprintf(&b, "  pkt %d %s %s -> %s (%s) certain=%v revision=%v revised=%v\n",
			tr.Packet, tr.Role, tr.From, tr.To, tr.Cause, tr.Certain, tr.Revision, tr.Revised)
	}
	return b.String()
}

const (
	est = "ESTABLISHED/ESTABLISHED"
)

func TestSequences(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"handshake and client close", []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
			c2s("PA", 101, 301, 10, est),
			s2c("PA", 301, 111, 20, est),
			c2s("FA", 111, 321, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 321, 112, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 321, 112, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 112, 322, 0, "TIME_WAIT/CLOSED"),
		}},
		{"server closes first", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			s2c("FA", 301, 101, 0, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("FA", 101, 302, 0, "LAST_ACK/TIME_WAIT"),
			s2c("A", 302, 102, 0, "CLOSED/TIME_WAIT"),
		}},
		{"simultaneous open", []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("S", 300, 0, 0, "SYN_RECEIVED/SYN_RECEIVED"),
			c2s("SA", 100, 301, 0, "SYN_RECEIVED/ESTABLISHED"),
			s2c("SA", 300, 101, 0, est),
			c2s("A", 101, 301, 0, est),
		}},
		{"simultaneous close", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 101, 0, "CLOSING/CLOSING"),
			c2s("A", 102, 302, 0, "CLOSING/TIME_WAIT"),
			s2c("A", 302, 102, 0, "TIME_WAIT/TIME_WAIT"),
		}},
		{"connection refused", []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("RA", 0, 101, 0, "CLOSED/CLOSED"),
		}},
		{"SYN lost and retransmitted", []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "SYN_SENT/LISTEN").after(time.Second),
			c2s("S", 100, 0, 0, "SYN_SENT/LISTEN").after(3 * time.Second),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
		}},
		{"handshake ACK lost: server stays SYN_RECEIVED", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED").after(time.Second),
			c2s("A", 101, 301, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED").after(3 * time.Second),
			c2s("A", 101, 301, 0, "ESTABLISHED/SYN_RECEIVED"),
		}},
		{"SYN-ACK lost: client retransmits SYN", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED").after(time.Second),
			s2c("SA", 300, 101, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, "ESTABLISHED/ESTABLISHED"),
		}},
		{"FIN lost: receiver stays ESTABLISHED", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/ESTABLISHED").after(time.Second),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/ESTABLISHED").after(2 * time.Second),
		}},
		{"final ACK lost: server stays LAST_ACK", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			c2s("FA", 101, 301, 0, ""),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK").after(time.Second),
			c2s("A", 102, 302, 0, "TIME_WAIT/LAST_ACK"),
		}},
		{"TIME_WAIT expires after 2 MSL", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, ""),
			c2s("FA", 101, 301, 0, ""),
			s2c("FA", 301, 102, 0, ""),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED").after(time.Second),
		}},
		{"mid-stream pickup", []step{
			c2s("PA", 5000, 9000, 100, est),
			s2c("A", 9000, 5100, 0, est),
			s2c("FA", 9000, 5100, 0, "CLOSE_WAIT/FIN_WAIT_1"),
		}},
		{"SYN-ACK first", []step{
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
		}},
		{"RST out of window ignored", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			c2s("R", 100000, 0, 0, est),
			c2s("PA", 101, 301, 10, est),
		}},
		{"RST in window but not exact: challenge", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			s2c("R", 310, 0, 0, est),
			c2s("A", 101, 301, 0, est),
			s2c("R", 301, 0, 0, "CLOSED/CLOSED"),
		}},
		{"RST exact resets", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			c2s("RA", 101, 301, 0, "CLOSED/CLOSED"),
		}},
		{"half-close with data after FIN", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, est),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("PA", 301, 102, 1000, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("A", 102, 1301, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FPA", 1301, 102, 500, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 1802, 0, "TIME_WAIT/CLOSED"),
		}},
		{"sequence numbers wrap", []step{
			c2s("S", 0xFFFFFFF0, 0, 0, ""),
			s2c("SA", 0xFFFFFF00, 0xFFFFFFF1, 0, ""),
			c2s("A", 0xFFFFFFF1, 0xFFFFFF01, 0, est),
			c2s("PA", 0xFFFFFFF1, 0xFFFFFF01, 100, est),
			s2c("A", 0xFFFFFF01, 0x55, 0, est),
			c2s("FA", 0x55, 0xFFFFFF01, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 0xFFFFFF01, 0x56, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 0x56, 0xFFFFFF02, 0, "TIME_WAIT/CLOSED"),
		}},
		{"fast open: SYN and FIN carry data", []step{
			c2s("S", 100, 0, 50, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 151, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("FPA", 301, 151, 200, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("A", 151, 502, 0, "CLOSE_WAIT/FIN_WAIT_2"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, Config{}, tt.steps) })
	}
}

func TestTimeWaitExpiry(t *testing.T) {
	m := run(t, Config{}, []step{
		c2s("S", 100, 0, 0, ""),
		s2c("SA", 300, 101, 0, ""),
		c2s("A", 101, 301, 0, ""),
		c2s("FA", 101, 301, 0, ""),
		s2c("FA", 301, 102, 0, ""),
		c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED").after(time.Second),
	})
	tw := m.TimeWaitSince(Client)
	if n := m.Advance(tw.Add(59 * time.Second)); n != 0 || m.State(Client) != TimeWait {
		t.Fatalf("59 s into TIME_WAIT: %d transitions, state %s", n, m.State(Client))
	}
	if n := m.Advance(tw.Add(60 * time.Second)); n != 1 || m.State(Client) != Closed {
		t.Fatalf("60 s into TIME_WAIT: %d transitions, state %s", n, m.State(Client))
	}
	last := m.History()[len(m.History())-1]
	if last.Cause != CauseTimeWaitExpired || !last.Time.Equal(tw.Add(60*time.Second)) {
		t.Errorf("last transition %+v", last)
	}
	if !m.Finished() {
		t.Error("not finished after TIME_WAIT expired")
	}
	// A shorter MSL shortens TIME_WAIT.
	m = run(t, Config{MSL: 5 * time.Second}, []step{
		c2s("S", 100, 0, 0, ""), s2c("SA", 300, 101, 0, ""), c2s("A", 101, 301, 0, ""),
		c2s("FA", 101, 301, 0, ""), s2c("FA", 301, 102, 0, ""), c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
	})
	if m.Advance(m.TimeWaitSince(Client).Add(10 * time.Second)); m.State(Client) != Closed {
		t.Errorf("MSL 5 s: state %s after 10 s", m.State(Client))
	}
}
