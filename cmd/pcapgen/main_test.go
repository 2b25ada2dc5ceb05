package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// gen runs pcapgen with args plus -o dir/name and -expect, and returns the
// capture's path and the expectation.
func gen(t testing.TB, dir, name string, args ...string) (string, *expectation) {
	t.Helper()
	path := filepath.Join(dir, name)
	exp := path + ".json"
	var stderr bytes.Buffer
	args = append([]string{"-o", path, "-expect", exp}, args...)
	if err := run(args, io.Discard, &stderr); err != nil {
		t.Fatalf("pcapgen %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "packets/s") {
		t.Errorf("summary without the speed:\n%s", stderr.String())
	}
	b, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	var e expectation
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return path, &e
}

// record is one packet read back.
type record struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// readCapture reads a pcap or pcapng file, gzipped or not, with pcapgo.
func readCapture(t testing.TB, path string) []record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		t.Fatal(err)
	}
	var next func() ([]byte, gopacket.CaptureInfo, error)
	if binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		if ng.LinkType() != layers.LinkTypeEthernet {
			t.Fatalf("link type %v", ng.LinkType())
		}
		next = ng.ReadPacketData
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		if pr.LinkType() != layers.LinkTypeEthernet || pr.Snaplen() != snaplen {
			t.Fatalf("link type %v, snaplen %d", pr.LinkType(), pr.Snaplen())
		}
		next = pr.ReadPacketData
	}
	var recs []record
	for {
		data, ci, err := next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, len(recs)+1, err)
		}
		recs = append(recs, record{ci, bytes.Clone(data)})
	}
}

// TestDeterministic: the same flags and seed give the same bytes, in every
// format; another seed gives other bytes.
func TestDeterministic(t *testing.T) {
	args := []string{"-conns", "800", "-concurrency", "60", "-flood", "300", "-flood-synack"}
	for _, name := range []string{"a.pcap", "a.pcapng", "a.pcap.gz", "a.pcapng.gz"} {
		t.Run(name, func(t *testing.T) {
			p1, e1 := gen(t, t.TempDir(), name, args...)
			p2, e2 := gen(t, t.TempDir(), name, args...)
			p3, _ := gen(t, t.TempDir(), name, append(args, "-seed", "2")...)
			b1, b2, b3 := mustRead(t, p1), mustRead(t, p2), mustRead(t, p3)
			if !bytes.Equal(b1, b2) {
				t.Errorf("two runs with the same seed differ (%d and %d bytes)", len(b1), len(b2))
			}
			if bytes.Equal(b1, b3) {
				t.Error("seeds 1 and 2 give the same bytes")
			}
			j1, _ := json.Marshal(e1)
			j2, _ := json.Marshal(e2)
			if !bytes.Equal(j1, j2) {
				t.Error("two runs with the same seed expect different things")
			}
		})
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decoded is a packet decoded with gopacket.
type decoded struct {
	at       time.Time
	src, dst netip.AddrPort
	tcp      *layers.TCP
	payload  int // TCP payload length from the IP header
	vlan     bool
}

// decodeAll decodes every packet with gopacket (Ethernet, optional 802.1Q,
// IPv4 or IPv6, TCP), checks the IPv4 and TCP checksums, frame padding and
// that timestamps strictly increase.
func decodeAll(t testing.TB, recs []record) []decoded {
	t.Helper()
	out := make([]decoded, 0, len(recs))
	var prev time.Time
	for i, r := range recs {
		n := i + 1
		if r.ci.CaptureLength != len(r.data) || r.ci.Length != len(r.data) {
			t.Fatalf("packet %d: capture info %+v for %d bytes", n, r.ci, len(r.data))
		}
		if !r.ci.Timestamp.After(prev) {
			t.Fatalf("packet %d: timestamp %v not after %v", n, r.ci.Timestamp, prev)
		}
		prev = r.ci.Timestamp
		p := gopacket.NewPacket(r.data, layers.LinkTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: decode error: %v", n, el.Error())
		}
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			t.Fatalf("packet %d: no TCP layer: %v", n, p)
		}
		d := decoded{at: r.ci.Timestamp, tcp: tcp, vlan: p.Layer(layers.LayerTypeDot1Q) != nil}
		var pseudo []byte
		var ipLen int
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			if ^fold(sum(ip.Contents, 0)) != 0 {
				t.Fatalf("packet %d: bad IPv4 header checksum", n)
			}
			if ip.Flags != layers.IPv4DontFragment {
				t.Fatalf("packet %d: IPv4 flags %v", n, ip.Flags)
			}
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			d.src, d.dst = netip.AddrPortFrom(src, uint16(tcp.SrcPort)), netip.AddrPortFrom(dst, uint16(tcp.DstPort))
			ipLen = int(ip.Length)
			d.payload = ipLen - 20 - len(tcp.Contents)
			pseudo = append(append([]byte{}, ip.SrcIP.To4()...), ip.DstIP.To4()...)
		case *layers.IPv6:
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			d.src, d.dst = netip.AddrPortFrom(src, uint16(tcp.SrcPort)), netip.AddrPortFrom(dst, uint16(tcp.DstPort))
			ipLen = 40 + int(ip.Length)
			d.payload = int(ip.Length) - len(tcp.Contents)
			pseudo = append(append([]byte{}, ip.SrcIP...), ip.DstIP...)
		default:
			t.Fatalf("packet %d: network layer %T", n, ip)
		}
		if len(tcp.Payload) != d.payload {
			t.Fatalf("packet %d: %d payload bytes, IP header says %d", n, len(tcp.Payload), d.payload)
		}
		seg := append(append([]byte{}, tcp.Contents...), tcp.Payload...)
		s := sum(pseudo, protoTCP+uint32(len(seg)))
		if ^fold(sum(seg, s)) != 0 {
			t.Fatalf("packet %d: bad TCP checksum", n)
		}
		link := len(r.data) - ipLen
		if link != 14 && link != 18 && len(r.data) != minFrame {
			t.Fatalf("packet %d: %d bytes around a %d-byte IP packet", n, len(r.data), ipLen)
		}
		out = append(out, d)
	}
	return out
}

// TestReadBack reads every format back with pcapgo and decodes every
// packet with gopacket.
func TestReadBack(t *testing.T) {
	for _, name := range []string{"r.pcap", "r.pcapng", "r.pcap.gz", "r.pcapng.gz"} {
		t.Run(name, func(t *testing.T) {
			path, e := gen(t, t.TempDir(), name, "-conns", "1500", "-concurrency", "100",
				"-flood", "500", "-flood-synack", "-seed", "3")
			ds := decodeAll(t, readCapture(t, path))
			if int64(len(ds)) != e.Packets {
				t.Fatalf("%d packets read, %d written", len(ds), e.Packets)
			}
			var v6, vlan, opts int
			for _, d := range ds {
				if d.src.Addr().Is6() {
					v6++
				}
				if d.vlan {
					vlan++
				}
				if len(d.tcp.Options) > 0 {
					opts++
				}
			}
			if v6 == 0 || vlan == 0 || opts == 0 {
				t.Errorf("IPv6 packets %d, VLAN %d, with options %d: want some of each", v6, vlan, opts)
			}
			if first := ds[0].at.UTC().Format(time.RFC3339Nano); first != e.First {
				t.Errorf("first packet at %s, expect file says %s", first, e.First)
			}
		})
	}
}

// TestFlood: N spoofed SYNs from N distinct sources in 198.18.0.0/15 to
// port 80; with -flood-synack each is answered, and the answer repeated.
func TestFlood(t *testing.T) {
	bench := netip.MustParsePrefix("198.18.0.0/15")
	for _, synack := range []bool{false, true} {
		args := []string{"-conns", "0", "-flood", "20000", "-flood-rate", "200000"}
		per := 1
		if synack {
			args, per = append(args, "-flood-synack"), 3
		}
		path, e := gen(t, t.TempDir(), "f.pcap", args...)
		ds := decodeAll(t, readCapture(t, path))
		if len(ds) != 20000*per || e.FloodSYNs != 20000 {
			t.Fatalf("synack %v: %d packets, %d flood SYNs", synack, len(ds), e.FloodSYNs)
		}
		type answer struct {
			seq   uint32
			count int
		}
		sources := map[netip.AddrPort]uint32{} // source → ISN
		answers := map[netip.AddrPort]*answer{}
		for i, d := range ds {
			switch {
			case d.tcp.SYN && !d.tcp.ACK:
				if !bench.Contains(d.src.Addr()) || d.dst.Port() != floodPort || d.src.Port() < 1024 || len(d.tcp.Options) != 0 {
					t.Fatalf("packet %d: spoofed SYN %v → %v with %d options", i+1, d.src, d.dst, len(d.tcp.Options))
				}
				if _, dup := sources[d.src]; dup {
					t.Fatalf("packet %d: source %v used twice", i+1, d.src)
				}
				sources[d.src] = d.tcp.Seq
			case d.tcp.SYN && d.tcp.ACK:
				isn, ok := sources[d.dst]
				if !ok || d.tcp.Ack != isn+1 {
					t.Fatalf("packet %d: SYN-ACK to %v acknowledges %d, not a SYN seen", i+1, d.dst, d.tcp.Ack)
				}
				a := answers[d.dst]
				if a == nil {
					a = &answer{seq: d.tcp.Seq}
					answers[d.dst] = a
				}
				if a.seq != d.tcp.Seq {
					t.Fatalf("packet %d: retransmitted SYN-ACK with another ISN", i+1)
				}
				a.count++
			default:
				t.Fatalf("packet %d: flags %v in a flood", i+1, d.tcp)
			}
		}
		if len(sources) != 20000 {
			t.Errorf("%d distinct sources, want 20000", len(sources))
		}
		for src, a := range answers {
			if a.count != 2 {
				t.Fatalf("%v answered %d times, want twice", src, a.count)
			}
		}
		if synack && len(answers) != 20000 {
			t.Errorf("%d SYNs answered, want all", len(answers))
		}
		if got := e.AtEnd["SYN_SENT/SYN_RECEIVED"]; got != 20000 {
			t.Errorf("expect file: %d SYN_SENT/SYN_RECEIVED at the end, want 20000 (%v)", got, e.AtEnd)
		}
	}
}

// TestFloodInterleaved: the spoofed SYNs are spread among the normal
// traffic, not bunched at one end.
func TestFloodInterleaved(t *testing.T) {
	path, _ := gen(t, t.TempDir(), "m.pcap", "-conns", "3000", "-concurrency", "200", "-flood", "3000",
		"-flood-rate", "2000")
	ds := decodeAll(t, readCapture(t, path))
	bench := netip.MustParsePrefix("198.18.0.0/15")
	var floodFirst, floodLast, normalFirst, normalLast int
	for i, d := range ds {
		if bench.Contains(d.src.Addr()) {
			if floodFirst == 0 {
				floodFirst = i + 1
			}
			floodLast = i + 1
		} else {
			if normalFirst == 0 {
				normalFirst = i + 1
			}
			normalLast = i + 1
		}
	}
	if floodFirst > len(ds)/10 || floodLast < len(ds)*9/10 || normalFirst > len(ds)/10 {
		t.Errorf("flood packets %d..%d, normal %d..%d of %d: not interleaved", floodFirst, floodLast,
			normalFirst, normalLast, len(ds))
	}
}

// TestPacketsLimit: -packets stops at exactly N packets, and conns has no
// limit unless given.
func TestPacketsLimit(t *testing.T) {
	path, e := gen(t, t.TempDir(), "p.pcapng", "-packets", "25000", "-concurrency", "300", "-flood", "2000", "-flood-synack")
	if recs := readCapture(t, path); len(recs) != 25000 || e.Packets != 25000 {
		t.Fatalf("%d packets read, %d in the expect file; want 25000", len(recs), e.Packets)
	}
	if e.CutShort == 0 {
		t.Error("no connection cut short")
	}
	total := 0
	for _, n := range e.AtEnd {
		total += n
	}
	if total != e.Connections+e.FloodSYNs {
		t.Errorf("at_end counts %d connections, kinds and flood %d", total, e.Connections+e.FloodSYNs)
	}
}

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pcap")
	small := []string{"-conns", "5", "-concurrency", "2"}
	if err := run(append([]string{"-o", path}, small...), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)
	err := run(append([]string{"-o", path, "-seed", "9"}, small...), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second write without -force: %v, want an error saying it exists", err)
	}
	if !bytes.Equal(before, mustRead(t, path)) {
		t.Error("the file was touched without -force")
	}
	if err := run(append([]string{"-o", path, "-seed", "9", "-force"}, small...), io.Discard, io.Discard); err != nil {
		t.Errorf("-force: %v", err)
	}
	if bytes.Equal(before, mustRead(t, path)) {
		t.Error("-force did not overwrite")
	}

	var stdout bytes.Buffer
	if err := run(append([]string{"-o", "-", "-format", "pcapng"}, small...), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(stdout.Bytes()) != 0x0a0d0d0a {
		t.Error("-o - -format pcapng: not pcapng on standard output")
	}

	for _, args := range [][]string{
		{},
		{"-o", filepath.Join(dir, "y.pcap"), "-format", "erf"},
		{"-o", filepath.Join(dir, "y.pcap"), "-concurrency", "0"},
		{"-o", filepath.Join(dir, "y.pcap"), "-start", "yesterday"},
		{"-o", filepath.Join(dir, "y.pcap"), "stray"},
	} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	var help bytes.Buffer
	if err := run([]string{"-help"}, io.Discard, &help); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v", err)
	}
	for _, want := range []string{"-flood-synack", "Examples:", "-packets 10000000"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("-help does not mention %q", want)
		}
	}
}
