package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frames as a Linux host sends them, checksums and all (written with
// gopacket's serializer, so gopacket agrees on every field).
var (
	// Ethernet, IPv4 (DF), TCP SYN 192.0.2.1:41952 > 198.51.100.7:80 with
	// MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
	frameSYN4 = mustHex(`
		525400abcdef 525400123456 0800
		4500003c 1c464000 4006323a c0000201 c6336407
		a3e00050 9a2b3c4d 00000000 a002faf0 afd10000
		020405b4 0402080a 0a1b2c3d 00000000 01030307`)
	// Ethernet, IPv6, TCP SYN-ACK [2001:db8::7]:443 > [2001:db8::1]:50622
	// with MSS 1440, SACK permitted, timestamps, NOP, window scale 10.
	frameSYNACK6 = mustHex(`
		525400123456 525400abcdef 86dd
		60000000 00280640
		20010db8000000000000000000000007
		20010db8000000000000000000000001
		01bbc5be 11223344 55667788 a012fe88 ae9e0000
		020405a0 0402080a 00003039 0a1b2c3d 0103030a`)
	// Ethernet, IPv4, TCP PSH-ACK with NOP, NOP, timestamps and a 37-byte
	// HTTP request.
	frameData4 = mustHex(`
		525400abcdef 525400123456 0800
		45000059 1c474000 4006321c c0000201 c6336407
		a3e00050 9a2b3c4e 11223345 801801f6 1a0e0000
		0101080a 0a1b2c45 00003039
		474554202f20485454502f312e310d0a486f73743a206578616d706c652e636f6d0d0a0d0a`)
	// Ethernet, IPv4, TCP RST-ACK, padded with zeros to Ethernet's
	// 60-byte minimum.
	frameRST4 = mustHex(`
		525400123456 525400abcdef 0800
		45000028 1c484000 4006324c c6336407 c0000201
		0050a3e0 11223345 9a2b3c73 50140000 045e0000
		000000000000`)
)

// The segments in those frames.
var (
	segSYN4 = Segment{
		Src:    netip.MustParseAddrPort("192.0.2.1:41952"),
		Dst:    netip.MustParseAddrPort("198.51.100.7:80"),
		Seq:    0x9a2b3c4d,
		Flags:  FlagSYN,
		Window: 64240,
		IPLen:  60,
		Opts: Options{
			Has: OptMSS | OptSACKPermitted | OptTimestamps | OptWScale,
			MSS: 1460, WScale: 7, TSVal: 0x0a1b2c3d,
		},
		Payload: []byte{},
	}
	segSYNACK6 = Segment{
		Src:    netip.MustParseAddrPort("[2001:db8::7]:443"),
		Dst:    netip.MustParseAddrPort("[2001:db8::1]:50622"),
		Seq:    0x11223344,
		Ack:    0x55667788,
		Flags:  FlagSYN | FlagACK,
		Window: 65160,
		IPLen:  80,
		Opts: Options{
			Has: OptMSS | OptSACKPermitted | OptTimestamps | OptWScale,
			MSS: 1440, WScale: 10, TSVal: 0x3039, TSEcr: 0x0a1b2c3d,
		},
		Payload: []byte{},
	}
	segData4 = Segment{
		Src:        netip.MustParseAddrPort("192.0.2.1:41952"),
		Dst:        netip.MustParseAddrPort("198.51.100.7:80"),
		Seq:        0x9a2b3c4e,
		Ack:        0x11223345,
		Flags:      FlagPSH | FlagACK,
		Window:     502,
		PayloadLen: 37,
		IPLen:      89,
		Opts:       Options{Has: OptTimestamps, TSVal: 0x0a1b2c45, TSEcr: 0x3039},
		Payload:    []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	}
	segRST4 = Segment{
		Src:     netip.MustParseAddrPort("198.51.100.7:80"),
		Dst:     netip.MustParseAddrPort("192.0.2.1:41952"),
		Seq:     0x11223345,
		Ack:     0x9a2b3c73,
		Flags:   FlagRST | FlagACK,
		IPLen:   40,
		Payload: []byte{}, // the padding is not payload
	}
)

// mustHex decodes hex with spaces and newlines in it.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// cat joins byte slices into a new one.
func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// ip returns the IP packet in an Ethernet frame.
func ip(frame []byte) []byte { return frame[14:] }

// ether wraps payload in an Ethernet header with the given EtherTypes: the
// last is the payload's, the ones before it are VLAN tag protocol IDs.
func ether(payload []byte, types ...uint16) []byte {
	b := mustHex("525400abcdef 525400123456")
	for i, t := range types {
		b = binary.BigEndian.AppendUint16(b, t)
		if i < len(types)-1 {
			b = binary.BigEndian.AppendUint16(b, uint16(100+i)) // tag control: VLAN 100+i
		}
	}
	return cat(b, payload)
}

// snap wraps payload in an IEEE 802.3 frame with an LLC/SNAP header (RFC 1042).
func snap(payload []byte, oui []byte, et uint16) []byte {
	llc := cat([]byte{0xaa, 0xaa, 0x03}, oui, binary.BigEndian.AppendUint16(nil, et))
	return cat(mustHex("525400abcdef 525400123456"),
		binary.BigEndian.AppendUint16(nil, uint16(len(llc)+len(payload))), llc, payload)
}

// snapSAPs sets the DSAP and SSAP of a frame snap made.
func snapSAPs(frame []byte, dsap, ssap byte) []byte {
	frame[14], frame[15] = dsap, ssap
	return frame
}

// snapControl sets the LLC control byte of a frame snap made.
func snapControl(frame []byte, control byte) []byte {
	frame[16] = control
	return frame
}

// sll wraps payload in a Linux cooked header (LINKTYPE_LINUX_SLL).
func sll(payload []byte, proto uint16) []byte {
	return cat(mustHex("0000 0001 0006 525400123456 0000"), binary.BigEndian.AppendUint16(nil, proto), payload)
}

// sll2 wraps payload in a Linux cooked v2 header (LINKTYPE_LINUX_SLL2).
func sll2(payload []byte, proto uint16) []byte {
	return cat(binary.BigEndian.AppendUint16(nil, proto), mustHex("0000 00000002 0001 00 06 525400123456 0000"), payload)
}

// null wraps payload in a BSD loopback header with af in the given order.
func null(payload []byte, order binary.AppendByteOrder, af uint32) []byte {
	return cat(order.AppendUint32(nil, af), payload)
}

// with returns a copy of b with the bytes at off replaced by v.
func with(b []byte, off int, v ...byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], v)
	return c
}

// ext is an IPv6 extension header: its protocol number and its bytes after
// the next-header byte, which v6ext fills in.
type ext struct {
	proto byte
	body  []byte
}

var (
	extHopByHop = ext{protoHopByHop, mustHex("00 0104 00000000")}                             // PadN
	extRouting  = ext{protoRouting, mustHex("00 fd 00 00000000")}                             // experimental type, no segments left
	extDstOpts  = ext{protoDstOpts, mustHex("01 010c 000000000000000000000000")}              // 16 bytes, PadN
	extAH       = ext{protoAH, mustHex("04 0000 00001000 00000001 000000000000000000000000")} // 24 bytes: (4+2)*4
	extMobility = ext{protoMobility, mustHex("00 00 00 0000 0000")}
	extAtomic   = ext{protoFragment, mustHex("00 0000 12345678")} // offset 0, M clear (RFC 6946)
	extFirstFrg = ext{protoFragment, mustHex("00 0001 12345678")} // offset 0, M set
	extLaterFrg = ext{protoFragment, mustHex("00 00b8 12345678")} // offset 23
)

// v6ext returns the IPv6 packet of frameSYNACK6 with hdrs inserted between
// the fixed header and the TCP header.
func v6ext(hdrs ...ext) []byte {
	p := ip(frameSYNACK6)
	fixed, tcp := bytes.Clone(p[:40]), p[40:]
	var chain []byte
	for i, h := range hdrs {
		next := byte(protoTCP)
		if i+1 < len(hdrs) {
			next = hdrs[i+1].proto
		}
		chain = append(append(chain, next), h.body...)
	}
	if len(hdrs) > 0 {
		fixed[6] = hdrs[0].proto
	}
	binary.BigEndian.PutUint16(fixed[4:], uint16(len(chain)+len(tcp)))
	return cat(fixed, chain, tcp)
}

// v4opts returns the IPv4 packet of frameSYN4 with IP options added.
func v4opts(opts []byte) []byte {
	p := ip(frameSYN4)
	h := bytes.Clone(p[:20])
	h[0] = 0x40 | byte((20+len(opts))/4)
	binary.BigEndian.PutUint16(h[2:], uint16(len(p)+len(opts)))
	return cat(h, opts, p[20:])
}

// tcpOpts returns frameSYN4 with its options replaced by opts (padded with
// EOL to a multiple of 4) and the lengths fixed.
func tcpOpts(opts []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	f := cat(frameSYN4[:14+20+20], opts)
	binary.BigEndian.PutUint16(f[14+2:], uint16(20+20+len(opts)))
	f[14+20+12] = byte((20+len(opts))/4) << 4
	return f
}

// setTotal returns an Ethernet IPv4 frame with the total length replaced.
func setTotal(frame []byte, total uint16) []byte {
	return with(frame, 14+2, byte(total>>8), byte(total))
}

// setDoff returns an Ethernet IPv4 frame with the TCP data offset replaced.
func setDoff(frame []byte, words byte) []byte {
	off := 14 + int(frame[14]&0x0f)*4 + 12
	return with(frame, off, words<<4|frame[off]&0x0f)
}

// segWith returns s changed by f.
func segWith(s Segment, f func(*Segment)) Segment {
	f(&s)
	return s
}

// sameSegment compares segments, treating a nil and an empty Payload alike.
func sameSegment(a, b Segment) bool {
	pa, pb := a.Payload, b.Payload
	a.Payload, b.Payload = nil, nil
	return reflect.DeepEqual(a, b) && bytes.Equal(pa, pb)
}

type decodeTest struct {
	name  string
	lt    layers.LinkType
	data  []byte
	class Class
	seg   Segment // checked when class is ClassTCP
}

var decodeTests = []decodeTest{
	// Every link type, carrying the same packets.
	{"ethernet/ipv4 syn", layers.LinkTypeEthernet, frameSYN4, ClassTCP, segSYN4},
	{"ethernet/ipv6 syn-ack", layers.LinkTypeEthernet, frameSYNACK6, ClassTCP, segSYNACK6},
	{"ethernet/ipv4 data", layers.LinkTypeEthernet, frameData4, ClassTCP, segData4},
	{"ethernet/ipv4 rst padded", layers.LinkTypeEthernet, frameRST4, ClassTCP, segRST4},
	{"ethernet trailer after data", layers.LinkTypeEthernet, cat(frameData4, []byte("FCS!")), ClassTCP, segData4},
	{"802.1q", layers.LinkTypeEthernet, ether(ip(frameSYN4), 0x8100, 0x0800), ClassTCP, segSYN4},
	{"802.1ad qinq", layers.LinkTypeEthernet, ether(ip(frameSYNACK6), 0x88a8, 0x8100, 0x86dd), ClassTCP, segSYNACK6},
	{"0x9100 qinq", layers.LinkTypeEthernet, ether(ip(frameSYN4), 0x9100, 0x8100, 0x0800), ClassTCP, segSYN4},
	{"8 vlan tags", layers.LinkTypeEthernet, ether(ip(frameSYN4), 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x0800), ClassTCP, segSYN4},
	{"9 vlan tags", layers.LinkTypeEthernet, ether(ip(frameSYN4), 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x0800), ClassMalformed, Segment{}},
	{"vlan cut in tag", layers.LinkTypeEthernet, ether(nil, 0x8100, 0x0800)[:16], ClassTruncated, Segment{}},
	{"llc/snap ipv4", layers.LinkTypeEthernet, snap(ip(frameSYN4), []byte{0, 0, 0}, 0x0800), ClassTCP, segSYN4},
	{"llc/snap other oui", layers.LinkTypeEthernet, snap(ip(frameSYN4), []byte{0, 0, 0x0c}, 0x0800), ClassNotIP, Segment{}},
	{"llc/snap group dsap, response ssap", layers.LinkTypeEthernet, snapSAPs(snap(ip(frameSYN4), []byte{0, 0, 0}, 0x0800), 0xab, 0xab), ClassTCP, segSYN4},
	{"llc/snap other sap", layers.LinkTypeEthernet, snapSAPs(snap(ip(frameSYN4), []byte{0, 0, 0}, 0x0800), 0xa8, 0xaa), ClassNotIP, Segment{}},
	{"llc/snap i-format control", layers.LinkTypeEthernet, snapControl(snap(ip(frameSYN4), []byte{0, 0, 0}, 0x0800), 0x02), ClassNotIP, Segment{}},
	{"llc stp, cut", layers.LinkTypeEthernet, cat(frameSYN4[:12], mustHex("0026 4242")), ClassNotIP, Segment{}},
	{"llc snap, cut", layers.LinkTypeEthernet, cat(frameSYN4[:12], mustHex("0026 aaaa0300 0000")), ClassTruncated, Segment{}},
	{"llc stp", layers.LinkTypeEthernet, cat(frameSYN4[:12], mustHex("0026 424203 0000000000000000")), ClassNotIP, Segment{}},
	{"arp", layers.LinkTypeEthernet, ether(mustHex("0001 0800 0604 0001 525400123456 c0000201 000000000000 c6336407"), 0x0806), ClassNotIP, Segment{}},
	{"linux sll ipv4", layers.LinkTypeLinuxSLL, sll(ip(frameSYN4), 0x0800), ClassTCP, segSYN4},
	{"linux sll ipv6", layers.LinkTypeLinuxSLL, sll(ip(frameSYNACK6), 0x86dd), ClassTCP, segSYNACK6},
	{"linux sll vlan", layers.LinkTypeLinuxSLL, sll(cat(mustHex("0064 0800"), ip(frameSYN4)), 0x8100), ClassTCP, segSYN4},
	{"linux sll 802.2", layers.LinkTypeLinuxSLL, sll(mustHex("424203 0000"), 0x0004), ClassNotIP, Segment{}},
	{"linux sll2 ipv4", layers.LinkTypeLinuxSLL2, sll2(ip(frameData4), 0x0800), ClassTCP, segData4},
	{"linux sll2 ipv6", layers.LinkTypeLinuxSLL2, sll2(ip(frameSYNACK6), 0x86dd), ClassTCP, segSYNACK6},
	{"raw ipv4", layers.LinkTypeRaw, ip(frameSYN4), ClassTCP, segSYN4},
	{"raw ipv6", layers.LinkTypeRaw, ip(frameSYNACK6), ClassTCP, segSYNACK6},
	{"bsd raw 12", 12, ip(frameSYNACK6), ClassTCP, segSYNACK6},
	{"openbsd raw 14", 14, ip(frameSYN4), ClassTCP, segSYN4},
	{"raw version 5", layers.LinkTypeRaw, with(ip(frameSYN4), 0, 0x55), ClassMalformed, Segment{}},
	{"ipv4 link type", layers.LinkTypeIPv4, ip(frameSYN4), ClassTCP, segSYN4},
	{"ipv4 link type, ipv6 inside", layers.LinkTypeIPv4, ip(frameSYNACK6), ClassMalformed, Segment{}},
	{"ipv6 link type", layers.LinkTypeIPv6, ip(frameSYNACK6), ClassTCP, segSYNACK6},
	{"ipv6 link type, ipv4 inside", layers.LinkTypeIPv6, ip(frameSYN4), ClassMalformed, Segment{}},
	{"null af 2 little endian", layers.LinkTypeNull, null(ip(frameSYN4), binary.LittleEndian, 2), ClassTCP, segSYN4},
	{"null af 2 big endian", layers.LinkTypeNull, null(ip(frameSYN4), binary.BigEndian, 2), ClassTCP, segSYN4},
	{"null af 24", layers.LinkTypeNull, null(ip(frameSYNACK6), binary.LittleEndian, 24), ClassTCP, segSYNACK6},
	{"null af 28 big endian", layers.LinkTypeNull, null(ip(frameSYNACK6), binary.BigEndian, 28), ClassTCP, segSYNACK6},
	{"null af 30", layers.LinkTypeNull, null(ip(frameSYNACK6), binary.LittleEndian, 30), ClassTCP, segSYNACK6},
	{"null af 10", layers.LinkTypeNull, null(ip(frameSYNACK6), binary.LittleEndian, 10), ClassTCP, segSYNACK6},
	{"null af 7", layers.LinkTypeNull, null(ip(frameSYN4), binary.LittleEndian, 7), ClassNotIP, Segment{}},
	{"null af 2, ipv6 inside", layers.LinkTypeNull, null(ip(frameSYNACK6), binary.LittleEndian, 2), ClassMalformed, Segment{}},
	{"loop af 2", layers.LinkTypeLoop, null(ip(frameSYN4), binary.BigEndian, 2), ClassTCP, segSYN4},
	{"loop af 30", layers.LinkTypeLoop, null(ip(frameSYNACK6), binary.BigEndian, 30), ClassTCP, segSYNACK6},
	{"loop little endian", layers.LinkTypeLoop, null(ip(frameSYN4), binary.LittleEndian, 2), ClassNotIP, Segment{}},
	{"unknown link type", layers.LinkTypeIEEE802_11, frameSYN4, ClassUnknownLink, Segment{}},
	{"unknown link type, empty", 65535, nil, ClassUnknownLink, Segment{}},

	// IPv4.
	{"ipv4 options", layers.LinkTypeRaw, v4opts(mustHex("94040000")), ClassTCP, segWith(segSYN4, func(s *Segment) { s.IPLen = 64 })},
	{"ipv4 40 bytes of options", layers.LinkTypeRaw, v4opts(bytes.Repeat([]byte{1}, 40)), ClassTCP, segWith(segSYN4, func(s *Segment) { s.IPLen = 100 })},
	{"ipv4 ihl 4", layers.LinkTypeEthernet, with(frameSYN4, 14, 0x44), ClassMalformed, Segment{}},
	{"ipv4 ihl 0", layers.LinkTypeEthernet, with(frameSYN4, 14, 0x40), ClassMalformed, Segment{}},
	{"ipv4 ihl 15, short", layers.LinkTypeEthernet, with(frameSYN4, 14, 0x4f)[:14+40], ClassTruncated, Segment{}},
	{"ipv4 ihl 15, total 60", layers.LinkTypeEthernet, with(frameSYN4, 14, 0x4f), ClassMalformed, Segment{}},
	{"ipv4 ihl 15, total 59", layers.LinkTypeEthernet, setTotal(with(frameSYN4, 14, 0x4f), 59), ClassMalformed, Segment{}},
	{"ipv4 version 6 in 0x0800", layers.LinkTypeEthernet, with(frameSYN4, 14, 0x65), ClassMalformed, Segment{}},
	{"ipv4 more fragments", layers.LinkTypeEthernet, with(frameSYN4, 14+6, 0x20), ClassFragment, Segment{}},
	{"ipv4 fragment offset", layers.LinkTypeEthernet, with(frameSYN4, 14+6, 0x00, 0xb9), ClassFragment, Segment{}},
	{"ipv4 fragment, cut", layers.LinkTypeEthernet, with(frameSYN4, 14+6, 0x00, 0xb9)[:14+20], ClassFragment, Segment{}},
	{"ipv4 df only", layers.LinkTypeEthernet, with(frameSYN4, 14+6, 0x40, 0x00), ClassTCP, segSYN4},
	{"ipv4 udp", layers.LinkTypeEthernet, with(frameSYN4, 14+9, 17), ClassNotTCP, Segment{}},
	{"ipv4 icmp, cut", layers.LinkTypeEthernet, with(frameSYN4, 14+9, 1)[:14+20], ClassNotTCP, Segment{}},
	{"ipv4 total 0 (tso)", layers.LinkTypeEthernet, setTotal(frameData4, 0), ClassTCP, segData4},
	{"ipv4 total 0, padded", layers.LinkTypeEthernet, setTotal(frameRST4, 0), ClassTCP, segWith(segRST4, func(s *Segment) {
		s.IPLen, s.PayloadLen, s.Payload = 46, 6, make([]byte, 6) // the padding cannot be told from payload
	})},
	{"ipv4 total 0, cut in options", layers.LinkTypeEthernet, setTotal(frameSYN4, 0)[:14+20+30], ClassTCP, segWith(segSYN4, func(s *Segment) {
		s.IPLen, s.HeaderTruncated, s.Payload = 50, true, nil
		s.Opts = Options{Has: OptMSS | OptSACKPermitted, MSS: 1460}
	})},
	{"ipv4 total 65535, snaplen cut", layers.LinkTypeEthernet, setTotal(frameData4, 65535), ClassTCP, segWith(segData4, func(s *Segment) {
		s.IPLen, s.PayloadLen = 65535, 65535-20-32
	})},
	{"ipv4 total 39", layers.LinkTypeEthernet, setTotal(frameRST4, 39), ClassMalformed, Segment{}},
	{"ipv4 total 19", layers.LinkTypeEthernet, setTotal(frameRST4, 19), ClassMalformed, Segment{}},
	{"ipv4 total 1", layers.LinkTypeEthernet, setTotal(frameRST4, 1), ClassMalformed, Segment{}},
	{"ipv4 total shorter than tcp header", layers.LinkTypeEthernet, setTotal(frameSYN4, 50), ClassMalformed, Segment{}},

	// IPv6 extension headers.
	{"ipv6 hop-by-hop", layers.LinkTypeRaw, v6ext(extHopByHop), ClassTCP, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 88 })},
	{"ipv6 routing, dstopts", layers.LinkTypeRaw, v6ext(extRouting, extDstOpts), ClassTCP, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 104 })},
	{"ipv6 ah", layers.LinkTypeRaw, v6ext(extAH), ClassTCP, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 104 })},
	{"ipv6 mobility", layers.LinkTypeRaw, v6ext(extMobility), ClassTCP, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 88 })},
	{"ipv6 all of them", layers.LinkTypeRaw, v6ext(extHopByHop, extDstOpts, extRouting, extAH, extMobility, extAtomic, extDstOpts), ClassTCP,
		segWith(segSYNACK6, func(s *Segment) { s.IPLen = 80 + 8 + 16 + 8 + 24 + 8 + 8 + 16 })},
	{"ipv6 atomic fragment", layers.LinkTypeRaw, v6ext(extAtomic), ClassTCP, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 88 })},
	{"ipv6 first fragment", layers.LinkTypeRaw, v6ext(extFirstFrg), ClassFragment, Segment{}},
	{"ipv6 later fragment", layers.LinkTypeRaw, v6ext(extHopByHop, extLaterFrg), ClassFragment, Segment{}},
	{"ipv6 8 extension headers", layers.LinkTypeRaw, v6ext(extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts), ClassTCP,
		segWith(segSYNACK6, func(s *Segment) { s.IPLen = 80 + 8*16 })},
	{"ipv6 9 extension headers", layers.LinkTypeRaw, v6ext(extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts, extDstOpts), ClassMalformed, Segment{}},
	{"ipv6 ext header past payload length", layers.LinkTypeRaw, with(v6ext(extHopByHop), 41, 200), ClassMalformed, Segment{}},
	{"ipv6 ext header past capture", layers.LinkTypeRaw, with(with(v6ext(extHopByHop), 4, 0x10, 0x00), 41, 200), ClassTruncated, Segment{}},
	{"ipv6 esp", layers.LinkTypeRaw, with(ip(frameSYNACK6), 6, 50), ClassNotTCP, Segment{}},
	{"ipv6 no next header", layers.LinkTypeRaw, with(ip(frameSYNACK6), 6, 59), ClassNotTCP, Segment{}},
	{"ipv6 icmpv6, cut", layers.LinkTypeRaw, with(ip(frameSYNACK6), 6, 58)[:40], ClassNotTCP, Segment{}},
	{"ipv6 payload length 0", layers.LinkTypeRaw, with(ip(frameSYNACK6), 4, 0, 0), ClassTCP, segSYNACK6},
	{"ipv6 payload length 65535", layers.LinkTypeRaw, with(ip(frameSYNACK6), 4, 0xff, 0xff), ClassTCP, segWith(segSYNACK6, func(s *Segment) {
		s.IPLen, s.PayloadLen = 40+65535, 65535-40
	})},
	{"ipv6 payload length 19", layers.LinkTypeRaw, with(ip(frameSYNACK6), 4, 0, 19), ClassMalformed, Segment{}},
	{"ipv6 payload length shorter than tcp header", layers.LinkTypeRaw, with(ip(frameSYNACK6), 4, 0, 39), ClassMalformed, Segment{}},
	{"ipv4-mapped addresses stay mapped", layers.LinkTypeRaw, with(ip(frameSYNACK6), 8,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1), ClassTCP, segWith(segSYNACK6, func(s *Segment) {
		s.Src = netip.MustParseAddrPort("[::ffff:192.0.2.1]:443")
	})},

	// TCP header.
	{"tcp doff 4", layers.LinkTypeEthernet, setDoff(frameRST4, 4), ClassMalformed, Segment{}},
	{"tcp doff 0", layers.LinkTypeEthernet, setDoff(frameRST4, 0), ClassMalformed, Segment{}},
	{"tcp doff 15, ip length too short", layers.LinkTypeEthernet, setDoff(frameSYN4, 15), ClassMalformed, Segment{}},
	{"tcp doff 15, snaplen cut", layers.LinkTypeEthernet, setTotal(setDoff(frameSYN4, 15), 1500), ClassTCP, segWith(segSYN4, func(s *Segment) {
		s.IPLen, s.PayloadLen, s.HeaderTruncated, s.Payload = 1500, 1500-20-60, true, nil
	})},
	{"tcp cut in options", layers.LinkTypeEthernet, frameSYN4[:14+20+20+7], ClassTCP, segWith(segSYN4, func(s *Segment) {
		s.HeaderTruncated, s.Payload = true, nil
		s.Opts = Options{Has: OptMSS | OptSACKPermitted, MSS: 1460}
	})},
	{"tcp all flags", layers.LinkTypeEthernet, with(frameRST4, 14+20+13, 0xff), ClassTCP, segWith(segRST4, func(s *Segment) { s.Flags = 0xff })},
}

// optionTests check the TCP option parser; the frames are frameSYN4 with
// other options.
var optionTests = []struct {
	name string
	opts []byte
	want Options
}{
	{"none", nil, Options{}},
	{"eol first", mustHex("00 020405b4"), Options{}},
	{"nops", mustHex("010101 020405b4"), Options{Has: OptMSS, MSS: 1460}},
	{"mss bad length skipped", mustHex("020305 030307"), Options{Has: OptWScale, WScale: 7}},
	{"window scale bad length skipped", mustHex("020405b4 0304 0700"), Options{Has: OptMSS, MSS: 1460}},
	{"length 0 stops", mustHex("020405b4 0800 0402"), Options{Has: OptMSS, MSS: 1460}},
	{"length 1 stops", mustHex("0201 020405b4"), Options{}},
	{"length past header stops", mustHex("020405b4 08ff 00"), Options{Has: OptMSS, MSS: 1460}},
	{"kind without length", mustHex("020405b4 01010108"), Options{Has: OptMSS, MSS: 1460}},
	{"unknown kind skipped", mustHex("1e06 00000000 030308"), Options{Has: OptWScale, WScale: 8}},
	{"window scale 14+", mustHex("03030f"), Options{Has: OptWScale, WScale: 15}},
	{"sack 1 block", mustHex("0101 050a 00000001 00000002"), Options{Has: OptSACK, SACKBlocks: 1}},
	{"sack 4 blocks", cat(mustHex("0101 0522"), make([]byte, 32)), Options{Has: OptSACK, SACKBlocks: 4}},
	{"sack bad length", mustHex("0101 0509 000000010000000200"), Options{}},
	{"timestamps", mustHex("0101 080a 00000001 ffffffff"), Options{Has: OptTimestamps, TSVal: 1, TSEcr: 0xffffffff}},
	{"timestamps bad length", mustHex("0101 0809 00000001 000000"), Options{}},
	{"timestamps cut short", mustHex("0101 080a 00000001"), Options{}},
	{"timestamps then sack", mustHex("0101 080a 00000001 00000002 0101 050a 00000003 00000004"), Options{
		Has: OptTimestamps | OptSACK, TSVal: 1, TSEcr: 2, SACKBlocks: 1}},
	{"timestamps twice", mustHex("0101 080a 00000001 00000002 080a 00000003 00000004"), Options{
		Has: OptTimestamps, TSVal: 3, TSEcr: 4}},
	{"timestamps then length 0", mustHex("0101 080a 00000001 00000002 0300 07"), Options{
		Has: OptTimestamps, TSVal: 1, TSEcr: 2}},
	{"fast open request", mustHex("2202"), Options{Has: OptFastOpen}},
	{"fast open cookie", mustHex("220a 0102030405060708"), Options{Has: OptFastOpen, TFOCookieLen: 8}},
	{"fast open experimental", mustHex("fe0c f989 0102030405060708"), Options{Has: OptFastOpen, TFOCookieLen: 8}},
	{"other experiment", mustHex("fe06 1234 0000"), Options{}},
	{"40 bytes", cat(mustHex("020405b4 0402 080a 00000001 00000002 01 030307 0101 220a 01020304050607080000")), Options{
		Has: OptMSS | OptSACKPermitted | OptTimestamps | OptWScale | OptFastOpen,
		MSS: 1460, TSVal: 1, TSEcr: 2, WScale: 7, TFOCookieLen: 8,
	}},
}

func TestDecode(t *testing.T) {
	var d Decoder
	for _, tt := range decodeTests {
		t.Run(tt.name, func(t *testing.T) {
			var s Segment
			got := d.Decode(tt.lt, tt.data, &s)
			if got != tt.class {
				t.Fatalf("class = %v, want %v", got, tt.class)
			}
			if got == ClassTCP && !sameSegment(s, tt.seg) {
				t.Errorf("segment:\n got %+v\nwant %+v", s, tt.seg)
			}
			if got != ClassTCP && !sameSegment(s, Segment{}) {
				t.Errorf("class %v left a segment behind: %+v", got, s)
			}
		})
	}
}

func TestDecodeOptions(t *testing.T) {
	var d Decoder
	for _, tt := range optionTests {
		t.Run(tt.name, func(t *testing.T) {
			var s Segment
			if c := d.Decode(layers.LinkTypeEthernet, tcpOpts(tt.opts), &s); c != ClassTCP {
				t.Fatalf("class = %v", c)
			}
			if s.Opts != tt.want {
				t.Errorf("options = %+v, want %+v", s.Opts, tt.want)
			}
		})
	}
}

// TestDecodeReuse checks that nothing of one segment survives into the next.
func TestDecodeReuse(t *testing.T) {
	var d Decoder
	var s Segment
	d.Decode(layers.LinkTypeEthernet, frameSYN4, &s)
	if c := d.Decode(layers.LinkTypeEthernet, frameRST4, &s); c != ClassTCP || !sameSegment(s, segRST4) {
		t.Errorf("after a SYN, RST decodes to %v %+v", c, s)
	}
	d.Decode(layers.LinkTypeEthernet, frameData4, &s)
	if c := d.Decode(layers.LinkTypeEthernet, frameSYN4[:20], &s); c != ClassTruncated || !sameSegment(s, Segment{}) {
		t.Errorf("after data, a cut frame decodes to %v %+v", c, s)
	}
}

// TestDecodeCut cuts frames of every link type at every byte: before the
// end of the fixed TCP header the frame is truncated; after it the header
// fields are all there, the options as far as they go, and the payload
// length still comes from the IP header.
func TestDecodeCut(t *testing.T) {
	frames := []struct {
		name   string
		lt     layers.LinkType
		data   []byte
		tcpOff int // where the TCP header starts
		seg    Segment
	}{
		{"ethernet ipv4 syn", layers.LinkTypeEthernet, frameSYN4, 14 + 20, segSYN4},
		{"ethernet ipv4 data", layers.LinkTypeEthernet, frameData4, 14 + 20, segData4},
		{"ethernet ipv6", layers.LinkTypeEthernet, frameSYNACK6, 14 + 40, segSYNACK6},
		{"qinq ipv4", layers.LinkTypeEthernet, ether(ip(frameData4), 0x88a8, 0x8100, 0x0800), 22 + 20, segData4},
		{"snap ipv4", layers.LinkTypeEthernet, snap(ip(frameData4), []byte{0, 0, 0}, 0x0800), 22 + 20, segData4},
		{"sll ipv4 options", layers.LinkTypeLinuxSLL, sll(v4opts(mustHex("94040000")), 0x0800), 16 + 24, segWith(segSYN4, func(s *Segment) { s.IPLen = 64 })},
		{"sll2 ipv6 ext", layers.LinkTypeLinuxSLL2, sll2(v6ext(extHopByHop, extAH, extAtomic), 0x86dd), 20 + 40 + 40, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 120 })},
		{"null ipv6", layers.LinkTypeNull, null(ip(frameSYNACK6), binary.LittleEndian, 30), 4 + 40, segSYNACK6},
		{"loop ipv4", layers.LinkTypeLoop, null(ip(frameData4), binary.BigEndian, 2), 4 + 20, segData4},
		{"raw ipv4", layers.LinkTypeRaw, ip(frameData4), 20, segData4},
		{"ipv6", layers.LinkTypeIPv6, v6ext(extRouting), 48, segWith(segSYNACK6, func(s *Segment) { s.IPLen = 88 })},
	}
	var d Decoder
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			hlen := int(f.data[f.tcpOff+12]>>4) * 4
			for cut := range len(f.data) + 1 {
				var s Segment
				c := d.Decode(f.lt, f.data[:cut], &s)
				if cut < f.tcpOff+20 {
					if c != ClassTruncated {
						t.Errorf("cut at %d: class %v, want %v", cut, c, ClassTruncated)
					}
					continue
				}
				if c != ClassTCP {
					t.Errorf("cut at %d: class %v, want %v", cut, c, ClassTCP)
					continue
				}
				want := f.seg
				if cut < f.tcpOff+hlen {
					want.HeaderTruncated, want.Payload = true, nil
					var o Options
					parseOptions(f.data[f.tcpOff+20:cut], &o)
					want.Opts = o
				} else {
					want.Payload = f.seg.Payload[:cut-f.tcpOff-hlen]
				}
				if !sameSegment(s, want) {
					t.Errorf("cut at %d:\n got %+v\nwant %+v", cut, s, want)
				}
			}
		})
	}
}

// TestDecodeHostile feeds frames made of the most awkward byte values at
// every length and every link type: nothing may panic, and a TCP result
// must be self-consistent.
func TestDecodeHostile(t *testing.T) {
	var d Decoder
	var s Segment
	lts := []layers.LinkType{0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 2, 65535}
	for _, fill := range []byte{0x00, 0xff, 0x45, 0x60, 0x81, 0x06, 0x2c} {
		for _, lt := range lts {
			for n := range 200 {
				data := bytes.Repeat([]byte{fill}, n)
				c := d.Decode(lt, data, &s)
				checkSegment(t, c, &s, data)
			}
		}
	}
}

// checkSegment checks what must hold of any decoded segment.
func checkSegment(t *testing.T, c Class, s *Segment, data []byte) {
	t.Helper()
	if c >= NumClasses {
		t.Fatalf("class %d out of range for % x", c, data)
	}
	if c != ClassTCP {
		return
	}
	switch {
	case s.PayloadLen < 0:
		t.Fatalf("negative payload length %d for % x", s.PayloadLen, data)
	case len(s.Payload) > s.PayloadLen:
		t.Fatalf("captured payload %d > payload length %d for % x", len(s.Payload), s.PayloadLen, data)
	case s.HeaderTruncated && len(s.Payload) > 0:
		t.Fatalf("payload behind a truncated header for % x", data)
	case !s.Src.IsValid() || !s.Dst.IsValid():
		t.Fatalf("invalid addresses %v %v for % x", s.Src, s.Dst, data)
	case s.IPLen < 40:
		t.Fatalf("IP length %d below 40 for % x", s.IPLen, data)
	}
}

func TestDecodeAllocs(t *testing.T) {
	var d Decoder
	var s Segment
	for _, tt := range []struct {
		name string
		lt   layers.LinkType
		data []byte
	}{
		{"ipv4", layers.LinkTypeEthernet, frameData4},
		{"ipv6 ext", layers.LinkTypeLinuxSLL2, sll2(v6ext(extHopByHop, extAH), 0x86dd)},
		{"qinq", layers.LinkTypeEthernet, ether(ip(frameSYN4), 0x88a8, 0x8100, 0x0800)},
		{"not ip", layers.LinkTypeEthernet, ether(nil, 0x0806)},
	} {
		if n := testing.AllocsPerRun(1000, func() { d.Decode(tt.lt, tt.data, &s) }); n != 0 {
			t.Errorf("%s: %v allocations per Decode, want 0", tt.name, n)
		}
	}
}

func TestClassString(t *testing.T) {
	seen := map[string]bool{}
	for c := range NumClasses + 1 {
		s := c.String()
		if s == "" || (c < NumClasses && seen[s]) {
			t.Errorf("Class(%d).String() = %q", c, s)
		}
		seen[s] = true
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bb := range []struct {
		name string
		lt   layers.LinkType
		data []byte
	}{
		{"ipv4-syn", layers.LinkTypeEthernet, frameSYN4},
		{"ipv4-data", layers.LinkTypeEthernet, frameData4},
		{"ipv6-ext", layers.LinkTypeLinuxSLL2, sll2(v6ext(extHopByHop, extAH), 0x86dd)},
		{"vlan", layers.LinkTypeEthernet, ether(ip(frameData4), 0x8100, 0x0800)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var d Decoder
			var s Segment
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.data)))
			for b.Loop() {
				if d.Decode(bb.lt, bb.data, &s) != ClassTCP {
					b.Fatal("not TCP")
				}
			}
		})
	}

	// For scale: gopacket's DecodingLayerParser on the same data frame.
	b.Run("baseline-gopacket-parser", func(b *testing.B) {
		var (
			eth     layers.Ethernet
			ip4     layers.IPv4
			ip6     layers.IPv6
			tcp     layers.TCP
			payload gopacket.Payload
		)
		p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
		decoded := make([]gopacket.LayerType, 0, 4)
		b.ReportAllocs()
		b.SetBytes(int64(len(frameData4)))
		for b.Loop() {
			if err := p.DecodeLayers(frameData4, &decoded); err != nil {
				b.Fatal(err)
			}
		}
	})
}
