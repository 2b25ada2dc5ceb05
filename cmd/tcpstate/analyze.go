package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// errBrokenPipe ends a command whose reader went away (tcpstate ... | head).
var errBrokenPipe = errors.New("broken pipe")

// damagedError is a capture that broke off: what came before was analysed.
type damagedError struct{ err error }

func (d *damagedError) Error() string { return d.err.Error() + " (results above are up to the damage)" }
func (d *damagedError) Unwrap() error { return d.err }

// analysis is what reading a whole capture produced.
type analysis struct {
	in    *input
	table connTable
	// conns holds every connection, finished or not, oldest first.
	conns    []*reassembly.Conn
	read     uint64 // packets read
	packets  uint64 // packets the filter selected (all without one)
	classes  [capture.NumClasses]uint64
	first    time.Time
	last     time.Time
	snapshot *snapshot // the table at --at, when asked for
	maxConns int
	err      error // a damaged capture, after which nothing was read
	// drained says that the table was emptied at the end (analyzeOptions.drain),
	// and open is then how many of its connections were not closed.
	drained bool
	open    int
	// visit says that conns lacks the connections still in the table,
	// which each reads (analyzeOptions.visit).
	visit bool
}

// each calls fn with every connection, oldest first: those of conns, then,
// with analyzeOptions.visit, those still in the table, each valid only
// during the call.
func (a *analysis) each(fn func(*reassembly.Conn)) {
	for _, c := range a.conns {
		fn(c)
	}
	if a.visit {
		a.table.Each(fn)
	}
}

// snapshot remembers what only the moment itself knows: Send-Q.
type snapshot struct {
	at    time.Time
	sendQ map[uint64][2]uint32
}

// connTable is the connection table: one reassembly.Table, or a
// reassembly.Sharded that spreads the connections over several cores.
type connTable interface {
	Advance(now time.Time)
	Settle(now time.Time)
	Conns() []*reassembly.Conn
	Each(fn func(*reassembly.Conn))
	Flush()
	Listeners() []*reassembly.Listener
	Stats() reassembly.Stats
}

// analyzeOptions are what a command wants from the analysis.
type analyzeOptions struct {
	at *timeSpec // take a snapshot at this moment
	// started, if set, is called with the time of the first packet.
	started func(first time.Time)
	// segment, if set, sees every TCP segment after its connection took it.
	segment func(c *reassembly.Conn, s *capture.Segment, p *capture.Packet, rep fsm.Report)
	// transition, if set, sees every transition as it happens.
	transition func(c *reassembly.Conn, tr *fsm.Transition)
	// tick, if set, is called about once a second during a live capture,
	// after the table's clock moved to now, with the analysis locked.
	tick func(a *analysis, now time.Time)
	// redraws says that tick draws on the terminal: no progress line.
	redraws bool
	// plain says that the command shows only the RFC 9293 states: the
	// table skips Zeek's and Wireshark's analyses.
	plain bool
	// noWireshark says that the command shows Zeek's analysis but not
	// Wireshark's: the table skips the latter.
	noWireshark bool
	// recycle says that no connection keep rejects is used after the
	// Finished call or the hooks that saw it (see reassembly.Config.Recycle
	// and Compact).
	recycle bool
	// drain says that keep takes every connection, those still in the
	// table at the end too, and keeps none: the table is emptied at the
	// end, oldest first, and analysis.conns stays empty.
	drain bool
	// visit says that the command reads the connections still in the
	// table at the end one at a time, with analysis.each: analysis.conns
	// then holds only those keep kept, and packed connections are not all
	// unpacked at once.
	visit bool
	// quiet says the command makes next to no garbage while the table
	// grows (see growQuietly).
	quiet bool
	// keep, if set, says which connections that left the table before the
	// end the command needs in analysis.conns: memory then holds only those
	// (the connections still in the table at the end are there too, unless
	// drain or visit).
	keep func(c *reassembly.Conn) bool
}

// analyze reads the capture named by opts and runs every TCP segment
// through the connection table. A live capture runs until SIGINT or SIGTERM.
func analyze(o *sourceOptions, st *streams, ao analyzeOptions) (*analysis, error) {
	in, err := openInput(o, st)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var save *packetWriter
	if o.write != "" {
		if save, err = newPacketWriter(o.write, o.files); err != nil {
			return nil, err
		}
	}
	a := &analysis{maxConns: o.maxConns, in: in}
	if ao.quiet {
		growQuietly()
	}
	var finished []*reassembly.Conn
	cfg := reassembly.Config{
		FSM:              fsm.Config{MSL: o.timeWait / 2},
		IdleTimeout:      o.idleTimeout,
		HandshakeTimeout: o.handshakeTimeout,
		MaxConns:         o.maxConns,
		Finished: func(c *reassembly.Conn) {
			if a.drained && !c.Machine.Finished() {
				a.open++
			}
			if ao.keep == nil || ao.keep(c) {
				finished = append(finished, c)
			}
		},
		Transition:     ao.transition,
		NoVocabularies: ao.plain,
		NoWireshark:    ao.noWireshark,
		// Connections whose both ends are done are packed (the cost of
		// a capture of many short connections is those in TIME_WAIT).
		Compact: ao.recycle,
	}
	// The connections are spread over the cores when nothing needs to see
	// each segment as it is taken: the results are the same (see
	// reassembly.Sharded), the wall time shorter. A live capture keeps one
	// table, which its ticker shares with the packet loop.
	var (
		table   *reassembly.Table
		sharded *reassembly.Sharded
	)
	// A connection the command does not keep is reused for a new one.
	cfg.Recycle = ao.recycle
	if workers := o.workers; workers > 1 && ao.segment == nil && ao.transition == nil && in.live == nil {
		sharded = reassembly.NewSharded(cfg, workers)
		defer sharded.Close()
		a.table = sharded
	} else {
		table = reassembly.NewTable(cfg)
		a.table = table
	}
	var live *liveRun
	if in.live != nil {
		live = startLive(a, o, st, ao, save)
	}
	var prog *progress
	if live == nil {
		prog = newProgress(st.stderr, o.quiet, in.src)
	}
	var (
		pkt capture.Packet
		seg capture.Segment
		dec capture.Decoder
	)
	segOut := new(capture.Segment)
	var at time.Time
	// The collector's target settles once the capture's clock reaches
	// settleAt (see settle).
	var settleAt time.Time
	settled := false
	for {
		err := in.src.Next(&pkt)
		if err == io.EOF {
			break
		}
		if err != nil {
			a.err = &damagedError{err}
			break
		}
		a.read++
		ok, err := in.match(&pkt)
		if err != nil {
			a.err = err
			break
		}
		if !ok {
			continue
		}
		if live != nil {
			live.mu.Lock()
		}
		a.packets++
		if save != nil {
			if err := save.write(&pkt); err != nil {
				if live != nil {
					live.mu.Unlock()
					live.stop()
				}
				save.file.abort()
				return nil, err
			}
		}
		if pkt.Time.IsZero() && a.packets > 1 {
			// A packet without a timestamp (a pcapng simple packet block)
			// comes at the time of the latest packet before it.
			pkt.Time = a.last
		}
		if a.packets == 1 {
			a.first = pkt.Time
			settleAt = a.first.Add(o.timeWait)
			if ao.started != nil {
				ao.started(a.first)
			}
			if ao.at != nil {
				at = ao.at.resolve(a.first)
			}
		}
		if pkt.Time.After(a.last) {
			a.last = pkt.Time
			if !settled && !a.last.Before(settleAt) {
				// Connections that closed begin to leave the table.
				settled = true
				settle()
			}
		}
		if ao.at != nil && a.snapshot == nil && pkt.Time.After(at) {
			a.snapshot = takeSnapshot(a.table, at)
		}
		cl := dec.Decode(pkt.LinkType, pkt.Data, &seg)
		a.classes[cl]++
		if cl == capture.ClassTCP {
			if sharded != nil {
				sharded.Add(&seg, pkt.Time, pkt.Num)
			} else {
				c, rep := table.Add(&seg, pkt.Time, pkt.Num)
				if ao.segment != nil {
					// A copy on the heap: seg stays on the stack, where
					// Decode writes its pointers without write barriers.
					*segOut = seg
					ao.segment(c, segOut, &pkt, rep)
				}
			}
		}
		if live != nil {
			live.mu.Unlock()
		} else if a.packets&1023 == 0 {
			prog.update(a.packets)
		}
	}
	if live != nil {
		live.stop()
		// The table shows the moment the capture stopped.
		if now := time.Now(); now.After(a.last) {
			a.last = now
		}
	} else {
		prog.done()
	}
	if save != nil {
		// What was read before any damage is saved all the same.
		if err := save.close(); err != nil {
			return nil, err
		}
	}
	if ao.at != nil && a.snapshot == nil {
		if a.packets == 0 {
			at = time.Time{}
		}
		a.snapshot = takeSnapshot(a.table, at)
	}
	a.table.Settle(a.last)
	if ao.drain {
		// One connection at a time: the packed ones are not all unpacked
		// at once.
		a.drained = true
		a.table.Flush()
	}
	a.conns = finished
	if ao.visit {
		a.visit = true
	} else {
		a.conns = append(a.conns, a.table.Conns()...)
	}
	sortConns(a.conns)
	return a, nil
}

func takeSnapshot(t connTable, at time.Time) *snapshot {
	t.Advance(at)
	s := &snapshot{at: at, sendQ: make(map[uint64][2]uint32)}
	for _, c := range t.Conns() {
		s.sendQ[c.ID] = [2]uint32{c.Machine.SendQ(fsm.Client), c.Machine.SendQ(fsm.Server)}
	}
	return s
}

// sortConns puts connections in the order they began: they finish out of
// order.
func sortConns(cs []*reassembly.Conn) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
}

// summary writes the closing summary line to w.
func (a *analysis) summary(w io.Writer) {
	st := a.table.Stats()
	open := a.open
	a.table.Each(func(c *reassembly.Conn) {
		if !c.Machine.Finished() {
			open++
		}
	})
	packets := plural(a.packets, "packet")
	if a.in.filters != nil {
		packets = fmt.Sprintf("%d of %s matched the filter", a.packets, plural(a.read, "packet"))
	}
	fmt.Fprintf(w, "tcpstate: %s, %s, %s (%d not closed at the end)",
		packets, plural(a.classes[capture.ClassTCP], "TCP segment"), plural(st.Conns, "connection"), open)
	var skipped []string
	for cl := capture.Class(0); cl < capture.NumClasses; cl++ {
		if cl != capture.ClassTCP && a.classes[cl] > 0 {
			skipped = append(skipped, fmt.Sprintf("%d %s", a.classes[cl], cl))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "; skipped %s", strings.Join(skipped, ", "))
	}
	if st.Evicted > 0 {
		fmt.Fprintf(w, "; %d evicted idle", st.Evicted)
	}
	if f := st.Full; f.Total() > 0 {
		fmt.Fprintf(w, "; table full (--max-conns %d): evicted %d closed, %d half-open, %d in TIME_WAIT, %d established",
			a.maxConns, f.Closed, f.HalfOpen, f.TimeWait, f.Open)
	}
	if a.in.live != nil {
		if ls, err := a.in.live.Stats(); err == nil {
			fmt.Fprintf(w, "; capture on %s: %d received by filter, %d dropped by kernel", a.in.name, ls.Received, ls.Dropped)
		}
	}
	fmt.Fprintln(w)
}

// finish ends a command: a failed write to standard output (err) becomes
// its error, quietly for a closed pipe; otherwise the summary follows on
// standard error unless -q, and a damaged capture makes the exit code.
func (a *analysis) finish(o *sourceOptions, st *streams, err error) error {
	if err := writeErrFor(err); err != nil {
		return err
	}
	if !o.quiet {
		a.summary(st.stderr)
	}
	return a.err
}

// writeBuffered runs write through a buffer on w and flushes it.
func writeBuffered(w io.Writer, write func(w io.Writer) error) error {
	b := bufio.NewWriter(w)
	if err := write(b); err != nil {
		return err
	}
	return b.Flush()
}

// writeErrFor maps a failed write to standard output: a closed pipe ends the
// program quietly.
func writeErrFor(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPIPE) {
		return errBrokenPipe
	}
	return fmt.Errorf("writing output: %w", err)
}

// progress draws a status line on a terminal while a capture is read.
type progress struct {
	w       io.Writer
	on      bool
	src     capture.Source
	start   time.Time
	next    time.Time
	drawn   bool
	packets uint64
}

func newProgress(w io.Writer, quiet bool, src capture.Source) *progress {
	p := &progress{w: w, src: src, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet && isatty.IsTerminal(f.Fd()) {
		p.on = true
		p.next = p.start.Add(300 * time.Millisecond)
	}
	return p
}

func (p *progress) update(packets uint64) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(250 * time.Millisecond)
	pr := p.src.Progress()
	rate := float64(packets) / now.Sub(p.start).Seconds()
	line := fmt.Sprintf("reading: %s", size(pr.Bytes))
	if pr.Total > 0 {
		line += fmt.Sprintf(" of %s (%.0f%%)", size(pr.Total), 100*float64(pr.Bytes)/float64(pr.Total))
	}
	line += fmt.Sprintf(", %d packets, %.0f packets/s", packets, rate)
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// plural formats a count with its noun: "1 packet", "2 packets".
func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
