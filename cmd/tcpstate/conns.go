package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

type connsOptions struct {
	sourceOptions
	format string
}

func newConnsCmd(st *streams) *cobra.Command {
	o := &connsOptions{}
	cmd := &cobra.Command{
		Use:   "conns (-r FILE | -i IFACE) [FILTER...]",
		Short: "One row per connection: who, when, how much, both final states and how it ended",
		Long: `Print one row per connection in the capture: its id (the order connections
began), client and server, when it was first seen (UTC), how long it lasted,
packets and payload bytes in each direction, the final state of the client
and of the server, Zeek's conn_state and history for it, and how it ended
in words: closed by client or server, reset by client or server, refused,
timed out in SYN_SENT, still open, ...

The client is the endpoint that sent the first SYN. Without one (the
capture began late) the sender of a SYN-ACK is the server, and without
that the lower port, or the well-known one, is taken as the server: such
rows are marked "?" next to the id (and "roles_guessed" in JSON).

A 4-tuple reused after TIME_WAIT or a refusal is a new connection with its
own id.

Rows are written as connections end, in the order they began, so memory
holds the connections still open, not the whole capture: a connection still
open after 65536 later ones ended gets its row when it ends, out of order.
The text table's column widths are fixed by its first 1000 rows.

--format zeek writes Zeek's conn.log (tab-separated, with its header lines,
ready for zeek-cut), and --format zeek-json the same records as JSON Lines
with Zeek's field names. Their rows come in the order connections ended, as
Zeek writes them. The originator is the endpoint that sent the first segment
unless Zeek's rules flip the roles; conn_state, history and the byte counts
follow Zeek's definitions (see docs/zeek.md for the few differences). Each
row is one of tcpstate's connections: Zeek can split a 4-tuple's packets
differently (it ends an unanswered attempt after 5 s, for one).`,
		Example: `  tcpstate conns -r capture.pcap
  tcpstate conns -r capture.pcap --json | jq 'select(.ending | startswith("reset"))'
  tcpstate conns -r part1.pcap -r part2.pcap --time-wait 30s
  tcpstate conns -r capture.pcap --format zeek > conn.log
  tcpstate conns -r capture.pcap --format zeek | zeek-cut id.orig_h id.resp_p conn_state history`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.setFilterArgs(args); err != nil {
				return err
			}
			return runConns(o, st)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text, json (as --json), zeek (Zeek's conn.log) or zeek-json (Zeek's JSON conn.log)")
	return cmd
}

// dirJSON is one direction of a connection in JSON.
type dirJSON struct {
	Packets         uint64 `json:"packets"`
	Bytes           uint64 `json:"bytes"`
	IPBytes         uint64 `json:"ip_bytes"`
	Retransmissions uint64 `json:"retransmissions"`
	KeepAlives      uint64 `json:"keepalives"`
}

// connRow is one connection. The JSON names are stable.
type connRow struct {
	ID            uint64   `json:"id"`
	Proto         string   `json:"proto"`
	Client        string   `json:"client"`
	Server        string   `json:"server"`
	RolesBy       string   `json:"roles_by"`
	RolesGuessed  bool     `json:"roles_guessed"`
	PickedUp      bool     `json:"picked_up"`
	FirstSeen     string   `json:"first_seen"`
	LastSeen      string   `json:"last_seen"`
	Duration      float64  `json:"duration"`
	C2S           dirJSON  `json:"c2s"`
	S2C           dirJSON  `json:"s2c"`
	ClientState   string   `json:"client_state"`
	ServerState   string   `json:"server_state"`
	Ending        string   `json:"ending"`
	ZeekConnState string   `json:"zeek_conn_state"`
	ZeekHistory   string   `json:"zeek_history"`
	Anomalies     []string `json:"anomalies,omitempty"`
	// Analysis counts the connection's segments by Wireshark analysis
	// flag, by tshark's field name (tcp.analysis.NAME).
	Analysis map[string]uint32 `json:"analysis,omitempty"`

	// For the text table, without holding on to the connection.
	first                    time.Time
	duration                 time.Duration // Duration's own figure
	client, server           netip.AddrPort
	clientState, serverState fsm.State
}

func runConns(o *connsOptions, st *streams) error {
	switch o.format {
	case "text", "json", "zeek", "zeek-json":
	default:
		return fmt.Errorf("--format must be text, json, zeek or zeek-json, not %q", o.format)
	}
	if o.json {
		if o.format != "text" && o.format != "json" {
			return fmt.Errorf("--json and --format %s cannot be combined", o.format)
		}
		o.format = "json"
	}
	if err := o.validate(); err != nil {
		return err
	}
	var w rowWriter
	switch o.format {
	case "zeek", "zeek-json":
		w = newZeekWriter(st.stdout, o.format == "zeek-json")
	default:
		w = newOrderedRows(newConnsWriter(st.stdout, o.format == "json", newPalette(colorEnabled(o.color, st.stdout))))
	}
	// Rows are written as connections leave the table: memory holds the
	// connections still open (and the rows waiting for an older one).
	keep := func(c *reassembly.Conn) bool {
		w.add(c)
		return false
	}
	// Wireshark's analysis flags are a field of the JSON rows only.
	ao := analyzeOptions{keep: keep, started: w.started, recycle: true, drain: true, noWireshark: o.format != "json", quiet: o.format == "text"}
	a, err := analyze(&o.sourceOptions, st, ao)
	if err != nil {
		if r, ok := w.(*orderedRows); ok {
			r.stop()
		}
		return err
	}
	return a.finish(&o.sourceOptions, st, w.close(a))
}

// rowWriter takes connections as they end and writes their rows.
type rowWriter interface {
	// started is called with the time of the first packet.
	started(first time.Time)
	add(c *reassembly.Conn)
	// close writes what is left and returns the first write error.
	close(a *analysis) error
}

// orderedRows puts rows back in the order connections began: a row waits
// until every connection with a smaller id has ended. So that one
// long-lived connection cannot make every later row wait (memory would grow
// with the capture), at most maxWaiting rows wait: beyond that the oldest
// waiting ones are written, and the connections still open before them get
// their rows when they end, out of order.
//
// The rows are formatted and written by a goroutine of their own, in
// batches, so that on a machine with a core to spare the writing overlaps
// the analysis (and, at the end of a capture, the table emptying itself).
type orderedRows struct {
	out     *connsWriter
	next    uint64           // rows with a smaller id have been written, or are late
	waiting map[uint64]int32 // id to the row's place in held
	held    [][]connRow      // the waiting rows, in pages of heldPage places reused (no allocation a row)
	nheld   int32            // places in held
	free    []int32          // places in held that are free
	max     int              // the most rows that wait

	histories map[string]string // Zeek histories made, to give each row one of these
	hist      []byte

	batch   []connRow      // rows to hand to the writer
	batches chan []connRow // to the writer
	spare   chan []connRow // batches the writer is done with
	done    chan struct{}  // closed when the writer is done
}

const (
	maxWaiting = 65536
	rowBatch   = 256
	// heldPage is how many waiting rows a page of orderedRows.held holds:
	// pages, not one slice, so that growing never copies (nor leaves
	// garbage behind).
	heldPage = 256
	// maxHistories bounds the distinct Zeek histories kept for reuse: a
	// busy capture has a few hundred.
	maxHistories = 4096
)

func newOrderedRows(out *connsWriter) *orderedRows {
	r := &orderedRows{
		out: out, next: 1, waiting: map[uint64]int32{}, max: maxWaiting, histories: map[string]string{},
		batches: make(chan []connRow, 4), spare: make(chan []connRow, 5), done: make(chan struct{}),
	}
	go func(batches <-chan []connRow, spare chan<- []connRow, done chan<- struct{}) {
		defer close(done)
		for b := range batches {
			for i := range b {
				out.write(&b[i])
				b[i] = connRow{}
			}
			select {
			case spare <- b[:0]:
			default:
			}
		}
	}(r.batches, r.spare, r.done)
	return r
}

// slot returns the next place in the batch for the writer, for the caller
// to write whole (fillConnRow, or a held row copied); the row made there
// goes with the batch at the next call of slot or stop. (Rows are made
// where they go: a row returned and passed by value was copied four times,
// 408 bytes each.)
func (r *orderedRows) slot() *connRow {
	if len(r.batch) == rowBatch {
		r.batches <- r.batch
		r.batch = nil
	}
	if r.batch == nil {
		select {
		case r.batch = <-r.spare:
		default:
			r.batch = make([]connRow, 0, rowBatch)
		}
	}
	r.batch = r.batch[:len(r.batch)+1]
	return &r.batch[len(r.batch)-1]
}

func (r *orderedRows) started(time.Time) {}

func (r *orderedRows) add(c *reassembly.Conn) {
	switch {
	case c.ID < r.next:
		r.row(r.slot(), c) // late: rows after it were written
		return
	case c.ID > r.next:
		r.hold(c)
		if len(r.waiting) > r.max {
			r.release()
		}
		return
	}
	r.row(r.slot(), c)
	r.next++
	r.drain()
}

// row makes the row of c in p, with the fields only JSON shows when it is
// JSON.
func (r *orderedRows) row(p *connRow, c *reassembly.Conn) {
	fillConnRow(p, c, r.out.json)
	p.ZeekHistory = r.history(c)
}

// history returns c's Zeek history, as the same string for every row with
// the same history (a string a row would otherwise be most of a conns
// run's garbage).
func (r *orderedRows) history(c *reassembly.Conn) string {
	r.hist = c.Zeek.AppendHistory(r.hist[:0])
	if h, ok := r.histories[string(r.hist)]; ok {
		return h
	}
	h := string(r.hist)
	if len(r.histories) < maxHistories {
		r.histories[h] = h
	}
	return h
}

// hold makes c's row and keeps it until the rows before it are written.
func (r *orderedRows) hold(c *reassembly.Conn) {
	var i int32
	if n := len(r.free); n > 0 {
		i, r.free = r.free[n-1], r.free[:n-1]
	} else {
		if r.nheld%heldPage == 0 {
			r.held = append(r.held, make([]connRow, heldPage))
		}
		i = r.nheld
		r.nheld++
	}
	r.row(r.place(i), c)
	r.waiting[c.ID] = i
}

// place returns the place i in held.
func (r *orderedRows) place(i int32) *connRow { return &r.held[i/heldPage][i%heldPage] }

// writeHeld writes the waiting row of id and frees its place.
func (r *orderedRows) writeHeld(id uint64, i int32) {
	delete(r.waiting, id)
	p := r.place(i)
	*r.slot() = *p
	*p = connRow{}
	r.free = append(r.free, i)
}

// drain writes the waiting rows that are next in order.
func (r *orderedRows) drain() {
	for {
		i, ok := r.waiting[r.next]
		if !ok {
			return
		}
		r.writeHeld(r.next, i)
		r.next++
	}
}

// release writes the older half of the waiting rows, skipping the
// connections before them that are still open.
func (r *orderedRows) release() {
	ids := make([]uint64, 0, len(r.waiting))
	for id := range r.waiting {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids[:len(ids)/2] {
		r.writeHeld(id, r.waiting[id])
		r.next = id + 1
	}
	r.drain()
}

// stop hands the last rows to the writer and waits for it to finish.
func (r *orderedRows) stop() {
	if r.batches == nil {
		return
	}
	if len(r.batch) > 0 {
		r.batches <- r.batch
		r.batch = nil
	}
	close(r.batches)
	r.batches = nil
	<-r.done
}

func (r *orderedRows) close(*analysis) error {
	r.stop()
	if len(r.waiting) > 0 {
		// Every connection has been added by now, so nothing is missing:
		// a gap would be a bug, and its rows are written all the same.
		return fmt.Errorf("internal error: %d rows after a missing connection %d", len(r.waiting), r.next)
	}
	return r.out.flush()
}

// fillConnRow makes the row of c in r, but for its Zeek history (see
// orderedRows.history); the fields the text table does not show are filled
// only for JSON. The fields are set one by one: a literal is built on the
// stack and copied, with wide loads of what narrow stores just wrote.
func fillConnRow(r *connRow, c *reassembly.Conn, json bool) {
	*r = connRow{}
	cs, ss := c.Machine.State(fsm.Client), c.Machine.State(fsm.Server)
	r.ID, r.Proto, r.client, r.server = c.ID, proto(c.IPv6()), c.Client, c.Server
	r.RolesGuessed, r.PickedUp = c.Roles.Guessed(), c.Machine.PickedUp()
	r.duration = c.Last().Sub(c.First())
	r.Duration = r.duration.Seconds()
	r.C2S.set(&c.Dir[fsm.Client])
	r.S2C.set(&c.Dir[fsm.Server])
	r.ClientState, r.ServerState = cs.String(), ss.String()
	r.Ending, r.ZeekConnState = c.Ending(), c.Zeek.State()
	r.first, r.clientState, r.serverState = c.First(), cs, ss
	if json {
		r.Client, r.Server = c.Client.String(), c.Server.String()
		r.RolesBy = c.Roles.String()
		r.FirstSeen, r.LastSeen = c.First().UTC().Format(time.RFC3339Nano), c.Last().UTC().Format(time.RFC3339Nano)
		r.Anomalies, r.Analysis = c.Anomalies.Names(), c.FlagCounts.Map()
	}
}

// set copies one direction's counters into d.
func (d *dirJSON) set(s *reassembly.Dir) {
	d.Packets, d.Bytes, d.IPBytes, d.Retransmissions, d.KeepAlives = s.Packets, s.Bytes, s.IPBytes, s.Retransmissions, s.KeepAlives
}

// connsWriter writes rows as a text table or JSON Lines. The table's
// column widths come from its first alignRows rows, which it holds back;
// later rows are written at once.
type connsWriter struct {
	w       *errWriter
	json    bool
	p       *palette
	pending []connRow
	width   []int
	aligned bool
	buf     []byte
	cell    []byte // a right-aligned cell, before it goes after its padding
	stamps  stamps
}

const alignRows = 1000

var (
	connsHeader = []string{"ID", "CLIENT", "SERVER", "FIRST SEEN (UTC)", "DURATION", "PKTS C>S", "S>C", "BYTES C>S", "S>C", "CLIENT STATE", "SERVER STATE", "ZEEK", "HISTORY", "ENDING"}
	connsRight  = []bool{true, false, false, false, true, true, true, true, true, false, false, false, false, false}
)

func newConnsWriter(w io.Writer, json bool, p *palette) *connsWriter {
	return &connsWriter{w: newErrWriter(w), json: json, p: p}
}

func (cw *connsWriter) write(r *connRow) {
	if cw.json {
		b, err := json.Marshal(r)
		if err != nil {
			cw.w.fail(err)
			return
		}
		cw.w.Write(append(b, '\n'))
		return
	}
	if !cw.aligned {
		cw.pending = append(cw.pending, *r)
		if len(cw.pending) == alignRows {
			cw.align()
		}
		return
	}
	cw.rowLine(r)
}

// align fixes the column widths from the rows held back, and writes them.
func (cw *connsWriter) align() {
	cw.aligned = true
	cw.width = make([]int, len(connsHeader))
	for i, h := range connsHeader {
		cw.width[i] = len(h)
	}
	cells := make([][]string, len(cw.pending))
	for i := range cw.pending {
		cells[i] = connCells(&cw.pending[i], &cw.stamps)
		for j, cell := range cells[i] {
			cw.width[j] = max(cw.width[j], len(cell))
		}
	}
	cw.line(connsHeader, nil)
	for i := range cw.pending {
		cw.line(cells[i], &cw.pending[i])
	}
	cw.pending = nil
}

// connCells returns the cells of r's line (for the rows the column widths
// come from; later ones are written by rowLine without making strings).
func connCells(r *connRow, st *stamps) []string {
	cells := make([]string, len(connsHeader))
	var buf []byte
	for j := range cells {
		buf = appendConnCell(buf[:0], r, j, st)
		cells[j] = string(buf)
	}
	return cells
}

// appendConnCell appends cell j of r's line to b.
func appendConnCell(b []byte, r *connRow, j int, st *stamps) []byte {
	switch j {
	case 0:
		b = strconv.AppendUint(b, r.ID, 10)
		if r.RolesGuessed {
			b = append(b, '?')
		}
		return b
	case 1:
		return r.client.AppendTo(b)
	case 2:
		return r.server.AppendTo(b)
	case 3:
		return st.append(b, r.first)
	case 4:
		return append(appendSeconds(b, r.duration), 's')
	case 5:
		return strconv.AppendUint(b, r.C2S.Packets, 10)
	case 6:
		return strconv.AppendUint(b, r.S2C.Packets, 10)
	case 7:
		return strconv.AppendUint(b, r.C2S.Bytes, 10)
	case 8:
		return strconv.AppendUint(b, r.S2C.Bytes, 10)
	case 9:
		return append(b, r.ClientState...)
	case 10:
		return append(b, r.ServerState...)
	case 11:
		return append(b, r.ZeekConnState...)
	case 12:
		return append(b, r.ZeekHistory...)
	}
	return append(b, r.Ending...)
}

// rowLine writes r's line, as line does with its cells. A left-aligned
// cell is made in place in the line, a right-aligned one in cw.cell first
// and copied after its padding.
func (cw *connsWriter) rowLine(r *connRow) {
	b := cw.buf[:0]
	last := len(connsHeader) - 1
	for j := range connsHeader {
		start := len(b)
		var width int // as printed, without colour
		switch {
		case j == 9 && cw.p.on:
			b = append(b, cw.p.State(r.clientState, 0)...)
			width = len(r.ClientState)
		case j == 10 && cw.p.on:
			b = append(b, cw.p.State(r.serverState, 0)...)
			width = len(r.ServerState)
		case connsRight[j]:
			cw.cell = appendConnCell(cw.cell[:0], r, j, &cw.stamps)
			b = appendSpaces(b, cw.width[j]-len(cw.cell))
			b = append(b, cw.cell...)
			width = cw.width[j]
		default:
			b = appendConnCell(b, r, j, &cw.stamps)
			width = len(b) - start
		}
		if j == last {
			break
		}
		b = appendSpaces(b, cw.width[j]-width)
		b = append(b, "  "...)
	}
	b = append(b, '\n')
	cw.w.Write(b)
	cw.buf = b
}

// appendSeconds appends d in seconds with three decimals, as
// strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64) does, but from the
// integer: where d.Seconds() is within half a nanosecond of d (under 2^20
// s) and d is not halfway between two milliseconds, both round to the
// nearest millisecond; anything else goes to AppendFloat.
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 || d >= (1<<20)*time.Second || d%time.Millisecond == time.Millisecond/2 {
		return strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
	}
	ms := uint64((d + time.Millisecond/2) / time.Millisecond)
	b = strconv.AppendUint(b, ms/1000, 10)
	return appendDigits(append(b, '.'), int(ms%1000), 3)
}

// appendSpaces appends n spaces to b (none if n <= 0).
func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n -= len(spaces) {
		b = append(b, spaces[:min(n, len(spaces))]...)
	}
	return b
}

// line writes one row of the table; r is nil for the header.
func (cw *connsWriter) line(cols []string, r *connRow) {
	b := cw.buf[:0]
	for j, s := range cols {
		n := 0
		if j < len(cols)-1 {
			n = cw.width[j] - len(s)
		}
		switch {
		case r == nil:
			s = cw.p.header.Sprint(s)
		case j == 9:
			s = cw.p.State(r.clientState, 0)
		case j == 10:
			s = cw.p.State(r.serverState, 0)
		}
		if connsRight[j] {
			b = appendSpaces(b, n)
			b = append(b, s...)
		} else {
			b = append(b, s...)
			b = appendSpaces(b, n)
		}
		if j < len(cols)-1 {
			b = append(b, "  "...)
		}
	}
	b = append(b, '\n')
	cw.w.Write(b)
	cw.buf = b
}

const spaces = "                                                                "

func (cw *connsWriter) flush() error {
	if !cw.json && !cw.aligned {
		cw.align()
	}
	return cw.w.flush()
}
