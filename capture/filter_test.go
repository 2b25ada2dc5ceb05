package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// filterExprs are the expressions filter.go documents as supported. On
// every sample capture and every synthetic one, Filter.Match must select
// exactly the packets tcpdump selects, and CompileFilter must refuse an
// expression exactly where tcpdump refuses it (vlan on a cooked capture,
// inbound on Ethernet).
var filterExprs = []string{
	"",
	"tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "ip", "ip6", "arp", "rarp",
	"port 80", "tcp port 80", "udp port 53", "sctp port 80", "src port 80", "dst port 80",
	"src or dst port 443", "src and dst port 80", "port 80 or 443", "tcp port 443 and host 10.1.2.3",
	"host 192.0.2.1", "host 2001:db8::1", "src host 192.0.2.1", "dst host 192.0.2.2",
	"src or dst host 192.0.2.1", "src and dst host 192.0.2.1", "ip host 192.0.2.1", "arp host 192.0.2.2",
	"ip6 host 2001:db8::2", "src host 192.0.2.1 and dst port 80", "host 192.0.2.1 or 192.0.2.2",
	"host 192.0.2.1 and not 192.0.2.2",
	"net 192.0.2.0/24", "net 10", "net 10.1", "net 192.0.2.0 mask 255.255.255.0", "dst net 198.51.100.0/24",
	"src and dst net 192.0.2.0/24", "ip6 net 2001:db8::/32", "net 2001:db8::/64", "src net 2001:db8::/126",
	"net 0.0.0.0/0", "net ::/0", "net fe80::/10",
	"not port 22", "not tcp port 80", "! tcp", "not (tcp or udp)", "((tcp))",
	"tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[13] = 18",
	"tcp[tcpflags] & tcp-fin != 0 or tcp[tcpflags] & tcp-rst != 0",
	"vlan", "vlan 100", "vlan and tcp", "vlan 100 and tcp port 80", "vlan and vlan and tcp",
	"vlan 100 or vlan 200", "not vlan", "vlan 101",
	"portrange 80-90", "tcp portrange 8000-8100", "udp portrange 5000-6000", "portrange 90-80",
	"src portrange 1-1024",
	"tcp and (port 80 or port 8080) and not host 192.0.2.2",
	"port 80 or 443 and tcp", "tcp or udp and port 53", "tcp && !port 22 || udp",
	"ip proto 17", "ip6 proto 6", "proto 6", "ip proto \\tcp", "proto \\udp", "ether proto 0x86dd",
	"ether proto \\arp", "ether proto 0x806 or ether proto 0x800",
	"len > 100", "greater 100", "less 60", "len - 14 >= 60", "len <= 54", "len = 66",
	"ip[0] & 0xf > 5", "ip[2:2] > 100", "ip[6:2] & 0x3fff != 0", "ip[9] = 6 and ip[8] < 64",
	"ip6[6] = 44", "ip6[6] = 0", "icmp[icmptype] = icmp-echo", "icmp[0] = 0", "icmp6[icmp6type] = icmp6-echo",
	"udp[0:2] = 53", "(tcp[12] >> 4) * 4 > 20", "tcp[(tcp[12] >> 4) * 4] = 0x47", "tcp[2:2] - 80 < 10",
	"ether[12:2] = 0x800", "link[0] = 0", "arp[7] = 1", "ip[ip[0] & 0xf] = 0", "ether[0] & 1 != 0",
	"ip[0] ^ 1 & 3 = 1", "ip[0] | 1 ^ 3 = 0x47", "-ip[0] + 0x45 = 0", "ip[2:2] % 7 = 3", "ip[2:2] / 10 = 6",
	"ip[0] >> 4 = 4", "ip[12:4] = 0xc0000201", "ip[4:2] = ip[6:2]", "tcp[0:2] > tcp[2:2]",
	"inbound", "outbound", "not inbound and tcp",
	"0x10 = 16",
	longOr(60),
}

// longOr is an expression long enough to need jumps of more than 255
// instructions.
func longOr(n int) string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host 192.0.2.%d", 200-i)
	}
	return "tcp and (" + strings.Join(hosts, " or ") + ") or port 8080"
}

// requireTools skips the test when tools (and, with root, root privileges)
// are missing, except with CI=true, where kernel tests must run, so it
// fails (the rule of cmd/internal/netlab.Require, which this package cannot
// import).
func requireTools(t testing.TB, root bool, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	var why string
	switch {
	case len(missing) > 0:
		why = fmt.Sprintf("needs %s on PATH (Debian: apt-get install tcpdump iproute2)", strings.Join(missing, ", "))
	case root && os.Geteuid() != 0:
		why = "needs root (AF_PACKET sockets, network namespaces); run as root, e.g. sudo -E go test"
	case root && !liveSupported:
		why = "needs Linux"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: kernel tests must run in CI, so this is a failure, not a skip)", why)
	}
	t.Skip(why)
}

// tcpdumpSelect returns which packets of the capture at path tcpdump's
// filter selects (as tcpdump -w writes them), or tcpdump's error.
func tcpdumpSelect(t testing.TB, path string, pkts []Packet, expr string) ([]bool, error) {
	t.Helper()
	cmd := exec.Command("tcpdump", "-n", "-r", path, "-w", "-", "--", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(strings.ReplaceAll(stderr.String(), "\n", " "))
		return nil, fmt.Errorf("%v: %s", err, msg)
	}
	got, err := openAll(t, []string{"-"}, OpenOptions{Stdin: bytes.NewReader(out)})
	if err != nil {
		t.Fatalf("tcpdump %q on %s: reading its output: %v", expr, path, err)
	}
	// tcpdump writes the selected packets in order: match them greedily.
	sel := make([]bool, len(pkts))
	j := 0
	for i, p := range pkts {
		if j < len(got) && got[j].Length == p.Length && bytes.Equal(got[j].Data, p.Data) {
			sel[i] = true
			j++
		}
	}
	if j != len(got) {
		t.Fatalf("tcpdump %q on %s wrote %d packets that are not in the input in order", expr, path, len(got)-j)
	}
	return sel, nil
}

// filterCaptures returns the sample captures and writes the synthetic ones.
func filterCaptures(t *testing.T) []string {
	t.Helper()
	samples, err := filepath.Glob("../pcaps/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range samples {
		if !strings.HasSuffix(p, ".gz") { // tcpdump does not read gzip
			paths = append(paths, p)
		}
	}
	if len(paths) < 20 {
		t.Fatalf("found %d sample captures in ../pcaps, want at least 20", len(paths))
	}
	dir := t.TempDir()
	for _, s := range synthetic() {
		paths = append(paths, writeFile(t, dir, s.name, pcapFile(t, s.order, false, s.lt, s.recs)))
	}
	return paths
}

func TestFilterAgainstTcpdump(t *testing.T) {
	requireTools(t, false, "tcpdump")
	paths := filterCaptures(t)
	type result struct {
		path, expr string
		msg        string
	}
	var (
		mu       sync.Mutex
		failures []result
		refused  = map[string][]string{} // expression -> captures where both refuse it
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 4)
	)
	checked := 0
	for _, path := range paths {
		pkts, err := openAll(t, []string{path}, OpenOptions{})
		if err != nil || len(pkts) == 0 {
			t.Fatalf("%s: %d packets, %v", path, len(pkts), err)
		}
		lt := pkts[0].LinkType
		for _, expr := range filterExprs {
			checked++
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				msg := compareWithTcpdump(t, path, pkts, lt, expr)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case msg == "refused":
					refused[expr] = append(refused[expr], filepath.Base(path))
				case msg != "":
					failures = append(failures, result{path, expr, msg})
				}
			}()
		}
	}
	wg.Wait()
	slices.SortFunc(failures, func(a, b result) int { return strings.Compare(a.path+a.expr, b.path+b.expr) })
	for _, f := range failures {
		t.Errorf("%s: %q: %s", filepath.Base(f.path), f.expr, f.msg)
	}
	t.Logf("%d expressions on %d captures: %d comparisons, %d differences on whole frames; %d cut frames judged otherwise",
		len(filterExprs), len(paths), checked, len(failures), cutDiffs.Load())
	for _, expr := range []string{"vlan", "inbound"} {
		t.Logf("%q refused, as tcpdump refuses it, on %s", expr, strings.Join(refused[expr], ", "))
	}
}

// cutDiffs counts the frames cut by the snaplen inside the headers an
// expression reads where Match and tcpdump differ; see filter.go.
var cutDiffs atomic.Int64

// compareWithTcpdump returns "" when Match and tcpdump agree on every
// packet, "refused" when both refuse the expression, and otherwise what
// differs.
func compareWithTcpdump(t *testing.T, path string, pkts []Packet, lt layers.LinkType, expr string) string {
	want, tdErr := tcpdumpSelect(t, path, pkts, expr)
	f, err := CompileFilter(expr, lt, 0)
	switch {
	case tdErr != nil && err != nil:
		return "refused"
	case tdErr != nil && strings.Contains(tdErr.Error(), "expression rejects all packets"):
		// libpcap's optimizer proved the program always false; ours may
		// not have: then it must select nothing.
		for _, p := range pkts {
			if f.MatchLength(p.Data, p.Length) {
				return fmt.Sprintf("tcpdump finds it rejects every packet, Match accepts %x", p.Data)
			}
		}
		return "refused"
	case tdErr != nil:
		return fmt.Sprintf("tcpdump refuses it (%v), CompileFilter accepts it", tdErr)
	case err != nil:
		return fmt.Sprintf("tcpdump accepts it, CompileFilter refuses it: %v", err)
	}
	var diffs []string
	for i, p := range pkts {
		if p.LinkType != lt {
			continue
		}
		got := f.MatchLength(p.Data, p.Length)
		if got == want[i] {
			continue
		}
		if len(p.Data) < p.Length {
			cutDiffs.Add(1)
			t.Logf("%s: %q: cut frame %d (%d of %d bytes) %x: Match %v, tcpdump %v (its optimizer reordered the tests)",
				filepath.Base(path), expr, i+1, len(p.Data), p.Length, p.Data, got, want[i])
			continue
		}
		diffs = append(diffs, fmt.Sprintf("packet %d (%d bytes) %x: Match %v, tcpdump %v", i+1, len(p.Data), p.Data, got, want[i]))
	}
	if len(diffs) == 0 {
		return ""
	}
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("and %d more", len(diffs)-3))
	}
	return strings.Join(diffs, "; ") + "\n" + disassemble(f.BPF())
}

func disassemble(prog []bpf.RawInstruction) string {
	var b strings.Builder
	insts, _ := bpf.Disassemble(prog)
	for i, in := range insts {
		fmt.Fprintf(&b, "\t(%03d) %v\n", i, in)
	}
	return b.String()
}

// A synthetic capture: one link type, every kind of packet the expressions
// tell apart, and cut copies of some (the original length kept) so that
// loads past the captured bytes are exercised.
type syntheticCapture struct {
	name  string
	lt    layers.LinkType
	order binary.ByteOrder
	recs  []rec
}

// IP packets with their EtherType.
type ipPacket struct {
	et   uint16
	data []byte
}

func ip4pkt(proto byte, src, dst string, l4 []byte) []byte {
	h := mustHex("45000000 12340000 40000000 00000000 00000000")
	h[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	b := cat(h, l4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func ip6pkt(next byte, src, dst string, l4 []byte) []byte {
	h := mustHex("60000000 00000040")
	h[6] = next
	binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	return cat(h, s[:], d[:], l4)
}

func tcpSeg(sport, dport uint16, flags byte, payload string) []byte {
	h := binary.BigEndian.AppendUint16(nil, sport)
	h = binary.BigEndian.AppendUint16(h, dport)
	h = append(h, mustHex("00001000 00002000 5000ffff 00000000")...)
	h[13] = flags
	return cat(h, []byte(payload))
}

func udpSeg(sport, dport uint16, n int) []byte {
	h := binary.BigEndian.AppendUint16(nil, sport)
	h = binary.BigEndian.AppendUint16(h, dport)
	h = binary.BigEndian.AppendUint16(h, uint16(8+n))
	h = append(h, 0, 0)
	return cat(h, make([]byte, n))
}

func ipPackets() []ipPacket {
	v4 := func(b []byte) ipPacket { return ipPacket{etherTypeIPv4, b} }
	v6 := func(b []byte) ipPacket { return ipPacket{etherTypeIPv6, b} }
	withOpts := ip4pkt(6, "198.51.100.7", "192.0.2.1", cat(mustHex("01010101"), tcpSeg(22, 50022, 0x18, "SSH-2.0")))
	withOpts[0] = 0x46
	frag := ip4pkt(6, "192.0.2.1", "192.0.2.2", mustHex("00500050 0000000000000000"))
	binary.BigEndian.PutUint16(frag[6:], 185) // fragment offset 185*8
	first := ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(40002, 80, 0x18, strings.Repeat("x", 64)))
	binary.BigEndian.PutUint16(first[6:], 0x2000) // more fragments
	hop := ip6pkt(0, "2001:db8::1", "2001:db8::2", cat(mustHex("06000104 00000000"), tcpSeg(40009, 80, 0x02, "")))
	frag6 := ip6pkt(44, "2001:db8::1", "2001:db8::2", cat(mustHex("06000001 00000001"), tcpSeg(40010, 80, 0x02, "")))
	return []ipPacket{
		v4(ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(40000, 80, 0x02, ""))),
		v4(ip4pkt(6, "192.0.2.2", "192.0.2.1", tcpSeg(80, 40000, 0x12, ""))),
		v4(ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(40000, 80, 0x18, "GET / HTTP/1.0\r\n\r\n"))),
		v4(ip4pkt(6, "10.1.2.3", "192.0.2.1", tcpSeg(443, 50000, 0x10, ""))),
		v4(withOpts),
		v4(ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(40001, 8080, 0x11, ""))),
		v4(ip4pkt(6, "192.0.2.2", "192.0.2.1", tcpSeg(8080, 40001, 0x04, ""))),
		v4(ip4pkt(17, "10.1.2.3", "198.51.100.7", udpSeg(53, 5353, 40))),
		v4(ip4pkt(17, "198.51.100.7", "10.1.2.3", udpSeg(5353, 53, 12))),
		v4(ip4pkt(1, "192.0.2.1", "203.0.113.5", mustHex("0800f7ff 00010001"))),
		v4(ip4pkt(1, "203.0.113.5", "192.0.2.1", mustHex("0000ffff 00010001"))),
		v4(frag),
		v4(first),
		v4(ip4pkt(132, "192.0.2.1", "192.0.2.2", mustHex("13880050 00000000 00000000"))),
		v4(ip4pkt(2, "192.0.2.1", "224.0.0.22", mustHex("22000000 00000000"))),
		v4(ip4pkt(6, "192.0.2.3", "192.0.2.1", tcpSeg(8050, 5000, 0x10, strings.Repeat("y", 1200)))),
		v6(ip6pkt(6, "2001:db8::1", "2001:db8::2", tcpSeg(40008, 80, 0x02, ""))),
		v6(ip6pkt(6, "2001:db8::2", "2001:db8::1", tcpSeg(443, 50000, 0x10, "hello"))),
		v6(ip6pkt(17, "2001:db8:1::5", "2001:db8::1", udpSeg(53, 5353, 20))),
		v6(ip6pkt(58, "2001:db8::1", "2001:db8::2", mustHex("80000000 00010001"))),
		v6(hop),
		v6(frag6),
		v6(ip6pkt(6, "fe80::1", "ff02::1", tcpSeg(8000, 8000, 0x02, ""))),
		v6(ip6pkt(6, "2001:db8::3", "2001:db8::1", tcpSeg(5500, 22, 0x01, ""))),
	}
}

// arpRequest is an ARP request from 192.0.2.1 for 192.0.2.2.
var arpRequest = mustHex("0001 0800 06 04 0001 525400123456 c0000201 000000000000 c0000202")

// cuts are the lengths cut copies are made at.
var cuts = []int{1, 4, 10, 13, 14, 15, 16, 18, 20, 22, 24, 26, 30, 34, 36, 38, 40, 42, 44, 48, 50, 54, 56, 58, 60, 62, 66}

func synthetic() []syntheticCapture {
	pkts := ipPackets()
	type frame struct {
		lt   layers.LinkType
		data []byte
	}
	var caps []syntheticCapture
	add := func(name string, lt layers.LinkType, order binary.ByteOrder, frames [][]byte) {
		var recs []rec
		t := t0
		next := func(data []byte, orig int) {
			recs = append(recs, rec{t: t, data: data, orig: orig})
			t = t.Add(time.Microsecond)
		}
		for _, f := range frames {
			next(f, 0)
		}
		// Cut copies of every third frame.
		for i := 0; i < len(frames); i += 3 {
			for _, n := range cuts {
				if n < len(frames[i]) {
					next(frames[i][:n], len(frames[i]))
				}
			}
		}
		caps = append(caps, syntheticCapture{name, lt, order, recs})
	}
	le, be := binary.LittleEndian, binary.BigEndian

	var eth, sllF, sll2F, raw, nullLE, nullBE, loop, only4, only6 [][]byte
	for i, p := range pkts {
		eth = append(eth, ether(p.data, p.et), ether(p.data, etherTypeVLAN, p.et), ether(p.data, etherTypeQinQ, etherTypeVLAN, p.et))
		if i%4 == 0 {
			eth = append(eth, ether(p.data, etherTypeQinQv1, p.et), ether(p.data, etherTypeVLAN, etherTypeVLAN, p.et))
		}
		s, s2 := sll(p.data, p.et), sll2(p.data, p.et)
		sllF = append(sllF, s, with(s, 0, 0, 4)) // and as sent (PACKET_OUTGOING)
		sll2F = append(sll2F, s2, with(s2, 10, 4))
		raw = append(raw, p.data)
		if p.et == etherTypeIPv4 {
			nullLE = append(nullLE, null(p.data, le, afINET))
			nullBE = append(nullBE, null(p.data, be, afINET))
			loop = append(loop, null(p.data, be, afINET))
			only4 = append(only4, p.data)
		} else {
			af := afINET6s[i%len(afINET6s)]
			nullLE = append(nullLE, null(p.data, le, af), null(p.data, le, afINET6Linux))
			nullBE = append(nullBE, null(p.data, be, af))
			loop = append(loop, null(p.data, be, af))
			only6 = append(only6, p.data)
		}
	}
	arp := ether(arpRequest, etherTypeARP)
	eth = append(eth, arp, ether(arpRequest, etherTypeVLAN, etherTypeARP), ether(arpRequest, etherTypeRARP),
		ether(mustHex("0123456789abcdef"), 0x88cc), with(arp, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	sllF = append(sllF, sll(arpRequest, etherTypeARP), sll(mustHex("0123456789abcdef"), 0x88cc))
	sll2F = append(sll2F, sll2(arpRequest, etherTypeARP))
	raw = append(raw, mustHex("50000000"), mustHex("0123456789abcdef0123456789abcdef0123456789"))

	add("synthetic-ethernet.pcap", layers.LinkTypeEthernet, le, eth)
	add("synthetic-sll.pcap", layers.LinkTypeLinuxSLL, le, sllF)
	add("synthetic-sll2.pcap", layers.LinkTypeLinuxSLL2, le, sll2F)
	add("synthetic-raw.pcap", layers.LinkTypeRaw, le, raw)
	add("synthetic-null-le.pcap", layers.LinkTypeNull, le, nullLE)
	add("synthetic-null-be.pcap", layers.LinkTypeNull, be, nullBE)
	add("synthetic-loop.pcap", layers.LinkTypeLoop, le, loop)
	add("synthetic-ipv4.pcap", layers.LinkTypeIPv4, le, only4)
	add("synthetic-ipv6.pcap", layers.LinkTypeIPv6, le, only6)
	return caps
}

func TestCompileFilterErrors(t *testing.T) {
	for _, tt := range []struct {
		expr string
		lt   layers.LinkType
		want string // the error, after `capture: filter "EXPR": `
	}{
		{"tcp port", layers.LinkTypeEthernet, `port needs a number, not end of expression`},
		{"host foo.example", layers.LinkTypeEthernet, `"foo.example" is not an address (host names are not resolved)`},
		{"port http", layers.LinkTypeEthernet, `port needs a number, not "http" (service names are not resolved)`},
		{"tcp prot 80", layers.LinkTypeEthernet, `unexpected "prot" at offset 4`},
		{"net 192.0.2.1/24", layers.LinkTypeEthernet, `non-network bits set in "192.0.2.1"`},
		{"port 70000", layers.LinkTypeEthernet, `port 70000 is greater than 65535`},
		{"vlan", layers.LinkTypeLinuxSLL, `vlan needs Ethernet, not link type 113 (Linux SLL)`},
		{"vlan 5000", layers.LinkTypeEthernet, `VLAN ID 5000 is greater than 4095`},
		{"inbound", layers.LinkTypeEthernet, `inbound needs a Linux cooked capture (SLL or SLL2), not link type 1 (Ethernet)`},
		{"tcp[13] = ", layers.LinkTypeEthernet, `unexpected end of expression in arithmetic`},
		{"tcp[13:3] = 1", layers.LinkTypeEthernet, `data size must be 1, 2 or 4, not "3"`},
		{"ip[0] / 0 = 1", layers.LinkTypeEthernet, `division by zero`},
		{"(tcp", layers.LinkTypeEthernet, `missing ")" at offset 4`},
		{"tcp or", layers.LinkTypeEthernet, `expression ends where a primitive was expected`},
		{"tcp and 80", layers.LinkTypeEthernet, `"80" at offset 8 has no qualifier to take (such as host or port)`},
		{"gateway 192.0.2.1", layers.LinkTypeEthernet, `"gateway" needs host name resolution`},
		{"ether host 52:54:00:12:34:56", layers.LinkTypeEthernet, `ether host is not supported (only ether proto)`},
		{"broadcast", layers.LinkTypeEthernet, `"broadcast" is not supported`},
		{"ip host 2001:db8::1", layers.LinkTypeEthernet, `"ip" cannot qualify the IPv6 address "2001:db8::1"`},
		{"host 192.0.2.0/24", layers.LinkTypeEthernet, `host takes no mask; use net`},
		{"tcp $ 1", layers.LinkTypeEthernet, `unexpected "$" at offset 4`},
		{"tcp", layers.LinkTypeIEEE802_11, `link type 105 (802.11) is not supported`},
	} {
		_, err := CompileFilter(tt.expr, tt.lt, 0)
		want := fmt.Sprintf("capture: filter %q: %s", tt.expr, tt.want)
		if err == nil || err.Error() != want {
			t.Errorf("CompileFilter(%q, %v):\n got %v\nwant %s", tt.expr, tt.lt, err, want)
		}
	}
}

// TestFilterProgram checks the program's shape: accept returns the snaplen,
// jumps stay inside the program, and a long expression is laid out with
// unconditional jumps.
func TestFilterProgram(t *testing.T) {
	f, err := CompileFilter("tcp port 80", layers.LinkTypeEthernet, 96)
	if err != nil {
		t.Fatal(err)
	}
	prog := f.BPF()
	if last := prog[len(prog)-2]; last.Op != clsRET|retK || last.K != 96 {
		t.Errorf("accept is %+v, want ret #96", last)
	}
	if got := runBPF(prog, ether(ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(1, 80, 2, "")), etherTypeIPv4), 54); got != 96 {
		t.Errorf("program returns %d for a match, want the snaplen 96", got)
	}
	long, err := CompileFilter(longOr(60), layers.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	ja := 0
	for i, in := range long.BPF() {
		switch {
		case in.Op == clsJMP|jmpJA:
			ja++
			if i+1+int(in.K) >= len(long.prog) {
				t.Fatalf("instruction %d jumps out of the program", i)
			}
		case in.Op&0x07 == clsJMP:
			if i+1+int(in.Jt) >= len(long.prog) || i+1+int(in.Jf) >= len(long.prog) {
				t.Fatalf("instruction %d jumps out of the program", i)
			}
		}
	}
	if ja == 0 || len(long.prog) < 300 {
		t.Errorf("%d instructions, %d unconditional jumps; want a program over 255 instructions with some", len(long.prog), ja)
	}
	if _, ok := bpf.Disassemble(long.BPF()); !ok {
		t.Error("x/net/bpf cannot disassemble every instruction")
	}
	empty, err := CompileFilter("  ", layers.LinkTypeLinuxSLL, 0)
	if err != nil || !empty.Match(nil) || len(empty.BPF()) != 2 {
		t.Errorf("empty expression: %v, %v", empty.BPF(), err)
	}
	if f.String() != "tcp port 80" || f.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("String, LinkType = %q, %v", f.String(), f.LinkType())
	}
}

// TestFilterVM runs the interpreter on instructions the compiler does not
// emit but the BPF machine defines, against golang.org/x/net/bpf's VM.
func TestFilterVM(t *testing.T) {
	data := []byte{0x45, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}
	progs := [][]bpf.Instruction{
		{bpf.LoadConstant{Dst: bpf.RegX, Val: 3}, bpf.TXA{}, bpf.ALUOpConstant{Op: bpf.ALUOpMul, Val: 7}, bpf.RetA{}},
		{bpf.LoadAbsolute{Off: 0, Size: 4}, bpf.ALUOpConstant{Op: bpf.ALUOpXor, Val: 0xff}, bpf.RetA{}},
		{bpf.LoadIndirect{Off: 7, Size: 2}, bpf.RetA{}},
		{bpf.LoadAbsolute{Off: 8, Size: 2}, bpf.RetA{}}, // past the end: reject
		{bpf.LoadConstant{Dst: bpf.RegX, Val: 0}, bpf.LoadConstant{Val: 9}, bpf.ALUOpX{Op: bpf.ALUOpDiv}, bpf.RetA{}},
		{bpf.LoadMemShift{Off: 0}, bpf.TXA{}, bpf.RetA{}},
		{bpf.LoadConstant{Val: 5}, bpf.StoreScratch{Src: bpf.RegA, N: 3}, bpf.LoadScratch{Dst: bpf.RegX, N: 3}, bpf.TXA{}, bpf.RetA{}},
		{bpf.LoadConstant{Val: 1}, bpf.Jump{Skip: 1}, bpf.RetConstant{Val: 7}, bpf.RetA{}},
		{bpf.LoadAbsolute{Off: 1, Size: 1}, bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 1, SkipTrue: 1}, bpf.RetConstant{}, bpf.RetConstant{Val: 9}},
		{bpf.LoadExtension{Num: bpf.ExtLen}, bpf.RetA{}},
	}
	for i, insts := range progs {
		raw, err := bpf.Assemble(insts)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewVM(insts)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := vm.Run(data)
		if got := runBPF(raw, data, len(data)); int(got) != want {
			t.Errorf("program %d: %d, x/net/bpf's VM %d", i, got, want)
		}
	}
}

func TestFilterMatchAllocs(t *testing.T) {
	f, err := CompileFilter("tcp[(tcp[12] >> 4) * 4] = 0x47 or vlan and tcp port 80", layers.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := ether(ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(40000, 80, 0x18, "GET /")), etherTypeIPv4)
	if n := testing.AllocsPerRun(100, func() { f.Match(frame) }); n != 0 {
		t.Errorf("Match allocates %v times per packet, want 0", n)
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	for _, bm := range []struct{ name, expr string }{
		{"tcp", "tcp"},
		{"tcp-port-host", "tcp port 443 and host 10.1.2.3"},
		{"syn", "tcp[tcpflags] & tcp-syn != 0"},
	} {
		f, err := CompileFilter(bm.expr, layers.LinkTypeEthernet, 0)
		if err != nil {
			b.Fatal(err)
		}
		frame := ether(ip4pkt(6, "10.1.2.3", "192.0.2.1", tcpSeg(443, 50000, 0x10, "")), etherTypeIPv4)
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(frame)
			}
		})
	}
}

// FuzzFilter compiles arbitrary expressions and runs what compiles on
// arbitrary frames: neither may panic, and programs must stay within the
// kernel's limits.
func FuzzFilter(f *testing.F) {
	for _, expr := range filterExprs[:60] {
		f.Add(expr, ether(ip4pkt(6, "192.0.2.1", "192.0.2.2", tcpSeg(40000, 80, 0x02, "")), etherTypeIPv4), uint8(0))
	}
	f.Add("vlan and tcp[tcp[0]] = 1", []byte{0x81, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, expr string, data []byte, which uint8) {
		lts := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
			layers.LinkTypeRaw, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeIPv4, layers.LinkTypeIPv6}
		lt := lts[int(which)%len(lts)]
		flt, err := CompileFilter(expr, lt, 0)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if len(flt.prog) > maxProgram {
			t.Fatalf("%d instructions", len(flt.prog))
		}
		flt.Match(data)
		flt.MatchLength(data, 1<<20)
	})
}
