package zeek

// MaxHistory is how many history letters a Conn keeps. Zeek's history has
// no limit; letters past this one are dropped (and HistoryTruncated says
// so). Each letter but the log-scale ones appears at most once per
// direction in practice, so real connections stay far below it.
const MaxHistory = 64

// Masks of the once-per-direction history letters (TCP_Endpoint.h's
// HistoryMasks). The responder's masks are these shifted left by 16.
const (
	histSYN      uint32 = 0x1
	histFIN      uint32 = 0x2
	histRST      uint32 = 0x4
	histFINRST   uint32 = 0x8
	histData     uint32 = 0x10
	histACK      uint32 = 0x20
	histMultiFlg uint32 = 0x40
)

// history is the connection's history string, built in place.
type history struct {
	b    [MaxHistory]byte
	n    uint8
	cut  bool   // letters were dropped for lack of room
	seen uint32 // which once-per-direction letters were added, Zeek's hist_seen
}

func (h *history) add(c byte) {
	if int(h.n) < len(h.b) {
		h.b[h.n] = c
		h.n++
		return
	}
	h.cut = true
}

// check adds code unless its mask was already seen, like Zeek's
// Connection::CheckHistory; it reports whether the mask had been seen.
// Lower-case and the shifted mask are for the responder.
func (h *history) check(orig bool, mask uint32, code byte) bool {
	if !orig {
		mask <<= 16
		code = lower(code)
	}
	if h.seen&mask == 0 {
		h.seen |= mask
		h.add(code)
		return false
	}
	return true
}

// addRole adds code, lower-cased for the responder.
func (h *history) addRole(orig bool, code byte) {
	if !orig {
		code = lower(code)
	}
	h.add(code)
}

// flip rewrites the history for a role flip decided after letters were
// already logged: '^' goes first and the earlier letters change case (and
// their seen-masks change sides), so the history reads as if the new roles
// had held from the start.
func (h *history) flip() {
	n := int(h.n)
	if n == len(h.b) {
		n--
		h.cut = true
	}
	copy(h.b[1:n+1], h.b[:n])
	for i := 1; i <= n; i++ {
		h.b[i] = swapCase(h.b[i])
	}
	h.b[0] = '^'
	h.n = uint8(n + 1)
	h.seen = h.seen<<16 | h.seen>>16
}

// rstos0 reports whether the history matches Zeek's /\^?S[^HAFGIQ]*R.*/:
// an originator's SYN, then its RST, with none of the originator's
// handshake, ACK, data-less FIN, gap or odd-flag letters in between.
func (h *history) rstos0() bool {
	s := h.b[:h.n]
	if len(s) > 0 && s[0] == '^' {
		s = s[1:]
	}
	if len(s) == 0 || s[0] != 'S' {
		return false
	}
	for _, c := range s[1:] {
		switch c {
		case 'R':
			return true
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		}
	}
	return false
}

// scaled is one of Zeek's log-scale history counters (checksum errors,
// retransmissions, zero windows, gaps): the letter is logged at the 1st,
// 10th, 100th ... occurrence (Connection::ScaledHistoryEntry, base 10).
type scaled struct{ n, next uint32 }

// hit counts one occurrence and reports whether it reached the threshold.
// The arithmetic is Zeek's 32-bit one, including what it does when the
// threshold overflows.
func (s *scaled) hit() bool {
	if s.next == 0 {
		s.next = 1
	}
	s.n++
	if s.n != s.next {
		return false
	}
	next := s.next * 10
	if next <= s.next {
		s.n = 0
	} else {
		s.next = next
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func swapCase(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	}
	return c
}
