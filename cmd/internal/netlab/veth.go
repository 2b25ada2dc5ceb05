package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// VethEnd is one end of a veth pair: its interface name (at most 15
// characters) and the addresses to put on it.
type VethEnd struct {
	Iface string
	Addrs []netip.Prefix
}

// Veth joins namespaces a and b with a veth pair, puts the addresses on each
// end (IPv6 ones with nodad, so they are usable at once) and brings both ends
// up. The pair disappears with either namespace.
func Veth(a *Namespace, aEnd VethEnd, b *Namespace, bEnd VethEnd) error {
	if _, err := runTool("ip", "-n", a.Name, "link", "add", aEnd.Iface, "type", "veth",
		"peer", "name", bEnd.Iface, "netns", b.Name); err != nil {
		return fmt.Errorf("netlab: create veth pair: %w", err)
	}
	for _, end := range []struct {
		ns *Namespace
		VethEnd
	}{{a, aEnd}, {b, bEnd}} {
		for _, p := range end.Addrs {
			args := []string{"-n", end.ns.Name, "addr", "add", p.String(), "dev", end.Iface}
			if p.Addr().Is6() {
				args = append(args, "nodad")
			}
			if _, err := runTool("ip", args...); err != nil {
				return fmt.Errorf("netlab: address veth: %w", err)
			}
		}
		if _, err := runTool("ip", "-n", end.ns.Name, "link", "set", end.Iface, "up"); err != nil {
			return fmt.Errorf("netlab: bring veth up: %w", err)
		}
	}
	// The kernel reports the carrier change, and IPv6 joins the
	// solicited-node groups of the addresses, only when its link watcher
	// runs, which can be up to a second later. Until then the first
	// neighbour solicitation goes unanswered and the first IPv6 SYN waits a
	// second, so wait for operational state UP on both ends.
	for _, end := range []struct {
		ns    *Namespace
		iface string
	}{{a, aEnd.Iface}, {b, bEnd.Iface}} {
		if err := waitLinkUp(end.ns, end.iface); err != nil {
			return err
		}
	}
	return nil
}

func waitLinkUp(n *Namespace, iface string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := runTool("ip", "-n", n.Name, "-o", "link", "show", "dev", iface)
		if err != nil {
			return fmt.Errorf("netlab: veth: %w", err)
		}
		if strings.Contains(string(out), " state UP ") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netlab: veth %s in %s not operationally up after 5s: %s", iface, n.Name, strings.TrimSpace(string(out)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pair is two namespaces joined by a veth pair with documentation addresses:
// A is 192.0.2.1/24 and 2001:db8::1/64 on A.Iface, B is 192.0.2.2/24 and
// 2001:db8::2/64 on B.Iface.
type Pair struct {
	A, B *Namespace
	// Iface is the veth end's name in each namespace ("veth0" in both).
	Iface string
	// A4, B4, A6 and B6 are the addresses of A and B.
	A4, B4, A6, B6 netip.Addr
}

// NewPair creates two namespaces joined by a veth pair (see Pair). The caller
// must Close it.
func NewPair() (*Pair, error) {
	p := &Pair{
		Iface: "veth0",
		A4:    netip.MustParseAddr("192.0.2.1"),
		B4:    netip.MustParseAddr("192.0.2.2"),
		A6:    netip.MustParseAddr("2001:db8::1"),
		B6:    netip.MustParseAddr("2001:db8::2"),
	}
	var err error
	if p.A, err = NewNamespace(); err != nil {
		return nil, err
	}
	if p.B, err = NewNamespace(); err != nil {
		p.A.Close()
		return nil, err
	}
	err = Veth(
		p.A, VethEnd{p.Iface, []netip.Prefix{netip.PrefixFrom(p.A4, 24), netip.PrefixFrom(p.A6, 64)}},
		p.B, VethEnd{p.Iface, []netip.Prefix{netip.PrefixFrom(p.B4, 24), netip.PrefixFrom(p.B6, 64)}},
	)
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// TestPair is NewPair for a test: it registers Close with t.Cleanup and fails
// the test on error.
func TestPair(t T) *Pair {
	t.Helper()
	p, err := NewPair()
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Logf("%v", err)
		}
	})
	return p
}

// Close deletes both namespaces.
func (p *Pair) Close() error {
	var errs []error
	for _, n := range []*Namespace{p.A, p.B} {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}
