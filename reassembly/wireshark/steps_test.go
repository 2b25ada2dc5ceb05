package wireshark

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// t0 is when every hand-made sequence starts.
var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// step is one segment of a hand-made sequence and the flags Wireshark
// gives it. c2s and s2c make one; the methods below add to it.
type step struct {
	from int // 0: client to server, 1: server to client
	seg  Segment
	want verdict
	port uint16 // the client's port; 0 for 40000
}

// c2s and s2c make a segment from the client or from the server: flags in
// tcpdump's letters (S, F, R, P, and A for ACK), seq, ack, payload length
// and raw window. It has no options, and timeline sends it 1 ms after the
// previous step unless at gives its time.
func c2s(flags string, seq, ack, n uint32, win uint16) step {
	return mkstep(0, flags, seq, ack, n, win)
}

func s2c(flags string, seq, ack, n uint32, win uint16) step {
	return mkstep(1, flags, seq, ack, n, win)
}

var flagLetters = map[rune]fsm.Flags{'S': fsm.SYN, 'F': fsm.FIN, 'R': fsm.RST, 'P': fsm.PSH, 'A': fsm.ACK}

func mkstep(from int, flags string, seq, ack, n uint32, win uint16) step {
	var f fsm.Flags
	for _, l := range flags {
		f |= flagLetters[l]
	}
	return step{from: from, seg: Segment{
		Segment: fsm.Segment{Seq: fsm.Seq(seq), Ack: fsm.Seq(ack), Flags: f, Len: n, Window: win, WScale: -1},
	}}
}

// ws adds a window-scale option, tfo a TCP Fast Open cookie.
func (s step) ws(shift int8) step { s.seg.WScale = shift; return s }
func (s step) tfo() step          { s.seg.TFOCookie = true; return s }

// at sends the segment d after t0.
func (s step) at(d time.Duration) step { s.seg.Time = t0.Add(d); return s }

// is gives the flags Wireshark sets on the segment; dup gives them as a
// duplicate ACK with its number.
func (s step) is(f Flags) step { s.want.flags = f; return s }
func (s step) dup(n uint32) step {
	s.want = verdict{DuplicateAck, n}
	return s
}

func (s step) String() string {
	dir := "c2s"
	if s.from == 1 {
		dir = "s2c"
	}
	return fmt.Sprintf("%s %-2s seq %d ack %d len %d win %d", dir, s.seg.Flags, s.seg.Seq, s.seg.Ack, s.seg.Len, s.seg.Window)
}

// ms is n milliseconds.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// timeline gives every step without a time one 1 ms after the previous
// step (the first at t0).
func timeline(steps []step) []step {
	out := make([]step, len(steps))
	prev := t0.Add(-time.Millisecond)
	for i, s := range steps {
		if s.seg.Time.IsZero() {
			s.seg.Time = prev.Add(time.Millisecond)
		}
		prev = s.seg.Time
		out[i] = s
	}
	return out
}

// writePcap writes steps as a pcap file of raw IPv4 packets (LINKTYPE_RAW,
// nanosecond timestamps), for tshark to analyse the same segments. The
// client is 192.0.2.1 at the step's port, the server 198.51.100.1:80.
// Payload bytes are zeros; TCP checksums are zero (tshark does not check
// them unless asked to). A snaplen above 0 cuts the packets longer than it,
// as a capture with that snaplen would.
func writePcap(t testing.TB, path string, steps []step, snaplen int) {
	t.Helper()
	b := make([]byte, 0, 24+len(steps)*80)
	b = binary.LittleEndian.AppendUint32(b, 0xa1b23c4d) // pcap, nanosecond timestamps
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint64(b, 0) // thiszone, sigfigs
	b = binary.LittleEndian.AppendUint32(b, uint32(cmp.Or(snaplen, 262144)))
	b = binary.LittleEndian.AppendUint32(b, 101) // LINKTYPE_RAW
	for _, s := range steps {
		pkt := packet(s)
		ns := s.seg.Time.UnixNano()
		b = binary.LittleEndian.AppendUint32(b, uint32(ns/1e9))
		b = binary.LittleEndian.AppendUint32(b, uint32(ns%1e9))
		caplen := len(pkt)
		if snaplen > 0 {
			caplen = min(caplen, snaplen)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(caplen))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pkt)))
		b = append(b, pkt[:caplen]...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// packet builds the IPv4 packet of a step (RFC 791 section 3.1, RFC 9293
// section 3.1; window scale RFC 7323 section 2.2, Fast Open RFC 7413
// section 4.1.1).
func packet(s step) []byte {
	var opts []byte
	if s.seg.WScale >= 0 {
		opts = append(opts, 1, 3, 3, byte(s.seg.WScale)) // NOP, window scale
	}
	if s.seg.TFOCookie {
		opts = append(opts, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1) // an 8-byte cookie, NOP, NOP
	}
	client, server := [4]byte{192, 0, 2, 1}, [4]byte{198, 51, 100, 1}
	cport := s.port
	if cport == 0 {
		cport = 40000
	}
	src, dst, sport, dport := client, server, cport, uint16(80)
	if s.from == 1 {
		src, dst, sport, dport = server, client, 80, cport
	}
	hlen := 20 + len(opts)
	total := 20 + hlen + int(s.seg.Len)

	p := make([]byte, 20, total)
	p[0] = 0x45 // version 4, 5 words
	binary.BigEndian.PutUint16(p[2:], uint16(total))
	p[8] = 64 // TTL
	p[9] = 6  // TCP
	copy(p[12:], src[:])
	copy(p[16:], dst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))

	p = binary.BigEndian.AppendUint16(p, sport)
	p = binary.BigEndian.AppendUint16(p, dport)
	p = binary.BigEndian.AppendUint32(p, uint32(s.seg.Seq))
	p = binary.BigEndian.AppendUint32(p, uint32(s.seg.Ack))
	p = append(p, byte(hlen/4)<<4, byte(s.seg.Flags))
	p = binary.BigEndian.AppendUint16(p, s.seg.Window)
	p = append(p, 0, 0, 0, 0) // checksum, urgent pointer
	p = append(p, opts...)
	return append(p, make([]byte, s.seg.Len)...)
}
