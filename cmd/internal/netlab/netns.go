package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnsupported is returned on systems without network namespaces.
var ErrUnsupported = errors.New("netlab: network namespaces need Linux")

// namePrefix starts the name of every namespace netlab creates. The rest is
// the creating process id and a counter, so stale namespaces left by a killed
// process can be recognised and removed (see removeStale).
const namePrefix = "tslab-"

// commandTimeout bounds every helper command (ip, iptables, ss).
const commandTimeout = 30 * time.Second

var nsCounter atomic.Uint64

// Namespace is a network namespace created by netlab, with its loopback up.
// Its methods are safe for concurrent use.
type Namespace struct {
	// Name is the namespace's name, as `ip netns` knows it.
	Name string

	handle nsHandle // an open reference used to enter the namespace

	mu       sync.Mutex
	closers  []io.Closer // sockets opened through the namespace's helpers
	captures []*Capture  // tcpdump processes still running
	closed   bool
}

// NewNamespace creates a uniquely named network namespace and brings its
// loopback interface up. The caller must Close it.
func NewNamespace() (*Namespace, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	removeStale()
	name := fmt.Sprintf("%s%d-%d", namePrefix, os.Getpid(), nsCounter.Add(1))
	if _, err := runTool("ip", "netns", "add", name); err != nil {
		return nil, fmt.Errorf("netlab: create namespace %s: %w", name, err)
	}
	n := &Namespace{Name: name, handle: noHandle}
	h, err := openNamespace(name)
	if err != nil {
		runTool("ip", "netns", "delete", name)
		return nil, fmt.Errorf("netlab: open namespace %s: %w", name, err)
	}
	n.handle = h
	if _, err := n.Run("ip", "link", "set", "lo", "up"); err != nil {
		n.Close()
		return nil, fmt.Errorf("netlab: bring lo up in %s: %w", name, err)
	}
	return n, nil
}

// TestNamespace creates a namespace for the test t and registers its removal
// with t.Cleanup, so it goes away even when the test fails. It fails the test
// when the namespace cannot be made; call Require first to skip instead.
func TestNamespace(t T) *Namespace {
	t.Helper()
	n, err := NewNamespace()
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Logf("%v", err)
		}
	})
	return n
}

// Close stops the namespace's running captures, closes the sockets opened
// through its helpers and deletes the namespace. It is safe to call twice.
func (n *Namespace) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	captures, closers := n.captures, n.closers
	n.captures, n.closers = nil, nil
	n.mu.Unlock()

	var errs []error
	for _, c := range captures {
		c.kill()
	}
	for _, c := range closers {
		c.Close()
	}
	if n.handle != noHandle {
		if err := n.handle.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := runTool("ip", "netns", "delete", n.Name); err != nil {
		errs = append(errs, fmt.Errorf("netlab: delete namespace %s: %w", n.Name, err))
	}
	return errors.Join(errs...)
}

// Do runs f on an OS thread that has entered the namespace, and returns its
// error. Sockets that f creates belong to the namespace for their whole life
// and may be used from any goroutine afterwards. Goroutines that f starts do
// not run in the namespace. The thread leaves the namespace when f returns.
func (n *Namespace) Do(f func() error) error {
	if n.isClosed() {
		return fmt.Errorf("netlab: namespace %s is closed", n.Name)
	}
	return n.handle.do(f)
}

// Listen opens a TCP listener inside the namespace; network is "tcp4" or
// "tcp6" (or "tcp"), address an IP literal and port such as "127.0.0.1:80" or
// "[::1]:80". Keep-alives are off on accepted connections so captures hold
// only the traffic a test makes. The listener is closed with the namespace.
func (n *Namespace) Listen(network, address string) (*net.TCPListener, error) {
	if _, err := netip.ParseAddrPort(address); err != nil {
		return nil, fmt.Errorf("netlab: listen: %w", err)
	}
	var ln net.Listener
	err := n.Do(func() error {
		lc := net.ListenConfig{KeepAlive: -1}
		var err error
		ln, err = lc.Listen(context.Background(), network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netlab: listen in %s: %w", n.Name, err)
	}
	n.track(ln)
	return ln.(*net.TCPListener), nil
}

// Dial connects from inside the namespace. local is the source address and
// port ("127.0.0.1:40001"), or "" to let the kernel choose; remote is an IP
// literal and port. Dial blocks until the handshake completes, fails, or ctx
// is done: a connection whose SYNs are dropped stays in SYN_SENT until then.
// Keep-alives are off. The connection is closed with the namespace.
func (n *Namespace) Dial(ctx context.Context, network, local, remote string) (*net.TCPConn, error) {
	d := net.Dialer{KeepAlive: -1}
	if local != "" {
		ap, err := netip.ParseAddrPort(local)
		if err != nil {
			return nil, fmt.Errorf("netlab: dial: local address: %w", err)
		}
		d.LocalAddr = net.TCPAddrFromAddrPort(ap)
	}
	if _, err := netip.ParseAddrPort(remote); err != nil {
		return nil, fmt.Errorf("netlab: dial: remote address: %w", err)
	}
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = d.DialContext(ctx, network, remote)
		return err
	})
	if err != nil {
		return nil, err
	}
	n.track(c)
	return c.(*net.TCPConn), nil
}

// Track registers c to be closed with the namespace, for sockets a test
// creates itself inside Do or receives from Accept.
func (n *Namespace) Track(c io.Closer) { n.track(c) }

func (n *Namespace) track(c io.Closer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		c.Close()
		return
	}
	n.closers = append(n.closers, c)
}

func (n *Namespace) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Command returns a command that runs name with args inside the namespace
// (through `ip netns exec`).
func (n *Namespace) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Run runs name with args inside the namespace and returns its standard
// output. The error carries the command line and its standard error.
func (n *Namespace) Run(name string, args ...string) ([]byte, error) {
	return runTool("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// IPTables adds or removes an IPv4 rule inside the namespace: args are
// iptables' own ("-I", "INPUT", "-p", "tcp", "--sport", "40001", "-j", "DROP").
func (n *Namespace) IPTables(args ...string) error {
	_, err := n.Run("iptables", append([]string{"-w"}, args...)...)
	return err
}

// IP6Tables is IPTables for IPv6 (ip6tables).
func (n *Namespace) IP6Tables(args ...string) error {
	_, err := n.Run("ip6tables", append([]string{"-w"}, args...)...)
	return err
}

// Firewall runs iptables when ipv6 is false and ip6tables when it is true.
func (n *Namespace) Firewall(ipv6 bool, args ...string) error {
	if ipv6 {
		return n.IP6Tables(args...)
	}
	return n.IPTables(args...)
}

// runTool runs a helper program in the current namespace, with a timeout.
func runTool(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.Bytes(), fmt.Errorf("%s: %s", strings.Join(cmd.Args, " "), msg)
	}
	return stdout.Bytes(), nil
}

// removeStale deletes namespaces left behind by netlab processes that have
// died (killed before their cleanup ran). Errors are ignored: another process
// may be removing the same namespace.
func removeStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), namePrefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		runTool("ip", "netns", "delete", e.Name())
	}
}
