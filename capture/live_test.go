//go:build linux && !libpcap

package capture

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// The kernel tests below capture real traffic between two network
// namespaces joined by a veth pair, with the documentation addresses
// cmd/internal/netlab uses (192.0.2.1/2, 2001:db8::1/2), and compare with
// tcpdump capturing at the same time. netlab itself is internal to cmd, so
// the little of it needed here is repeated: namespaces made with ip(8) and
// entered with setns(2) on a locked thread.

// labNS is a network namespace made for one test.
type labNS struct {
	name string
	fd   int
}

var labCounter atomic.Uint64

// newLabNS creates a namespace with its loopback up. Its name has netlab's
// form (tslab-PID-N), so netlab removes it should this process die first.
func newLabNS(t *testing.T) *labNS {
	t.Helper()
	name := fmt.Sprintf("tslab-%d-%d", os.Getpid(), 1000+labCounter.Add(1))
	run(t, "ip", "netns", "add", name)
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		exec.Command("ip", "netns", "delete", name).Run()
		t.Fatal(err)
	}
	n := &labNS{name: name, fd: fd}
	t.Cleanup(func() {
		unix.Close(n.fd)
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Logf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return n
}

// do runs f on a thread inside the namespace: sockets f creates belong to
// it. If the thread cannot go back, it is left locked and dies with its
// goroutine.
func (n *labNS) do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = f()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// labPair is two namespaces joined by veth0 (in each).
type labPair struct{ a, b *labNS }

func newLabPair(t *testing.T) labPair {
	t.Helper()
	requireTools(t, true, "ip", "tcpdump")
	p := labPair{newLabNS(t), newLabNS(t)}
	run(t, "ip", "-n", p.a.name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", p.b.name)
	for i, n := range []*labNS{p.a, p.b} {
		run(t, "ip", "-n", n.name, "addr", "add", fmt.Sprintf("192.0.2.%d/24", i+1), "dev", "veth0")
		run(t, "ip", "-n", n.name, "addr", "add", fmt.Sprintf("2001:db8::%d/64", i+1), "dev", "veth0", "nodad")
		run(t, "ip", "-n", n.name, "link", "set", "veth0", "up")
	}
	for _, n := range []*labNS{p.a, p.b} {
		waitUp(t, n, "veth0")
	}
	return p
}

// waitUp waits for an interface's operational state to be UP: before that,
// the first IPv6 neighbour solicitation can go unanswered.
func waitUp(t *testing.T, n *labNS, iface string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(run(t, "ip", "-n", n.name, "-o", "link", "show", "dev", iface), " state UP ") {
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s is not up after 5s", iface, n.name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openLive opens a live capture inside the namespace.
func (n *labNS) openLive(t *testing.T, iface string, opt LiveOptions) LiveSource {
	t.Helper()
	var src LiveSource
	if err := n.do(func() (err error) { src, err = OpenLive(iface, opt); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// collect reads src in a goroutine until it ends; wait returns what it got.
func collect(t *testing.T, src Source) (wait func() ([]Packet, error)) {
	var pkts []Packet
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var p Packet
			if err = src.Next(&p); err != nil {
				return
			}
			p.Data = bytes.Clone(p.Data)
			pkts = append(pkts, p)
		}
	}()
	return func() ([]Packet, error) {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Next did not return within 5s of Close")
		}
		if err == io.EOF {
			err = nil
		}
		return pkts, err
	}
}

// tcpdumpLive is tcpdump capturing in a namespace.
type tcpdumpLive struct {
	cmd  *exec.Cmd
	file string
	done chan struct{}
	out  bytes.Buffer
}

func startTcpdump(t *testing.T, n *labNS, iface string, args ...string) *tcpdumpLive {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tcpdump.pcap")
	args = append([]string{"netns", "exec", n.name, "tcpdump", "-n", "-U", "--immediate-mode", "-B", "65536", "-Z", "root", "-i", iface, "-w", file}, args...)
	c := &tcpdumpLive{cmd: exec.Command("ip", args...), file: file, done: make(chan struct{})}
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			c.out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "listening on ") {
				once.Do(func() { close(listening) })
			}
		}
		c.cmd.Wait()
	}()
	t.Cleanup(func() { c.cmd.Process.Kill(); <-c.done })
	select {
	case <-listening:
	case <-c.done:
		t.Fatalf("tcpdump exited: %s", c.out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("tcpdump did not start: %s", c.out.String())
	}
	return c
}

// stop stops tcpdump and returns what it captured.
func (c *tcpdumpLive) stop(t *testing.T) []Packet {
	t.Helper()
	// On SIGINT tcpdump stops at once, and packets still in its ring are
	// lost: wait until it has written everything (-U writes every packet
	// as it reads it), that is until the file stops growing.
	size, still := int64(-1), 0
	for deadline := time.Now().Add(10 * time.Second); still < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		fi, err := os.Stat(c.file)
		if err == nil && fi.Size() == size {
			still++
		} else if err == nil {
			size, still = fi.Size(), 0
		}
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("tcpdump ignored SIGINT")
	}
	pkts, err := openAll(t, []string{c.file}, OpenOptions{})
	if err != nil {
		t.Fatalf("reading tcpdump's capture: %v (%s)", err, c.out.String())
	}
	if m := regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel`).FindStringSubmatch(c.out.String()); m == nil || m[1] != "0" {
		t.Fatalf("tcpdump dropped packets, so it cannot be compared with: %s", c.out.String())
	}
	return pkts
}

// exchange runs one HTTP-like exchange from a to b's address on port: a
// request, a reply, a close from the client.
func exchange(t *testing.T, p labPair, network, server string, port int) {
	t.Helper()
	addr := net.JoinHostPort(server, fmt.Sprint(port))
	var ln net.Listener
	if err := p.b.do(func() (err error) { ln, err = net.Listen(network, addr); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		if _, err := c.Read(buf); err != nil {
			served <- err
			return
		}
		_, err = c.Write([]byte("HTTP/1.0 200 OK\r\n\r\nhello"))
		io.Copy(io.Discard, c) // until the client closes
		served <- err
	}()
	var c net.Conn
	err := p.a.do(func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: -1}
		c, err = d.DialContext(context.Background(), network, addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAtLeast(c, make([]byte, 64), 24); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// tcpOnly returns the packets that are TCP segments.
func tcpOnly(pkts []Packet) []Packet {
	var d Decoder
	var s Segment
	var out []Packet
	for _, p := range pkts {
		if d.Decode(p.LinkType, p.Data, &s) == ClassTCP {
			out = append(out, p)
		}
	}
	return out
}

// sameFrames compares two captures frame by frame. Two sockets on one
// interface can see packets that two CPUs handle at the same time in either
// order, so both are put in the order of their timestamps, which the kernel
// gives every packet once, to the microsecond that tcpdump writes.
func sameFrames(t *testing.T, got, want []Packet) {
	t.Helper()
	order := func(a, b Packet) int {
		return cmp.Or(a.Time.Truncate(time.Microsecond).Compare(b.Time.Truncate(time.Microsecond)), bytes.Compare(a.Data, b.Data))
	}
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortStableFunc(got, order)
	slices.SortStableFunc(want, order)
	if len(got) != len(want) {
		t.Errorf("captured %d TCP segments, tcpdump %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i].Data, want[i].Data) || got[i].Length != want[i].Length {
			t.Errorf("segment %d differs:\n got %d bytes %x\nwant %d bytes %x", i+1, got[i].Length, got[i].Data, want[i].Length, want[i].Data)
			return
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func TestLiveCapture(t *testing.T) {
	p := newLabPair(t)
	td := startTcpdump(t, p.a, "veth0")
	src := p.a.openLive(t, "veth0", LiveOptions{})
	if src.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("link type %v, want Ethernet", src.LinkType())
	}
	wait := collect(t, src)
	exchange(t, p, "tcp4", "192.0.2.2", 80)
	exchange(t, p, "tcp6", "2001:db8::2", 443)
	want := tcpOnly(td.stop(t))
	time.Sleep(2 * blockTimeout)
	stats, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	pkts, err := wait()
	if err != nil {
		t.Fatal(err)
	}

	var d Decoder
	var s Segment
	last := time.Time{}
	conns := map[uint16]bool{}
	for i, p := range pkts {
		if p.Num != uint64(i+1) || p.LinkType != layers.LinkTypeEthernet || p.File != 0 {
			t.Errorf("packet %d: Num %d, LinkType %v, File %d", i+1, p.Num, p.LinkType, p.File)
		}
		// The kernel stamps a packet when a CPU takes it in; two CPUs can
		// hand a socket packets a little out of the order of their stamps.
		if p.Time.Before(last.Add(-10*time.Millisecond)) || time.Since(p.Time) > time.Minute {
			t.Errorf("packet %d: time %v after %v", i+1, p.Time, last)
		}
		last = maxTime(last, p.Time)
		if d.Decode(p.LinkType, p.Data, &s) == ClassTCP {
			conns[s.Dst.Port()] = true
		}
	}
	if !conns[80] || !conns[443] {
		t.Errorf("no segments to port 80 or 443 among %d packets", len(pkts))
	}
	got := tcpOnly(pkts)
	if len(want) < 16 {
		t.Fatalf("tcpdump captured %d TCP segments; want two whole connections", len(want))
	}
	sameFrames(t, got, want)
	if stats.Received < uint64(len(got)) || stats.Dropped != 0 {
		t.Errorf("Stats() = %+v after %d TCP segments", stats, len(got))
	}
	final, err := src.Stats()
	if err != nil || final.Received < stats.Received {
		t.Errorf("Stats() after Close = %+v, %v", final, err)
	}
	if pr := src.Progress(); pr.Packets != uint64(len(pkts)) || pr.Bytes <= 0 {
		t.Errorf("Progress() = %+v after %d packets", pr, len(pkts))
	}
	t.Logf("%d packets, %d TCP segments (tcpdump %d), stats %+v", len(pkts), len(got), len(want), final)
}

// liveFilters are the expressions TestLiveFilters runs in the kernel, on
// an Ethernet interface and on "any". Between them they take every path:
// the kernel alone; the kernel, then user space again for frames whose VLAN
// tag was put back; user space alone (vlan on Ethernet; on "any", loads of
// cooked-header fields the kernel does not have, and len).
var liveFilters = map[string][]string{
	"veth0": {"", "tcp port 80", "tcp port 443 and host 2001:db8::2", "not port 80", "tcp[tcpflags] & tcp-syn != 0",
		"vlan", "vlan 100 and tcp port 80", "len > 100", "ip6", "portrange 8000-9000 or icmp6"},
	"any": {"", "tcp port 80", "inbound and tcp", "outbound", "len > 100", "ip6 and port 9000", "host 127.0.0.1",
		"ether[0:2] = 4", "ether[2:2] = 772", "tcp[tcpflags] & tcp-fin != 0"},
}

// injectVLAN sends VLAN-tagged TCP segments from the namespace through a
// packet socket. The receiving end sees them as a VLAN-offloading NIC hands
// them over: the kernel takes the outer tag off into the packet's metadata
// (skb_vlan_untag), whether or not 802.1Q is configured.
func injectVLAN(t *testing.T, n *labNS, iface string) {
	t.Helper()
	syn := func(dport uint16) []byte {
		return ip4pkt(6, "198.51.100.1", "198.51.100.2", tcpSeg(40100, dport, 0x02, ""))
	}
	frames := [][]byte{
		ether(syn(80), etherTypeVLAN, etherTypeIPv4),                       // VLAN 100
		ether(syn(8080), etherTypeVLAN, etherTypeIPv4),                     // VLAN 100, another port
		with(ether(syn(80), etherTypeVLAN, etherTypeIPv4), 14, 0x20, 0xc8), // VLAN 200, priority 1
		ether(syn(80), etherTypeQinQ, etherTypeVLAN, etherTypeIPv4),        // QinQ: 100 in 802.1ad, 101 inside
		ether(ip6pkt(6, "2001:db8:100::1", "2001:db8:100::2", tcpSeg(40101, 80, 0x02, "")), etherTypeVLAN, etherTypeIPv6),
	}
	err := n.do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		for _, f := range frames {
			if err := unix.Sendto(fd, f, 0, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("injecting VLAN frames: %v", err)
	}
}

// TestLiveFilters captures the same traffic with tcpdump (no filter) and
// with a live source per filter expression, on an Ethernet interface that
// also carries VLAN 100 and on "any", which also sees loopback. Each live
// source must deliver exactly the TCP segments that `tcpdump -r FILE EXPR`
// selects from tcpdump's capture: a filter selects the same packets live as
// on a file.
func TestLiveFilters(t *testing.T) {
	p := newLabPair(t)
	type live struct {
		iface, expr string
		src         LiveSource
		wait        func() ([]Packet, error)
	}
	dumps := map[string]*tcpdumpLive{
		"veth0": startTcpdump(t, p.a, "veth0"),
		"any":   startTcpdump(t, p.a, "any", "-y", "LINUX_SLL"),
	}
	var lives []*live
	for _, iface := range []string{"veth0", "any"} {
		for _, expr := range liveFilters[iface] {
			l := &live{iface: iface, expr: expr, src: p.a.openLive(t, iface, LiveOptions{Filter: expr})}
			l.wait = collect(t, l.src)
			lives = append(lives, l)
		}
	}
	small := p.a.openLive(t, "any", LiveOptions{Snaplen: 100})
	waitSmall := collect(t, small)

	exchange(t, p, "tcp4", "192.0.2.2", 80)
	exchange(t, p, "tcp4", "192.0.2.2", 8080)
	exchange(t, p, "tcp6", "2001:db8::2", 443)
	exchange(t, p, "tcp6", "2001:db8::2", 80)
	injectVLAN(t, p.b, "veth0")
	loopback := labPair{p.a, p.a}
	exchange(t, loopback, "tcp4", "127.0.0.1", 9000)
	exchange(t, loopback, "tcp6", "::1", 9000)

	captured := map[string][]Packet{}
	files := map[string]string{}
	for iface, td := range dumps {
		captured[iface], files[iface] = td.stop(t), td.file
	}
	time.Sleep(2 * blockTimeout)
	for _, l := range lives {
		if st, err := l.src.Stats(); err != nil || st.Dropped != 0 {
			t.Errorf("%s %q: Stats() = %+v, %v", l.iface, l.expr, st, err)
		}
		l.src.Close()
	}
	small.Close()

	for _, l := range lives {
		t.Run(l.iface+"/"+l.expr, func(t *testing.T) {
			got, err := l.wait()
			if err != nil {
				t.Fatal(err)
			}
			all := captured[l.iface]
			sel, err := tcpdumpSelect(t, files[l.iface], all, l.expr)
			if err != nil {
				t.Fatal(err)
			}
			var want []Packet
			for i, p := range all {
				if sel[i] {
					want = append(want, p)
				}
			}
			got, want = tcpOnly(got), tcpOnly(want)
			if len(want) == 0 {
				t.Fatalf("tcpdump selects no TCP segment of %d packets", len(all))
			}
			sameFrames(t, got, want)
		})
	}

	// Loopback packets once each, although lo both sends and receives them;
	// and the snaplen is kept.
	pkts, err := waitSmall()
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	var s Segment
	syns := 0
	for i, p := range pkts {
		if len(p.Data) > 100 || p.Length < len(p.Data) {
			t.Errorf("packet %d: %d of %d bytes, snaplen 100", i+1, len(p.Data), p.Length)
		}
		if d.Decode(p.LinkType, p.Data, &s) == ClassTCP && s.Flags == FlagSYN && s.Dst.Port() == 9000 {
			syns++
		}
	}
	if syns != 2 {
		t.Errorf("%d SYNs to port 9000 over loopback, want 2 (one per connection)", syns)
	}
	want := tcpOnly(captured["any"])
	for i := range want {
		want[i].Data = want[i].Data[:min(len(want[i].Data), 100)]
	}
	sameFrames(t, tcpOnly(pkts), want)
}

func TestLiveClose(t *testing.T) {
	p := newLabPair(t)
	src := p.a.openLive(t, "veth0", LiveOptions{Filter: "tcp port 1"})
	done := make(chan error, 1)
	go func() {
		var pkt Packet
		done <- src.Next(&pkt)
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Next returned %v with no traffic", err)
	default:
	}
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("Next after Close: %v, want io.EOF", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Next took %v to return after Close", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after Close")
	}
	var pkt Packet
	if err := src.Next(&pkt); err != io.EOF {
		t.Errorf("Next on a closed source: %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if st, err := src.Stats(); err != nil || st.Dropped != 0 {
		t.Errorf("Stats after Close: %+v, %v", st, err)
	}
}

// TestLiveNextAllocs: handing out packets allocates nothing.
// TestLiveCloseWhileInUse closes the source from another goroutine while
// the packet Next returned last is still being read, as a signal handler
// does: the packet stays readable until Next is called again.
func TestLiveCloseWhileInUse(t *testing.T) {
	p := newLabPair(t)
	src := p.a.openLive(t, "veth0", LiveOptions{Filter: "tcp port 8080"})
	exchange(t, p, "tcp4", "192.0.2.2", 8080)
	var pkt Packet
	if err := src.Next(&pkt); err != nil {
		t.Fatal(err)
	}
	want := append([]byte(nil), pkt.Data...)
	closed := make(chan error)
	go func() { closed <- src.Close() }()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	// Reading the ring after an unmap would crash the test.
	if !bytes.Equal(pkt.Data, want) {
		t.Errorf("the packet in use changed under Close")
	}
	if err := src.Next(&pkt); err != io.EOF {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLiveNextAllocs(t *testing.T) {
	p := newLabPair(t)
	src := p.a.openLive(t, "veth0", LiveOptions{Filter: "tcp"})
	for range 3 {
		exchange(t, p, "tcp4", "192.0.2.2", 80)
	}
	time.Sleep(3 * blockTimeout) // every packet in a block handed over
	var pkt Packet
	allocs := testing.AllocsPerRun(20, func() {
		if err := src.Next(&pkt); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per packet, want 0", allocs)
	}
}

// TestLiveInterfaceDown: when the interface goes away under a capture,
// Next says so, and keeps saying so.
func TestLiveInterfaceDown(t *testing.T) {
	p := newLabPair(t)
	src := p.a.openLive(t, "veth0", LiveOptions{})
	done := make(chan error, 1)
	go func() {
		for {
			var pkt Packet
			if err := src.Next(&pkt); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	run(t, "ip", "-n", p.a.name, "link", "set", "veth0", "down")
	select {
	case err := <-done:
		want := `capture: live capture on "veth0": the interface went down`
		if err == nil || err.Error() != want {
			t.Errorf("Next: %v, want %s", err, want)
		}
		var pkt Packet
		if again := src.Next(&pkt); again != err {
			t.Errorf("Next again: %v, want the same error", again)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after the interface went down")
	}
}

// TestLiveDrops fills a small ring that nobody reads: the kernel drops, and
// Stats says so.
func TestLiveDrops(t *testing.T) {
	p := newLabPair(t)
	src := p.a.openLive(t, "veth0", LiveOptions{BufferMiB: 1, Snaplen: 64 << 10})
	var ln net.Listener
	if err := p.b.do(func() (err error) { ln, err = net.Listen("tcp4", "192.0.2.2:5001"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	var c net.Conn
	if err := p.a.do(func() (err error) { c, err = net.Dial("tcp4", "192.0.2.2:5001"); return err }); err != nil {
		t.Fatal(err)
	}
	// 2 MiB in 1000-byte writes: far more segments than two 512 KiB blocks hold.
	chunk := bytes.Repeat([]byte("x"), 1000)
	for range 2000 {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(3 * blockTimeout)
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Dropped == 0 || st.Received <= st.Dropped {
		t.Errorf("Stats() = %+v; want drops, with a ring nobody reads", st)
	}
	t.Logf("stats %+v", st)
}

func TestOpenLiveErrors(t *testing.T) {
	requireTools(t, true, "ip")
	n := newLabNS(t)
	run(t, "ip", "-n", n.name, "link", "add", "down0", "type", "veth", "peer", "name", "down1")
	for _, tt := range []struct {
		iface string
		opt   LiveOptions
		want  string
		is    error
	}{
		{"nosuchif0", LiveOptions{}, `capture: no interface "nosuchif0"`, ErrNoInterface},
		{"", LiveOptions{}, `capture: no interface ""`, ErrNoInterface},
		{"an-interface-name-too-long", LiveOptions{}, `capture: no interface "an-interface-name-too-long"`, ErrNoInterface},
		{"down0", LiveOptions{}, `capture: live capture on "down0": the interface is down`, nil},
		{"lo", LiveOptions{Filter: "tcp port"}, `capture: filter "tcp port": port needs a number, not end of expression`, nil},
		{"any", LiveOptions{Filter: "vlan"}, `capture: filter "vlan": vlan needs Ethernet, not link type 113 (Linux SLL)`, nil},
	} {
		err := n.do(func() error {
			src, err := OpenLive(tt.iface, tt.opt)
			if err == nil {
				src.Close()
			}
			return err
		})
		if err == nil || err.Error() != tt.want || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("OpenLive(%q, %+v) = %v, want %s", tt.iface, tt.opt, err, tt.want)
		}
	}
}

// TestLiveOpenErrorMapping checks the messages of the errors the kernel
// gives, without needing the kernel to give them.
func TestLiveOpenErrorMapping(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
		is   error
	}{
		{unix.EPERM, `capture: live capture on "eth0" needs root or CAP_NET_RAW`, os.ErrPermission},
		{unix.EACCES, `capture: live capture on "eth0" needs root or CAP_NET_RAW`, os.ErrPermission},
		{unix.ENODEV, `capture: no interface "eth0"`, ErrNoInterface},
		{unix.EAFNOSUPPORT, `capture: live capture on "eth0": this kernel has no AF_PACKET sockets`, ErrLiveUnsupported},
		{unix.ENOMEM, `capture: live capture on "eth0": map the ring: cannot allocate memory`, unix.ENOMEM},
	} {
		err := liveOpenError("eth0", "map the ring", tt.err)
		if err.Error() != tt.want || !errors.Is(err, tt.is) {
			t.Errorf("%v: %v, want %s", tt.err, err, tt.want)
		}
	}
}

// TestOpenLiveUnprivileged runs OpenLive as nobody, in a child process (a
// copy of this test binary that nobody may run).
func TestOpenLiveUnprivileged(t *testing.T) {
	if os.Getenv("CAPTURE_TEST_UNPRIVILEGED") == "1" {
		_, err := OpenLive("lo", LiveOptions{})
		fmt.Printf("OPENLIVE-ERROR %v\nPERMISSION %v\n", err, errors.Is(err, os.ErrPermission))
		return
	}
	requireTools(t, true)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "capture-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	copyExe := filepath.Join(dir, "capture.test")
	if err := os.WriteFile(copyExe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^TestOpenLiveUnprivileged$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CAPTURE_TEST_UNPRIVILEGED=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v: %s", err, out)
	}
	want := "OPENLIVE-ERROR capture: live capture on \"lo\" needs root or CAP_NET_RAW\nPERMISSION true\n"
	if !strings.Contains(string(out), want) {
		t.Errorf("child as nobody said:\n%s\nwant it to say:\n%s", out, want)
	}
}
