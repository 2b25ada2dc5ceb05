package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/tcpstate/tcpstate/fsm"
)

// The terminal ladder. Each connection is drawn in the manner of the
// textbooks (Stevens, RFC 9293's figures): two lifelines, the client's
// states to the left of its lifeline and the server's to the right of its
// own, one arrow per segment between them:
//
//	 # time (s)      client                                             server
//	                 CLOSED ┬                                         ┬ LISTEN
//	 1 0.000000    SYN_SENT ├─SYN seq=0 len=0 win=65495──────────────▶│ SYN_RECEIVED*
//	 2 0.000019 ESTABLISHED │◀─SYN+ACK seq=0 ack=1 len=0 win=65483────┤
//	 3 0.000034             ├─ACK seq=1 ack=1 len=0 win=65536────────▶│ ESTABLISHED
//	 4 0.000146             ├─PSH+ACK seq=1 ack=1 len=32 win=65536───▶│
//	 5 0.000191             │◀─PSH+ACK seq=1 ack=33 len=1448──────────┤
//	                        │ win=65536                               │
//
// A state is printed only on the row that changed it; elsewhere the
// lifeline continues. What does not fit on the arrow (the end of a long
// label, the tags, a passage through several states, the reason for a
// revision) goes on lines below it, between the lifelines.

// ladderWidth is the width the text ladder fits, in columns.
const ladderWidth = 80

// ladderGlyphs are the characters the text ladder is drawn with.
type ladderGlyphs struct {
	life, revised       string // a lifeline; one whose shown state never held
	top, bottom         string // the ends of a lifeline
	shaft               string // an arrow's shaft
	headRight, headLeft string
	fromClient          string // the client's lifeline where it sends
	fromServer          string // the server's lifeline where it sends
	to                  string // "→" in text
	dot                 string // separates the items of the key
	ascii               bool   // text from the model is made ASCII too
}

var (
	unicodeGlyphs = ladderGlyphs{
		life: "│", revised: "┆", top: "┬", bottom: "┴", shaft: "─",
		headRight: "▶", headLeft: "◀", fromClient: "├", fromServer: "┤", to: "→", dot: " · ",
	}
	asciiGlyphs = ladderGlyphs{
		life: "|", revised: ":", top: "+", bottom: "+", shaft: "-",
		headRight: ">", headLeft: "<", fromClient: "+", fromServer: "+", to: "->", dot: "; ",
		ascii: true,
	}
)

// text returns a text from the model as the ladder can draw it: control
// characters (a line break in a note) become spaces, and in ASCII mode the
// arrows, dots and dashes are spelled in ASCII ("2·MSL" becomes "2*MSL")
// and anything else outside ASCII becomes '?'. Widths are counted after
// this, so alignment holds.
func (g ladderGlyphs) text(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte(' ')
		case r < 0x80 || !g.ascii:
			b.WriteRune(r)
		case r == '·' || r == '×':
			b.WriteByte('*')
		case r == '→':
			b.WriteString("->")
		case r == '←':
			b.WriteString("<-")
		case r == '–' || r == '—' || r == '−':
			b.WriteByte('-')
		case r == '…':
			b.WriteString("...")
		case r == '‘' || r == '’':
			b.WriteByte('\'')
		case r == '“' || r == '”':
			b.WriteByte('"')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// The markers of states, explained by the key above every ladder.
const (
	markInferred = "*" // suffix: the state rests on a segment the endpoint received
	markRevision = "!" // suffix: this row undid an earlier inferred state
	markRevised  = "~" // around: later packets proved the state never held
)

// renderLadderText draws each view as a two-lifeline ladder for a terminal:
// Unicode box drawing (ascii=false) or plain ASCII (ascii=true), coloured
// through the palette p. Every line fits 80 columns.
func renderLadderText(w io.Writer, views []*ladderView, ascii bool, p *palette) error {
	g := unicodeGlyphs
	if ascii {
		g = asciiGlyphs
	}
	st := newLadderStyle(p)
	var b strings.Builder
	for i, v := range views {
		b.Reset()
		if i > 0 {
			b.WriteByte('\n')
		}
		writeLadderText(&b, v, g, st)
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// ladderStyle holds the colours of the text ladder beyond palette's own.
type ladderStyle struct {
	p       *palette
	revised *color.Color // a state that never held: struck through
	tag     *color.Color // the tags of a segment
	note    *color.Color // causes and the key
}

func newLadderStyle(p *palette) *ladderStyle {
	return &ladderStyle{
		p:       p,
		revised: p.color(color.Faint, color.CrossedOut),
		tag:     p.color(color.FgYellow),
		note:    p.faint,
	}
}

// span is a piece of a line: its plain text, which widths are counted on,
// and the same text with colour codes.
type span struct{ plain, shown string }

func plainSpan(s string) span { return span{s, s} }

func colorSpan(c *color.Color, s string) span { return span{s, c.Sprint(s)} }

func (s span) width() int { return utf8.RuneCountInString(s.plain) }

func (s span) add(t span) span { return span{s.plain + t.plain, s.shown + t.shown} }

// padLeft right-aligns s in w columns; padRight left-aligns it.
func (s span) padLeft(w int) span {
	if n := w - s.width(); n > 0 {
		return plainSpan(strings.Repeat(" ", n)).add(s)
	}
	return s
}

func (s span) padRight(w int) span {
	if n := w - s.width(); n > 0 {
		return s.add(plainSpan(strings.Repeat(" ", n)))
	}
	return s
}

// ladderLayout is where the columns of one ladder go:
//
//	PKT TIME CLIENT-STATE LIFE ARROW LIFE SERVER-STATE
type ladderLayout struct {
	pkt, time, client int // column widths
	arrow             int // the space between the lifelines
	// inline says, by role, whether a passage through several states is
	// drawn in the state column; if not, it goes below the arrow.
	inline [2]bool
}

// ladderRowText is what one row shows, before layout.
type ladderRowText struct {
	pkt, time string
	fields    []string // the label: flags, seq, ack, len, win
	// passage and final are the state cells with and without the passage
	// through several states; empty when the state did not change.
	passage, final [2]span
}

func writeLadderText(b *strings.Builder, v *ladderView, g ladderGlyphs, st *ladderStyle) {
	writeLadderHeader(b, v, g, st)
	rows := make([]ladderRowText, len(v.Rows))
	prev := [2]fsm.State{v.Initial[fsm.Client].State, v.Initial[fsm.Server].State}
	for i := range v.Rows {
		r := &v.Rows[i]
		rt := &rows[i]
		rt.pkt = fmt.Sprint(r.Packet)
		rt.time = ladderSeconds(r.Offset)
		rt.fields = ladderLabel(r)
		for _, role := range []fsm.Role{fsm.Client, fsm.Server} {
			s := r.After[role]
			if s.Changed || s.Revision {
				rt.final[role] = stateSpan(s, nil, g, st)
				rt.passage[role] = stateSpan(s, ladderPassage(s, prev[role]), g, st)
			}
			prev[role] = s.State
		}
	}
	top := [2]span{stateSpan(v.Initial[fsm.Client], nil, g, st), stateSpan(v.Initial[fsm.Server], nil, g, st)}
	end := [2]span{stateSpan(v.Final[fsm.Client], nil, g, st), stateSpan(v.Final[fsm.Server], nil, g, st)}
	l := layoutLadder(rows, top, end)

	line := func(pkt, tm string, client span, lifeC string, middle span, lifeS string, server span) {
		s := plainSpan(fmt.Sprintf("%*s %*s ", l.pkt, pkt, l.time, tm)).
			add(client.padLeft(l.client)).add(plainSpan(" " + lifeC)).
			add(middle).add(plainSpan(lifeS))
		if server.plain != "" {
			s = s.add(plainSpan(" ")).add(server)
		}
		b.WriteString(strings.TrimRight(s.shown, " ") + "\n")
	}
	// inside writes s between the lifelines, wrapped; c recolours the
	// pieces when s must be wrapped.
	inside := func(s span, c *color.Color, life [2]string) {
		pieces := []span{s}
		if s.width() > l.arrow-2 {
			pieces = pieces[:0]
			for _, t := range wrapText(s.plain, l.arrow-2, l.arrow-2) {
				if c != nil {
					pieces = append(pieces, colorSpan(c, t))
				} else {
					pieces = append(pieces, plainSpan(t))
				}
			}
		}
		for _, pc := range pieces {
			line("", "", span{}, life[fsm.Client], plainSpan(" ").add(pc).padRight(l.arrow), life[fsm.Server], span{})
		}
	}
	blank := plainSpan(strings.Repeat(" ", l.arrow))
	head := fmt.Sprintf("%*s %*s %*s  %s  %s", l.pkt, "#", l.time, "time (s)", l.client, "client", blank.plain, "server")
	b.WriteString(st.p.header.Sprint(head) + "\n")
	line("", "", top[fsm.Client], g.top, blank, g.top, top[fsm.Server])

	for i := range v.Rows {
		r := &v.Rows[i]
		rt := &rows[i]
		life := [2]string{g.life, g.life}
		for _, role := range []fsm.Role{fsm.Client, fsm.Server} {
			if r.After[role].Revised {
				life[role] = g.revised
			}
		}
		// The label: as many fields as fit on the arrow, the rest below.
		n, used := 0, 0
		for ; n < len(rt.fields); n++ {
			wd := utf8.RuneCountInString(rt.fields[n])
			if n > 0 {
				wd++
			}
			if used+wd > l.arrow-3 {
				break
			}
			used += wd
		}
		label := strings.Join(rt.fields[:n], " ")
		shafts := strings.Repeat(g.shaft, l.arrow-2-utf8.RuneCountInString(label))
		var arrow string
		lifeC, lifeS := life[fsm.Client], life[fsm.Server]
		if r.From == fsm.Client {
			arrow = g.shaft + label + shafts + g.headRight
			lifeC = g.fromClient
		} else {
			arrow = g.headLeft + g.shaft + label + shafts
			lifeS = g.fromServer
		}
		var cells [2]span
		for _, role := range []fsm.Role{fsm.Client, fsm.Server} {
			cells[role] = rt.final[role]
			if l.inline[role] {
				cells[role] = rt.passage[role]
			}
		}
		line(rt.pkt, rt.time, cells[fsm.Client], lifeC, plainSpan(arrow), lifeS, cells[fsm.Server])

		// Below the arrow: the rest of the label, the tags, passages that
		// did not fit in their column, and why a state was revised.
		type item struct {
			s span
			c *color.Color // to colour each line with, if s must be wrapped
		}
		var below []item
		if n < len(rt.fields) {
			below = append(below, item{plainSpan(strings.Join(rt.fields[n:], " ")), nil})
		}
		if len(r.Tags) > 0 {
			below = append(below, item{colorSpan(st.tag, g.text(strings.Join(r.Tags, ", "))), st.tag})
		}
		for _, role := range []fsm.Role{fsm.Client, fsm.Server} {
			if !l.inline[role] && rt.passage[role].plain != rt.final[role].plain {
				below = append(below, item{plainSpan(role.String() + ": ").add(rt.passage[role]), nil})
			}
		}
		for _, role := range []fsm.Role{fsm.Client, fsm.Server} {
			if s := r.After[role]; s.Revision && s.Cause != "" {
				below = append(below, item{colorSpan(st.note, role.String()+": "+g.text(s.Cause)), st.note})
			}
		}
		for _, it := range below {
			inside(it.s, it.c, life)
		}
	}
	// Timers after the last segment (TIME_WAIT running out).
	life := [2]string{g.life, g.life}
	for _, role := range []fsm.Role{fsm.Client, fsm.Server} {
		if s := v.Final[role]; s.Changed && s.Cause != "" {
			inside(plainSpan(role.String()+": "+g.text(s.Cause)), nil, life)
		}
	}
	line("", "", end[fsm.Client], g.bottom, blank, g.bottom, end[fsm.Server])
	if v.Ending != "" {
		writeWrapped(b, "  ending: "+g.text(v.Ending), 4, nil)
	}
}

// layoutLadder sizes the columns so that every line fits ladderWidth.
// Passages through several states are drawn in the state columns only when
// that leaves the arrows as much room as their labels need (or as much as
// they would have without the passages); otherwise they go below the arrow.
func layoutLadder(rows []ladderRowText, top, end [2]span) ladderLayout {
	l := ladderLayout{pkt: 1, time: len("time (s)")}
	label := 0
	for _, r := range rows {
		l.pkt = max(l.pkt, len(r.pkt))
		l.time = max(l.time, len(r.time))
		label = max(label, utf8.RuneCountInString(strings.Join(r.fields, " ")))
	}
	colWidth := func(role fsm.Role, inline bool) int {
		w := max(len(role.String()), top[role].width(), end[role].width())
		for _, r := range rows {
			if inline {
				w = max(w, r.passage[role].width())
			} else {
				w = max(w, r.final[role].width())
			}
		}
		return w
	}
	// PKT " " TIME " " CLIENT " " LIFE ARROW LIFE " " SERVER
	fixed := l.pkt + 1 + l.time + 1 + 1 + 1 + 1 + 1
	arrow := func(inline [2]bool) int {
		return ladderWidth - fixed - colWidth(fsm.Client, inline[fsm.Client]) - colWidth(fsm.Server, inline[fsm.Server])
	}
	want := min(label+3, arrow([2]bool{}))
	for _, in := range [][2]bool{{true, true}, {false, true}, {true, false}, {false, false}} {
		if arrow(in) >= want {
			l.inline = in
			break
		}
	}
	l.client = colWidth(fsm.Client, l.inline[fsm.Client])
	// A ladder needs some room between its lifelines even when the packet
	// numbers or times are absurdly long.
	l.arrow = max(arrow(l.inline), 12)
	return l
}

// stateSpan is a state cell: the state's name, or the passage through
// several states when path is given, with the markers of the key.
func stateSpan(s ladderState, path []fsm.State, g ladderGlyphs, st *ladderStyle) span {
	if len(path) < 2 {
		path = []fsm.State{s.State}
	}
	var out span
	for i, ps := range path {
		if i > 0 {
			out = out.add(plainSpan(g.to))
		}
		if s.Revised {
			out = out.add(colorSpan(st.revised, ps.String()))
		} else {
			out = out.add(span{ps.String(), st.p.State(ps, 0)})
		}
	}
	if s.Revised {
		return plainSpan(markRevised).add(out).add(plainSpan(markRevised))
	}
	if s.Inferred {
		out = out.add(plainSpan(markInferred))
	}
	if s.Revision {
		out = out.add(plainSpan(markRevision))
	}
	return out
}

// ladderPassage returns the states s went through on its row, without the
// state it was in before the row (which the lifeline above already shows),
// or nil if it went through only one.
func ladderPassage(s ladderState, before fsm.State) []fsm.State {
	p := s.Path
	if len(p) > 1 && p[0] == before {
		p = p[1:]
	}
	if len(p) < 2 {
		return nil
	}
	return p
}

// writeLadderHeader writes what precedes the ladder: the connection, the
// notes, both sides' handshake options, the handshake round trip, how
// sequence numbers count, and the key to the markers.
func writeLadderHeader(b *strings.Builder, v *ladderView, g ladderGlyphs, st *ladderStyle) {
	lead := fmt.Sprintf("Connection %d: ", v.ID)
	title := fmt.Sprintf("%sclient %s %s server %s (%s)", lead, v.Client, g.to, v.Server, g.text(v.Proto))
	if utf8.RuneCountInString(title) > ladderWidth {
		// Long IPv6 addresses: the server under the client.
		writeWrapped(b, lead+"client "+v.Client.String(), 2, st.p.header)
		title = fmt.Sprintf("%s%s server %s (%s)", strings.Repeat(" ", max(0, len(lead)-utf8.RuneCountInString(g.to)-1)), g.to, v.Server, g.text(v.Proto))
	}
	writeWrapped(b, title, 2, st.p.header)
	for _, n := range v.Notes {
		writeWrapped(b, "  "+g.text(n), 4, nil)
	}
	for _, r := range []fsm.Role{fsm.Client, fsm.Server} {
		if o := v.Options[r]; o.Seen {
			writeWrapped(b, fmt.Sprintf("  %s options: %s", r, g.text(o.String())), 4, nil)
		}
	}
	if rtt := ladderRTT(v, g.to); rtt != "" {
		writeWrapped(b, "  handshake RTT: "+rtt, 4, nil)
	}
	if v.Absolute {
		writeWrapped(b, "  seq and ack: absolute", 4, nil)
	} else {
		writeWrapped(b, fmt.Sprintf("  seq and ack: relative (ISN client %d, server %d)", v.ISN[fsm.Client], v.ISN[fsm.Server]), 4, nil)
	}
	key := strings.Join([]string{
		markInferred + " inferred",
		markRevised + "STATE" + markRevised + " revised (never held)",
		markRevision + " revision",
		g.revised + " never held",
	}, g.dot)
	writeWrapped(b, "  key: "+key, 4, st.note)
	b.WriteByte('\n')
}

// ladderRTT formats the handshake round trip, or "" when it is unknown.
func ladderRTT(v *ladderView, to string) string {
	var p []string
	if v.HasSYNToSYNACK {
		p = append(p, fmt.Sprintf("SYN%sSYN-ACK %s", to, ladderMillis(v.SYNToSYNACK)))
	}
	if v.HasSYNACKToACK {
		p = append(p, fmt.Sprintf("SYN-ACK%sACK %s", to, ladderMillis(v.SYNACKToACK)))
	}
	if v.HasSYNToSYNACK && v.HasSYNACKToACK {
		p = append(p, "total "+ladderMillis(v.SYNToSYNACK+v.SYNACKToACK))
	}
	return strings.Join(p, ", ")
}

// ladderMillis prints d in milliseconds with microseconds: "0.512 ms".
func ladderMillis(d time.Duration) string {
	d = d.Round(time.Microsecond)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	us := int64(d / time.Microsecond)
	return fmt.Sprintf("%s%d.%03d ms", sign, us/1000, us%1000)
}

// ladderSeconds prints an offset in seconds with microseconds, as tcpdump
// and Wireshark do: "0.000512".
func ladderSeconds(d time.Duration) string {
	d = d.Round(time.Microsecond)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	us := int64(d / time.Microsecond)
	return fmt.Sprintf("%s%d.%06d", sign, us/1e6, us%1e6)
}

// ladderFlagNames are the flags in words, in header bit order (as
// Wireshark lists them: FIN, SYN, RST, PSH, ACK, URG, ECE, CWR).
var ladderFlagNames = [8]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// ladderFlags spells a segment's flags in words joined by "+": "SYN",
// "SYN+ACK", "FIN+PSH+ACK", and "none" for a segment with no flag.
func ladderFlags(f fsm.Flags) string {
	var n []string
	for i, name := range ladderFlagNames {
		if f&(1<<i) != 0 {
			n = append(n, name)
		}
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, "+")
}

// ladderLabel lists the words of a segment's label: its flags, seq, ack
// (when ACK is set), len and win.
func ladderLabel(r *ladderRow) []string {
	f := []string{ladderFlags(r.Flags), fmt.Sprintf("seq=%d", r.Seq)}
	if r.Flags.Contains(fsm.ACK) {
		f = append(f, fmt.Sprintf("ack=%d", r.Ack))
	}
	return append(f, fmt.Sprintf("len=%d", r.Len), fmt.Sprintf("win=%d", r.Window))
}

// writeWrapped writes text wrapped at ladderWidth, continuation lines
// indented by indent spaces, coloured by c if not nil.
func writeWrapped(b *strings.Builder, text string, indent int, c *color.Color) {
	body := strings.TrimLeft(text, " ")
	lead := len(text) - len(body)
	for i, l := range wrapText(body, ladderWidth-lead, ladderWidth-indent) {
		pad := lead
		if i > 0 {
			pad = indent
		}
		if c != nil {
			l = c.Sprint(l)
		}
		b.WriteString(strings.Repeat(" ", pad) + l + "\n")
	}
}

// wrapText breaks text into lines of at most first columns for the first
// line and rest for the others, at spaces where it can and inside a word
// where it must.
func wrapText(text string, first, rest int) []string {
	var out []string
	var cur []rune
	width := max(first, 1)
	flush := func() {
		out = append(out, string(cur))
		cur = cur[:0]
		width = max(rest, 1)
	}
	for _, word := range strings.Fields(text) {
		wr := []rune(word)
		for len(wr) > 0 {
			sep := 0
			if len(cur) > 0 {
				sep = 1
			}
			switch {
			case len(cur)+sep+len(wr) <= width:
				if sep > 0 {
					cur = append(cur, ' ')
				}
				cur = append(cur, wr...)
				wr = nil
			case len(cur) > 0:
				flush()
			default:
				// A word longer than a line: break it after an arrow
				// ("FIN_WAIT_1→FIN_WAIT_2→TIME_WAIT") if one fits, else
				// where the line ends.
				cut := width
				for i := width; i > 0; i-- {
					if wr[i-1] == '→' || wr[i-1] == '>' {
						cut = i
						break
					}
				}
				cur = append(cur, wr[:cut]...)
				wr = wr[cut:]
				flush()
			}
		}
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, string(cur))
	}
	return out
}
