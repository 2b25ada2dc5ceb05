// Command tcpbench measures tcpstate against the floor (a bare pcapgo read
// loop and a bare decode pass) and against tshark, on the same capture in
// one run, and prints wall time, CPU time, packets per second, peak memory
// and the ratios the project's targets are stated in.
//
// Each pass runs in a child process of its own, so that its peak resident
// memory is its own. The capture is read once before anything is timed, so
// that every pass finds it in the page cache, and each pass runs several
// times (-runs), in rounds, one run of every pass each, so that a slow
// spell of a shared machine falls on all of them alike: the table shows
// the run with the median wall time, and the largest peak memory of all
// runs.
//
// The bare decode pass, the floor the full analysis is compared with, is
// gopacket's DecodingLayerParser over pcapgo's reader;
// tcpstate's own decoder over its own reader is shown too, as is the
// connection table alone (decode, table, both state machines, no
// command), which says what the table costs apart from what a command
// keeps and prints.
//
//	go run ./cmd/tcpbench -gen                 # generate the 1M-packet capture, measure everything
//	go run ./cmd/tcpbench -gen -10m            # and 1M and 10M packets at 500 conns/s: is peak memory flat?
//	go run ./cmd/tcpbench -gen -flood 2000000  # and a SYN flood against --max-conns
//	go run ./cmd/tcpbench big.pcap             # measure a capture you have
//	go run ./cmd/tcpbench -gen -10m -pgo cmd/tcpstate/default.pgo  # profile the profile-guided build anew
package main

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/reassembly"
)

// shortTimeWait is the TIME_WAIT of the peak-memory comparison's extra run:
// short enough for the table to reach its steady state in the 1M-packet
// capture.
const shortTimeWait = "1s"

// The targets the README's performance section measures against.
const (
	targetFullOverDecode = 2.5 // full analysis within 2.5x the bare decode pass
	targetTsharkTime     = 30  // at least 30x faster than tshark
	targetTsharkMemory   = 10  // with at least 10x less peak memory
	targetFlatMemory     = 1.2 // 10M packets within 1.2x the peak memory of 1M
)

type options struct {
	gen      bool
	large    bool
	dir      string
	flood    int
	maxConns int
	tshark   bool
	runs     int
	pgo      string
}

func main() {
	var o options
	pass := flag.String("pass", "", "internal: run one pass in this process (read, layers, decode, table)")
	flag.BoolVar(&o.gen, "gen", false, "generate the benchmark capture with cmd/pcapgen first (1M packets, 100k connections, concurrency 1000)")
	flag.BoolVar(&o.large, "10m", false, "with -gen, also generate and measure captures of 1M and 10M packets from a server taking "+steadyRate+" connections a second, and compare their peak memory")
	flag.StringVar(&o.dir, "dir", "", "where -gen writes its captures, and finds them on later runs (default: a temporary directory, removed afterwards)")
	flag.IntVar(&o.flood, "flood", 0, "with -gen, also measure a SYN flood of this many spoofed sources, e.g. 2000000")
	flag.IntVar(&o.maxConns, "max-conns", 100000, "--max-conns for tcpstate on the flood")
	noTshark := flag.Bool("no-tshark", false, "skip tshark even when it is installed")
	flag.IntVar(&o.runs, "runs", 3, "runs of each pass; the median wall time is shown")
	flag.StringVar(&o.pgo, "pgo", "", "instead of measuring, profile tcpstate conns and netstat on the captures (-runs times each) and write the merged CPU profile to `FILE`: cmd/tcpstate/default.pgo, from which go build makes the profile-guided build")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: tcpbench [-gen [-10m] [-flood N]] [capture ...]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	o.tshark = !*noTshark
	if *pass != "" {
		if err := runPass(*pass, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "tcpbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := bench(flag.Args(), o); err != nil {
		fmt.Fprintln(os.Stderr, "tcpbench:", err)
		os.Exit(1)
	}
}

// result is one measured pass.
type result struct {
	name    string
	wall    time.Duration
	cpu     time.Duration
	rssKiB  int64
	packets int64
	table   tableStats // the table pass only
	failed  string
	out     string
}

func (r result) pps() float64    { return float64(r.packets) / r.wall.Seconds() }
func (r result) rssMiB() float64 { return float64(r.rssKiB) / 1024 }

// tableStats is what the table pass learns about a capture.
type tableStats struct {
	conns, peak int64
	span        time.Duration
}

// measured is everything measured on one capture.
type measured struct {
	file                        string
	read, layers, decode, table result
	conns, netstat, tshark      result
	// conns1 is conns on one core (--workers 1): conns against it is the
	// speed-up of spreading connections over the cores.
	conns1 result
	// netstatShort is netstat with a short TIME_WAIT, measured for the
	// peak-memory comparison only.
	netstatShort result
	haveTshark   bool
}

func bench(files []string, o options) error {
	tmp, err := os.MkdirTemp("", "tcpbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("machine: %s, %s\n", machine(), runtime.Version())
	if load := loadAverage(); load != "" {
		fmt.Printf("load average before: %s (other work on the machine makes wall times noisy; CPU times are steadier)\n", load)
	}
	tcpstate := filepath.Join(tmp, "tcpstate")
	var buildFlags []string
	if o.pgo != "" {
		// The profile is of the plain build, whatever default.pgo holds.
		buildFlags = []string{"-pgo=off"}
	}
	if err := goBuild(tcpstate, "./cmd/tcpstate", buildFlags...); err != nil {
		return err
	}
	var large, flood string
	if o.gen {
		dir := o.dir
		if dir == "" {
			dir = tmp
		}
		pcapgen := filepath.Join(tmp, "pcapgen")
		if err := goBuild(pcapgen, "./cmd/pcapgen"); err != nil {
			return err
		}
		small := filepath.Join(dir, "bench-1m.pcap")
		if err := generate(pcapgen, small, "-conns", "100000", "-packets", "1000000", "-concurrency", "1000"); err != nil {
			return err
		}
		files = append(files, small)
		if o.large {
			// Memory follows the connections in the table, and a closed
			// one stays there for 2·MSL (60 s) as the kernel keeps its
			// TIME_WAIT socket, then up to as long again among the
			// closed ones (the table lets them go in the order they
			// closed, so that a 4-tuple reused soon after is still
			// known). Both captures of the comparison therefore come from
			// a server taking the same connections a second, and both
			// span more than those two minutes: the 1M-packet one about
			// 3 min, the 10M-packet one about 30 min.
			steady := filepath.Join(dir, "steady-1m.pcap")
			large = filepath.Join(dir, "steady-10m.pcap")
			for _, f := range []struct {
				path, packets string
			}{{steady, "1000000"}, {large, "10000000"}} {
				if err := generate(pcapgen, f.path, "-packets", f.packets, "-concurrency", "1000", "-rate", steadyRate); err != nil {
					return err
				}
			}
			files = append(files, steady, large)
		}
		if o.flood > 0 {
			flood = filepath.Join(dir, "bench-flood.pcap")
			if err := generate(pcapgen, flood, "-conns", "10000", "-flood", strconv.Itoa(o.flood)); err != nil {
				return err
			}
		}
	}
	if len(files) == 0 {
		return errors.New("no capture to measure: name one, or use -gen")
	}
	if o.pgo != "" {
		return profile(tcpstate, files, o.runs, o.pgo, tmp)
	}
	haveTshark := false
	if _, err := exec.LookPath("tshark"); err == nil && o.tshark {
		haveTshark = true
	}
	fmt.Printf("each pass: %s in a process of its own after a warm-up read of the capture, in rounds of one run of every pass; shown: the run with the median wall time, and the largest peak RSS\n", plural(o.runs, "run"))
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var all []measured
	for i, f := range files {
		// tshark holds every packet's dissection: only on the first
		// capture, which is the smaller one with -gen.
		m, err := measureFile(f, self, tcpstate, o.runs, haveTshark && i == 0, large != "")
		if err != nil {
			return err
		}
		m.haveTshark = haveTshark
		all = append(all, m)
	}
	if large != "" && len(all) >= 2 {
		printFlatness(all[len(all)-2], all[len(all)-1])
	}
	if flood != "" {
		benchFlood(tcpstate, flood, o.maxConns)
	}
	return nil
}

// steadyRate is the connections a second of the captures -10m compares.
const steadyRate = "500"

// measureFile warms the page cache with the capture, runs every pass on it
// and prints the table and the ratios.
func measureFile(f, self, tcpstate string, runs int, tshark, short bool) (measured, error) {
	m := measured{file: f}
	fi, err := os.Stat(f)
	if err != nil {
		return m, err
	}
	start := time.Now()
	if err := warm(f); err != nil {
		return m, err
	}
	fmt.Printf("\n%s (%.1f MiB; warm-up read %.2fs)\n", f, float64(fi.Size())/(1<<20), time.Since(start).Seconds())
	passes := []pass{
		{&m.read, "floor: pcapgo read loop", self, []string{"-pass", "read", f}},
		{&m.layers, "bare decode: DecodingLayerParser", self, []string{"-pass", "layers", f}},
		{&m.decode, "capture.Decoder pass", self, []string{"-pass", "decode", f}},
		{&m.table, "reassembly.Table pass", self, []string{"-pass", "table", f}},
		{&m.conns1, "tcpstate conns --workers 1", tcpstate, []string{"conns", "-q", "--workers", "1", "-r", f}},
		{&m.conns, fmt.Sprintf("tcpstate conns (full, %d workers)", runtime.GOMAXPROCS(0)), tcpstate, []string{"conns", "-q", "-r", f}},
		{&m.netstat, "tcpstate netstat", tcpstate, []string{"netstat", "-q", "-r", f}},
	}
	if short {
		passes = append(passes, pass{&m.netstatShort, "tcpstate netstat --time-wait " + shortTimeWait, tcpstate, []string{"netstat", "-q", "--time-wait", shortTimeWait, "-r", f}})
	}
	if tshark {
		passes = append(passes, pass{&m.tshark, "tshark -q -z conv,tcp", "tshark", []string{"-n", "-q", "-z", "conv,tcp", "-r", f}})
	}
	measure(runs, passes)
	var rs []*result
	for _, p := range passes {
		rs = append(rs, p.result)
	}
	for _, r := range rs[1:] {
		if r.packets == 0 {
			r.packets = m.read.packets
		}
	}
	if t := m.table.table; t.conns > 0 {
		fmt.Printf("  %d packets, %d connections, at most %d in the table at once, over %.1fs of capture time\n",
			m.read.packets, t.conns, t.peak, t.span.Seconds())
	}
	fmt.Printf("  %-34s %9s %9s %13s %11s\n", "pass", "wall", "cpu", "packets/s", "peak RSS")
	for _, r := range rs {
		fmt.Printf("  %-34s %8.2fs %8.2fs %13.0f %7.1f MiB%s\n", r.name, r.wall.Seconds(), r.cpu.Seconds(), r.pps(), r.rssMiB(), r.failed)
	}
	fmt.Printf("  the bare decode pass is gopacket's DecodingLayerParser over pcapgo's reader (the floor)\n")
	ratio := func(what string, a, b result, target string) {
		line := fmt.Sprintf("  %-44s %6.2fx wall, %6.2fx cpu   %s", what, a.wall.Seconds()/b.wall.Seconds(), a.cpu.Seconds()/b.cpu.Seconds(), target)
		fmt.Println(strings.TrimRight(line, " "))
	}
	ratio("full analysis / bare decode", m.conns, m.layers, fmt.Sprintf("(target: at most %.1fx)", targetFullOverDecode))
	ratio("full analysis / capture.Decoder pass", m.conns, m.decode, "")
	ratio("netstat / bare decode", m.netstat, m.layers, "")
	ratio("table pass / bare decode", m.table, m.layers, "")
	ratio(fmt.Sprintf("speed-up of %d workers over 1 (conns)", runtime.GOMAXPROCS(0)), m.conns1, m.conns, "")
	if tshark {
		fmt.Printf("  %-44s %6.1fx wall, %6.1fx cpu   (target: at least %dx)\n", "tshark / full analysis, time",
			m.tshark.wall.Seconds()/m.conns.wall.Seconds(), m.tshark.cpu.Seconds()/m.conns.cpu.Seconds(), targetTsharkTime)
		fmt.Printf("  %-44s %6.1fx peak RSS          (target: at least %dx)\n", "tshark / full analysis, memory",
			float64(m.tshark.rssKiB)/float64(m.conns.rssKiB), targetTsharkMemory)
	} else {
		fmt.Printf("  tshark: not measured on this capture (only the first; -no-tshark; or not installed: apt-get install tshark)\n")
	}
	return m, nil
}

// printFlatness compares the peak memory of two captures of the same
// concurrency, and says how many connections each table held at once:
// memory follows them, not the packets.
func printFlatness(small, large measured) {
	fmt.Printf("\npeak memory, %s / %s (target: at most %.1fx):\n", filepath.Base(large.file), filepath.Base(small.file), targetFlatMemory)
	for _, p := range []struct {
		name string
		a, b result
	}{
		{"tcpstate conns", large.conns, small.conns},
		{"tcpstate netstat", large.netstat, small.netstat},
		{"reassembly.Table pass", large.table, small.table},
		{"netstat --time-wait " + shortTimeWait, large.netstatShort, small.netstatShort},
	} {
		fmt.Printf("  %-24s %7.1f MiB / %7.1f MiB = %5.2fx\n", p.name, p.a.rssMiB(), p.b.rssMiB(), float64(p.a.rssKiB)/float64(p.b.rssKiB))
	}
	ls, ss := large.table.table, small.table.table
	if ls.peak > 0 && ss.peak > 0 {
		fmt.Printf("  connections in the table at once: %d / %d = %.2fx (packets: %.2fx)\n",
			ls.peak, ss.peak, float64(ls.peak)/float64(ss.peak), float64(large.read.packets)/float64(small.read.packets))
		fmt.Printf("  peak RSS of the table pass per connection held: %.0f B / %.0f B\n",
			float64(large.table.rssKiB)*1024/float64(ls.peak), float64(small.table.rssKiB)*1024/float64(ss.peak))
		fmt.Printf("  (a closed connection stays in the table for 2·MSL = 60 s, in TIME_WAIT or for late segments; the captures span %.1fs and %.1fs,\n", ss.span.Seconds(), ls.span.Seconds())
		fmt.Printf("  so the table holds about a minute's worth of connections in both once the first minute has passed)\n")
	}
}

// benchFlood runs tcpstate netstat over a SYN flood with a connection cap
// and prints its peak memory, which the cap bounds, and what it evicted.
// (conns would hold a row for each of the millions of connections.)
func benchFlood(tcpstate, file string, maxConns int) {
	if err := warm(file); err != nil {
		fmt.Printf("\nSYN flood %s: %v\n", file, err)
		return
	}
	fmt.Printf("\nSYN flood %s, --max-conns %d\n", file, maxConns)
	r := measureOnce("tcpstate netstat on the flood", tcpstate, "netstat", "--json", "-r", file, "--max-conns", strconv.Itoa(maxConns))
	fmt.Printf("  wall %.2fs, cpu %.2fs, peak RSS %.1f MiB%s\n", r.wall.Seconds(), r.cpu.Seconds(), r.rssMiB(), r.failed)
	fmt.Printf("  %s\n", strings.TrimSpace(r.out))
}

// warm reads the whole file, so that the passes find it in the page cache.
func warm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", cpu, runtime.NumCPU())
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func goBuild(out, pkg string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, pkg)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w (run tcpbench from the repository root)", pkg, err)
	}
	return nil
}

func generate(pcapgen, out string, args ...string) error {
	if _, err := os.Stat(out); err == nil {
		fmt.Printf("using %s (delete it to generate again)\n", out)
		return nil
	}
	fmt.Printf("generating %s ...\n", out)
	cmd := exec.Command(pcapgen, append([]string{"-o", out}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// pass is one command measured on a capture, and where its result goes.
type pass struct {
	result *result
	name   string
	bin    string
	args   []string
}

// measure runs every pass runs times, in rounds (one run of each pass,
// then the next round), so that a slow spell of a shared machine falls on
// all passes alike rather than on the one that ran then. Each pass's
// result is its run with the median wall time, with the largest peak
// memory of all its runs.
func measure(runs int, passes []pass) {
	all := make([][]result, len(passes))
	for range max(runs, 1) {
		for i, p := range passes {
			all[i] = append(all[i], measureOnce(p.name, p.bin, p.args...))
		}
	}
	for i, rs := range all {
		slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.wall, b.wall) })
		r := rs[len(rs)/2]
		for _, o := range rs {
			r.rssKiB = max(r.rssKiB, o.rssKiB)
			if o.failed != "" {
				r.failed = o.failed
			}
		}
		*passes[i].result = r
	}
}

// measureOnce runs a command to completion and reports its wall time, CPU
// time and peak resident memory. Its standard output is discarded;
// standard error is kept as the result's out, and what a pass of this
// program prints there is parsed.
func measureOnce(name, bin string, args ...string) result {
	cmd := exec.Command(bin, args...)
	var errOut strings.Builder
	// Standard output goes to /dev/null (a nil Stdout): io.Discard would
	// be a pipe, whose reading goroutine here takes CPU from the pass and
	// whose writes cost the pass a system call and a wake-up every 64 KiB.
	cmd.Stdout = nil
	cmd.Stderr = &errOut
	start := time.Now()
	err := cmd.Run()
	r := result{name: name, wall: time.Since(start), out: errOut.String()}
	if err != nil {
		r.failed = " (failed: " + strings.TrimSpace(firstLine(errOut.String())) + ")"
	}
	if cmd.ProcessState != nil {
		r.rssKiB = peakKiB(cmd.ProcessState)
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var span float64
	line := strings.TrimSpace(lastLine(errOut.String()))
	if n, _ := fmt.Sscanf(line, "packets %d conns %d peak %d span %g", &r.packets, &r.table.conns, &r.table.peak, &span); n == 4 {
		r.table.span = time.Duration(span * float64(time.Second))
	}
	return r
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// runPass runs one pass over a file in this process and prints what it
// counted on standard error: "packets N conns C peak P span S" (C, P and
// S are zero but for the table pass).
func runPass(pass string, args []string) error {
	if len(args) != 1 {
		return errors.New("-pass takes one capture")
	}
	var (
		n   int64
		st  reassembly.Stats
		sp  time.Duration
		err error
	)
	switch pass {
	case "read":
		n, err = readLoop(args[0], nil)
	case "layers":
		n, err = layersPass(args[0])
	case "decode":
		n, err = decodePass(args[0], nil)
	case "table":
		n, st, sp, err = tablePass(args[0])
	default:
		return fmt.Errorf("unknown pass %q", pass)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "packets %d conns %d peak %d span %g\n", n, st.Conns, st.Peak, sp.Seconds())
	return nil
}

// readLoop is the floor: pcapgo's zero-copy read of every packet.
func readLoop(path string, each func(data []byte, lt layers.LinkType)) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	magic, err := br.Peek(4)
	if err != nil {
		return 0, err
	}
	var next func() ([]byte, gopacket.CaptureInfo, error)
	var lt layers.LinkType
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return 0, err
		}
		next, lt = r.ZeroCopyReadPacketData, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return 0, err
		}
		next, lt = r.ZeroCopyReadPacketData, r.LinkType()
	}
	var n int64
	for {
		data, _, err := next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if each != nil {
			each(data, lt)
		}
	}
}

// layersPass adds gopacket's zero-allocation DecodingLayerParser to the
// read loop: the bare decode pass.
func layersPass(path string) (int64, error) {
	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	var segs int64
	n, err := readLoop(path, func(data []byte, _ layers.LinkType) {
		_ = p.DecodeLayers(data, &decoded)
		for _, l := range decoded {
			if l == layers.LayerTypeTCP {
				segs++
			}
		}
	})
	_ = segs
	return n, err
}

// decodePass is tcpstate's own decoder over tcpstate's own reader; each,
// if set, sees every TCP segment.
func decodePass(path string, each func(s *capture.Segment, p *capture.Packet)) (int64, error) {
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var (
		p   capture.Packet
		s   capture.Segment
		dec capture.Decoder
		n   int64
	)
	for {
		err := src.Next(&p)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if dec.Decode(p.LinkType, p.Data, &s) == capture.ClassTCP && each != nil {
			each(&s, &p)
		}
	}
}

// tablePass runs the decoder and the connection table, with both state
// machines of every connection, and ends the capture as a command does
// (Settle, Flush), but keeps nothing and prints nothing: the cost of the
// table itself. Connections are recycled as they leave.
func tablePass(path string) (int64, reassembly.Stats, time.Duration, error) {
	t := reassembly.NewTable(reassembly.Config{Recycle: true})
	var first time.Time
	n, err := decodePass(path, func(s *capture.Segment, p *capture.Packet) {
		if first.IsZero() {
			first = p.Time
		}
		t.Add(s, p.Time, p.Num)
	})
	t.Settle(t.Now())
	st := t.Stats()
	t.Flush()
	return n, st, t.Now().Sub(first), err
}

// profile runs tcpstate conns and netstat on every capture, runs times
// each, with --cpuprofile, and merges the profiles into out (written
// beside it under a temporary name, then renamed).
func profile(tcpstate string, files []string, runs int, out, tmp string) error {
	var profs []string
	for _, f := range files {
		if err := warm(f); err != nil {
			return err
		}
		for i := range max(runs, 1) {
			for _, command := range []string{"conns", "netstat"} {
				p := filepath.Join(tmp, fmt.Sprintf("%s-%s-%d.pprof", filepath.Base(f), command, i))
				fmt.Printf("profiling tcpstate %s -r %s (%d of %d)\n", command, f, i+1, max(runs, 1))
				cmd := exec.Command(tcpstate, command, "-q", "--cpuprofile", p, "-r", f)
				cmd.Stderr = os.Stderr
				if err := cmd.Run(); err != nil {
					return fmt.Errorf("tcpstate %s -r %s: %w", command, f, err)
				}
				profs = append(profs, p)
			}
		}
	}
	merged, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(merged.Name())
	cmd := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, profs...)...)
	cmd.Stdout, cmd.Stderr = merged, os.Stderr
	if err := cmd.Run(); err != nil {
		merged.Close()
		return fmt.Errorf("go tool pprof -proto: %w", err)
	}
	if err := merged.Close(); err != nil {
		return err
	}
	if err := os.Chmod(merged.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(merged.Name(), out); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d profiles merged)\n", out, len(profs))
	return nil
}
