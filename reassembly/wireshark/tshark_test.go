package wireshark

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/fsm"
)

// tsharkPrefs pins the preferences the comparison relies on to tshark's
// defaults, so that a user's preferences file cannot change the oracle.
var tsharkPrefs = []string{
	"-o", "tcp.analyze_sequence_numbers:TRUE",
	"-o", "tcp.relative_sequence_numbers:TRUE", // the TFO ACK check reads the relative ACK
	"-o", "tcp.default_window_scaling:Not known",
	"-o", "tcp.fastrt_supersedes_ooo:TRUE", // fast retransmission before out-of-order
	"-o", "tcp.track_bytes_in_flight:TRUE",
	"-o", "tcp.calculate_timestamps:TRUE",
	"-o", "tcp.check_checksum:FALSE",
}

// verdict is what one frame got: its flags and duplicate ACK number.
type verdict struct {
	flags Flags
	dup   uint32
}

func (v verdict) String() string {
	if v.dup != 0 {
		return fmt.Sprintf("%v #%d", v.flags, v.dup)
	}
	return v.flags.String()
}

// requireTshark returns tshark's path, or skips the test when it is not
// installed, except with CI=true, where CI installs it and its absence is
// a failure.
func requireTshark(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark not found (%v); CI=true installs it, so this is a failure, not a skip", err)
		}
		t.Skipf("tshark not found (%v): install Wireshark's tshark (Debian package tshark) to compare with it", err)
	}
	return path
}

// tsharkVerdicts runs tshark on a capture and returns the analysis flags
// of every frame it dissected as TCP, by frame number.
func tsharkVerdicts(t testing.TB, tshark, path string) map[uint64]verdict {
	t.Helper()
	args := []string{"-n", "-r", path}
	args = append(args, tsharkPrefs...)
	args = append(args, "-T", "fields", "-E", "occurrence=a", "-e", "frame.number", "-e", "tcp.stream")
	for _, name := range flagNames {
		args = append(args, "-e", "tcp.analysis."+name)
	}
	args = append(args, "-e", "tcp.analysis.duplicate_ack_num")
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v\n%s", path, err, stderr.Bytes())
	}
	got := make(map[uint64]verdict)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3+numFlags {
			t.Fatalf("tshark %s: %d columns in %q, want %d", path, len(cols), sc.Text(), 3+numFlags)
		}
		frame, err := strconv.ParseUint(cols[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark %s: frame number %q: %v", path, cols[0], err)
		}
		if cols[1] == "" {
			continue // no TCP in this frame
		}
		if strings.Contains(cols[1], ",") {
			t.Fatalf("tshark %s: frame %d has more than one TCP header (%s)", path, frame, cols[1])
		}
		var v verdict
		for i := range numFlags {
			if cols[2+i] != "" {
				v.flags |= 1 << i
			}
		}
		if d := cols[2+numFlags]; d != "" {
			n, err := strconv.ParseUint(d, 10, 32)
			if err != nil {
				t.Fatalf("tshark %s: frame %d: duplicate_ack_num %q: %v", path, frame, d, err)
			}
			v.dup = uint32(n)
		}
		got[frame] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// conversations keys Conns by 4-tuple, as Wireshark keys conversations:
// both directions of an address and port pair are one conversation, and a
// new one starts on the same pair when Conn.Add says ReusedPorts. Direction
// 0 is whoever sent the pair's first segment.
type conversations map[[2]netip.AddrPort]*conversation

type conversation struct {
	first netip.AddrPort // the sender of the first segment: direction 0
	conn  Conn
}

func (cs conversations) add(s *capture.Segment, seg Segment) verdict {
	key := [2]netip.AddrPort{s.Src, s.Dst}
	if key[1].Addr().Less(key[0].Addr()) || key[1].Addr() == key[0].Addr() && key[1].Port() < key[0].Port() {
		key[0], key[1] = key[1], key[0]
	}
	c := cs[key]
	if c == nil {
		c = &conversation{first: s.Src}
		cs[key] = c
	}
	from := 1
	if s.Src == c.first {
		from = 0
	}
	f, dup := c.conn.Add(from, seg)
	return verdict{f, dup}
}

// segmentOf makes the analysis input from a decoded segment, as an
// integrator would.
func segmentOf(s *capture.Segment, p *capture.Packet) Segment {
	seg := Segment{
		Segment: fsm.Segment{
			Seq: fsm.Seq(s.Seq), Ack: fsm.Seq(s.Ack), Flags: fsm.Flags(s.Flags),
			Len: uint32(s.PayloadLen), Window: s.Window, WScale: -1,
		},
		Time:            p.Time,
		TFOCookie:       s.Opts.Has&capture.OptFastOpen != 0 && s.Opts.TFOCookieLen > 0,
		HeaderTruncated: s.HeaderTruncated,
	}
	if s.Opts.Has&capture.OptWScale != 0 {
		seg.WScale = int8(min(s.Opts.WScale, 14))
	}
	return seg
}

// ourVerdicts analyses a capture and returns the flags of every frame the
// decoder found a TCP segment in, by frame number.
func ourVerdicts(t testing.TB, path string) map[uint64]verdict {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var (
		p  capture.Packet
		s  capture.Segment
		d  capture.Decoder
		cs = make(conversations)
	)
	got := make(map[uint64]verdict)
	for {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if d.Decode(p.LinkType, p.Data, &s) != capture.ClassTCP {
			continue
		}
		got[p.Num] = cs.add(&s, segmentOf(&s, &p))
	}
	return got
}

// disagreement is one frame where the analysis and tshark differ.
type disagreement struct {
	frame    uint64
	tshark   verdict
	analysis verdict
}

// compare compares per frame, over every frame either side has TCP in
// (a frame missing on one side counts as no flags there), and returns
// how many frames it compared and where they differ, by frame number.
func compare(tshark, ours map[uint64]verdict) (int, []disagreement) {
	frames := make(map[uint64]bool, len(tshark))
	for f := range tshark {
		frames[f] = true
	}
	for f := range ours {
		frames[f] = true
	}
	var bad []disagreement
	for f := range frames {
		if tshark[f] != ours[f] {
			bad = append(bad, disagreement{f, tshark[f], ours[f]})
		}
	}
	slices.SortFunc(bad, func(a, b disagreement) int { return cmp.Compare(a.frame, b.frame) })
	return len(frames), bad
}

// allowed lists deliberate differences from tshark, by capture and frame,
// each with its reason; docs/wireshark.md lists them too. It is empty:
// every sample capture agrees on every frame.
var allowed = map[string]map[uint64]string{}

// TestTsharkAgreement compares every analysis flag on every frame of every
// sample capture, and of a larger generated one, with tshark's.
func TestTsharkAgreement(t *testing.T) {
	tshark := requireTshark(t)
	files, err := filepath.Glob("../../pcaps/*")
	if err != nil {
		t.Fatal(err)
	}
	var captures []string
	for _, f := range files {
		if strings.HasSuffix(f, ".pcap") || strings.HasSuffix(f, ".pcapng") || strings.HasSuffix(f, ".gz") {
			captures = append(captures, f)
		}
	}
	if len(captures) == 0 {
		t.Fatal("no sample captures in ../../pcaps")
	}
	captures = append(captures, generated(t))

	var agree, total int
	for _, path := range captures {
		name := filepath.Base(path)
		n, bad := compare(tsharkVerdicts(t, tshark, path), ourVerdicts(t, path))
		var unexplained []disagreement
		for _, d := range bad {
			if _, ok := allowed[name][d.frame]; !ok {
				unexplained = append(unexplained, d)
			}
		}
		total += n
		agree += n - len(bad)
		t.Logf("%s: %d of %d packets agree", name, n-len(bad), n)
		for i, d := range unexplained {
			if i == 10 {
				t.Errorf("%s: ... and %d more", name, len(unexplained)-10)
				break
			}
			t.Errorf("%s: frame %d: tshark %v, analysis %v", name, d.frame, d.tshark, d.analysis)
		}
	}
	t.Logf("total: %d of %d packets agree", agree, total)
	fmt.Printf("wireshark analysis flags: %d of %d packets agree with tshark\n", agree, total)
}

// generated writes a realistic busy-server capture with the repository's
// generator and returns its path.
func generated(t *testing.T) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found: %v", err)
	}
	path := filepath.Join(t.TempDir(), "pcapgen-2000.pcap")
	cmd := exec.Command(gotool, "run", "../../cmd/pcapgen", "-o", path, "-conns", "2000", "-concurrency", "100", "-seed", "1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pcapgen: %v\n%s", err, out)
	}
	return path
}
