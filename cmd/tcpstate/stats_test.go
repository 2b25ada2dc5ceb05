package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tcpstate/tcpstate/capture"
)

// TestStatsIndications writes a capture with a port scan (one host, 30
// ports, 25 refused and 5 unanswered), a SYN flood (60 spoofed sources,
// SYN-ACKs never acknowledged) and one normal connection, and checks what
// stats makes of it.
func TestStatsIndications(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scan-flood.pcap")
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	send := func(src, dst netip.AddrPort, flags uint8, seq, ack uint32) {
		at = at.Add(time.Millisecond)
		data := rawTCP(t, src, dst, flags, seq, ack)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	scanner, target := netip.MustParseAddr("192.0.2.66"), netip.MustParseAddr("198.51.100.7")
	for port := uint16(1); port <= 30; port++ {
		src, dst := netip.AddrPortFrom(scanner, 50000), netip.AddrPortFrom(target, port)
		send(src, dst, capture.FlagSYN, 1000, 0)
		if port <= 25 {
			send(dst, src, capture.FlagRST|capture.FlagACK, 0, 1001)
		}
	}
	server := netip.MustParseAddrPort("198.51.100.20:80")
	for i := range 60 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}), 40000)
		send(src, server, capture.FlagSYN, 5000, 0)
		send(server, src, capture.FlagSYN|capture.FlagACK, 9000, 5001)
	}
	client := netip.MustParseAddrPort("192.0.2.10:41000")
	send(client, server, capture.FlagSYN, 100, 0)
	send(server, client, capture.FlagSYN|capture.FlagACK, 700, 101)
	send(client, server, capture.FlagACK, 101, 701)
	send(client, server, capture.FlagFIN|capture.FlagACK, 101, 701)
	send(server, client, capture.FlagFIN|capture.FlagACK, 701, 102)
	send(client, server, capture.FlagACK, 102, 702)
	writeFile(t, file, buf.Bytes())

	out, errOut, code := runCLI(t, "stats", "--json", "-r", file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r statsReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []string{
		"possible SYN flood: 60 handshakes to 198.51.100.20:80 never completed, from 60 source addresses",
		"possible port scan: 192.0.2.66 tried 30 ports of 198.51.100.7 without a connection (25 refused, 5 unanswered)",
	}
	if got := strings.Join(r.Indications, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("indications:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if r.Conns != 91 {
		t.Errorf("%d connections, want 91", r.Conns)
	}
	if len(r.TopResets) == 0 || r.TopResets[0] != (hostCount{"198.51.100.7", 25}) {
		t.Errorf("top resetters %v, want 198.51.100.7 with 25 first", r.TopResets)
	}
	if len(r.TopConns) == 0 || r.TopConns[0] != (hostCount{"198.51.100.20", 61}) {
		t.Errorf("top talkers %v, want 198.51.100.20 with 61 first", r.TopConns)
	}
	zeek := map[string]uint64{}
	for _, c := range r.ZeekStates {
		zeek[c.Key] = c.Count
	}
	if zeek["REJ"] != 25 || zeek["S0"] != 5 || zeek["SF"] != 1 {
		t.Errorf("zeek conn_states %v, want 25 REJ, 5 S0, 1 SF", zeek)
	}

	// A quiet capture says so.
	out, _, _ = runCLI(t, "stats", "-r", sample("handshake-close.pcap"))
	if !strings.Contains(out, "no sign of a SYN flood or a port scan") {
		t.Errorf("stats on a single connection:\n%s", out)
	}
}

// rawTCP builds an IPv4 packet carrying a TCP header with no payload.
func rawTCP(t *testing.T, src, dst netip.AddrPort, flags uint8, seq, ack uint32) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack, Window: 64240,
		FIN: flags&capture.FlagFIN != 0, SYN: flags&capture.FlagSYN != 0, RST: flags&capture.FlagRST != 0, ACK: flags&capture.FlagACK != 0,
	}
	tcp.SetNetworkLayerForChecksum(ip)
	b := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
