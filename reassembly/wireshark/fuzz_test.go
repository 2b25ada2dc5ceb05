package wireshark

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// fuzzSegmentSize is how many input bytes make one segment.
const fuzzSegmentSize = 12

// fuzzSteps turns bytes into segments. Each 12 bytes are one segment:
//
//	0     direction (bit 0), window-scale option (bit 1), TFO cookie
//	      (bit 2), options cut (bit 3), bytes 2-5 as the sequence number
//	      (bit 4), the clock steps back (bit 5)
//	1     TCP flags
//	2-3   sequence number: offset from the end of the sender's data so far
//	4-5   acknowledgment number: offset from the end of the peer's data
//	6-7   payload length (the low 12 bits)
//	8-9   window
//	10    window-scale shift (mod 15)
//	11    time since the previous segment, in units of 100 µs
//
// Offsets keep random input near the sequence numbers TCP uses, where the
// cases are; bit 4 still reaches any sequence number.
func fuzzSteps(data []byte) []step {
	var (
		out []step
		end [2]uint32
		now = t0
	)
	for len(data) >= fuzzSegmentSize {
		b := data[:fuzzSegmentSize]
		data = data[fuzzSegmentSize:]
		d := int(b[0] & 1)
		seq := end[d] + uint32(int16(binary.BigEndian.Uint16(b[2:])))
		if b[0]&16 != 0 {
			seq = binary.BigEndian.Uint32(b[2:])
		}
		s := Segment{
			Segment: fsm.Segment{
				Seq:    fsm.Seq(seq),
				Ack:    fsm.Seq(end[1-d] + uint32(int16(binary.BigEndian.Uint16(b[4:])))),
				Flags:  fsm.Flags(b[1]),
				Len:    uint32(binary.BigEndian.Uint16(b[6:]) & 0xfff),
				Window: binary.BigEndian.Uint16(b[8:]),
				WScale: -1,
			},
			TFOCookie:       b[0]&4 != 0,
			HeaderTruncated: b[0]&8 != 0,
		}
		if b[0]&2 != 0 {
			s.WScale = int8(b[10] % 15)
		}
		gap := time.Duration(b[11]) * 100 * time.Microsecond
		if b[0]&32 != 0 {
			gap = -gap
		}
		now = now.Add(gap)
		s.Time = now
		if e := seq + s.Len; int32(e-end[d]) > 0 {
			end[d] = e
		}
		out = append(out, step{from: d, seg: s})
	}
	return out
}

// check fails the test unless a verdict is one Wireshark's checks can
// give, whatever the input: defined flags only, a duplicate ACK number
// exactly with DuplicateAck, one kind of retransmission at most, only the
// Fast Open flags when the options were cut and only on a SYN, and a new
// stream only on a SYN without ACK, exactly when it is flagged ReusedPorts
// (which a cut segment does not show).
func check(t *testing.T, i int, s Segment, f Flags, dup, streamsBefore, streamsAfter uint32) {
	t.Helper()
	switch {
	case f&^AllFlags != 0:
		t.Fatalf("#%d: undefined flags %#x", i, uint32(f&^AllFlags))
	case (dup != 0) != (f&DuplicateAck != 0):
		t.Fatalf("#%d: duplicate ACK number %d with %v", i, dup, f)
	case f&(FastRetransmission|SpuriousRetransmission) != 0 && f&Retransmission == 0:
		t.Fatalf("#%d: %v without retransmission", i, f)
	case f.Contains(FastRetransmission | SpuriousRetransmission), f.Contains(OutOfOrder | Retransmission):
		t.Fatalf("#%d: %v: more than one kind of retransmission", i, f)
	case s.HeaderTruncated && f&^(TFOSyn|TFOAck|TFOIgnored) != 0:
		t.Fatalf("#%d: options cut, yet %v", i, f)
	case f&(TFOSyn|TFOAck|TFOIgnored) != 0 && !s.Flags.Contains(fsm.SYN):
		t.Fatalf("#%d: %v on a segment without SYN", i, f)
	}
	pureSYN := s.Flags&(fsm.SYN|fsm.ACK) == fsm.SYN
	switch grew := streamsAfter - streamsBefore; {
	case streamsBefore == 0 && grew != 1:
		t.Fatalf("#%d: Streams %d after the first segment, want 1", i, streamsAfter)
	case streamsBefore == 0:
	case grew > 1, grew == 1 && !pureSYN:
		t.Fatalf("#%d: Streams %d after %d on %v", i, streamsAfter, streamsBefore, s.Flags)
	case !s.HeaderTruncated && (grew == 1) != (pureSYN && f&ReusedPorts != 0):
		t.Fatalf("#%d: Streams %d after %d with %v on %v", i, streamsAfter, streamsBefore, f, s.Flags)
	}
}

// FuzzConn gives Add random segment sequences: it must not panic, must
// not allocate, and must return only defined flags in the combinations
// Wireshark's checks can produce.
func FuzzConn(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 5*fuzzSegmentSize))
	// A handshake, data, its retransmission and three duplicate ACKs.
	f.Add([]byte{
		0, byte(fsm.SYN), 0, 0, 0, 0, 0, 0, 4, 0, 7, 0,
		3, byte(fsm.SYN | fsm.ACK), 0, 0, 0, 1, 0, 0, 4, 0, 7, 10,
		0, byte(fsm.ACK), 0, 1, 0, 1, 0, 0, 4, 0, 0, 10,
		0, byte(fsm.ACK | fsm.PSH), 0, 0, 0, 0, 0, 100, 4, 0, 0, 1,
		0, byte(fsm.ACK | fsm.PSH), 0, 0, 0, 0, 0, 100, 4, 0, 0, 1,
		1, byte(fsm.ACK), 0, 0, 0xff, 0x9c, 0, 0, 4, 0, 0, 1,
		1, byte(fsm.ACK), 0, 0, 0xff, 0x9c, 0, 0, 4, 0, 0, 1,
		1, byte(fsm.ACK), 0, 0, 0xff, 0x9c, 0, 0, 4, 0, 0, 1,
		0, byte(fsm.ACK | fsm.PSH), 0xff, 0x9c, 0, 0, 0, 100, 4, 0, 0, 1,
	})
	r := rand.New(rand.NewPCG(3, 3))
	for range 8 {
		b := make([]byte, 40*fuzzSegmentSize)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		steps := fuzzSteps(data)
		var c Conn
		for i, s := range steps {
			before := c.Streams()
			f, dup := c.Add(s.from, s.seg)
			check(t, i, s.seg, f, dup, before, c.Streams())
		}
		allocs := testing.AllocsPerRun(1, func() {
			var c Conn
			for _, s := range steps {
				c.Add(s.from, s.seg)
			}
		})
		if allocs != 0 {
			t.Fatalf("%v allocations analysing %d segments", allocs, len(steps))
		}
	})
}
