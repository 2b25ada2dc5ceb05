package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
)

type ladderOptions struct {
	sourceOptions
	format   string
	ascii    bool
	absolute bool
	output   string
	conns    []string
}

func newLadderCmd(st *streams) *cobra.Command {
	o := &ladderOptions{}
	cmd := &cobra.Command{
		Use:   "ladder (-r FILE | -i IFACE) [CONN...]",
		Short: "Handshake and teardown ladder diagrams with both endpoints' states at every segment",
		Long: `Draw each selected connection as a ladder: the client's lifeline on the left,
the server's on the right, one arrow per segment with its flags, relative
sequence and acknowledgment numbers, payload length and window, and the state
of each endpoint after every segment. Each connection's header lists both
sides' handshake options (MSS, window scale, SACK permitted, timestamps, TCP
Fast Open) and the handshake round trip as the capture point saw it.

Segments are tagged with Wireshark's TCP analysis flags, in the words of its
Info column (Retransmission, Out-Of-Order, Previous segment not captured,
Dup ACK #n, Keep-Alive, ZeroWindow, Window Update, ...), and with what the
state machine noticed: RST ignored or challenged, anomalies.
A state caused by a segment the endpoint received (not one it sent) is
inferred and marked; one that later packets proved never happened is shown
as revised. When no SYN was captured, the ladder says so and how the roles
were guessed.

CONN selects connections: an id from "tcpstate conns", or an address pair
such as 192.0.2.1:40000-198.51.100.7:80 (either order; [v6]:port for IPv6).
Without CONN every connection is drawn.`,
		Example: `  # every connection of a homework capture, for the terminal
  tcpstate ladder -r handshake.pcap

  # connection 3 only, plain ASCII, raw sequence numbers
  tcpstate ladder -r capture.pcap 3 --ascii --absolute

  # a Mermaid sequence diagram to paste into Markdown
  tcpstate ladder -r capture.pcap 1 --format mermaid

  # an SVG drawing for a report
  tcpstate ladder -r capture.pcap 192.0.2.10:51234-198.51.100.20:8080 --format svg -o ladder.svg`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.conns = args
			return runLadder(o, st)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().Lookup("json").Hidden = true
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text (for a terminal), mermaid (a Markdown sequenceDiagram) or svg")
	cmd.Flags().BoolVar(&o.ascii, "ascii", false, "draw with plain ASCII instead of Unicode box drawing")
	cmd.Flags().BoolVar(&o.absolute, "absolute", false, "show raw sequence numbers instead of relative ones")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output; the file appears complete or not at all")
	return cmd
}

// connSelector picks connections by id or by address pair.
type connSelector struct {
	ids   map[uint64]bool
	pairs map[reassembly.Key]bool
	all   bool
	used  map[string]bool // selectors that matched something
	args  []string
}

func parseConnSelector(args []string) (*connSelector, error) {
	s := &connSelector{ids: map[uint64]bool{}, pairs: map[reassembly.Key]bool{}, all: len(args) == 0, used: map[string]bool{}, args: args}
	for _, a := range args {
		if id, err := strconv.ParseUint(a, 10, 64); err == nil && id > 0 {
			s.ids[id] = true
			continue
		}
		k, err := parsePair(a)
		if err != nil {
			return nil, fmt.Errorf("connection %q: want an id from tcpstate conns or an address pair such as 192.0.2.1:40000-198.51.100.7:80", a)
		}
		s.pairs[k] = true
	}
	return s, nil
}

// parsePair reads "a:port-b:port" (IPv6 in brackets).
func parsePair(s string) (reassembly.Key, error) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		a, errA := netip.ParseAddrPort(s[:i])
		b, errB := netip.ParseAddrPort(s[i+1:])
		if errA == nil && errB == nil {
			return reassembly.KeyOf(a, b), nil
		}
	}
	return reassembly.Key{}, fmt.Errorf("not an address pair")
}

func (s *connSelector) match(c *reassembly.Conn) bool {
	if s.all {
		return true
	}
	if s.ids[c.ID] {
		s.used[strconv.FormatUint(c.ID, 10)] = true
		return true
	}
	k := reassembly.KeyOf(c.Client, c.Server)
	if s.pairs[k] {
		s.used[pairString(k)] = true
		return true
	}
	return false
}

func pairString(k reassembly.Key) string { return k.Lo.String() + "-" + k.Hi.String() }

// unmatched returns the first selector that matched no connection.
func (s *connSelector) unmatched() string {
	for _, a := range s.args {
		if id, err := strconv.ParseUint(a, 10, 64); err == nil {
			if !s.used[strconv.FormatUint(id, 10)] {
				return a
			}
			continue
		}
		if k, err := parsePair(a); err == nil && !s.used[pairString(k)] {
			return a
		}
	}
	return ""
}

// ladderBuilder records the segments of the selected connections.
type ladderBuilder struct {
	sel      *connSelector
	absolute bool
	views    map[*reassembly.Conn]*ladderBuild
	order    []*ladderBuild
}

type ladderBuild struct {
	conn *reassembly.Conn
	view ladderView
	// hist is, per row, how many transitions the connection had after it.
	hist []int
	// syn, synAck are the times of the first SYN and SYN-ACK, for the RTT.
	synAt, synAckAt         int64
	hasSYN, hasSYNACK, done bool
}

func newLadderBuilder(sel *connSelector, absolute bool) *ladderBuilder {
	return &ladderBuilder{sel: sel, absolute: absolute, views: map[*reassembly.Conn]*ladderBuild{}}
}

func (lb *ladderBuilder) segment(c *reassembly.Conn, s *capture.Segment, p *capture.Packet, rep fsm.Report) {
	b := lb.views[c]
	if b == nil {
		if !lb.sel.match(c) {
			return
		}
		b = &ladderBuild{conn: c}
		b.view.Start = p.Time
		lb.views[c] = b
		lb.order = append(lb.order, b)
	}
	from := fsm.Client
	if s.Src != c.Client {
		from = fsm.Server
	}
	f := fsm.Flags(s.Flags)
	row := ladderRow{
		Offset: p.Time.Sub(b.view.Start), Packet: p.Num, From: from, Flags: f,
		Seq: s.Seq, Ack: s.Ack, Len: s.PayloadLen, Window: c.Machine.Endpoint(from).Window,
		Tags: segmentTags(rep, c.Flags, c.DupAck),
	}
	if f.Contains(fsm.SYN) {
		o := &b.view.Options[from]
		if !o.Seen {
			*o = optionsOf(&s.Opts)
		}
		ns := p.Time.UnixNano()
		switch {
		case !f.Contains(fsm.ACK) && !b.hasSYN:
			b.synAt, b.hasSYN = ns, true
		case f.Contains(fsm.ACK) && !b.hasSYNACK:
			b.synAckAt, b.hasSYNACK = ns, true
			if b.hasSYN {
				b.view.SYNToSYNACK, b.view.HasSYNToSYNACK = time.Duration(ns-b.synAt), true
			}
		}
	} else if f.Contains(fsm.ACK) && b.hasSYNACK && !b.done && from == fsm.Client {
		b.done = true
		b.view.SYNACKToACK, b.view.HasSYNACKToACK = time.Duration(p.Time.UnixNano()-b.synAckAt), true
	}
	b.view.Rows = append(b.view.Rows, row)
	b.hist = append(b.hist, c.Machine.HistoryLen())
}

// segmentTags names what is notable about a segment: Wireshark's analysis
// flags, in the words of its Info column, then what the state machine
// noticed that Wireshark has no word for (RSTs it ignored or challenged,
// anomalies).
func segmentTags(rep fsm.Report, ws wireshark.Flags, dupAck uint32) []string {
	var t []string
	for _, w := range wiresharkTags {
		if !ws.Contains(w.flag) {
			continue
		}
		if w.flag == wireshark.Retransmission && ws&(wireshark.FastRetransmission|wireshark.SpuriousRetransmission) != 0 {
			continue // the more specific word says it
		}
		if w.flag == wireshark.DuplicateAck {
			t = append(t, fmt.Sprintf("Dup ACK #%d", dupAck))
			continue
		}
		t = append(t, w.tag)
	}
	if rep.Anomalies&(fsm.RSTOutOfWindow|fsm.RSTIgnored) != 0 {
		t = append(t, "RST ignored")
	}
	if rep.Anomalies&fsm.RSTChallenged != 0 {
		t = append(t, "RST challenged")
	}
	rest := rep.Anomalies &^ (fsm.RSTOutOfWindow | fsm.RSTIgnored | fsm.RSTChallenged)
	t = append(t, rest.Names()...)
	return t
}

// wiresharkTags are the analysis flags as Wireshark's Info column words
// them (without its "TCP " prefix), in its order.
var wiresharkTags = []struct {
	flag wireshark.Flags
	tag  string
}{
	{wireshark.ReusedPorts, "Port numbers reused"},
	{wireshark.LostSegment, "Previous segment not captured"},
	{wireshark.AckLostSegment, "ACKed unseen segment"},
	{wireshark.Retransmission, "Retransmission"},
	{wireshark.FastRetransmission, "Fast Retransmission"},
	{wireshark.SpuriousRetransmission, "Spurious Retransmission"},
	{wireshark.OutOfOrder, "Out-Of-Order"},
	{wireshark.KeepAlive, "Keep-Alive"},
	{wireshark.KeepAliveAck, "Keep-Alive ACK"},
	{wireshark.DuplicateAck, "Dup ACK"},
	{wireshark.ZeroWindowProbe, "ZeroWindowProbe"},
	{wireshark.ZeroWindowProbeAck, "ZeroWindowProbeAck"},
	{wireshark.ZeroWindow, "ZeroWindow"},
	{wireshark.WindowFull, "Window Full"},
	{wireshark.WindowUpdate, "Window Update"},
}

func optionsOf(o *capture.Options) handshakeOptions {
	h := handshakeOptions{Seen: true, WScale: -1}
	if o.Has&capture.OptMSS != 0 {
		h.MSS = int(o.MSS)
	}
	if o.Has&capture.OptWScale != 0 {
		h.WScale = int(o.WScale)
	}
	h.SACKPermitted = o.Has&capture.OptSACKPermitted != 0
	h.Timestamps = o.Has&capture.OptTimestamps != 0
	if o.Has&capture.OptFastOpen != 0 {
		h.FastOpen, h.FastOpenCookieLen = true, int(o.TFOCookieLen)
	}
	return h
}

// finish turns the recordings into views, now that the whole capture is
// known: states, and which inferences were later revised.
func (lb *ladderBuilder) finish() []*ladderView {
	views := make([]*ladderView, 0, len(lb.order))
	for _, b := range lb.order {
		c := b.conn
		m := &c.Machine
		v := &b.view
		v.ID, v.Proto, v.Client, v.Server, v.Ending = c.ID, proto(c.IPv6()), c.Client, c.Server, c.Ending()
		v.Absolute = lb.absolute
		for r := fsm.Client; r <= fsm.Server; r++ {
			v.ISN[r] = uint32(m.Endpoint(r).Base)
			if !v.Options[r].Seen {
				v.Options[r].WScale = -1
			}
		}
		v.Notes = ladderNotes(c)
		h := m.History()
		// Initial states: before the first transition of each role.
		v.Initial = [2]ladderState{{State: fsm.Closed}, {State: fsm.Listen}}
		for r := fsm.Client; r <= fsm.Server; r++ {
			for _, tr := range h {
				if tr.Role != r {
					continue
				}
				v.Initial[r].State = tr.From
				if tr.Cause == fsm.CausePickup || tr.Cause == fsm.CauseSYNImplied {
					// What the capture missed is where the ladder starts.
					v.Initial[r] = ladderState{State: tr.To, Inferred: true}
				}
				break
			}
		}
		prev := 0
		cur := v.Initial
		for i := range v.Rows {
			row := &v.Rows[i]
			if !lb.absolute {
				row.Seq -= v.ISN[row.From]
				if row.Flags.Contains(fsm.ACK) {
					row.Ack -= v.ISN[row.From.Peer()]
				} else {
					row.Ack = 0
				}
			}
			for r := fsm.Client; r <= fsm.Server; r++ {
				st := ladderState{State: cur[r].State, Inferred: cur[r].Inferred, Revised: cur[r].Revised}
				for _, tr := range h[prev:b.hist[i]] {
					if tr.Role != r {
						continue
					}
					if tr.Cause == fsm.CausePickup || tr.Cause == fsm.CauseSYNImplied {
						continue // shown as the initial state
					}
					if tr.Packet != row.Packet {
						// A timer between the previous segment and this one.
						st = ladderState{State: tr.To, Inferred: !tr.Certain, Revised: tr.Revised}
						continue
					}
					st.State, st.Changed = tr.To, true
					st.Path = append(st.Path, tr.To)
					st.Inferred, st.Revised = !tr.Certain, tr.Revised
					if !st.Revision || tr.Revision {
						st.Cause = tr.Cause.String() // a revision's reason is kept
					}
					st.Revision = st.Revision || tr.Revision
				}
				if len(st.Path) < 2 {
					st.Path = nil
				}
				row.After[r] = st
				cur[r] = ladderState{State: st.State, Inferred: st.Inferred, Revised: st.Revised}
			}
			prev = b.hist[i]
		}
		// Timers after the last segment (TIME_WAIT running out).
		v.Final = cur
		for _, tr := range h[prev:] {
			v.Final[tr.Role] = ladderState{State: tr.To, Inferred: !tr.Certain, Revised: tr.Revised, Changed: true, Cause: tr.Cause.String()}
		}
		views = append(views, v)
	}
	return views
}

// ladderNotes says how the roles were decided when no SYN was seen.
func ladderNotes(c *reassembly.Conn) []string {
	var n []string
	switch c.Roles {
	case reassembly.RoleBySYNACK:
		n = append(n, "No SYN was captured: the sender of the SYN-ACK is taken as the server, and the client as in SYN_SENT before it.")
	case reassembly.RoleByPort:
		n = append(n, "No SYN or SYN-ACK was captured: the connection was picked up mid-stream, both ends assumed ESTABLISHED.")
		n = append(n, "Roles are guessed: the well-known or lower port ("+strconv.Itoa(int(c.Server.Port()))+") is taken as the server.")
	}
	if a := c.Anomalies.Names(); len(a) > 0 {
		n = append(n, "Anomalies: "+strings.Join(a, "; ")+".")
	}
	return n
}

func runLadder(o *ladderOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	switch o.format {
	case "text", "mermaid", "svg":
	default:
		return fmt.Errorf("--format must be text, mermaid or svg, not %q", o.format)
	}
	sel, err := parseConnSelector(o.conns)
	if err != nil {
		return err
	}
	lb := newLadderBuilder(sel, o.absolute)
	a, err := analyze(&o.sourceOptions, st, analyzeOptions{segment: lb.segment})
	if err != nil {
		return err
	}
	if u := sel.unmatched(); u != "" && a.err == nil {
		return fmt.Errorf("no connection %s in the capture (tcpstate conns lists them)", u)
	}
	views := lb.finish()
	colored := o.output == "" && colorEnabled(o.color, st.stdout)
	if o.color == "always" {
		colored = true
	}
	err = renderTo(o.output, o.files, st.stdout, func(out io.Writer) error {
		return writeBuffered(out, func(w io.Writer) error {
			switch o.format {
			case "mermaid":
				return renderLadderMermaid(w, views)
			case "svg":
				return renderLadderSVG(w, views)
			}
			return renderLadderText(w, views, o.ascii, newPalette(colored))
		})
	})
	return a.finish(&o.sourceOptions, st, err)
}
