package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Link types the decoder knows beyond the ones gopacket names. The numbers are
// LINKTYPE_ values from https://www.tcpdump.org/linktypes.html, or the DLT_
// values some writers put in files instead.
const (
	linkTypeRawBSD     layers.LinkType = 12 // DLT_RAW on most BSDs: raw IPv4 or IPv6
	linkTypeRawOpenBSD layers.LinkType = 14 // DLT_RAW on OpenBSD
)

// EtherTypes (IEEE 802 numbers, https://standards.ieee.org/products-programs/regauth/ethertype/).
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86dd
	etherTypeVLAN   = 0x8100 // IEEE 802.1Q customer tag
	etherTypeQinQ   = 0x88a8 // IEEE 802.1ad service tag
	etherTypeQinQv1 = 0x9100 // pre-802.1ad service tag, still in use
	// A value below 0x0600 in the EtherType position is an IEEE 802.3 length,
	// and an 802.2 LLC header follows.
	etherTypeMinType = 0x0600
)

// BSD address families as they appear in LINKTYPE_NULL and LINKTYPE_LOOP
// headers. IPv6 has a different number on every system.
const (
	afINET       = 2
	afINET6Linux = 10 // Linux; not in the libpcap list, gopacket accepts it too
	afINET6BSD   = 24 // NetBSD, OpenBSD, BSD/OS
	afINET6FBSD  = 28 // FreeBSD, DragonFly BSD
	afINET6Apple = 30 // Darwin
)

// IP protocol numbers (https://www.iana.org/assignments/protocol-numbers).
const (
	protoHopByHop = 0
	protoTCP      = 6
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
	protoMobility = 135
)

// TCP option kinds (https://www.iana.org/assignments/tcp-parameters).
const (
	optEOL           = 0   // RFC 9293 section 3.2
	optNOP           = 1   // RFC 9293 section 3.2
	optMSS           = 2   // RFC 9293 section 3.2
	optWScale        = 3   // RFC 7323 section 2.2
	optSACKPermitted = 4   // RFC 2018 section 2
	optSACK          = 5   // RFC 2018 section 3
	optTimestamps    = 8   // RFC 7323 section 3.2
	optFastOpen      = 34  // RFC 7413 section 4.1.1
	optExperimental  = 254 // RFC 6994; TFO used it with ExID 0xF989 before kind 34
)

// exIDFastOpen is the experiment ID TCP Fast Open used under option 254.
const exIDFastOpen = 0xf989

// Bounds on loops whose length the packet controls.
const (
	maxVLANTags      = 8 // QinQ uses two; more than a handful is an attack or garbage
	maxIPv6ExtHeader = 8 // RFC 8200 section 4.1 allows each kind about once
)

// Decoder turns captured frames into Segments. The zero value is ready to
// use. Decode never fails and never allocates: a frame that is not a
// complete-enough TCP segment is classified, not rejected with an error.
//
// A Decoder holds no state today; keep one per goroutine all the same, so
// that state added later (counters, settings) stays cheap.
type Decoder struct{}

// Decode decodes one frame of link type lt into s and says what the frame
// was. s is overwritten on every call; it is meaningful only when the result
// is ClassTCP, and its slices point into data.
//
// The rules, in order: a header that contradicts itself (an IP version that
// disagrees with the link layer, a header length below the minimum, an IP
// length too short for the headers inside it) is ClassMalformed; a frame cut
// before the end of the fixed 20-byte TCP header is ClassTruncated; a frame
// cut inside the TCP options is ClassTCP with HeaderTruncated set.
func (d *Decoder) Decode(lt layers.LinkType, data []byte, s *Segment) Class {
	*s = Segment{}
	switch lt {
	case layers.LinkTypeEthernet:
		// LINKTYPE_ETHERNET (1): destination, source, EtherType.
		if len(data) < 14 {
			return ClassTruncated
		}
		return etherType(be16(data[12:]), data[14:], true, s)
	case layers.LinkTypeLinuxSLL:
		// LINKTYPE_LINUX_SLL (113): 16-byte header, protocol in bytes 14-15.
		// The protocol is an EtherType for the frames that matter here;
		// values below 0x0600 are Linux ETH_P_ numbers, not 802.3 lengths.
		if len(data) < 16 {
			return ClassTruncated
		}
		return etherType(be16(data[14:]), data[16:], false, s)
	case layers.LinkTypeLinuxSLL2:
		// LINKTYPE_LINUX_SLL2 (276): 20-byte header, protocol in bytes 0-1.
		if len(data) < 20 {
			return ClassTruncated
		}
		return etherType(be16(data), data[20:], false, s)
	case layers.LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD:
		// LINKTYPE_RAW (101): the IP version nibble says which IP it is.
		return rawIP(data, s)
	case layers.LinkTypeIPv4:
		// LINKTYPE_IPV4 (228).
		return ipv4(data, s)
	case layers.LinkTypeIPv6:
		// LINKTYPE_IPV6 (229).
		return ipv6(data, s)
	case layers.LinkTypeNull:
		// LINKTYPE_NULL (0): a 4-byte address family in the byte order of
		// the host that wrote the file, which the file does not record.
		if len(data) < 4 {
			return ClassTruncated
		}
		af := binary.LittleEndian.Uint32(data)
		if !knownFamily(af) {
			af = binary.BigEndian.Uint32(data)
		}
		return family(af, data[4:], s)
	case layers.LinkTypeLoop:
		// LINKTYPE_LOOP (108): like NULL, but always in network byte order.
		if len(data) < 4 {
			return ClassTruncated
		}
		return family(binary.BigEndian.Uint32(data), data[4:], s)
	}
	return ClassUnknownLink
}

// etherType decodes what follows an EtherType: VLAN tags, then IPv4 or IPv6.
// llc says whether a value below 0x0600 is an 802.3 length (Ethernet) that
// an LLC/SNAP header may follow.
func etherType(et uint16, data []byte, llc bool, s *Segment) Class {
	for range maxVLANTags + 1 {
		switch et {
		case etherTypeIPv4:
			return ipv4(data, s)
		case etherTypeIPv6:
			return ipv6(data, s)
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQv1:
			// IEEE 802.1Q: a 2-byte tag control field, then the next EtherType.
			if len(data) < 4 {
				return ClassTruncated
			}
			et, data = be16(data[2:]), data[4:]
			continue
		}
		if !llc || et >= etherTypeMinType {
			return ClassNotIP
		}
		// An 802.3 frame. IP rides in it only behind a SNAP header with the
		// zero OUI (RFC 1042): AA AA 03, 00 00 00, then the EtherType. The
		// low bits of the SAPs (IEEE 802.2: individual/group in DSAP,
		// command/response in SSAP) do not change which SAP it is, and
		// tcpdump and Wireshark ignore them too.
		for i, b := range snapHeader {
			if i == len(data) {
				return ClassTruncated
			}
			if data[i]&snapMask[i] != b {
				return ClassNotIP
			}
		}
		if len(data) < 8 {
			return ClassTruncated
		}
		et, data, llc = be16(data[6:]), data[8:], false
	}
	return ClassMalformed // more tags than any real network uses
}

// snapHeader is an LLC header for SNAP (DSAP AA, SSAP AA, control 03: UI)
// and the zero OUI, which says an EtherType follows (RFC 1042).
var snapHeader = [6]byte{0xaa, 0xaa, 0x03, 0, 0, 0}

// snapMask is what of snapHeader's bytes is compared: not the SAPs' low bits.
var snapMask = [6]byte{0xfe, 0xfe, 0xff, 0xff, 0xff, 0xff}

// knownFamily reports whether af is an address family that family decodes.
func knownFamily(af uint32) bool {
	switch af {
	case afINET, afINET6Linux, afINET6BSD, afINET6FBSD, afINET6Apple:
		return true
	}
	return false
}

// family decodes the payload of a BSD loopback header.
func family(af uint32, data []byte, s *Segment) Class {
	switch af {
	case afINET:
		return ipv4(data, s)
	case afINET6Linux, afINET6BSD, afINET6FBSD, afINET6Apple:
		return ipv6(data, s)
	}
	return ClassNotIP
}

// rawIP decodes an IP packet whose version only its first nibble tells.
func rawIP(data []byte, s *Segment) Class {
	if len(data) == 0 {
		return ClassTruncated
	}
	switch data[0] >> 4 {
	case 4:
		return ipv4(data, s)
	case 6:
		return ipv6(data, s)
	}
	return ClassMalformed
}

// ipv4 decodes an IPv4 header (RFC 791 section 3.1) and the TCP segment in it.
func ipv4(data []byte, s *Segment) Class {
	if len(data) == 0 {
		return ClassTruncated
	}
	if data[0]>>4 != 4 {
		return ClassMalformed
	}
	if len(data) < 20 {
		return ClassTruncated
	}
	hlen := int(data[0]&0x0f) * 4
	if hlen < 20 {
		return ClassMalformed
	}
	// Total length 0 is what a host doing TCP segmentation offload captures
	// of its own sends: the NIC fills the field in later. Use what we have.
	total := int(be16(data[2:]))
	known := total != 0
	if !known {
		total = len(data)
	} else if total < hlen {
		return ClassMalformed
	}
	// Flags and fragment offset: MF is 0x2000, the offset the low 13 bits.
	// DF (0x4000) says nothing about this packet being whole.
	if be16(data[6:])&0x3fff != 0 {
		return ClassFragment
	}
	if data[9] != protoTCP {
		return ClassNotTCP
	}
	if len(data) < hlen {
		return ClassTruncated
	}
	src := netip.AddrFrom4([4]byte(data[12:16]))
	dst := netip.AddrFrom4([4]byte(data[16:20]))
	// Bytes past the total length are link-layer padding or trailers.
	return tcp(data[hlen:min(len(data), total)], total-hlen, known, src, dst, total, s)
}

// ipv6 decodes an IPv6 header (RFC 8200 section 3), walks the extension
// headers (section 4) and decodes the TCP segment behind them.
func ipv6(data []byte, s *Segment) Class {
	if len(data) == 0 {
		return ClassTruncated
	}
	if data[0]>>4 != 6 {
		return ClassMalformed
	}
	if len(data) < 40 {
		return ClassTruncated
	}
	// Payload length 0 is a jumbogram (RFC 2675) or a GSO/TSO super-packet
	// captured on the sending host: the length is what was captured.
	end := 40 + int(be16(data[4:]))
	known := end != 40
	if !known {
		end = len(data)
	}
	next, off := data[6], 40
	for range maxIPv6ExtHeader + 1 {
		var hlen int
		switch next {
		case protoTCP:
			src := netip.AddrFrom16([16]byte(data[8:24]))
			dst := netip.AddrFrom16([16]byte(data[24:40]))
			return tcp(data[off:min(len(data), end)], end-off, known, src, dst, end, s)
		case protoHopByHop, protoRouting, protoDstOpts, protoMobility:
			// Length in 8-octet units, not counting the first 8 (RFC 8200
			// sections 4.3-4.6; RFC 6275 section 6.1.1 for mobility).
			if c := need(off+2, end, known, len(data)); c != ClassTCP {
				return c
			}
			hlen = (int(data[off+1]) + 1) * 8
		case protoAH:
			// Length in 4-octet units, minus 2 (RFC 4302 section 2.2).
			if c := need(off+2, end, known, len(data)); c != ClassTCP {
				return c
			}
			hlen = (int(data[off+1]) + 2) * 4
		case protoFragment:
			// RFC 8200 section 4.5: offset in the top 13 bits of bytes 2-3,
			// M in the lowest. An atomic fragment (offset 0, M clear) is a
			// whole packet and is processed as one (RFC 6946 section 4).
			if c := need(off+8, end, known, len(data)); c != ClassTCP {
				return c
			}
			if be16(data[off+2:])&0xfff9 != 0 {
				return ClassFragment
			}
			hlen = 8
		default:
			return ClassNotTCP // UDP, ICMPv6, ESP, No Next Header, ...
		}
		if c := need(off+hlen, end, known, len(data)); c != ClassTCP {
			return c
		}
		next, off = data[off], off+hlen
	}
	return ClassMalformed // a chain longer than any real stack sends
}

// need reports whether n bytes of an IP packet that ends at end (known, or
// just what was captured) can be read from captured bytes: ClassTCP when
// they can, ClassMalformed when the packet's own length does not hold them,
// ClassTruncated when the capture was cut before them.
func need(n, end int, known bool, captured int) Class {
	switch {
	case known && n > end:
		return ClassMalformed
	case n > captured:
		return ClassTruncated
	}
	return ClassTCP
}

// tcp decodes a TCP header (RFC 9293 section 3.1). seg holds the captured
// bytes of the IP payload, ipPayload its length according to the IP header
// (known) or to the capture (not known); ipLen is the whole IP packet's.
func tcp(seg []byte, ipPayload int, known bool, src, dst netip.Addr, ipLen int, s *Segment) Class {
	if c := need(20, ipPayload, known, len(seg)); c != ClassTCP {
		return c
	}
	hlen := int(seg[12]>>4) * 4
	if hlen < 20 {
		return ClassMalformed
	}
	payload := ipPayload - hlen
	if payload < 0 {
		if known {
			return ClassMalformed
		}
		// The length is only what was captured, and the capture ends
		// inside the options: a cut header, not a contradiction.
		payload = 0
	}
	s.Src = netip.AddrPortFrom(src, be16(seg[0:]))
	s.Dst = netip.AddrPortFrom(dst, be16(seg[2:]))
	s.Seq = binary.BigEndian.Uint32(seg[4:])
	s.Ack = binary.BigEndian.Uint32(seg[8:])
	s.Flags = seg[13]
	s.Window = be16(seg[14:])
	s.PayloadLen = payload
	s.IPLen = ipLen
	if len(seg) < hlen {
		s.HeaderTruncated = true
		parseOptions(seg[20:], &s.Opts)
		return ClassTCP
	}
	parseOptions(seg[20:hlen], &s.Opts)
	s.Payload = seg[hlen:]
	return ClassTCP
}

// parseOptions reads the TCP options in b (RFC 9293 section 3.2: kind,
// length, value; EOL and NOP are a single byte). An option with a length that
// does not fit its kind is skipped; a length below 2 or past the end of b
// ends the parse, keeping what was read before.
func parseOptions(b []byte, o *Options) {
	// The options of nearly every segment after the handshake of a Linux,
	// BSD or macOS host: NOP, NOP, timestamps (RFC 7323 appendix A's
	// layout), read at once.
	if len(b) >= 12 && binary.BigEndian.Uint32(b) == 0x0101080a {
		o.TSVal = binary.BigEndian.Uint32(b[4:])
		o.TSEcr = binary.BigEndian.Uint32(b[8:])
		o.Has |= OptTimestamps
		b = b[12:]
	}
	for len(b) > 0 {
		switch b[0] {
		case optEOL:
			return
		case optNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 {
			return
		}
		n := int(b[1])
		if n < 2 || n > len(b) {
			return
		}
		v := b[2:n]
		switch b[0] {
		case optMSS:
			if len(v) == 2 {
				o.MSS = be16(v)
				o.Has |= OptMSS
			}
		case optWScale:
			if len(v) == 1 {
				o.WScale = v[0] // raw; RFC 7323 section 2.3 caps its use at 14
				o.Has |= OptWScale
			}
		case optSACKPermitted:
			if len(v) == 0 {
				o.Has |= OptSACKPermitted
			}
		case optSACK:
			if len(v) > 0 && len(v)%8 == 0 {
				o.SACKBlocks = uint8(len(v) / 8)
				o.Has |= OptSACK
			}
		case optTimestamps:
			if len(v) == 8 {
				o.TSVal = binary.BigEndian.Uint32(v)
				o.TSEcr = binary.BigEndian.Uint32(v[4:])
				o.Has |= OptTimestamps
			}
		case optFastOpen:
			o.TFOCookieLen = uint8(len(v))
			o.Has |= OptFastOpen
		case optExperimental:
			if len(v) >= 2 && be16(v) == exIDFastOpen {
				o.TFOCookieLen = uint8(len(v) - 2)
				o.Has |= OptFastOpen
			}
		}
		b = b[n:]
	}
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
