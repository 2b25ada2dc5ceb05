package capture

import (
	"bytes"
	"flag"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var update = flag.Bool("update", false, "rewrite the files in testdata")

// TestTestdata checks that testdata/handshake.pcap, which the example
// reads, is what handshakePcap makes; -update rewrites it.
func TestTestdata(t *testing.T) {
	want := handshakePcap(t)
	const path = "testdata/handshake.pcap"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./capture -run TestTestdata -update", path)
	}
}

// handshakePcap makes a small capture of one HTTP exchange: an ARP
// request, the three-way handshake, a request and its response, and the
// close, 192.0.2.1:41952 to 198.51.100.7:80.
func handshakePcap(t testing.TB) []byte {
	t.Helper()
	client := endpoint{net.IP{192, 0, 2, 1}, 41952, mustMAC("52:54:00:12:34:56")}
	server := endpoint{net.IP{198, 51, 100, 7}, 80, mustMAC("52:54:00:ab:cd:ef")}
	const cISN, sISN = 2586524749, 287454020
	req := []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
	resp := []byte("HTTP/1.1 204 No Content\r\n\r\n")

	arp := serialize(t,
		&layers.Ethernet{SrcMAC: client.mac, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: client.mac, SourceProtAddress: client.ip,
			DstHwAddress: make([]byte, 6), DstProtAddress: server.ip})
	frames := [][]byte{
		arp,
		tcpFrame(t, client, server, "S", cISN, 0, nil),
		tcpFrame(t, server, client, "SA", sISN, cISN+1, nil),
		tcpFrame(t, client, server, "A", cISN+1, sISN+1, nil),
		tcpFrame(t, client, server, "PA", cISN+1, sISN+1, req),
		tcpFrame(t, server, client, "A", sISN+1, cISN+1+uint32(len(req)), nil),
		tcpFrame(t, server, client, "PA", sISN+1, cISN+1+uint32(len(req)), resp),
		tcpFrame(t, client, server, "FA", cISN+1+uint32(len(req)), sISN+1+uint32(len(resp)), nil),
		tcpFrame(t, server, client, "FA", sISN+1+uint32(len(resp)), cISN+2+uint32(len(req)), nil),
		tcpFrame(t, client, server, "A", cISN+2+uint32(len(req)), sISN+2+uint32(len(resp)), nil),
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 17, 9, 30, 0, 0, time.UTC)
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(i) * 250 * time.Microsecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

type endpoint struct {
	ip   net.IP
	port layers.TCPPort
	mac  net.HardwareAddr
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// tcpFrame makes an Ethernet/IPv4/TCP frame with correct checksums (and
// MSS on a SYN); flags are letters as tcpdump prints them.
func tcpFrame(t testing.TB, from, to endpoint, flags string, seq, ack uint32, payload []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP, SrcIP: from.ip, DstIP: to.ip}
	tcp := &layers.TCP{SrcPort: from.port, DstPort: to.port, Seq: seq, Ack: ack, Window: 502}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
			tcp.Window = 64240
			tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}})
		case 'A':
			tcp.ACK = true
		case 'P':
			tcp.PSH = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, &layers.Ethernet{SrcMAC: from.mac, DstMAC: to.mac, EthernetType: layers.EthernetTypeIPv4}, ip, tcp, gopacket.Payload(payload))
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}
