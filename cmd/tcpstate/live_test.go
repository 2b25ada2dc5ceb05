package main

// The live oracle: two network namespaces joined by a veth pair, real
// connections between them driven into the states of the kernel oracle
// (TestKernelOracle), tcpstate itself capturing live on the client's end of
// the veth, and its final table, printed when SIGINT stops it, compared
// socket by socket with `ss -tan` taken in both namespaces. The -w file it
// saved, analysed offline, must give the identical table.
//
// The filter test runs the same expressions on a live capture and on a
// file and checks that they select exactly the packets tcpdump selects with
// that expression from the same file.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/tcpstate/tcpstate/capture"
	"github.com/tcpstate/tcpstate/cmd/internal/netlab"
)

// buildTCPState builds the command into a temporary directory: the live
// tests run it as a process of its own, in a namespace, and stop it with a
// real signal.
func buildTCPState(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tcpstate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// liveProcess is tcpstate running live in a namespace.
type liveProcess struct {
	cmd    *exec.Cmd
	mu     sync.Mutex // guards stdout while the process runs
	stdout lockedBuffer
	stderr bytes.Buffer
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's error, once exited is closed
}

// lockedBuffer is a bytes.Buffer written under a mutex, so that a test
// can read what a running process has printed so far.
type lockedBuffer struct {
	mu *sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// startLiveProcess starts tcpstate with args in ns and returns once its packet
// socket is bound, so that nothing sent afterwards is missed.
func startLiveProcess(t *testing.T, ns *netlab.Namespace, bin string, args ...string) *liveProcess {
	t.Helper()
	before := packetSockets(t, ns)
	p := &liveProcess{exited: make(chan struct{})}
	p.cmd = ns.Command(context.Background(), bin, args...)
	p.stdout.mu = &p.mu
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for packetSockets(t, ns) <= before {
		select {
		case <-p.exited:
			t.Fatalf("tcpstate %s: exited at start (%v): %s", strings.Join(args, " "), p.err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tcpstate %s: no packet socket bound after 10s", strings.Join(args, " "))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p
}

// packetSockets counts the bound packet sockets in ns (/proc/net/packet
// lists them per namespace; a socket's protocol is 0 until it is bound).
func packetSockets(t *testing.T, ns *netlab.Namespace) int {
	t.Helper()
	out, err := ns.Run("cat", "/proc/net/packet")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[3] != "0000" {
			n++
		}
	}
	return n
}

// stop sends SIGINT and waits for a clean exit.
func (p *liveProcess) stop(t *testing.T) { p.stopWith(t, syscall.SIGINT) }

// stopWith sends sig and waits for a clean exit.
func (p *liveProcess) stopWith(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("tcpstate after SIGINT: %v; stderr: %s", p.err, p.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("tcpstate did not stop within 10s of SIGINT")
	}
}

var vethFamilies = []oracleFamily{
	{name: "IPv4", network: "tcp4", host: "192.0.2.2", client: "192.0.2.1", listen: "0.0.0.0:8001", base: 20000},
	{name: "IPv6", network: "tcp6", host: "[2001:db8::2]", client: "[2001:db8::1]", listen: "[2001:db8::2]:8001", base: 21000, ipv6: true},
}

func TestLiveOracle(t *testing.T) {
	netlab.Require(t)
	bin := buildTCPState(t)
	pair := netlab.TestPair(t)
	saved := filepath.Join(t.TempDir(), "live.pcapng")
	live := startLiveProcess(t, pair.A, bin, "netstat", "-i", pair.Iface, "--json", "-w", saved)

	labs := make([]*oracleLab, len(vethFamilies))
	for i, fam := range vethFamilies {
		labs[i] = newOracleLab2(t, pair.A, pair.B, fam)
	}
	for _, lab := range labs {
		lab.quickScenarios()
	}
	dropsStarted := time.Now()
	for _, lab := range labs {
		lab.dropScenarios()
	}
	time.Sleep(time.Until(dropsStarted.Add(retransmitWait)))

	var kernel []netlab.Socket
	var ssText strings.Builder
	for _, ns := range []*netlab.Namespace{pair.A, pair.B} {
		text, err := ns.SS()
		if err != nil {
			t.Fatal(err)
		}
		socks, err := netlab.ParseSS(text)
		if err != nil {
			t.Fatal(err)
		}
		kernel = append(kernel, socks...)
		fmt.Fprintf(&ssText, "%s:\n%s", ns.Name, text)
	}
	live.stop(t)
	t.Logf("ss snapshots:\n%s\ntcpstate: %s", ssText.String(), live.stderr.String())

	var want []expectation
	for _, lab := range labs {
		want = append(want, lab.want...)
	}
	present := checkKernelExpectations(t, kernel, want)

	transitions, table := splitLiveJSON(t, live.stdout.Bytes())
	if transitions == 0 {
		t.Errorf("no transition was streamed before the final table")
	}
	inferred, err := parseNetstatJSON(table)
	if err != nil {
		t.Fatalf("final table: %v\n%s", err, table)
	}
	c := netlab.Compare(kernel, inferred)
	var report strings.Builder
	c.Report(&report)
	fmt.Print("live capture on a veth pair:\n" + report.String())
	t.Logf("%s", report.String())
	for _, v := range c.Disagreements() {
		t.Errorf("%s", v)
	}
	if c.Total() < present {
		t.Errorf("only %d sockets compared; the scenarios should give at least %d", c.Total(), present)
	}
	if !strings.Contains(live.stderr.String(), "dropped by kernel") {
		t.Errorf("the summary gives no capture statistics: %q", live.stderr.String())
	}

	// The -w file, read back, gives the same table.
	var out, errOut bytes.Buffer
	if code := run([]string{"netstat", "--json", "-r", saved}, nil, &out, &errOut); code != 0 {
		t.Fatalf("netstat -r %s: exit %d: %s", saved, code, errOut.String())
	}
	if got, want := out.String(), string(table); got != want {
		t.Errorf("the -w file analysed offline gives another table:\n%s\nlive:\n%s", got, want)
	} else {
		fmt.Printf("the -w file analysed offline gives the identical table (%d sockets)\n", strings.Count(want, "\n"))
	}
}

// splitLiveJSON separates what `netstat -i --json` printed: transitions
// (objects with "to"), then the final table (objects with "state").
func splitLiveJSON(t *testing.T, out []byte) (transitions int, table []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	inTable := false
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		_, isSocket := obj["state"]
		_, isTransition := obj["to"]
		switch {
		case isSocket == isTransition:
			t.Fatalf("neither a socket nor a transition: %s", sc.Text())
		case isTransition && inTable:
			t.Fatalf("a transition after the final table began: %s", sc.Text())
		case isTransition:
			transitions++
		default:
			inTable = true
			table = append(table, sc.Bytes()...)
			table = append(table, '\n')
		}
	}
	return transitions, table
}

// liveFilters are expressions for the filter test: each selects some of
// the test traffic and leaves some out.
var liveFilters = []string{
	"tcp port 8001",
	"host 192.0.2.2 and tcp",
	"ip6",
	"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
	"not port 8002 and tcp",
	"udp or icmp or icmp6",
	"src 2001:db8::1 and dst port 8002",
}

func TestLiveFilter(t *testing.T) {
	netlab.Require(t)
	bin := buildTCPState(t)
	pair := netlab.TestPair(t)
	dir := t.TempDir()
	// The live captures run longer than the unfiltered tcpdump, whose
	// file is the reference; what they caught outside its window (IPv6
	// multicast listener reports come when they please) is left out of the
	// comparison.
	lives := make([]*liveProcess, len(liveFilters))
	for i, expr := range liveFilters {
		file := filepath.Join(dir, fmt.Sprintf("live-%d.pcapng", i))
		lives[i] = startLiveProcess(t, pair.A, bin, "conns", "-q", "-i", pair.Iface, "-w", file, expr)
	}
	all, err := pair.A.StartCapture(pair.Iface, filepath.Join(dir, "all.pcap"))
	if err != nil {
		t.Fatal(err)
	}

	// Markers before and after the traffic, each waited for in the
	// reference file, so that the traffic lies inside its window however
	// slowly tcpdump starts, writes and stops on a busy machine.
	waitMarker(t, pair, all.File, "tcpstate-start")
	filterTraffic(t, pair)
	waitMarker(t, pair, all.File, "tcpstate-end")

	if _, err := all.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, l := range lives {
		l.stop(t)
	}
	window := packetSet(t, all.File)
	agree := 0
	for i, expr := range liveFilters {
		want := tcpdumpSelect(t, all.File, expr)
		live := intersect(packetSet(t, filepath.Join(dir, fmt.Sprintf("live-%d.pcapng", i))), window)
		file := filepath.Join(dir, fmt.Sprintf("file-%d.pcapng", i))
		var out, errOut bytes.Buffer
		if code := run([]string{"conns", "-q", "-r", all.File, "-w", file, expr}, nil, &out, &errOut); code != 0 {
			t.Fatalf("conns -r %s %q: exit %d: %s", all.File, expr, code, errOut.String())
		}
		offline := packetSet(t, file)
		if len(want) == 0 {
			t.Errorf("%q: tcpdump selects nothing; the traffic does not exercise it", expr)
		}
		okLive, okFile := sameSet(want, live), sameSet(want, offline)
		if okLive && okFile {
			agree++
		}
		if !okLive {
			t.Errorf("%q live: %d packets, tcpdump selects %d from the file", expr, len(live), len(want))
		}
		if !okFile {
			t.Errorf("%q on the file: %d packets, tcpdump selects %d", expr, len(offline), len(want))
		}
		t.Logf("%-45q tcpdump %3d, live %3d, file %3d", expr, len(want), len(live), len(offline))
	}
	fmt.Printf("filters: %d of %d expressions select the same packets live, on the file and in tcpdump\n", agree, len(liveFilters))
}

// filterTraffic sends TCP over IPv4 and IPv6 to two ports, UDP and pings
// across the pair.
func filterTraffic(t *testing.T, pair *netlab.Pair) {
	t.Helper()
	for _, fam := range []struct{ network, server, client string }{
		{"tcp4", pair.B4.String(), pair.A4.String()},
		{"tcp6", "[" + pair.B6.String() + "]", "[" + pair.A6.String() + "]"},
	} {
		for i, port := range []string{"8001", "8002"} {
			ln, err := pair.B.Listen(fam.network, fam.server+":"+port)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				pair.B.Track(c)
				io.Copy(c, c)
				c.Close()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := pair.A.Dial(ctx, fam.network, fmt.Sprintf("%s:%d", fam.client, 30000+i), fam.server+":"+port)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("hello, echo\n"))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, make([]byte, 12)); err != nil {
				t.Fatal(err)
			}
			c.Close()
			ln.Close()
		}
	}
	for _, dst := range []netip.Addr{pair.B4, pair.B6} {
		if err := pair.A.Do(func() error { return ping(dst) }); err != nil {
			t.Fatalf("ping %s: %v", dst, err)
		}
	}
	if err := pair.A.Do(func() error {
		c, err := net.Dial("udp4", pair.B4.String()+":9999")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("datagram"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// ping sends an ICMP or ICMPv6 echo request to dst and waits for the reply.
func ping(dst netip.Addr) error {
	network, typ := "ip4:icmp", icmp.Type(ipv4.ICMPTypeEcho)
	proto := 1
	if dst.Is6() {
		network, typ, proto = "ip6:ipv6-icmp", ipv6.ICMPTypeEchoRequest, 58
	}
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		return err
	}
	defer c.Close()
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: 7, Seq: 1, Data: []byte("tcpstate")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if m, err := icmp.ParseMessage(proto, buf[:n]); err == nil && (m.Type == ipv4.ICMPTypeEchoReply || m.Type == ipv6.ICMPTypeEchoReply) {
			return nil
		}
	}
}

// waitMarker sends a UDP datagram carrying tag from A to B and waits until
// it is in the capture file being written.
func waitMarker(t *testing.T, pair *netlab.Pair, file, tag string) {
	t.Helper()
	want := hex.EncodeToString([]byte(tag))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := pair.A.Do(func() error {
			c, err := net.Dial("udp4", pair.B4.String()+":9")
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write([]byte(tag))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for wait := time.Now().Add(500 * time.Millisecond); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
			for _, p := range readSoFar(file) {
				if strings.Contains(p, want) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("marker %q never reached %s", tag, file)
		}
	}
}

// readSoFar returns the packets of a capture file that is still being
// written, up to its last complete record.
func readSoFar(file string) []string {
	src, err := capture.Open([]string{file}, capture.OpenOptions{})
	if err != nil {
		return nil
	}
	defer src.Close()
	var set []string
	var p capture.Packet
	for src.Next(&p) == nil {
		set = append(set, hex.EncodeToString(p.Data))
	}
	return set
}

// tcpdumpSelect returns the packets tcpdump selects from file with expr.
func tcpdumpSelect(t *testing.T, file, expr string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "selected.pcap")
	args := append([]string{"-r", file, "-w", out}, strings.Fields(expr)...)
	if b, err := exec.Command("tcpdump", args...).CombinedOutput(); err != nil {
		t.Fatalf("tcpdump %v: %v\n%s", args, err, b)
	}
	return packetSet(t, out)
}

// packetSet reads a capture and returns its packets' bytes, sorted: two
// captures of the same traffic agree on bytes, not on timestamps.
func packetSet(t *testing.T, file string) []string {
	t.Helper()
	src, err := capture.Open([]string{file}, capture.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var set []string
	var p capture.Packet
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		set = append(set, hex.EncodeToString(p.Data))
	}
	sort.Strings(set)
	return set
}

// intersect returns the packets of a that are in b, as many times as in
// both; a and b are sorted.
func intersect(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLiveWallClock checks that a quiet interface still ages its table:
// with TIME_WAIT set to 2 s, the transition out of TIME_WAIT is streamed
// while no packet arrives, before the capture is stopped (by SIGTERM).
func TestLiveWallClock(t *testing.T) {
	netlab.Require(t)
	bin := buildTCPState(t)
	pair := netlab.TestPair(t)
	live := startLiveProcess(t, pair.A, bin, "events", "-i", pair.Iface, "--json", "--time-wait", "2s")
	lab := newOracleLab2(t, pair.A, pair.B, vethFamilies[0])
	c, s := lab.connect(scTimeWaitClient)
	lab.exchange(c, s)
	c.Close()
	lab.readEOF(s)
	s.Close()
	lab.waitState(lab.client(scTimeWaitClient), lab.server(), "TIME_WAIT")
	closed := time.Now()

	var out string
	for deadline := closed.Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		live.mu.Lock()
		out = live.stdout.String()
		live.mu.Unlock()
		if strings.Contains(out, `"from":"TIME_WAIT","to":"CLOSED"`) {
			break
		}
	}
	waited := time.Since(closed)
	// SIGTERM stops as cleanly as SIGINT (the oracle test uses SIGINT).
	live.stopWith(t, syscall.SIGTERM)
	if !strings.Contains(live.stderr.String(), "dropped by kernel") {
		t.Errorf("no summary after SIGTERM: %q", live.stderr.String())
	}
	if !strings.Contains(out, `"from":"TIME_WAIT","to":"CLOSED"`) {
		t.Fatalf("no TIME_WAIT → CLOSED streamed within %v of a quiet interface; got:\n%s", waited.Round(time.Millisecond), out)
	}
	t.Logf("TIME_WAIT (2s) ended on the wall clock, streamed %v after the close", waited.Round(time.Millisecond))
}

// TestLiveNeedsPrivilege runs a live capture as an unprivileged user: one
// line saying what is needed, and a non-zero exit.
func TestLiveNeedsPrivilege(t *testing.T) {
	netlab.Require(t, "runuser")
	dir, err := os.MkdirTemp("", "tcpstate-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "tcpstate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("runuser", "-u", "nobody", "--", bin, "netstat", "-i", "lo")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError {
		t.Fatalf("as nobody: %v, want exit %d; stderr %q", err, exitError, stderr.String())
	}
	want := `tcpstate: capture: live capture on "lo" needs root or CAP_NET_RAW` + "\n"
	if stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("as nobody: stdout %q, stderr %q; want only %q", stdout.String(), stderr.String(), want)
	}
}
