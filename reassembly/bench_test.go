package reassembly

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcpstate/tcpstate/capture"
)

// frame serializes one Ethernet/IPv4/TCP frame.
func frame(tb testing.TB, src, dst netip.AddrPort, flags string, seq, ack uint32, n int) []byte {
	tb.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Ack: ack, Window: 502}
	for _, c := range flags {
		switch c {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'P':
			tcp.PSH = true
		}
	}
	tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		tb.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(make([]byte, n)))
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodeAndTrack measures the per-packet cost of the offline
// path after reading: decode a frame, find its connection, step both
// state machines and count it, over 1000 established connections sending
// data and ACKs. It must report 0 allocs/op.
func BenchmarkDecodeAndTrack(b *testing.B) {
	const conns = 1000
	t := NewTable(Config{})
	var (
		dec capture.Decoder
		s   capture.Segment
		pkt uint64
	)
	now := t0
	feed := func(data []byte) {
		pkt++
		now = now.Add(time.Microsecond)
		if dec.Decode(layers.LinkTypeEthernet, data, &s) != capture.ClassTCP {
			b.Fatal("frame did not decode as TCP")
		}
		t.Add(&s, now, pkt)
	}
	type flow struct {
		data, ack []byte
	}
	flows := make([]flow, conns)
	for i := range flows {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 250)}), uint16(30000+i))
		feed(frame(b, c, srv, "S", 1000, 0, 0))
		feed(frame(b, srv, c, "SA", 5000, 1001, 0))
		feed(frame(b, c, srv, "A", 1001, 5001, 0))
		flows[i] = flow{frame(b, c, srv, "PA", 1001, 5001, 500), frame(b, srv, c, "A", 5001, 1501, 0)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &flows[i%conns]
		if i&1 == 0 {
			feed(f.data)
		} else {
			feed(f.ack)
		}
	}
}

// BenchmarkFile runs the whole offline pipeline (read, decode, table, both
// state machines, Settle and Flush) over the capture named by
// TCPSTATE_BENCH_FILE, such as one written by cmd/pcapgen. It reports the
// cost per packet besides the cost per pass over the file.
func BenchmarkFile(b *testing.B) {
	path := os.Getenv("TCPSTATE_BENCH_FILE")
	if path == "" {
		b.Skip("TCPSTATE_BENCH_FILE is not set: name a capture to measure")
	}
	var packets uint64
	b.ReportAllocs()
	for b.Loop() {
		packets = runFile(b, path, Config{Finished: func(*Conn) {}})
	}
	per := float64(b.N) * float64(packets)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/pkt")
	b.ReportMetric(float64(packets), "pkts")
}

// runFile runs one capture through a new table and returns its packets.
func runFile(tb testing.TB, path string, cfg Config) uint64 {
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	t := NewTable(cfg)
	var (
		p   capture.Packet
		s   capture.Segment
		dec capture.Decoder
		n   uint64
	)
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
		if dec.Decode(p.LinkType, p.Data, &s) == capture.ClassTCP {
			t.Add(&s, p.Time, p.Num)
		}
	}
	t.Settle(t.Now())
	t.Flush()
	return n
}

// BenchmarkTableMemory measures the heap a connection costs in the table:
// its Conn and its share of the map, with a handshake and a little data
// done (so that the history holds a few transitions).
func BenchmarkTableMemory(b *testing.B) {
	const conns = 100_000
	var ms runtime.MemStats
	var perConn float64
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		f := &feeder{t: NewTable(Config{}), now: t0}
		for i := range conns {
			c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
			f.add(seg(c, srv, "S", 1000, 0, 0), time.Microsecond)
			f.add(seg(srv, c, "SA", 7000, 1001, 0), time.Microsecond)
			f.add(seg(c, srv, "PA", 1001, 7001, 100), time.Microsecond)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if n := f.t.Stats().Live; n != conns {
			b.Fatalf("%d connections live, want %d", n, conns)
		}
		perConn = float64(ms.HeapAlloc-before) / conns
		runtime.KeepAlive(f)
	}
	b.ReportMetric(perConn, "heap-B/conn")
}
