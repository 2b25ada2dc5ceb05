package main

import (
	"fmt"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// observed is one connection as a tiny independent observer sees it in the
// decoded capture: no knowledge of the generator's scripts.
type observed struct {
	client, server netip.AddrPort
	isn            [2]uint32 // client's, server's (valid once seen)
	seen           [2]bool
	maxEnd         [2]uint32 // highest sequence number after a segment, per sender
	syns, synacks  int
	firstFIN       int // -1: none; 0 client; 1 server
	fin            [2]bool
	finEnd         [2]uint32 // sequence number after each FIN
	finAcked       [2]bool   // the peer acknowledged it exactly (FIN takes one)
	rst            int       // -1: none; else who sent the first RST
	refused        bool
	dataAfterFIN   bool // the server sent data after the client's FIN
	v6, vlan       bool
	first, last    time.Time
	lastFrom       int
	lastAck        uint32
	packets        int
}

func (o *observed) kind() string {
	switch {
	case o.refused:
		return "refused"
	case o.rst == 0:
		return "client-reset"
	case o.rst == 1:
		return "server-reset"
	case o.firstFIN == 0 && o.dataAfterFIN:
		return "half-close"
	case o.firstFIN == 0:
		return "client-close"
	case o.firstFIN == 1:
		return "server-close"
	}
	return "open"
}

// observe groups the packets of normal connections (flood excluded) into
// connections, a new one for a SYN with a new ISN on a known 4-tuple, and
// checks each segment's numbers: an ACK never acknowledges data the peer
// was not seen sending, data and FINs start where the sender's stream is,
// resets are at the sender's SND.NXT, FINs are acknowledged as taking one.
func observe(t *testing.T, ds []decoded) []*observed {
	t.Helper()
	bench := netip.MustParsePrefix("198.18.0.0/15")
	type key struct{ a, b netip.AddrPort }
	live := map[key]*observed{}
	var all []*observed
	for i, d := range ds {
		if bench.Contains(d.src.Addr()) || bench.Contains(d.dst.Addr()) {
			continue
		}
		n, tcp := i+1, d.tcp
		k := key{d.src, d.dst}
		if d.dst.Compare(d.src) < 0 {
			k = key{d.dst, d.src}
		}
		o := live[k]
		if tcp.SYN && !tcp.ACK && (o == nil || o.isn[0] != tcp.Seq) {
			o = &observed{client: d.src, server: d.dst, firstFIN: -1, rst: -1, first: d.at,
				v6: d.src.Addr().Is6(), vlan: d.vlan}
			live[k] = o
			all = append(all, o)
		}
		if o == nil {
			t.Fatalf("packet %d: %v → %v before any SYN", n, d.src, d.dst)
		}
		from := 0
		if d.src == o.server {
			from = 1
		}
		peer := 1 - from
		o.packets++
		o.last, o.lastFrom = d.at, from
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("packet %d (%v → %v, %s, seq %d ack %d len %d): %s", n, d.src, d.dst, flagString(tcp),
				tcp.Seq, tcp.Ack, d.payload, fmt.Sprintf(format, args...))
		}
		if d.vlan != o.vlan {
			fail("VLAN tag on some packets of the connection only")
		}
		switch {
		case tcp.SYN && !tcp.ACK:
			o.syns++
			o.isn[0], o.seen[0], o.maxEnd[0] = tcp.Seq, true, tcp.Seq+1
			if len(tcp.Options) != 5 {
				fail("SYN with %d options, want Linux's 5", len(tcp.Options))
			}
			continue
		case tcp.SYN:
			o.synacks++
			if tcp.Ack != o.isn[0]+1 {
				fail("SYN-ACK does not acknowledge the SYN")
			}
			o.isn[1], o.seen[1], o.maxEnd[1] = tcp.Seq, true, tcp.Seq+1
			continue
		case tcp.RST && from == 1 && o.synacks == 0:
			if tcp.Seq != 0 || !tcp.ACK || tcp.Ack != o.isn[0]+1 {
				fail("refusal is not RST-ACK seq 0 acknowledging the SYN")
			}
			o.refused = true
			continue
		}
		if !o.seen[1] {
			fail("segment before the handshake")
		}
		end := tcp.Seq + uint32(d.payload)
		if tcp.ACK && int32(tcp.Ack-o.maxEnd[peer]) > 0 {
			fail("acknowledges %d, beyond the %d the peer was seen sending", tcp.Ack-o.isn[peer], o.maxEnd[peer]-o.isn[peer])
		}
		if tcp.ACK && o.fin[peer] && tcp.Ack == o.finEnd[peer] {
			o.finAcked[peer] = true
		}
		switch {
		case tcp.RST:
			if tcp.Seq != o.maxEnd[from] {
				fail("RST at %d, not at SND.NXT %d", tcp.Seq-o.isn[from], o.maxEnd[from]-o.isn[from])
			}
			if o.rst < 0 {
				o.rst = from
			}
		case int32(tcp.Seq-o.maxEnd[from]) > 0 && (d.payload == 0 || tcp.FIN):
			fail("starts beyond SND.NXT %d", o.maxEnd[from]-o.isn[from])
		case tcp.Seq == o.maxEnd[from]-1 && d.payload == 0 && !tcp.FIN:
			// a keep-alive probe
		}
		if tcp.FIN {
			end++
			if o.fin[from] {
				fail("second FIN")
			}
			o.fin[from], o.finEnd[from] = true, end
			if o.firstFIN < 0 {
				o.firstFIN = from
			}
		}
		if from == 1 && d.payload > 0 && o.fin[0] {
			o.dataAfterFIN = true
		}
		if int32(end-o.maxEnd[from]) > 0 {
			o.maxEnd[from] = end
		}
		o.lastAck = tcp.Ack
	}
	return all
}

// flagString prints the flags as tcpdump does ([S.], [P.], ...).
func flagString(tcp *layers.TCP) string {
	b := []byte{'['}
	for _, f := range []struct {
		on bool
		c  byte
	}{{tcp.FIN, 'F'}, {tcp.SYN, 'S'}, {tcp.RST, 'R'}, {tcp.PSH, 'P'}, {tcp.ACK, '.'}} {
		if f.on {
			b = append(b, f.c)
		}
	}
	return string(append(b, ']'))
}

// TestConnections checks every connection's segments and that each kind
// ends the way it should, and compares the counts with the expect file.
func TestConnections(t *testing.T) {
	path, e := gen(t, t.TempDir(), "c.pcap", "-conns", "6000", "-concurrency", "300", "-seed", "11")
	conns := observe(t, decodeAll(t, readCapture(t, path)))
	counts := map[string]int{}
	var synRetx, v6, vlan int
	for _, o := range conns {
		k := o.kind()
		counts[k]++
		if o.syns > 1 {
			synRetx++
		}
		if o.v6 {
			v6++
		}
		if o.vlan {
			vlan++
		}
		bad := func(what string) {
			t.Helper()
			t.Errorf("%s %v → %v: %s", k, o.client, o.server, what)
		}
		if o.syns < 1 || o.syns > 3 {
			bad(fmt.Sprintf("%d SYNs", o.syns))
		}
		switch k {
		case "refused":
			if o.packets != 1+o.syns || o.synacks != 0 {
				bad(fmt.Sprintf("%d packets, %d SYN-ACKs", o.packets, o.synacks))
			}
		case "client-close", "server-close", "half-close":
			closer := o.firstFIN
			if o.synacks != 1 || !o.fin[0] || !o.fin[1] {
				bad("not a complete handshake and both FINs")
			}
			if !o.finAcked[0] || !o.finAcked[1] {
				bad("a FIN not acknowledged as taking one sequence number")
			}
			if o.lastFrom != closer || o.lastAck != o.finEnd[1-closer] {
				bad("the last segment is not the closer's ACK of the peer's FIN")
			}
			if k == "half-close" && o.firstFIN != 0 {
				bad("half-close not started by the client")
			}
		case "client-reset", "server-reset":
			if o.synacks != 1 || o.fin[0] || o.fin[1] {
				bad("reset connection with FINs or without a handshake")
			}
			if o.lastFrom != o.rst {
				bad("the RST is not the last segment")
			}
		default:
			bad("not finished")
		}
	}
	for _, k := range e.Kinds {
		if k.Kind == "flood" {
			continue
		}
		if counts[k.Kind] != k.Count {
			t.Errorf("%s: %d connections in the capture, %d in the expect file", k.Kind, counts[k.Kind], k.Count)
		}
	}
	if len(conns) != e.Connections || e.Connections != 6000 {
		t.Errorf("%d connections in the capture, %d in the expect file, want 6000", len(conns), e.Connections)
	}
	for name, got := range map[string]int{"syn_retransmit": synRetx, "ipv6": v6, "vlan": vlan} {
		if got != e.Features[name] {
			t.Errorf("%s: %d in the capture, %d in the expect file", name, got, e.Features[name])
		}
		if got == 0 {
			t.Errorf("%s: none", name)
		}
	}
	for _, k := range kinds {
		if counts[k.name] == 0 {
			t.Errorf("no %s connection", k.name)
		}
	}
}

// TestConcurrency: never more than -concurrency connections alive (first
// to last packet), and close to that many while the pool is busy.
func TestConcurrency(t *testing.T) {
	const conc = 150
	path, _ := gen(t, t.TempDir(), "k.pcap", "-conns", "4000", "-concurrency", fmt.Sprint(conc), "-seed", "5")
	conns := observe(t, decodeAll(t, readCapture(t, path)))
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, o := range conns {
		edges = append(edges, edge{o.first, +1}, edge{o.last.Add(time.Nanosecond), -1})
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].at.Before(edges[j].at) })
	start, end := edges[0].at, edges[len(edges)-1].at
	alive, peak := 0, 0
	var samples []int // alive at each edge in the first half of the capture, past the start
	for _, e := range edges {
		alive += e.delta
		peak = max(peak, alive)
		if e.at.Sub(start) > 200*time.Millisecond && e.at.Before(start.Add(end.Sub(start)/2)) {
			samples = append(samples, alive)
		}
	}
	if peak > conc {
		t.Errorf("%d connections alive at once, -concurrency %d", peak, conc)
	}
	if len(samples) == 0 {
		t.Fatal("no connection in the first half of the capture")
	}
	sort.Ints(samples)
	median := samples[len(samples)/2]
	t.Logf("peak %d alive, median %d while busy (-concurrency %d)", peak, median, conc)
	if median < conc*9/10 {
		t.Errorf("median alive while busy %d, want ≥ 90%% of %d", median, conc)
	}
}
