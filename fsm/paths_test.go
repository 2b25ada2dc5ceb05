package fsm

// Every path of RFC 9293's state diagram (section 3.3.2, Figure 5) and of the
// segment-arrival rules of section 3.10.7, with RFC 5961's RST acceptability,
// as sequences of segments with both endpoints' expected states after every
// step. The expectations are derived from the RFCs and docs/semantics.md,
// not from running the code: a failure here is a disagreement to look at, not
// a test to update.
//
// Conventions (those of machine_test.go): client ISN 100, server ISN 300,
// every segment advertises a raw window of 1000 without window scaling unless
// a case says otherwise, and steps are 10 ms apart unless placed with after.

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// pathCase is one sequence: the steps with their expected states, the
// expected Report of each step, optional window fields, and a final check.
type pathCase struct {
	name  string
	cfg   Config
	steps []step
	// reps holds the expected Anomalies of each step, and whether it is a
	// Retransmission or a KeepAlive (Kind's other sorts are not compared:
	// see TestKinds), by step number (1-based). An unlisted step expects
	// none.
	reps map[int]Report
	// win and ws set a step's raw window field (default 1000) and its
	// window-scale option (default absent).
	win map[int]uint16
	ws  map[int]int8
	// check runs after the last step; at[n] is the time of step n.
	check func(t *testing.T, m *Machine, at []time.Time)
}

// pOpen is the textbook three-way handshake, client ISN 100, server ISN 300.
func pOpen() []step {
	return []step{
		c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
		s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
		c2s("A", 101, 301, 0, est),
	}
}

// pThen returns a copy of prefix followed by more.
func pThen(prefix []step, more ...step) []step {
	return append(append([]step(nil), prefix...), more...)
}

func states(m *Machine) string {
	return m.State(Client).String() + "/" + m.State(Server).String()
}

// runPath feeds a case to a new machine. Besides the expected states and
// reports it checks what must hold after any sequence: the history is one
// unbroken chain per role, revised transitions are never certain, State
// agrees with StateAt in the far future, and when nothing was revised
// StateAt at each step's time answers that step's states.
func runPath(t *testing.T, pc pathCase) (*Machine, []time.Time) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	m := new(Machine)
	m.Reset(pc.cfg)
	now := t0
	at := make([]time.Time, len(pc.steps)+1)
	after := make([]string, len(pc.steps)+1)
	failed := false
	for i, s := range pc.steps {
		n := i + 1
		if s.at != 0 {
			now = t0.Add(s.at)
		} else {
			now = now.Add(10 * time.Millisecond)
		}
		at[n] = now
		m.Advance(now)
		seg := Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: -1}
		if w, ok := pc.win[n]; ok {
			seg.Window = w
		}
		if w, ok := pc.ws[n]; ok {
			seg.WScale = w
		}
		h0 := len(m.History())
		rep := m.Step(s.from, &seg, now, uint64(n))
		after[n] = states(m)
		desc := fmt.Sprintf("step %d (%s %s seq=%d ack=%d len=%d)", n, s.from, s.flags, s.seq, s.ack, s.len)
		if rep.Transitions != len(m.History())-h0 {
			t.Errorf("%s: Report.Transitions %d, history grew by %d", desc, rep.Transitions, len(m.History())-h0)
		}
		w := pc.reps[n]
		if rep.Anomalies != w.Anomalies {
			t.Errorf("%s: anomalies %q, want %q", desc, rep.Anomalies.Names(), w.Anomalies.Names())
			failed = true
		}
		for _, k := range []struct {
			kind Kind
			name string
		}{{Retransmission, "Retransmission"}, {KeepAlive, "KeepAlive"}} {
			if got, want := rep.Kind.Contains(k.kind), w.Kind.Contains(k.kind); got != want {
				t.Errorf("%s: %s %v, want %v", desc, k.name, got, want)
				failed = true
			}
		}
		if s.want != "" && after[n] != s.want {
			t.Errorf("%s: states %s, want %s", desc, after[n], s.want)
			failed = true
		}
	}
	checkHistoryInvariants(t, m)
	revised := false
	for _, tr := range m.History() {
		revised = revised || tr.Revision || tr.Revised
	}
	if !revised {
		for n := 1; n < len(at); n++ {
			got := m.StateAt(Client, at[n]).String() + "/" + m.StateAt(Server, at[n]).String()
			if got != after[n] {
				t.Errorf("StateAt(step %d) = %s, but the states after it were %s", n, got, after[n])
				failed = true
			}
		}
	}
	if pc.check != nil {
		pc.check(t, m, at)
	}
	if failed || t.Failed() {
		t.Logf("history:\n%s", dump(m))
	}
	return m, at
}

// checkHistoryInvariants checks what every history must satisfy.
func checkHistoryInvariants(t *testing.T, m *Machine) {
	t.Helper()
	cur := [2]State{Closed, Listen}
	var last time.Time
	for i, tr := range m.History() {
		if tr.From != cur[tr.Role] {
			t.Errorf("history[%d] %s %s -> %s: From is not the previous state %s", i, tr.Role, tr.From, tr.To, cur[tr.Role])
		}
		cur[tr.Role] = tr.To
		if tr.Revised && tr.Certain {
			t.Errorf("history[%d] %s %s -> %s (%s): revised but certain", i, tr.Role, tr.From, tr.To, tr.Cause)
		}
		if tr.Revision && tr.Revised {
			t.Errorf("history[%d] %s %s -> %s (%s): a revision was itself revised", i, tr.Role, tr.From, tr.To, tr.Cause)
		}
		if tr.Time.Before(last) {
			t.Errorf("history[%d] at %v is before the previous transition at %v", i, tr.Time, last)
		}
		last = tr.Time
	}
	// First finds what a walk of the history finds.
	for _, tr := range m.History() {
		var want Transition
		for _, w := range m.History() {
			if w.Cause == tr.Cause && !w.Revised && !w.Revision {
				want = w
				break
			}
		}
		got, ok := m.First(tr.Cause)
		if ok != (want != Transition{}) || got != want {
			t.Errorf("First(%s) = %+v, %v; the history's first standing one is %+v", tr.Cause, got, ok, want)
		}
	}
	far := t0.Add(1000 * time.Hour)
	for r := Client; r <= Server; r++ {
		if cur[r] != m.State(r) {
			t.Errorf("%s: history ends in %s, State is %s", r, cur[r], m.State(r))
		}
		if got := m.StateAt(r, far); got != m.State(r) {
			t.Errorf("%s: StateAt(far future) = %s, State = %s", r, got, m.State(r))
		}
	}
}

// tw is an expected transition. flags: 'c' certain, 'i' inferred (not
// certain), neither: certainty not checked; 'v' a revision; 'x' revised
// (without 'v' and 'x' both must be false).
type tw struct {
	pkt      uint64
	role     Role
	from, to State
	cause    Cause
	flags    string
}

func (w tw) String() string {
	return fmt.Sprintf("pkt %d %s %s -> %s (%s) %q", w.pkt, w.role, w.from, w.to, w.cause, w.flags)
}

func (w tw) matches(tr Transition) bool {
	if tr.Packet != w.pkt || tr.Role != w.role || tr.From != w.from || tr.To != w.to || tr.Cause != w.cause {
		return false
	}
	if strings.Contains(w.flags, "c") && !tr.Certain || strings.Contains(w.flags, "i") && tr.Certain {
		return false
	}
	return tr.Revision == strings.Contains(w.flags, "v") && tr.Revised == strings.Contains(w.flags, "x")
}

// hasHistory checks that each expected transition is in the history.
func hasHistory(t *testing.T, m *Machine, want ...tw) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, tr := range m.History() {
			if w.matches(tr) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("history lacks %v", w)
		}
	}
}

// wantHistory checks the whole history, in order.
func wantHistory(t *testing.T, m *Machine, want ...tw) {
	t.Helper()
	h := m.History()
	for i := 0; i < len(h) || i < len(want); i++ {
		switch {
		case i >= len(h):
			t.Errorf("history[%d] missing, want %v", i, want[i])
		case i >= len(want):
			t.Errorf("history[%d] unexpected: pkt %d %s %s -> %s (%s)", i, h[i].Packet, h[i].Role, h[i].From, h[i].To, h[i].Cause)
		case !want[i].matches(h[i]):
			t.Errorf("history[%d] = pkt %d %s %s -> %s (%s) certain=%v revision=%v revised=%v, want %v", i,
				h[i].Packet, h[i].Role, h[i].From, h[i].To, h[i].Cause, h[i].Certain, h[i].Revision, h[i].Revised, want[i])
		}
	}
}

// noRevisionOf checks that no transition of role r was revised or a revision.
func noRevisionOf(t *testing.T, m *Machine, r Role) {
	t.Helper()
	for _, tr := range m.History() {
		if tr.Role == r && (tr.Revision || tr.Revised) {
			t.Errorf("%s: unexpected revision: pkt %d %s -> %s (%s)", r, tr.Packet, tr.From, tr.To, tr.Cause)
		}
	}
}

// wantTimeWaitSince checks that the 2 MSL timer of role r started between
// the FIN that put it in TIME_WAIT (first) and its own acknowledgment of
// that FIN (last): the FIN's arrival lies between the two.
func wantTimeWaitSince(t *testing.T, m *Machine, r Role, first, last time.Time) time.Time {
	t.Helper()
	since := m.TimeWaitSince(r)
	if m.State(r) != TimeWait || since.Before(first) || since.After(last) {
		t.Errorf("%s: %s since %s, want TIME_WAIT since between %s and %s", r, m.State(r),
			since.Format("15:04:05.000"), first.Format("15:04:05.000"), last.Format("15:04:05.000"))
	}
	return since
}

func wantStateAt(t *testing.T, m *Machine, r Role, at time.Time, want State) {
	t.Helper()
	if got := m.StateAt(r, at); got != want {
		t.Errorf("StateAt(%s, %s) = %s, want %s", r, at.Format("15:04:05.000"), got, want)
	}
}

func TestPaths(t *testing.T) {
	const (
		sec = time.Second
		ms  = time.Millisecond
	)
	cases := []pathCase{
		// ---------------------------------------------------------------
		// Opening and closing (RFC 9293 sections 3.5 and 3.6).
		{name: "open, client closes first", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 10, est),
			s2c("PA", 301, 111, 20, est),
			c2s("FA", 111, 321, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 321, 112, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 321, 112, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 112, 322, 0, "TIME_WAIT/CLOSED"),
		), check: func(t *testing.T, m *Machine, at []time.Time) {
			// Certain: sent by the endpoint, or proven by its later
			// segments (the SYN-ACK proves the SYN arrived, an ACK of the
			// SYN or FIN proves the SYN-ACK or FIN arrived). The final
			// ACK is never proven to have arrived; the client's ACK of the
			// server's FIN, whose segment also acknowledged the client's
			// FIN, proves that an ACK of the client's FIN arrived.
			wantHistory(t, m,
				tw{1, Client, Closed, SynSent, CauseSentSYN, "c"},
				tw{1, Server, Listen, SynReceived, CauseRecvSYN, "c"},
				tw{2, Client, SynSent, Established, CauseRecvSYNACK, "c"},
				tw{3, Server, SynReceived, Established, CauseRecvACKOfSYN, "c"},
				tw{6, Client, Established, FinWait1, CauseSentFIN, "c"},
				tw{6, Server, Established, CloseWait, CauseRecvFIN, "c"},
				tw{7, Client, FinWait1, FinWait2, CauseRecvACKOfFIN, "c"},
				tw{8, Server, CloseWait, LastAck, CauseSentFIN, "c"},
				tw{8, Client, FinWait2, TimeWait, CauseRecvFIN, "c"},
				tw{9, Server, LastAck, Closed, CauseRecvACKOfFIN, "i"},
			)
			if !m.Answered() || m.Refused() || m.PickedUp() || !m.Started() {
				t.Errorf("Answered %v Refused %v PickedUp %v Started %v", m.Answered(), m.Refused(), m.PickedUp(), m.Started())
			}
			if m.Finished() {
				t.Error("finished while the client is in TIME_WAIT")
			}
			since := wantTimeWaitSince(t, m, Client, at[8], at[9])
			if n := m.Advance(since.Add(60 * sec)); n != 1 || !m.Finished() {
				t.Errorf("Advance 60 s: %d transitions, finished %v", n, m.Finished())
			}
			hasHistory(t, m, tw{0, Client, TimeWait, Closed, CauseTimeWaitExpired, "c"})
		}},
		{name: "open, server closes first", steps: pThen(pOpen(),
			s2c("FA", 301, 101, 0, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("A", 101, 302, 0, "CLOSE_WAIT/FIN_WAIT_2"),
			c2s("FA", 101, 302, 0, "LAST_ACK/TIME_WAIT"),
			s2c("A", 302, 102, 0, "CLOSED/TIME_WAIT"),
		), check: func(t *testing.T, m *Machine, at []time.Time) {
			hasHistory(t, m,
				tw{4, Server, Established, FinWait1, CauseSentFIN, "c"},
				tw{4, Client, Established, CloseWait, CauseRecvFIN, ""},
				tw{5, Server, FinWait1, FinWait2, CauseRecvACKOfFIN, ""},
				tw{6, Client, CloseWait, LastAck, CauseSentFIN, "c"},
				tw{6, Server, FinWait2, TimeWait, CauseRecvFIN, ""},
				tw{7, Client, LastAck, Closed, CauseRecvACKOfFIN, ""},
			)
			since := wantTimeWaitSince(t, m, Server, at[6], at[7])
			m.Advance(since.Add(60 * sec))
			if !m.Finished() || states(m) != "CLOSED/CLOSED" {
				t.Errorf("after 2 MSL: %s, finished %v", states(m), m.Finished())
			}
		}},
		{name: "FIN+ACK acking our FIN in FIN_WAIT_1 goes to TIME_WAIT", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		), check: func(t *testing.T, m *Machine, at []time.Time) {
			wantTimeWaitSince(t, m, Client, at[5], at[6])
			wantStateAt(t, m, Client, at[5], TimeWait)
			// The client's ACK of the server's FIN proves that segment
			// arrived, and with it the acknowledgment of the client's FIN
			// that it carried: both transitions it caused are certain.
			for _, tr := range m.History() {
				if tr.Packet == 5 && tr.Role == Client && !tr.Certain {
					t.Errorf("client %s -> %s (%s) at the server's FIN+ACK is not certain", tr.From, tr.To, tr.Cause)
				}
			}
		}},
		{name: "ACK of the data before the FIN leaves FIN_WAIT_1", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 10, est),
			c2s("FA", 111, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 111, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 112, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 112, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 112, 302, 0, "TIME_WAIT/CLOSED"),
		)},
		{name: "FIN carrying data", steps: pThen(pOpen(),
			c2s("FPA", 101, 301, 10, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 112, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FPA", 301, 112, 20, "TIME_WAIT/LAST_ACK"),
			c2s("A", 112, 322, 0, "TIME_WAIT/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			if e := m.Endpoint(Client); !e.HasFIN || e.FIN != 111 {
				t.Errorf("client FIN %d (has %v), want 111", e.FIN, e.HasFIN)
			}
			if e := m.Endpoint(Server); !e.HasFIN || e.FIN != 321 {
				t.Errorf("server FIN %d (has %v), want 321", e.FIN, e.HasFIN)
			}
		}},
		{name: "half-close: data flows to the side that closed", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("PA", 301, 102, 500, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("A", 102, 801, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("PA", 801, 102, 500, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("A", 102, 1301, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 1301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 1302, 0, "TIME_WAIT/CLOSED"),
		)},
		{name: "half-close: data after its own FIN is an anomaly", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			c2s("PA", 102, 301, 10, "FIN_WAIT_1/CLOSE_WAIT"),
		), reps: map[int]Report{5: {Anomalies: DataAfterFIN}}},

		// ---------------------------------------------------------------
		// Simultaneous open and close (RFC 9293 Figures 8 and 13).
		{name: "simultaneous open: SYN_SENT -> SYN_RECEIVED on both", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("S", 300, 0, 0, "SYN_RECEIVED/SYN_RECEIVED"),
			c2s("SA", 100, 301, 0, "SYN_RECEIVED/ESTABLISHED"),
			s2c("SA", 300, 101, 0, est),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{3: {Kind: Retransmission}, 4: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{1, Server, Listen, SynReceived, CauseRecvSYN, "x"},
					tw{2, Server, SynSent, SynReceived, CauseRecvSYN, ""},
					tw{2, Client, SynSent, SynReceived, CauseRecvSYN, ""},
					tw{3, Server, SynReceived, Established, CauseRecvSYNACK, ""},
					tw{4, Client, SynReceived, Established, CauseRecvSYNACK, ""},
				)
				// The server's own SYN revises its passive open (whether its
				// state before that SYN was CLOSED is checked in
				// TestSimultaneousOpenServerWasNotListening) and is certain.
				var revised, sentSYN bool
				for _, tr := range m.History() {
					revised = revised || tr.Packet == 2 && tr.Role == Server && tr.Revision && tr.Cause == CauseActiveOpen
					sentSYN = sentSYN || tr.Packet == 2 && tr.Role == Server && tr.To == SynSent && tr.Cause == CauseSentSYN && tr.Certain
				}
				if !revised || !sentSYN {
					t.Errorf("server at its SYN: revision (active open) %v, certain SYN_SENT %v", revised, sentSYN)
				}
				if m.Answered() {
					t.Error("Answered: the server's SYN-ACK did not come from LISTEN")
				}
				if m.Endpoint(Server).Passive {
					t.Error("server still passive after a SYN of its own")
				}
				wantStateAt(t, m, Server, at[2], SynReceived)
				wantStateAt(t, m, Client, at[2], SynReceived)
			}},
		{name: "simultaneous close: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 101, 0, "CLOSING/CLOSING"),
			c2s("A", 102, 302, 0, "CLOSING/TIME_WAIT"),
			s2c("A", 302, 102, 0, "TIME_WAIT/TIME_WAIT"),
		), check: func(t *testing.T, m *Machine, at []time.Time) {
			hasHistory(t, m,
				tw{4, Server, Established, CloseWait, CauseRecvFIN, "x"},
				tw{5, Server, CloseWait, Established, CauseFINNotYetReceived, "v"},
				tw{5, Server, Established, FinWait1, CauseSentFIN, "c"},
				tw{5, Server, FinWait1, Closing, CauseRecvFIN, ""},
				tw{5, Client, FinWait1, Closing, CauseRecvFIN, ""},
				tw{6, Server, Closing, TimeWait, CauseRecvACKOfFIN, ""},
				tw{7, Client, Closing, TimeWait, CauseRecvACKOfFIN, ""},
			)
			noRevisionOf(t, m, Client)
			// The server's FIN did not acknowledge the client's: it was
			// sent from ESTABLISHED, before that FIN arrived.
			wantStateAt(t, m, Server, at[4], Established)
			wantTimeWaitSince(t, m, Server, at[6], at[7])
			wantTimeWaitSince(t, m, Client, at[7], at[7])
			if n := m.Advance(at[7].Add(60 * sec)); n != 2 || states(m) != "CLOSED/CLOSED" || !m.Finished() {
				t.Errorf("60 s after both TIME_WAITs: %d transitions, %s", n, states(m))
			}
		}},

		// ---------------------------------------------------------------
		// TCP Fast Open (RFC 7413): the SYN and the FIN carry data.
		{name: "fast open: SYN carries data, server answers from SYN_RECEIVED", steps: []step{
			c2s("S", 100, 0, 50, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 151, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("PA", 301, 151, 200, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 151, 501, 0, est),
			s2c("FA", 501, 151, 0, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("FA", 151, 502, 0, "LAST_ACK/TIME_WAIT"),
			s2c("A", 502, 152, 0, "CLOSED/TIME_WAIT"),
		}},
		{name: "fast open: server closes right after its SYN-ACK", steps: []step{
			c2s("S", 100, 0, 50, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 151, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("FPA", 301, 151, 200, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("A", 151, 502, 0, "CLOSE_WAIT/FIN_WAIT_2"),
			c2s("FA", 151, 502, 0, "LAST_ACK/TIME_WAIT"),
			s2c("A", 502, 152, 0, "CLOSED/TIME_WAIT"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m, tw{3, Server, SynReceived, FinWait1, CauseSentFIN, "c"})
		}},
		{name: "fast open refused by the server: SYN data retransmitted", steps: []step{
			c2s("S", 100, 0, 50, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
			c2s("PA", 101, 301, 50, est),
			s2c("A", 301, 151, 0, est),
		}, reps: map[int]Report{4: {Kind: Retransmission}}},
		// The SYN-ACK is lost and the client retransmits its SYN; the
		// server's data and FIN, sent right after the SYN-ACK, reach the
		// client only after the retransmitted SYN-ACK (reordering): its
		// ACK of the FIN proves the FIN arrived, after all.
		{name: "fast open: SYN-ACK lost, the server's FIN arrives late", steps: []step{
			c2s("S", 100, 0, 50, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 151, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("FPA", 301, 151, 200, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("S", 100, 0, 50, "SYN_SENT/FIN_WAIT_1").after(1 * sec),
			s2c("SA", 300, 151, 0, "").after(1*sec + 10*ms),
			c2s("A", 151, 301, 0, "ESTABLISHED/FIN_WAIT_1"),
			c2s("A", 151, 502, 0, "CLOSE_WAIT/FIN_WAIT_2"),
		}, reps: map[int]Report{4: {Kind: Retransmission}, 5: {Kind: Retransmission}}},
		{name: "SYN-ACK carries data", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 100, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 401, 0, est),
		}},

		// ---------------------------------------------------------------
		// Retransmitted SYN, SYN-ACK and FIN, and the revisions they prove
		// (docs/semantics.md, "Certain and inferred"). Where the state right after a further copy
		// depends on whether that copy is assumed delivered, the step is not
		// checked here but in TestRetransmittedCopyIsAssumedDelivered.
		{name: "SYN retransmitted unanswered: the first SYN never arrived", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "").after(1 * sec),
			c2s("S", 100, 0, 0, "").after(3 * sec),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{2: {Kind: Retransmission}, 3: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{1, Server, Listen, SynReceived, CauseRecvSYN, "ix"},
					tw{2, Server, SynReceived, Listen, CauseLostSYN, "v"},
				)
				noRevisionOf(t, m, Client)
				wantStateAt(t, m, Server, at[1], Listen)
				wantStateAt(t, m, Server, at[4], SynReceived)
				wantStateAt(t, m, Server, at[5], Established)
				wantStateAt(t, m, Client, at[3], SynSent)
				wantStateAt(t, m, Client, at[4], Established)
				if tr, ok := m.LastAt(Server, at[1]); ok {
					t.Errorf("LastAt(server, first SYN) = %s -> %s: that transition was revised", tr.From, tr.To)
				}
			}},
		{name: "SYN-ACK lost: client retransmits its SYN", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED").after(1 * sec),
			s2c("SA", 300, 101, 0, "").after(1*sec + 10*ms),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{3: {Kind: Retransmission}, 4: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{2, Client, SynSent, Established, CauseRecvSYNACK, "ix"},
					tw{3, Client, Established, SynSent, CauseLostSYNACK, "v"},
				)
				// The server's SYN-ACK proves it got the SYN: nothing of
				// the server is revised.
				noRevisionOf(t, m, Server)
				wantStateAt(t, m, Client, at[2], SynSent)
				wantStateAt(t, m, Server, at[3], SynReceived)
				wantStateAt(t, m, Client, at[5], Established)
			}},
		{name: "SYN-ACK retransmitted before any ACK: the first never arrived", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "").after(1 * sec),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{3: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{2, Client, SynSent, Established, CauseRecvSYNACK, "ix"},
					tw{3, Client, Established, SynSent, CauseLostSYNACK, "v"},
				)
				wantStateAt(t, m, Client, at[2], SynSent)
			}},
		{name: "handshake ACK lost, SYN-ACK retransmitted, then data", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED").after(1 * sec),
			c2s("A", 101, 301, 0, ""),
			c2s("PA", 101, 301, 10, ""),
			// The server acknowledges the data: it processed a segment
			// whose ACK acknowledged its SYN, so it is ESTABLISHED
			// (RFC 9293 section 3.10.7.4, fifth and seventh steps).
			s2c("A", 301, 111, 0, est),
			s2c("FA", 301, 111, 0, "CLOSE_WAIT/FIN_WAIT_1"),
		}, reps: map[int]Report{4: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{3, Server, SynReceived, Established, CauseRecvACKOfSYN, "ix"},
					tw{4, Server, Established, SynReceived, CauseLostACKOfSYN, "v"},
				)
				noRevisionOf(t, m, Client)
				wantStateAt(t, m, Server, at[3], SynReceived)
				wantStateAt(t, m, Server, at[7], Established)
			}},
		{name: "FIN retransmitted unacknowledged: the first never arrived", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			c2s("FA", 101, 301, 0, "").after(1*sec),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		), reps: map[int]Report{5: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{4, Server, Established, CloseWait, CauseRecvFIN, "ix"},
					tw{5, Server, CloseWait, Established, CauseLostFIN, "v"},
				)
				noRevisionOf(t, m, Client)
				wantStateAt(t, m, Server, at[4], Established)
				wantStateAt(t, m, Server, at[6], CloseWait)
			}},
		{name: "ACK of FIN lost, FIN retransmitted, then the peer closes", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT").after(1*sec),
			s2c("A", 301, 102, 0, ""),
			// The server's FIN acknowledges the client's: received in
			// FIN_WAIT_1 it leads to TIME_WAIT (RFC 9293 section 3.10.7.4,
			// eighth step), whatever happened to the earlier ACKs.
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			// The client acknowledges that FIN, so it received it, and with
			// it the acknowledgment of its own FIN.
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		), reps: map[int]Report{6: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{5, Client, FinWait1, FinWait2, CauseRecvACKOfFIN, "ix"},
					tw{6, Client, FinWait2, FinWait1, CauseLostACKOfFIN, "v"},
				)
				noRevisionOf(t, m, Server)
				wantStateAt(t, m, Client, at[5], FinWait1)
				wantStateAt(t, m, Client, at[9], TimeWait)
			}},
		{name: "final ACK lost: FIN retransmitted in TIME_WAIT restarts 2 MSL", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK").after(2*sec),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK").after(32*sec),
			c2s("A", 102, 302, 0, ""),
		), reps: map[int]Report{7: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m,
					tw{6, Server, LastAck, Closed, CauseRecvACKOfFIN, "ix"},
					tw{7, Server, Closed, LastAck, CauseLostACKOfFIN, "v"},
				)
				noRevisionOf(t, m, Client)
				wantStateAt(t, m, Server, at[6], LastAck)
				// RFC 9293 section 3.10.7.4, TIME-WAIT: a FIN restarts the
				// 2 MSL timeout.
				since := wantTimeWaitSince(t, m, Client, at[7], at[8])
				if n := m.Advance(at[6].Add(60 * sec)); n != 0 || m.State(Client) != TimeWait {
					t.Errorf("60 s after the first FIN: %d transitions, client %s", n, m.State(Client))
				}
				if n := m.Advance(since.Add(60*sec - time.Nanosecond)); n != 0 || m.State(Client) != TimeWait {
					t.Errorf("just under 60 s after the retransmitted FIN: %d transitions, client %s", n, m.State(Client))
				}
				m.Advance(since.Add(60 * sec))
				if m.State(Client) != Closed {
					t.Errorf("60 s after the retransmitted FIN: client %s", m.State(Client))
				}
				hasHistory(t, m, tw{0, Client, TimeWait, Closed, CauseTimeWaitExpired, "c"})
				if last := m.History()[len(m.History())-1]; !last.Time.Equal(since.Add(60 * sec)) {
					t.Errorf("expiry at %v, want %v", last.Time, since.Add(60*sec))
				}
			}},

		// ---------------------------------------------------------------
		// RST in every state (RFC 9293 section 3.10.7, RFC 5961 section 3).
		{name: "connection refused: SYN answered with RST+ACK", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("RA", 0, 101, 0, "CLOSED/CLOSED"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			if !m.Refused() || m.Answered() || !m.Finished() {
				t.Errorf("Refused %v Answered %v Finished %v", m.Refused(), m.Answered(), m.Finished())
			}
			hasHistory(t, m, tw{2, Client, SynSent, Closed, CauseRecvRST, ""})
			found := false
			for _, tr := range m.History() {
				found = found || tr.Role == Server && tr.To == Closed && tr.Cause == CauseRefused && tr.Packet == 2
			}
			if !found {
				t.Error("no server transition to CLOSED caused by the refusal")
			}
		}},
		{name: "connection refused after the SYN was retransmitted", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "").after(1 * sec),
			s2c("RA", 0, 101, 0, "CLOSED/CLOSED"),
		}, reps: map[int]Report{2: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				if !m.Refused() || !m.Finished() {
					t.Errorf("Refused %v Finished %v", m.Refused(), m.Finished())
				}
			}},
		{name: "RST in SYN_SENT acknowledging SYN data (fast open)", steps: []step{
			c2s("S", 100, 0, 50, "SYN_SENT/SYN_RECEIVED"),
			s2c("RA", 0, 151, 0, "CLOSED/CLOSED"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			if !m.Refused() {
				t.Error("not refused")
			}
		}},
		// RFC 9293 section 3.10.7.3, SYN-SENT: a RST is acceptable only if
		// its ACK acknowledges the SYN (ISS < SEG.ACK =< SND.NXT); without
		// ACK, or with another acknowledgment, it is dropped. A closed port
		// always answers a SYN with RST+ACK acknowledging it (section
		// 3.10.7.1), so such a RST does not show a refusal either.
		{name: "RST without ACK in SYN_SENT is ignored", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("R", 0, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{2: {Anomalies: RSTIgnored}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				if m.Refused() {
					t.Error("Refused after an unacceptable RST")
				}
			}},
		{name: "RST+ACK acknowledging the ISN itself in SYN_SENT is ignored", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("RA", 0, 100, 0, "SYN_SENT/SYN_RECEIVED"),
		}, reps: map[int]Report{2: {Anomalies: RSTIgnored}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				if m.Refused() {
					t.Error("Refused after an unacceptable RST")
				}
			}},
		{name: "RST+ACK beyond SND.NXT in SYN_SENT is ignored", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("RA", 0, 102, 0, "SYN_SENT/SYN_RECEIVED"),
		}, reps: map[int]Report{2: {Anomalies: RSTIgnored | AckUnseenData}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				if m.Refused() {
					t.Error("Refused after an unacceptable RST")
				}
			}},
		{name: "RST from the client in SYN_SENT: connect aborted", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("R", 101, 0, 0, "CLOSED/LISTEN"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{2, Client, SynSent, Closed, CauseSentRST, "c"},
				tw{2, Server, SynReceived, Listen, CauseRecvRST, ""},
			)
			if m.Refused() || !m.Finished() {
				t.Errorf("Refused %v Finished %v", m.Refused(), m.Finished())
			}
		}},
		{name: "RST in SYN_RECEIVED of a passive open returns it to LISTEN", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("R", 101, 0, 0, "CLOSED/LISTEN"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{3, Client, Established, Closed, CauseSentRST, "c"},
				tw{3, Server, SynReceived, Listen, CauseRecvRST, ""},
			)
			if m.Refused() || !m.Answered() || !m.Finished() {
				t.Errorf("Refused %v Answered %v Finished %v", m.Refused(), m.Answered(), m.Finished())
			}
		}},
		{name: "RST in SYN_RECEIVED of an active open closes it", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("S", 300, 0, 0, "SYN_RECEIVED/SYN_RECEIVED"),
			c2s("R", 101, 0, 0, "CLOSED/CLOSED"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{3, Client, SynReceived, Closed, CauseSentRST, "c"},
				tw{3, Server, SynReceived, Closed, CauseRecvRST, ""},
			)
		}},
		// docs/semantics.md, "Certain and inferred": an inferred transition is revised when the
		// receiver "carries on as if it never came". A server that goes on
		// retransmitting after a RST never got the RST; the RST's sender
		// stays CLOSED, as its own RST proves.
		{name: "RST lost: the SYN-ACK is retransmitted after the client's RST", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("R", 101, 0, 0, "CLOSED/LISTEN"), // a SYN scan's RST
			s2c("SA", 300, 101, 0, "CLOSED/SYN_RECEIVED").after(1 * sec),
		}, reps: map[int]Report{4: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m, tw{3, Client, Established, Closed, CauseSentRST, "c"})
				wantStateAt(t, m, Server, at[3], SynReceived)
			}},
		{name: "RST lost: data and FIN retransmitted to a client that reset", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FPA", 301, 102, 100, "TIME_WAIT/LAST_ACK"),
			c2s("R", 102, 0, 0, "CLOSED/CLOSED"), // data for a closed socket: Linux resets
			s2c("FPA", 301, 102, 100, "CLOSED/LAST_ACK").after(1*sec),
		), reps: map[int]Report{8: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				hasHistory(t, m, tw{7, Client, TimeWait, Closed, CauseSentRST, "c"})
				wantStateAt(t, m, Server, at[7], LastAck)
			}},
		{name: "RST in ESTABLISHED at RCV.NXT", steps: pThen(pOpen(),
			c2s("R", 101, 0, 0, "CLOSED/CLOSED"),
			c2s("PA", 101, 301, 10, "CLOSED/CLOSED"),
			s2c("R", 301, 0, 0, "CLOSED/CLOSED"),
		), reps: map[int]Report{5: {Anomalies: SegmentAfterClose}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				hasHistory(t, m,
					tw{4, Client, Established, Closed, CauseSentRST, "c"},
					tw{4, Server, Established, Closed, CauseRecvRST, ""},
				)
			}},
		{name: "RST+ACK from the server in ESTABLISHED at RCV.NXT", steps: pThen(pOpen(),
			s2c("RA", 301, 101, 0, "CLOSED/CLOSED"),
		)},
		{name: "RFC 5961: only an exact RST resets, in-window draws a challenge ACK", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 100, est),
			s2c("A", 301, 201, 0, est),
			c2s("R", 200, 0, 0, est),  // just before RCV.NXT
			c2s("R", 700, 0, 0, est),  // in the window
			c2s("R", 1200, 0, 0, est), // last in the window
			c2s("R", 1201, 0, 0, est), // just past it
			c2s("R", 100000, 0, 0, est),
			c2s("PA", 201, 301, 10, est),
			s2c("A", 301, 211, 0, est),
			c2s("R", 211, 0, 0, "CLOSED/CLOSED"), // the RST again at RCV.NXT, as after a challenge ACK
		), reps: map[int]Report{
			6:  {Anomalies: RSTOutOfWindow},
			7:  {Anomalies: RSTChallenged},
			8:  {Anomalies: RSTChallenged},
			9:  {Anomalies: RSTOutOfWindow},
			10: {Anomalies: RSTOutOfWindow},
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			for _, tr := range m.History() {
				if tr.Packet >= 6 && tr.Packet <= 10 {
					t.Errorf("an unacceptable RST caused %s %s -> %s", tr.Role, tr.From, tr.To)
				}
			}
		}},
		{name: "RFC 5961: RST from the server checked against the client's window", steps: pThen(pOpen(),
			s2c("R", 5000, 0, 0, est),
			s2c("R", 800, 0, 0, est),
			s2c("R", 300, 0, 0, est),
			s2c("R", 301, 0, 0, "CLOSED/CLOSED"),
		), reps: map[int]Report{
			4: {Anomalies: RSTOutOfWindow},
			5: {Anomalies: RSTChallenged},
			6: {Anomalies: RSTOutOfWindow},
		}},
		{name: "RST in FIN_WAIT_1 (sent from CLOSE_WAIT)", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("R", 301, 0, 0, "CLOSED/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{5, Server, CloseWait, Closed, CauseSentRST, "c"},
				tw{5, Client, FinWait1, Closed, CauseRecvRST, ""},
			)
		}},
		{name: "RST in FIN_WAIT_2", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("RA", 301, 102, 0, "CLOSED/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m, tw{6, Client, FinWait2, Closed, CauseRecvRST, ""})
		}},
		{name: "RST in CLOSE_WAIT (sent from FIN_WAIT_2)", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("R", 102, 0, 0, "CLOSED/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{6, Client, FinWait2, Closed, CauseSentRST, "c"},
				tw{6, Server, CloseWait, Closed, CauseRecvRST, ""},
			)
		}},
		{name: "RST in CLOSE_WAIT out of window is ignored", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("R", 101, 0, 0, "FIN_WAIT_2/CLOSE_WAIT"), // the FIN's own number: RCV.NXT is past it
		), reps: map[int]Report{6: {Anomalies: RSTOutOfWindow}}},
		{name: "RST in CLOSING", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 101, 0, "CLOSING/CLOSING"),
			s2c("R", 302, 0, 0, "CLOSED/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{6, Server, Closing, Closed, CauseSentRST, "c"},
				tw{6, Client, Closing, Closed, CauseRecvRST, ""},
			)
		}},
		{name: "RST in LAST_ACK", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("R", 102, 0, 0, "CLOSED/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{7, Client, TimeWait, Closed, CauseSentRST, "c"},
				tw{7, Server, LastAck, Closed, CauseRecvRST, ""},
			)
		}},
		// RFC 9293 section 3.10.7.4, TIME-WAIT: "If the RST bit is set,
		// then enter the CLOSED state" (Linux does, with tcp_rfc1337=0).
		{name: "RST in TIME_WAIT", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			s2c("R", 302, 0, 0, "CLOSED/CLOSED"),
		), check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{7, Server, LastAck, Closed, CauseSentRST, "c"},
				tw{7, Client, TimeWait, Closed, CauseRecvRST, ""},
			)
		}},
		{name: "RST in TIME_WAIT out of window is ignored", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			s2c("R", 5000, 0, 0, "TIME_WAIT/LAST_ACK"),
		), reps: map[int]Report{7: {Anomalies: RSTOutOfWindow}}},

		// ---------------------------------------------------------------
		// Window scaling (RFC 7323): the RST window check uses the
		// receiver's scaled window; the window field of a SYN is never
		// scaled; scaling holds only if both SYNs offered it.
		{name: "window scaling: RST checked against the scaled window", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est), // window 502 << 7 = 64256: RCV.WND [301, 64557)
			s2c("R", 30301, 0, 0, est), // in the window
			s2c("R", 64556, 0, 0, est), // last in the window
			s2c("R", 64557, 0, 0, est), // past it
			s2c("R", 301, 0, 0, "CLOSED/CLOSED"),
		}, win: map[int]uint16{1: 64240, 2: 65160, 3: 502}, ws: map[int]int8{1: 7, 2: 7},
			reps: map[int]Report{4: {Anomalies: RSTChallenged}, 5: {Anomalies: RSTChallenged}, 6: {Anomalies: RSTOutOfWindow}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				if w := m.Endpoint(Client).Window; w != 502<<7 {
					t.Errorf("client window %d, want %d", w, 502<<7)
				}
			}},
		{name: "window scaling offered by one side only: not scaled", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est), // window 502: RCV.WND [301, 803)
			s2c("R", 30301, 0, 0, est),
			s2c("R", 802, 0, 0, est),
			s2c("R", 803, 0, 0, est),
		}, win: map[int]uint16{1: 64240, 2: 65160, 3: 502}, ws: map[int]int8{1: 7},
			reps: map[int]Report{4: {Anomalies: RSTOutOfWindow}, 5: {Anomalies: RSTChallenged}, 6: {Anomalies: RSTOutOfWindow}}},
		{name: "window scaling: the SYN's own window is not scaled", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"), // window 64240: RCV.WND [301, 64541)
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("R", 64540, 0, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("R", 64541, 0, 0, "ESTABLISHED/SYN_RECEIVED"),
		}, win: map[int]uint16{1: 64240, 2: 65160}, ws: map[int]int8{1: 7, 2: 7},
			reps: map[int]Report{3: {Anomalies: RSTChallenged}, 4: {Anomalies: RSTOutOfWindow}}},
		// Some stacks drop options from a retransmitted SYN; whatever
		// the window then is, a copy without the option must not break
		// anything.
		{name: "window scaling: a SYN copy without the option", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED").after(1 * sec),
			s2c("SA", 300, 101, 0, "").after(1*sec + 10*ms),
			c2s("A", 101, 301, 0, est),
			c2s("PA", 101, 301, 100, est),
			s2c("A", 301, 201, 0, est),
		}, win: map[int]uint16{1: 64240, 2: 65160, 3: 64240, 4: 65160, 5: 502, 6: 502, 7: 509},
			ws:   map[int]int8{1: 7, 2: 7, 4: 7},
			reps: map[int]Report{3: {Kind: Retransmission}, 4: {Kind: Retransmission}}},
		{name: "window scaling: a shift over 14 is taken as 14", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est), // window 2 << 14 = 32768: RCV.WND [301, 33069)
			s2c("R", 33068, 0, 0, est),
			s2c("R", 33069, 0, 0, est),
		}, win: map[int]uint16{1: 1, 2: 1, 3: 2}, ws: map[int]int8{1: 15, 2: 14},
			reps: map[int]Report{4: {Anomalies: RSTChallenged}, 5: {Anomalies: RSTOutOfWindow}}},

		// ---------------------------------------------------------------
		// Connection pick-up and partial captures (docs/semantics.md, "Roles").
		{name: "mid-stream pickup", steps: []step{
			c2s("PA", 5000, 9000, 100, est),
			s2c("A", 9000, 5100, 0, est),
			c2s("FA", 5100, 9000, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 9000, 5101, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 5101, 9001, 0, "TIME_WAIT/CLOSED"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			if !m.PickedUp() || m.Answered() {
				t.Errorf("PickedUp %v Answered %v", m.PickedUp(), m.Answered())
			}
			hasHistory(t, m,
				tw{1, Client, Closed, Established, CausePickup, "i"},
				tw{1, Server, Listen, Established, CausePickup, "i"},
			)
		}},
		{name: "mid-stream pickup at the server's FIN", steps: []step{
			s2c("FA", 9000, 5000, 0, "CLOSE_WAIT/FIN_WAIT_1"),
			c2s("A", 5000, 9001, 0, "CLOSE_WAIT/FIN_WAIT_2"),
			c2s("FA", 5000, 9001, 0, "LAST_ACK/TIME_WAIT"),
			s2c("A", 9001, 5001, 0, "CLOSED/TIME_WAIT"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			if !m.PickedUp() {
				t.Error("not picked up")
			}
		}},
		{name: "SYN on a picked-up connection: challenge ACK, no change", steps: []step{
			c2s("PA", 5000, 9000, 100, est),
			c2s("S", 7777, 0, 0, est),
		}, reps: map[int]Report{2: {Anomalies: SYNInSynchronized}}},
		{name: "SYN-ACK first: the client's SYN is implied", steps: []step{
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		}, check: func(t *testing.T, m *Machine, _ []time.Time) {
			hasHistory(t, m,
				tw{1, Client, Closed, SynSent, CauseSYNImplied, ""},
				tw{1, Server, Listen, SynReceived, CauseSentSYNACK, "c"},
				tw{1, Client, SynSent, Established, CauseRecvSYNACK, ""},
			)
			if m.PickedUp() || !m.Answered() {
				t.Errorf("PickedUp %v Answered %v", m.PickedUp(), m.Answered())
			}
			if e := m.Endpoint(Client); !e.HasISN || e.ISN != 100 {
				t.Errorf("client ISN %d (has %v), want 100", e.ISN, e.HasISN)
			}
		}},

		// ---------------------------------------------------------------
		// Unacceptable handshake segments and other anomalies.
		// RFC 9293 section 3.10.7.3, SYN-SENT: "If SEG.ACK =< ISS or SEG.ACK >
		// SND.NXT, send a reset ... and discard the segment": the client
		// stays in SYN_SENT.
		{name: "SYN-ACK acknowledging more than the SYN is not accepted", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 999, 0, "SYN_SENT/SYN_RECEIVED"),
		}, reps: map[int]Report{2: {Anomalies: SYNACKBadAck | AckUnseenData}}},
		{name: "SYN-ACK acknowledging the ISN itself is not accepted", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 100, 0, "SYN_SENT/SYN_RECEIVED"),
		}, reps: map[int]Report{2: {Anomalies: SYNACKBadAck}}},
		{name: "ACK of data never sent", steps: pThen(pOpen(),
			s2c("A", 301, 500, 0, est),
		), reps: map[int]Report{4: {Anomalies: AckUnseenData}}},
		{name: "FIN after a gap in the data", steps: pThen(pOpen(),
			c2s("FA", 201, 301, 0, ""),
		), reps: map[int]Report{4: {Anomalies: FINAfterGap}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				if m.State(Client) != FinWait1 {
					t.Errorf("client %s after sending a FIN, want FIN_WAIT_1", m.State(Client))
				}
			}},

		// ---------------------------------------------------------------
		// Keep-alives, zero-window probes, retransmissions: no state change.
		{name: "keep-alives change nothing", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 100, est),
			s2c("A", 301, 201, 0, est),
			c2s("A", 200, 301, 0, est).after(60*sec), // RFC 9293 section 3.8.4: SEG.SEQ = SND.NXT-1
			s2c("A", 301, 201, 0, est),
			c2s("A", 200, 301, 1, est).after(120*sec), // with one garbage octet
			s2c("A", 301, 201, 0, est),
			s2c("A", 300, 201, 0, est).after(180*sec), // the server's
			c2s("A", 201, 301, 0, est),
			c2s("PA", 201, 301, 10, est),
		), reps: map[int]Report{6: {Kind: KeepAlive}, 8: {Kind: KeepAlive}, 10: {Kind: KeepAlive}},
			check: func(t *testing.T, m *Machine, _ []time.Time) {
				for _, tr := range m.History() {
					if tr.Packet > 3 {
						t.Errorf("keep-alive sequence caused pkt %d %s %s -> %s", tr.Packet, tr.Role, tr.From, tr.To)
					}
				}
			}},
		{name: "keep-alive in CLOSE_WAIT", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("A", 300, 102, 0, "FIN_WAIT_2/CLOSE_WAIT").after(60*sec),
			c2s("A", 102, 301, 0, "FIN_WAIT_2/CLOSE_WAIT"),
		), reps: map[int]Report{6: {Kind: KeepAlive}}},
		// RFC 9293 section 3.8.6.1: the sender probes a zero window with
		// one new octet and repeats it; a repeated probe resends an
		// octet not yet acknowledged, so it is a retransmission, not a
		// keep-alive (those are sent with nothing outstanding).
		{name: "zero-window probes with one octet change nothing", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 1000, est),
			s2c("A", 301, 1101, 0, est), // window 0
			c2s("PA", 1101, 301, 1, est).after(1*sec),
			s2c("A", 301, 1101, 0, est),
			c2s("PA", 1101, 301, 1, est).after(3*sec),
			s2c("A", 301, 1101, 0, est),
			s2c("A", 301, 1102, 0, est).after(5*sec), // window opens, the probe octet accepted
			c2s("PA", 1102, 301, 100, est),
		), win: map[int]uint16{5: 0, 7: 0, 9: 0},
			reps: map[int]Report{8: {Kind: Retransmission}}},
		{name: "zero-window probes at SND.UNA-1 (Linux) change nothing", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 1000, est),
			s2c("A", 301, 1101, 0, est), // window 0
			c2s("A", 1100, 301, 0, est).after(1*sec),
			s2c("A", 301, 1101, 0, est),
			c2s("A", 1100, 301, 0, est).after(3*sec),
			s2c("A", 301, 1101, 0, est).after(5*sec), // window opens
			c2s("PA", 1101, 301, 100, est),
		), win: map[int]uint16{5: 0, 7: 0},
			reps: map[int]Report{6: {Kind: KeepAlive}, 8: {Kind: KeepAlive}}},
		{name: "retransmission detection", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 100, est),
			c2s("PA", 101, 301, 100, est), // all of it again
			c2s("PA", 151, 301, 50, est),  // its tail
			c2s("PA", 151, 301, 100, est), // overlapping, with new data
			s2c("A", 301, 251, 0, est),
			s2c("A", 301, 251, 0, est), // duplicate ACK
			s2c("A", 301, 251, 0, est), // window update
			c2s("PA", 101, 301, 10, est),
			c2s("FA", 251, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			c2s("FA", 251, 301, 0, "").after(1*sec),
			s2c("A", 301, 252, 0, "FIN_WAIT_2/CLOSE_WAIT"),
		), win: map[int]uint16{10: 2000},
			reps: map[int]Report{5: {Kind: Retransmission}, 6: {Kind: Retransmission}, 11: {Kind: Retransmission}, 13: {Kind: Retransmission}}},

		// ---------------------------------------------------------------
		// Sequence numbers wrapping past 2^32 (RFC 9293 section 3.4).
		{name: "wrap: ISNs at 2^32-1, handshake and close", steps: []step{
			c2s("S", 0xFFFFFFFF, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 0xFFFFFFFF, 0, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 0, 0, 0, est),
			c2s("PA", 0, 0, 10, est),
			s2c("A", 0, 10, 0, est),
			c2s("FA", 10, 0, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 0, 11, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 11, 1, 0, "TIME_WAIT/CLOSED"),
		}},
		{name: "wrap: SYN retransmission and keep-alives at 2^32-1", steps: []step{
			c2s("S", 0xFFFFFFFF, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("S", 0xFFFFFFFF, 0, 0, "").after(time.Second), // SND.NXT is 0
			s2c("SA", 0xFFFFFFFF, 0, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 0, 0, 0, est),
			c2s("A", 0xFFFFFFFF, 0, 0, est).after(61 * time.Second), // SND.NXT-1 across the wrap
			s2c("A", 0xFFFFFFFF, 0, 0, est),                         // the server's, likewise
			c2s("PA", 0, 0, 10, est),
		}, reps: map[int]Report{2: {Kind: Retransmission}, 5: {Kind: KeepAlive}, 6: {Kind: KeepAlive}}},
		{name: "wrap: data across 2^32, retransmission, keep-alive, RST window", steps: []step{
			c2s("S", 0xFFFFFF00, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 0xFFFFFF01, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 0xFFFFFF01, 301, 0, est),
			c2s("PA", 0xFFFFFF01, 301, 0x200, est), // ends at 0x101
			s2c("A", 301, 0x101, 0, est),
			c2s("PA", 0xFFFFFF81, 301, 0x100, est), // retransmission across the wrap
			c2s("A", 0x100, 301, 0, est).after(60 * time.Second),
			c2s("R", 0x4E9, 0, 0, est), // RCV.NXT+1000: out of window
			c2s("R", 0x4E8, 0, 0, est), // last in the window
			c2s("R", 0xFFFFFFF0, 0, 0, est),
			c2s("R", 0x101, 0, 0, "CLOSED/CLOSED"),
		}, reps: map[int]Report{
			6:  {Kind: Retransmission},
			7:  {Kind: KeepAlive},
			8:  {Anomalies: RSTOutOfWindow},
			9:  {Anomalies: RSTChallenged},
			10: {Anomalies: RSTOutOfWindow},
		}},
		{name: "wrap: FIN at 2^32-1", steps: []step{
			c2s("S", 0xFFFFFFF0, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 0xFFFFFFF1, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 0xFFFFFFF1, 301, 0, est),
			c2s("PA", 0xFFFFFFF1, 301, 14, est),
			c2s("FA", 0xFFFFFFFF, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 0, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			s2c("FA", 301, 0, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 0, 302, 0, "TIME_WAIT/CLOSED"),
		}},
		{name: "wrap: RST window straddling 2^32", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 0xFFFFFEFF, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 0xFFFFFF00, 0, est), // RCV.WND [0xFFFFFF00, 0x2E8)
			s2c("R", 0x100, 0, 0, est),
			s2c("R", 0x2E7, 0, 0, est),
			s2c("R", 0x2E8, 0, 0, est),
			s2c("R", 0xFFFFFEFF, 0, 0, est),
			s2c("R", 0xFFFFFF00, 0, 0, "CLOSED/CLOSED"),
		}, reps: map[int]Report{
			4: {Anomalies: RSTChallenged},
			5: {Anomalies: RSTChallenged},
			6: {Anomalies: RSTOutOfWindow},
			7: {Anomalies: RSTOutOfWindow},
		}},
		{name: "wrap: SYN data across 2^32", steps: []step{
			c2s("S", 0xFFFFFFF0, 0, 32, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 0x11, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 0x11, 301, 0, est),
			c2s("FA", 0x11, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 0x12, 0, "TIME_WAIT/LAST_ACK"),
		}},
		{name: "wrap: simultaneous close with both FINs at 2^32-1", steps: []step{
			c2s("S", 0xFFFFFFFE, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 0xFFFFFFFE, 0xFFFFFFFF, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 0xFFFFFFFF, 0xFFFFFFFF, 0, est),
			c2s("FA", 0xFFFFFFFF, 0xFFFFFFFF, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 0xFFFFFFFF, 0xFFFFFFFF, 0, "CLOSING/CLOSING"),
			c2s("A", 0, 0, 0, "CLOSING/TIME_WAIT"),
			s2c("A", 0, 0, 0, "TIME_WAIT/TIME_WAIT"),
		}},
		{name: "wrap: a long transfer wraps the sequence space", steps: pThen(pOpen(),
			c2s("PA", 101, 301, 1<<30, est),
			s2c("A", 301, 101+1<<30, 0, est),
			c2s("PA", 101+1<<30, 301, 1<<30, est),
			s2c("A", 301, 101+2<<30, 0, est),
			c2s("PA", 101+2<<30, 301, 1<<30, est),
			s2c("A", 301, 101+3<<30, 0, est),
			c2s("PA", 101+3<<30, 301, 1<<30, est), // ends at 101 again
			s2c("A", 301, 101, 0, est),
			c2s("PA", 101, 301, 1<<30, est),
			s2c("A", 301, 101+1<<30, 0, est),
			c2s("FA", 101+1<<30, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102+1<<30, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102+1<<30, 302, 0, "TIME_WAIT/CLOSED"),
		)},
	}
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) { runPath(t, pc) })
	}
}

// TestProvenLostCopiesAreNotAssumedDelivered pins the policy of
// docs/semantics.md: once a retransmission proves a segment (or the ACK of
// it) was lost, later copies are not assumed to arrive; the receiver moves
// only when its own segments show it got one, or when a segment carrying
// something new arrives. This is what the kernel oracle needs: a SYN dropped
// by a firewall leaves the server's port in LISTEN, a dropped FIN leaves
// the peer ESTABLISHED, however many copies the sender tries. (The rule
// of revision, read literally, would apply each new copy.)
func TestProvenLostCopiesAreNotAssumedDelivered(t *testing.T) {
	const sec = time.Second
	cases := []pathCase{
		{name: "retransmitted SYN", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "SYN_SENT/LISTEN").after(1 * sec),
			c2s("S", 100, 0, 0, "SYN_SENT/LISTEN").after(3 * sec),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED").after(3*sec + 10*time.Millisecond),
		}, reps: map[int]Report{2: {Kind: Retransmission}, 3: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				wantStateAt(t, m, Server, at[1], Listen)
				wantStateAt(t, m, Server, at[3], Listen)
				wantStateAt(t, m, Server, at[4], SynReceived)
			}},
		{name: "retransmitted SYN-ACK before any ACK", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "SYN_SENT/SYN_RECEIVED").after(1 * sec),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{3: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				wantStateAt(t, m, Client, at[3], SynSent)
				wantStateAt(t, m, Client, at[4], Established)
			}},
		{name: "SYN-ACK retransmitted after the client's SYN retransmission", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED").after(1 * sec),
			s2c("SA", 300, 101, 0, "SYN_SENT/SYN_RECEIVED").after(1*sec + 10*time.Millisecond),
			c2s("A", 101, 301, 0, est),
		}, reps: map[int]Report{3: {Kind: Retransmission}, 4: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				wantStateAt(t, m, Client, at[4], SynSent)
				wantStateAt(t, m, Client, at[5], Established)
			}},
		{name: "handshake ACK repeated after the SYN-ACK retransmission, then data", steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("A", 101, 301, 0, est),
			s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED").after(1 * sec),
			c2s("A", 101, 301, 0, "ESTABLISHED/SYN_RECEIVED"),
			c2s("PA", 101, 301, 10, est),
		}, reps: map[int]Report{4: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				wantStateAt(t, m, Server, at[5], SynReceived)
				wantStateAt(t, m, Server, at[6], Established)
			}},
		{name: "retransmitted FIN", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/ESTABLISHED").after(1*sec),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/ESTABLISHED").after(3*sec),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
		), reps: map[int]Report{5: {Kind: Retransmission}, 6: {Kind: Retransmission}},
			check: func(t *testing.T, m *Machine, at []time.Time) {
				wantStateAt(t, m, Server, at[4], Established)
				wantStateAt(t, m, Server, at[6], Established)
				wantStateAt(t, m, Server, at[7], CloseWait)
			}},
		{name: "ACK of FIN repeated after the FIN retransmission", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT").after(1*sec),
			s2c("A", 301, 102, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
		), reps: map[int]Report{6: {Kind: Retransmission}}},
		{name: "final ACK repeated after the FIN retransmission", steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK").after(1*sec),
			c2s("A", 102, 302, 0, "TIME_WAIT/LAST_ACK"),
		), reps: map[int]Report{7: {Kind: Retransmission}}},
	}
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) { runPath(t, pc) })
	}
}

// TestSimultaneousOpenServerWasNotListening: once the server's own SYN shows
// it opened actively (CauseActiveOpen: "it was not listening"), its state
// before that SYN was CLOSED, not LISTEN, for every question asked later.
func TestSimultaneousOpenServerWasNotListening(t *testing.T) {
	m, at := runPath(t, pathCase{steps: []step{
		c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
		s2c("S", 300, 0, 0, "SYN_RECEIVED/SYN_RECEIVED"),
	}})
	wantStateAt(t, m, Server, at[1], Closed)
	wantStateAt(t, m, Server, t0, Closed)
}

func TestNewISNOnOpenConnection(t *testing.T) {
	var m Machine
	m.Reset(Config{})
	now := t0
	for i, s := range pOpen() {
		now = now.Add(10 * time.Millisecond)
		seg := Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: 1000, WScale: -1}
		m.Step(s.from, &seg, now, uint64(i+1))
	}
	seg := Segment{Seq: 5555, Flags: SYN, Window: 1000, WScale: -1}
	rep := m.Step(Client, &seg, now.Add(time.Second), 4)
	if rep.Anomalies&NewISN == 0 {
		t.Errorf("anomalies %q, want %q among them", rep.Anomalies.Names(), NewISN.Names())
	}
	if rep.Transitions != 0 || states(&m) != est {
		t.Errorf("a SYN with a new ISN changed the states: %d transitions, %s", rep.Transitions, states(&m))
	}
}

func TestTimeWaitMSL(t *testing.T) {
	closeSteps := pThen(pOpen(),
		c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
		s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
		c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
	)
	for _, tc := range []struct {
		msl, tw time.Duration
	}{
		{0, 60 * time.Second},
		{-time.Second, 60 * time.Second},
		{2 * time.Second, 4 * time.Second},
		{30 * time.Second, 60 * time.Second},
		{2 * time.Minute, 4 * time.Minute},
	} {
		t.Run(fmt.Sprint("MSL=", tc.msl), func(t *testing.T) {
			cfg := Config{MSL: tc.msl}
			if got := cfg.TimeWait(); got != tc.tw {
				t.Errorf("TimeWait() = %v, want %v", got, tc.tw)
			}
			m, at := runPath(t, pathCase{cfg: cfg, steps: closeSteps})
			since := wantTimeWaitSince(t, m, Client, at[5], at[6])
			if n := m.Advance(since.Add(tc.tw - time.Nanosecond)); n != 0 || m.State(Client) != TimeWait {
				t.Errorf("just before 2 MSL: %d transitions, client %s", n, m.State(Client))
			}
			if n := m.Advance(since.Add(tc.tw + time.Hour)); n != 1 || m.State(Client) != Closed {
				t.Errorf("after 2 MSL: %d transitions, client %s", n, m.State(Client))
			}
			last := m.History()[len(m.History())-1]
			want := tw{0, Client, TimeWait, Closed, CauseTimeWaitExpired, "c"}
			if !want.matches(last) || !last.Time.Equal(since.Add(tc.tw)) {
				t.Errorf("last transition %+v, want %v at %v", last, want, since.Add(tc.tw))
			}
			wantStateAt(t, m, Client, since.Add(tc.tw-time.Nanosecond), TimeWait)
			wantStateAt(t, m, Client, since.Add(tc.tw), Closed)
			if n := m.Advance(since.Add(tc.tw + 2*time.Hour)); n != 0 {
				t.Errorf("a second Advance added %d transitions", n)
			}
			checkHistoryInvariants(t, m)
		})
	}
}

// TestTimeWaitExpiresBetweenSegments: the timer runs between segments, so a
// segment arriving after 2 MSL finds the endpoint CLOSED.
func TestTimeWaitExpiresBetweenSegments(t *testing.T) {
	runPath(t, pathCase{steps: pThen(pOpen(),
		c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
		s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK").after(time.Second),
		c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		c2s("A", 102, 302, 0, "CLOSED/CLOSED").after(62*time.Second),
	), reps: map[int]Report{7: {Anomalies: SegmentAfterClose}},
		check: func(t *testing.T, m *Machine, at []time.Time) {
			hasHistory(t, m, tw{0, Client, TimeWait, Closed, CauseTimeWaitExpired, "c"})
			wantStateAt(t, m, Client, at[6].Add(60*time.Second), Closed)
		}})
}

func TestGiveUp(t *testing.T) {
	t.Run("SYN_SENT", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			c2s("S", 100, 0, 0, "").after(time.Second),
			c2s("S", 100, 0, 0, "").after(3 * time.Second),
		}, reps: map[int]Report{2: {Kind: Retransmission}, 3: {Kind: Retransmission}}})
		end := at[3].Add(20 * time.Second)
		m.GiveUp(end)
		if states(m) != "CLOSED/LISTEN" || !m.Finished() {
			t.Errorf("after GiveUp: %s, finished %v", states(m), m.Finished())
		}
		hasHistory(t, m, tw{0, Client, SynSent, Closed, CauseHandshakeTimeout, "c"})
		wantStateAt(t, m, Client, end, Closed)
		wantStateAt(t, m, Client, at[3], SynSent)
		checkHistoryInvariants(t, m)
	})
	t.Run("SYN_RECEIVED of a passive open", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
		}})
		if n := m.GiveUp(at[1].Add(time.Minute)); n != 2 {
			t.Errorf("GiveUp: %d transitions, want 2", n)
		}
		if states(m) != "CLOSED/LISTEN" || !m.Finished() {
			t.Errorf("after GiveUp: %s, finished %v", states(m), m.Finished())
		}
		for _, w := range []tw{
			{0, Client, SynSent, Closed, CauseHandshakeTimeout, ""},
			{0, Server, SynReceived, Listen, CauseHandshakeTimeout, ""},
		} {
			hasHistory(t, m, w)
		}
		checkHistoryInvariants(t, m)
	})
	t.Run("SYN_RECEIVED of a simultaneous open", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: []step{
			c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
			s2c("S", 300, 0, 0, "SYN_RECEIVED/SYN_RECEIVED"),
		}})
		if n := m.GiveUp(at[2].Add(time.Minute)); n != 2 || states(m) != "CLOSED/CLOSED" {
			t.Errorf("GiveUp: %d transitions, %s", n, states(m))
		}
		checkHistoryInvariants(t, m)
	})
	t.Run("nothing to give up once established", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: pOpen()})
		if n := m.GiveUp(at[3].Add(time.Hour)); n != 0 || states(m) != est {
			t.Errorf("GiveUp: %d transitions, %s", n, states(m))
		}
	})
}

func TestEndTimeWait(t *testing.T) {
	t.Run("one side", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
			c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
		)})
		reuse := at[6].Add(5 * time.Second)
		if n := m.EndTimeWait(reuse, 42); n != 1 || !m.Finished() {
			t.Errorf("EndTimeWait: %d transitions, %s", n, states(m))
		}
		hasHistory(t, m, tw{42, Client, TimeWait, Closed, CausePortReuse, "c"})
		wantStateAt(t, m, Client, reuse, Closed)
		wantStateAt(t, m, Client, reuse.Add(-time.Nanosecond), TimeWait)
		if n := m.Advance(reuse.Add(time.Hour)); n != 0 {
			t.Errorf("Advance after EndTimeWait: %d transitions", n)
		}
		checkHistoryInvariants(t, m)
	})
	t.Run("both sides after a simultaneous close", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: pThen(pOpen(),
			c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("FA", 301, 101, 0, "CLOSING/CLOSING"),
			c2s("A", 102, 302, 0, "CLOSING/TIME_WAIT"),
			s2c("A", 302, 102, 0, "TIME_WAIT/TIME_WAIT"),
		)})
		if n := m.EndTimeWait(at[7].Add(time.Second), 8); n != 2 || states(m) != "CLOSED/CLOSED" {
			t.Errorf("EndTimeWait: %d transitions, %s", n, states(m))
		}
		checkHistoryInvariants(t, m)
	})
	t.Run("nothing in TIME_WAIT", func(t *testing.T) {
		m, at := runPath(t, pathCase{steps: pOpen()})
		if n := m.EndTimeWait(at[3].Add(time.Second), 4); n != 0 || states(m) != est {
			t.Errorf("EndTimeWait: %d transitions, %s", n, states(m))
		}
	})
}

// TestStateAtBeforeAnything: before the first segment every question gets
// the initial states.
func TestStateAtBeforeAnything(t *testing.T) {
	var m Machine
	m.Reset(Config{})
	if m.Started() || m.Finished() || states(&m) != "CLOSED/LISTEN" {
		t.Errorf("new machine: started %v finished %v %s", m.Started(), m.Finished(), states(&m))
	}
	m2, at := runPath(t, pathCase{steps: pOpen()})
	wantStateAt(t, m2, Client, at[1].Add(-time.Nanosecond), Closed)
	wantStateAt(t, m2, Server, at[1].Add(-time.Nanosecond), Listen)
	if _, ok := m2.LastAt(Client, at[1].Add(-time.Nanosecond)); ok {
		t.Error("LastAt before the first segment found a transition")
	}
	tr, ok := m2.LastAt(Server, at[3])
	if !ok || tr.To != Established || tr.Packet != 3 || !tr.Time.Equal(at[3]) {
		t.Errorf("LastAt(server, step 3) = %+v, %v", tr, ok)
	}
	tr, ok = m2.LastAt(Server, at[2])
	if !ok || tr.To != SynReceived || tr.Packet != 1 {
		t.Errorf("LastAt(server, step 2) = %+v, %v", tr, ok)
	}
}

// TestStateAtAfterRevisions asks about the past after revisions: each answer
// must be what the whole capture says, not what was believed at the time.
func TestStateAtAfterRevisions(t *testing.T) {
	m, at := runPath(t, pathCase{steps: []step{
		c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED"),
		s2c("SA", 300, 101, 0, "ESTABLISHED/SYN_RECEIVED"),
		c2s("S", 100, 0, 0, "SYN_SENT/SYN_RECEIVED").after(time.Second), // the SYN-ACK was lost
		s2c("SA", 300, 101, 0, "").after(1010 * time.Millisecond),
		c2s("A", 101, 301, 0, est),
		c2s("FA", 101, 301, 0, "FIN_WAIT_1/CLOSE_WAIT"),
		c2s("FA", 101, 301, 0, "").after(2 * time.Second), // the FIN was lost
		s2c("A", 301, 102, 0, "FIN_WAIT_2/CLOSE_WAIT"),
		s2c("FA", 301, 102, 0, "TIME_WAIT/LAST_ACK"),
		c2s("A", 102, 302, 0, "TIME_WAIT/CLOSED"),
	}, reps: map[int]Report{3: {Kind: Retransmission}, 4: {Kind: Retransmission}, 7: {Kind: Retransmission}}})
	want := []string{1: "SYN_SENT/SYN_RECEIVED", 2: "SYN_SENT/SYN_RECEIVED", 3: "SYN_SENT/SYN_RECEIVED",
		5: est, 6: "FIN_WAIT_1/ESTABLISHED", 8: "FIN_WAIT_2/CLOSE_WAIT", 9: "TIME_WAIT/LAST_ACK", 10: "TIME_WAIT/CLOSED"}
	for n, w := range want {
		if w == "" {
			continue
		}
		if got := m.StateAt(Client, at[n]).String() + "/" + m.StateAt(Server, at[n]).String(); got != w {
			t.Errorf("StateAt(step %d) = %s, want %s", n, got, w)
		}
		for r := Client; r <= Server; r++ {
			tr, ok := m.LastAt(r, at[n])
			if ok && (tr.Revised || tr.Time.After(at[n]) || tr.To != m.StateAt(r, at[n])) {
				t.Errorf("LastAt(%s, step %d) = %+v disagrees with StateAt", r, n, tr)
			}
		}
	}
}

// TestSendQ: SendQ is the Send-Q column of ss -tan as the endpoint's kernel
// would print it (docs/semantics.md, "Send-Q and Recv-Q"): for a socket, SND.NXT - SND.UNA
// (Linux's write_seq - snd_una, where SYN and FIN count one each); 0 for a
// request socket in SYN_RECEIVED and for endpoints that are no socket.
func TestSendQ(t *testing.T) {
	type q struct{ c, s uint32 }
	cases := []struct {
		name  string
		steps []step
		want  []q // after each step
	}{
		{"data both ways", pThen(pOpen(),
			c2s("PA", 101, 301, 100, est),
			c2s("PA", 201, 301, 50, est),
			s2c("A", 301, 151, 0, est),
			s2c("PA", 301, 251, 30, est),
			c2s("PA", 101, 331, 100, est), // retransmission: nothing new
			c2s("FA", 251, 331, 0, "FIN_WAIT_1/CLOSE_WAIT"),
			s2c("A", 331, 252, 0, "FIN_WAIT_2/CLOSE_WAIT"),
		), []q{{1, 0}, {0, 0}, {0, 0}, {100, 0}, {150, 0}, {100, 0}, {0, 30}, {0, 0}, {1, 0}, {0, 0}}},
		{"fast open data in the SYN", []step{
			c2s("S", 100, 0, 50, ""),
			s2c("SA", 300, 151, 0, ""),
		}, []q{{51, 0}, {0, 0}}},
		{"fast open data refused", []step{
			c2s("S", 100, 0, 50, ""),
			s2c("SA", 300, 101, 0, ""),
			c2s("A", 101, 301, 0, ""),
			c2s("PA", 101, 301, 50, ""),
			s2c("A", 301, 151, 0, ""),
		}, []q{{51, 0}, {50, 0}, {50, 0}, {50, 0}, {0, 0}}},
		{"across the wrap", []step{
			c2s("S", 0xFFFFFFF0, 0, 0, ""),
			s2c("SA", 300, 0xFFFFFFF1, 0, ""),
			c2s("A", 0xFFFFFFF1, 301, 0, ""),
			c2s("PA", 0xFFFFFFF1, 301, 100, ""),
			s2c("A", 301, 0x10, 0, ""),
			s2c("A", 301, 0x55, 0, ""),
		}, []q{{1, 0}, {0, 0}, {0, 0}, {100, 0}, {69, 0}, {0, 0}}},
		{"simultaneous open: both are full sockets", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("S", 300, 0, 0, ""),
			c2s("SA", 100, 301, 0, ""),
			s2c("SA", 300, 101, 0, ""),
		}, []q{{1, 0}, {1, 1}, {1, 0}, {0, 0}}},
		{"pickup", []step{
			c2s("PA", 5000, 9000, 100, ""),
			s2c("A", 9000, 5100, 0, ""),
			c2s("FA", 5100, 9000, 0, ""),
			s2c("A", 9000, 5101, 0, ""),
		}, []q{{100, 0}, {0, 0}, {1, 0}, {0, 0}}},
		{"closed and listening endpoints have none", []step{
			c2s("S", 100, 0, 0, ""),
			s2c("RA", 0, 101, 0, ""),
		}, []q{{1, 0}, {0, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m Machine
			m.Reset(Config{})
			now := t0
			for i, s := range tc.steps {
				now = now.Add(10 * time.Millisecond)
				seg := Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: -1}
				m.Step(s.from, &seg, now, uint64(i+1))
				if got := (q{m.SendQ(Client), m.SendQ(Server)}); got != tc.want[i] {
					t.Errorf("after step %d: SendQ client %d server %d, want %d %d", i+1, got.c, got.s, tc.want[i].c, tc.want[i].s)
				}
			}
		})
	}
}

// TestStepAllocs: the transitions of an ordinary connection fit in the
// machine's own storage, so a handshake, data and close allocate nothing.
func TestStepAllocs(t *testing.T) {
	steps := pThen(pOpen(),
		c2s("PA", 101, 301, 100, est),
		s2c("PA", 301, 201, 100, est),
		c2s("FA", 201, 401, 0, ""),
		s2c("FA", 401, 202, 0, ""),
		c2s("A", 202, 402, 0, ""),
	)
	segs := make([]Segment, len(steps))
	for i, s := range steps {
		segs[i] = Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: s.len, Window: 1000, WScale: -1}
	}
	var m Machine
	allocs := testing.AllocsPerRun(100, func() {
		m.Reset(Config{})
		now := t0
		for i := range segs {
			now = now.Add(time.Millisecond)
			m.Advance(now)
			m.Step(steps[i].from, &segs[i], now, uint64(i+1))
		}
		m.Advance(now.Add(time.Hour))
	})
	if allocs != 0 {
		t.Errorf("a whole connection allocates %v times", allocs)
	}
	if !m.Finished() {
		t.Errorf("connection not finished: %s", states(&m))
	}
}

// BenchmarkStep steps an ESTABLISHED connection with data segments, one
// per operation, alternating direction, each acknowledging the other's.
func BenchmarkStep(b *testing.B) {
	var m Machine
	m.Reset(Config{})
	now := t0
	var pkt uint64
	step := func(from Role, seg Segment) {
		now = now.Add(time.Microsecond)
		pkt++
		m.Step(from, &seg, now, pkt)
	}
	step(Client, Segment{Seq: 100, Flags: SYN, Window: 64240, WScale: 7})
	step(Server, Segment{Seq: 300, Ack: 101, Flags: SYN | ACK, Window: 65160, WScale: 7})
	step(Client, Segment{Seq: 101, Ack: 301, Flags: ACK, Window: 502, WScale: -1})
	if m.State(Client) != Established || m.State(Server) != Established {
		b.Fatalf("not established: %s", states(&m))
	}
	cs, ss := Seq(101), Seq(301)
	seg := Segment{Flags: PSH | ACK, Window: 502, WScale: -1}
	h := len(m.History())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		pkt++
		if i&1 == 0 {
			seg.Seq, seg.Ack, seg.Len = cs, ss, 1448
			cs = cs.Add(1448)
			m.Step(Client, &seg, now, pkt)
		} else {
			seg.Seq, seg.Ack, seg.Len = ss, cs, 512
			ss = ss.Add(512)
			m.Step(Server, &seg, now, pkt)
		}
		i++
	}
	b.StopTimer()
	if len(m.History()) != h || m.State(Client) != Established || m.State(Server) != Established {
		b.Fatalf("data changed the states: %s, %d transitions", states(&m), len(m.History())-h)
	}
}
