package main

import (
	"bytes"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tcpstate/tcpstate/fsm"
)

// lst makes a ladder state; marks holds c (changed), i (inferred), r
// (revised) and v (revision).
func lst(s fsm.State, marks string, path ...fsm.State) ladderState {
	return ladderState{
		State: s, Path: path,
		Changed:  strings.Contains(marks, "c"),
		Inferred: strings.Contains(marks, "i"),
		Revised:  strings.Contains(marks, "r"),
		Revision: strings.Contains(marks, "v"),
	}
}

// lrow makes a row: packet n at ms milliseconds, sent by from.
func lrow(n uint64, ms float64, from fsm.Role, flags fsm.Flags, seq, ack uint32, length int, win uint32, client, server ladderState, tags ...string) ladderRow {
	return ladderRow{
		Offset: time.Duration(ms * float64(time.Millisecond)), Packet: n, From: from, Flags: flags,
		Seq: seq, Ack: ack, Len: length, Window: win, Tags: tags, After: [2]ladderState{client, server},
	}
}

const (
	c2s = fsm.Client
	s2c = fsm.Server
)

var (
	synF    = fsm.SYN
	synAckF = fsm.SYN | fsm.ACK
	ackF    = fsm.ACK
	pshF    = fsm.PSH | fsm.ACK
	finF    = fsm.FIN | fsm.ACK
	rstF    = fsm.RST | fsm.ACK
)

// handshakeView is the textbook connection: handshake, a request and a
// response, and a close by the client answered with FIN+ACK.
func handshakeView() *ladderView {
	opts := handshakeOptions{Seen: true, MSS: 1460, WScale: 7, SACKPermitted: true, Timestamps: true}
	none := ladderState{}
	return &ladderView{
		ID: 1, Proto: "tcp",
		Client: netip.MustParseAddrPort("192.0.2.10:47000"), Server: netip.MustParseAddrPort("198.51.100.20:80"),
		ISN: [2]uint32{1000, 5000}, Options: [2]handshakeOptions{opts, opts},
		SYNToSYNACK: 512 * time.Microsecond, SYNACKToACK: 105 * time.Microsecond, HasSYNToSYNACK: true, HasSYNACKToACK: true,
		Initial: [2]ladderState{lst(fsm.Closed, ""), lst(fsm.Listen, "")},
		Rows: []ladderRow{
			lrow(1, 0, c2s, synF, 0, 0, 0, 64240, lst(fsm.SynSent, "c"), lst(fsm.SynReceived, "ci")),
			lrow(2, 0.512, s2c, synAckF, 0, 1, 0, 65160, lst(fsm.Established, "ci"), lst(fsm.SynReceived, "")),
			lrow(3, 0.617, c2s, ackF, 1, 1, 0, 64256, lst(fsm.Established, ""), lst(fsm.Established, "ci")),
			lrow(4, 1.2, c2s, pshF, 1, 1, 80, 64256, lst(fsm.Established, ""), lst(fsm.Established, "i")),
			lrow(5, 1.9, s2c, pshF, 1, 81, 300, 64128, lst(fsm.Established, ""), lst(fsm.Established, "")),
			lrow(6, 2.0, c2s, ackF, 81, 301, 0, 63956, lst(fsm.Established, ""), none),
			lrow(7, 7000, c2s, finF, 81, 301, 0, 63956, lst(fsm.FinWait1, "c"), lst(fsm.CloseWait, "ci")),
			lrow(8, 7000.4, s2c, finF, 301, 82, 0, 64128, lst(fsm.TimeWait, "ci", fsm.FinWait2, fsm.TimeWait), lst(fsm.LastAck, "c")),
			lrow(9, 7000.5, c2s, ackF, 82, 302, 0, 63956, lst(fsm.TimeWait, ""), lst(fsm.Closed, "ci")),
		},
		Final:  [2]ladderState{lst(fsm.TimeWait, ""), lst(fsm.Closed, "i")},
		Ending: "closed by client",
	}
}

// revisedView has a lost SYN: the server's SYN_RECEIVED after the first
// copy is revised when the client retransmits it.
func revisedView() *ladderView {
	v := &ladderView{
		ID: 2, Proto: "tcp",
		Client: netip.MustParseAddrPort("192.0.2.10:47002"), Server: netip.MustParseAddrPort("198.51.100.20:443"),
		Options:     [2]handshakeOptions{{Seen: true, MSS: 1460, WScale: -1}, {Seen: true, MSS: 1400, WScale: 9, FastOpen: true, FastOpenCookieLen: 8}},
		SYNToSYNACK: 1003250 * time.Microsecond, HasSYNToSYNACK: true,
		Initial: [2]ladderState{lst(fsm.Closed, ""), lst(fsm.Listen, "")},
		Rows: []ladderRow{
			lrow(10, 0, c2s, synF, 0, 0, 0, 64240, lst(fsm.SynSent, "c"), lst(fsm.SynReceived, "cir")),
			lrow(11, 1000, c2s, synF, 0, 0, 0, 64240, lst(fsm.SynSent, ""), lst(fsm.Listen, "cv"), "retransmission"),
			lrow(12, 1003.25, s2c, synAckF, 0, 1, 0, 65535, lst(fsm.Established, "ci"), lst(fsm.SynReceived, "c")),
			lrow(13, 1003.5, c2s, ackF, 1, 1, 0, 64240, lst(fsm.Established, ""), lst(fsm.Established, "ci")),
		},
		Final:  [2]ladderState{lst(fsm.Established, ""), lst(fsm.Established, "i")},
		Ending: "still open",
	}
	v.Rows[1].After[fsm.Server].Cause = "revised: SYN retransmitted unacknowledged, never received"
	return v
}

// pickupView was picked up mid-stream, roles guessed, and reset.
func pickupView() *ladderView {
	return &ladderView{
		ID: 3, Proto: "tcp",
		Client: netip.MustParseAddrPort("10.1.2.3:51515"), Server: netip.MustParseAddrPort("10.9.8.7:5432"),
		Notes: []string{
			"No SYN or SYN-ACK was captured: the connection was picked up mid-stream, both ends assumed ESTABLISHED.",
			"Roles are guessed: the well-known or lower port (5432) is taken as the server.",
		},
		ISN:     [2]uint32{123456789, 987654321},
		Options: [2]handshakeOptions{{WScale: -1}, {WScale: -1}},
		Initial: [2]ladderState{lst(fsm.Established, "i"), lst(fsm.Established, "i")},
		Rows: []ladderRow{
			lrow(500, 0, c2s, pshF, 0, 0, 1448, 501, lst(fsm.Established, "c"), lst(fsm.Established, "ci"), "previous segment not captured"),
			lrow(501, 0.2, s2c, ackF, 0, 1448, 0, 0, lst(fsm.Established, ""), lst(fsm.Established, "c"), "zero window"),
			lrow(502, 30000, s2c, rstF, 0, 1448, 0, 0, lst(fsm.Closed, "ci"), lst(fsm.Closed, "c")),
		},
		Final:  [2]ladderState{lst(fsm.Closed, "i"), lst(fsm.Closed, "")},
		Ending: "reset by server",
	}
}

// ipv6View has the longest addresses, absolute sequence numbers, large
// packet numbers and offsets, long tags, a simultaneous close, and TIME_WAIT
// running out after the last segment.
func ipv6View() *ladderView {
	v := &ladderView{
		ID: 123456, Proto: "tcp6",
		Client:   netip.MustParseAddrPort("[2001:db8:1234:5678:9abc:def0:1234:5678]:51000"),
		Server:   netip.MustParseAddrPort("[2001:db8:ffff:ffff:ffff:ffff:ffff:1]:443"),
		Absolute: true, ISN: [2]uint32{4294967000, 3000000000},
		Notes: []string{"Anomalies: SYN with a new ISN on an open connection; RST out of window, ignored; data after FIN [#1]."},
		Options: [2]handshakeOptions{
			{Seen: true, MSS: 1440, WScale: 14, SACKPermitted: true, Timestamps: true, FastOpen: true},
			{WScale: -1},
		},
		SYNACKToACK: 10 * time.Second, HasSYNACKToACK: true,
		Initial: [2]ladderState{lst(fsm.Closed, ""), lst(fsm.Listen, "")},
		Rows: []ladderRow{
			lrow(9876543, 0, c2s, synF|fsm.ECE|fsm.CWR, 4294967000, 0, 0, 4294967295, lst(fsm.SynSent, "c"), lst(fsm.SynReceived, "ci")),
			lrow(9876544, 3599999.999, s2c, synAckF|fsm.ECE, 3000000000, 4294967001, 0, 1073725440, lst(fsm.Established, "ci"), lst(fsm.SynReceived, "")),
			lrow(9876545, 3600000, c2s, fsm.FIN|fsm.PSH|fsm.ACK|fsm.URG, 4294967001, 3000000001, 65535, 1073725440,
				lst(fsm.FinWait1, "c"), lst(fsm.CloseWait, "cir", fsm.Established, fsm.CloseWait),
				"previous segment not captured", "SYN-ACK acknowledges an unexpected sequence number", "data after FIN"),
			lrow(9876546, 3600000.1, s2c, finF, 3000000001, 4294967001, 0, 1073725440, lst(fsm.Closing, "ci"), lst(fsm.FinWait1, "cv", fsm.Established, fsm.FinWait1)),
			lrow(9876547, 3600000.2, c2s, finF, 4294967001, 3000000002, 0, 1073725440, lst(fsm.Closing, ""), lst(fsm.TimeWait, "ci", fsm.FinWait1, fsm.Closing, fsm.TimeWait), "retransmission"),
			lrow(9876548, 3600000.3, s2c, ackF, 3000000002, 1, 0, 65535, lst(fsm.TimeWait, "ci"), lst(fsm.TimeWait, "")),
		},
		Final:  [2]ladderState{lst(fsm.Closed, "c"), lst(fsm.Closed, "c")},
		Ending: "closed by both (simultaneous close)",
	}
	v.Rows[3].After[fsm.Server].Cause = "revised: its own FIN does not acknowledge the peer's, which had not arrived"
	v.Final[fsm.Client].Cause = "2·MSL timer expired"
	v.Final[fsm.Server].Cause = "2·MSL timer expired"
	return v
}

func testLadderViews() map[string]*ladderView {
	return map[string]*ladderView{
		"handshake": handshakeView(), "revised": revisedView(), "pickup": pickupView(), "ipv6": ipv6View(),
	}
}

func renderText(t *testing.T, views []*ladderView, ascii, color bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := renderLadderText(&b, views, ascii, newPalette(color)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rowLine returns the line that draws the segment with packet number n.
func rowLine(t *testing.T, out string, n uint64, offset time.Duration) string {
	t.Helper()
	for l := range strings.Lines(stripANSI(out)) {
		f := strings.Fields(l)
		if len(f) > 2 && f[0] == strconv.FormatUint(n, 10) && f[1] == ladderSeconds(offset) {
			return l
		}
	}
	t.Fatalf("no line for packet %d in\n%s", n, out)
	return ""
}

func TestLadderTextFitsAndPlain(t *testing.T) {
	all := []*ladderView{handshakeView(), revisedView(), pickupView(), ipv6View()}
	for _, ascii := range []bool{false, true} {
		plain := renderText(t, all, ascii, false)
		colored := renderText(t, all, ascii, true)
		if strings.Contains(plain, "\x1b") {
			t.Errorf("ascii=%v: escape codes with colour off", ascii)
		}
		if !strings.Contains(colored, "\x1b[") {
			t.Errorf("ascii=%v: no colour with colour on", ascii)
		}
		if stripANSI(colored) != plain {
			t.Errorf("ascii=%v: colour changed the text:\n%s\nvs\n%s", ascii, stripANSI(colored), plain)
		}
		if again := renderText(t, all, ascii, false); again != plain {
			t.Errorf("ascii=%v: output is not deterministic", ascii)
		}
		for i, l := range strings.Split(strings.TrimSuffix(plain, "\n"), "\n") {
			if n := utf8.RuneCountInString(l); n > ladderWidth {
				t.Errorf("ascii=%v: line %d is %d columns:\n%s", ascii, i+1, n, l)
			}
			if l != strings.TrimRight(l, " ") {
				t.Errorf("ascii=%v: line %d has trailing spaces: %q", ascii, i+1, l)
			}
		}
		if ascii {
			for i := 0; i < len(plain); i++ {
				if c := plain[i]; c >= 0x80 || (c < 0x20 && c != '\n') {
					t.Fatalf("ascii output has byte %#x: %q", c, plain[max(0, i-20):min(len(plain), i+20)])
				}
			}
		}
	}
}

func TestLadderTextStates(t *testing.T) {
	for name, v := range testLadderViews() {
		for _, ascii := range []bool{false, true} {
			out := renderText(t, []*ladderView{v}, ascii, false)
			g := unicodeGlyphs
			if ascii {
				g = asciiGlyphs
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			// Every state appears on the row that changed it, with its marks.
			for _, r := range v.Rows {
				l := rowLine(t, out, r.Packet, r.Offset)
				for role, s := range r.After {
					if !s.Changed {
						continue
					}
					want := s.State.String()
					switch {
					case s.Revised:
						want = markRevised + want
					case s.Inferred:
						want += markInferred
					}
					if s.Revision {
						want += markRevision
					}
					if !strings.Contains(l, want) {
						t.Errorf("%s ascii=%v: packet %d: %s state %q missing:\n%s", name, ascii, r.Packet, fsm.Role(role), want, l)
					}
				}
				if !strings.Contains(l, ladderFlags(r.Flags)) {
					t.Errorf("%s: packet %d: flags %s missing:\n%s", name, r.Packet, ladderFlags(r.Flags), l)
				}
				arrow := g.headRight
				if r.From == fsm.Server {
					arrow = g.headLeft
				}
				if !strings.Contains(l, arrow) {
					t.Errorf("%s: packet %d: no %s arrow:\n%s", name, r.Packet, arrow, l)
				}
			}
			// Initial states head the lifelines; final states end them.
			var top, bottom string
			for _, l := range lines {
				if strings.Contains(l, " "+g.top) && top == "" {
					top = l
				}
				if strings.Contains(l, " "+g.bottom) {
					bottom = l
				}
			}
			for role := range 2 {
				if !strings.Contains(top, v.Initial[role].State.String()) {
					t.Errorf("%s: initial %s missing from %q", name, v.Initial[role].State, top)
				}
				if !strings.Contains(bottom, v.Final[role].State.String()) {
					t.Errorf("%s: final %s missing from %q", name, v.Final[role].State, bottom)
				}
			}
			if !strings.Contains(out, "ending: "+v.Ending) {
				t.Errorf("%s: no ending", name)
			}
			if !strings.Contains(out, "key: ") {
				t.Errorf("%s: no key", name)
			}
		}
	}
}

func TestLadderTextHeader(t *testing.T) {
	out := renderText(t, []*ladderView{handshakeView()}, false, false)
	for _, want := range []string{
		"Connection 1: client 192.0.2.10:47000 → server 198.51.100.20:80 (tcp)\n",
		"  client options: mss 1460, sackOK, TS, wscale 7\n",
		"  server options: mss 1460, sackOK, TS, wscale 7\n",
		"  handshake RTT: SYN→SYN-ACK 0.512 ms, SYN-ACK→ACK 0.105 ms, total 0.617 ms\n",
		"  seq and ack: relative (ISN client 1000, server 5000)\n",
		"FIN_WAIT_2→TIME_WAIT*",
		"win=64240",
		"len=80",
		"ending: closed by client\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	ascii := renderText(t, []*ladderView{handshakeView()}, true, false)
	if !strings.Contains(ascii, "Connection 1: client 192.0.2.10:47000 -> server 198.51.100.20:80 (tcp)\n") ||
		!strings.Contains(ascii, "SYN->SYN-ACK 0.512 ms") || !strings.Contains(ascii, "FIN_WAIT_2->TIME_WAIT*") {
		t.Errorf("ascii header or passage:\n%s", ascii)
	}

	// Revisions: marked, explained, and the lifeline dashed while the
	// revised state was shown.
	out = renderText(t, []*ladderView{revisedView()}, false, false)
	for _, want := range []string{"~SYN_RECEIVED~", "LISTEN!", "server: revised: SYN retransmitted", "retransmission", "┆", "mss 1400, wscale 9, TFO cookie 8", "SYN→SYN-ACK 1003.250 ms\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "SYN-ACK→ACK") || strings.Contains(out, "total") {
		t.Errorf("an RTT that is not known is shown:\n%s", out)
	}

	// No SYN: the notes, no options.
	out = renderText(t, []*ladderView{pickupView()}, false, false)
	for _, want := range []string{"picked up mid-stream", "Roles are guessed", "ESTABLISHED*", "previous segment not captured", "zero window", "CLOSED*"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "options:") {
		t.Errorf("options shown though no SYN was seen:\n%s", out)
	}

	// IPv6: the addresses whole in the header, and only there.
	v := ipv6View()
	out = renderText(t, []*ladderView{v}, false, false)
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "Connection 123456: client "+v.Client.String()) || !strings.Contains(lines[1], "→ server "+v.Server.String()+" (tcp6)") {
		t.Errorf("ipv6 header:\n%s\n%s", lines[0], lines[1])
	}
	if strings.Count(out, v.Client.String()) != 1 || strings.Count(out, v.Server.String()) != 1 {
		t.Errorf("ipv6 addresses repeated:\n%s", out)
	}
	for _, want := range []string{"seq and ack: absolute", "2·MSL timer expired", "ECE", "CLOSING→TIME_WAIT*", "FIN_WAIT_1!", "CLOSING*"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestLadderPassage(t *testing.T) {
	tests := []struct {
		path   []fsm.State
		before fsm.State
		want   []fsm.State
	}{
		{nil, fsm.FinWait1, nil},
		{[]fsm.State{fsm.TimeWait}, fsm.FinWait1, nil},
		{[]fsm.State{fsm.FinWait2, fsm.TimeWait}, fsm.FinWait1, []fsm.State{fsm.FinWait2, fsm.TimeWait}},
		// A path that starts with the state before the row: the lifeline
		// above shows that one already.
		{[]fsm.State{fsm.FinWait1, fsm.FinWait2, fsm.TimeWait}, fsm.FinWait1, []fsm.State{fsm.FinWait2, fsm.TimeWait}},
		{[]fsm.State{fsm.Established, fsm.FinWait1}, fsm.Established, nil},
	}
	for _, tt := range tests {
		got := ladderPassage(ladderState{Path: tt.path}, tt.before)
		if !slices.Equal(got, tt.want) {
			t.Errorf("ladderPassage(%v, %v) = %v, want %v", tt.path, tt.before, got, tt.want)
		}
	}
}

func TestLadderFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{ladderSeconds(0), "0.000000"},
		{ladderSeconds(512 * time.Microsecond), "0.000512"},
		{ladderSeconds(3723*time.Second + 5*time.Microsecond), "3723.000005"},
		{ladderSeconds(-1500 * time.Microsecond), "-0.001500"},
		{ladderMillis(617 * time.Microsecond), "0.617 ms"},
		{ladderMillis(1003250 * time.Microsecond), "1003.250 ms"},
		{ladderFlags(fsm.SYN), "SYN"},
		{ladderFlags(fsm.SYN | fsm.ACK), "SYN+ACK"},
		{ladderFlags(fsm.FIN | fsm.PSH | fsm.ACK), "FIN+PSH+ACK"},
		{ladderFlags(fsm.RST), "RST"},
		{ladderFlags(0), "none"},
		{strings.Join(wrapText("a bb ccc dddddddddd e", 6, 4), "|"), "a bb|ccc|dddd|dddd|dd e"},
		{strings.Join(wrapText("client: FIN_WAIT_1→FIN_WAIT_2→TIME_WAIT*", 30, 30), "|"), "client:|FIN_WAIT_1→FIN_WAIT_2→|TIME_WAIT*"},
		{asciiGlyphs.text("2·MSL → “x” é"), "2*MSL -> \"x\" ?"},
		{unicodeGlyphs.text("2·MSL"), "2·MSL"},
		{mermaidEscape("[2001:db8::1]:443"), "#91;2001#58;db8#58;#58;1#93;#58;443"},
		{mermaidEscape("a;b#c<d>e%%f\ng"), "a#59;b#35;c#60;d#62;e#37;#37;f g"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

var mermaidEntity = regexp.MustCompile(`#[0-9]+;`)

func TestLadderMermaid(t *testing.T) {
	views := []*ladderView{handshakeView(), revisedView(), pickupView(), ipv6View()}
	var b bytes.Buffer
	if err := renderLadderMermaid(&b, views); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "```mermaid\nsequenceDiagram\n") {
		t.Fatalf("does not start with a mermaid fence:\n%s", out)
	}
	blocks := strings.Split(strings.TrimSuffix(out, "```\n"), "```\n\n")
	if len(blocks) != len(views) {
		t.Fatalf("%d blocks for %d views:\n%s", len(blocks), len(views), out)
	}
	message := regexp.MustCompile(`^    ([CS])->>([CS]): `)
	for i, blk := range blocks {
		v := views[i]
		lines := strings.Split(strings.TrimSuffix(blk, "\n"), "\n")
		if lines[0] != "```mermaid" || lines[1] != "sequenceDiagram" {
			t.Errorf("view %d: block starts %q", v.ID, lines[:2])
		}
		var msgs, notes int
		for _, l := range lines[2:] {
			if !strings.HasPrefix(l, "    ") {
				t.Errorf("view %d: line not indented: %q", v.ID, l)
			}
			if m := message.FindStringSubmatch(l); m != nil {
				if m[1] != mermaidParticipant[v.Rows[msgs].From] || m[2] == m[1] {
					t.Errorf("view %d: message %d goes %s to %s", v.ID, msgs, m[1], m[2])
				}
				if !strings.Contains(l, "pkt "+strconv.FormatUint(v.Rows[msgs].Packet, 10)+" ") {
					t.Errorf("view %d: message %d lacks its packet number: %q", v.ID, msgs, l)
				}
				msgs++
			}
			if strings.HasPrefix(l, "    Note over C: ") || strings.HasPrefix(l, "    Note over S: ") {
				notes++
			}
			// Nothing that ends a Mermaid text or opens HTML, outside the
			// entity codes and the line breaks this renderer writes.
			rest := mermaidEntity.ReplaceAllString(strings.ReplaceAll(l, mermaidBreak, ""), "")
			if strings.ContainsAny(rest, "#;[]<{}\"%`") {
				t.Errorf("view %d: unescaped character in %q", v.ID, l)
			}
			if strings.HasPrefix(l, "    participant ") || strings.HasPrefix(l, "    Note ") || message.MatchString(l) {
				if _, text, _ := strings.Cut(l, ": "); strings.Contains(text, ":") && !strings.HasPrefix(l, "    participant") {
					t.Errorf("view %d: raw colon in a text: %q", v.ID, l)
				}
			}
		}
		if msgs != len(v.Rows) {
			t.Errorf("view %d: %d messages for %d rows", v.ID, msgs, len(v.Rows))
		}
		changes := 2 // the initial states
		for _, r := range v.Rows {
			for _, s := range r.After {
				if s.Changed || s.Revision {
					changes++
				}
			}
		}
		if notes != changes {
			t.Errorf("view %d: %d state notes for %d changes", v.ID, notes, changes)
		}
		participants := "    participant C as client " + mermaidEscape(v.Client.String()) + "\n    participant S as server " + mermaidEscape(v.Server.String()) + "\n"
		if !strings.Contains(blk, participants) {
			t.Errorf("view %d: participants not\n%s", v.ID, participants)
		}
	}
	for _, want := range []string{
		"    C->>S: SYN seq=0 len=0 win=64240<br/>pkt 1 at 0.000000 s\n",
		"    Note over S: SYN_RECEIVED (inferred)\n",
		"    Note over C: FIN_WAIT_2 → TIME_WAIT (inferred)\n",
		"    Note over S: SYN_RECEIVED (revised, never held)\n",
		"    Note over S: LISTEN (revision)<br/>revised#58; SYN retransmitted unacknowledged, never received\n",
		"pkt 11 at 1.000000 s, retransmission\n",
		"participant C as client #91;2001#58;db8#58;1234#58;5678#58;9abc#58;def0#58;1234#58;5678#93;#58;51000\n",
		"client 2·MSL timer expired<br/>",
		"at the end client TIME_WAIT, server CLOSED (inferred)<br/>closed by client\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
