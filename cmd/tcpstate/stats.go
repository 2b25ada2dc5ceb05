package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/wireshark"
)

func newStatsCmd(st *streams) *cobra.Command {
	o := &statsOptions{}
	cmd := &cobra.Command{
		Use:   "stats (-r FILE | -i IFACE) [FILTER...]",
		Short: "An overview: connections by final states, Zeek conn_state and ending, top talkers, SYN floods and port scans",
		Long: `Summarise a capture: how many connections ended in each pair of final
states (client / server), in each of Zeek's conn_state codes and in each
way of ending (closed, reset, refused, timed out, still open); the hosts in
the most connections and those that reset or refused the most; and, in plain
words, what looks like a SYN flood (many handshakes to one server that never
completed) or a port scan (one host trying many ports of another, refused
or unanswered).

The indications are hints for a person to follow up, not verdicts: a busy
server behind a lossy link also leaves half-open handshakes. With --json the
overview is one JSON object.`,
		Example: `  tcpstate stats -r incident.pcap
  tcpstate stats -r capture.pcap --json | jq '.indications'
  tcpstate stats -r capture.pcap --top 20 not port 22`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.setFilterArgs(args); err != nil {
				return err
			}
			return runStats(o, st)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().IntVar(&o.top, "top", 5, "how many hosts to list as top talkers and top resetters")
	cmd.Flags().IntVar(&o.floodMin, "flood-min", 50, "report a possible SYN flood at this many failed handshakes to one server")
	cmd.Flags().IntVar(&o.scanMin, "scan-min", 20, "report a possible port scan at this many ports of one host tried without success")
	return cmd
}

type statsOptions struct {
	sourceOptions
	top, floodMin, scanMin int
}

// count is one line of a breakdown.
type count struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
	What  string `json:"what,omitempty"`
}

// hostCount is a host with a count.
type hostCount struct {
	Host  string `json:"host"`
	Count uint64 `json:"count"`
}

// statsReport is what stats prints. The JSON names are stable.
type statsReport struct {
	Packets     uint64      `json:"packets"`
	Segments    uint64      `json:"tcp_segments"`
	Conns       uint64      `json:"connections"`
	First       string      `json:"first,omitempty"`
	Last        string      `json:"last,omitempty"`
	Duration    float64     `json:"duration"`
	StatePairs  []count     `json:"final_states"`
	ZeekStates  []count     `json:"zeek_conn_states"`
	Endings     []count     `json:"endings"`
	Analysis    []count     `json:"analysis_flags"`
	TopConns    []hostCount `json:"top_talkers"`
	TopResets   []hostCount `json:"top_resetters"`
	Indications []string    `json:"indications"`
}

// statsCollector counts connections as they end, so that memory holds
// counters, not connections.
type statsCollector struct {
	o          *statsOptions
	statePairs map[string]uint64
	zeek       map[string]uint64
	endings    map[string]uint64
	analysisN  [wireshark.NumFlags]uint64
	hosts      map[netip.Addr]*hostTally
	servers    map[netip.AddrPort]*serverTally
	scans      map[[2]netip.Addr]*scanTally
}

type hostTally struct{ conns, resets uint64 }

// serverTally counts the attempts on one server socket that never
// completed a handshake.
type serverTally struct {
	failed  uint64
	sources map[netip.Addr]struct{} // up to maxSources
}

// scanTally counts one host's failed attempts on the ports of another.
type scanTally struct {
	refused, unanswered uint64
	ports               map[uint16]struct{}
}

const maxSources = 100_000

func runStats(o *statsOptions, st *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.top < 0 || o.floodMin < 1 || o.scanMin < 1 {
		return fmt.Errorf("--top cannot be negative, --flood-min and --scan-min must be at least 1")
	}
	sc := &statsCollector{
		o: o, statePairs: map[string]uint64{}, zeek: map[string]uint64{}, endings: map[string]uint64{},
		hosts: map[netip.Addr]*hostTally{}, servers: map[netip.AddrPort]*serverTally{}, scans: map[[2]netip.Addr]*scanTally{},
	}
	keep := func(c *reassembly.Conn) bool {
		sc.add(c)
		return false
	}
	a, err := analyze(&o.sourceOptions, st, analyzeOptions{keep: keep, recycle: true, drain: true})
	if err != nil {
		return err
	}
	r := sc.report(a)
	err = writeBuffered(st.stdout, func(w io.Writer) error {
		if o.json {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}
		writeStats(w, r, newPalette(colorEnabled(o.color, st.stdout)))
		return nil
	})
	return a.finish(&o.sourceOptions, st, err)
}

func (sc *statsCollector) add(c *reassembly.Conn) {
	m := &c.Machine
	sc.statePairs[m.State(fsm.Client).String()+" / "+m.State(fsm.Server).String()]++
	sc.zeek[c.Zeek.State()]++
	for i, n := range c.FlagCounts {
		sc.analysisN[i] += uint64(n)
	}
	ending := c.Ending()
	sc.endings[ending]++
	sc.host(c.Client.Addr()).conns++
	if c.Server.Addr() != c.Client.Addr() {
		sc.host(c.Server.Addr()).conns++
	}
	if m.Refused() {
		sc.host(c.Server.Addr()).resets++
	}
	for _, tr := range m.History() {
		if tr.Cause == fsm.CauseSentRST && !tr.Revised {
			ep := c.Client
			if tr.Role == fsm.Server {
				ep = c.Server
			}
			sc.host(ep.Addr()).resets++
			break
		}
	}
	// An attempt that never completed a handshake: refused, or never
	// answered, or answered but never acknowledged.
	refused := m.Refused()
	failed := refused || !handshakeDone(m)
	if !failed || c.Roles.Guessed() {
		return
	}
	s := sc.servers[c.Server]
	if s == nil {
		s = &serverTally{sources: map[netip.Addr]struct{}{}}
		sc.servers[c.Server] = s
	}
	if !refused {
		s.failed++
		if len(s.sources) < maxSources {
			s.sources[c.Client.Addr()] = struct{}{}
		}
	}
	k := [2]netip.Addr{c.Client.Addr(), c.Server.Addr()}
	t := sc.scans[k]
	if t == nil {
		t = &scanTally{ports: map[uint16]struct{}{}}
		sc.scans[k] = t
	}
	if refused {
		t.refused++
	} else {
		t.unanswered++
	}
	t.ports[c.Server.Port()] = struct{}{}
}

// handshakeDone reports whether both ends got past the handshake.
func handshakeDone(m *fsm.Machine) bool {
	reached := [2]bool{}
	for _, tr := range m.History() {
		if tr.Revised {
			continue
		}
		if tr.To.Synchronized() {
			reached[tr.Role] = true
		}
	}
	return (reached[fsm.Client] && reached[fsm.Server]) || m.PickedUp()
}

func (sc *statsCollector) host(a netip.Addr) *hostTally {
	h := sc.hosts[a]
	if h == nil {
		h = &hostTally{}
		sc.hosts[a] = h
	}
	return h
}

func (sc *statsCollector) report(a *analysis) *statsReport {
	st := a.table.Stats()
	r := &statsReport{Packets: a.packets, Segments: st.Segments, Conns: st.Conns}
	if a.packets > 0 {
		r.First, r.Last = a.first.UTC().Format(time.RFC3339Nano), a.last.UTC().Format(time.RFC3339Nano)
		r.Duration = a.last.Sub(a.first).Seconds()
	}
	r.StatePairs = sortedCounts(sc.statePairs, nil)
	r.ZeekStates = sortedCounts(sc.zeek, zeekStateMeaning)
	r.Endings = sortedCounts(sc.endings, nil)
	flags := map[string]uint64{}
	for i, n := range sc.analysisN {
		if n > 0 {
			flags[wireshark.Flags(1<<i).String()] = n
		}
	}
	r.Analysis = sortedCounts(flags, nil)
	r.TopConns = topHosts(sc.hosts, sc.o.top, func(h *hostTally) uint64 { return h.conns })
	r.TopResets = topHosts(sc.hosts, sc.o.top, func(h *hostTally) uint64 { return h.resets })
	r.Indications = sc.indications()
	return r
}

func (sc *statsCollector) indications() []string {
	out := []string{}
	type flood struct {
		server  netip.AddrPort
		failed  uint64
		sources int
	}
	var floods []flood
	for srv, s := range sc.servers {
		if s.failed >= uint64(sc.o.floodMin) {
			floods = append(floods, flood{srv, s.failed, len(s.sources)})
		}
	}
	sort.Slice(floods, func(i, j int) bool {
		if floods[i].failed != floods[j].failed {
			return floods[i].failed > floods[j].failed
		}
		return floods[i].server.String() < floods[j].server.String()
	})
	for _, f := range floods {
		sources := fmt.Sprintf("%d source addresses", f.sources)
		if f.sources >= maxSources {
			sources = fmt.Sprintf("at least %d source addresses", maxSources)
		} else if f.sources == 1 {
			sources = "1 source address"
		}
		out = append(out, fmt.Sprintf("possible SYN flood: %d handshakes to %s never completed, from %s", f.failed, f.server, sources))
	}
	type scan struct {
		src, dst            netip.Addr
		ports               int
		refused, unanswered uint64
	}
	var scans []scan
	for k, t := range sc.scans {
		if len(t.ports) >= sc.o.scanMin {
			scans = append(scans, scan{k[0], k[1], len(t.ports), t.refused, t.unanswered})
		}
	}
	sort.Slice(scans, func(i, j int) bool {
		if scans[i].ports != scans[j].ports {
			return scans[i].ports > scans[j].ports
		}
		return scans[i].src.Less(scans[j].src) || scans[i].src == scans[j].src && scans[i].dst.Less(scans[j].dst)
	})
	for _, s := range scans {
		out = append(out, fmt.Sprintf("possible port scan: %s tried %d ports of %s without a connection (%d refused, %d unanswered)",
			s.src, s.ports, s.dst, s.refused, s.unanswered))
	}
	return out
}

func sortedCounts(m map[string]uint64, meaning map[string]string) []count {
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{Key: k, Count: n, What: meaning[k]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func topHosts(m map[netip.Addr]*hostTally, n int, by func(*hostTally) uint64) []hostCount {
	out := []hostCount{}
	for a, h := range m {
		if v := by(h); v > 0 {
			out = append(out, hostCount{a.String(), v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Host < out[j].Host
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// zeekStateMeaning says what each of Zeek's conn_state codes means.
var zeekStateMeaning = map[string]string{
	"S0":     "attempt seen, no reply",
	"S1":     "established, not terminated",
	"SF":     "established and terminated normally",
	"REJ":    "attempt rejected",
	"S2":     "established, originator closed, no reply from the responder",
	"S3":     "established, responder closed, no reply from the originator",
	"RSTO":   "established, originator aborted with a RST",
	"RSTR":   "established, responder aborted with a RST",
	"RSTOS0": "originator sent a SYN then a RST, no SYN-ACK seen",
	"RSTRH":  "responder sent a SYN-ACK then a RST, no SYN seen",
	"SH":     "originator sent a SYN then a FIN, no SYN-ACK seen (half-open)",
	"SHR":    "responder sent a SYN-ACK then a FIN, no SYN seen",
	"OTH":    "no SYN seen: midstream traffic",
}

func writeStats(w io.Writer, r *statsReport, p *palette) {
	fmt.Fprintf(w, "%s, %s, %s", plural(r.Packets, "packet"), plural(r.Segments, "TCP segment"), plural(r.Conns, "connection"))
	if r.First != "" {
		fmt.Fprintf(w, ", from %s to %s (%.3fs)", r.First, r.Last, r.Duration)
	}
	fmt.Fprintln(w)
	section := func(title string, rows []count, withWhat bool) {
		fmt.Fprintln(w)
		fmt.Fprintln(w, p.header.Sprint(title))
		if len(rows) == 0 {
			fmt.Fprintln(w, "  none")
			return
		}
		kw := 0
		for _, c := range rows {
			kw = max(kw, len(c.Key))
		}
		for _, c := range rows {
			line := fmt.Sprintf("  %-*s  %8d", kw, c.Key, c.Count)
			if withWhat && c.What != "" {
				line += "  " + c.What
			}
			fmt.Fprintln(w, line)
		}
	}
	hosts := func(title string, rows []hostCount) {
		cs := make([]count, len(rows))
		for i, h := range rows {
			cs[i] = count{Key: h.Host, Count: h.Count}
		}
		section(title, cs, false)
	}
	section("Final states (client / server)", r.StatePairs, false)
	section("Zeek conn_state", r.ZeekStates, true)
	section("Endings", r.Endings, false)
	section("Wireshark analysis flags (segments)", r.Analysis, false)
	hosts("Top talkers (connections)", r.TopConns)
	hosts("Top resetters (connections they reset or refused)", r.TopResets)
	fmt.Fprintln(w)
	fmt.Fprintln(w, p.header.Sprint("Indications"))
	if len(r.Indications) == 0 {
		fmt.Fprintln(w, "  no sign of a SYN flood or a port scan")
	}
	for _, s := range r.Indications {
		fmt.Fprintln(w, "  "+s)
	}
}
