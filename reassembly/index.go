package reassembly

import (
	"encoding/binary"
	"iter"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"unsafe"
)

// index finds a table's connections by their two ends, in either order.
// It is a hash table
// with open addressing and linear probing whose slots hold a connection
// beside its key's hash: a lookup reads one or two adjacent slots and
// then the connection it finds, which it needs anyway, where a Go map of
// 40-byte keys read the group's control word, the key's slot and then the
// connection, each in a cache line of its own (a large table misses the
// cache on nearly every segment). The key is not stored: it is the
// connection's own Client and Server, compared as they are. The hash is
// the same for both directions, so no canonical order of the ends is
// worked out for each segment (that cost 12 ns an IPv4 segment and 25 an
// IPv6 one, twice: once for the segment, once for the connection found).
//
// The hash is seeded at random per index, as Go's maps are, so that a
// capture crafted to collide cannot foresee the slots and make the
// lookups slow.
type index struct {
	seed  [3]uint64
	slots []slot // a power of two of them, or none
	n     int    // connections in slots
}

// slot is an index entry: h is the key's hash (never 0, see hash) and 0 in
// an empty slot.
type slot struct {
	h uint64
	c *Conn
}

// pageSlots is how many slots a 4 KiB page holds.
const pageSlots = 4096 / int(unsafe.Sizeof(slot{}))

// minSlots is the size of an index's first table of slots.
const minSlots = 64

func newIndex() index {
	return index{seed: [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}}
}

// hash returns the hash of the pair of ends a and b, the same in either
// order, odd so that no pair hashes to 0. Each end's address and port are
// multiplied out to 128 bits with the seed and folded (as wyhash does);
// the ends' hashes are added, which does not depend on their order, and
// mixed once more. The ports are folded apart from the addresses, so that
// no address and port can be chosen to cancel out another's.
func (x *index) hash(a, b netip.AddrPort) uint64 {
	return fold(x.end(a)+x.end(b), x.seed[0]^0x9e3779b97f4a7c15) | 1
}

// end is the hash of one end. An IPv4 address and its port fit one word,
// folded once; an IPv6 address takes two folds and its port a third.
func (x *index) end(e netip.AddrPort) uint64 {
	a := e.Addr()
	if a.Is4() {
		ip := a.As4()
		return fold((uint64(binary.BigEndian.Uint32(ip[:]))<<16|uint64(e.Port()))^x.seed[0], x.seed[1]^0xc2b2ae3d27d4eb4f)
	}
	hi, lo := addrWords(&a)
	return fold(hi^x.seed[0], lo^x.seed[1]) ^ fold(uint64(e.Port())^x.seed[2], x.seed[1]^0xc2b2ae3d27d4eb4f)
}

// addrWords returns the 128 bits of an address as netip.Addr holds them,
// its first two words (TestAddrWords checks that they are the address's
// 16 bytes, big-endian). Reading them through As16 cost 15 ns an end: the
// bytes As16 stores one by one cannot be forwarded to the 8-byte loads
// that read them back. Whatever netip's layout, equal addresses have
// equal words, so the hash stays consistent; only its spread depends on
// the layout, and the test says when that changes.
func addrWords(a *netip.Addr) (hi, lo uint64) {
	w := (*[2]uint64)(unsafe.Pointer(a))
	return w[0], w[1]
}

// home is the slot where a lookup of hash h starts, in slots of mask+1.
// Bit 0 is left out: hash sets it in every hash, and homes that were all
// odd made the runs of filled slots that linear probing walks longer.
func home(h, mask uint64) uint64 { return h >> 1 & mask }

// fold multiplies a and b and returns the high and low words of the
// product xored.
func fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// len returns the number of connections in x.
func (x *index) len() int { return x.n }

// get returns the connection between a and b (either may be its client),
// or nil.
func (x *index) get(a, b netip.AddrPort) *Conn {
	if x.n == 0 {
		return nil
	}
	return x.find(x.hash(a, b), a, b)
}

// find is get with the hash of a and b worked out already.
func (x *index) find(h uint64, a, b netip.AddrPort) *Conn {
	if x.n == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := home(h, mask); ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.h == 0 {
			return nil
		}
		if s.h == h && (s.c.Client == a && s.c.Server == b || s.c.Client == b && s.c.Server == a) {
			return s.c
		}
	}
}

// put adds c. No connection between c's ends may be in x.
func (x *index) put(c *Conn) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	x.place(slot{x.hash(c.Client, c.Server), c})
	x.n++
}

// place puts s in the first empty slot from its hash's.
func (x *index) place(s slot) {
	mask := uint64(len(x.slots) - 1)
	i := home(s.h, mask)
	for x.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

// grow doubles the slots (the hashes are kept: nothing is hashed again).
func (x *index) grow() {
	old := x.slots
	x.slots = make([]slot, max(minSlots, 2*len(old)))
	// Written before place reads them, page by page (see Conn.touch).
	for i := 0; i < len(x.slots); i += pageSlots {
		x.slots[i].h = 0
	}
	for _, s := range old {
		if s.h != 0 {
			x.place(s)
		}
	}
}

// remove takes c out of x, if it is there (found by its own ends), and
// reports whether it was.
func (x *index) remove(c *Conn) bool {
	if x.n == 0 {
		return false
	}
	h := x.hash(c.Client, c.Server)
	mask := uint64(len(x.slots) - 1)
	i := home(h, mask)
	for {
		s := &x.slots[i]
		if s.h == 0 {
			return false
		}
		if s.c == c {
			break
		}
		i = (i + 1) & mask
	}
	// Backward shift: the slots after the hole, up to the next empty
	// one, move into it unless that would put one before its home slot.
	// No tombstones, so lookups stay short however many connections come
	// and go.
	for j := i; ; {
		x.slots[i] = slot{}
		for {
			j = (j + 1) & mask
			if x.slots[j].h == 0 {
				x.n--
				return true
			}
			from := home(x.slots[j].h, mask)
			// Slot j may fill the hole at i unless its home lies
			// cyclically in (i, j].
			if (j-from)&mask >= (j-i)&mask {
				break
			}
		}
		x.slots[i] = x.slots[j]
		i = j
	}
}

// clear empties x, keeping its slots for the connections to come.
func (x *index) clear() {
	clear(x.slots)
	x.n = 0
}

// all yields every connection in x, in no particular order. x must not
// change meanwhile.
func (x *index) all() iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		for _, s := range x.slots {
			if s.h != 0 && !yield(s.c) {
				return
			}
		}
	}
}
