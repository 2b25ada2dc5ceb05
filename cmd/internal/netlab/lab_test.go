//go:build linux

package netlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNamespaceLifecycle(t *testing.T) {
	Require(t)
	n, err := NewNamespace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if !strings.HasPrefix(n.Name, namePrefix) {
		t.Errorf("name %q lacks prefix %q", n.Name, namePrefix)
	}
	var inside, want syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+n.Name, &want); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(func() error { return syscall.Stat("/proc/thread-self/ns/net", &inside) }); err != nil {
		t.Fatal(err)
	}
	if inside.Ino != want.Ino {
		t.Errorf("Do ran in namespace inode %d, want %d", inside.Ino, want.Ino)
	}
	if err := n.Do(func() error { return io.EOF }); err != io.EOF {
		t.Errorf("Do returned %v, want f's error", err)
	}

	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/netns/" + n.Name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace still there after Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := n.Do(func() error { return nil }); err == nil {
		t.Errorf("Do after Close succeeded")
	}
}

// TestLoopback checks the pieces the oracle test depends on: sockets in the
// namespace are invisible outside it, ss sees them with fixed ports, a
// capture holds their packets, and an iptables drop keeps a client in
// SYN_SENT.
func TestLoopback(t *testing.T) {
	Require(t)
	n := TestNamespace(t)
	dir := t.TempDir()
	capture, err := n.StartCapture("lo", filepath.Join(dir, "lo.pcap"), "tcp")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := n.Listen("tcp4", "127.0.0.1:8001")
	if err != nil {
		t.Fatal(err)
	}
	// Outside the namespace nothing listens there.
	if c, err := net.DialTimeout("tcp4", "127.0.0.1:8001", time.Second); err == nil {
		c.Close()
		t.Logf("note: something outside the namespace listens on 127.0.0.1:8001")
	}
	ctx := context.Background()
	c, err := n.Dial(ctx, "tcp4", "127.0.0.1:20001", "127.0.0.1:8001")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	n.Track(s)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(s, buf); err != nil {
		t.Fatal(err)
	}

	// SYN_SENT: drop the client's SYNs at INPUT.
	if err := n.IPTables("-I", "INPUT", "-p", "tcp", "--sport", "20005", "-j", "DROP"); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dialed := make(chan error, 1)
	go func() {
		_, err := n.Dial(dctx, "tcp4", "127.0.0.1:20005", "127.0.0.1:8001")
		dialed <- err
	}()
	waitFor(t, n, "127.0.0.1:20005", "127.0.0.1:8001", "SYN_SENT")

	socks, err := n.Sockets()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range socks {
		got[s.Local+" "+s.Remote] = s.State
	}
	for k, want := range map[string]string{
		"127.0.0.1:8001 0.0.0.0:*":       "LISTEN",
		"127.0.0.1:20001 127.0.0.1:8001": "ESTABLISHED",
		"127.0.0.1:8001 127.0.0.1:20001": "ESTABLISHED",
		"127.0.0.1:20005 127.0.0.1:8001": "SYN_SENT",
	} {
		if got[k] != want {
			t.Errorf("ss: %s is %q, want %q (all: %v)", k, got[k], want, socks)
		}
	}
	cancel()
	if err := <-dialed; err == nil {
		t.Errorf("dial through a DROP rule succeeded")
	}

	stats, err := capture.Stop()
	if err != nil {
		t.Fatal(err)
	}
	// SYN, SYN-ACK, ACK, data, its ACK, and at least one dropped SYN.
	if stats.Captured < 6 {
		t.Errorf("captured %d packets, want at least 6", stats.Captured)
	}
	fi, err := os.Stat(capture.File)
	if err != nil || fi.Size() < 24 {
		t.Errorf("capture file: %v, %v", fi, err)
	}
}

func TestVethPair(t *testing.T) {
	Require(t)
	p := TestPair(t)
	for _, tc := range []struct{ network, server, client string }{
		{"tcp4", p.B4.String() + ":80", p.A4.String() + ":40001"},
		{"tcp6", "[" + p.B6.String() + "]:80", "[" + p.A6.String() + "]:40001"},
	} {
		ln, err := p.B.Listen(tc.network, tc.server)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := p.A.Dial(ctx, tc.network, tc.client, tc.server)
		cancel()
		if err != nil {
			t.Fatalf("dial over veth: %v", err)
		}
		// The handshake needs no retransmission: NewPair waits until
		// the link is really up (see Veth).
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s dial over a new veth pair took %v", tc.network, d)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		p.B.Track(s)
		if got := s.RemoteAddr().String(); got != tc.client {
			t.Errorf("server sees client %s, want %s", got, tc.client)
		}
		waitFor(t, p.A, tc.client, tc.server, "ESTABLISHED")
		c.Close()
	}
}

func TestRequire(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			var ft fakeT
			Require(&ft, "no-such-tool-for-netlab")
			switch {
			case ci == "true" && (!strings.Contains(ft.fatal, "CI=true") || ft.skip != ""):
				t.Errorf("with CI=true: fatal %q, skip %q; want a failure", ft.fatal, ft.skip)
			case ci == "" && (ft.skip == "" || ft.fatal != ""):
				t.Errorf("without CI: fatal %q, skip %q; want a skip", ft.fatal, ft.skip)
			}
		})
	}
}

type fakeT struct{ fatal, skip string }

func (*fakeT) Helper()                            {}
func (*fakeT) Cleanup(func())                     {}
func (*fakeT) Logf(string, ...any)                {}
func (f *fakeT) Skipf(format string, args ...any) { f.skip = fmt.Sprintf(format, args...) }
func (f *fakeT) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}

// waitFor polls ss until the socket local->remote is in state.
func waitFor(t *testing.T, n *Namespace, local, remote, state string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		socks, err := n.Sockets()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range socks {
			if s.Local == local && s.Remote == remote && s.State == state {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s -> %s never reached %s; ss: %v", local, remote, state, socks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
