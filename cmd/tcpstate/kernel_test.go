package main

// The kernel oracle: real connections, driven into every state Linux will
// hold on demand, recorded with tcpdump, then `tcpstate netstat --json` on the
// capture is compared socket by socket with the kernel's own `ss -tan`.
//
// Everything runs in one fresh network namespace on its loopback interface:
// the servers on 127.0.0.1 / ::1 and the clients with fixed source ports. One
// namespace is enough because both endpoints of every connection are on the
// same host, so one ss snapshot holds both sides' sockets and one capture on
// lo holds every segment exactly once (libpcap drops the outgoing copy on
// loopback). It also matches the analyzer's vantage point for the drop
// scenarios: tcpdump sees a packet on lo before netfilter's INPUT hook drops
// it, so the capture holds segments the receiver never got, which is what
// the analyzer must recognise from the retransmissions that follow. A veth
// pair would add neighbour discovery and offloads without testing more
// states.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/cmd/internal/netlab"
)

var kernelRecord = flag.String("record", os.Getenv("TCPSTATE_RECORD"),
	"directory to copy TestKernelOracle's capture and ss snapshot into (kernel-states.pcap, kernel-states.ss.txt); also $TCPSTATE_RECORD")

// retransmitWait is how long the drop scenarios run before the snapshot: the
// kernel retransmits a SYN or SYN-ACK after 1 s and 3 s, a FIN on loopback
// after about 0.2, 0.6, 1.4 and 3 s, so every dropped segment has been
// retransmitted at least twice.
const retransmitWait = 4 * time.Second

// oracleFamily is one address family's half of the test.
type oracleFamily struct {
	name    string // "IPv4" or "IPv6"
	network string // "tcp4" or "tcp6"
	host    string // the server's address, as it appears in host:port
	listen  string // the listener's bound address
	base    int    // client ports are base+1 ... base+10
	ipv6    bool
	// client is the client's address as it appears in host:port; empty
	// means host (both ends on one loopback).
	client string
}

var oracleFamilies = []oracleFamily{
	// The IPv4 listener is bound to the wildcard (the kernel shows
	// 0.0.0.0:8001, tcpstate the address that answered); the IPv6 one to ::1.
	{name: "IPv4", network: "tcp4", host: "127.0.0.1", listen: "0.0.0.0:8001", base: 20000},
	{name: "IPv6", network: "tcp6", host: "[::1]", listen: "[::1]:8001", base: 21000, ipv6: true},
}

const (
	oraclePort       = 8001 // every scenario's server
	oracleClosedPort = 8009 // nothing listens: connection refused
)

// Client port offsets, one per scenario.
const (
	scEstablished = 1 + iota
	scHalfClose
	scTimeWaitClient
	scTimeWaitServer
	scSynSent
	scSynReceived
	scFinWait1
	scLastAck
	scRefused
	scReset
)

// expectation is one socket the kernel must (State != "") or must not
// (State == "") show at the snapshot: the scenarios' own sanity check.
type expectation struct {
	scenario      string
	local, remote string
	state         string
}

func TestKernelOracle(t *testing.T) {
	netlab.Require(t)
	start := time.Now()
	ns := netlab.TestNamespace(t)
	dir := t.TempDir()
	capture, err := ns.StartCapture("lo", filepath.Join(dir, "kernel-states.pcap"), "tcp")
	if err != nil {
		t.Fatal(err)
	}

	labs := make([]*oracleLab, len(oracleFamilies))
	for i, fam := range oracleFamilies {
		labs[i] = newOracleLab(t, ns, fam)
	}
	for _, lab := range labs {
		lab.quickScenarios()
	}
	dropsStarted := time.Now()
	for _, lab := range labs {
		lab.dropScenarios()
	}
	time.Sleep(time.Until(dropsStarted.Add(retransmitWait)))

	ssText, err := ns.SS()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := capture.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capture: %d packets, %v after start; ss snapshot:\n%s", stats.Captured, time.Since(start).Round(time.Millisecond), ssText)
	if stats.Dropped > 0 {
		t.Errorf("tcpdump lost %d packets: the comparison would be meaningless", stats.Dropped)
	}
	kernel, err := netlab.ParseSS(ssText)
	if err != nil {
		t.Fatal(err)
	}
	if *kernelRecord != "" {
		recordKernelStates(t, *kernelRecord, capture.File, ssText)
	}

	// The scenarios must have produced what they are for, or the comparison
	// proves less than it claims.
	var want []expectation
	for _, lab := range labs {
		want = append(want, lab.want...)
	}
	present := checkKernelExpectations(t, kernel, want)

	var out, errOut bytes.Buffer
	if code := run([]string{"netstat", "--json", "-r", capture.File}, nil, &out, &errOut); code != 0 {
		t.Fatalf("tcpstate netstat --json -r %s: exit %d: %s", capture.File, code, strings.TrimSpace(errOut.String()))
	}
	inferred, err := parseNetstatJSON(out.Bytes())
	if err != nil {
		t.Fatalf("tcpstate netstat --json: %v\noutput:\n%s", err, out.String())
	}

	// States and, for connection sockets, Send-Q are compared (Linux counts
	// an unacknowledged SYN or FIN in Send-Q, and so does tcpstate).
	// Recv-Q (unread data) and a listener's queues are not on the wire.
	c := netlab.Compare(kernel, inferred)
	var report strings.Builder
	c.Report(&report)
	fmt.Print(report.String())
	t.Logf("%s", report.String())
	for _, v := range c.Disagreements() {
		t.Errorf("%s", v)
	}
	if c.Total() < present {
		t.Errorf("only %d sockets compared; the scenarios should give at least %d", c.Total(), present)
	}
}

// oracleLab drives one address family's scenarios: the clients in one
// namespace, the server in another (or the same).
type oracleLab struct {
	t    *testing.T
	ns   *netlab.Namespace // the server's
	cns  *netlab.Namespace // the clients'
	fam  oracleFamily
	want []expectation

	mu      sync.Mutex
	accepts map[int]chan *net.TCPConn // by client port
}

func newOracleLab(t *testing.T, ns *netlab.Namespace, fam oracleFamily) *oracleLab {
	return newOracleLab2(t, ns, ns, fam)
}

// newOracleLab2 is newOracleLab with the clients in cns and the server in
// sns.
func newOracleLab2(t *testing.T, cns, sns *netlab.Namespace, fam oracleFamily) *oracleLab {
	if fam.client == "" {
		fam.client = fam.host
	}
	ns := sns
	lab := &oracleLab{t: t, ns: sns, cns: cns, fam: fam, accepts: map[int]chan *net.TCPConn{}}
	ln, err := ns.Listen(fam.network, fam.listen)
	if err != nil {
		t.Fatal(err)
	}
	lab.expect("listener", lab.addr(oraclePort), "", "LISTEN")
	go func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return // the listener is closed with the namespace
			}
			ns.Track(c)
			lab.acceptChan(c.RemoteAddr().(*net.TCPAddr).Port) <- c
		}
	}()
	return lab
}

func (lab *oracleLab) acceptChan(port int) chan *net.TCPConn {
	lab.mu.Lock()
	defer lab.mu.Unlock()
	ch, ok := lab.accepts[port]
	if !ok {
		ch = make(chan *net.TCPConn, 1)
		lab.accepts[port] = ch
	}
	return ch
}

// addr is host:port on the server's address.
func (lab *oracleLab) addr(port int) string {
	return lab.fam.host + ":" + strconv.Itoa(port)
}

func (lab *oracleLab) client(scenario int) string {
	return lab.fam.client + ":" + strconv.Itoa(lab.fam.base+scenario)
}

func (lab *oracleLab) server() string { return lab.addr(oraclePort) }

func (lab *oracleLab) expect(scenario, local, remote, state string) {
	lab.want = append(lab.want, expectation{lab.fam.name + " " + scenario, local, remote, state})
}

// connect opens a connection from the scenario's client port to the server
// and returns both ends.
func (lab *oracleLab) connect(scenario int) (client, server *net.TCPConn) {
	lab.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := lab.cns.Dial(ctx, lab.fam.network, lab.client(scenario), lab.server())
	if err != nil {
		lab.t.Fatalf("%s: %v", lab.fam.name, err)
	}
	select {
	case server = <-lab.acceptChan(lab.fam.base + scenario):
	case <-time.After(5 * time.Second):
		lab.t.Fatalf("%s: server never accepted %s", lab.fam.name, lab.client(scenario))
	}
	return client, server
}

// exchange sends a request and a reply, so the connection carries data.
func (lab *oracleLab) exchange(client, server *net.TCPConn) {
	lab.t.Helper()
	lab.send(client, server, "request\n")
	lab.send(server, client, "reply\n")
}

func (lab *oracleLab) send(from, to *net.TCPConn, msg string) {
	lab.t.Helper()
	if _, err := from.Write([]byte(msg)); err != nil {
		lab.t.Fatalf("%s: write: %v", lab.fam.name, err)
	}
	buf := make([]byte, len(msg))
	to.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(to, buf); err != nil {
		lab.t.Fatalf("%s: read: %v", lab.fam.name, err)
	}
}

// readEOF reads from c until the peer's FIN.
func (lab *oracleLab) readEOF(c *net.TCPConn) {
	lab.t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		lab.t.Fatalf("%s: read to EOF: %v", lab.fam.name, err)
	}
}

// drop adds an INPUT rule dropping TCP segments from the client port;
// extra narrows it (e.g. "!", "--syn").
func (lab *oracleLab) drop(scenario int, extra ...string) {
	lab.t.Helper()
	args := append([]string{"-I", "INPUT", "-p", "tcp", "--sport", strconv.Itoa(lab.fam.base + scenario)}, extra...)
	if err := lab.ns.Firewall(lab.fam.ipv6, append(args, "-j", "DROP")...); err != nil {
		lab.t.Fatal(err)
	}
}

// waitState polls ss until local->remote is in state.
func (lab *oracleLab) waitState(local, remote, state string) {
	lab.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		socks, err := lab.sockets()
		if err != nil {
			lab.t.Fatal(err)
		}
		for _, s := range socks {
			if s.Local == local && s.Remote == remote && s.State == state {
				return
			}
		}
		if time.Now().After(deadline) {
			lab.t.Fatalf("%s -> %s never reached %s; ss: %v", local, remote, state, socks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sockets is what ss shows in the lab's namespaces.
func (lab *oracleLab) sockets() ([]netlab.Socket, error) {
	socks, err := lab.ns.Sockets()
	if err != nil || lab.cns == lab.ns {
		return socks, err
	}
	more, err := lab.cns.Sockets()
	return append(socks, more...), err
}

// quickScenarios leave connections in states that need no dropped segment.
func (lab *oracleLab) quickScenarios() {
	t, srv := lab.t, lab.server()

	// ESTABLISHED, with a little data exchanged.
	c, s := lab.connect(scEstablished)
	lab.exchange(c, s)
	lab.expect("established", lab.client(scEstablished), srv, "ESTABLISHED")
	lab.expect("established", srv, lab.client(scEstablished), "ESTABLISHED")

	// Half-close: the client shuts down writing, the server never closes.
	c, s = lab.connect(scHalfClose)
	lab.send(c, s, "request\n")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	lab.readEOF(s)
	lab.waitState(lab.client(scHalfClose), srv, "FIN_WAIT_2")
	lab.expect("half-close", lab.client(scHalfClose), srv, "FIN_WAIT_2")
	lab.expect("half-close", srv, lab.client(scHalfClose), "CLOSE_WAIT")

	// TIME_WAIT, client closing first: the server ends CLOSED.
	c, s = lab.connect(scTimeWaitClient)
	lab.exchange(c, s)
	c.Close()
	lab.readEOF(s)
	s.Close()
	lab.waitState(lab.client(scTimeWaitClient), srv, "TIME_WAIT")
	lab.expect("time-wait client first", lab.client(scTimeWaitClient), srv, "TIME_WAIT")
	lab.expect("time-wait client first", srv, lab.client(scTimeWaitClient), "")

	// TIME_WAIT, server closing first: the client ends CLOSED.
	c, s = lab.connect(scTimeWaitServer)
	lab.exchange(c, s)
	s.Close()
	lab.readEOF(c)
	c.Close()
	lab.waitState(srv, lab.client(scTimeWaitServer), "TIME_WAIT")
	lab.expect("time-wait server first", srv, lab.client(scTimeWaitServer), "TIME_WAIT")
	lab.expect("time-wait server first", lab.client(scTimeWaitServer), srv, "")

	// Refused: nothing listens on the port; SYN answered by RST,ACK.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, err := lab.cns.Dial(ctx, lab.fam.network, lab.client(scRefused), lab.addr(oracleClosedPort))
	cancel()
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("%s: dial closed port: %v, want connection refused", lab.fam.name, err)
	}
	lab.expect("refused", lab.client(scRefused), lab.addr(oracleClosedPort), "")

	// Reset: established, then the client aborts (SO_LINGER 0 sends RST).
	c, s = lab.connect(scReset)
	lab.exchange(c, s)
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%s: server read after client abort: %v, want connection reset", lab.fam.name, err)
	}
	s.Close()
	lab.expect("reset", lab.client(scReset), srv, "")
	lab.expect("reset", srv, lab.client(scReset), "")
}

// dropScenarios start the connections whose segments iptables drops; the
// kernel keeps retransmitting until the snapshot.
func (lab *oracleLab) dropScenarios() {
	t, srv := lab.t, lab.server()

	// SYN_SENT: every segment from the client port is dropped at INPUT, so
	// the server never sees the SYN and the client retransmits it.
	lab.drop(scSynSent)
	ctx, cancel := context.WithCancel(context.Background())
	dialed := make(chan error, 1)
	go func() {
		_, err := lab.cns.Dial(ctx, lab.fam.network, lab.client(scSynSent), srv)
		dialed <- err
	}()
	t.Cleanup(func() { cancel(); <-dialed })
	lab.waitState(lab.client(scSynSent), srv, "SYN_SENT")
	lab.expect("syn-sent", lab.client(scSynSent), srv, "SYN_SENT")
	lab.expect("syn-sent", srv, lab.client(scSynSent), "")

	// SYN_RECEIVED: the SYN passes, the handshake's last ACK (and every
	// other non-SYN segment) is dropped, so the server retransmits its
	// SYN-ACK while the client is ESTABLISHED.
	lab.drop(scSynReceived, "!", "--syn")
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	if _, err := lab.cns.Dial(dctx, lab.fam.network, lab.client(scSynReceived), srv); err != nil {
		t.Fatalf("%s: %v", lab.fam.name, err)
	}
	dcancel()
	lab.waitState(srv, lab.client(scSynReceived), "SYN_RECEIVED")
	lab.expect("syn-received", lab.client(scSynReceived), srv, "ESTABLISHED")
	lab.expect("syn-received", srv, lab.client(scSynReceived), "SYN_RECEIVED")

	// FIN_WAIT_1: after the handshake the client's segments are dropped;
	// the client closes and keeps retransmitting an unacknowledged FIN.
	c, _ := lab.connect(scFinWait1)
	lab.drop(scFinWait1)
	c.Close()
	lab.waitState(lab.client(scFinWait1), srv, "FIN_WAIT_1")
	lab.expect("fin-wait-1", lab.client(scFinWait1), srv, "FIN_WAIT_1")
	lab.expect("fin-wait-1", srv, lab.client(scFinWait1), "ESTABLISHED")

	// LAST_ACK: the client closes first; once the server has acknowledged
	// that FIN (client in FIN_WAIT_2), the client's segments are dropped and
	// the server closes: the client's final ACK is lost and the server
	// retransmits its FIN.
	c, s := lab.connect(scLastAck)
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	lab.readEOF(s)
	lab.waitState(lab.client(scLastAck), srv, "FIN_WAIT_2")
	lab.drop(scLastAck)
	s.Close()
	lab.waitState(srv, lab.client(scLastAck), "LAST_ACK")
	lab.expect("last-ack", lab.client(scLastAck), srv, "TIME_WAIT")
	lab.expect("last-ack", srv, lab.client(scLastAck), "LAST_ACK")
}

// checkKernelExpectations reports every scenario the kernel did not end up
// in as planned, and returns how many sockets the plan says ss shows.
func checkKernelExpectations(t *testing.T, kernel []netlab.Socket, want []expectation) (present int) {
	t.Helper()
	for _, w := range want {
		got := ""
		for _, s := range kernel {
			if w.state == "LISTEN" && s.State == "LISTEN" && portOf(s.Local) == portOf(w.local) && strings.HasPrefix(s.Local, "[") == strings.HasPrefix(w.local, "[") {
				got = "LISTEN"
			}
			if w.state != "LISTEN" && s.Local == w.local && s.Remote == w.remote {
				got = s.State
			}
		}
		if got != w.state {
			t.Errorf("kernel: %s: %s -> %s is %s, the scenario wants %s", w.scenario, w.local, w.remote, orAbsent(got), orAbsent(w.state))
		}
		if w.state != "" {
			present++
		}
	}
	return present
}

func portOf(endpoint string) string { return endpoint[strings.LastIndexByte(endpoint, ':')+1:] }

func orAbsent(state string) string {
	if state == "" {
		return "absent"
	}
	return state
}

// parseNetstatJSON reads `tcpstate netstat --json` output: one JSON object
// per line, one per socket, with the fields scripts rely on: proto, local,
// remote, state, send_q and recv_q. A CLOSED row is an error: the kernel
// shows no closed sockets, and neither may tcpstate.
func parseNetstatJSON(out []byte) ([]netlab.Socket, error) {
	var socks []netlab.Socket
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var row struct {
			Proto  string `json:"proto"`
			Local  string `json:"local"`
			Remote string `json:"remote"`
			State  string `json:"state"`
			SendQ  *int   `json:"send_q"`
			RecvQ  *int   `json:"recv_q"`
		}
		if err := json.Unmarshal([]byte(text), &row); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if row.Proto == "" || row.Local == "" || row.Remote == "" || row.State == "" || row.SendQ == nil || row.RecvQ == nil {
			return nil, fmt.Errorf("line %d: want proto, local, remote, state, send_q and recv_q: %s", line, text)
		}
		if row.State == "CLOSED" {
			return nil, fmt.Errorf("line %d: a CLOSED socket: %s", line, text)
		}
		socks = append(socks, netlab.Socket{Proto: row.Proto, State: row.State, Local: row.Local, Remote: row.Remote, SendQ: *row.SendQ, RecvQ: *row.RecvQ})
	}
	return socks, sc.Err()
}

func recordKernelStates(t *testing.T, dir, pcap, ssText string) {
	t.Helper()
	data, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"kernel-states.pcap":   data,
		"kernel-states.ss.txt": []byte(ssText),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("recorded kernel-states.pcap and kernel-states.ss.txt in %s", dir)
}

// TestKernelCompareCanned runs the oracle's comparison on canned rows: rows
// of a real TestKernelOracle ss snapshot and the netstat JSON the CLI is
// specified to print,
// with two deliberate disagreements. It needs neither root nor a working
// netstat.
func TestKernelCompareCanned(t *testing.T) {
	kernel, err := netlab.ParseSS(`State      Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN     0      4096         0.0.0.0:8001        0.0.0.0:*
LISTEN     0      4096           [::1]:8001           [::]:*
ESTAB      0      0          127.0.0.1:20001     127.0.0.1:8001
ESTAB      0      0          127.0.0.1:8001      127.0.0.1:20001
FIN-WAIT-2 0      0          127.0.0.1:20002     127.0.0.1:8001
CLOSE-WAIT 0      0          127.0.0.1:8001      127.0.0.1:20002
TIME-WAIT  0      0          127.0.0.1:20003     127.0.0.1:8001
SYN-SENT   0      1          127.0.0.1:20005     127.0.0.1:8001
SYN-RECV   0      0              [::1]:8001          [::1]:21006
ESTAB      0      0              [::1]:21006         [::1]:8001
LAST-ACK   0      1              [::1]:8001          [::1]:21008
TIME-WAIT  0      0              [::1]:21008         [::1]:8001
`)
	if err != nil {
		t.Fatal(err)
	}
	inferred, err := parseNetstatJSON([]byte(`{"proto":"tcp","local":"127.0.0.1:8001","remote":"*:*","state":"LISTEN","send_q":0,"recv_q":0}
{"proto":"tcp6","local":"[::1]:8001","remote":"*:*","state":"LISTEN","send_q":0,"recv_q":0}
{"proto":"tcp","local":"127.0.0.1:20001","remote":"127.0.0.1:8001","state":"ESTABLISHED","send_q":0,"recv_q":0}
{"proto":"tcp","local":"127.0.0.1:8001","remote":"127.0.0.1:20001","state":"ESTABLISHED","send_q":0,"recv_q":0}
{"proto":"tcp","local":"127.0.0.1:20002","remote":"127.0.0.1:8001","state":"FIN_WAIT_2","send_q":0,"recv_q":0}
{"proto":"tcp","local":"127.0.0.1:8001","remote":"127.0.0.1:20002","state":"CLOSE_WAIT","send_q":0,"recv_q":1}
{"proto":"tcp","local":"127.0.0.1:20003","remote":"127.0.0.1:8001","state":"TIME_WAIT","send_q":0,"recv_q":0}
{"proto":"tcp","local":"127.0.0.1:20005","remote":"127.0.0.1:8001","state":"SYN_SENT","send_q":1,"recv_q":0}
{"proto":"tcp6","local":"[::1]:8001","remote":"[::1]:21006","state":"ESTABLISHED","send_q":0,"recv_q":0}
{"proto":"tcp6","local":"[::1]:21006","remote":"[::1]:8001","state":"ESTABLISHED","send_q":0,"recv_q":0}
{"proto":"tcp6","local":"[::1]:8001","remote":"[::1]:21008","state":"LAST_ACK","send_q":1,"recv_q":0}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := netlab.Compare(kernel, inferred)
	if got, want := c.Summary(), "10 of 12 sockets agree"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	var got []string
	for _, v := range c.Disagreements() {
		got = append(got, strings.Join(strings.Fields(v.String()), " "))
	}
	want := []string{
		"DISAGREE tcp6 [::1]:8001 -> [::1]:21006 kernel SYN_RECEIVED send-q 0, tcpstate ESTABLISHED send-q 0",
		"DISAGREE tcp6 [::1]:21008 -> [::1]:8001 kernel TIME_WAIT send-q 0, tcpstate absent",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for _, bad := range []string{"not json\n", `{"proto":"tcp","state":"LISTEN"}` + "\n"} {
		if _, err := parseNetstatJSON([]byte(bad)); err == nil {
			t.Errorf("parseNetstatJSON(%q) succeeded", bad)
		}
	}
}
