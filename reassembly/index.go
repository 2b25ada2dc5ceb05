package reassembly

import (
	"iter"
	"math/bits"
	"math/rand/v2"
)

// index finds a table's connections by their tuple. It is a hash table
// with open addressing and linear probing whose slots hold a connection
// beside its key's hash: a lookup reads one or two adjacent slots and
// then the connection it finds, which it needs anyway, where a Go map of
// 40-byte keys read the group's control word, the key's slot and then the
// connection, each in a cache line of its own (a large table misses the
// cache on nearly every segment). The key is not stored: it is the
// connection's own (tupleOf(c.Client, c.Server)).
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

// minSlots is the size of an index's first table of slots.
const minSlots = 64

func newIndex() index {
	return index{seed: [3]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}}
}

// hash returns the hash of k, odd so that no key hashes to 0: each pair of
// words is multiplied out to 128 bits and folded (as wyhash does), with
// the seed in every product.
func (x *index) hash(k tuple) uint64 {
	ports := uint64(k.loPort)<<48 | uint64(k.hiPort)<<32 | uint64(k.family)
	h := fold(k.lo[0]^x.seed[0], k.lo[1]^x.seed[1]) ^
		fold(k.hi[0]^x.seed[1], k.hi[1]^x.seed[2]) ^
		fold(ports^x.seed[2], x.seed[0])
	return fold(h, x.seed[0]^0x9e3779b97f4a7c15) | 1
}

// fold multiplies a and b and returns the high and low words of the
// product xored.
func fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// len returns the number of connections in x.
func (x *index) len() int { return x.n }

// get returns the connection whose tuple is k, or nil.
func (x *index) get(k tuple) *Conn {
	if x.n == 0 {
		return nil
	}
	h := x.hash(k)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.h == 0 {
			return nil
		}
		if s.h == h && tupleOf(s.c.Client, s.c.Server) == k {
			return s.c
		}
	}
}

// put adds c, whose tuple is k. No connection with tuple k may be in x.
func (x *index) put(k tuple, c *Conn) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	x.place(slot{x.hash(k), c})
	x.n++
}

// place puts s in the first empty slot from its hash's.
func (x *index) place(s slot) {
	mask := uint64(len(x.slots) - 1)
	i := s.h & mask
	for x.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

// grow doubles the slots (the hashes are kept: nothing is hashed again).
func (x *index) grow() {
	old := x.slots
	x.slots = make([]slot, max(minSlots, 2*len(old)))
	for _, s := range old {
		if s.h != 0 {
			x.place(s)
		}
	}
}

// remove takes c out of x, if it is there (found by its own tuple), and
// reports whether it was.
func (x *index) remove(c *Conn) bool {
	if x.n == 0 {
		return false
	}
	h := x.hash(tupleOf(c.Client, c.Server))
	mask := uint64(len(x.slots) - 1)
	i := h & mask
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
			home := x.slots[j].h & mask
			// Slot j may fill the hole at i unless its home lies
			// cyclically in (i, j].
			if (j-home)&mask >= (j-i)&mask {
				break
			}
		}
		x.slots[i] = x.slots[j]
		i = j
	}
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
