package reassembly

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestIndexMatchesMap runs random puts, gets and removes on an index and
// on a Go map side by side, with few distinct tuples (so that keys come
// back after leaving) and loads up to the growth threshold, where the
// probe runs are long and wrap around the end of the slots.
func TestIndexMatchesMap(t *testing.T) {
	for _, keys := range []int{3, 40, 500, 5000} {
		r := rand.New(rand.NewPCG(uint64(keys), 9))
		conns := make([]*Conn, keys)
		for i := range conns {
			a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1024+i%7))
			b := netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), 80)
			if i%3 == 0 {
				b = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), 443)
			}
			conns[i] = &Conn{Client: a, Server: b}
		}
		x := newIndex()
		want := map[Key]*Conn{}
		for step := range 20 * keys {
			c := conns[r.IntN(keys)]
			k := KeyOf(c.Client, c.Server)
			a, b := c.Client, c.Server
			if r.IntN(2) == 0 {
				a, b = b, a // either direction finds it
			}
			switch op := r.IntN(3); {
			case op == 0 && want[k] == nil:
				x.put(c)
				want[k] = c
			case op == 1:
				if got, ok := x.remove(c), want[k] != nil; got != ok {
					t.Fatalf("%d keys, step %d: remove said %v, want %v", keys, step, got, ok)
				}
				delete(want, k)
			}
			if got := x.get(a, b); got != want[k] {
				t.Fatalf("%d keys, step %d: get found %p, want %p", keys, step, got, want[k])
			}
			if x.len() != len(want) {
				t.Fatalf("%d keys, step %d: %d connections, want %d", keys, step, x.len(), len(want))
			}
		}
		// Every connection is found, and all yields each once.
		seen := map[*Conn]bool{}
		for c := range x.all() {
			if seen[c] {
				t.Fatalf("%d keys: all yields %p twice", keys, c)
			}
			seen[c] = true
		}
		for k, c := range want {
			if x.get(k.Lo, k.Hi) != c || !seen[c] {
				t.Fatalf("%d keys: %p lost", keys, c)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("%d keys: all yields %d connections, want %d", keys, len(seen), len(want))
		}
	}
}

// TestAddrWords: addrWords reads an address's 16 bytes (IPv4-mapped for
// IPv4) as two big-endian words, as netip.Addr holds them today. If this
// fails, netip's layout changed: the index still works (equal addresses
// still hash alike) but addrWords should go back to As16.
func TestAddrWords(t *testing.T) {
	for _, s := range []string{"::", "2001:db8::1", "fe80::1:2:3:4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:192.0.2.1", "192.0.2.1", "0.0.0.0"} {
		a := netip.MustParseAddr(s)
		b := a.As16()
		hi, lo := addrWords(&a)
		if hi != binary.BigEndian.Uint64(b[:8]) || lo != binary.BigEndian.Uint64(b[8:]) {
			t.Errorf("%s: words %#x %#x, bytes %x", s, hi, lo, b)
		}
	}
}

// BenchmarkIndexGet measures finding one of 50k connections, in random
// order, as segments of a busy capture do.
func BenchmarkIndexGet(b *testing.B) {
	const n = 50_000
	x := newIndex()
	keys := make([]*Conn, n)
	for i := range keys {
		c := &Conn{
			Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000)),
			Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), 80),
		}
		keys[i] = c
		x.put(c)
	}
	r := rand.New(rand.NewPCG(1, 2))
	order := r.Perm(n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if k := keys[order[i]]; x.get(k.Server, k.Client) == nil {
			b.Fatal("lost")
		}
		i = (i + 1) % n
	}
}

// TestHomesSpread checks that the connections a worker of a Sharded gets
// start their lookups in every part of its index's slots: odd and even
// ones alike (every hash is odd), and all the quarters of a small index
// (the worker is picked from the same hash).
func TestHomesSpread(t *testing.T) {
	s := NewSharded(Config{}, 2)
	defer s.Close()
	const mask = 1023
	var parity [2][2]int
	var quarter [2][4]int
	for i := range 8000 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(20000+i))
		h := s.keys.hash(c, srv)
		w := s.pick(h)
		parity[w][home(h, mask)&1]++
		quarter[w][home(h, mask)>>8]++
	}
	for w := range 2 {
		for p, n := range parity[w] {
			if n < 1600 {
				t.Errorf("worker %d: %d connections with a home of parity %d, of about 4000", w, n, p)
			}
		}
		for q, n := range quarter[w] {
			if n < 800 {
				t.Errorf("worker %d: %d connections with a home in quarter %d, of about 1000", w, n, q)
			}
		}
	}
}
