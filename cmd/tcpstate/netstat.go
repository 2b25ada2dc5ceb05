package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
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
are absent, as in the kernel's table.

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
	return cmd
}

// socketRow is one line of the netstat table. The JSON names are stable.
type socketRow struct {
	Proto    string `json:"proto"`
	RecvQ    uint32 `json:"recv_q"`
	SendQ    uint32 `json:"send_q"`
	Local    string `json:"local"`
	Remote   string `json:"remote"`
	State    string `json:"state"`
	Conn     uint64 `json:"conn,omitempty"`
	Role     string `json:"role"`
	Inferred bool   `json:"inferred"`

	state fsm.State
}

func runNetstat(o *netstatOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	ao := analyzeOptions{plain: true}
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
			return writeJSONLines(w, rows)
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
		rows = append(rows, socketRow{
			Proto: proto(l.Addr.Addr().Is6()), Local: l.Addr.String(), Remote: "*:*",
			State: fsm.Listen.String(), Role: "listener", state: fsm.Listen,
		})
	}
	a.each(func(c *reassembly.Conn) {
		if c.First.After(at) || (c.Evicted() && c.Last.Before(at)) {
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
			row := socketRow{
				Proto: proto(c.IPv6()), Local: local.String(), Remote: remote.String(),
				State: tr.To.String(), Conn: c.ID, Role: r.String(), Inferred: !tr.Certain, state: tr.To,
			}
			if a.snapshot != nil {
				row.SendQ = a.snapshot.sendQ[c.ID][r]
			} else {
				row.SendQ = c.Machine.SendQ(r)
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
	for _, r := range rows {
		lw, rw = max(lw, len(r.Local)), max(rw, len(r.Remote))
	}
	fmt.Fprintln(w, "Active Internet connections (servers and established)")
	fmt.Fprintln(w, p.header.Sprint(strings.TrimRight(fmt.Sprintf("%-5s %6s %6s %-*s %-*s %s", "Proto", "Recv-Q", "Send-Q", lw, "Local Address", rw, "Foreign Address", "State"), " ")))
	for _, r := range rows {
		fmt.Fprintf(w, "%-5s %6d %6d %-*s %-*s %s\n", r.Proto, r.RecvQ, r.SendQ, lw, r.Local, rw, r.Remote, p.State(r.state, 0))
	}
}

func writeJSONLines[T any](w io.Writer, rows []T) error {
	enc := json.NewEncoder(w)
	for i := range rows {
		if err := enc.Encode(&rows[i]); err != nil {
			return err
		}
	}
	return nil
}

// formatTime prints a capture timestamp in UTC with microseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// timeLayout is how capture timestamps are printed: UTC, microseconds.
const timeLayout = "2006-01-02 15:04:05.000000"
