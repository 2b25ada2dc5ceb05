package zeek

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// The flags of a fuzz segment; fuzzRaw takes them from the input instead.
var fuzzFlags = [16]fsm.Flags{
	fsm.SYN, fsm.SYN | fsm.ACK, fsm.ACK, fsm.PSH | fsm.ACK,
	fsm.FIN | fsm.ACK, fsm.FIN | fsm.PSH | fsm.ACK, fsm.RST, fsm.RST | fsm.ACK,
	fsm.ACK, fsm.PSH | fsm.ACK, fsm.ACK, fsm.PSH | fsm.ACK,
	0 /* raw */, fsm.FIN | fsm.RST, fsm.SYN | fsm.FIN, 0,
}

const (
	fuzzRaw    = 12
	fuzzChunk  = 7
	fuzzHeader = 8
	fuzzMaxSeg = 128
)

// fuzzSegments decodes the input: bytes 0-7 are A's and B's ISNs, then one
// 7-byte chunk per segment:
//
//	0: bit 7 sender (1: A), bit 6 bad checksum, bit 5 payload cut,
//	   bit 4 zero window, bits 0-3 flags (fuzzFlags)
//	1: raw flags when bits 0-3 of byte 0 are fuzzRaw
//	2: sequence number: the sender's next, moved by int8(byte)*16;
//	   0x80 jumps to an arbitrary number made of bytes 3-6
//	3: acknowledgment: the peer's next, moved by int8(byte)*16
//	4-5: payload length (big endian, modulo 4096)
//	6: time step in milliseconds
func fuzzSegments(data []byte) (as []bool, segs []Segment) {
	if len(data) < fuzzHeader {
		return nil, nil
	}
	next := [2]uint32{binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])}
	data = data[fuzzHeader:]
	at := t0
	for len(data) >= fuzzChunk && len(segs) < fuzzMaxSeg {
		ch := data[:fuzzChunk]
		data = data[fuzzChunk:]
		a := ch[0]&0x80 != 0
		me := 1
		if a {
			me = 0
		}
		f := fuzzFlags[ch[0]&0x0f]
		if ch[0]&0x0f == fuzzRaw {
			f = fsm.Flags(ch[1])
		}
		s := Segment{Flags: f, Len: int(binary.BigEndian.Uint16(ch[4:]) % 4096), Window: 512}
		s.Seq = next[me] + uint32(int32(int8(ch[2]))*16)
		if ch[2] == 0x80 {
			s.Seq = binary.BigEndian.Uint32(ch[3:])
		}
		if f.Contains(fsm.ACK) {
			s.Ack = next[1-me] + uint32(int32(int8(ch[3]))*16)
		}
		s.IPLen = 40 + s.Len
		s.BadChecksum = ch[0]&0x40 != 0
		s.PayloadCut = ch[0]&0x20 != 0
		if ch[0]&0x10 != 0 {
			s.Window = 0
		}
		at = at.Add(time.Duration(ch[6]) * time.Millisecond)
		s.Time = at
		adv := uint32(s.Len)
		if f.Contains(fsm.SYN) {
			adv++
		}
		if f.Contains(fsm.FIN) {
			adv++
		}
		next[me] = s.Seq + adv
		as = append(as, a)
		segs = append(segs, s)
	}
	return as, segs
}

// FuzzConn feeds random segment sequences to a Conn and checks, whatever
// they are: nothing panics, the history has only Zeek's TCP letters (and
// A D I Q at most once per direction, at most two flips), conn_state is one
// of the 13 codes, the packet and IP byte counters add up to what was
// given (bad checksums left out), and Add does not allocate.
func FuzzConn(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		as, segs := fuzzSegments(data)
		var c Conn
		if len(data) > 0 && data[0]&1 == 1 {
			c.StartFlipped()
		}
		var pkts, ipBytes uint64
		for i, s := range segs {
			c.Add(as[i], &segs[i])
			if !s.BadChecksum {
				pkts++
				ipBytes += uint64(s.IPLen)
			}
			checkConn(t, &c, i)
		}
		o, r := c.Orig(), c.Resp()
		if o.Pkts+r.Pkts != pkts || o.IPBytes+r.IPBytes != ipBytes {
			t.Fatalf("counted %d packets, %d IP bytes; want %d, %d", o.Pkts+r.Pkts, o.IPBytes+r.IPBytes, pkts, ipBytes)
		}
		allocs := testing.AllocsPerRun(1, func() {
			var c Conn
			for i := range segs {
				c.Add(as[i], &segs[i])
			}
			_ = c.State()
		})
		if allocs != 0 {
			t.Fatalf("%v allocations", allocs)
		}
	})
}

func checkConn(t *testing.T, c *Conn, i int) {
	t.Helper()
	h := c.History()
	for _, l := range h {
		if !strings.ContainsRune("SHADFRCGTWIQ^shadfrcgtwiq", l) {
			t.Fatalf("after segment %d: history %q has the letter %q", i, h, l)
		}
	}
	for _, l := range "ADIQadiq" {
		if n := strings.Count(h, string(l)); n > 1 {
			t.Fatalf("after segment %d: history %q has %d %q", i, h, n, l)
		}
	}
	// A flip at creation and one later (possible when the first segment
	// had a bad checksum); a flip needs an inactive responder, which no
	// flip leaves behind, so there is no third.
	if n := strings.Count(h, "^"); n > 2 {
		t.Fatalf("after segment %d: history %q flips %d times", i, h, n)
	}
	if s := c.State(); !slices.Contains(States[:], s) {
		t.Fatalf("after segment %d: conn_state %q", i, s)
	}
	if c.Duration() < 0 {
		t.Fatalf("after segment %d: negative duration %v", i, c.Duration())
	}
}

// fuzzSeeds are handwritten sequences that reach the interesting paths.
func fuzzSeeds() [][]byte {
	isn := []byte{0, 0, 3, 232, 0, 0, 19, 136} // 1000, 5000
	chunk := func(a bool, flagIdx byte, seqMove, ackMove int8, n uint16) []byte {
		b := flagIdx
		if a {
			b |= 0x80
		}
		return []byte{b, 0, byte(seqMove), byte(ackMove), byte(n >> 8), byte(n), 1}
	}
	join := func(chunks ...[]byte) []byte {
		out := slices.Clone(isn)
		for _, c := range chunks {
			out = append(out, c...)
		}
		return out
	}
	return [][]byte{
		join(chunk(true, 0, 0, 0, 0), chunk(false, 1, 0, 0, 0), chunk(true, 2, 0, 0, 0),
			chunk(true, 3, 0, 0, 100), chunk(false, 2, 0, 0, 0), chunk(true, 4, 0, 0, 0), chunk(false, 4, 0, 0, 0)),
		join(chunk(true, 1, 0, 0, 0), chunk(false, 2, 0, 0, 0), chunk(false, 3, 2, 0, 50), chunk(true, 2, 0, 0, 0)),
		join(chunk(true, 0, 0, 0, 0), chunk(false, 7, 0, 0, 0)),
		join(chunk(true, 3, 0, 0, 10), chunk(true, 3, -1, 0, 10), chunk(false, 2, 0, 4, 0), chunk(true, 13, 0, 0, 0)),
		join(chunk(true, 1, 0, 0, 0), chunk(false, 0, 0, 0, 0), chunk(false, 2, 0, 0, 0)),
	}
}
