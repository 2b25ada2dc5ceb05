package main

// Turning a finished file into capture bytes and into its README entry.

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const snaplen = 262144

// finish orders the packets by time, numbers them, works out every
// endpoint's state at the end of the capture (TIME_WAIT ends after 2·MSL)
// and checks it against the connection's expectation.
func (f *file) finish() error {
	sort.SliceStable(f.pkts, func(i, j int) bool { return f.pkts[i].at < f.pkts[j].at })
	for i, p := range f.pkts {
		p.num = i + 1
	}
	if len(f.pkts) == 0 {
		return fmt.Errorf("%s: no packets", f.name)
	}
	end := f.pkts[len(f.pkts)-1].at
	for _, c := range f.conns {
		final := func(e *endpoint) state {
			if e.state == timeWait && end-e.twSince >= twoMSL {
				return closed
			}
			return e.state
		}
		c.finalClient, c.finalServer = final(c.client), final(c.server)
		if !c.hasExp {
			return fmt.Errorf("%s: connection %s has no expected final states", f.name, c.label)
		}
		if c.finalClient != c.expClient || c.finalServer != c.expServer {
			return fmt.Errorf("%s: connection %s ends %s/%s, expected %s/%s", f.name, c.label,
				c.finalClient, c.finalServer, c.expClient, c.expServer)
		}
	}
	return nil
}

// encode returns the capture file's bytes.
func (f *file) encode() ([]byte, error) {
	var b bytes.Buffer
	var write func(gopacket.CaptureInfo, []byte) error
	var flush func() error
	if f.ng {
		w, err := pcapgo.NewNgWriterInterface(&b,
			pcapgo.NgInterface{Name: "eth0", LinkType: f.linkType, SnapLength: snaplen, TimestampResolution: 9},
			pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "tcpstate pcapcraft"}})
		if err != nil {
			return nil, err
		}
		write, flush = w.WritePacket, w.Flush
	} else {
		w := pcapgo.NewWriter(&b)
		if err := w.WriteFileHeader(snaplen, f.linkType); err != nil {
			return nil, err
		}
		write, flush = w.WritePacket, func() error { return nil }
	}
	for _, p := range f.pkts {
		data, err := p.frame()
		if err != nil {
			return nil, fmt.Errorf("%s: packet %d: %w", f.name, p.num, err)
		}
		ci := gopacket.CaptureInfo{Timestamp: epoch.Add(p.at), CaptureLength: len(data), Length: len(data)}
		if err := write(ci, data); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// frame serializes one packet with its link layer, IP header and TCP
// header, lengths and checksums computed by gopacket.
func (p *packet) frame() ([]byte, error) {
	s, c := p.s, p.s.c
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.from.ap.Port()), DstPort: layers.TCPPort(s.to.ap.Port()),
		Seq: s.seq, Ack: s.ackNo, Window: s.win, Options: s.opts,
		SYN: s.syn, ACK: s.ack, FIN: s.fin, RST: s.rst, PSH: s.psh,
	}
	var ip gopacket.SerializableLayer
	ethType := layers.EthernetTypeIPv4
	family := layers.ProtocolFamilyIPv4
	src, dst := s.from.ap.Addr(), s.to.ap.Addr()
	if src.Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: s.ttl, Id: p.ipID, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			return nil, err
		}
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, FlowLabel: s.from.flow, NextHeader: layers.IPProtocolTCP,
			HopLimit: s.ttl, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, err
		}
		ip, ethType, family = ip6, layers.EthernetTypeIPv6, layers.ProtocolFamilyIPv6Darwin
	}
	var ls []gopacket.SerializableLayer
	eth := &layers.Ethernet{SrcMAC: s.from.mac, DstMAC: s.to.mac, EthernetType: ethType}
	switch c.link {
	case linkEthernet:
		ls = append(ls, eth)
	case linkDot1Q:
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, eth, &layers.Dot1Q{VLANIdentifier: c.vlan, Type: ethType})
	case linkQinQ:
		eth.EthernetType = layers.EthernetTypeQinQ
		ls = append(ls, eth,
			&layers.Dot1Q{VLANIdentifier: c.svlan, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: c.vlan, Type: ethType})
	case linkNull:
		ls = append(ls, &layers.Loopback{Family: family})
	case linkRaw:
	}
	ls = append(ls, ip, tcp, gopacket.Payload(s.payload))
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// README rendering.

func flagString(s *seg) string {
	var b strings.Builder
	for _, f := range []struct {
		on bool
		c  byte
	}{{s.fin, 'F'}, {s.syn, 'S'}, {s.rst, 'R'}, {s.psh, 'P'}, {s.ack, '.'}} {
		if f.on {
			b.WriteByte(f.c)
		}
	}
	return "[" + b.String() + "]"
}

func (n noteText) render(first time.Duration) string {
	args := make([]any, len(n.args))
	for i, a := range n.args {
		switch a := a.(type) {
		case *seg:
			if a.pkt == nil {
				panic("note refers to a packet that is not captured")
			}
			args[i] = a.pkt.num
		case tm:
			args[i] = secs(time.Duration(a) - first)
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(n.format, args...)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }

func linkName(lt layers.LinkType) string {
	switch lt {
	case layers.LinkTypeEthernet:
		return "LINKTYPE_ETHERNET (1)"
	case layers.LinkTypeRaw:
		return "LINKTYPE_RAW (101)"
	case layers.LinkTypeNull:
		return "LINKTYPE_NULL (0)"
	}
	return fmt.Sprint(int(lt))
}

// markdown writes the file's README entry.
func (f *file) markdown(w *bytes.Buffer, fn string) {
	first, last := f.pkts[0].at, f.pkts[len(f.pkts)-1].at
	format := "pcap, microsecond timestamps"
	if f.ng {
		format = "pcapng, nanosecond timestamps"
	}
	fmt.Fprintf(w, "### `%s`\n\n%s\n\n", f.name, strings.TrimSpace(f.about))
	fmt.Fprintf(w, "Made by `go run ./cmd/pcapcraft -out pcaps` (function `%s` in `cmd/pcapcraft/scenarios.go`). "+
		"%s, %s; %d packets over %s s, first packet at %s.\n\n",
		fn, format, linkName(f.linkType), len(f.pkts), secs(last-first),
		epoch.Add(first).Format("2006-01-02T15:04:05.000000Z07:00"))

	fmt.Fprintf(w, "| conn | client | server | client ISN | server ISN | client at end | server at end |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|\n")
	groups := map[string]int{}
	for _, c := range f.conns {
		if c.group != "" {
			groups[c.group]++
		}
	}
	seen := map[string]bool{}
	for _, c := range f.conns {
		if c.group != "" {
			if seen[c.group] {
				continue
			}
			seen[c.group] = true
			fmt.Fprintf(w, "| %s (%d connections) | %s | %s | random | random | %s | %s |\n",
				c.group, groups[c.group], c.groupClients, c.server.ap, c.finalClient, c.finalServer)
			continue
		}
		isn := func(e *endpoint, i int) string {
			if c.isnNote[i] != "" {
				return fmt.Sprintf("0x%08x (%s)", e.isn, c.isnNote[i])
			}
			return fmt.Sprintf("0x%08x", e.isn)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", c.label, c.client.ap, c.server.ap,
			isn(c.client, 0), isn(c.server, 1), c.finalClient, c.finalServer)
	}
	fmt.Fprintln(w)
	for _, c := range f.conns {
		if c.group != "" {
			if seen[c.group] {
				seen[c.group] = false
				fmt.Fprintf(w, "- %s: %s\n", c.group, c.expWhy.render(first))
			}
			continue
		}
		fmt.Fprintf(w, "- %s: %s\n", c.label, c.expWhy.render(first))
	}
	fmt.Fprintln(w)

	all := len(f.pkts) <= 80 // longer captures list only the interesting packets
	if all {
		fmt.Fprintf(w, "Packets (seq/ack relative to the ISNs above, raw = ISN + relative mod 2^32; "+
			"len is the TCP payload; win is the raw window field; the states are the endpoints' "+
			"true states once the packet, and any packet crossing it, has arrived):\n\n")
	} else {
		fmt.Fprintf(w, "Selected packets (every packet of the connections listed by label, and the group's "+
			"packets that have a note; same columns as elsewhere):\n\n")
	}
	fmt.Fprintf(w, "| # | time (s) | conn | dir | flags | seq | ack | len | win | client | server | notes |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range f.pkts {
		s, c := p.s, p.s.c
		if !all && c.group != "" && len(p.notes) == 0 {
			continue
		}
		dir, label := "C→S", c.label
		if s.from == c.server {
			dir = "S→C"
		}
		ack := ""
		if s.ack {
			ack = fmt.Sprint(s.ackNo - s.to.isn)
		}
		var notes []string
		if s.rtxOf != nil {
			notes = append(notes, fmt.Sprintf("retransmission of packet %d", s.rtxOf.pkt.num))
		}
		for _, n := range p.notes {
			notes = append(notes, n.render(first))
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %d | %s | %d | %d | %s | %s | %s |\n",
			p.num, secs(p.at-first), label, dir, flagString(s), s.seq-s.from.isn, ack, s.len(), s.win,
			p.after[0], p.after[1], strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
}
