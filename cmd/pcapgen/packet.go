package main

// Frames are built by hand into the output buffer: a per-direction template
// of the link and IP headers (copied, then length, ID and checksum patched),
// the TCP header and options, and the payload, a window into a fixed text
// whose checksum comes from prefix sums. Nothing here allocates.

import (
	"encoding/binary"
	"strings"
)

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherVLAN = 0x8100
	protoTCP  = 6

	minFrame = 60 // Ethernet frames shorter than this are padded on the wire (FCS excluded)
)

// TCP flag bits (byte 13 of the header).
const (
	flagFIN uint8 = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
)

var (
	macServer  = [6]byte{0x02, 0, 0, 0, 0, 0x01} // the capturing host
	macGateway = [6]byte{0x02, 0, 0, 0, 0, 0xfe} // its router: every remote frame comes through it
)

// addr is an IPv4 (first 4 bytes) or IPv6 address.
type addr struct {
	b  [16]byte
	v6 bool
}

func (a *addr) bytes() []byte {
	if a.v6 {
		return a.b[:]
	}
	return a.b[:4]
}

// linkIP is the link and IP header of one direction of a connection, with
// the parts of the checksums that do not change from packet to packet.
type linkIP struct {
	b      [62]byte // Ethernet, optional 802.1Q tag, IPv4 or IPv6
	n      int      // bytes used in b
	ip     int      // offset of the IP header
	v6     bool
	ipSum  uint32 // IPv4 header sum without total length, ID and checksum
	pseudo uint32 // TCP pseudo-header sum without the TCP length
	pad    bool   // pad to minFrame: frames received from the wire are padded, frames the capturing host sends are captured before the NIC pads them
}

// set fills the template for packets from src to dst.
func (h *linkIP) set(src, dst *addr, srcMAC, dstMAC *[6]byte, vlan uint16, ttl uint8, flow uint32, pad bool) {
	*h = linkIP{v6: src.v6, pad: pad}
	b := h.b[:]
	copy(b[0:6], dstMAC[:])
	copy(b[6:12], srcMAC[:])
	n := 12
	if vlan != 0 {
		binary.BigEndian.PutUint16(b[n:], etherVLAN)
		binary.BigEndian.PutUint16(b[n+2:], vlan&0x0fff)
		n += 4
	}
	h.ip = n + 2
	ip := b[h.ip:]
	if src.v6 {
		binary.BigEndian.PutUint16(b[n:], etherIPv6)
		binary.BigEndian.PutUint32(ip[0:], 6<<28|flow&0xfffff)
		ip[6], ip[7] = protoTCP, ttl // next header, hop limit; payload length per packet
		copy(ip[8:24], src.b[:])
		copy(ip[24:40], dst.b[:])
		h.n = h.ip + 40
		h.pseudo = sum(ip[8:40], protoTCP)
		return
	}
	binary.BigEndian.PutUint16(b[n:], etherIPv4)
	ip[0] = 0x45                               // version 4, 20-byte header; TOS 0
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF, as Linux sets on TCP
	ip[8], ip[9] = ttl, protoTCP
	copy(ip[12:16], src.b[:4])
	copy(ip[16:20], dst.b[:4])
	h.n = h.ip + 20
	h.ipSum = sum(ip[:20], 0)
	h.pseudo = sum(ip[12:20], protoTCP)
}

// tcpHeader is what varies from segment to segment.
type tcpHeader struct {
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	win          uint16
	opts         [40]byte
	optLen       int
}

// Option builders, in the order Linux writes them.

func (t *tcpHeader) nop() { t.opts[t.optLen] = 1; t.optLen++ }

func (t *tcpHeader) mss(v uint16) {
	o := t.opts[t.optLen:]
	o[0], o[1] = 2, 4
	binary.BigEndian.PutUint16(o[2:], v)
	t.optLen += 4
}

func (t *tcpHeader) sackOK() {
	t.opts[t.optLen], t.opts[t.optLen+1] = 4, 2
	t.optLen += 2
}

func (t *tcpHeader) timestamps(val, ecr uint32) {
	o := t.opts[t.optLen:]
	o[0], o[1] = 8, 10
	binary.BigEndian.PutUint32(o[2:], val)
	binary.BigEndian.PutUint32(o[6:], ecr)
	t.optLen += 10
}

func (t *tcpHeader) wscale(v uint8) {
	o := t.opts[t.optLen:]
	o[0], o[1], o[2] = 3, 3, v
	t.optLen += 3
}

func (t *tcpHeader) sack(left, right uint32) {
	o := t.opts[t.optLen:]
	o[0], o[1] = 5, 10
	binary.BigEndian.PutUint32(o[2:], left)
	binary.BigEndian.PutUint32(o[6:], right)
	t.optLen += 10
}

// frameLen is the length of the frame carrying t and n payload bytes.
func frameLen(h *linkIP, t *tcpHeader, n int) int {
	l := h.n + 20 + t.optLen + n
	if h.pad && l < minFrame {
		l = minFrame
	}
	return l
}

// build writes the frame into b (exactly frameLen bytes). payloadSum is the
// checksum sum of payload, which the caller may have precomputed.
func build(b []byte, h *linkIP, t *tcpHeader, ipID uint16, payload []byte, payloadSum uint32) {
	copy(b, h.b[:h.n])
	tcpLen := 20 + t.optLen + len(payload)
	ip := b[h.ip:]
	if h.v6 {
		binary.BigEndian.PutUint16(ip[4:], uint16(tcpLen))
	} else {
		total := uint16(20 + tcpLen)
		binary.BigEndian.PutUint16(ip[2:], total)
		binary.BigEndian.PutUint16(ip[4:], ipID)
		binary.BigEndian.PutUint16(ip[10:], ^fold(h.ipSum+uint32(total)+uint32(ipID)))
	}
	th := b[h.n:]
	binary.BigEndian.PutUint16(th[0:], t.sport)
	binary.BigEndian.PutUint16(th[2:], t.dport)
	binary.BigEndian.PutUint32(th[4:], t.seq)
	binary.BigEndian.PutUint32(th[8:], t.ack)
	th[12] = byte((20+t.optLen)/4) << 4
	th[13] = t.flags
	binary.BigEndian.PutUint16(th[14:], t.win)
	th[16], th[17], th[18], th[19] = 0, 0, 0, 0 // checksum, urgent pointer
	copy(th[20:], t.opts[:t.optLen])
	hl := 20 + t.optLen
	copy(th[hl:], payload)
	s := sum(th[:hl], h.pseudo+uint32(tcpLen)) + payloadSum
	binary.BigEndian.PutUint16(th[16:], ^fold(s))
	clear(th[hl+len(payload):]) // padding
}

// sum adds b to s as big-endian 16-bit words (an odd last byte is the high
// half of a word), the Internet checksum's running sum.
func sum(b []byte, s uint32) uint32 {
	acc := uint64(s)
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		acc += v>>32 + v&0xffffffff
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return fold64(acc)
}

// fold64 folds a 64-bit sum to a 32-bit one with the same value modulo
// 0xffff (small enough to keep adding to).
func fold64(acc uint64) uint32 {
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	return uint32(acc>>16 + acc&0xffff) // ≤ 0x1fffe... + carries: fits easily
}

// fold folds a sum to 16 bits.
func fold(s uint32) uint16 {
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// text is a payload source: byte k of a stream is data[k mod period]. The
// data is extended by one maximal payload so that any payload is a single
// slice, and prefix sums give the checksum of any slice in O(1).
type text struct {
	data []byte
	even []uint64 // even[k]: sum of the words at 0, 2, ..., 2k-2
	odd  []uint64 // odd[k]: sum of the words at 1, 3, ..., 2k-1
}

const (
	textPeriod = 1 << 16
	maxPayload = 1 << 16
)

func newText(pattern string) *text {
	var b strings.Builder
	for b.Len() < textPeriod+maxPayload+1 {
		b.WriteString(pattern)
	}
	t := &text{data: []byte(b.String()[:textPeriod+maxPayload+1])}
	words := (len(t.data) - 1) / 2
	t.even = make([]uint64, words+1)
	t.odd = make([]uint64, words+1)
	for k := 0; k < words; k++ {
		t.even[k+1] = t.even[k] + uint64(binary.BigEndian.Uint16(t.data[2*k:]))
		t.odd[k+1] = t.odd[k] + uint64(binary.BigEndian.Uint16(t.data[2*k+1:]))
	}
	return t
}

// at returns n bytes of the stream from offset off, and their checksum sum.
func (t *text) at(off uint32, n int) ([]byte, uint32) {
	o := int(off % textPeriod)
	b := t.data[o : o+n]
	var s uint64
	if o%2 == 0 {
		s = t.even[(o+n)/2] - t.even[o/2]
	} else {
		s = t.odd[(o-1+n)/2] - t.odd[(o-1)/2]
	}
	if n%2 == 1 {
		s += uint64(b[n-1]) << 8
	}
	return b, fold64(s)
}
