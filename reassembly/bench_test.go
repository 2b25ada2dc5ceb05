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

// BenchmarkWholeFile runs the whole offline pipeline (read, decode, table,
// both state machines, Settle and Flush) over the capture named by
// TCPSTATE_BENCH_FILE, such as one cmd/pcapgen writes, with and without
// Config.Recycle and Compact. Besides the cost of a pass over the file it reports the
// cost and the allocations per segment, and the allocations per
// connection: without Recycle, one Conn each is the floor.
//
//	TCPSTATE_BENCH_FILE=bench-1m.pcap go test -run - -bench WholeFile ./reassembly
func BenchmarkWholeFile(b *testing.B) {
	path := os.Getenv("TCPSTATE_BENCH_FILE")
	if path == "" {
		b.Skip("TCPSTATE_BENCH_FILE is not set: name a capture to measure")
	}
	for _, v := range []struct {
		name             string
		recycle, compact bool
	}{{"plain", false, false}, {"recycle", true, false}, {"recycle+compact", true, true}} {
		b.Run(v.name, func(b *testing.B) {
			var st Stats
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mallocs := ms.Mallocs
			b.ReportAllocs()
			for b.Loop() {
				st = trackFile(b, path, Config{Recycle: v.recycle, Compact: v.compact, Finished: func(*Conn) {}})
			}
			runtime.ReadMemStats(&ms)
			n := float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n/float64(st.Segments), "ns/seg")
			b.ReportMetric(float64(st.Segments), "segs")
			b.ReportMetric(float64(st.Conns), "conns")
			b.ReportMetric(float64(st.Peak), "peak-conns")
			allocs := float64(ms.Mallocs-mallocs) / n
			b.ReportMetric(allocs/float64(st.Segments), "allocs/seg")
			b.ReportMetric(allocs/float64(st.Conns), "allocs/conn")
		})
	}
}

// trackFile runs one capture through a new table and returns the table's
// counters.
func trackFile(tb testing.TB, path string, cfg Config) Stats {
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	t := NewTable(cfg)
	trackInto(tb, path, t)
	t.Settle(t.Now())
	st := t.Stats()
	t.Flush()
	return st
}

func trackInto(tb testing.TB, path string, t *Table) {
	src, err := capture.Open([]string{path}, capture.OpenOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var (
		p   capture.Packet
		s   capture.Segment
		dec capture.Decoder
	)
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if dec.Decode(p.LinkType, p.Data, &s) == capture.ClassTCP {
			t.Add(&s, p.Time, p.Num)
		}
	}
}

// BenchmarkTableMemory measures the heap a connection costs in the table:
// its Conn, body and share of the index, with a handshake and a little data
// done (so that the history holds a few transitions); and, closed (the
// client in TIME_WAIT) and packed by Config.Compact, its Conn, image and
// share of the index.
func BenchmarkTableMemory(b *testing.B) {
	const conns = 100_000
	for _, closed := range []bool{false, true} {
		name := "open"
		if closed {
			name = "closed-packed"
		}
		b.Run(name, func(b *testing.B) {
			var ms runtime.MemStats
			var perConn float64
			for b.Loop() {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				f := &feeder{t: NewTable(Config{Compact: closed}), now: t0}
				for i := range conns {
					c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
					f.add(seg(c, srv, "S", 1000, 0, 0), time.Microsecond)
					f.add(seg(srv, c, "SA", 7000, 1001, 0), time.Microsecond)
					f.add(seg(c, srv, "PA", 1001, 7001, 100), time.Microsecond)
					if closed {
						f.add(seg(srv, c, "A", 7001, 1101, 0), time.Microsecond)
						f.add(seg(c, srv, "FA", 1101, 7001, 0), time.Microsecond)
						f.add(seg(srv, c, "FA", 7001, 1102, 0), time.Microsecond)
						f.add(seg(c, srv, "A", 1102, 7002, 0), time.Microsecond)
					}
				}
				f.t.Advance(f.now.Add(time.Second)) // a sweep packs what the last segments closed
				f.t.bodies = nil                    // the pool of bodies to reuse is not the connections'
				runtime.GC()
				runtime.ReadMemStats(&ms)
				if n := f.t.Stats().Live; n != conns {
					b.Fatalf("%d connections live, want %d", n, conns)
				}
				if closed && f.t.packs != conns {
					b.Fatalf("%d connections packed, want %d", f.t.packs, conns)
				}
				perConn = float64(ms.HeapAlloc-before) / conns
				runtime.KeepAlive(f)
			}
			b.ReportMetric(perConn, "heap-B/conn")
		})
	}
}

var sinkHash uint64

// BenchmarkIndexHash measures the hash of every lookup, for IPv4 and IPv6.
func BenchmarkIndexHash(b *testing.B) {
	x := newIndex()
	for _, p := range []struct{ name, a, b string }{
		{"ipv4", "192.0.2.1:40000", "198.51.100.7:80"},
		{"ipv6", "[2001:db8::1]:40000", "[2001:db8::7]:80"},
	} {
		b.Run(p.name, func(b *testing.B) {
			a, c := netip.MustParseAddrPort(p.a), netip.MustParseAddrPort(p.b)
			b.ReportAllocs()
			for b.Loop() {
				sinkHash = x.hash(a, c)
			}
		})
	}
}
