// Command pcapgen writes large, realistic, deterministic TCP captures for
// tcpstate's benchmarks, flood tests and fuzz seeds: a busy server's view of
// many interleaved connections (handshakes with Linux's options, requests
// and responses, every common way to close, resets, refusals, losses and
// retransmissions, reordering, keep-alives, IPv6, VLAN tags, port reuse),
// optionally with a SYN flood from spoofed sources mixed in.
//
//	go run ./cmd/pcapgen -o /tmp/bench.pcap
//
// The same flags and seed always produce the same bytes. With -expect it
// also writes what an analyzer must find: connections by kind, each kind's
// final states, and the state pairs at the end of the capture.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		os.Exit(2)
	}
}

const usageText = `Usage: pcapgen -o FILE [flags]

Writes a deterministic capture of a busy server (198.51.100.10 and
2001:db8:1::10, ports 443, 80, 8080, 5432, 6379) talking to many clients:
-concurrency connections alive at once, each advancing one segment at a
time, a new one starting when one finishes (or, with -rate, when the slot's
turn comes), until -conns connections (or -packets packets) are written. Every connection is consistent TCP (exact
sequence and acknowledgment numbers, Linux's options and timestamps); the
mix of kinds and features is fixed by -seed, and the same flags and seed
always give the same bytes.

Kinds (how a connection ends): client-close 56%, server-close 25%,
half-close 5%, client-reset 4%, server-reset 4%, refused 6%. Features: IPv6
~20%, VLAN ~5%, SYN retransmitted after 1 s 1.5%, data segment lost and
retransmitted 3%, request segments out of order 2%, keep-alives 0.3%,
port reuse of a 4-tuple idle > 60 s 2% (once the capture is long enough).

-flood N mixes in N SYNs from distinct spoofed sources in 198.18.0.0/15
(RFC 2544) to port 80, at -flood-rate per second; with -flood-synack the
server answers each with a SYN-ACK and retransmits it once after 1 s.

Flags:
`

const examplesText = `
Examples:
  # the benchmark capture: 100k connections, about 1M packets
  pcapgen -o bench-1m.pcap -conns 100000 -concurrency 1000 -expect bench-1m.json

  # ten million packets with the same concurrency
  pcapgen -o bench-10m.pcap -packets 10000000 -concurrency 1000

  # a server taking 1000 connections a second: the capture spans 15 min,
  # and after the first minute as many are in TIME_WAIT at any moment
  pcapgen -o steady-10m.pcap -packets 10000000 -rate 1000

  # a flood of 2M spoofed SYNs, half-open (answered), with some real traffic
  pcapgen -o flood.pcapng.gz -flood 2000000 -flood-synack -conns 20000

  # a small fuzz seed
  pcapgen -o seed.pcap -conns 20 -concurrency 5 -seed 7
`

// defaultStart is -start's default, tcpstate's usual epoch.
var defaultStart = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// options are the parsed flags.
type options struct {
	out, format, expect string
	gzip, force         bool
	cfg                 config
}

func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("pcapgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examplesText)
	}
	o := &options{}
	var (
		start   string
		seed    uint64
		packets int64
	)
	fs.StringVar(&o.out, "o", "", "capture file to write (`FILE`; required; - for standard output)")
	fs.StringVar(&o.format, "format", "", "`pcap` or pcapng (default: pcapng if FILE ends in .pcapng or .pcapng.gz, else pcap)")
	fs.BoolVar(&o.gzip, "gzip", false, "gzip-compress the output, one member per MiB compressed in parallel (default when FILE ends in .gz)")
	fs.BoolVar(&o.force, "force", false, "overwrite FILE if it exists")
	fs.Uint64Var(&seed, "seed", 1, "seed: the same flags and seed give the same bytes")
	fs.IntVar(&o.cfg.conns, "conns", 100000, "normal connections to write (with -packets: no limit unless given)")
	fs.IntVar(&o.cfg.concurrency, "concurrency", 1000, "connections alive at once")
	fs.IntVar(&o.cfg.rate, "rate", 0, "start at most this many connections a second, on average (0: a new one as soon as one ends)")
	fs.Int64Var(&packets, "packets", 0, "stop after this many packets, cutting open connections short (0: no limit)")
	fs.IntVar(&o.cfg.flood, "flood", 0, "spoofed SYNs to mix in")
	fs.BoolVar(&o.cfg.floodSYNACK, "flood-synack", false, "the server answers each spoofed SYN with a SYN-ACK (half-open)")
	fs.IntVar(&o.cfg.floodRate, "flood-rate", 100000, "spoofed SYNs per second of capture time")
	fs.StringVar(&start, "start", defaultStart.Format(time.RFC3339), "time of the first packet (RFC 3339)")
	fs.StringVar(&o.expect, "expect", "", "also write a JSON summary of what an analyzer must find to `FILE`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.out == "" {
		return nil, errors.New("-o FILE is required (see -help)")
	}
	t, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		return nil, fmt.Errorf("-start: %w", err)
	}
	o.cfg.seed, o.cfg.start, o.cfg.packets = seed, t, packets
	name := strings.TrimSuffix(o.out, ".gz")
	if name != o.out {
		o.gzip = true
	}
	switch o.format {
	case "":
		o.cfg.ng = strings.HasSuffix(name, ".pcapng")
	case "pcap":
	case "pcapng":
		o.cfg.ng = true
	default:
		return nil, fmt.Errorf("-format %q: want pcap or pcapng", o.format)
	}
	switch {
	case o.cfg.conns < 0, o.cfg.flood < 0, packets < 0:
		return nil, errors.New("-conns, -flood and -packets must not be negative")
	case o.cfg.concurrency < 1:
		return nil, errors.New("-concurrency must be at least 1")
	case o.cfg.rate < 0:
		return nil, errors.New("-rate cannot be negative")
	case o.cfg.floodRate < 1 || o.cfg.floodRate > 1_000_000:
		return nil, errors.New("-flood-rate must be between 1 and 1000000")
	case int64(o.cfg.flood) > 1<<32-1:
		return nil, errors.New("-flood is at most 4294967295")
	}
	if packets > 0 && !set["conns"] {
		o.cfg.conns = -1
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	var w io.Writer = stdout
	var f *os.File
	if o.out != "-" {
		flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if o.force {
			flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err = os.OpenFile(o.out, flags, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists (-force overwrites it)", o.out)
		}
		if err != nil {
			return err
		}
		w = f
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	began := time.Now()
	st, err := generate(o.cfg, o.gzip, bw)
	if err == nil {
		err = bw.Flush()
	}
	elapsed := time.Since(began)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(o.out)
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	if o.expect != "" {
		if err := writeExpect(o, st); err != nil {
			return err
		}
	}
	summary(stderr, o, st, cw.n, elapsed)
	return nil
}

// generate writes the capture to w.
func generate(cfg config, gz bool, w io.Writer) (*stats, error) {
	out := newOutput(w, cfg.ng, gz, cfg.start)
	g := newGenerator(cfg, out)
	g.run()
	g.stats.bytes = out.bytes
	if err := out.close(); err != nil {
		return nil, err
	}
	return &g.stats, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func summary(w io.Writer, o *options, st *stats, written int64, elapsed time.Duration) {
	format := "pcap"
	if o.cfg.ng {
		format = "pcapng"
	}
	if o.gzip {
		format += ", gzip"
	}
	conns := 0
	var kb strings.Builder
	for k, n := range st.kinds {
		conns += n
		fmt.Fprintf(&kb, " %s %d", kinds[k].name, n)
	}
	var fb strings.Builder
	for f, n := range st.features {
		fmt.Fprintf(&fb, " %s %d", featureNames[f], n)
	}
	span := time.Duration(max(st.last-st.first, 0)) * time.Microsecond
	name := o.out
	if name == "-" {
		name = "standard output"
	}
	fmt.Fprintf(w, "pcapgen: %s (%s): %d packets, %d bytes (%.1f MB written)\n",
		name, format, st.packets, st.bytes, float64(written)/1e6)
	fmt.Fprintf(w, "  capture: %s, %.3f s\n", o.cfg.start.Add(time.Duration(max(st.first, 0))*time.Microsecond).Format(time.RFC3339Nano), span.Seconds())
	fmt.Fprintf(w, "  connections: %d:%s\n", conns, kb.String())
	fmt.Fprintf(w, "  features:%s\n", fb.String())
	fmt.Fprintf(w, "  flood SYNs: %d; retransmissions %d; keep-alive probes %d; cut short by -packets %d\n",
		st.flood, st.retx, st.keepAlive, st.cut)
	fmt.Fprintf(w, "  generated in %.3f s: %.2f M packets/s, %.0f MB/s\n", elapsed.Seconds(),
		float64(st.packets)/elapsed.Seconds()/1e6, float64(st.bytes)/elapsed.Seconds()/1e6)
}

// expectation is the -expect summary.
type expectation struct {
	Seed             uint64         `json:"seed"`
	Packets          int64          `json:"packets"`
	First            string         `json:"first"`
	Last             string         `json:"last"`
	Connections      int            `json:"connections"` // normal connections (flood excluded)
	FloodSYNs        int            `json:"flood_syns"`
	FloodSYNACK      bool           `json:"flood_synack"`
	Kinds            []expectKind   `json:"kinds"`
	Features         map[string]int `json:"features"`
	Retransmissions  int            `json:"retransmissions"`
	KeepAliveProbes  int            `json:"keepalive_probes"`
	CutShort         int            `json:"cut_short"`
	TimeWait         string         `json:"time_wait"`
	HandshakeTimeout string         `json:"handshake_timeout"`
	AtEnd            map[string]int `json:"at_end"`
}

// expectKind is one kind: how many, and the states an analyzer must give
// its connections right after their last segment (before TIME_WAIT or a
// handshake timeout runs out).
type expectKind struct {
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
	Client string `json:"client"`
	Server string `json:"server"`
	Ending string `json:"ending"`
}

func newExpectation(cfg config, st *stats) *expectation {
	e := &expectation{
		Seed:             cfg.seed,
		Packets:          st.packets,
		FloodSYNs:        st.flood,
		FloodSYNACK:      cfg.floodSYNACK,
		Features:         map[string]int{},
		Retransmissions:  st.retx,
		KeepAliveProbes:  st.keepAlive,
		CutShort:         st.cut,
		TimeWait:         (timeWaitLen * time.Microsecond).String(),
		HandshakeTimeout: (handshakeTimeout * time.Microsecond).String(),
		AtEnd:            map[string]int{},
	}
	if st.packets > 0 {
		e.First = cfg.start.Add(time.Duration(st.first) * time.Microsecond).Format(time.RFC3339Nano)
		e.Last = cfg.start.Add(time.Duration(st.last) * time.Microsecond).Format(time.RFC3339Nano)
	}
	add := func(k kindInfo, n int) {
		e.Kinds = append(e.Kinds, expectKind{k.name, n, k.final.client.String(), k.final.server.String(), k.ending})
	}
	for k, n := range st.kinds {
		e.Connections += n
		add(kinds[k], n)
	}
	add(floodInfo, st.flood)
	for f, n := range st.features {
		e.Features[featureNames[f]] = n
	}
	for c := range numStates {
		for s := range numStates {
			if n := st.atEnd[c][s]; n > 0 {
				e.AtEnd[pair{state(c), state(s)}.String()] = n
			}
		}
	}
	return e
}

func writeExpect(o *options, st *stats) error {
	b, err := json.MarshalIndent(newExpectation(o.cfg, st), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.expect, append(b, '\n'), 0o644)
}
