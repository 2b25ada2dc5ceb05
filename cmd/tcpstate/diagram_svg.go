package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tcpstate/tcpstate/fsm"
)

// Diagram geometry, in pixels.
const (
	dgPad       = 24.0
	dgStateSize = 13.0 // state names
	dgLabelSize = 11.0 // edge labels and counts
	dgNoteSize  = 10.5
	dgTitleSize = 16.0
	dgLine      = 13.0 // line height of edge labels
	dgBoxW      = 150.0
	dgBoxH      = 44.0
	dgSynBoxH   = 100.0 // SYN_RECEIVED and SYN_SENT have three edges on each side
	dgThin      = 1.4   // an edge not taken
	dgThick     = 3.5   // an edge taken
	dgNotTaken  = "#9aa0a6"
	dgBothHead  = "#3c4043"
)

// dgPoint is a point of the figure.
type dgPoint struct{ x, y float64 }

// dgRect is an axis-aligned rectangle: a state's box or a label's extent.
type dgRect struct{ x, y, w, h float64 }

func (r dgRect) overlaps(o dgRect) bool {
	return r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h
}

// dgNode is a state's box. The figure has two CLOSED boxes, as the RFC's.
type dgNode struct {
	state  fsm.State
	cx, cy float64
	h      float64
}

func (n dgNode) rect() dgRect {
	return dgRect{n.cx - dgBoxW/2, n.cy - n.h/2, dgBoxW, n.h}
}
func (n dgNode) top(dx float64) dgPoint    { return dgPoint{n.cx + dx, n.cy - n.h/2} }
func (n dgNode) bottom(dx float64) dgPoint { return dgPoint{n.cx + dx, n.cy + n.h/2} }
func (n dgNode) left(dy float64) dgPoint   { return dgPoint{n.cx - dgBoxW/2, n.cy + dy} }
func (n dgNode) right(dy float64) dgPoint  { return dgPoint{n.cx + dgBoxW/2, n.cy + dy} }

// How a label sits at its anchor point: above or below a horizontal
// segment, centred beside a vertical one, or straddling a horizontal one
// (the event above the line, the action below, as the RFC writes them).
const (
	dgAbove = iota
	dgBelow
	dgCentre
	dgStraddle
)

// dgEdge is one edge of RFC 9293's Figure 5, with its label and route.
type dgEdge struct {
	from, to      fsm.State
	event, action string // the RFC's label: event over action ("x": none)
	route         []dgPoint
	at            dgPoint // where the label goes
	anchor        string  // start, middle or end: the label's side of at
	valign        int
	count         [2]int    // times taken by client and server
	label         dgRect    // the label's extent, once laid out
	lines         []dgLabel // the label's lines, once laid out
}

// dgLabel is one line of an edge label.
type dgLabel struct {
	text string
	y    float64 // baseline
	fill string
	bold bool
	rule bool // a fraction bar under the event instead of text
}

// rfcLabel is the edge's label on one line: "rcv SYN / snd SYN,ACK".
func (e *dgEdge) rfcLabel() string {
	if e.action == "" {
		return e.event
	}
	return e.event + " / " + e.action
}

// dgLayout is the whole figure, before drawing.
type dgLayout struct {
	nodes []dgNode
	edges []*dgEdge
	other []dgOther // counted transitions that are not edges of the figure
	// visited are the states some counted transition entered or left.
	visited [fsm.TimeWait + 1]bool
	bounds  dgRect
}

// dgOther is a counted transition that is not an edge of the figure.
type dgOther struct {
	from, to fsm.State
	count    [2]int
}

// stateDiagramLayout places RFC 9293's Figure 5 (the same arrangement as
// RFC 793's Figure 6), with m's counts on its edges and labels laid out.
func stateDiagramLayout(m *diagramModel) *dgLayout {
	const (
		colL, colC, colR = 150.0, 540.0, 930.0
		yClosed          = 0.0
		yListen          = 130.0
		ySyn             = 290.0
		yEstab           = 450.0
		yFinWait1        = 590.0
		yFinWait2        = 730.0
		yTimeWait        = 870.0
	)
	node := func(s fsm.State, x, y, h float64) dgNode { return dgNode{s, x, y, h} }
	closed := node(fsm.Closed, colC, yClosed, dgBoxH)
	listen := node(fsm.Listen, colC, yListen, dgBoxH)
	synRcvd := node(fsm.SynReceived, colL, ySyn, dgSynBoxH)
	synSent := node(fsm.SynSent, colR, ySyn, dgSynBoxH)
	estab := node(fsm.Established, colC, yEstab, dgBoxH)
	fw1 := node(fsm.FinWait1, colL, yFinWait1, dgBoxH)
	closeWait := node(fsm.CloseWait, colR, yFinWait1, dgBoxH)
	fw2 := node(fsm.FinWait2, colL, yFinWait2, dgBoxH)
	closing := node(fsm.Closing, colC, yFinWait2, dgBoxH)
	lastAck := node(fsm.LastAck, colR, yFinWait2, dgBoxH)
	timeWait := node(fsm.TimeWait, colC, yTimeWait, dgBoxH)
	closed2 := node(fsm.Closed, colR, yTimeWait, dgBoxH)
	l := &dgLayout{nodes: []dgNode{closed, listen, synRcvd, synSent, estab, fw1, closeWait, fw2, closing, lastAck, timeWait, closed2}}

	mid := func(a, b float64) float64 { return (a + b) / 2 }
	pt := func(x, y float64) dgPoint { return dgPoint{x, y} }
	inner := func(a, b dgNode) float64 { // between the facing sides of two boxes in a row
		return mid(a.cx+dgBoxW/2, b.cx-dgBoxW/2)
	}
	synTop := synSent.top(0).y
	l.edges = []*dgEdge{
		{from: fsm.Closed, to: fsm.Listen, event: "passive OPEN", action: "create TCB",
			route: []dgPoint{closed.bottom(-35), listen.top(-35)},
			at:    pt(colC-45, mid(closed.bottom(0).y, listen.top(0).y)), anchor: "end", valign: dgCentre},
		{from: fsm.Listen, to: fsm.Closed, event: "CLOSE", action: "delete TCB",
			route: []dgPoint{listen.top(35), closed.bottom(35)},
			at:    pt(colC+45, mid(closed.bottom(0).y, listen.top(0).y)), anchor: "start", valign: dgCentre},
		{from: fsm.Closed, to: fsm.SynSent, event: "active OPEN", action: "create TCB, snd SYN",
			route: []dgPoint{closed.right(-8), pt(colR+35, yClosed-8), synSent.top(35)},
			at:    pt(colR+45, mid(yClosed, synTop)), anchor: "start", valign: dgCentre},
		{from: fsm.SynSent, to: fsm.Closed, event: "CLOSE", action: "delete TCB",
			route: []dgPoint{synSent.top(-35), pt(colR-35, yClosed+8), closed.right(8)},
			at:    pt(colR-45, mid(yClosed+8, synTop)+10), anchor: "end", valign: dgCentre},
		{from: fsm.Listen, to: fsm.SynReceived, event: "rcv SYN", action: "snd SYN,ACK",
			route: []dgPoint{listen.bottom(-35), pt(colC-35, ySyn-30), synRcvd.right(-30)},
			at:    pt(mid(synRcvd.right(0).x, colC-35), ySyn-30), anchor: "middle", valign: dgAbove},
		{from: fsm.Listen, to: fsm.SynSent, event: "SEND", action: "snd SYN",
			route: []dgPoint{listen.bottom(35), pt(colC+35, ySyn-30), synSent.left(-30)},
			at:    pt(mid(colC+35, synSent.left(0).x), ySyn-30), anchor: "middle", valign: dgAbove},
		{from: fsm.SynSent, to: fsm.SynReceived, event: "rcv SYN", action: "snd SYN,ACK",
			route: []dgPoint{synSent.left(0), synRcvd.right(0)},
			at:    pt(colC, ySyn), anchor: "middle", valign: dgStraddle},
		{from: fsm.SynSent, to: fsm.Established, event: "rcv SYN,ACK", action: "snd ACK",
			route: []dgPoint{synSent.left(30), pt(colC+50, ySyn+30), estab.top(50)},
			at:    pt(mid(colC+50, synSent.left(0).x), ySyn+30), anchor: "middle", valign: dgBelow},
		{from: fsm.SynReceived, to: fsm.Established, event: "rcv ACK of SYN", action: "x",
			route: []dgPoint{synRcvd.right(30), pt(colC-50, ySyn+30), estab.top(-50)},
			at:    pt(mid(synRcvd.right(0).x, colC-50), ySyn+30), anchor: "middle", valign: dgBelow},
		{from: fsm.SynReceived, to: fsm.Listen, event: "rcv RST (note 1)",
			route: []dgPoint{synRcvd.top(0), pt(colL, yListen), listen.left(0)},
			at:    pt(mid(colL, listen.left(0).x), yListen), anchor: "middle", valign: dgAbove},
		{from: fsm.SynReceived, to: fsm.FinWait1, event: "CLOSE", action: "snd FIN",
			route: []dgPoint{synRcvd.bottom(-40), fw1.top(-40)},
			at:    pt(colL-30, mid(synRcvd.bottom(0).y, fw1.top(0).y)), anchor: "start", valign: dgCentre},
		{from: fsm.Established, to: fsm.FinWait1, event: "CLOSE", action: "snd FIN",
			route: []dgPoint{estab.bottom(-35), pt(colC-35, yFinWait1-10), fw1.right(-10)},
			at:    pt(mid(fw1.right(0).x, colC-35), yFinWait1-10), anchor: "middle", valign: dgAbove},
		{from: fsm.Established, to: fsm.CloseWait, event: "rcv FIN", action: "snd ACK",
			route: []dgPoint{estab.bottom(35), pt(colC+35, yFinWait1-10), closeWait.left(-10)},
			at:    pt(mid(colC+35, closeWait.left(0).x), yFinWait1-10), anchor: "middle", valign: dgAbove},
		{from: fsm.FinWait1, to: fsm.FinWait2, event: "rcv ACK of FIN", action: "x",
			route: []dgPoint{fw1.bottom(-40), fw2.top(-40)},
			at:    pt(colL-30, mid(fw1.bottom(0).y, fw2.top(0).y)), anchor: "start", valign: dgCentre},
		{from: fsm.FinWait1, to: fsm.Closing, event: "rcv FIN", action: "snd ACK",
			route: []dgPoint{fw1.right(10), pt(colC-55, yFinWait1+10), closing.top(-55)},
			at:    pt(mid(fw1.right(0).x, colC-55), yFinWait1+10), anchor: "middle", valign: dgBelow},
		{from: fsm.CloseWait, to: fsm.LastAck, event: "CLOSE", action: "snd FIN",
			route: []dgPoint{closeWait.bottom(40), lastAck.top(40)},
			at:    pt(colR+30, mid(closeWait.bottom(0).y, lastAck.top(0).y)), anchor: "end", valign: dgCentre},
		{from: fsm.FinWait2, to: fsm.TimeWait, event: "rcv FIN", action: "snd ACK",
			route: []dgPoint{fw2.bottom(0), pt(colL, yTimeWait), timeWait.left(0)},
			at:    pt(mid(colL, timeWait.left(0).x), yTimeWait), anchor: "middle", valign: dgAbove},
		{from: fsm.Closing, to: fsm.TimeWait, event: "rcv ACK of FIN", action: "x",
			route: []dgPoint{closing.bottom(0), timeWait.top(0)},
			at:    pt(colC+10, mid(closing.bottom(0).y, timeWait.top(0).y)), anchor: "start", valign: dgCentre},
		{from: fsm.LastAck, to: fsm.Closed, event: "rcv ACK of FIN", action: "x",
			route: []dgPoint{lastAck.bottom(0), closed2.top(0)},
			at:    pt(colR-10, mid(lastAck.bottom(0).y, closed2.top(0).y)), anchor: "end", valign: dgCentre},
		{from: fsm.TimeWait, to: fsm.Closed, event: "Timeout=2MSL", action: "delete TCB",
			route: []dgPoint{timeWait.right(0), closed2.left(0)},
			at:    pt(inner(timeWait, closed2), yTimeWait), anchor: "middle", valign: dgAbove},
	}

	// Counts: on the figure's edge for the same pair of states, else in
	// the list of other transitions.
	onFigure := make(map[diagramEdge]*dgEdge, len(l.edges))
	for _, e := range l.edges {
		onFigure[diagramEdge{e.from, e.to}] = e
	}
	if m != nil {
		keys := make([]diagramEdge, 0, len(m.Counts))
		for k := range m.Counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b diagramEdge) int {
			return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
		})
		for _, k := range keys {
			c := m.Counts[k]
			if c == nil || c[0]+c[1] == 0 {
				continue
			}
			for _, s := range []fsm.State{k.From, k.To} {
				if int(s) < len(l.visited) {
					l.visited[s] = true
				}
			}
			if e := onFigure[k]; e != nil {
				e.count = *c
				continue
			}
			l.other = append(l.other, dgOther{k.From, k.To, *c})
		}
	}

	for _, e := range l.edges {
		e.layoutLabel()
	}
	l.bounds = l.nodes[0].rect()
	grow := func(r dgRect) {
		x0, y0 := math.Min(l.bounds.x, r.x), math.Min(l.bounds.y, r.y)
		x1, y1 := math.Max(l.bounds.x+l.bounds.w, r.x+r.w), math.Max(l.bounds.y+l.bounds.h, r.y+r.h)
		l.bounds = dgRect{x0, y0, x1 - x0, y1 - y0}
	}
	for _, n := range l.nodes {
		grow(n.rect())
	}
	for _, e := range l.edges {
		grow(e.label)
		for _, p := range e.route {
			grow(dgRect{p.x, p.y, 0, 0})
		}
	}
	return l
}

// layoutLabel sets the lines of e's label and its extent: the event, a
// fraction bar, the action, then the counts in the roles' colours.
func (e *dgEdge) layoutLabel() {
	type line struct {
		text string
		fill string
		bold bool
	}
	var top, bottom []line // above and below the bar (or the edge, when straddling)
	top = append(top, line{text: e.event, fill: svgInk})
	if e.action != "" {
		bottom = append(bottom, line{text: e.action, fill: svgInk})
	}
	for r := range 2 {
		if e.count[r] > 0 {
			bottom = append(bottom, line{text: dgCount(fsm.Role(r), e.count[r]), fill: svgRoleColor[r], bold: true})
		}
	}
	w := 0.0
	for _, l := range append(append([]line(nil), top...), bottom...) {
		w = math.Max(w, svgTextWidth(l.text, dgLabelSize))
	}
	const gapBar = 4.0 // between the event and the bar, and the bar and the action
	bar := e.action != ""
	h := float64(len(top)+len(bottom)) * dgLine
	if bar {
		h += gapBar
	}
	var y0 float64 // top of the block
	switch e.valign {
	case dgAbove:
		y0 = e.at.y - 5 - h
	case dgBelow:
		y0 = e.at.y + 5
	case dgCentre:
		y0 = e.at.y - h/2
	case dgStraddle:
		y0 = e.at.y - 4 - dgLine
	}
	var x0 float64
	switch e.anchor {
	case "start":
		x0 = e.at.x
	case "end":
		x0 = e.at.x - w
	default:
		x0 = e.at.x - w/2
	}
	e.lines = e.lines[:0]
	y := y0
	for _, l := range top {
		y += dgLine
		e.lines = append(e.lines, dgLabel{text: l.text, y: y - 3, fill: l.fill, bold: l.bold})
	}
	if e.valign == dgStraddle {
		y = e.at.y + 4 // the edge itself is the bar
	} else if bar {
		e.lines = append(e.lines, dgLabel{rule: true, y: y + gapBar/2 - 0.5})
		y += gapBar
	}
	for _, l := range bottom {
		y += dgLine
		e.lines = append(e.lines, dgLabel{text: l.text, y: y - 3, fill: l.fill, bold: l.bold})
	}
	e.label = dgRect{x0, y0, w, y - y0}
}

// renderStateDiagram draws RFC 9293's TCP state diagram (Figure 5) as SVG
// with the transitions in m highlighted and counted, the client's and the
// server's in their colours, and lists the counted transitions that are
// not edges of the figure below it.
func renderStateDiagram(w io.Writer, m *diagramModel) error {
	l := stateDiagramLayout(m)
	taken := 0
	for _, e := range l.edges {
		if e.count[0]+e.count[1] > 0 {
			taken++
		}
	}
	var b svgBuf

	// Title and subtitle.
	title := "TCP connection states"
	if m != nil && m.Title != "" {
		title = m.Title
	}
	sub := "RFC 9293 section 3.3.2, Figure 5: the transitions taken are coloured and counted"
	if taken == 0 && len(l.other) == 0 {
		sub = "RFC 9293 section 3.3.2, Figure 5: no transitions were taken in the selection"
	}
	y := dgPad
	b.text(dgPad, y+dgTitleSize, svgText{size: dgTitleSize, bold: true}, title)
	y += dgTitleSize + 8
	b.text(dgPad, y+dgLabelSize, svgText{size: dgLabelSize, fill: svgFaint}, sub)
	y += dgLabelSize + 28
	width := 2*dgPad + math.Max(svgTextWidth(title, dgTitleSize), svgTextWidth(sub, dgLabelSize))

	// The figure, moved so that its bounds start at (dgPad, y).
	dx, dy := dgPad-l.bounds.x, y-l.bounds.y
	width = math.Max(width, l.bounds.w+2*dgPad)
	fmt.Fprintf(&b.b, `<g transform="translate(%s %s)">`+"\n", svgNum(dx), svgNum(dy))
	drawDiagramFigure(&b, l)
	b.b.WriteString("</g>\n")
	y += l.bounds.h + 30

	// Legend.
	x := dgPad
	legend := []struct {
		text  string
		color [2]string
		w     float64
	}{
		{"taken by the client", [2]string{svgRoleColor[fsm.Client]}, dgThick},
		{"taken by the server", [2]string{svgRoleColor[fsm.Server]}, dgThick},
		{"taken by both", [2]string{svgRoleColor[fsm.Client], svgRoleColor[fsm.Server]}, dgThick},
		{"not taken", [2]string{dgNotTaken}, dgThin},
	}
	for _, it := range legend {
		b.line(x, y-4, x+36, y-4, it.color[0], it.w, "")
		if it.color[1] != "" {
			b.line(x, y-4, x+36, y-4, it.color[1], it.w, "9 9")
		}
		b.text(x+44, y, svgText{size: dgLabelSize}, it.text)
		x += 44 + svgTextWidth(it.text, dgLabelSize) + 28
	}
	width = math.Max(width, x+dgPad)
	y += 22

	// Other transitions.
	if len(l.other) > 0 {
		y += 8
		head := "Other transitions (not edges of the RFC figure)"
		b.text(dgPad, y+dgStateSize, svgText{size: dgStateSize, bold: true}, head)
		y += dgStateSize + 10
		nameW := 0.0
		for _, o := range l.other {
			nameW = math.Max(nameW, svgTextWidth(dgTransition(o.from, o.to), dgLabelSize))
		}
		countW := svgTextWidth("server ×0000", dgLabelSize)
		x1 := dgPad + 12 + nameW + 24
		x2 := x1 + countW + 16
		b.line(dgPad, y+3, x2+countW, y+3, svgRule, 1, "")
		for _, o := range l.other {
			y += dgLine + 5
			b.text(dgPad+12, y, svgText{size: dgLabelSize}, dgTransition(o.from, o.to))
			for r, cx := range []float64{x1, x2} {
				if o.count[r] > 0 {
					b.text(cx, y, svgText{size: dgLabelSize, fill: svgRoleColor[r], bold: true}, dgCount(fsm.Role(r), o.count[r]))
				}
			}
		}
		y += 8
		b.line(dgPad, y, x2+countW, y, svgRule, 1, "")
		width = math.Max(width, x2+countW+dgPad)
		y += 18
	}

	// Notes; a line starting with a tab continues the one before.
	notes := []string{
		"Counts are how many times each endpoint took a transition; inferred transitions that later packets revised are not counted.",
		"Note 1 (RFC 9293): SYN_RECEIVED returns to LISTEN on a RST only when it was reached from LISTEN (a passive open).",
		"Note 2 (RFC 9293): the figure omits FIN_WAIT_1 → TIME_WAIT on a FIN that also acknowledges the local FIN;",
		"\ttcpstate counts that segment as FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT.",
		"Note 3 (RFC 9293): a RST can be sent or received in any state; like timeouts and captures picked up mid-stream,",
		"\tsuch transitions are not edges of the figure and are listed as other transitions.",
	}
	for _, n := range notes {
		x := dgPad
		if rest, ok := strings.CutPrefix(n, "\t"); ok {
			n, x = rest, dgPad+svgTextWidth("Note 1 (RFC 9293): ", dgNoteSize)
		}
		y += dgNoteSize + 5
		b.text(x, y, svgText{size: dgNoteSize, fill: svgFaint}, n)
		width = math.Max(width, x+dgPad+svgTextWidth(n, dgNoteSize))
	}
	height := math.Ceil(y + dgPad)
	width = math.Ceil(width)

	var out strings.Builder
	svgOpen(&out, width, height, title)
	out.WriteString(b.b.String())
	out.WriteString("</svg>\n")
	_, err := io.WriteString(w, out.String())
	return err
}

// drawDiagramFigure draws the states, the edges and their labels: edges
// not taken first, so that the coloured ones lie on top.
func drawDiagramFigure(b *svgBuf, l *dgLayout) {
	for _, n := range l.nodes {
		r := n.rect()
		stroke, sw, ink := dgNotTaken, 1.5, svgFaint
		if l.visited[n.state] {
			stroke, sw, ink = svgInk, 2, svgInk
		}
		b.rect(r.x, r.y, r.w, r.h, 8, "#f8f9fa", stroke, sw)
		b.text(n.cx, n.cy+dgStateSize*0.35, svgText{size: dgStateSize, anchor: "middle", bold: true, fill: ink}, n.state.String())
	}
	order := make([]*dgEdge, 0, len(l.edges))
	for _, e := range l.edges {
		if e.count[0]+e.count[1] == 0 {
			order = append(order, e)
		}
	}
	for _, e := range l.edges {
		if e.count[0]+e.count[1] > 0 {
			order = append(order, e)
		}
	}
	for _, e := range order {
		fmt.Fprintf(&b.b, "<g>\n<title>%s → %s: %s</title>\n", svgEsc(e.from.String()), svgEsc(e.to.String()), svgEsc(e.rfcLabel()))
		drawDiagramEdge(b, e)
		b.b.WriteString("</g>\n")
	}
}

func drawDiagramEdge(b *svgBuf, e *dgEdge) {
	client, server := e.count[fsm.Client] > 0, e.count[fsm.Server] > 0
	sw, hl, hw, head := dgThin, 9.0, 4.0, dgNotTaken
	var colors []string
	switch {
	case client && server:
		colors = []string{svgRoleColor[fsm.Client], svgRoleColor[fsm.Server]}
		head = dgBothHead
	case client:
		colors = []string{svgRoleColor[fsm.Client]}
	case server:
		colors = []string{svgRoleColor[fsm.Server]}
	default:
		colors = []string{dgNotTaken}
	}
	if client || server {
		sw, hl, hw = dgThick, 13, 6
		if len(colors) == 1 {
			head = colors[0]
		}
	}
	// The line stops inside the head, so that its thick end does not show.
	n := len(e.route)
	tip, prev := e.route[n-1], e.route[n-2]
	ux, uy := tip.x-prev.x, tip.y-prev.y
	d := math.Hypot(ux, uy)
	ux, uy = ux/d, uy/d
	pts := append([]dgPoint(nil), e.route...)
	pts[n-1] = dgPoint{tip.x - ux*hl*0.7, tip.y - uy*hl*0.7}
	var path strings.Builder
	for i, p := range pts {
		if i > 0 {
			path.WriteByte(' ')
		}
		path.WriteString(svgNum(p.x) + "," + svgNum(p.y))
	}
	for i, c := range colors {
		fmt.Fprintf(&b.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"`, path.String(), c, svgNum(sw))
		if i > 0 {
			b.b.WriteString(` stroke-dasharray="9 9"`)
		}
		b.b.WriteString("/>\n")
	}
	b.head(tip.x, tip.y, ux, uy, head, hl, hw)

	cx := e.label.x + e.label.w/2
	for _, l := range e.lines {
		if l.rule {
			w := math.Max(svgTextWidth(e.event, dgLabelSize), svgTextWidth(e.action, dgLabelSize))
			b.line(cx-w/2, l.y, cx+w/2, l.y, svgFaint, 0.8, "")
			continue
		}
		b.text(cx, l.y, svgText{size: dgLabelSize, anchor: "middle", fill: l.fill, bold: l.bold}, l.text)
	}
}

// dgTransition names a transition: "ESTABLISHED → CLOSED".
func dgTransition(from, to fsm.State) string { return from.String() + " → " + to.String() }

// dgCount says how many times an endpoint took a transition: "client ×1".
func dgCount(r fsm.Role, n int) string { return r.String() + " ×" + strconv.Itoa(n) }
