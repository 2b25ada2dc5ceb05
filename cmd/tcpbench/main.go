// Command tcpbench measures tcpstate against the floor (a bare pcapgo read
// loop and a bare decode pass) and against tshark, on the same capture in
// one run, and prints wall time, packets per second, peak memory and the
// ratios the project's targets are stated in.
//
// Each pass runs in a child process of its own, so that its peak resident
// memory is its own.
//
//	go run ./cmd/tcpbench -gen            # generate 1M- and 10M-packet captures, measure everything
//	go run ./cmd/tcpbench big.pcap        # measure a capture you have
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tcpstate/tcpstate/capture"
)

func main() {
	var (
		pass     = flag.String("pass", "", "internal: run one pass in this process (read, layers, decode)")
		gen      = flag.Bool("gen", false, "generate the benchmark captures with cmd/pcapgen first (1M packets / 100k connections, and 10M packets with the same concurrency)")
		dir      = flag.String("dir", "", "where -gen writes its captures (default: a temporary directory, removed afterwards)")
		flood    = flag.Int("flood", 0, "also measure a SYN flood of this many spoofed sources (with -gen), e.g. 2000000")
		maxConns = flag.Int("max-conns", 100000, "--max-conns for tcpstate on the flood")
		noTshark = flag.Bool("no-tshark", false, "skip tshark even when it is installed")
	)
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: tcpbench [-gen [-flood N]] [capture ...]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *pass != "" {
		if err := runPass(*pass, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "tcpbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := bench(flag.Args(), *gen, *dir, *flood, *maxConns, !*noTshark); err != nil {
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
	out     string
}

func (r result) pps() float64 { return float64(r.packets) / r.wall.Seconds() }

func bench(files []string, gen bool, dir string, flood, maxConns int, tshark bool) error {
	tmp, err := os.MkdirTemp("", "tcpbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("machine: %s\n", machine())
	tcpstate := filepath.Join(tmp, "tcpstate")
	if err := goBuild(tcpstate, "./cmd/tcpstate"); err != nil {
		return err
	}
	if gen {
		if dir == "" {
			dir = tmp
		}
		pcapgen := filepath.Join(tmp, "pcapgen")
		if err := goBuild(pcapgen, "./cmd/pcapgen"); err != nil {
			return err
		}
		small, large := filepath.Join(dir, "bench-1m.pcap"), filepath.Join(dir, "bench-10m.pcap")
		if err := generate(pcapgen, small, "-conns", "100000", "-packets", "1000000"); err != nil {
			return err
		}
		if err := generate(pcapgen, large, "-conns", "1000000", "-packets", "10000000"); err != nil {
			return err
		}
		files = append(files, small, large)
		if flood > 0 {
			f := filepath.Join(dir, "bench-flood.pcap")
			if err := generate(pcapgen, f, "-conns", "10000", "-flood", strconv.Itoa(flood)); err != nil {
				return err
			}
			defer func() { benchFlood(tcpstate, f, maxConns) }()
		}
	}
	if len(files) == 0 {
		return errors.New("no capture to measure: name one, or use -gen")
	}
	haveTshark := false
	if _, err := exec.LookPath("tshark"); err == nil && tshark {
		haveTshark = true
	}
	var fullRSS []int64
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s (%.1f MiB)\n", f, float64(fi.Size())/(1<<20))
		fmt.Printf("  %-34s %10s %10s %12s %10s\n", "pass", "wall", "cpu", "packets/s", "peak RSS")
		self, _ := os.Executable()
		read := measure("bare pcapgo read loop", self, "-pass", "read", f)
		layer := measure("bare DecodingLayerParser pass", self, "-pass", "layers", f)
		dec := measure("capture.Decoder pass", self, "-pass", "decode", f)
		full := measure("tcpstate conns (full analysis)", tcpstate, "conns", "-q", "-r", f)
		full.packets = read.packets
		rs := []result{read, layer, dec, full}
		var ts result
		if haveTshark && i == 0 {
			// tshark holds every packet's dissection: only on the first,
			// smaller capture.
			ts = measure("tshark -q -z conv,tcp", "tshark", "-n", "-q", "-z", "conv,tcp", "-r", f)
			ts.packets = read.packets
			rs = append(rs, ts)
		}
		for _, r := range rs {
			fmt.Printf("  %-34s %9.2fs %9.2fs %12.0f %7.1f MiB\n", r.name, r.wall.Seconds(), r.cpu.Seconds(), r.pps(), float64(r.rssKiB)/1024)
		}
		fmt.Printf("  full analysis / bare decode (DecodingLayerParser): %.2fx time\n", full.wall.Seconds()/layer.wall.Seconds())
		fmt.Printf("  full analysis / capture.Decoder pass:              %.2fx time\n", full.wall.Seconds()/dec.wall.Seconds())
		switch {
		case haveTshark && i == 0:
			fmt.Printf("  tshark / tcpstate: %.1fx time, %.1fx peak memory\n", ts.wall.Seconds()/full.wall.Seconds(), float64(ts.rssKiB)/float64(full.rssKiB))
		case haveTshark:
			fmt.Printf("  tshark: measured on the first capture only\n")
		default:
			fmt.Printf("  tshark: not installed (apt-get install tshark), not compared\n")
		}
		fullRSS = append(fullRSS, full.rssKiB)
	}
	if len(fullRSS) == 2 {
		fmt.Printf("\npeak memory of the full analysis, second capture / first: %.2fx\n", float64(fullRSS[1])/float64(fullRSS[0]))
	}
	return nil
}

// benchFlood runs tcpstate netstat over a SYN flood with a connection cap
// and prints its peak memory, which the cap bounds, and what it evicted.
// (conns would hold a row for each of the millions of connections.)
func benchFlood(tcpstate, file string, maxConns int) {
	fmt.Printf("\nSYN flood %s, --max-conns %d\n", file, maxConns)
	r := measure("tcpstate netstat on the flood", tcpstate, "netstat", "--json", "-r", file, "--max-conns", strconv.Itoa(maxConns))
	fmt.Printf("  wall %.2fs, peak RSS %.1f MiB\n", r.wall.Seconds(), float64(r.rssKiB)/1024)
	fmt.Printf("  %s\n", strings.TrimSpace(r.out))
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
	n, _ := exec.Command("nproc").Output()
	return fmt.Sprintf("%s, %s cores", cpu, strings.TrimSpace(string(n)))
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
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

// measure runs a command to completion and reports its wall time, CPU time
// and peak resident memory. Its standard output is discarded; standard
// error is kept as the result's out.
func measure(name, bin string, args ...string) result {
	cmd := exec.Command(bin, args...)
	var errOut strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &errOut
	start := time.Now()
	err := cmd.Run()
	r := result{name: name, wall: time.Since(start), out: errOut.String()}
	if err != nil {
		r.name += " (failed: " + strings.TrimSpace(firstLine(errOut.String())) + ")"
	}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.rssKiB = ru.Maxrss
		}
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(lastLine(errOut.String())), 10, 64); err == nil {
		r.packets = n
	}
	return r
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// runPass runs one floor pass over a file in this process and prints the
// packet count on standard error.
func runPass(pass string, args []string) error {
	if len(args) != 1 {
		return errors.New("-pass takes one capture")
	}
	var n int64
	var err error
	switch pass {
	case "read":
		n, err = readLoop(args[0], nil)
	case "layers":
		n, err = layersPass(args[0])
	case "decode":
		n, err = decodePass(args[0])
	default:
		return fmt.Errorf("unknown pass %q", pass)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, n)
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

// decodePass is tcpstate's own decoder over tcpstate's own reader.
func decodePass(path string) (int64, error) {
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
		dec.Decode(p.LinkType, p.Data, &s)
	}
}
