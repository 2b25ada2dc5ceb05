package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/tcpstate/tcpstate/cmd/internal/netlab"
)

// sample is one recording: what it is called, the files it becomes, and how
// it is made (record writes a pcap file at the given path).
type sample struct {
	name   string
	files  []string
	iface  string // the capture's interface, named in pcapng files
	about  string
	record func(pcap string) (netlab.CaptureStats, error)
}

// The samples. Client ports are fixed (40001 and up, one per sample) so the
// README can name every connection; servers listen on port 80.
var samples = []sample{
	{"handshake-close", []string{"handshake-close.pcap", "handshake-close.pcap.gz"}, "lo",
		"IPv4 on lo: handshake, request, response, client closes first (client TIME_WAIT)", recordHandshakeClose},
	{"server-close", []string{"server-close.pcapng"}, "lo",
		"IPv6 on lo, pcapng: request, response, server closes first (server TIME_WAIT)", recordServerClose},
	{"half-close", []string{"half-close.pcap"}, "lo",
		"IPv4 on lo: client shuts down writing after its request, server sends three chunks, then closes", recordHalfClose},
	{"refused", []string{"refused.pcap"}, "lo",
		"IPv4 on lo: SYN to a port nobody listens on, answered by RST,ACK", recordRefused},
	{"reset", []string{"reset.pcap"}, "lo",
		"IPv4 on lo: request, response, then the client aborts with SO_LINGER 0 (RST)", recordReset},
	{"syn-retransmit", []string{"syn-retransmit.pcap"}, "lo",
		"IPv4 on lo: SYNs dropped by iptables for 1.5 s, a retransmitted SYN completes the handshake", recordSynRetransmit},
	{"any-sll2", []string{"any-sll2.pcap"}, "any",
		"IPv4 over a veth pair, captured with tcpdump -i any -y LINUX_SLL2 on the client side", recordAnySLL2},
	{"any-sll", []string{"any-sll.pcap"}, "any",
		"IPv6 over a veth pair, captured with tcpdump -i any -y LINUX_SLL on the client side", recordAnySLL},
}

const (
	request  = "GET / HTTP/1.0\r\nHost: sample\r\n\r\n"
	response = "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
)

// errDropped says tcpdump reported packets dropped by the kernel. It has been
// seen (rarely) with -i any right after a veth pair comes up; the recording
// is then made again.
var errDropped = errors.New("tcpdump reported packets dropped by the kernel")

// ioTimeout bounds every read, dial and wait of a recording.
const ioTimeout = 5 * time.Second

// session is one recording in progress: the namespaces, the capture and the
// final states the kernel must show before the capture stops.
type session struct {
	client, server *netlab.Namespace // the same namespace on loopback
	capture        *netlab.Capture
	want           []want
	closers        []func() error
}

// want is a socket ss must show in ns at the end (state "" for none); a want
// with no remote is about a listener on local.
type want struct {
	ns            *netlab.Namespace
	local, remote string
	state         string
}

// loopback starts a session in one namespace, capturing on lo.
func loopback(pcap string, tcpdumpArgs ...string) (*session, error) {
	ns, err := netlab.NewNamespace()
	if err != nil {
		return nil, err
	}
	s := &session{client: ns, server: ns, closers: []func() error{ns.Close}}
	if s.capture, err = ns.StartCapture("lo", pcap, tcpdumpArgs...); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// veth starts a session with the client in one namespace and the server in
// another (see netlab.Pair), capturing in the client's namespace on iface.
func veth(pcap, iface string, tcpdumpArgs ...string) (*session, *netlab.Pair, error) {
	p, err := netlab.NewPair()
	if err != nil {
		return nil, nil, err
	}
	s := &session{client: p.A, server: p.B, closers: []func() error{p.Close}}
	if s.capture, err = p.A.StartCapture(iface, pcap, tcpdumpArgs...); err != nil {
		s.close()
		return nil, nil, err
	}
	return s, p, nil
}

func (s *session) close() {
	for _, c := range s.closers {
		c()
	}
}

func (s *session) expect(ns *netlab.Namespace, local, remote, state string) {
	s.want = append(s.want, want{ns, local, remote, state})
}

// finish waits until ss shows every expected state, then stops the capture.
func (s *session) finish() (netlab.CaptureStats, error) {
	deadline := time.Now().Add(ioTimeout)
	for {
		bad, err := s.mismatches()
		if err != nil {
			return netlab.CaptureStats{}, err
		}
		if len(bad) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return netlab.CaptureStats{}, fmt.Errorf("kernel states differ from the documented ones:\n  %s", strings.Join(bad, "\n  "))
		}
		time.Sleep(20 * time.Millisecond)
	}
	stats, err := s.capture.Stop()
	if err == nil && stats.Dropped > 0 {
		err = fmt.Errorf("%w: %d of %d", errDropped, stats.Dropped, stats.Received)
	}
	return stats, err
}

func (s *session) mismatches() ([]string, error) {
	var bad []string
	for _, w := range s.want {
		socks, err := w.ns.Sockets()
		if err != nil {
			return nil, err
		}
		got := ""
		for _, k := range socks {
			switch {
			case w.remote == "" && k.State == "LISTEN" && k.Local == w.local:
				got = k.State
			case w.remote != "" && k.Local == w.local && k.Remote == w.remote:
				got = k.State
			}
		}
		if got != w.state {
			bad = append(bad, fmt.Sprintf("%s -> %s: %s, want %s", w.local, w.remote, orAbsent(got), orAbsent(w.state)))
		}
	}
	return bad, nil
}

func orAbsent(state string) string {
	if state == "" {
		return "absent"
	}
	return state
}

// serve accepts one connection on ln and runs handle on it in the background;
// the returned channel yields handle's error.
func serve(ln *net.TCPListener, handle func(c *net.TCPConn) error) <-chan error {
	done := make(chan error, 1)
	go func() {
		ln.SetDeadline(time.Now().Add(ioTimeout))
		c, err := ln.AcceptTCP()
		if err != nil {
			done <- fmt.Errorf("accept: %w", err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(ioTimeout))
		done <- handle(c)
	}()
	return done
}

func wait(done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-time.After(2 * ioTimeout):
		return errors.New("server did not finish")
	}
}

func dial(ns *netlab.Namespace, network, local, remote string) (*net.TCPConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, err := ns.Dial(ctx, network, local, remote)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	return c, nil
}

// readRequest reads through the blank line that ends an HTTP request.
func readRequest(c *net.TCPConn) error {
	var buf []byte
	b := make([]byte, 512)
	for !bytes.Contains(buf, []byte("\r\n\r\n")) {
		n, err := c.Read(b)
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		buf = append(buf, b[:n]...)
	}
	return nil
}

// readEOF reads until the peer's FIN.
func readEOF(c *net.TCPConn) error {
	if _, err := io.Copy(io.Discard, c); err != nil {
		return fmt.Errorf("read to EOF: %w", err)
	}
	return nil
}

// fetch sends the request and reads the whole response.
func fetch(c *net.TCPConn) error {
	if _, err := io.WriteString(c, request); err != nil {
		return err
	}
	_, err := io.ReadFull(c, make([]byte, len(response)))
	return err
}

// answer reads the request and sends the response.
func answer(c *net.TCPConn) error {
	if err := readRequest(c); err != nil {
		return err
	}
	_, err := io.WriteString(c, response)
	return err
}

// clientClosesFirst is the exchange of handshake-close and the veth samples:
// the server answers, then waits for the client's FIN before closing.
func clientClosesFirst(s *session, network, client, server string) error {
	ln, err := s.server.Listen(network, server)
	if err != nil {
		return err
	}
	done := serve(ln, func(c *net.TCPConn) error {
		if err := answer(c); err != nil {
			return err
		}
		return readEOF(c)
	})
	c, err := dial(s.client, network, client, server)
	if err != nil {
		return err
	}
	if err := fetch(c); err != nil {
		return err
	}
	c.Close()
	if err := wait(done); err != nil {
		return err
	}
	s.expect(s.client, client, server, "TIME_WAIT")
	s.expect(s.server, server, client, "")
	s.expect(s.server, server, "", "LISTEN")
	return nil
}

func recordHandshakeClose(pcap string) (netlab.CaptureStats, error) {
	s, err := loopback(pcap, "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	if err := clientClosesFirst(s, "tcp4", "127.0.0.1:40001", "127.0.0.1:80"); err != nil {
		return netlab.CaptureStats{}, err
	}
	return s.finish()
}

func recordServerClose(pcap string) (netlab.CaptureStats, error) {
	s, err := loopback(pcap, "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	const client, server = "[::1]:40002", "[::1]:80"
	ln, err := s.server.Listen("tcp6", server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	done := serve(ln, answer) // and close at once
	c, err := dial(s.client, "tcp6", client, server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	if _, err := io.WriteString(c, request); err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := readEOF(c); err != nil {
		return netlab.CaptureStats{}, err
	}
	c.Close()
	if err := wait(done); err != nil {
		return netlab.CaptureStats{}, err
	}
	s.expect(s.server, server, client, "TIME_WAIT")
	s.expect(s.client, client, server, "")
	s.expect(s.server, server, "", "LISTEN")
	return s.finish()
}

func recordHalfClose(pcap string) (netlab.CaptureStats, error) {
	s, err := loopback(pcap, "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	const client, server = "127.0.0.1:40003", "127.0.0.1:80"
	ln, err := s.server.Listen("tcp4", server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	done := serve(ln, func(c *net.TCPConn) error {
		if err := readEOF(c); err != nil { // the request, then the FIN
			return err
		}
		for i := 1; i <= 3; i++ { // data after the client's FIN
			if _, err := fmt.Fprintf(c, "chunk %d\n", i); err != nil {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
		return nil // and close
	})
	c, err := dial(s.client, "tcp4", client, server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	if _, err := io.WriteString(c, request); err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := c.CloseWrite(); err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := readEOF(c); err != nil {
		return netlab.CaptureStats{}, err
	}
	c.Close()
	if err := wait(done); err != nil {
		return netlab.CaptureStats{}, err
	}
	s.expect(s.client, client, server, "TIME_WAIT")
	s.expect(s.server, server, client, "")
	s.expect(s.server, server, "", "LISTEN")
	return s.finish()
}

func recordRefused(pcap string) (netlab.CaptureStats, error) {
	s, err := loopback(pcap, "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	const client, server = "127.0.0.1:40004", "127.0.0.1:81"
	if _, err := dial(s.client, "tcp4", client, server); !errors.Is(err, syscall.ECONNREFUSED) {
		return netlab.CaptureStats{}, fmt.Errorf("dial a closed port: %v, want connection refused", err)
	}
	s.expect(s.client, client, server, "")
	s.expect(s.server, server, "", "")
	return s.finish()
}

func recordReset(pcap string) (netlab.CaptureStats, error) {
	s, err := loopback(pcap, "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	const client, server = "127.0.0.1:40005", "127.0.0.1:80"
	ln, err := s.server.Listen("tcp4", server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	done := serve(ln, func(c *net.TCPConn) error {
		if err := answer(c); err != nil {
			return err
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
			return fmt.Errorf("read after the client's abort: %v, want connection reset", err)
		}
		return nil
	})
	c, err := dial(s.client, "tcp4", client, server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := fetch(c); err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := c.SetLinger(0); err != nil {
		return netlab.CaptureStats{}, err
	}
	c.Close() // RST
	if err := wait(done); err != nil {
		return netlab.CaptureStats{}, err
	}
	s.expect(s.client, client, server, "")
	s.expect(s.server, server, client, "")
	s.expect(s.server, server, "", "LISTEN")
	return s.finish()
}

func recordSynRetransmit(pcap string) (netlab.CaptureStats, error) {
	s, err := loopback(pcap, "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	const client, server = "127.0.0.1:40006", "127.0.0.1:80"
	ln, err := s.server.Listen("tcp4", server)
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	rule := []string{"INPUT", "-p", "tcp", "--sport", "40006", "--syn", "-j", "DROP"}
	if err := s.server.IPTables(append([]string{"-I"}, rule...)...); err != nil {
		return netlab.CaptureStats{}, err
	}
	done := serve(ln, func(c *net.TCPConn) error {
		if err := answer(c); err != nil {
			return err
		}
		return readEOF(c)
	})
	dialed := make(chan error, 1)
	var c *net.TCPConn
	go func() {
		var err error
		c, err = dial(s.client, "tcp4", client, server)
		dialed <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := s.server.IPTables(append([]string{"-D"}, rule...)...); err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := <-dialed; err != nil {
		return netlab.CaptureStats{}, err
	}
	if err := fetch(c); err != nil {
		return netlab.CaptureStats{}, err
	}
	c.Close()
	if err := wait(done); err != nil {
		return netlab.CaptureStats{}, err
	}
	s.expect(s.client, client, server, "TIME_WAIT")
	s.expect(s.server, server, client, "")
	s.expect(s.server, server, "", "LISTEN")
	return s.finish()
}

func recordAnySLL2(pcap string) (netlab.CaptureStats, error) {
	s, p, err := veth(pcap, "any", "-y", "LINUX_SLL2", "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	if err := clientClosesFirst(s, "tcp4", p.A4.String()+":40007", p.B4.String()+":80"); err != nil {
		return netlab.CaptureStats{}, err
	}
	return s.finish()
}

func recordAnySLL(pcap string) (netlab.CaptureStats, error) {
	s, p, err := veth(pcap, "any", "-y", "LINUX_SLL", "tcp")
	if err != nil {
		return netlab.CaptureStats{}, err
	}
	defer s.close()
	if err := clientClosesFirst(s, "tcp6", "["+p.A6.String()+"]:40008", "["+p.B6.String()+"]:80"); err != nil {
		return netlab.CaptureStats{}, err
	}
	return s.finish()
}
