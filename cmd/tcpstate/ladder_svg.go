package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tcpstate/tcpstate/fsm"
)

// The SVG pictures are self-contained: presentation attributes only (no
// CSS, scripts or external fonts), so that they survive conversion by
// Inkscape, rsvg-convert, LaTeX and word processors. All text is set in a
// monospace font, whose advance (0.6 em in DejaVu Sans Mono, Menlo,
// Consolas, Courier) lets the layout measure text without font files.
const (
	svgFont      = `'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', 'Courier New', monospace`
	svgAdvance   = 0.61 // width of one character in em, rounded up
	svgInk       = "#1a1a1a"
	svgFaint     = "#5f6368"
	svgRule      = "#c8c8c8"
	svgWarnFill  = "#fff1c2"
	svgWarnLine  = "#d9a400"
	svgWarnInk   = "#6b4400"
	svgRevFill   = "#f1ecfa"
	svgRevLine   = "#7e57c2"
	svgRevisedFg = "#8a8a8a"
)

// svgRoleColor is the colour of each role (indexed by fsm.Role), the same
// in the ladder and in the state diagram: blue and orange stay apart for
// readers with the common colour-vision deficiencies.
var svgRoleColor = [2]string{"#1a5fb4", "#c64600"}

// Ladder geometry, in pixels.
const (
	ladPad       = 24.0 // around the picture
	ladLabelSize = 12.0 // segment labels and states
	ladSmallSize = 10.0 // causes, tags, header lines
	ladTitleSize = 15.0
	ladInfoSize  = 11.0
	ladSlope     = 16.0 // how far an arrow drops between lifelines
	ladMinGap    = 340.0
	ladCauseWrap = 34 // characters per line of a cause
	ladBoxH      = 38.0
	ladEndBoxH   = 26.0
)

// renderLadderSVG draws the views, stacked vertically, as one
// self-contained SVG document: per connection a title, the notes, each
// side's handshake options and RTT, two lifelines (client left, server
// right) with one arrow per segment, and both endpoints' states where they
// changed; final states and how the connection ended at the bottom.
func renderLadderSVG(w io.Writer, views []*ladderView) error {
	cols := svgLadderColumns(views)
	width := cols.width()
	for _, v := range views {
		width = math.Max(width, 2*ladPad+svgTextWidth(svgLadderTitle(v), ladTitleSize))
		for _, l := range svgLadderInfo(v, cols) {
			width = math.Max(width, 2*ladPad+svgTextWidth(l.text, ladInfoSize))
		}
	}
	width = math.Ceil(width)
	var body svgBuf
	y := ladPad
	for i, v := range views {
		if i > 0 {
			y += 10
			body.line(ladPad, y, width-ladPad, y, svgRule, 1, "")
			y += 24
		}
		y += svgDrawLadder(&body, v, cols, y, width)
	}
	if len(views) == 0 {
		const none = "no connections to draw"
		body.text(ladPad, y+16, svgText{size: ladTitleSize, fill: svgFaint}, none)
		y += 30
		width = math.Ceil(math.Max(width, ladPad*2+svgTextWidth(none, ladTitleSize)))
	} else {
		y += 8
		body.line(ladPad, y, width-ladPad, y, svgRule, 1, "")
		y += 20
		y += svgLadderLegend(&body, ladPad, y)
	}
	height := math.Ceil(y + ladPad - 8)

	var out strings.Builder
	svgOpen(&out, width, height, "TCP ladder diagram")
	out.WriteString(body.b.String())
	out.WriteString("</svg>\n")
	_, err := io.WriteString(w, out.String())
	return err
}

// svgLadderCols are the column widths shared by every view, so that stacked
// ladders line up.
type svgLadderCols struct {
	pktW, timeW float64 // the margin: packet number and time
	stateW      [2]float64
	gap         float64 // between the lifelines
}

func (c svgLadderCols) margin() float64 { return c.pktW + 12 + c.timeW + 14 }
func (c svgLadderCols) lifeline(r fsm.Role) float64 {
	x := ladPad + c.margin() + c.stateW[fsm.Client]
	if r == fsm.Server {
		x += c.gap
	}
	return x
}
func (c svgLadderCols) width() float64 {
	return c.lifeline(fsm.Server) + c.stateW[fsm.Server] + ladPad
}

func svgLadderColumns(views []*ladderView) svgLadderCols {
	c := svgLadderCols{
		pktW:  svgTextWidth("pkt", ladSmallSize),
		timeW: svgTextWidth("time (s)", ladSmallSize),
		gap:   ladMinGap,
	}
	for _, v := range views {
		for r := range 2 {
			role := fsm.Role(r)
			box := svgBoxWidth(v, role)
			c.stateW[r] = math.Max(c.stateW[r], box/2+8)
			c.stateW[r] = math.Max(c.stateW[r], svgStateWidth(v.Initial[r])+14)
			c.stateW[r] = math.Max(c.stateW[r], svgFinalWidth(v, role)/2+8)
			if svgShows(v.Final[r]) {
				c.stateW[r] = math.Max(c.stateW[r], svgStateWidth(v.Final[r])+14)
			}
		}
		c.gap = math.Max(c.gap, (svgBoxWidth(v, fsm.Client)+svgBoxWidth(v, fsm.Server))/2+40)
		for _, row := range v.Rows {
			c.pktW = math.Max(c.pktW, svgTextWidth(svgPacket(row), ladInfoSize))
			c.timeW = math.Max(c.timeW, svgTextWidth(svgOffset(row.Offset), ladInfoSize))
			c.gap = math.Max(c.gap, svgTextWidth(svgSegmentLabel(v, row), ladLabelSize)+56)
			c.gap = math.Max(c.gap, svgTagsWidth(row.Tags)+56)
			for r := range 2 {
				if svgShows(row.After[r]) {
					c.stateW[r] = math.Max(c.stateW[r], svgStateWidth(row.After[r])+14)
				}
			}
		}
	}
	return c
}

// svgDrawLadder draws v with its top at y, in a picture width wide, and
// returns its height.
func svgDrawLadder(b *svgBuf, v *ladderView, c svgLadderCols, top, width float64) float64 {
	x0 := ladPad
	y := top
	b.text(x0, y+ladTitleSize, svgText{size: ladTitleSize, bold: true}, svgLadderTitle(v))
	y += ladTitleSize + 10

	for _, l := range svgLadderInfo(v, c) {
		st := svgText{size: ladInfoSize, fill: svgFaint}
		if l.note {
			st.fill = svgWarnInk
			st.italic = true
		}
		b.text(x0, y+ladInfoSize, st, l.text)
		y += ladInfoSize + 5
	}
	y += 14

	// Lifeline heads: role and address in a box.
	xs := [2]float64{c.lifeline(fsm.Client), c.lifeline(fsm.Server)}
	addrs := [2]string{v.Client.String(), v.Server.String()}
	for r := range 2 {
		bw := svgBoxWidth(v, fsm.Role(r))
		b.rect(xs[r]-bw/2, y, bw, ladBoxH, 5, "#ffffff", svgRoleColor[r], 1.5)
		b.text(xs[r], y+14, svgText{size: ladSmallSize, fill: svgRoleColor[r], anchor: "middle", bold: true}, fsm.Role(r).String())
		b.text(xs[r], y+30, svgText{size: ladLabelSize, anchor: "middle", bold: true}, addrs[r])
	}
	// The margin's column heads.
	pktX := x0 + c.pktW
	timeX := pktX + 12 + c.timeW
	b.text(pktX, y+ladBoxH-4, svgText{size: ladSmallSize, fill: svgFaint, anchor: "end"}, "pkt")
	b.text(timeX, y+ladBoxH-4, svgText{size: ladSmallSize, fill: svgFaint, anchor: "end"}, "time (s)")
	lifeTop := y + ladBoxH
	y = lifeTop + 18

	var (
		colBottom    [2]float64 // the lowest text beside each lifeline
		midBottom    float64    // the lowest arrow or label between them
		marginBottom float64
	)
	for r := range 2 {
		colBottom[r] = svgDrawState(b, xs[r], y, fsm.Role(r), v.Initial[r])
	}
	midBottom = y - 6
	marginBottom = y

	// The rows go into their own buffer: the lifelines, drawn under them,
	// and the bands behind revision rows must come first, and the
	// lifelines' length is known only at the end.
	var rows svgBuf
	for _, row := range v.Rows {
		from, to := row.From, row.From.Peer()
		if from > fsm.Server { // not a role: draw it as the client's
			from, to = fsm.Client, fsm.Server
		}
		labelH := ladLabelSize + 4
		if len(row.Tags) > 0 {
			labelH += ladSmallSize + 9
		}
		y0 := midBottom + labelH + 8
		if svgShows(row.After[from]) {
			y0 = math.Max(y0, colBottom[from]+ladLabelSize+4)
		}
		if svgShows(row.After[to]) {
			y0 = math.Max(y0, colBottom[to]+ladLabelSize+4-ladSlope)
		}
		y0 = math.Max(y0, marginBottom+ladInfoSize+6)
		revision := row.After[0].Revision || row.After[1].Revision
		if revision {
			// The band behind a revision row starts below everything above.
			y0 = math.Max(y0, math.Max(colBottom[0], colBottom[1])+labelH+12)
		}
		y1 := y0 + ladSlope
		ys := [2]float64{}
		ys[from], ys[to] = y0, y1

		var band svgBuf
		bandTop := y0 - labelH - 6

		// Margin: packet number and time.
		rows.text(pktX, y0+4, svgText{size: ladInfoSize, fill: svgFaint, anchor: "end"}, svgPacket(row))
		rows.text(timeX, y0+4, svgText{size: ladInfoSize, fill: svgFaint, anchor: "end"}, svgOffset(row.Offset))
		marginBottom = y0 + 6

		// The arrow, and its label above it.
		col := svgRoleColor[from]
		rows.circle(xs[from], y0, 2.5, col)
		rows.arrow(xs[from], y0, xs[to], y1, col, 1.6, 9, 4)
		mid := (xs[0] + xs[1]) / 2
		rows.spans(mid, y0-6, svgText{size: ladLabelSize, anchor: "middle"}, svgSegmentSpans(v, row)...)
		if len(row.Tags) > 0 {
			svgDrawTags(&rows, mid, y0-6-ladLabelSize-8, row.Tags)
		}
		midBottom = math.Max(y0, y1) + 2

		// States beside the lifelines, where they changed.
		for r := range 2 {
			if svgShows(row.After[r]) {
				colBottom[r] = svgDrawState(&rows, xs[r], ys[r], fsm.Role(r), row.After[r])
			}
		}
		if revision {
			bottom := math.Max(midBottom, math.Max(colBottom[0], colBottom[1])) + 4
			band.rect(ladPad-8, bandTop, width-2*ladPad+16, bottom-bandTop, 0, svgRevFill, "", 0)
			band.rect(ladPad-8, bandTop, 3, bottom-bandTop, 0, svgRevLine, "", 0)
			b.b.WriteString(band.b.String())
			midBottom, marginBottom = bottom+4, bottom
			colBottom = [2]float64{bottom, bottom}
		}
	}
	// Timers after the last segment (TIME_WAIT running out) change states
	// without an arrow.
	if svgShows(v.Final[0]) || svgShows(v.Final[1]) {
		yt := math.Max(midBottom+ladLabelSize, marginBottom+4)
		for r := range 2 {
			if svgShows(v.Final[r]) {
				yt = math.Max(yt, colBottom[r]+ladLabelSize+4)
			}
		}
		for r := range 2 {
			if svgShows(v.Final[r]) {
				rows.timer(xs[r], yt)
				colBottom[r] = svgDrawState(&rows, xs[r], yt, fsm.Role(r), v.Final[r])
			}
		}
		midBottom = yt
	}
	end := math.Max(midBottom, math.Max(colBottom[0], colBottom[1])) + 20
	for r := range 2 {
		b.line(xs[r], lifeTop, xs[r], end, "#9aa0a6", 1.5, "")
	}
	b.b.WriteString(rows.b.String())

	// Final states and the ending.
	for r := range 2 {
		final := v.Final[r]
		bw := svgFinalWidth(v, fsm.Role(r))
		b.rect(xs[r]-bw/2, end, bw, ladEndBoxH, 13, "#f5f5f5", svgRoleColor[r], 1.5)
		name := final.State.String()
		st := svgText{size: ladLabelSize, anchor: "middle", bold: true}
		if final.Inferred {
			name += "*"
			st.italic = true
		}
		b.text(xs[r], end+17, st, name)
	}
	y = end + ladEndBoxH
	if v.Ending != "" {
		ending := "ending: " + v.Ending
		b.text((xs[0]+xs[1])/2, y+20, svgText{size: ladLabelSize, anchor: "middle"}, ending)
		y += 26
	}
	return y - top
}

func svgLadderTitle(v *ladderView) string {
	return fmt.Sprintf("Connection %d: client %s → server %s", v.ID, v.Client, v.Server)
}

// svgInfoLine is a line under a view's title.
type svgInfoLine struct {
	text string
	note bool // one of the view's notes, set apart
}

// svgLadderInfo are the lines under a view's title: its notes (wrapped to
// the ladder's width), each side's handshake options, the handshake RTT
// and how to read seq and ack.
func svgLadderInfo(v *ladderView, c svgLadderCols) []svgInfoLine {
	var info []svgInfoLine
	wrap := max(int((c.width()-2*ladPad)/(ladInfoSize*svgAdvance)), 80)
	for _, n := range v.Notes {
		for _, l := range svgWrap(n, wrap) {
			info = append(info, svgInfoLine{l, true})
		}
	}
	for r := range 2 {
		o := "none captured (no SYN or SYN-ACK from it)"
		if v.Options[r].Seen {
			o = v.Options[r].String()
		}
		info = append(info, svgInfoLine{text: fmt.Sprintf("%s options: %s", fsm.Role(r), o)})
	}
	var rtt []string
	if v.HasSYNToSYNACK {
		rtt = append(rtt, "SYN → SYN-ACK "+svgDuration(v.SYNToSYNACK))
	}
	if v.HasSYNACKToACK {
		rtt = append(rtt, "SYN-ACK → ACK "+svgDuration(v.SYNACKToACK))
	}
	if len(rtt) > 0 {
		info = append(info, svgInfoLine{text: "handshake RTT at the capture point: " + strings.Join(rtt, ", ")})
	}
	if v.Absolute {
		info = append(info, svgInfoLine{text: "seq and ack are absolute sequence numbers"})
	} else {
		info = append(info, svgInfoLine{text: fmt.Sprintf("seq and ack are relative to each side's ISN (client %d, server %d)", v.ISN[fsm.Client], v.ISN[fsm.Server])})
	}
	return info
}

// svgDrawState writes one endpoint's state beside its lifeline at x,
// centred on y (left of the client's lifeline, right of the server's),
// with its cause below, and returns the bottom of what it wrote.
func svgDrawState(b *svgBuf, x, y float64, r fsm.Role, s ladderState) float64 {
	anchor, dx := "end", -10.0
	if r == fsm.Server {
		anchor, dx = "start", 10
	}
	b.spans(x+dx, y+4, svgText{size: ladLabelSize, anchor: anchor, bold: true}, svgStateSpans(s)...)
	bottom := y + 7
	if s.Cause != "" {
		for _, l := range svgWrap(s.Cause, ladCauseWrap) {
			bottom += ladSmallSize + 2
			b.text(x+dx, bottom, svgText{size: ladSmallSize, anchor: anchor, fill: svgFaint}, l)
		}
		bottom += 3
	}
	return bottom
}

// svgShows reports whether a row labels the state: it changed there.
func svgShows(s ladderState) bool { return s.Changed || s.Revision }

// svgStateText is the state as the ladder prints it: the path when the
// row moved the endpoint more than once, with "*" when inferred.
func svgStateText(s ladderState) string {
	name := s.State.String()
	if len(s.Path) > 1 {
		p := make([]string, len(s.Path))
		for i, st := range s.Path {
			p[i] = st.String()
		}
		name = strings.Join(p, " → ")
	}
	if s.Inferred {
		name += "*"
	}
	return name
}

func svgStateSpans(s ladderState) []svgSpan {
	main := svgSpan{text: svgStateText(s), italic: s.Inferred}
	if !s.Revised {
		return []svgSpan{main}
	}
	main.fill = svgRevisedFg
	main.strike = true
	return []svgSpan{main, {text: " (revised)", fill: svgRevisedFg, weight: "normal"}}
}

func svgStateWidth(s ladderState) float64 {
	w := svgTextWidth(svgStateText(s), ladLabelSize)
	if s.Revised {
		w += svgTextWidth(" (revised)", ladLabelSize)
	}
	for _, l := range svgWrap(s.Cause, ladCauseWrap) {
		w = math.Max(w, svgTextWidth(l, ladSmallSize))
	}
	return w
}

func svgBoxWidth(v *ladderView, r fsm.Role) float64 {
	a := v.Client
	if r == fsm.Server {
		a = v.Server
	}
	return svgTextWidth(a.String(), ladLabelSize) + 20
}

func svgFinalWidth(v *ladderView, r fsm.Role) float64 {
	return svgTextWidth(v.Final[r].State.String()+"*", ladLabelSize) + 24
}

func svgPacket(row ladderRow) string { return "#" + strconv.FormatUint(row.Packet, 10) }

func svgOffset(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

// svgDuration prints a round-trip time to the microsecond: "1.234ms".
func svgDuration(d time.Duration) string {
	if d >= time.Microsecond {
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

// svgSegmentLabel is the text above a segment's arrow: the flags in words (as the text ladder names them), then
// seq, ack (with ACK), win and len.
func svgSegmentLabel(v *ladderView, row ladderRow) string {
	var s strings.Builder
	for _, sp := range svgSegmentSpans(v, row) {
		s.WriteString(sp.text)
	}
	return s.String()
}

func svgSegmentSpans(v *ladderView, row ladderRow) []svgSpan {
	rest := fmt.Sprintf(" seq=%d", row.Seq)
	if row.Flags.Contains(fsm.ACK) {
		rest += fmt.Sprintf(" ack=%d", row.Ack)
	}
	rest += fmt.Sprintf(" win=%d len=%d", row.Window, row.Len)
	return []svgSpan{{text: ladderFlags(row.Flags), weight: "bold"}, {text: rest}}
}

// svgDrawTags draws a row's tags as small badges in the warning colour,
// centred on x, with their baseline at y.
func svgDrawTags(b *svgBuf, x, y float64, tags []string) {
	left := x - svgTagsWidth(tags)/2
	for _, t := range tags {
		w := svgTextWidth(t, ladSmallSize) + 10
		b.rect(left, y-ladSmallSize-1, w, ladSmallSize+6, 3, svgWarnFill, svgWarnLine, 1)
		b.text(left+w/2, y+1, svgText{size: ladSmallSize, fill: svgWarnInk, anchor: "middle"}, t)
		left += w + 5
	}
}

func svgTagsWidth(tags []string) float64 {
	w := 0.0
	for i, t := range tags {
		if i > 0 {
			w += 5
		}
		w += svgTextWidth(t, ladSmallSize) + 10
	}
	return w
}

// svgLadderLegend explains the marks at (x, y) and returns its height.
func svgLadderLegend(b *svgBuf, x, y float64) float64 {
	st := svgText{size: ladSmallSize, fill: svgFaint}
	line := ladSmallSize + 9
	yy := y + ladSmallSize
	b.line(x, yy-4, x+28, yy-4, svgRoleColor[fsm.Client], 1.6, "")
	b.line(x+40, yy-4, x+68, yy-4, svgRoleColor[fsm.Server], 1.6, "")
	b.text(x+78, yy, st, "segments sent by the client / by the server")
	yy += line
	b.spans(x, yy, st, svgSpan{text: "STATE*", italic: true, fill: svgInk, weight: "bold"},
		svgSpan{text: "  inferred: rests on a segment the endpoint was sent, which may not have arrived"})
	yy += line
	b.spans(x, yy, st, svgSpan{text: "STATE", strike: true, fill: svgRevisedFg, weight: "bold"},
		svgSpan{text: " (revised)  later packets proved that transition never happened"})
	yy += line
	b.rect(x, yy-ladSmallSize, 34, ladSmallSize+5, 0, svgRevFill, "", 0)
	b.rect(x, yy-ladSmallSize, 3, ladSmallSize+5, 0, svgRevLine, "", 0)
	b.text(x+44, yy, st, "a revision: this segment proved an earlier inferred state wrong")
	yy += line
	svgDrawTags(b, x+svgTextWidth("tag", ladSmallSize)/2+5, yy, []string{"tag"})
	b.text(x+44, yy, st, "retransmissions, dup ACKs, keep-alives, zero windows, RST checks and anomalies")
	return yy - y + 4
}

// svgWrap breaks s into lines of at most n characters at spaces (a
// longer word gets a line of its own).
func svgWrap(s string, n int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= n:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// SVG drawing helpers, shared with diagram_svg.go.

// svgOpen writes the XML declaration and the <svg> start tag of a width ×
// height picture with a white background.
func svgOpen(w *strings.Builder, width, height float64, title string) {
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="12" fill="%s">
<title>%s</title>
<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>
`, svgNum(width), svgNum(height), svgNum(width), svgNum(height), svgEsc(svgFont), svgInk, svgEsc(title), svgNum(width), svgNum(height))
}

// svgBuf accumulates SVG elements.
type svgBuf struct{ b strings.Builder }

// svgText is how a piece of text is set.
type svgText struct {
	size   float64
	fill   string // default: the document's ink
	anchor string // start (default), middle or end
	bold   bool
	italic bool
}

// svgSpan is a run of text inside one <text> element; empty fields inherit.
type svgSpan struct {
	text   string
	fill   string
	weight string // "bold" or "normal"
	italic bool
	strike bool
}

func (s svgText) attrs() string {
	var a strings.Builder
	fmt.Fprintf(&a, ` font-size="%s"`, svgNum(s.size))
	if s.fill != "" {
		fmt.Fprintf(&a, ` fill="%s"`, s.fill)
	}
	if s.anchor != "" && s.anchor != "start" {
		fmt.Fprintf(&a, ` text-anchor="%s"`, s.anchor)
	}
	if s.bold {
		a.WriteString(` font-weight="bold"`)
	}
	if s.italic {
		a.WriteString(` font-style="italic"`)
	}
	return a.String()
}

func (b *svgBuf) text(x, y float64, st svgText, s string) {
	fmt.Fprintf(&b.b, `<text x="%s" y="%s"%s>%s</text>`+"\n", svgNum(x), svgNum(y), st.attrs(), svgEsc(s))
}

func (b *svgBuf) spans(x, y float64, st svgText, spans ...svgSpan) {
	fmt.Fprintf(&b.b, `<text x="%s" y="%s"%s>`, svgNum(x), svgNum(y), st.attrs())
	for _, sp := range spans {
		var a strings.Builder
		if sp.fill != "" {
			fmt.Fprintf(&a, ` fill="%s"`, sp.fill)
		}
		if sp.weight != "" {
			fmt.Fprintf(&a, ` font-weight="%s"`, sp.weight)
		}
		if sp.italic {
			a.WriteString(` font-style="italic"`)
		}
		if sp.strike {
			a.WriteString(` text-decoration="line-through"`)
		}
		if a.Len() == 0 {
			b.b.WriteString(svgEsc(sp.text))
			continue
		}
		fmt.Fprintf(&b.b, `<tspan%s>%s</tspan>`, a.String(), svgEsc(sp.text))
	}
	b.b.WriteString("</text>\n")
}

func (b *svgBuf) rect(x, y, w, h, rx float64, fill, stroke string, sw float64) {
	fmt.Fprintf(&b.b, `<rect x="%s" y="%s" width="%s" height="%s"`, svgNum(x), svgNum(y), svgNum(w), svgNum(h))
	if rx > 0 {
		fmt.Fprintf(&b.b, ` rx="%s"`, svgNum(rx))
	}
	if fill == "" {
		fill = "none"
	}
	fmt.Fprintf(&b.b, ` fill="%s"`, fill)
	if stroke != "" {
		fmt.Fprintf(&b.b, ` stroke="%s" stroke-width="%s"`, stroke, svgNum(sw))
	}
	b.b.WriteString("/>\n")
}

func (b *svgBuf) line(x1, y1, x2, y2 float64, stroke string, sw float64, dash string) {
	fmt.Fprintf(&b.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"`, svgNum(x1), svgNum(y1), svgNum(x2), svgNum(y2), stroke, svgNum(sw))
	if dash != "" {
		fmt.Fprintf(&b.b, ` stroke-dasharray="%s"`, dash)
	}
	b.b.WriteString("/>\n")
}

// timer marks a change of state on a lifeline that no segment caused: a
// small clock face.
func (b *svgBuf) timer(x, y float64) {
	fmt.Fprintf(&b.b, `<circle cx="%s" cy="%s" r="5" fill="#ffffff" stroke="%s" stroke-width="1.2"/>`+"\n", svgNum(x), svgNum(y), svgInk)
	fmt.Fprintf(&b.b, `<polyline points="%s,%s %s,%s %s,%s" fill="none" stroke="%s" stroke-width="1.2"/>`+"\n",
		svgNum(x), svgNum(y-3.5), svgNum(x), svgNum(y), svgNum(x+2.5), svgNum(y), svgInk)
}

func (b *svgBuf) circle(x, y, r float64, fill string) {
	fmt.Fprintf(&b.b, `<circle cx="%s" cy="%s" r="%s" fill="%s"/>`+"\n", svgNum(x), svgNum(y), svgNum(r), fill)
}

// arrow draws a line from (x1, y1) to (x2, y2) ending in a filled head of
// length hl and half-width hw at (x2, y2).
func (b *svgBuf) arrow(x1, y1, x2, y2 float64, stroke string, sw, hl, hw float64) {
	dx, dy := x2-x1, y2-y1
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	ux, uy := dx/l, dy/l
	bx, by := x2-ux*hl*0.8, y2-uy*hl*0.8 // stop inside the head, so the line's end does not show
	b.line(x1, y1, bx, by, stroke, sw, "")
	b.head(x2, y2, ux, uy, stroke, hl, hw)
}

// head draws an arrowhead with its tip at (x, y) pointing along (ux, uy).
func (b *svgBuf) head(x, y, ux, uy float64, fill string, hl, hw float64) {
	px, py := x-ux*hl, y-uy*hl
	fmt.Fprintf(&b.b, `<polygon points="%s,%s %s,%s %s,%s" fill="%s"/>`+"\n",
		svgNum(x), svgNum(y), svgNum(px-uy*hw), svgNum(py+ux*hw), svgNum(px+uy*hw), svgNum(py-ux*hw), fill)
}

// svgTextWidth estimates the width of s set in the monospace font at size.
func svgTextWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * svgAdvance
}

// num formats a coordinate with at most one decimal, the same on every
// platform.
func svgNum(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// esc escapes s for XML text and attribute values.
func svgEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
