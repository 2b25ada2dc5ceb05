package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// committed is where the generated files are checked in.
const committed = "../../pcaps"

const regenerate = "regenerate with: go run ./cmd/pcapcraft -out pcaps"

// TestCommittedFilesAreReproducible regenerates every capture into a
// temporary directory and compares it byte for byte with the committed one.
func TestCommittedFilesAreReproducible(t *testing.T) {
	dir := t.TempDir()
	if err := writeAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		got, err := os.ReadFile(filepath.Join(dir, sc.name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(committed, sc.name))
		if err != nil {
			t.Errorf("%s: %v; %s", sc.name, err, regenerate)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: generated file differs from the committed one (%d vs %d bytes); %s",
				sc.name, len(got), len(want), regenerate)
		}
	}
	// The README section may have been merged into pcaps/README.md and
	// removed; when it is there it must be current.
	want, err := os.ReadFile(filepath.Join(committed, readmeName))
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("%s not present; not compared", readmeName)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, readmeName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from a fresh run; %s", readmeName, regenerate)
	}
}

// TestDeterministic builds everything twice in one process.
func TestDeterministic(t *testing.T) {
	a, err := buildAll()
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d vs %d files", len(a), len(b))
	}
	for i := range a {
		if a[i].name != b[i].name || !bytes.Equal(a[i].data, b[i].data) {
			t.Errorf("%s: two runs differ", a[i].name)
		}
	}
}

// record is one packet read back from a capture.
type record struct {
	ci   gopacket.CaptureInfo
	data []byte
}

func readCapture(t *testing.T, path string) (layers.LinkType, []record) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var next func() ([]byte, gopacket.CaptureInfo, error)
	var lt layers.LinkType
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		lt, next = r.LinkType(), r.ReadPacketData
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if r.Snaplen() != snaplen {
			t.Errorf("%s: snaplen %d", path, r.Snaplen())
		}
		lt, next = r.LinkType(), r.ReadPacketData
	}
	var recs []record
	for {
		data, ci, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, len(recs)+1, err)
		}
		recs = append(recs, record{ci, bytes.Clone(data)})
	}
	return lt, recs
}

// TestCapturesDecode reads every committed capture back with pcapgo,
// decodes every packet with gopacket, and checks the checksums, the
// timestamps and the sequence numbers.
func TestCapturesDecode(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			path := filepath.Join(committed, sc.name)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%v; %s", err, regenerate)
			}
			lt, recs := readCapture(t, path)
			if len(recs) == 0 {
				t.Fatal("no packets")
			}
			sane := newSeqCheck()
			var prev time.Time
			for i, r := range recs {
				n := i + 1
				if r.ci.CaptureLength != r.ci.Length || r.ci.CaptureLength != len(r.data) {
					t.Errorf("packet %d: capture info %+v for %d bytes", n, r.ci, len(r.data))
				}
				if r.ci.Timestamp.Before(prev) {
					t.Errorf("packet %d: time goes backwards", n)
				}
				prev = r.ci.Timestamp
				p := gopacket.NewPacket(r.data, lt, gopacket.Default)
				if el := p.ErrorLayer(); el != nil {
					t.Fatalf("packet %d: decode error: %v", n, el.Error())
				}
				tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				if tcp == nil {
					t.Fatalf("packet %d: no TCP layer (%v)", n, p)
				}
				var src, dst net.IP
				switch ip := p.NetworkLayer().(type) {
				case *layers.IPv4:
					if fold(sum(ip.Contents, 0)) != 0 {
						t.Errorf("packet %d: bad IPv4 header checksum", n)
					}
					src, dst = ip.SrcIP, ip.DstIP
				case *layers.IPv6:
					src, dst = ip.SrcIP, ip.DstIP
				default:
					t.Fatalf("packet %d: network layer %T", n, ip)
				}
				if !tcpChecksumOK(src, dst, tcp) {
					t.Errorf("packet %d: bad TCP checksum", n)
				}
				if err := sane.add(src, dst, tcp); err != nil {
					t.Errorf("packet %d: %v", n, err)
				}
			}
		})
	}
}

func sum(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold returns the ones' complement of the folded sum: 0 when a block that
// includes its checksum is intact.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func tcpChecksumOK(src, dst net.IP, tcp *layers.TCP) bool {
	seg := append(bytes.Clone(tcp.Contents), tcp.Payload...)
	var ph []byte
	if v4 := src.To4(); v4 != nil {
		ph = append(append(append(ph, v4...), dst.To4()...), 0, byte(layers.IPProtocolTCP))
		ph = binary.BigEndian.AppendUint16(ph, uint16(len(seg)))
	} else {
		ph = append(append(ph, src.To16()...), dst.To16()...)
		ph = binary.BigEndian.AppendUint32(ph, uint32(len(seg)))
		ph = append(ph, 0, 0, 0, byte(layers.IPProtocolTCP))
	}
	return fold(sum(seg, sum(ph, 0))) == 0
}

// seqCheck checks, per connection and direction, that no segment starts
// beyond what its sender sent before (no holes) and no ACK acknowledges
// more than the other side sent. Forged resets are exempt from the first
// rule; a side seen for the first time (capture started late) starts the
// bookkeeping.
type seqCheck struct {
	dirs map[string]*dirSeq
}

type dirSeq struct {
	seen   bool
	isn    uint32
	maxEnd uint32
}

func newSeqCheck() *seqCheck { return &seqCheck{dirs: map[string]*dirSeq{}} }

func (c *seqCheck) add(src, dst net.IP, tcp *layers.TCP) error {
	from := fmt.Sprintf("%s:%d>%s:%d", src, tcp.SrcPort, dst, tcp.DstPort)
	to := fmt.Sprintf("%s:%d>%s:%d", dst, tcp.DstPort, src, tcp.SrcPort)
	if c.dirs[from] == nil {
		c.dirs[from], c.dirs[to] = &dirSeq{}, &dirSeq{}
	}
	me, peer := c.dirs[from], c.dirs[to]
	if tcp.SYN && !tcp.ACK && me.seen && me.isn != tcp.Seq {
		*me, *peer = dirSeq{}, dirSeq{} // a new connection on the same 4-tuple
	}
	if tcp.ACK && peer.seen && seqGT(tcp.Ack, peer.maxEnd) {
		return fmt.Errorf("%s acks %d, beyond what was sent (%d)", from, tcp.Ack, peer.maxEnd)
	}
	end := tcp.Seq + uint32(len(tcp.Payload)) + b2u(tcp.SYN) + b2u(tcp.FIN)
	switch {
	case tcp.RST:
	case !me.seen:
		me.seen, me.maxEnd = true, end
		if tcp.SYN {
			me.isn = tcp.Seq
		}
	case seqGT(tcp.Seq, me.maxEnd):
		return fmt.Errorf("%s seq %d leaves a hole after %d", from, tcp.Seq, me.maxEnd)
	case seqGT(end, me.maxEnd):
		me.maxEnd = end
	}
	return nil
}

// TestScenarioDetails spot-checks what some captures promise.
func TestScenarioDetails(t *testing.T) {
	decode := func(name string) (layers.LinkType, []gopacket.Packet) {
		path := filepath.Join(committed, name)
		if _, err := os.Stat(path); err != nil {
			t.Skipf("%v; %s", err, regenerate)
		}
		lt, recs := readCapture(t, path)
		var ps []gopacket.Packet
		for _, r := range recs {
			ps = append(ps, gopacket.NewPacket(r.data, lt, gopacket.Default))
		}
		return lt, ps
	}
	tcpOf := func(p gopacket.Packet) *layers.TCP { return p.Layer(layers.LayerTypeTCP).(*layers.TCP) }

	t.Run("fast-open", func(t *testing.T) {
		_, ps := decode("fast-open.pcap")
		syn := tcpOf(ps[0])
		if !syn.SYN || syn.ACK || len(syn.Payload) != 100 {
			t.Fatalf("first packet: SYN %v ACK %v, %d bytes", syn.SYN, syn.ACK, len(syn.Payload))
		}
		var cookie []byte
		for _, o := range syn.Options {
			if o.OptionType == 34 {
				cookie = o.OptionData
			}
		}
		if len(cookie) != 8 {
			t.Errorf("TFO cookie %x", cookie)
		}
		if sa := tcpOf(ps[1]); !sa.SYN || !sa.ACK || sa.Ack != syn.Seq+101 {
			t.Errorf("SYN-ACK acks %d, want %d", sa.Ack, syn.Seq+101)
		}
		var finData bool
		for _, p := range ps {
			if tc := tcpOf(p); tc.FIN && len(tc.Payload) > 0 {
				finData = true
			}
		}
		if !finData {
			t.Error("no FIN with data")
		}
	})
	t.Run("seq-wrap", func(t *testing.T) {
		_, ps := decode("seq-wrap.pcap")
		if s := tcpOf(ps[0]).Seq; s != 0xffffff00 {
			t.Errorf("client ISN %#x", s)
		}
		if s := tcpOf(ps[1]).Seq; s != 0xfffffff0 {
			t.Errorf("server ISN %#x", s)
		}
	})
	t.Run("vlan-qinq", func(t *testing.T) {
		_, ps := decode("vlan-qinq.pcap")
		kinds := map[int]bool{}
		for _, p := range ps {
			var tags []uint16
			for _, l := range p.Layers() {
				if q, ok := l.(*layers.Dot1Q); ok {
					tags = append(tags, q.VLANIdentifier)
				}
			}
			kinds[len(tags)] = true
			eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
			if len(tags) == 2 && (eth.EthernetType != layers.EthernetTypeQinQ || tags[0] != 200 || tags[1] != 300) {
				t.Errorf("QinQ frame: ethertype %v tags %v", eth.EthernetType, tags)
			}
		}
		if !kinds[1] || !kinds[2] || kinds[0] {
			t.Errorf("tag counts seen: %v", kinds)
		}
	})
	t.Run("bsd-loopback", func(t *testing.T) {
		lt, ps := decode("bsd-loopback.pcap")
		if lt != layers.LinkTypeNull {
			t.Fatalf("link type %v", lt)
		}
		fams := map[uint32]bool{}
		for _, p := range ps {
			fams[binary.LittleEndian.Uint32(p.Data())] = true
		}
		if len(fams) != 2 || !fams[2] || !fams[30] {
			t.Errorf("address families %v", fams)
		}
	})
	t.Run("raw-ip", func(t *testing.T) {
		lt, ps := decode("raw-ip.pcap")
		if lt != layers.LinkTypeRaw {
			t.Fatalf("link type %v", lt)
		}
		v := map[byte]bool{}
		for _, p := range ps {
			v[p.Data()[0]>>4] = true
		}
		if !v[4] || !v[6] {
			t.Errorf("IP versions %v", v)
		}
	})
	t.Run("half-open-flood", func(t *testing.T) {
		_, ps := decode("half-open-flood.pcapng")
		syns := map[string]bool{}
		for _, p := range ps {
			if tc := tcpOf(p); tc.SYN && !tc.ACK {
				syns[p.NetworkLayer().NetworkFlow().Src().String()] = true
			}
		}
		if len(syns) != 201 {
			t.Errorf("%d SYN sources, want 200 spoofed + 1 real", len(syns))
		}
	})
}
