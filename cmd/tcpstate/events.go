package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

func newEventsCmd(st *streams) *cobra.Command {
	o := &sourceOptions{}
	cmd := &cobra.Command{
		Use:   "events (-r FILE | -i IFACE) [FILTER...]",
		Short: "One line per state transition, with its cause, as it happens",
		Long: `Print one line per state transition of any endpoint, in capture order: the
time (seconds since the first packet), the packet that caused it ("timer" for
TIME_WAIT running out or a handshake given up), the connection id (as in conns),
the endpoint, the transition, the segment that caused it (flags, relative seq
and ack, payload length), whether it is certain or inferred, the cause in
words, and the section of RFC 9293 whose rule applied.

A transition caused by a segment the endpoint sent is certain. One caused by a
segment it was sent is inferred: the segment may not have arrived. When later
packets prove it did not, a "revised" line undoes the inference: events are
printed as they are learned, never rewritten.

With -i the capture is live and lines are written as transitions happen
(flushed at least once a second) until Ctrl-C or SIGTERM.`,
		Example: `  tcpstate events -r handshake.pcap
  tcpstate events -r capture.pcap --json | jq 'select(.to == "CLOSE_WAIT")'
  tcpstate events -r capture.pcap | grep revised
  sudo tcpstate events -i any tcp port 22 --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.setFilterArgs(args); err != nil {
				return err
			}
			return runEvents(o, st)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

// eventSegment is the segment that caused an event, in JSON.
type eventSegment struct {
	flags fsm.Flags
	Flags string `json:"flags"`
	Seq   uint32 `json:"seq"`
	Ack   uint32 `json:"ack"`
	Len   int    `json:"len"`
}

// eventRow is one transition. The JSON names are stable.
type eventRow struct {
	Time     string        `json:"time"`
	Offset   float64       `json:"offset"`
	Packet   uint64        `json:"packet,omitempty"` // 0 for a timer
	Conn     uint64        `json:"conn"`
	Role     string        `json:"role"`
	Endpoint string        `json:"endpoint"`
	From     string        `json:"from"`
	To       string        `json:"to"`
	Certain  bool          `json:"certain"`
	Revision bool          `json:"revision"`
	Cause    string        `json:"cause"`
	RFC      string        `json:"rfc"`
	Segment  *eventSegment `json:"segment,omitempty"`
}

func runEvents(o *sourceOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	ew := newEventWriter(st.stdout, o.json, newPalette(colorEnabled(o.color, st.stdout)))
	ao := analyzeOptions{keep: func(*reassembly.Conn) bool { return false }, recycle: true, drain: true, plain: true}
	ew.hook(&ao)
	a, err := analyze(o, st, ao)
	if err != nil {
		return err
	}
	return a.finish(o, st, ew.flush())
}

// eventWriter prints transitions as they happen, as lines or JSON Lines.
type eventWriter struct {
	w       *bufio.Writer
	json    bool
	p       *palette
	first   time.Time
	pending []pendingEvent
	err     error // the first failed write; nothing is written after it
}

func newEventWriter(w io.Writer, json bool, p *palette) *eventWriter {
	return &eventWriter{w: bufio.NewWriter(w), json: json, p: p}
}

// hook makes the analysis hand its transitions to e.
func (e *eventWriter) hook(ao *analyzeOptions) {
	ao.started = func(t time.Time) { e.first = t }
	// Transitions that a segment causes wait for the segment hook, which
	// knows the segment; timers are printed at once.
	ao.transition = func(c *reassembly.Conn, tr *fsm.Transition) {
		if tr.Packet == 0 {
			e.emit(c, tr, nil)
			return
		}
		e.pending = append(e.pending, pendingEvent{c, *tr})
	}
	ao.segment = func(c *reassembly.Conn, s *capture.Segment, pkt *capture.Packet, rep fsm.Report) {
		for i := range e.pending {
			p := &e.pending[i]
			e.emit(p.conn, &p.tr, relativeSegment(c, s))
		}
		e.pending = e.pending[:0]
	}
	// Live, lines reach the reader within a second.
	ao.tick = func(*analysis, time.Time) {
		if e.err == nil {
			e.err = e.w.Flush()
		}
	}
}

func (e *eventWriter) emit(c *reassembly.Conn, tr *fsm.Transition, seg *eventSegment) {
	if e.err != nil {
		return
	}
	row := newEventRow(c, tr, seg, e.first)
	if e.json {
		var b []byte
		b, e.err = json.Marshal(row)
		if e.err == nil {
			b = append(b, '\n')
			_, e.err = e.w.Write(b)
		}
		return
	}
	_, e.err = fmt.Fprintln(e.w, formatEvent(&row, tr, e.p))
}

// flush writes what is buffered and returns the first write error.
func (e *eventWriter) flush() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

type pendingEvent struct {
	conn *reassembly.Conn
	tr   fsm.Transition
}

// relativeSegment describes s with sequence numbers relative to each
// side's base, as Wireshark shows them.
func relativeSegment(c *reassembly.Conn, s *capture.Segment) *eventSegment {
	from := fsm.Client
	if s.Src != c.Client {
		from = fsm.Server
	}
	e := &eventSegment{
		flags: fsm.Flags(s.Flags),
		Flags: fsm.Flags(s.Flags).String(),
		Seq:   s.Seq - uint32(c.Machine.Endpoint(from).Base),
		Len:   s.PayloadLen,
	}
	if fsm.Flags(s.Flags).Contains(fsm.ACK) {
		e.Ack = s.Ack - uint32(c.Machine.Endpoint(from.Peer()).Base)
	}
	return e
}

func newEventRow(c *reassembly.Conn, tr *fsm.Transition, seg *eventSegment, first time.Time) eventRow {
	ep := c.Client
	if tr.Role == fsm.Server {
		ep = c.Server
	}
	return eventRow{
		Time:   tr.Time.UTC().Format(time.RFC3339Nano),
		Offset: tr.Time.Sub(first).Seconds(),
		Packet: tr.Packet, Conn: c.ID, Role: tr.Role.String(), Endpoint: ep.String(),
		From: tr.From.String(), To: tr.To.String(), Certain: tr.Certain, Revision: tr.Revision,
		Cause: tr.Cause.String(), RFC: tr.Cause.RFC(), Segment: seg,
	}
}

// formatEvent prints one event line:
//
//	0.000000  pkt 1  conn 1  client 192.0.2.10:47000  CLOSED → SYN_SENT  [S] seq 0  certain  sent SYN (active open)  (RFC 9293 §3.10.1)
func formatEvent(r *eventRow, tr *fsm.Transition, p *palette) string {
	pkt := "timer"
	if r.Packet != 0 {
		pkt = fmt.Sprintf("pkt %d", r.Packet)
	}
	seg := ""
	if r.Segment != nil {
		seg = fmt.Sprintf("[%s] seq %d", r.Segment.Flags, r.Segment.Seq)
		if r.Segment.flags.Contains(fsm.ACK) {
			seg += fmt.Sprintf(" ack %d", r.Segment.Ack)
		}
		if r.Segment.Len > 0 {
			seg += fmt.Sprintf(" len %d", r.Segment.Len)
		}
		seg += "  "
	}
	kind := "inferred"
	switch {
	case r.Revision:
		kind = "revised"
	case r.Certain:
		kind = "certain"
	}
	return fmt.Sprintf("%10.6f  %-9s  conn %-3d  %-6s %-22s  %s → %s  %s%s  %s  (RFC 9293 §%s)",
		r.Offset, pkt, r.Conn, r.Role, r.Endpoint, p.State(tr.From, 0), p.State(tr.To, 0), seg, kind, r.Cause, r.RFC)
}
