package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// FuzzDecode checks that Decode never panics and that what it decodes is
// self-consistent, and compares it with gopacket's layers: when gopacket
// decodes a TCP header without error, over encapsulations Decode handles,
// from a packet that is not a fragment, Decode must find the same header.
//
// Deliberate differences, where Decode refuses what gopacket accepts (each
// is skipped below, and each has a row in decodeTests):
//   - an IP version nibble that contradicts the link layer (EtherType
//     0x0800 or LINKTYPE_IPV4 with version 6, ...) is malformed; gopacket's
//     IPv4 decoder never looks at the version;
//   - LINKTYPE_LOOP is in network byte order by definition; gopacket
//     guesses the order as it does for LINKTYPE_NULL;
//   - IP behind LLC/SNAP is taken only as RFC 1042 puts it (UI control
//     byte 03, OUI 00-00-00, whatever the SAPs' low bits, which gopacket
//     masks too); gopacket reads the SNAP EtherType under any OUI and
//     control;
//   - more than maxVLANTags tags or maxIPv6ExtHeader extension headers are
//     malformed; gopacket has no limit;
//   - EtherType 0xFFFF is reserved (IEEE); gopacket takes it for raw IP.
//
// Where Decode accepts what gopacket refuses (IPv4 options it cannot parse,
// TCP options cut by the snaplen, IPv6 length 0 without a jumbo option,
// atomic IPv6 fragments) there is nothing to compare.
func FuzzDecode(f *testing.F) {
	for _, tt := range decodeTests {
		f.Add(uint16(tt.lt), tt.data)
	}
	for _, tt := range optionTests {
		f.Add(uint16(layers.LinkTypeEthernet), tcpOpts(tt.opts))
	}
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var d Decoder
		var s Segment
		c := d.Decode(layers.LinkType(lt), data, &s)
		checkSegment(t, c, &s, data)

		pkt := gopacket.NewPacket(data, layers.LinkType(lt), gopacket.DecodeOptions{NoCopy: true})
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tl == nil || pkt.ErrorLayer() != nil || !mustAgree(layers.LinkType(lt), pkt) {
			return
		}
		if c != ClassTCP {
			t.Fatalf("gopacket decodes TCP, Decode says %v\nlayers: %v\ndata: % x", c, layerNames(pkt), data)
		}
		var src, dst netip.Addr
		switch n := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(n.SrcIP)
			dst, _ = netip.AddrFromSlice(n.DstIP)
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(n.SrcIP)
			dst, _ = netip.AddrFromSlice(n.DstIP)
		}
		want := Segment{
			Src:    netip.AddrPortFrom(src, uint16(tl.SrcPort)),
			Dst:    netip.AddrPortFrom(dst, uint16(tl.DstPort)),
			Seq:    tl.Seq,
			Ack:    tl.Ack,
			Flags:  gopacketFlags(tl),
			Window: tl.Window,
		}
		if s.Src != want.Src || s.Dst != want.Dst || s.Seq != want.Seq || s.Ack != want.Ack ||
			s.Flags != want.Flags || s.Window != want.Window {
			t.Fatalf("Decode and gopacket differ:\n got %+v\nwant %+v\nlayers: %v\ndata: % x", s, want, layerNames(pkt), data)
		}
	})
}

// diffLayers are the gopacket layers that may come before TCP in a packet
// the fuzzer compares: the encapsulations Decode handles.
var diffLayers = map[gopacket.LayerType]bool{
	layers.LayerTypeEthernet:        true,
	layers.LayerTypeDot1Q:           true,
	layers.LayerTypeLLC:             true,
	layers.LayerTypeSNAP:            true,
	layers.LayerTypeLinuxSLL:        true,
	layers.LayerTypeLinuxSLL2:       true,
	layers.LayerTypeLoopback:        true,
	layers.LayerTypeIPv4:            true,
	layers.LayerTypeIPv6:            true,
	layers.LayerTypeIPv6HopByHop:    true,
	layers.LayerTypeIPv6Routing:     true,
	layers.LayerTypeIPv6Destination: true,
	layers.LayerTypeIPSecAH:         true,
}

// mustAgree reports whether gopacket's decoding of a packet is one Decode
// must agree with: see FuzzDecode for the differences left out.
func mustAgree(lt layers.LinkType, pkt gopacket.Packet) bool {
	ips, tags, exts := 0, 0, 0
	var prev gopacket.Layer
	for _, l := range pkt.Layers() {
		if l.LayerType() == layers.LayerTypeTCP {
			break
		}
		if !diffLayers[l.LayerType()] {
			return false // tunnels, PPPoE, MPLS, ...
		}
		switch l := l.(type) {
		case *layers.IPv4:
			ips++
			if l.Version != 4 || l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				return false
			}
			if _, ok := prev.(*layers.IPv6); ok {
				return false
			}
		case *layers.IPv6:
			ips++
			if l.Version != 6 {
				return false
			}
			if _, ok := prev.(*layers.IPv4); ok {
				return false
			}
		case *layers.Loopback:
			if lt == layers.LinkTypeLoop && !knownFamily(binary.BigEndian.Uint32(l.Contents)) {
				return false
			}
		case *layers.LLC:
			if l.Control != 0x03 || l.DSAP != 0xaa || l.SSAP != 0xaa {
				return false
			}
		case *layers.SNAP:
			if !bytes.Equal(l.OrganizationalCode, []byte{0, 0, 0}) || l.Type == layers.EthernetTypeRaw {
				return false
			}
		case *layers.Ethernet:
			if l.EthernetType == layers.EthernetTypeRaw {
				return false
			}
		case *layers.LinuxSLL:
			if l.EthernetType == layers.EthernetTypeRaw {
				return false
			}
		case *layers.LinuxSLL2:
			if l.ProtocolType == layers.EthernetTypeRaw {
				return false
			}
		case *layers.Dot1Q:
			tags++
			if l.Type == layers.EthernetTypeRaw {
				return false
			}
		case *layers.IPv6HopByHop, *layers.IPv6Routing, *layers.IPv6Destination, *layers.IPSecAH:
			exts++
		}
		prev = l
	}
	return ips == 1 && tags <= maxVLANTags && exts <= maxIPv6ExtHeader
}

func gopacketFlags(t *layers.TCP) uint8 {
	var f uint8
	for _, b := range []struct {
		set  bool
		flag uint8
	}{
		{t.FIN, FlagFIN}, {t.SYN, FlagSYN}, {t.RST, FlagRST}, {t.PSH, FlagPSH},
		{t.ACK, FlagACK}, {t.URG, FlagURG}, {t.ECE, FlagECE}, {t.CWR, FlagCWR},
	} {
		if b.set {
			f |= b.flag
		}
	}
	return f
}

func layerNames(pkt gopacket.Packet) string {
	var names []string
	for _, l := range pkt.Layers() {
		names = append(names, l.LayerType().String())
	}
	return strings.Join(names, "/")
}

// FuzzOpen feeds arbitrary bytes to Open as a file, as they are and
// gzip-compressed, and reads every packet: nothing may panic, every error
// must be one line starting "capture: ", no packet may be longer than the
// limit, and an error must be final. A pcap file's records, which are read
// without pcapgo, must be pcapgo's, up to the same damage. The bytes come through "-": a file on
// disk takes the same path after os.Open, at the cost of a write per input.
func FuzzOpen(f *testing.F) {
	recs := someRecs(3)
	recs[1].orig = 1514
	f.Add(pcapFile(f, binary.LittleEndian, false, layers.LinkTypeEthernet, recs))
	f.Add(pcapFile(f, binary.BigEndian, true, layers.LinkTypeLinuxSLL, recs))
	ng := pcapngFile(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, recs)
	f.Add(ng)
	f.Add(ng[:len(ng)-5])
	f.Add(gz(ng))
	f.Add(handmadePcapng())
	f.Add(mustHex("0a0d0d0a 1c000000 4d3c2b1a 01000000 ffffffffffffffff 1c000000 03000000 14000000 10000000 14000000"))
	f.Add([]byte("<!DOCTYPE html>"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		readFuzz(t, data)
		readFuzz(t, gz(data))
		matchPcapgo(t, data)
	})
}

// sameTime reports whether Open's time of a record is pcapgo's, which
// multiplies a microsecond field by 1000 in 32 bits: a field of 4294968 or
// more (not a valid fraction of a second) wraps there, not in Open.
func sameTime(open, pcapgo time.Time) bool {
	d := open.Sub(pcapgo)
	return d == 0 || d > 0 && d%(1<<32) == 0
}

// matchPcapgo reads data with Open and with pcapgo.Reader, when both take
// it as a pcap file, and fails unless both read the same packets and stop
// at the same record: at the clean end of the file, or at damage. pcapgo
// is held to the record length limit Open applies.
func matchPcapgo(t *testing.T, data []byte) {
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return
	}
	if r.Snaplen() > maxPacket {
		r.SetSnaplen(maxPacket)
	}
	src, err := Open([]string{"-"}, OpenOptions{Stdin: bytes.NewReader(data)})
	if err != nil {
		return // Open checks the version too
	}
	defer src.Close()
	var p Packet
	for n := 1; ; n++ {
		want, ci, werr := r.ReadPacketData()
		err := src.Next(&p)
		switch {
		case werr != nil && err == nil:
			t.Fatalf("record %d: pcapgo fails (%v), Open reads %d bytes", n, werr, len(p.Data))
		case werr == nil && err != nil:
			t.Fatalf("record %d: pcapgo reads %d bytes, Open fails: %v", n, len(want), err)
		case err == io.EOF && werr != io.EOF:
			t.Fatalf("record %d: pcapgo fails (%v) where Open ends cleanly", n, werr)
		case err != nil:
			return
		case !bytes.Equal(p.Data, want) || !sameTime(p.Time, ci.Timestamp) || p.Length != ci.Length:
			t.Fatalf("record %d: Open read %d bytes of %d at %v, pcapgo %d of %d at %v",
				n, len(p.Data), p.Length, p.Time, len(want), ci.Length, ci.Timestamp)
		}
	}
}

func readFuzz(t *testing.T, data []byte) {
	checkErr := func(err error) {
		if msg := err.Error(); !strings.HasPrefix(msg, "capture: ") || strings.Contains(msg, "\n") {
			t.Fatalf("error %q", msg)
		}
	}
	src, err := Open([]string{"-"}, OpenOptions{Stdin: bytes.NewReader(data)})
	if err != nil {
		checkErr(err)
		return
	}
	defer src.Close()
	var (
		p Packet
		d Decoder
		s Segment
	)
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			checkErr(err)
			if err2 := src.Next(&p); err2 != err {
				t.Fatalf("error not final: %v, then %v", err, err2)
			}
			break
		}
		if len(p.Data) > maxPacket {
			t.Fatalf("packet %d has %d bytes", p.Num, len(p.Data))
		}
		checkSegment(t, d.Decode(p.LinkType, p.Data, &s), &s, p.Data)
	}
	if pr := src.Progress(); pr.Bytes > int64(len(data)) {
		t.Fatalf("progress %+v for %d bytes", pr, len(data))
	}
}
