package capture

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame as a Source hands it out.
type Packet struct {
	// Data holds the captured bytes. It is valid only until the next call to
	// Source.Next: sources reuse their buffers.
	Data []byte
	// Time is the capture timestamp.
	Time time.Time
	// Length is the frame's length on the wire; len(Data) is smaller when the
	// capture's snaplen cut the frame.
	Length int
	// LinkType says how Data starts (Ethernet, Linux cooked, raw IP, ...).
	LinkType layers.LinkType
	// Num is the 1-based position of the packet in the source's timeline.
	Num uint64
	// File is the index, in the list given to Open, of the file the packet
	// came from.
	File int
}

// set fills p with a packet read from a file (Num is the merger's). Field
// by field: a composite literal was built on the stack with narrow stores
// and copied into p with 16-byte loads, each of which waited for the
// stores it overlapped (a store-forwarding stall, five a packet).
func (p *Packet) set(data []byte, ts time.Time, length int, lt layers.LinkType, file int) {
	p.Data, p.Time, p.Length, p.LinkType, p.Num, p.File = data, ts, length, lt, 0, file
}

// TCP header flag bits, as they sit in byte 13 of the header.
const (
	FlagFIN uint8 = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Segment is a decoded TCP segment. Decoder.Decode fills it in place; slices
// in it point into the packet's data.
type Segment struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	// Flags is byte 13 of the TCP header (FlagFIN ... FlagCWR).
	Flags uint8
	// Window is the raw, unscaled window field.
	Window uint16
	// PayloadLen is the TCP payload length computed from the IP header's
	// length fields, so it is right even when the snaplen cut the payload.
	PayloadLen int
	// Payload is the captured part of the payload (possibly shorter than
	// PayloadLen, possibly empty).
	Payload []byte
	// IPLen is the length of the IP packet (header included) according to
	// the IP header.
	IPLen int
	// Opts holds the TCP options that were captured.
	Opts Options
	// HeaderTruncated is true when the snaplen cut the TCP options: the
	// fixed 20-byte header is valid, Opts may be incomplete.
	HeaderTruncated bool
}

// Options are the TCP options the analyzer cares about. A field is valid iff
// its bit is set in Has.
type Options struct {
	Has          OptionSet
	MSS          uint16
	WScale       uint8
	TSVal, TSEcr uint32
	TFOCookieLen uint8 // length of the TCP Fast Open cookie (0 for a cookie request)
	SACKBlocks   uint8 // number of SACK blocks present
}

// OptionSet records which options a segment carried.
type OptionSet uint8

const (
	OptMSS OptionSet = 1 << iota
	OptWScale
	OptSACKPermitted
	OptSACK
	OptTimestamps
	OptFastOpen
)

// Class is what Decoder.Decode made of a frame. Only ClassTCP fills the
// Segment; every other class is counted and skipped by the caller.
type Class uint8

const (
	ClassTCP         Class = iota // a TCP segment, Segment filled in
	ClassNotIP                    // a link-layer frame that carries neither IPv4 nor IPv6 (ARP, LLDP, ...)
	ClassNotTCP                   // IP, but not TCP (UDP, ICMP, ...)
	ClassFragment                 // an IP fragment; TCP over fragments is not reassembled
	ClassTruncated                // cut by the snaplen before the end of the fixed TCP header
	ClassMalformed                // headers that contradict themselves (bad lengths, bad version)
	ClassUnknownLink              // a link type the decoder does not handle
	NumClasses
)

// String names a class the way the summary prints it.
func (c Class) String() string {
	switch c {
	case ClassTCP:
		return "tcp"
	case ClassNotIP:
		return "not IP"
	case ClassNotTCP:
		return "not TCP"
	case ClassFragment:
		return "IP fragment"
	case ClassTruncated:
		return "truncated by snaplen"
	case ClassMalformed:
		return "malformed"
	case ClassUnknownLink:
		return "unknown link type"
	}
	return "unknown class"
}
