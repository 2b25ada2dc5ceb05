package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

func newConnsCmd(st *streams) *cobra.Command {
	o := &sourceOptions{}
	cmd := &cobra.Command{
		Use:   "conns (-r FILE | -i IFACE) [FILTER...]",
		Short: "One row per connection: who, when, how much, both final states and how it ended",
		Long: `Print one row per connection in the capture: its id (the order connections
began), client and server, when it was first seen (UTC), how long it lasted,
packets and payload bytes in each direction, the final state of the client
and of the server, and how it ended in words: closed by client or server,
reset by client or server, refused, timed out in SYN_SENT, still open, ...

The client is the endpoint that sent the first SYN. Without one (the
capture began late) the sender of a SYN-ACK is the server, and without
that the lower port, or the well-known one, is taken as the server: such
rows are marked "?" next to the id (and "roles_guessed" in JSON).

A 4-tuple reused after TIME_WAIT or a refusal is a new connection with its
own id.`,
		Example: `  tcpstate conns -r capture.pcap
  tcpstate conns -r capture.pcap --json | jq 'select(.ending | startswith("reset"))'
  tcpstate conns -r part1.pcap -r part2.pcap --time-wait 30s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.setFilterArgs(args); err != nil {
				return err
			}
			return runConns(o, st)
		},
	}
	o.addFlags(cmd.Flags())
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
	ID           uint64   `json:"id"`
	Proto        string   `json:"proto"`
	Client       string   `json:"client"`
	Server       string   `json:"server"`
	RolesBy      string   `json:"roles_by"`
	RolesGuessed bool     `json:"roles_guessed"`
	PickedUp     bool     `json:"picked_up"`
	FirstSeen    string   `json:"first_seen"`
	LastSeen     string   `json:"last_seen"`
	Duration     float64  `json:"duration"`
	C2S          dirJSON  `json:"c2s"`
	S2C          dirJSON  `json:"s2c"`
	ClientState  string   `json:"client_state"`
	ServerState  string   `json:"server_state"`
	Ending       string   `json:"ending"`
	Anomalies    []string `json:"anomalies,omitempty"`

	// For the text table, without holding on to the connection.
	first                    time.Time
	clientState, serverState fsm.State
}

func runConns(o *sourceOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	// A row is made as each connection leaves the table, so that memory
	// holds rows, not connections.
	var rows []connRow
	keep := func(c *reassembly.Conn) bool {
		rows = append(rows, newConnRow(c))
		return false
	}
	a, err := analyze(o, st, analyzeOptions{keep: keep})
	if err != nil {
		return err
	}
	for _, c := range a.conns {
		rows = append(rows, newConnRow(c))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	err = writeBuffered(st.stdout, func(w io.Writer) error {
		if o.json {
			return writeJSONLines(w, rows)
		}
		writeConnsTable(w, rows, newPalette(colorEnabled(o.color, st.stdout)))
		return nil
	})
	return a.finish(o, st, err)
}

func newConnRow(c *reassembly.Conn) connRow {
	dir := func(d reassembly.Dir) dirJSON {
		return dirJSON{d.Packets, d.Bytes, d.IPBytes, d.Retransmissions, d.KeepAlives}
	}
	return connRow{
		ID: c.ID, Proto: proto(c.IPv6()), Client: c.Client.String(), Server: c.Server.String(),
		RolesBy: c.Roles.String(), RolesGuessed: c.Roles.Guessed(), PickedUp: c.Machine.PickedUp(),
		FirstSeen: c.First.UTC().Format(time.RFC3339Nano), LastSeen: c.Last.UTC().Format(time.RFC3339Nano),
		Duration: c.Last.Sub(c.First).Seconds(),
		C2S:      dir(c.Dir[fsm.Client]), S2C: dir(c.Dir[fsm.Server]),
		ClientState: c.Machine.State(fsm.Client).String(), ServerState: c.Machine.State(fsm.Server).String(),
		Ending: c.Ending(), Anomalies: c.Anomalies.Names(),
		first: c.First, clientState: c.Machine.State(fsm.Client), serverState: c.Machine.State(fsm.Server),
	}
}

func writeConnsTable(w io.Writer, rows []connRow, p *palette) {
	header := []string{"ID", "CLIENT", "SERVER", "FIRST SEEN (UTC)", "DURATION", "PKTS C>S", "S>C", "BYTES C>S", "S>C", "CLIENT STATE", "SERVER STATE", "ENDING"}
	right := []bool{true, false, false, false, true, true, true, true, true, false, false, false}
	cells := make([][]string, len(rows))
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len(h)
	}
	for i, r := range rows {
		id := fmt.Sprint(r.ID)
		if r.RolesGuessed {
			id += "?"
		}
		cells[i] = []string{id, r.Client, r.Server, formatTime(r.first), fmt.Sprintf("%.3fs", r.Duration),
			fmt.Sprint(r.C2S.Packets), fmt.Sprint(r.S2C.Packets), fmt.Sprint(r.C2S.Bytes), fmt.Sprint(r.S2C.Bytes),
			r.ClientState, r.ServerState, r.Ending}
		for j, cell := range cells[i] {
			width[j] = max(width[j], len(cell))
		}
	}
	line := func(cols []string, color func(j int, s string) string) {
		var b strings.Builder
		for j, s := range cols {
			pad := strings.Repeat(" ", width[j]-len(s))
			if j == len(cols)-1 {
				pad = ""
			}
			if right[j] {
				b.WriteString(pad + color(j, s))
			} else {
				b.WriteString(color(j, s) + pad)
			}
			if j < len(cols)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(header, func(_ int, s string) string { return p.header.Sprint(s) })
	for i, r := range rows {
		line(cells[i], func(j int, s string) string {
			switch j {
			case 9:
				return p.State(r.clientState, 0)
			case 10:
				return p.State(r.serverState, 0)
			}
			return s
		})
	}
}
