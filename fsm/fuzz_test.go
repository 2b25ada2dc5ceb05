package fsm

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// FuzzMachine drives a Machine with segments decoded from the fuzz input and
// checks, after every step and timer, what must hold whatever the segments:
//
//   - nothing panics;
//   - the history is one unbroken chain per role (each transition's From is
//     the previous To of its role) ending in State;
//   - the history as StateAt tells it (revised transitions left out, a
//     revision setting the state to its To) is a chain as well, and ends in
//     State: State(r) == StateAt(r, far future);
//   - every transition that is not a revision is an edge of RFC 9293's state
//     diagram or processing rules (rfcEdge), or one of the few edges a
//     passive observer adds and that are explained in observerEdge; its
//     cause agrees with its target state (causeTargets); a revision carries
//     a revision cause;
//   - a transition caused by the endpoint's own segment is certain; a
//     revised transition is never certain; a revision is never revised;
//   - transition times never go backwards (LastAt depends on it), packet
//     numbers are those of the step (0 for timers), Report.Transitions
//     counts what the step added;
//   - after Advance(now) no endpoint has been in TIME_WAIT for 2·MSL.
//
// Input layout: byte 0 chooses the MSL, bytes 1-8 the two ISNs, then one
// 6-byte chunk per operation (see fuzzOp).
func FuzzMachine(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzMachine(t, data, false)
	})
}

// The flags of a fuzz operation; the last entries are not segments.
var fuzzFlags = [16]Flags{
	SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, FIN | PSH | ACK, RST, RST | ACK,
	ACK, PSH | ACK, SYN, SYN | ACK, 0 /* raw: byte 5 */, FIN | ACK, 0 /* GiveUp */, 0, /* EndTimeWait */
}

const (
	fuzzRawFlags    = 12
	fuzzGiveUp      = 14
	fuzzEndTimeWait = 15
	fuzzChunk       = 6
	fuzzHeader      = 9
	fuzzMaxOps      = 96
)

var fuzzSteps = [8]time.Duration{0, time.Millisecond, 10 * time.Millisecond, 200 * time.Millisecond,
	time.Second, 30 * time.Second, 61 * time.Second, 5 * time.Minute}

// fuzzOp is one decoded chunk:
//
//	byte 0: bit 0 role (client, server), bits 1-4 flags (fuzzFlags), bits 5-7 time step (fuzzSteps)
//	byte 1: bits 0-2 sequence number mode, bits 3-5 acknowledgment mode
//	byte 2: bits 0-2 length mode, bits 3-5 window mode, bits 6-7 window-scale mode
//	byte 3: sequence delta; byte 4: acknowledgment delta; byte 5: raw flags, length or window
type fuzzOp struct {
	role                    Role
	flags, time             uint8
	seq, ack, len, win, wsc uint8
	seqDelta, ackDelta, raw uint8
}

func (o fuzzOp) bytes() []byte {
	return []byte{
		byte(o.role) | o.flags<<1 | o.time<<5,
		o.seq | o.ack<<3,
		o.len | o.win<<3 | o.wsc<<6,
		o.seqDelta, o.ackDelta, o.raw,
	}
}

func decodeFuzzOp(b []byte) fuzzOp {
	return fuzzOp{
		role: Role(b[0] & 1), flags: b[0] >> 1 & 15, time: b[0] >> 5,
		seq: b[1] & 7, ack: b[1] >> 3 & 7,
		len: b[2] & 7, win: b[2] >> 3 & 7, wsc: b[2] >> 6,
		seqDelta: b[3], ackDelta: b[4], raw: b[5],
	}
}

// segment builds the operation's segment, with sequence and acknowledgment
// numbers chosen relative to what each side has sent so that retransmissions,
// keep-alives, exact and in-window RSTs, ACKs of FINs and of unseen data are
// all reachable.
func (o fuzzOp) segment(m *Machine, isn [2]Seq) Segment {
	e, p := &m.ep[o.role], &m.ep[o.role.Peer()]
	flags := fuzzFlags[o.flags]
	if o.flags == fuzzRawFlags {
		flags = Flags(o.raw)
	}
	eISN, pISN := isn[o.role], isn[o.role.Peer()]
	if e.HasISN {
		eISN = e.ISN
	}
	if p.HasISN {
		pISN = p.ISN
	}
	next := eISN
	if e.hasSeq {
		next = e.SndNxt
	} else if !flags.Contains(SYN) {
		next = eISN + 1
	}
	pNext := pISN + 1
	if p.hasSeq {
		pNext = p.SndNxt
	}
	seg := Segment{Flags: flags, WScale: -1}
	switch o.seq {
	case 0:
		seg.Seq = next
	case 1:
		seg.Seq = eISN
	case 2:
		seg.Seq = next - 1
	case 3:
		seg.Seq = next
		if e.HasFIN {
			seg.Seq = e.FIN
		}
	case 4:
		seg.Seq = next + Seq(o.seqDelta)<<4
	case 5:
		seg.Seq = next - Seq(o.seqDelta)
	case 6:
		seg.Seq = next
		if p.HasAck {
			seg.Seq = p.Ack
		}
	case 7:
		seg.Seq = Seq(uint32(o.seqDelta)<<24 | uint32(o.ackDelta)<<16 | uint32(o.raw)<<8)
	}
	switch o.ack {
	case 0:
		seg.Ack = pNext
	case 1:
		seg.Ack = pISN + 1
	case 2:
		seg.Ack = pNext - 1
		if p.HasFIN {
			seg.Ack = p.FIN
		}
	case 3:
		seg.Ack = pNext - Seq(o.ackDelta)
	case 4:
		seg.Ack = pNext + Seq(o.ackDelta)
	case 5:
		seg.Ack = pNext
		if e.HasAck {
			seg.Ack = e.Ack
		}
	case 6:
		seg.Ack = pISN
	case 7:
		seg.Ack = Seq(uint32(o.ackDelta)<<24 | uint32(o.raw)<<8 | uint32(o.seqDelta))
	}
	seg.Len = [8]uint32{0, 0, 0, 0, 1, 10, 1448, uint32(o.raw)}[o.len]
	seg.Window = [8]uint16{1000, 0, 65535, 1, 502, uint16(o.raw) << 8, 64240, 29200}[o.win]
	if flags.Contains(SYN) {
		seg.WScale = [4]int8{-1, 7, 14, 15}[o.wsc]
		if fuzzSkip["wscale"] && e.HasISN {
			seg.WScale = e.WScale // explore past the panic on a SYN copy that drops the option
		}
	}
	return seg
}

// rfcEdge lists the transitions of RFC 9293's state diagram (section 3.3.2,
// Figure 5) and of its segment-arrival rules (section 3.10.7), each with the
// event that takes it.
var rfcEdge = map[[2]State]string{
	{Closed, Listen}:           "passive OPEN",
	{Closed, SynSent}:          "active OPEN: send SYN",
	{Listen, SynReceived}:      "receive SYN: send SYN,ACK",
	{Listen, SynSent}:          "SEND: send SYN",
	{Listen, Closed}:           "CLOSE (and connection refused: nothing listened)",
	{SynSent, SynReceived}:     "receive SYN: send SYN,ACK (simultaneous open)",
	{SynSent, Established}:     "receive SYN,ACK: send ACK",
	{SynSent, Closed}:          "CLOSE, acceptable RST (3.10.7.3), or user timeout",
	{SynReceived, Established}: "receive ACK of SYN",
	{SynReceived, FinWait1}:    "CLOSE: send FIN",
	{SynReceived, Listen}:      "RST on a passive open (3.10.7.4), or the handshake timing out",
	{SynReceived, Closed}:      "RST on an active open, ABORT, or the handshake timing out",
	{SynReceived, CloseWait}:   "receive FIN (3.10.7.4, eighth step, lists SYN-RECEIVED)",
	{Established, FinWait1}:    "CLOSE: send FIN",
	{Established, CloseWait}:   "receive FIN",
	{FinWait1, FinWait2}:       "receive ACK of FIN",
	{FinWait1, Closing}:        "receive FIN",
	{FinWait1, TimeWait}:       "receive FIN acknowledging our FIN (3.10.7.4, eighth step)",
	{FinWait2, TimeWait}:       "receive FIN",
	{CloseWait, LastAck}:       "CLOSE: send FIN",
	{Closing, TimeWait}:        "receive ACK of FIN",
	{LastAck, Closed}:          "receive ACK of FIN",
	{TimeWait, Closed}:         "2·MSL timeout",
	// Any synchronized state is left for CLOSED by an acceptable RST or
	// by ABORT (3.10.7.4, 3.10.5).
	{Established, Closed}: "RST or ABORT",
	{FinWait1, Closed}:    "RST or ABORT",
	{FinWait2, Closed}:    "RST or ABORT",
	{CloseWait, Closed}:   "RST or ABORT",
	{Closing, Closed}:     "RST or ABORT",
}

// observerEdge lists the transitions that are no edge of the RFC but that a
// passive observer must make, with why they are accepted, by cause.
var observerEdge = map[Cause]map[[2]State]string{
	CausePickup: {
		{Closed, Established}: "the capture began after the handshake: the client is assumed ESTABLISHED",
		{Listen, Established}: "the capture began after the handshake: the server is assumed ESTABLISHED",
	},
	CauseSYNImplied: {
		{Closed, SynSent}: "the SYN was not captured, the SYN-ACK proves it was sent",
		{Listen, SynSent}: "the same, when the SYN-ACK came from the endpoint given the client role",
	},
}

// causeTargets lists the states each cause may lead to; revision causes lead
// only revisions.
var causeTargets = map[Cause][]State{
	CauseSentSYN:          {SynSent},
	CauseRecvSYN:          {SynReceived},
	CauseSentSYNACK:       {SynReceived},
	CauseRecvSYNACK:       {Established},
	CauseSentACKOfSYN:     {Established},
	CauseRecvACKOfSYN:     {Established},
	CauseSentFIN:          {FinWait1, LastAck},
	CauseRecvFIN:          {CloseWait, Closing, TimeWait},
	CauseSentACKOfFIN:     {CloseWait, Closing, TimeWait},
	CauseRecvACKOfFIN:     {FinWait2, TimeWait, Closed},
	CauseSentRST:          {Closed, Listen},
	CauseRecvRST:          {Closed, Listen},
	CauseRefused:          {Closed},
	CauseTimeWaitExpired:  {Closed},
	CauseHandshakeTimeout: {Closed, Listen},
	CausePickup:           {Established},
	CauseSYNImplied:       {SynSent},
	CausePortReuse:        {Closed},
}

var revisionCauses = map[Cause]bool{
	CauseLostSYN: true, CauseLostSYNACK: true, CauseLostACKOfSYN: true, CauseLostFIN: true,
	CauseLostACKOfFIN: true, CauseFINNotYetReceived: true, CauseActiveOpen: true, CauseRefused: true,
	CauseLostRST: true,
}

// sentCauses are caused by the endpoint's own segment: always certain.
var sentCauses = map[Cause]bool{
	CauseSentSYN: true, CauseSentSYNACK: true, CauseSentACKOfSYN: true, CauseSentFIN: true,
	CauseSentACKOfFIN: true, CauseSentRST: true,
}

// checkEdge returns which invariant a transition breaks and why, or "".
func checkEdge(tr Transition) (key, why string) {
	if tr.Revision {
		if !revisionCauses[tr.Cause] {
			return "cause", "a revision with a cause that revises nothing"
		}
		return "", ""
	}
	e := [2]State{tr.From, tr.To}
	if _, ok := rfcEdge[e]; !ok {
		if _, ok := observerEdge[tr.Cause][e]; !ok {
			return "edge", "no edge of RFC 9293's diagram, and not explained"
		}
	}
	targets, ok := causeTargets[tr.Cause]
	if !ok {
		return "cause", "a revision cause on a transition that is not a revision"
	}
	found := false
	for _, s := range targets {
		found = found || s == tr.To
	}
	if !found {
		return "cause", "the cause cannot lead to " + tr.To.String()
	}
	switch tr.Cause {
	case CauseTimeWaitExpired, CausePortReuse:
		if tr.From != TimeWait {
			return "cause", "leaves " + tr.From.String() + ", not TIME_WAIT"
		}
	case CauseHandshakeTimeout:
		if !tr.From.Handshake() {
			return "cause", "a handshake timeout outside the handshake"
		}
	}
	if sentCauses[tr.Cause] && !tr.Certain {
		return "sent-certain", "caused by the endpoint's own segment, yet not certain"
	}
	return "", ""
}

// fuzzChecker checks a machine's history as it grows.
type fuzzChecker struct {
	m      *Machine
	cur    [2]State // the live chain
	seen   int      // transitions checked so far
	last   time.Time
	log    strings.Builder
	failed string
}

// failf records the first violation of the invariant named key, unless
// FSM_FUZZ_SKIP (a comma-separated list of keys) names it: set it to keep
// fuzzing past a known disagreement.
func (c *fuzzChecker) failf(key, format string, args ...any) {
	if c.failed == "" && !fuzzSkip[key] {
		c.failed = key + ": " + fmt.Sprintf(format, args...)
	}
}

var fuzzSkip = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Split(os.Getenv("FSM_FUZZ_SKIP"), ",") {
		m[strings.TrimSpace(k)] = true
	}
	return m
}()

// grew checks the transitions added by one operation.
func (c *fuzzChecker) grew(pkt uint64, rep *Report) {
	h := c.m.History()
	if rep != nil && rep.Transitions != len(h)-c.seen {
		c.failf("report", "Report.Transitions %d, but %d transitions were added", rep.Transitions, len(h)-c.seen)
	}
	for i := c.seen; i < len(h); i++ {
		tr := h[i]
		fmt.Fprintf(&c.log, "    -> pkt %d %s %s -> %s (%s) certain=%v revision=%v\n",
			tr.Packet, tr.Role, tr.From, tr.To, tr.Cause, tr.Certain, tr.Revision)
		if tr.From != c.cur[tr.Role] {
			c.failf("chain", "history[%d]: %s leaves %s, but was in %s", i, tr.Role, tr.From, c.cur[tr.Role])
		}
		c.cur[tr.Role] = tr.To
		if tr.From == tr.To {
			c.failf("chain", "history[%d]: %s %s -> %s changes nothing", i, tr.Role, tr.From, tr.To)
		}
		if key, why := checkEdge(tr); why != "" {
			c.failf(key, "history[%d]: %s %s -> %s (%s, revision=%v certain=%v): %s",
				i, tr.Role, tr.From, tr.To, tr.Cause, tr.Revision, tr.Certain, why)
		}
		if tr.Packet != pkt && !(tr.Packet == 0 && (tr.Cause == CauseTimeWaitExpired || tr.Cause == CauseHandshakeTimeout)) {
			c.failf("packet", "history[%d]: packet %d, want %d", i, tr.Packet, pkt)
		}
		if tr.Time.Before(c.last) {
			c.failf("time", "history[%d]: time %v before the previous transition's %v", i, tr.Time, c.last)
		}
		c.last = tr.Time
	}
	c.seen = len(h)
	c.whole()
}

// whole checks what must hold of the whole history at any moment.
func (c *fuzzChecker) whole() {
	h := c.m.History()
	eff := [2]State{c.m.ep[Client].initial, c.m.ep[Server].initial}
	for i, tr := range h {
		if tr.Revised && tr.Certain {
			c.failf("revised-certain", "history[%d]: %s %s -> %s (%s) is revised but certain", i, tr.Role, tr.From, tr.To, tr.Cause)
		}
		// A revision may itself be revised, when a later one undoes the
		// inference it rested on (a FIN revised back to SYN_RECEIVED, then
		// the SYN itself proven lost).
		switch {
		case tr.Revised:
		case tr.Revision:
			eff[tr.Role] = tr.To
		default:
			if tr.From != eff[tr.Role] {
				c.failf("effective", "history[%d]: %s %s -> %s (%s): as StateAt tells it, %s was in %s",
					i, tr.Role, tr.From, tr.To, tr.Cause, tr.Role, eff[tr.Role])
			}
			eff[tr.Role] = tr.To
		}
	}
	far := c.last.Add(1000 * time.Hour)
	for r := Client; r <= Server; r++ {
		s := c.m.State(r)
		if c.cur[r] != s {
			c.failf("chain", "%s: the history ends in %s, State is %s", r, c.cur[r], s)
		}
		if got := c.m.StateAt(r, far); got != s {
			c.failf("stateat", "%s: StateAt(far future) = %s, State = %s", r, got, s)
		}
		if eff[r] != s {
			c.failf("effective", "%s: the unrevised history ends in %s, State is %s", r, eff[r], s)
		}
		if s >= numStates {
			c.failf("state", "%s: invalid state %d", r, s)
		}
		c.m.SendQ(r)
	}
}

func fuzzMachine(t *testing.T, data []byte, verbose bool) {
	// A panic fails this input only, so that a saved crasher does not
	// stop the rest of the package's tests.
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	var hdr [fuzzHeader]byte
	copy(hdr[:], data)
	cfg := Config{MSL: [4]time.Duration{0, time.Second, 10 * time.Second, 2 * time.Minute}[hdr[0]&3]}
	isn := [2]Seq{Seq(binary.BigEndian.Uint32(hdr[1:])), Seq(binary.BigEndian.Uint32(hdr[5:]))}
	m := new(Machine)
	m.Reset(cfg)
	c := &fuzzChecker{m: m, cur: [2]State{Closed, Listen}}
	fmt.Fprintf(&c.log, "MSL %v, ISNs %d %d\n", cfg.MSL, isn[0], isn[1])
	now := t0
	ops := data[min(len(data), fuzzHeader):]
	for i := 0; i+fuzzChunk <= len(ops) && i/fuzzChunk < fuzzMaxOps; i += fuzzChunk {
		o := decodeFuzzOp(ops[i : i+fuzzChunk])
		pkt := uint64(i/fuzzChunk + 1)
		now = now.Add(fuzzSteps[o.time])
		if c.m.Advance(now) > 0 {
			c.grew(0, nil)
		}
		for r := Client; r <= Server; r++ {
			if since := m.TimeWaitSince(r); m.State(r) == TimeWait && now.Sub(since) >= cfg.TimeWait() {
				c.failf("timewait", "%s still in TIME_WAIT %v after %v", r, now.Sub(since), since)
			}
		}
		switch o.flags {
		case fuzzGiveUp:
			fmt.Fprintf(&c.log, "%3d GiveUp at +%v\n", pkt, now.Sub(t0))
			n := m.GiveUp(now)
			c.grew(0, nil)
			for r := Client; r <= Server; r++ {
				if m.State(r).Handshake() {
					c.failf("giveup", "%s still in %s after GiveUp (%d transitions)", r, m.State(r), n)
				}
			}
		case fuzzEndTimeWait:
			fmt.Fprintf(&c.log, "%3d EndTimeWait at +%v\n", pkt, now.Sub(t0))
			m.EndTimeWait(now, pkt)
			c.grew(pkt, nil)
			for r := Client; r <= Server; r++ {
				if m.State(r) == TimeWait {
					c.failf("timewait", "%s still in TIME_WAIT after EndTimeWait", r)
				}
			}
		default:
			seg := o.segment(m, isn)
			rep := m.Step(o.role, &seg, now, pkt)
			fmt.Fprintf(&c.log, "%3d +%v %s %s seq=%d ack=%d len=%d win=%d ws=%d: %s/%s %q retx=%v ka=%v\n",
				pkt, now.Sub(t0), o.role, seg.Flags, seg.Seq, seg.Ack, seg.Len, seg.Window, seg.WScale,
				m.State(Client), m.State(Server), rep.Anomalies.Names(), rep.Kind.Contains(Retransmission), rep.Kind.Contains(KeepAlive))
			c.grew(pkt, &rep)
		}
		if c.failed != "" {
			t.Fatalf("%s\nafter:\n%s", c.failed, c.log.String())
		}
	}
	// The timers run out eventually.
	end := now.Add(24 * time.Hour)
	m.Advance(end)
	c.grew(0, nil)
	for r := Client; r <= Server; r++ {
		if m.State(r) == TimeWait {
			c.failf("timewait", "%s in TIME_WAIT a day after the last segment", r)
		}
	}
	if c.failed != "" {
		t.Fatalf("%s\nafter:\n%s", c.failed, c.log.String())
	}
	if verbose {
		t.Log(c.log.String())
	}
}

// fuzzSeed encodes ISNs 100 and 300 and the operations.
func fuzzSeed(msl byte, ops ...fuzzOp) []byte {
	b := []byte{msl, 0, 0, 0, 100, 0, 0, 1, 44}
	for _, o := range ops {
		b = append(b, o.bytes()...)
	}
	return b
}

// Shorthands for seeds: flags index, then time step 2 (10 ms), sequence mode
// 0 (SND.NXT), acknowledgment mode 0 (all the peer sent).
func fo(r Role, flags uint8) fuzzOp { return fuzzOp{role: r, flags: flags, time: 2} }

func (o fuzzOp) at(ts uint8) fuzzOp          { o.time = ts; return o }
func (o fuzzOp) sq(mode, delta uint8) fuzzOp { o.seq, o.seqDelta = mode, delta; return o }
func (o fuzzOp) ak(mode, delta uint8) fuzzOp { o.ack, o.ackDelta = mode, delta; return o }
func (o fuzzOp) ln(mode uint8) fuzzOp        { o.len = mode; return o }

const (
	fS, fSA, fA, fPA, fFA, fFPA, fR, fRA = 0, 1, 2, 3, 4, 5, 6, 7
)

func fuzzSeeds() [][]byte {
	open := []fuzzOp{fo(Client, fS), fo(Server, fSA), fo(Client, fA)}
	with := func(ops ...fuzzOp) []fuzzOp { return append(append([]fuzzOp(nil), open...), ops...) }
	return [][]byte{
		// Open, data, the client closes, TIME_WAIT runs out.
		fuzzSeed(0, with(fo(Client, fPA).ln(5), fo(Server, fPA).ln(6), fo(Client, fFA), fo(Server, fA),
			fo(Server, fFA), fo(Client, fA), fo(Client, fA).at(6).sq(2, 0))...),
		// Simultaneous open, then simultaneous close.
		fuzzSeed(1, fo(Client, fS), fo(Server, fS), fo(Client, fSA).sq(1, 0), fo(Server, fSA).sq(1, 0),
			fo(Client, fA), fo(Client, fFA).ak(2, 0), fo(Server, fFA).ak(2, 0), fo(Client, fA), fo(Server, fA)),
		// SYN retransmitted, SYN-ACK lost, handshake ACK lost.
		fuzzSeed(0, fo(Client, fS), fo(Client, fS).sq(1, 0).at(4), fo(Server, fSA), fo(Client, fS).sq(1, 0).at(4),
			fo(Server, fSA).sq(1, 0), fo(Client, fA), fo(Server, fSA).sq(1, 0).at(4), fo(Client, fA), fo(Client, fPA).ln(6)),
		// FIN lost, ACK of FIN lost, final ACK lost, FIN in TIME_WAIT.
		fuzzSeed(2, with(fo(Client, fFA), fo(Client, fFA).sq(3, 0).at(4), fo(Server, fA), fo(Client, fFA).sq(3, 0).at(4),
			fo(Server, fFA), fo(Client, fA), fo(Server, fFA).sq(3, 0).at(5), fo(Client, fA))...),
		// Refused; then RSTs in and out of the window.
		fuzzSeed(0, fo(Client, fS), fo(Server, fRA).sq(7, 0)),
		fuzzSeed(0, with(fo(Server, fR).sq(4, 3), fo(Server, fR).sq(4, 200), fo(Client, fR).sq(5, 1), fo(Client, fR).sq(6, 0))...),
		// Pickup mid-stream, keep-alive, zero window, close.
		fuzzSeed(3, fo(Client, fPA).ln(6), fo(Server, fA), fo(Client, fA).sq(2, 0).at(5),
			fo(Server, fFA), fo(Client, fFA), fo(Server, fA)),
		// SYN-ACK first, then GiveUp and EndTimeWait.
		fuzzSeed(0, fo(Server, fSA), fo(Client, fA), fo(Server, fFA), fo(Client, fFA), fo(Server, fA),
			fuzzOp{flags: fuzzEndTimeWait, time: 3}),
		fuzzSeed(0, fo(Client, fS), fo(Server, fSA), fuzzOp{flags: fuzzGiveUp, time: 7}),
		// Fast open, wrap-around ISNs.
		append([]byte{0, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF},
			fuzzSeed(0, fo(Client, fS).ln(6), fo(Server, fSA), fo(Server, fFPA).ln(5), fo(Client, fA), fo(Client, fFA), fo(Server, fA))[fuzzHeader:]...),
	}
}

// TestFuzzSeeds runs the seeds with their logs, and checks that they reach
// what they are meant to.
func TestFuzzSeeds(t *testing.T) {
	for i, s := range fuzzSeeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) { fuzzMachine(t, s, testing.Verbose()) })
	}
}

// TestFuzzSegmentModes checks that the decoder reaches what the modes
// promise.
func TestFuzzSegmentModes(t *testing.T) {
	var m Machine
	m.Reset(Config{})
	isn := [2]Seq{100, 300}
	step := func(o fuzzOp) Segment {
		seg := o.segment(&m, isn)
		m.Step(o.role, &seg, t0, 1)
		return seg
	}
	if s := step(fo(Client, fS)); s.Seq != 100 || s.Flags != SYN {
		t.Errorf("first SYN %+v", s)
	}
	if s := step(fo(Server, fSA)); s.Seq != 300 || s.Ack != 101 {
		t.Errorf("SYN-ACK %+v", s)
	}
	if s := step(fo(Client, fPA).ln(6)); s.Seq != 101 || s.Ack != 301 || s.Len != 1448 {
		t.Errorf("data %+v", s)
	}
	if s := (fo(Client, fA).sq(2, 0)).segment(&m, isn); s.Seq != 101+1448-1 {
		t.Errorf("keep-alive %+v", s)
	}
	if s := (fo(Client, fS).sq(1, 0)).segment(&m, isn); s.Seq != 100 {
		t.Errorf("SYN retransmission %+v", s)
	}
	if s := (fo(Server, fA).ak(4, 7)).segment(&m, isn); s.Ack != 101+1448+7 {
		t.Errorf("ACK of unseen data %+v", s)
	}
	if s := (fo(Server, fA).ak(5, 0)).segment(&m, isn); s.Ack != 101 {
		t.Errorf("duplicate ACK %+v", s)
	}
}
