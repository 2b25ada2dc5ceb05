//go:build libpcap

package capture

// The live tests of the libpcap source. On Linux they run on the loopback of
// a network namespace of their own, made with ip(8): the test binary runs
// again inside it under `ip netns exec`, so that the capture sees only the
// tests' traffic, and the tests need no call that exists only on Linux.
// Elsewhere they run on the system's loopback interface. Either way every
// check keeps to the tests' own connections, on ports of their own.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// libpcapNetnsEnv names the namespace the child test binary runs in.
const libpcapNetnsEnv = "CAPTURE_LIBPCAP_NETNS"

var libpcapNSCounter atomic.Uint64

func TestLiveLibpcap(t *testing.T) {
	lo, here := libpcapLoopback(t)
	if !here {
		return // the tests ran in a namespace, in a child process
	}
	t.Run("capture", func(t *testing.T) { testLibpcapCapture(t, lo) })
	t.Run("close", func(t *testing.T) { testLibpcapClose(t, lo) })
	t.Run("close while in use", func(t *testing.T) { testLibpcapCloseInUse(t, lo) })
	t.Run("allocs", func(t *testing.T) { testLibpcapAllocs(t, lo) })
	t.Run("drops", func(t *testing.T) { testLibpcapDrops(t, lo) })
	t.Run("errors", func(t *testing.T) { testLibpcapErrors(t, lo) })
	if os.Getenv(libpcapNetnsEnv) != "" {
		// Interfaces of its own, only where they disturb nothing.
		t.Run("interfaces", testLibpcapInterfaces)
	}
}

// libpcapLoopback returns the loopback interface to capture on, and whether
// the tests are to run in this process. On Linux, outside a namespace, it
// runs them in a child process inside a new one and reports what it said.
func libpcapLoopback(t *testing.T) (string, bool) {
	if os.Getenv(libpcapNetnsEnv) != "" {
		return "lo", true
	}
	if runtime.GOOS != "linux" {
		requireTools(t, true)
		return loopbackName(t), true
	}
	requireTools(t, true, "ip")
	// netlab's form of name (tslab-PID-N), so that netlab removes the
	// namespace should this process die first.
	ns := fmt.Sprintf("tslab-%d-%d", os.Getpid(), 2000+libpcapNSCounter.Add(1))
	libpcapRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Logf("ip netns delete %s: %v: %s", ns, err, out)
		}
	})
	libpcapRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"netns", "exec", ns, exe, "-test.run=^TestLiveLibpcap$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Env = append(os.Environ(), libpcapNetnsEnv+"="+ns)
	out, err := cmd.CombinedOutput()
	t.Logf("in network namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("the tests in network namespace %s failed: %v", ns, err)
	}
	return "", false
}

// loopbackName finds the system's loopback interface (lo, lo0).
func loopbackName(t *testing.T) string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 && ifi.Flags&net.FlagUp != 0 {
			return ifi.Name
		}
	}
	t.Fatal("no loopback interface is up")
	return ""
}

func libpcapRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// openLibpcap opens a live capture that the test closes at its end.
func openLibpcap(t *testing.T, iface string, opt LiveOptions) LiveSource {
	t.Helper()
	src, err := OpenLive(iface, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// libpcapCollect reads src in a goroutine until it ends; wait returns what
// it got.
func libpcapCollect(t *testing.T, src Source) (wait func() ([]Packet, error)) {
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

// libpcapListen listens on a port of the loopback that the system picks.
func libpcapListen(t *testing.T) (net.Listener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

// libpcapExchange makes one connection to ln: a request of n bytes, a short
// reply, a close from the client, then the server's.
func libpcapExchange(t *testing.T, ln net.Listener, n int) {
	t.Helper()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
			served <- err
			return
		}
		if _, err := c.Write([]byte("ok")); err != nil {
			served <- err
			return
		}
		_, err = io.Copy(io.Discard, c) // until the client closes
		served <- err
	}()
	c, err := net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(bytes.Repeat([]byte("x"), n)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// onPort returns the packets that are TCP segments from or to port.
func onPort(pkts []Packet, port uint16) []Packet {
	var d Decoder
	var s Segment
	var out []Packet
	for _, p := range pkts {
		if d.Decode(p.LinkType, p.Data, &s) == ClassTCP && (s.Src.Port() == port || s.Dst.Port() == port) {
			out = append(out, p)
		}
	}
	return out
}

// libpcapSameFrames compares two captures of the same packets frame by
// frame. Each capture has the kernel read the clock for it, so their
// timestamps of a packet differ a little, and so can their orders: both
// are sorted by their bytes, which differ between any two TCP segments of
// a connection.
func libpcapSameFrames(t *testing.T, what string, got, want []Packet) {
	t.Helper()
	order := func(a, b Packet) int { return bytes.Compare(a.Data, b.Data) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortStableFunc(got, order)
	slices.SortStableFunc(want, order)
	if len(got) != len(want) {
		t.Errorf("%s: %d packets, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i].Data, want[i].Data) || got[i].Length != want[i].Length || got[i].Time.Sub(want[i].Time).Abs() > 10*time.Millisecond {
			t.Errorf("%s: packet %d differs:\n got %v %d bytes %x\nwant %v %d bytes %x", what, i+1,
				got[i].Time, got[i].Length, got[i].Data, want[i].Time, want[i].Length, want[i].Data)
			return
		}
	}
}

// testLibpcapCapture captures two connections with three sources at once:
// one without a filter, one whose filter selects the first connection, one
// with a snaplen of 100 and a filter for the second. The filtered ones must
// get exactly their connection's packets, as the first one saw them.
func testLibpcapCapture(t *testing.T, lo string) {
	ln1, port1 := libpcapListen(t)
	ln2, port2 := libpcapListen(t)
	start := time.Now()
	all := openLibpcap(t, lo, LiveOptions{})
	one := openLibpcap(t, lo, LiveOptions{Filter: fmt.Sprintf("tcp port %d", port1)})
	small := openLibpcap(t, lo, LiveOptions{Snaplen: 100, Filter: fmt.Sprintf("tcp port %d", port2), BufferMiB: 4})
	if runtime.GOOS == "linux" && all.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("link type %v on %s, want Ethernet", all.LinkType(), lo)
	}
	// "any", where libpcap has it, in promiscuous mode, which it ignores.
	var anyIface LiveSource
	waitAny := func() ([]Packet, error) { return nil, nil }
	if runtime.GOOS == "linux" {
		anyIface = openLibpcap(t, "any", LiveOptions{Promiscuous: true, Filter: fmt.Sprintf("tcp port %d", port1)})
		if anyIface.LinkType() != layers.LinkTypeLinuxSLL {
			t.Errorf("link type %v on any, want Linux SLL", anyIface.LinkType())
		}
		waitAny = libpcapCollect(t, anyIface)
	}
	for _, src := range []LiveSource{one, small} {
		if src.LinkType() != all.LinkType() {
			t.Errorf("link type %v and %v on one interface", src.LinkType(), all.LinkType())
		}
	}
	waitAll, waitOne, waitSmall := libpcapCollect(t, all), libpcapCollect(t, one), libpcapCollect(t, small)

	libpcapExchange(t, ln1, 10)
	libpcapExchange(t, ln2, 1000)
	time.Sleep(3 * bufferTimeout) // every packet out of the kernel's buffer
	stats := map[LiveSource]LiveStats{}
	for _, src := range []LiveSource{all, one, small} {
		st, err := src.Stats()
		if err != nil {
			t.Fatal(err)
		}
		stats[src] = st
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if anyIface != nil {
		anyIface.Close()
	}
	pkts := map[LiveSource][]Packet{}
	for src, wait := range map[LiveSource]func() ([]Packet, error){all: waitAll, one: waitOne, small: waitSmall} {
		got, err := wait()
		if err != nil {
			t.Fatal(err)
		}
		pkts[src] = got
	}

	for name, src := range map[string]LiveSource{"unfiltered": all, "filtered": one, "snaplen 100": small} {
		var size int64
		last := time.Time{}
		for i, p := range pkts[src] {
			if p.Num != uint64(i+1) || p.LinkType != src.LinkType() || p.File != 0 || p.Length < len(p.Data) {
				t.Errorf("%s: packet %d: Num %d, LinkType %v, File %d, Length %d of %d bytes", name, i+1, p.Num, p.LinkType, p.File, p.Length, len(p.Data))
			}
			if p.Time.Before(start.Add(-time.Second)) || p.Time.After(time.Now()) || p.Time.Before(last.Add(-10*time.Millisecond)) {
				t.Errorf("%s: packet %d: time %v after %v, capture started %v", name, i+1, p.Time, last, start)
			}
			last = p.Time
			size += int64(len(p.Data))
		}
		if pr := src.Progress(); pr.Packets != uint64(len(pkts[src])) || pr.Bytes != size || pr.Total != 0 {
			t.Errorf("%s: Progress() = %+v after %d packets of %d bytes", name, pr, len(pkts[src]), size)
		}
		// Received counts what the kernel passed to the capture, which
		// includes every packet read. In a namespace of its own there is
		// nothing else, so it is exact; but on Linux the kernel also
		// passes libpcap the loopback device's outgoing copy of every
		// packet, which libpcap then skips, and counts it.
		st, n := stats[src], uint64(len(pkts[src]))
		exact := st.Received == n || runtime.GOOS == "linux" && st.Received == 2*n
		if st.Dropped != 0 || st.Received < n || os.Getenv(libpcapNetnsEnv) != "" && !exact {
			t.Errorf("%s: Stats() = %+v after %d packets", name, st, len(pkts[src]))
		}
		if final, err := src.Stats(); err != nil || final != st {
			t.Errorf("%s: Stats() after Close = %+v, %v; want %+v", name, final, err, st)
		}
		t.Logf("%s: %d packets, %d bytes, stats %+v", name, len(pkts[src]), size, st)
	}

	// Both connections whole: each side's SYN and FIN.
	var d Decoder
	var s Segment
	for _, port := range []uint16{port1, port2} {
		var syn, synAck, fins int
		for _, p := range onPort(pkts[all], port) {
			d.Decode(p.LinkType, p.Data, &s)
			switch {
			case s.Flags&(FlagSYN|FlagACK) == FlagSYN && s.Dst.Port() == port:
				syn++
			case s.Flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK && s.Src.Port() == port:
				synAck++
			}
			if s.Flags&FlagFIN != 0 {
				fins++
			}
		}
		if syn != 1 || synAck != 1 || fins != 2 {
			t.Errorf("port %d: %d SYN, %d SYN-ACK, %d FIN; want a whole connection, each packet once", port, syn, synAck, fins)
		}
	}

	// The filter selects exactly the first connection.
	if other := len(pkts[one]) - len(onPort(pkts[one], port1)); other != 0 {
		t.Errorf("filter tcp port %d let %d other packets through", port1, other)
	}
	libpcapSameFrames(t, "filtered", pkts[one], onPort(pkts[all], port1))
	if anyIface != nil {
		got, err := waitAny()
		if err != nil {
			t.Fatal(err)
		}
		// The same segments, behind another link-layer header.
		var segs []Segment
		for _, p := range onPort(pkts[all], port1) {
			d.Decode(p.LinkType, p.Data, &s)
			segs = append(segs, s)
		}
		if len(got) != len(segs) || len(onPort(got, port1)) != len(got) {
			t.Errorf("any: %d packets, %d of them TCP segments of port %d; want %d", len(got), len(onPort(got, port1)), port1, len(segs))
		}
		for _, p := range got {
			d.Decode(p.LinkType, p.Data, &s)
			if !slices.ContainsFunc(segs, func(w Segment) bool { return w.Src == s.Src && w.Seq == s.Seq && w.Ack == s.Ack && w.Flags == s.Flags }) {
				t.Errorf("any: segment %v > %v seq %d ack %d flags %#x was not captured on %s", s.Src, s.Dst, s.Seq, s.Ack, s.Flags, lo)
			}
		}
	}

	// The snaplen cuts packets, not their wire length.
	want := onPort(pkts[all], port2)
	cut := 0
	for i := range want {
		if len(want[i].Data) > 100 {
			want[i].Data = want[i].Data[:100]
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no packet of the connection to port %d is longer than 100 bytes", port2)
	}
	if other := len(pkts[small]) - len(onPort(pkts[small], port2)); other != 0 {
		t.Errorf("filter tcp port %d let %d other packets through", port2, other)
	}
	libpcapSameFrames(t, "snaplen 100", pkts[small], want)
}

// testLibpcapClose: Close wakes a Next that waits for packets that do not
// come, promptly; everything after Close is quiet.
func testLibpcapClose(t *testing.T, lo string) {
	src := openLibpcap(t, lo, LiveOptions{Filter: "tcp port 1"})
	done := make(chan error, 1)
	go func() {
		var p Packet
		done <- src.Next(&p)
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
		took := time.Since(start)
		if err != io.EOF {
			t.Errorf("Next after Close: %v, want io.EOF", err)
		}
		if took > time.Second {
			t.Errorf("Next took %v to return after Close", took)
		}
		t.Logf("Next returned io.EOF %v after Close", took.Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after Close")
	}
	var p Packet
	if err := src.Next(&p); err != io.EOF {
		t.Errorf("Next on a closed source: %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if st, err := src.Stats(); err != nil || st.Dropped != 0 {
		t.Errorf("Stats after Close: %+v, %v", st, err)
	}
}

// testLibpcapCloseInUse closes the source from another goroutine while the
// packet Next returned last is still being read, as a signal handler does:
// the packet stays readable until Next is called again.
func testLibpcapCloseInUse(t *testing.T, lo string) {
	ln, port := libpcapListen(t)
	src := openLibpcap(t, lo, LiveOptions{Filter: fmt.Sprintf("tcp port %d", port)})
	libpcapExchange(t, ln, 1)
	var p Packet
	if err := src.Next(&p); err != nil {
		t.Fatal(err)
	}
	want := append([]byte(nil), p.Data...)
	closed := make(chan error)
	go func() { closed <- src.Close() }()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Data, want) {
		t.Errorf("the packet in use changed under Close")
	}
	if err := src.Next(&p); err != io.EOF {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// testLibpcapAllocs: handing out packets allocates nothing.
func testLibpcapAllocs(t *testing.T, lo string) {
	ln, port := libpcapListen(t)
	src := openLibpcap(t, lo, LiveOptions{Filter: fmt.Sprintf("tcp port %d", port)})
	for range 4 { // more than 21 packets
		libpcapExchange(t, ln, 10)
	}
	time.Sleep(3 * bufferTimeout)
	// Should there be too few packets, Next would wait for ever.
	stop := time.AfterFunc(10*time.Second, func() { src.Close() })
	defer stop.Stop()
	var p Packet
	allocs := testing.AllocsPerRun(20, func() {
		if err := src.Next(&p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per packet, want 0", allocs)
	}
}

// testLibpcapDrops fills a small buffer that nobody reads: the kernel
// drops, and Stats says so.
func testLibpcapDrops(t *testing.T, lo string) {
	ln, port := libpcapListen(t)
	src := openLibpcap(t, lo, LiveOptions{BufferMiB: 1, Snaplen: 64 << 10, Filter: fmt.Sprintf("tcp port %d", port)})
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// 16 MiB: many times what a 1 MiB buffer holds, in any segment size.
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for range 256 {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(3 * bufferTimeout)
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Dropped == 0 || st.Received <= st.Dropped {
		t.Errorf("Stats() = %+v; want drops, with a buffer nobody reads", st)
	}
	t.Logf("stats %+v", st)
}

func testLibpcapErrors(t *testing.T, lo string) {
	for _, tt := range []struct {
		iface string
		opt   LiveOptions
		want  string // the message, or its start when it ends with ": "
		is    error
	}{
		{"nosuchif0", LiveOptions{}, `capture: no interface "nosuchif0"`, ErrNoInterface},
		{"", LiveOptions{}, `capture: no interface ""`, ErrNoInterface},
		{lo, LiveOptions{Filter: "tcp port"}, `capture: filter "tcp port": `, nil},
		{lo, LiveOptions{Filter: "tcp and ("}, `capture: filter "tcp and (": `, nil},
	} {
		src, err := OpenLive(tt.iface, tt.opt)
		if err == nil {
			src.Close()
			t.Errorf("OpenLive(%q, %+v) succeeded, want %s", tt.iface, tt.opt, tt.want)
			continue
		}
		msg := err.Error()
		ok := msg == tt.want
		if prefix, found := strings.CutSuffix(tt.want, ": "); found {
			ok = strings.HasPrefix(msg, tt.want) && len(msg) > len(prefix)+2
		}
		if !ok || strings.Contains(msg, "\n") || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("OpenLive(%q, %+v) = %q, want %s", tt.iface, tt.opt, msg, tt.want)
		}
		t.Logf("OpenLive(%q, %+v): %v", tt.iface, tt.opt, err)
	}
}

// testLibpcapInterfaces: an interface that is down cannot be captured on;
// one that disappears ends the capture with an error. (One that goes down
// under a capture does not: libpcap waits for it to come back up.)
func testLibpcapInterfaces(t *testing.T) {
	libpcapRun(t, "ip", "link", "add", "down0", "type", "veth", "peer", "name", "down1")
	_, err := OpenLive("down0", LiveOptions{})
	if want := `capture: live capture on "down0": the interface is down`; err == nil || err.Error() != want {
		t.Errorf("OpenLive on an interface that is down: %v, want %s", err, want)
	}

	libpcapRun(t, "ip", "link", "add", "gone0", "type", "veth", "peer", "name", "gone1")
	libpcapRun(t, "ip", "link", "set", "gone0", "up")
	src := openLibpcap(t, "gone0", LiveOptions{})
	done := make(chan error, 1)
	go func() {
		for {
			var p Packet
			if err := src.Next(&p); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	libpcapRun(t, "ip", "link", "del", "gone0")
	select {
	case err := <-done:
		if prefix := `capture: live capture on "gone0": `; err == io.EOF || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("Next: %v, want an error that starts %s", err, prefix)
		}
		var p Packet
		if again := src.Next(&p); again != err {
			t.Errorf("Next again: %v, want the same error", again)
		}
		t.Logf("Next: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked 5s after the interface disappeared")
	}
}

// TestOpenLiveLibpcapErrorMapping checks the messages made of what
// pcap_activate says, without needing libpcap to say it.
func TestOpenLiveLibpcapErrorMapping(t *testing.T) {
	perm := `capture: live capture on "eth0" needs root or CAP_NET_RAW`
	if runtime.GOOS != "linux" {
		perm = `capture: live capture on "eth0" is not permitted: `
	}
	for _, tt := range []struct {
		status int
		msg    string
		want   string // the message, or its start when it ends with ": "
		is     error
	}{
		{pcapErrorPermDenied, "socket: Operation not permitted", perm, os.ErrPermission},
		{pcapErrorPromiscPermDenied, "", perm, os.ErrPermission},
		{-1, "(cannot open BPF device) /dev/bpf0: Permission denied", perm, os.ErrPermission},
		{pcapErrorNoSuchDevice, "SIOCGIFINDEX: No such device", `capture: no interface "eth0"`, ErrNoInterface},
		{-1, "BIOCSETIF: eth0: Device not configured", `capture: no interface "eth0"`, ErrNoInterface},
		{pcapErrorIfaceNotUp, "", `capture: live capture on "eth0": the interface is down`, nil},
		{-1, "Can't mmap rx ring:\nCannot allocate memory", `capture: live capture on "eth0": can't mmap rx ring: Cannot allocate memory`, nil},
		{1, "arptype 9999 not supported by libpcap", `capture: live capture on "eth0": arptype 9999 not supported by libpcap`, nil},
	} {
		err := pcapOpenError("eth0", tt.status, tt.msg)
		msg := err.Error()
		ok := msg == tt.want
		if prefix, found := strings.CutSuffix(tt.want, ": "); found {
			ok = strings.HasPrefix(msg, tt.want) && len(msg) > len(prefix)+2
		}
		if !ok || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("status %d, %q: %q, want %s", tt.status, tt.msg, msg, tt.want)
		}
		for _, other := range []error{os.ErrPermission, ErrNoInterface} {
			if other != tt.is && errors.Is(err, other) {
				t.Errorf("status %d, %q: %q is %v", tt.status, tt.msg, msg, other)
			}
		}
	}
}

// TestOpenLiveLibpcapUnprivileged runs OpenLive as nobody, in a child
// process (a copy of this test binary that nobody may run), started with
// setpriv(1).
func TestOpenLiveLibpcapUnprivileged(t *testing.T) {
	const env = "CAPTURE_LIBPCAP_UNPRIVILEGED"
	if os.Getenv(env) == "1" {
		_, err := OpenLive(loopbackName(t), LiveOptions{})
		fmt.Printf("OPENLIVE-ERROR %v\nPERMISSION %v\n", err, errors.Is(err, os.ErrPermission))
		return
	}
	requireTools(t, true)
	if _, err := exec.LookPath("setpriv"); err != nil {
		why := "needs setpriv on PATH (Debian: apt-get install util-linux)"
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: kernel tests must run in CI, so this is a failure, not a skip)", why)
		}
		t.Skip(why)
	}
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
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
		copyExe, "-test.run=^TestOpenLiveLibpcapUnprivileged$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v: %s", err, out)
	}
	want := "\nPERMISSION true\n"
	if runtime.GOOS == "linux" {
		want = fmt.Sprintf("OPENLIVE-ERROR capture: live capture on %q needs root or CAP_NET_RAW", loopbackName(t)) + want
	}
	if !strings.Contains(string(out), want) {
		t.Errorf("child as nobody said:\n%s\nwant it to say:\n%s", out, want)
	}
	t.Logf("child as nobody said:\n%s", out)
}
