package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

type netstatOptions struct {
	sourceOptions
	at string
}

func newNetstatCmd(st *streams) *cobra.Command {
	o := &netstatOptions{}
	cmd := &cobra.Command{
		Use:   "netstat (-r FILE | -i IFACE) [--at TIME] [FILTER...]",
		Short: "The socket table the observed hosts had at the end of the capture (or at --at)",
		Long: `Print the table "netstat -tan" would have printed on the observed hosts at the
end of the capture, or at the moment given by --at: one row per endpoint
socket (two per connection when both ends were observed), and the
listening sockets inferred from SYNs answered with SYN-ACK. CLOSED sockets
are absent, as in the kernel's table. The -t, -a and -n of netstat and ss
are accepted out of habit and change nothing: the table is always TCP
sockets, all of them, with numeric addresses.

Send-Q is the payload the socket sent that its peer had not acknowledged, as
far as the capture shows (data still in the sender's buffer and not yet on
the wire cannot be seen). Recv-Q, the data received but not yet read by the
application, cannot be known from the wire: it is always 0.

States are the RFC 9293 names. A state caused by a segment the endpoint
received, rather than sent, is inferred; with --json, "inferred": true marks
it. Inferences are revised when later packets prove a segment never arrived,
so a state reported with --at is consistent with the whole capture.

With -i, the capture is live (Linux; root or CAP_NET_RAW) and runs until
Ctrl-C (SIGINT) or SIGTERM. On a terminal the table is redrawn in place about
once a second, with the count of sockets in each state above it. When
standard output is not a terminal, or with --json, every transition is written as it
happens (one line, or with --json one JSON object with "from" and "to"), and
the final table follows when the capture stops (after a blank line, or as
JSON objects with "state"). TIME_WAIT and idle connections age on the wall
clock while the interface is quiet.

A filter expression in tcpdump's syntax selects the packets, in the kernel
when live and on every packet of a file, with the same meaning.`,
		Example: `  # the sockets at the end of the capture
  tcpstate netstat -r capture.pcap

  # 2.5 seconds after the first packet, as JSON Lines
  tcpstate netstat -r capture.pcap --at 2.5s --json

  # at an absolute time (UTC unless a zone is given)
  tcpstate netstat -r capture.pcapng.gz --at 2026-01-15T10:00:02Z

  # what was stuck in CLOSE_WAIT?
  tcpstate netstat -r incident.pcap | grep CLOSE_WAIT

  # only the connections to port 443 of one server
  tcpstate netstat -r capture.pcap tcp port 443 and host 192.0.2.7

  # a live, passive ss -tan of everything on eth0, saved as it is captured
  sudo tcpstate netstat -i eth0 -w eth0.pcapng`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.setFilterArgs(args); err != nil {
				return err
			}
			return runNetstat(o, st)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.at, "at", "", "show the table at `TIME`: an offset from the first packet (2.5s, 1m30s) or a time (RFC 3339 or Unix seconds)")
	// netstat -tan and ss -tan habits: what the table always is.
	for _, f := range []struct{ short, name, usage string }{
		{"t", "tcp", "TCP sockets (always)"},
		{"a", "all", "all sockets, listening ones included (always)"},
		{"n", "numeric", "numeric addresses and ports (always)"},
	} {
		cmd.Flags().BoolP(f.name, f.short, false, f.usage)
		cmd.Flags().MarkHidden(f.name)
	}
	return cmd
}

// socketRow is one line of the netstat table. The JSON names are stable.
// socketRow is one socket of the table: kept as values, and made into
// text or JSON (socketJSON) only as it is written, so that a table of a
// capture's hundred thousand sockets costs no strings of its own.
type socketRow struct {
	local, remote netip.AddrPort
	conn          uint64 // 0 for a listener
	sendQ         uint32
	state         fsm.State
	role          fsm.Role
	v6            bool // tcp6
	listener      bool // remote is any (*:*)
	inferred      bool
}

// socketJSON is a socket as --json writes it.
type socketJSON struct {
	Proto    string `json:"proto"`
	RecvQ    uint32 `json:"recv_q"`
	SendQ    uint32 `json:"send_q"`
	Local    string `json:"local"`
	Remote   string `json:"remote"`
	State    string `json:"state"`
	Conn     uint64 `json:"conn,omitempty"`
	Role     string `json:"role"`
	Inferred bool   `json:"inferred"`
}

func (r *socketRow) json() socketJSON {
	j := socketJSON{
		Proto: proto(r.v6), SendQ: r.sendQ, Local: r.local.String(), Remote: "*:*",
		State: r.state.String(), Conn: r.conn, Role: "listener", Inferred: r.inferred,
	}
	if !r.listener {
		j.Remote, j.Role = r.remote.String(), r.role.String()
	}
	return j
}

// appendRemote appends the remote address as netstat prints it.
func (r *socketRow) appendRemote(b []byte) []byte {
	if r.listener {
		return append(b, "*:*"...)
	}
	return r.remote.AppendTo(b)
}

func runNetstat(o *netstatOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	ao := analyzeOptions{plain: true, quiet: true}
	if o.at != "" {
		ts, err := parseTimeSpec(o.at)
		if err != nil {
			return err
		}
		ao.at = ts
	} else {
		// At the end of the capture, done connections have no socket.
		ao.keep = func(*reassembly.Conn) bool { return false }
		ao.recycle = true
		ao.visit = true
	}
	p := newPalette(colorEnabled(o.color, st.stdout))
	var (
		ew     *eventWriter
		screen *liveScreen
	)
	if o.iface != "" && o.at == "" {
		// Live: a terminal shows the table redrawn in place; anything else
		// gets the transitions as they happen, then the final table.
		if f, ok := st.stdout.(*os.File); ok && !o.json && isatty.IsTerminal(f.Fd()) {
			screen = &liveScreen{w: f, p: p, iface: o.iface}
			ao.redraws = true
			ao.tick = screen.draw
		} else {
			ew = newEventWriter(st.stdout, o.json, p)
			ew.hook(&ao)
		}
	}
	a, err := analyze(&o.sourceOptions, st, ao)
	if err != nil {
		return err
	}
	if ew != nil {
		if err := ew.flush(); err != nil {
			return a.finish(&o.sourceOptions, st, err)
		}
		if !o.json {
			fmt.Fprintln(st.stdout)
		}
	}
	if screen != nil {
		screen.clear()
	}
	rows := netstatRows(a)
	err = writeBuffered(st.stdout, func(w io.Writer) error {
		if o.json {
			enc := json.NewEncoder(w)
			for i := range rows {
				if err := enc.Encode(rows[i].json()); err != nil {
					return err
				}
			}
			return nil
		}
		writeNetstatTable(w, rows, p)
		return nil
	})
	return a.finish(&o.sourceOptions, st, err)
}

// netstatRows lists the sockets at the end of the capture, or at the
// snapshot's moment.
func netstatRows(a *analysis) []socketRow {
	at := a.last
	if a.snapshot != nil {
		at = a.snapshot.at
	}
	var rows []socketRow
	for _, l := range a.table.Listeners() {
		if l.Since.After(at) {
			continue
		}
		rows = append(rows, socketRow{local: l.Addr, v6: l.Addr.Addr().Is6(), listener: true, state: fsm.Listen})
	}
	a.each(func(c *reassembly.Conn) {
		if c.First().After(at) || (c.Evicted() && c.Last().Before(at)) {
			return
		}
		for _, r := range []fsm.Role{fsm.Client, fsm.Server} {
			tr, ok := c.Machine.LastAt(r, at)
			if !ok || !tr.To.Socket() {
				continue
			}
			local, remote := c.Client, c.Server
			if r == fsm.Server {
				local, remote = remote, local
			}
			row := socketRow{local: local, remote: remote, conn: c.ID, role: r, v6: c.IPv6(), inferred: !tr.Certain, state: tr.To}
			if a.snapshot != nil {
				row.sendQ = a.snapshot.sendQ[c.ID][r]
			} else {
				row.sendQ = c.Machine.SendQ(r)
			}
			rows = append(rows, row)
		}
	})
	return rows
}

func proto(v6 bool) string {
	if v6 {
		return "tcp6"
	}
	return "tcp"
}

func writeNetstatTable(w io.Writer, rows []socketRow, p *palette) {
	lw, rw := 23, 23
	var b []byte
	for i := range rows {
		b = rows[i].local.AppendTo(b[:0])
		lw = max(lw, len(b))
		b = rows[i].appendRemote(b[:0])
		rw = max(rw, len(b))
	}
	fmt.Fprintln(w, "Active Internet connections (servers and established)")
	fmt.Fprintln(w, p.header.Sprint(strings.TrimRight(fmt.Sprintf("%-5s %6s %6s %-*s %-*s %s", "Proto", "Recv-Q", "Send-Q", lw, "Local Address", rw, "Foreign Address", "State"), " ")))
	// Each line as "%-5s %6d %6d %-*s %-*s %s\n" would print it.
	pad := func(b []byte, from, width int) []byte { return appendSpaces(b, width-(len(b)-from)) }
	var num [20]byte
	for i := range rows {
		r := &rows[i]
		b = append(b[:0], proto(r.v6)...)
		b = pad(b, 0, 5)
		b = append(b, ' ')
		b = appendSpaces(b, 5)
		b = append(b, '0') // Recv-Q: a capture does not show what the application has not read
		b = append(b, ' ')
		d := strconv.AppendUint(num[:0], uint64(r.sendQ), 10)
		b = append(appendSpaces(b, 6-len(d)), d...)
		b = append(b, ' ')
		at := len(b)
		b = pad(r.local.AppendTo(b), at, lw)
		b = append(b, ' ')
		at = len(b)
		b = pad(r.appendRemote(b), at, rw)
		b = append(b, ' ')
		b = append(b, p.State(r.state, 0)...)
		b = append(b, '\n')
		w.Write(b)
	}
}

// formatTime prints a capture timestamp in UTC with microseconds.
func formatTime(t time.Time) string {
	return string(appendTime(nil, t))
}

// timeLayout is how capture timestamps are printed: UTC, microseconds.
const timeLayout = "2006-01-02 15:04:05.000000"

// appendTime appends t in timeLayout, a few times faster than AppendFormat
// (it is a column of every row of conns).
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(append(b, '-'), int(mo), 2)
	b = appendDigits(append(b, '-'), d, 2)
	b = appendDigits(append(b, ' '), h, 2)
	b = appendDigits(append(b, ':'), mi, 2)
	b = appendDigits(append(b, ':'), s, 2)
	return appendDigits(append(b, '.'), t.Nanosecond()/1000, 6)
}

// stamps appends timestamps as appendTime does, keeping the text of the
// last one's second: rows come in the order connections began, most in
// the same second as the row before.
type stamps struct {
	sec    int64
	second []byte // appendTime's text of a time in sec, but its microseconds
}

func (st *stamps) append(b []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != st.sec || st.second == nil {
		s := appendTime(st.second[:0], t)
		st.sec, st.second = sec, s[:len(s)-len("000000")]
	}
	return appendDigits(append(b, st.second...), t.Nanosecond()/1000, 6)
}

// appendDigits appends the n low decimal digits of v (v >= 0), with
// leading zeros.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, "00000000"[:n]...)
	for i := len(b) - 1; n > 0; i, n = i-1, n-1 {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}
