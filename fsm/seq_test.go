package fsm

import (
	"math"
	"math/rand"
	"testing"
	"testing/quick"
)

// TestSeqWrap checks the comparisons of RFC 9293 section 3.4 at and around
// the wrap from 2^32-1 to 0.
func TestSeqWrap(t *testing.T) {
	const top = Seq(math.MaxUint32)
	less := []struct {
		a, b Seq
		want bool
	}{
		{0, 1, true},
		{1, 0, false},
		{5, 5, false},
		{top, 0, true}, // 0 follows 2^32-1
		{0, top, false},
		{top - 10, 10, true},
		{10, top - 10, false},
		{0, 1<<31 - 1, true}, // the farthest ahead that still counts as ahead
		{1<<31 - 1, 0, false},
		{1 << 31, top, true},
		{top, 1 << 31, false},
		{0xFFFFFF00, 0x100, true},
	}
	for _, c := range less {
		if got := c.a.LessThan(c.b); got != c.want {
			t.Errorf("%#x.LessThan(%#x) = %v, want %v", uint32(c.a), uint32(c.b), got, c.want)
		}
		if got, want := c.a.LessThanEq(c.b), c.want || c.a == c.b; got != want {
			t.Errorf("%#x.LessThanEq(%#x) = %v, want %v", uint32(c.a), uint32(c.b), got, want)
		}
	}

	sub := []struct {
		a, b Seq
		want int32
	}{
		{10, 5, 5},
		{5, 10, -5},
		{0, top, 1},
		{top, 0, -1},
		{0x100, 0xFFFFFF00, 0x200},
		{0xFFFFFF00, 0x100, -0x200},
		{1<<31 - 1, 0, math.MaxInt32},
	}
	for _, c := range sub {
		if got := c.a.Sub(c.b); got != c.want {
			t.Errorf("%#x.Sub(%#x) = %d, want %d", uint32(c.a), uint32(c.b), got, c.want)
		}
	}

	if got := top.Add(1); got != 0 {
		t.Errorf("(2^32-1).Add(1) = %d, want 0", got)
	}
	if got := Seq(0xFFFFFFF0).Add(0x20); got != 0x10 {
		t.Errorf("Add across the wrap = %#x, want 0x10", uint32(got))
	}

	for _, c := range []struct{ a, b, want Seq }{
		{1, 2, 2},
		{2, 1, 2},
		{top, 0, 0},
		{0, top, 0},
		{0xFFFFFF00, 0x100, 0x100},
		{7, 7, 7},
	} {
		if got := c.a.Max(c.b); got != c.want {
			t.Errorf("%#x.Max(%#x) = %#x, want %#x", uint32(c.a), uint32(c.b), uint32(got), uint32(c.want))
		}
	}

	win := []struct {
		s, first Seq
		size     uint32
		want     bool
	}{
		{100, 100, 1, true},
		{100, 100, 0, false}, // an empty window holds nothing
		{101, 100, 1, false},
		{99, 100, 1000, false},
		{1099, 100, 1000, true},
		{1100, 100, 1000, false},
		{0, top, 2, true}, // the window straddles the wrap
		{1, top, 2, false},
		{top, top, 2, true},
		{0x2E7, 0xFFFFFF00, 1000, true},
		{0x2E8, 0xFFFFFF00, 1000, false},
		{0xFFFFFEFF, 0xFFFFFF00, 1000, false},
		{top, 0, math.MaxUint32, false}, // the whole space but one
		{top - 1, 0, math.MaxUint32, true},
	}
	for _, c := range win {
		if got := c.s.InWindow(c.first, c.size); got != c.want {
			t.Errorf("%#x.InWindow(%#x, %d) = %v, want %v", uint32(c.s), uint32(c.first), c.size, got, c.want)
		}
	}
}

// TestSeqProperties: for any a and any distance d with 0 < d < 2^31, a+d lies
// after a, at signed distance d, whatever the wrap; the window [a, a+n)
// holds a+d exactly when d < n.
func TestSeqProperties(t *testing.T) {
	cfg := &quick.Config{MaxCount: 20000, Rand: rand.New(rand.NewSource(1))}
	prop := func(a uint32, d uint32, n uint32) bool {
		d = d%(1<<31-1) + 1 // 1 .. 2^31-1
		s, e := Seq(a), Seq(a).Add(d)
		if !s.LessThan(e) || e.LessThan(s) || s.LessThan(s) {
			return false
		}
		if !s.LessThanEq(e) || e.LessThanEq(s) || !s.LessThanEq(s) {
			return false
		}
		if e.Sub(s) != int32(d) || s.Sub(e) != -int32(d) || s.Sub(s) != 0 {
			return false
		}
		if s.Max(e) != e || e.Max(s) != e || s.Max(s) != s {
			return false
		}
		if e.InWindow(s, n) != (d < n) || !s.InWindow(s, max(n, 1)) {
			return false
		}
		// Transitivity over two steps that stay within half the space.
		u := e.Add(d / 2)
		if d/2 > 0 && d+d/2 < 1<<31 && !s.LessThan(u) {
			return false
		}
		return true
	}
	if err := quick.Check(prop, cfg); err != nil {
		t.Error(err)
	}
	// The wrap itself, densely: every a near 2^32 against every small d.
	for a := Seq(math.MaxUint32 - 300); a != 300; a++ {
		for d := uint32(1); d < 600; d += 37 {
			if !prop(uint32(a), d-1, d) {
				t.Fatalf("property fails at a=%#x d=%d", uint32(a), d)
			}
		}
	}
}
