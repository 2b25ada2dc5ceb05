package fsm

// Flags are the TCP header flags, with the bit values they have in byte 13
// of the header.
type Flags uint8

// The TCP flags (RFC 9293 section 3.1, RFC 3168 for ECE and CWR).
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Contains reports whether every flag in o is set in f.
func (f Flags) Contains(o Flags) bool { return f&o == o }

// Intersects reports whether any flag in o is set in f.
func (f Flags) Intersects(o Flags) bool { return f&o != 0 }

// flagLetters are tcpdump's letters, in header bit order; ACK prints as '.'.
var flagLetters = [8]byte{'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'}

// String prints the flags the way tcpdump does: "S", "S.", ".", "P.", "F.",
// "R.", with "none" for a segment with no flag at all.
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var b [8]byte
	n := 0
	for i, l := range flagLetters {
		if f&(1<<i) != 0 {
			b[n] = l
			n++
		}
	}
	return string(b[:n])
}
