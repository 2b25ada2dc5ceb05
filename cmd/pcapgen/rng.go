package main

// Deterministic randomness: a tiny generator whose output is fixed forever
// (a library generator's algorithm could change between Go releases), and a
// keyed permutation that hands out distinct flood sources.

// rng is splitmix64.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: mix(seed ^ 0x7063617067656e31)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// mix is splitmix64's finalizer: a bijective scramble of 64 bits.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) u32() uint32 { return uint32(r.next() >> 32) }

// intn returns a number in [0, n) for n > 0 (multiply-shift, no division).
func (r *rng) intn(n int) int { return int((r.next() >> 32) * uint64(n) >> 32) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// permille returns true with probability p/1000.
func (r *rng) permille(p int) bool { return r.intn(1000) < p }

// spread returns a number in [lo, hi) spread over the decades between them:
// each decade (lo..10·lo, 10·lo..100·lo, ...) is equally likely, uniform
// inside. Round trips, think times and sizes are spread like this. Integer
// arithmetic only, so the output does not depend on the platform's floats.
func (r *rng) spread(lo, hi int64) int64 {
	n := 0
	for d := lo; d < hi; d *= 10 {
		n++
	}
	a := lo
	for k := r.intn(n); k > 0; k-- {
		a *= 10
	}
	b := min(10*a, hi)
	return a + int64(r.next()%uint64(b-a))
}

// permutation is a keyed bijection of [0, n) for n ≤ 2^bits: a few
// invertible rounds on bits-bit words, cycle-walked back into the range.
type permutation struct {
	n    uint64
	mask uint64
	key  [3]uint64
}

func newPermutation(n uint64, bits uint, seed uint64) permutation {
	p := permutation{n: n, mask: 1<<bits - 1}
	for i := range p.key {
		p.key[i] = mix(seed+uint64(i)*0x632be59bd9b4e019) & p.mask
	}
	return p
}

func (p *permutation) round(x uint64) uint64 {
	for _, k := range p.key {
		x = (x ^ k) & p.mask
		x = (x * 0x9e3779b97f4a7c15) & p.mask // odd: invertible mod 2^bits
		x ^= x >> 13
	}
	return x
}

// at returns the image of i < n.
func (p *permutation) at(i uint64) uint64 {
	x := p.round(i)
	for x >= p.n {
		x = p.round(x)
	}
	return x
}
