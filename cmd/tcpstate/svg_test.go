package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/cmd/internal/browser"
	"github.com/tcpstate/tcpstate/fsm"
)

var svgScreenshots = flag.String("screenshots", "", "keep the SVGs and Chromium screenshots of TestSVGRendersInChromium in `DIR` (or set TCPSTATE_SCREENSHOTS=DIR)")

// svgCloseView is a connection that opens, exchanges data and is closed by
// the client, whose first FIN is lost: the server's CLOSE_WAIT inferred
// from it is revised when the FIN is retransmitted.
func svgCloseView() *ladderView {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	st := func(s fsm.State, inferred bool, cause string) ladderState {
		return ladderState{State: s, Changed: true, Inferred: inferred, Cause: cause}
	}
	same := func(s fsm.State) ladderState { return ladderState{State: s} }
	c, s := fsm.Client, fsm.Server
	v := &ladderView{
		ID: 1, Proto: "tcp",
		Client: netip.MustParseAddrPort("192.0.2.10:47000"),
		Server: netip.MustParseAddrPort("198.51.100.20:80"),
		Start:  time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC),
		ISN:    [2]uint32{1000, 5000},
		Options: [2]handshakeOptions{
			{Seen: true, MSS: 1460, WScale: 7, SACKPermitted: true, Timestamps: true},
			{Seen: true, MSS: 1400, WScale: -1},
		},
		SYNToSYNACK: ms(0.412), HasSYNToSYNACK: true,
		SYNACKToACK: ms(0.038), HasSYNACKToACK: true,
		Initial: [2]ladderState{same(fsm.Closed), same(fsm.Listen)},
		Ending:  "closed by client",
	}
	row := func(off time.Duration, pkt uint64, from fsm.Role, flags fsm.Flags, seq, ack, win uint32, after [2]ladderState, tags ...string) {
		v.Rows = append(v.Rows, ladderRow{Offset: off, Packet: pkt, From: from, Flags: flags, Seq: seq, Ack: ack, Window: win, Tags: tags, After: after})
	}
	lostFIN := st(fsm.CloseWait, true, "received FIN")
	lostFIN.Revised = true
	back := st(fsm.Established, false, "revised: FIN retransmitted unacknowledged, never received")
	back.Revision = true
	fw2tw := st(fsm.TimeWait, true, "received FIN")
	row(0, 1, c, fsm.SYN, 0, 0, 64240, [2]ladderState{st(fsm.SynSent, false, "sent SYN (active open)"), st(fsm.SynReceived, true, "received SYN")})
	row(ms(0.412), 2, s, fsm.SYN|fsm.ACK, 0, 1, 65160, [2]ladderState{st(fsm.Established, true, "received SYN-ACK"), same(fsm.SynReceived)})
	row(ms(0.450), 3, c, fsm.ACK, 1, 1, 502, [2]ladderState{same(fsm.Established), st(fsm.Established, true, "received ACK of its SYN")})
	row(ms(1.2), 4, c, fsm.PSH|fsm.ACK, 1, 1, 502, [2]ladderState{same(fsm.Established), same(fsm.Established)})
	v.Rows[3].Len = 80
	row(ms(201.5), 5, s, fsm.PSH|fsm.ACK, 1, 81, 509, [2]ladderState{same(fsm.Established), same(fsm.Established)})
	v.Rows[4].Len = 300
	row(ms(210), 6, c, fsm.FIN|fsm.ACK, 81, 301, 501, [2]ladderState{st(fsm.FinWait1, false, "sent FIN (close)"), lostFIN})
	row(ms(420), 7, c, fsm.FIN|fsm.ACK, 81, 301, 501, [2]ladderState{same(fsm.FinWait1), back}, "retransmission")
	row(ms(420.4), 8, s, fsm.ACK, 301, 82, 509, [2]ladderState{st(fsm.FinWait2, true, "received ACK of its FIN"), st(fsm.CloseWait, false, "acknowledged peer's FIN")})
	row(ms(502), 9, s, fsm.FIN|fsm.ACK, 301, 82, 509, [2]ladderState{fw2tw, st(fsm.LastAck, false, "sent FIN (close)")})
	row(ms(502.3), 10, c, fsm.ACK, 82, 302, 501, [2]ladderState{same(fsm.TimeWait), st(fsm.Closed, true, "received ACK of its FIN")})
	v.Final = [2]ladderState{st(fsm.Closed, false, "2·MSL timer expired"), same(fsm.Closed)}
	v.Final[s].Inferred = true
	return v
}

// svgPickupView is an IPv6 connection picked up mid-stream, with tags, raw
// sequence numbers, a FIN that acknowledges the client's FIN (two
// transitions on one row) and notes that need escaping.
func svgPickupView() *ladderView {
	st := func(s fsm.State, inferred bool, cause string) ladderState {
		return ladderState{State: s, Changed: true, Inferred: inferred, Cause: cause}
	}
	same := func(s fsm.State) ladderState { return ladderState{State: s} }
	c, s := fsm.Client, fsm.Server
	est := ladderState{State: fsm.Established, Inferred: true, Cause: "capture began mid-connection"}
	v := &ladderView{
		ID: 2, Proto: "tcp6",
		Client:   netip.MustParseAddrPort("[2001:db8::10]:50123"),
		Server:   netip.MustParseAddrPort("[2001:db8::20]:443"),
		Start:    time.Date(2026, 1, 15, 10, 0, 9, 0, time.UTC),
		Absolute: true,
		Options:  [2]handshakeOptions{{WScale: -1}, {WScale: -1}},
		Notes: []string{
			"No SYN or SYN-ACK was captured: the connection was picked up mid-stream, both ends assumed ESTABLISHED.",
			`Roles are guessed: the well-known or lower port (443) is taken as the server <"a" & 'b'>.`,
			"Anomalies: " + strings.Repeat("RST in window but not at RCV.NXT, challenge ACK expected; ", 4) + "data after FIN.",
		},
		Initial: [2]ladderState{est, est},
		Ending:  "closed by client",
	}
	var base, peer uint32 = 4294967000, 123456789 // base wraps past 2^32
	path := st(fsm.TimeWait, true, "received FIN")
	path.Path = []fsm.State{fsm.FinWait2, fsm.TimeWait}
	v.Rows = []ladderRow{
		{Offset: 0, Packet: 17, From: c, Flags: fsm.PSH | fsm.ACK, Seq: base, Ack: peer, Len: 512, Window: 2048,
			Tags: []string{"previous segment not captured"}, After: [2]ladderState{same(fsm.Established), same(fsm.Established)}},
		{Offset: 310 * time.Microsecond, Packet: 18, From: s, Flags: fsm.ACK, Seq: peer, Ack: base + 512, Window: 0,
			Tags: []string{"zero window", "dup ACK"}, After: [2]ladderState{same(fsm.Established), same(fsm.Established)}},
		{Offset: 1500 * time.Millisecond, Packet: 19, From: c, Flags: fsm.FIN | fsm.ACK, Seq: base + 512, Ack: peer, Window: 2048,
			After: [2]ladderState{st(fsm.FinWait1, false, "sent FIN (close)"), st(fsm.CloseWait, true, "received FIN")}},
		{Offset: 1501 * time.Millisecond, Packet: 20, From: s, Flags: fsm.FIN | fsm.ACK, Seq: peer, Ack: base + 513, Window: 4096,
			After: [2]ladderState{path, st(fsm.LastAck, false, "sent FIN (close)")}},
		{Offset: 1502 * time.Millisecond, Packet: 21, From: c, Flags: fsm.ACK, Seq: base + 513, Ack: peer + 1, Window: 2048,
			After: [2]ladderState{same(fsm.TimeWait), st(fsm.Closed, true, "received ACK of its FIN")}},
	}
	v.Final = [2]ladderState{{State: fsm.TimeWait, Inferred: true}, {State: fsm.Closed, Inferred: true}}
	return v
}

// svgCloseModel is the diagram of a normal connection closed by the
// client, with a reset connection and a mid-stream pickup beside it.
func svgCloseModel() *diagramModel {
	m := &diagramModel{Title: `a&b<c>.pcap: 3 connections`}
	c, s := fsm.Client, fsm.Server
	for _, t := range []struct {
		r        fsm.Role
		from, to fsm.State
	}{
		{c, fsm.Closed, fsm.SynSent}, {c, fsm.SynSent, fsm.Established}, {c, fsm.Established, fsm.FinWait1},
		{c, fsm.FinWait1, fsm.FinWait2}, {c, fsm.FinWait2, fsm.TimeWait}, {c, fsm.TimeWait, fsm.Closed},
		{s, fsm.Listen, fsm.SynReceived}, {s, fsm.SynReceived, fsm.Established}, {s, fsm.Established, fsm.CloseWait},
		{s, fsm.CloseWait, fsm.LastAck}, {s, fsm.LastAck, fsm.Closed},
		// A second connection, reset by the server.
		{c, fsm.Closed, fsm.SynSent}, {c, fsm.SynSent, fsm.Established}, {s, fsm.Listen, fsm.SynReceived},
		{s, fsm.SynReceived, fsm.Established}, {s, fsm.Established, fsm.Closed}, {c, fsm.Established, fsm.Closed},
		// A third, picked up mid-stream.
		{c, fsm.Closed, fsm.Established}, {s, fsm.Closed, fsm.Established},
	} {
		m.add(t.r, t.from, t.to)
	}
	return m
}

// svgFullModel has every edge of the figure taken by both roles, with wide
// counts: the most crowded picture.
func svgFullModel() *diagramModel {
	m := &diagramModel{Title: "every-edge.pcap: 999 connections"}
	m.Counts = make(map[diagramEdge]*[2]int)
	for _, e := range stateDiagramLayout(nil).edges {
		m.Counts[diagramEdge{e.from, e.to}] = &[2]int{123, 4567}
	}
	m.Counts[diagramEdge{fsm.SynReceived, fsm.CloseWait}] = &[2]int{0, 1}
	m.Counts[diagramEdge{fsm.Closed, fsm.Established}] = &[2]int{10, 10}
	return m
}

// svgShape is what the tests read back from an SVG document.
type svgShape struct {
	width, height float64
	text          string       // all character data, elements apart by newlines
	boxes         []svgTextBox // every <text>, with its estimated extent
	segments      [][4]float64 // every <line> and <polyline> segment
}

type svgTextBox struct {
	text string
	r    dgRect
}

// parseSVG decodes every token of doc with encoding/xml, checks that the
// root is an <svg> element with width, height and viewBox, and estimates
// where every text is drawn (the monospace advance the renderers assume).
func parseSVG(t *testing.T, doc []byte) *svgShape {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	sh := &svgShape{}
	var (
		text     strings.Builder
		offsets  = [][2]float64{{0, 0}}
		inText   int
		cur      svgTextBox
		curSize  float64
		curX     float64
		curY     float64
		curAnch  string
		sawRoot  bool
		elements int
	)
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	f := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad number %q: %v", s, err)
		}
		return v
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			elements++
			if !sawRoot {
				sawRoot = true
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element is %v, want svg in the SVG namespace", tok.Name)
				}
				for _, a := range []string{"width", "height", "viewBox"} {
					if attr(tok, a) == "" {
						t.Fatalf("root <svg> has no %s", a)
					}
				}
				sh.width, sh.height = f(attr(tok, "width")), f(attr(tok, "height"))
				if vb := strings.Fields(attr(tok, "viewBox")); len(vb) != 4 || f(vb[2]) != sh.width || f(vb[3]) != sh.height {
					t.Fatalf("viewBox %q does not match width %v and height %v", attr(tok, "viewBox"), sh.width, sh.height)
				}
			}
			off := offsets[len(offsets)-1]
			switch tok.Name.Local {
			case "g":
				o := off
				if tr := attr(tok, "transform"); tr != "" {
					var dx, dy float64
					if _, err := fmt.Sscanf(tr, "translate(%g %g)", &dx, &dy); err != nil {
						t.Fatalf("transform %q: %v", tr, err)
					}
					o = [2]float64{off[0] + dx, off[1] + dy}
				}
				offsets = append(offsets, o)
			case "text":
				inText++
				cur = svgTextBox{}
				curSize = f(attr(tok, "font-size"))
				curX, curY = f(attr(tok, "x"))+off[0], f(attr(tok, "y"))+off[1]
				curAnch = attr(tok, "text-anchor")
			case "line":
				sh.segments = append(sh.segments, [4]float64{
					f(attr(tok, "x1")) + off[0], f(attr(tok, "y1")) + off[1], f(attr(tok, "x2")) + off[0], f(attr(tok, "y2")) + off[1]})
			case "polyline":
				var prev []float64
				for _, p := range strings.Fields(attr(tok, "points")) {
					xy := strings.Split(p, ",")
					pt := []float64{f(xy[0]) + off[0], f(xy[1]) + off[1]}
					if prev != nil {
						sh.segments = append(sh.segments, [4]float64{prev[0], prev[1], pt[0], pt[1]})
					}
					prev = pt
				}
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "g":
				offsets = offsets[:len(offsets)-1]
			case "text":
				inText--
				w := float64(len([]rune(cur.text))) * curSize * 0.602
				x := curX
				switch curAnch {
				case "middle":
					x -= w / 2
				case "end":
					x -= w
				}
				cur.r = dgRect{x, curY - 0.76*curSize, w, curSize}
				sh.boxes = append(sh.boxes, cur)
			}
			if tok.Name.Local != "tspan" {
				text.WriteByte('\n')
			}
		case xml.CharData:
			text.Write(tok)
			if inText > 0 {
				cur.text += string(tok)
			}
		}
	}
	if !sawRoot {
		t.Fatal("no root element")
	}
	sh.text = text.String()
	return sh
}

// checkLayout fails when two texts overlap, a line crosses a text, or a
// text leaves the picture.
func checkLayout(t *testing.T, sh *svgShape) {
	t.Helper()
	inset := func(r dgRect, d float64) dgRect { return dgRect{r.x + d, r.y + d, r.w - 2*d, r.h - 2*d} }
	problems := 0
	report := func(format string, args ...any) {
		t.Helper()
		if problems++; problems <= 20 {
			t.Errorf(format, args...)
		}
	}
	for i, a := range sh.boxes {
		if a.r.x < 0 || a.r.y < 0 || a.r.x+a.r.w > sh.width || a.r.y+a.r.h > sh.height {
			report("text %q at %+v leaves the %v×%v picture", a.text, a.r, sh.width, sh.height)
		}
		for _, b := range sh.boxes[i+1:] {
			if inset(a.r, 0.5).overlaps(inset(b.r, 0.5)) {
				report("texts overlap: %q at %+v and %q at %+v", a.text, a.r, b.text, b.r)
			}
		}
		for _, s := range sh.segments {
			if segmentCrosses(s, inset(a.r, 1)) {
				report("line %v crosses text %q at %+v", s, a.text, a.r)
			}
		}
	}
}

// segmentCrosses reports whether the segment s touches the rectangle r
// (Liang–Barsky clipping).
func segmentCrosses(s [4]float64, r dgRect) bool {
	x0, y0, dx, dy := s[0], s[1], s[2]-s[0], s[3]-s[1]
	t0, t1 := 0.0, 1.0
	for _, c := range [][2]float64{{-dx, x0 - r.x}, {dx, r.x + r.w - x0}, {-dy, y0 - r.y}, {dy, r.y + r.h - y0}} {
		p, q := c[0], c[1]
		if p == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		u := q / p
		if p < 0 {
			t0 = math.Max(t0, u)
		} else {
			t1 = math.Min(t1, u)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

func renderTwice(t *testing.T, render func(w io.Writer) error) []byte {
	t.Helper()
	var a, b bytes.Buffer
	if err := render(&a); err != nil {
		t.Fatal(err)
	}
	if err := render(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renderings of the same input differ")
	}
	return a.Bytes()
}

func TestLadderSVG(t *testing.T) {
	tests := []struct {
		name     string
		views    []*ladderView
		want     []string
		not      []string
		maxWidth float64 // when set, the picture is no wider
	}{
		{
			name:  "close with a lost FIN",
			views: []*ladderView{svgCloseView()},
			want: []string{
				"Connection 1: client 192.0.2.10:47000 → server 198.51.100.20:80",
				"client options: mss 1460, sackOK, TS, wscale 7", "server options: mss 1400",
				"SYN → SYN-ACK 412µs", "SYN-ACK → ACK 38µs",
				"relative to each side's ISN (client 1000, server 5000)",
				"SYN seq=0 win=64240 len=0", "SYN+ACK seq=0 ack=1 win=65160 len=0", "PSH+ACK seq=1 ack=1 win=502 len=80",
				"#1", "#10", "0.000000", "0.201500",
				"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED*", "ESTABLISHED*", "FIN_WAIT_1", "FIN_WAIT_2*", "TIME_WAIT*", "LAST_ACK", "CLOSED*",
				"CLOSE_WAIT* (revised)", "revised: FIN retransmitted", "retransmission", "2·MSL timer expired",
				"ending: closed by client",
			},
		},
		{
			name:  "IPv6 pickup with raw sequence numbers",
			views: []*ladderView{svgPickupView()},
			want: []string{
				"client [2001:db8::10]:50123 → server [2001:db8::20]:443",
				`<"a" & 'b'>`, "client options: none captured (no SYN or SYN-ACK from it)",
				"absolute sequence numbers", "seq=4294967000 ack=123456789", "win=0",
				"previous segment not captured", "zero window", "dup ACK",
				"FIN_WAIT_2 → TIME_WAIT*", "capture began mid-connection",
			},
			not:      []string{"handshake RTT"},
			maxWidth: 1000, // the long note is wrapped
		},
		{
			name:  "two connections stacked",
			views: []*ladderView{svgCloseView(), svgPickupView()},
			want:  []string{"Connection 1:", "Connection 2:"},
		},
		{
			name:  "a connection without segments",
			views: []*ladderView{{ID: 3, Client: netip.MustParseAddrPort("10.0.0.1:1"), Server: netip.MustParseAddrPort("10.0.0.2:2"), Initial: [2]ladderState{{State: fsm.Closed}, {State: fsm.Listen}}, Final: [2]ladderState{{State: fsm.Closed}, {State: fsm.Listen}}}},
			want:  []string{"Connection 3:", "CLOSED", "LISTEN"},
		},
		{name: "nothing", want: []string{"no connections"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := renderTwice(t, func(w io.Writer) error { return renderLadderSVG(w, tt.views) })
			sh := parseSVG(t, doc)
			for _, s := range tt.want {
				if !strings.Contains(sh.text, s) {
					t.Errorf("no %q in the picture's text", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(sh.text, s) {
					t.Errorf("%q in the picture's text", s)
				}
			}
			checkLayout(t, sh)
			if tt.maxWidth > 0 && sh.width > tt.maxWidth {
				t.Errorf("picture is %v wide, want at most %v", sh.width, tt.maxWidth)
			}
			if bytes.Contains(doc, []byte("<script")) || bytes.Contains(doc, []byte("@import")) || bytes.Contains(doc, []byte("href")) {
				t.Error("the picture refers to something outside itself")
			}
		})
	}
}

func TestStateDiagramSVG(t *testing.T) {
	rfcStates := []string{"CLOSED", "LISTEN", "SYN_RECEIVED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"}
	rfcLabels := []string{
		"LISTEN → SYN_RECEIVED: rcv SYN / snd SYN,ACK", "SYN_SENT → SYN_RECEIVED: rcv SYN / snd SYN,ACK",
		"CLOSED → SYN_SENT: active OPEN / create TCB, snd SYN", "SYN_SENT → ESTABLISHED: rcv SYN,ACK / snd ACK",
		"SYN_RECEIVED → LISTEN: rcv RST (note 1)", "TIME_WAIT → CLOSED: Timeout=2MSL / delete TCB",
		"FIN_WAIT_1 → CLOSING: rcv FIN / snd ACK", "CLOSE_WAIT → LAST_ACK: CLOSE / snd FIN",
	}
	tests := []struct {
		name string
		m    *diagramModel
		want []string
		not  []string
	}{
		{
			name: "empty",
			m:    &diagramModel{Title: "empty.pcap: 0 connections"},
			want: []string{"empty.pcap: 0 connections", "no transitions were taken"},
			not:  []string{"×", "Other transitions"},
		},
		{
			name: "client close, a reset and a pickup",
			m:    svgCloseModel(),
			want: []string{
				"a&b<c>.pcap: 3 connections",
				"client ×2", "client ×1", "server ×2", "server ×1",
				"Other transitions (not edges of the RFC figure)",
				"ESTABLISHED → CLOSED", "CLOSED → ESTABLISHED",
			},
		},
		{
			name: "every edge by both",
			m:    svgFullModel(),
			want: []string{"client ×123", "server ×4567", "SYN_RECEIVED → CLOSE_WAIT"},
		},
		{name: "nil model", want: []string{"TCP connection states"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := renderTwice(t, func(w io.Writer) error { return renderStateDiagram(w, tt.m) })
			sh := parseSVG(t, doc)
			for _, s := range append(append(append([]string{}, rfcStates...), rfcLabels...), tt.want...) {
				if !strings.Contains(sh.text, s) {
					t.Errorf("no %q in the picture's text", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(sh.text, s) {
					t.Errorf("%q in the picture's text", s)
				}
			}
			// Two CLOSED boxes, as in the RFC.
			if n := strings.Count(sh.text, "\nCLOSED\n"); n != 2 {
				t.Errorf("%d CLOSED boxes, want 2", n)
			}
			checkLayout(t, sh)
		})
	}
}

// TestStateDiagramCounts checks where each count goes: on the figure's
// edge for the same pair of states, else in the other transitions.
func TestStateDiagramCounts(t *testing.T) {
	l := stateDiagramLayout(svgCloseModel())
	got := map[string][2]int{}
	for _, e := range l.edges {
		if e.count != [2]int{} {
			got[dgTransition(e.from, e.to)] = e.count
		}
	}
	want := map[string][2]int{
		"CLOSED → SYN_SENT": {2, 0}, "SYN_SENT → ESTABLISHED": {2, 0}, "ESTABLISHED → FIN_WAIT_1": {1, 0},
		"FIN_WAIT_1 → FIN_WAIT_2": {1, 0}, "FIN_WAIT_2 → TIME_WAIT": {1, 0}, "TIME_WAIT → CLOSED": {1, 0},
		"LISTEN → SYN_RECEIVED": {0, 2}, "SYN_RECEIVED → ESTABLISHED": {0, 2}, "ESTABLISHED → CLOSE_WAIT": {0, 1},
		"CLOSE_WAIT → LAST_ACK": {0, 1}, "LAST_ACK → CLOSED": {0, 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("edge counts\n got %v\nwant %v", got, want)
	}
	var other []string
	for _, o := range l.other {
		other = append(other, fmt.Sprintf("%s %v", dgTransition(o.from, o.to), o.count))
	}
	if g, w := strings.Join(other, "; "), "CLOSED → ESTABLISHED [1 1]; ESTABLISHED → CLOSED [1 1]"; g != w {
		t.Errorf("other transitions %q, want %q (sorted by state)", g, w)
	}
	if len(l.edges) != 20 {
		t.Errorf("%d edges, want the 20 of RFC 9293 Figure 5", len(l.edges))
	}
	seen := map[diagramEdge]bool{}
	for _, e := range l.edges {
		k := diagramEdge{e.from, e.to}
		if seen[k] {
			t.Errorf("edge %s twice", dgTransition(e.from, e.to))
		}
		seen[k] = true
	}
}

// TestSVGRendersInChromium draws a ladder and two state diagrams in a
// headless Chromium and checks that the screenshots show a picture: not a
// blank page, with dark text and lines and the roles' colours. With
// -screenshots DIR (or TCPSTATE_SCREENSHOTS=DIR) the SVGs and PNGs are kept.
func TestSVGRendersInChromium(t *testing.T) {
	if _, err := browser.Find(); errors.Is(err, browser.ErrNotFound) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: CI installs chromium, so this is a failure, not a skip)", err)
		}
		t.Skipf("%v; skipping the browser rendering test", err)
	}
	keep := *svgScreenshots
	if keep == "" {
		keep = os.Getenv("TCPSTATE_SCREENSHOTS")
	}
	if keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pictures := []struct {
		name   string
		render func(w io.Writer) error
		colors []string // that must show
	}{
		{"ladder", func(w io.Writer) error { return renderLadderSVG(w, []*ladderView{svgCloseView(), svgPickupView()}) }, svgRoleColor[:]},
		{"diagram", func(w io.Writer) error { return renderStateDiagram(w, svgCloseModel()) }, svgRoleColor[:]},
		{"diagram-full", func(w io.Writer) error { return renderStateDiagram(w, svgFullModel()) }, svgRoleColor[:]},
	}
	dir := t.TempDir()
	for _, p := range pictures {
		t.Run(p.name, func(t *testing.T) {
			var doc bytes.Buffer
			if err := p.render(&doc); err != nil {
				t.Fatal(err)
			}
			sh := parseSVG(t, doc.Bytes())
			svg := filepath.Join(dir, p.name+".svg")
			shot := filepath.Join(dir, p.name+".png")
			if err := os.WriteFile(svg, doc.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			w, h := int(math.Ceil(sh.width)), int(math.Ceil(sh.height))
			if err := browser.Screenshot(ctx, svg, shot, w, h); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(shot)
			if err != nil {
				t.Fatal(err)
			}
			if keep != "" {
				for name, b := range map[string][]byte{p.name + ".svg": doc.Bytes(), p.name + ".png": data} {
					if err := os.WriteFile(filepath.Join(keep, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				t.Logf("kept %s", filepath.Join(keep, p.name+".png"))
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			checkScreenshot(t, img, w, h, p.colors)
		})
	}
}

// checkScreenshot checks that img, a w × h picture on a white background,
// is not blank: a fair share of its pixels are drawn, some of them dark
// (text and lines), and each of colors shows.
func checkScreenshot(t *testing.T, img image.Image, w, h int, colors []string) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot is %d×%d, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
	rgb := func(x, y int) [3]int {
		r, g, bl, _ := img.At(x, y).RGBA()
		return [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
	}
	bg := rgb(b.Min.X, b.Min.Y)
	if bg != [3]int{255, 255, 255} {
		t.Errorf("background is %v, want white", bg)
	}
	want := make([][3]int, len(colors))
	for i, c := range colors {
		v, err := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = [3]int{int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff)}
	}
	near := func(a, b [3]int, d int) bool {
		return svgAbs(a[0]-b[0]) <= d && svgAbs(a[1]-b[1]) <= d && svgAbs(a[2]-b[2]) <= d
	}
	var drawn, dark int
	found := make([]int, len(colors))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := rgb(x, y)
			if !near(p, bg, 24) {
				drawn++
			}
			if p[0]+p[1]+p[2] < 3*90 {
				dark++
			}
			for i, c := range want {
				if near(p, c, 20) {
					found[i]++
				}
			}
		}
	}
	total := b.Dx() * b.Dy()
	t.Logf("%d×%d: %.1f%% drawn, %d dark pixels, role colours %v", b.Dx(), b.Dy(), 100*float64(drawn)/float64(total), dark, found)
	if drawn < total/50 {
		t.Errorf("only %d of %d pixels differ from the background: the picture is (nearly) blank", drawn, total)
	}
	if dark < 2000 {
		t.Errorf("only %d dark pixels: no text or lines were drawn", dark)
	}
	for i, n := range found {
		if n < 100 {
			t.Errorf("colour %s shows on %d pixels only", colors[i], n)
		}
	}
}

func svgAbs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestSVGSamples draws every sample capture with ladder --format svg and
// diagram, and checks that each picture is well-formed and that no texts
// overlap and no line crosses a text.
func TestSVGSamples(t *testing.T) {
	for _, file := range samples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			for _, args := range [][]string{{"ladder", "--format", "svg"}, {"diagram"}} {
				out, errOut, code := runCLI(t, append(args, "-q", "-r", file)...)
				if code != exitOK {
					t.Fatalf("%v: exit %d: %s", args, code, errOut)
				}
				sh := parseSVG(t, []byte(out))
				if len(sh.boxes) > 3000 {
					continue // a flood of connections: well-formed is enough
				}
				checkLayout(t, sh)
			}
		})
	}
}
