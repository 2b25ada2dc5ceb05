package fsm

// Seq is a TCP sequence number. Its comparisons are modulo 2^32 (RFC 9293
// section 3.4): a is less than b when b lies less than 2^31 ahead of a.
type Seq uint32

// Add returns s advanced by n.
func (s Seq) Add(n uint32) Seq { return s + Seq(n) }

// Sub returns the signed distance from t to s.
func (s Seq) Sub(t Seq) int32 { return int32(s - t) }

// LessThan reports whether s comes before t.
func (s Seq) LessThan(t Seq) bool { return int32(s-t) < 0 }

// LessThanEq reports whether s comes before t or equals it.
func (s Seq) LessThanEq(t Seq) bool { return int32(s-t) <= 0 }

// InWindow reports whether s lies in [first, first+size).
func (s Seq) InWindow(first Seq, size uint32) bool { return uint32(s-first) < size }

// Max returns the later of s and t.
func (s Seq) Max(t Seq) Seq {
	if s.LessThan(t) {
		return t
	}
	return s
}
