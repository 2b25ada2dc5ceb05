package main

// The scenario table: one function per capture file.

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

const (
	ms  = time.Millisecond
	us  = time.Microsecond
	sec = time.Second
)

type scenario struct {
	name  string
	build func(f *file)
}

var scenarios = []scenario{
	{"simultaneous-open.pcap", simultaneousOpen},
	{"simultaneous-close.pcap", simultaneousClose},
	{"rst-out-of-window.pcap", rstOutOfWindow},
	{"synack-first.pcap", synackFirst},
	{"midstream.pcap", midstream},
	{"seq-wrap.pcap", seqWrap},
	{"fast-open.pcap", fastOpen},
	{"vlan-qinq.pcap", vlanQinQ},
	{"raw-ip.pcap", rawIP},
	{"bsd-loopback.pcap", bsdLoopback},
	{"port-reuse.pcap", portReuse},
	{"keepalive-zero-window.pcap", keepaliveZeroWindow},
	{"syn-retransmit-refused.pcap", synRetransmitRefused},
	{"lost-final-ack.pcap", lostFinalAck},
	{"time-wait-expiry.pcap", timeWaitExpiry},
	{"half-open-flood.pcapng", halfOpenFlood},
}

func simultaneousOpen(f *file) {
	f.about = `Simultaneous open (RFC 9293 figure 8): both endpoints connect to each other at the same time
(as in TCP hole punching). Each sends a SYN without ACK, the SYNs cross, each answers the other's SYN
with a SYN-ACK that carries its own ISN again, and the SYN-ACKs cross. Both go SYN_SENT → SYN_RECEIVED
when the other's SYN arrives and SYN_RECEIVED → ESTABLISHED when the other's SYN-ACK (which acks their
SYN) arrives, as in figure 8 and in Linux. Each then ACKs the SYN-ACK it got, as Linux does since the
SYN in it is a duplicate by then (packets 5 and 6, no state change). Read to the letter, RFC 9293's
acceptability test rejects that SYN-ACK (its seq is RCV.NXT − 1) and only answers it with an ACK; an
analyzer following that letter moves to ESTABLISHED on packets 5/6 instead, with the same end states.
Then a request, a response and a normal close started by the client. The client is
192.0.2.10:50000, whose SYN is first; it has the lower port, so a guess by port would pick the wrong
side.`
	c := f.conn("A", "192.0.2.10:50000", "198.51.100.20:50001")
	cl, sv := c.client, c.server
	sv.state, sv.synWin = closed, 64240 // an active opener too
	synC := c.emit(cl, "S", 0)
	c.wait(300 * us)
	synS := c.emit(sv, "S", 0).note("SYN without ACK from the other side; crosses packet %d", synC)
	c.deliver(synS)
	c.deliver(synC)
	saC := c.emit(cl, "SA", 0).note("SYN-ACK: seq = client ISN again, acks the server's SYN")
	c.wait(250 * us)
	saS := c.emit(sv, "SA", 0).note("SYN-ACK from the server; crosses packet %d", saC)
	c.deliver(saS)
	c.deliver(saC)
	ackC := c.send(cl, "A", 0)
	ackC.note("ACK of the server's SYN-ACK, whose SYN is a duplicate by now (Linux answers it); no state change")
	c.wait(20 * us)
	c.send(sv, "A", 0).note("the same from the server")
	c.exchange(120, 640)
	c.wait(20 * ms)
	c.closeFrom(cl)
	c.expect(timeWait, closed, "both reach ESTABLISHED through SYN_RECEIVED once the crossing SYN-ACKs "+
		"(packets %d and %d) arrive; the client closes first and ends in TIME_WAIT.", saC, saS)
}

func simultaneousClose(f *file) {
	f.about = `Simultaneous close: after a normal handshake and one request/response, both endpoints send a FIN
at the same time. Each FIN acknowledges the other side's data but not its FIN (the FINs cross), so
each endpoint goes FIN_WAIT_1 → CLOSING when the other's FIN arrives, then CLOSING → TIME_WAIT when
the ACK of its own FIN arrives. The capture ends right after, with both endpoints in TIME_WAIT.`
	c := f.conn("A", "192.0.2.10:51234", "198.51.100.20:8080")
	cl, sv := c.client, c.server
	c.handshake()
	c.exchange(200, 1200)
	c.wait(50 * ms)
	finC := c.emit(cl, "FA", 0).note("client FIN")
	c.wait(150 * us)
	finS := c.emit(sv, "FA", 0).note("server FIN, crosses packet %d: its ack (%d) covers the client's data, not its FIN",
		finC, finC.seq-cl.isn)
	c.deliver(finC)
	c.deliver(finS)
	ackC := c.emit(cl, "A", 0).note("client ACKs the server's FIN (in CLOSING)")
	c.wait(150 * us)
	ackS := c.emit(sv, "A", 0).note("server ACKs the client's FIN (in CLOSING); crosses packet %d", ackC)
	c.deliver(ackC)
	c.deliver(ackS)
	c.expect(timeWait, timeWait, "FIN_WAIT_1 → CLOSING when the other's FIN arrives (packets %d/%d), "+
		"CLOSING → TIME_WAIT when the ACK of its own FIN arrives (packets %d/%d), the last packets of the capture.",
		finC, finS, ackC, ackS)
}

func rstOutOfWindow(f *file) {
	f.about = `Forged resets against an established connection (RFC 5961). A third party injects two RSTs in
the server's name (no options, window 0, TTL 49 where the server's packets have 57). The first has a
sequence number far outside the client's receive window and is silently dropped. The second is inside
the window but not at the next expected sequence number (RCV.NXT), so the client does not reset but
answers with a challenge ACK (RFC 5961 §3.2), which the real server takes as a duplicate ACK. The
connection then carries on and closes normally.`
	c := f.conn("A", "192.0.2.10:52814", "198.51.100.20:80")
	cl, sv := c.client, c.server
	c.handshake()
	c.exchange(200, 1000)
	c.wait(80 * ms)
	far := c.forge(sv, "R", cl.rcvNxt+0x40000000, 0)
	far.note("forged RST, seq = client's RCV.NXT + 2^30 (raw 0x%08x): outside the client's window "+
		"(RCV.NXT + %d bytes), ignored, no answer", far.seq, int(cl.win)<<cl.wscale)
	c.deliver(far)
	c.wait(3 * ms)
	in := c.forge(sv, "R", cl.rcvNxt+5000, 0)
	in.note("forged RST, seq = client's RCV.NXT + 5000 (raw 0x%08x): in the window but not exactly "+
		"RCV.NXT, so no reset: the client must send a challenge ACK", in.seq)
	c.deliver(in)
	ch := c.send(cl, "A", 0).note("challenge ACK (seq = SND.NXT, ack = RCV.NXT); a duplicate ACK to the server")
	c.wait(40 * ms)
	c.exchange(150, 800)
	c.wait(30 * ms)
	c.closeFrom(cl)
	c.expect(timeWait, closed, "neither RST (packets %d, %d) changes a state; the challenge ACK "+
		"(packet %d) changes none either; the client closes first.", far, in, ch)
}

func synackFirst(f *file) {
	f.about = `The capture starts at the SYN-ACK: the client's SYN went out before the capture started. The sender
of a SYN-ACK is the server, so the roles are known (but guessed, since no SYN was seen). Then the
client's ACK, a request and response, and a close started by the client.`
	c := f.conn("A", "192.0.2.10:53412", "198.51.100.20:80")
	cl, sv := c.client, c.server
	c.uncaptured(func() { c.send(cl, "S", 0) })
	c.isnNote[0] = "SYN not captured; ISN = SYN-ACK's ack − 1"
	sa := c.send(sv, "SA", 0).note("first packet: SYN-ACK for a SYN that is not in the capture")
	c.send(cl, "A", 0)
	c.exchange(310, 2896)
	c.wait(20 * ms)
	c.closeFrom(cl)
	c.expect(timeWait, closed, "the client was SYN_SENT and the server SYN_RECEIVED before packet %d "+
		"(inferred); after that a plain handshake end, data and a client-first close.", sa)
}

func midstream(f *file) {
	f.about = `The capture starts in the middle of a data transfer on an HTTPS connection: no SYN or SYN-ACK, the
first packet is server data. Port 443 makes 198.51.100.20 the server (a guessed role); both
endpoints start ESTABLISHED (picked up mid-stream, window scale unknown). More data both ways, then
the server closes first: its FIN, the client's FIN-ACK (acking the server's FIN and carrying its own),
and the server's final ACK.`
	c := f.conn("A", "192.0.2.10:51822", "198.51.100.20:443")
	cl, sv := c.client, c.server
	c.uncaptured(func() {
		c.handshake()
		c.data(cl, 517)
		c.data(sv, 1448)
		c.data(sv, 1448)
		c.data(sv, 1200)
		c.send(cl, "A", 0)
		c.data(cl, 80)
		c.data(sv, 300)
		c.data(cl, 420)
	})
	c.isnNote = [2]string{"SYN not captured", "SYN-ACK not captured"}
	first := c.data(sv, 1448).note("first packet: mid-stream server data")
	c.data(sv, 1448)
	c.send(cl, "A", 0)
	c.data(sv, 1448)
	c.data(sv, 900)
	c.send(cl, "A", 0)
	c.wait(30 * ms)
	c.exchange(120, 640)
	c.wait(5 * sec)
	fin := c.send(sv, "FA", 0).note("the server closes first (idle timeout): server → FIN_WAIT_1, client → CLOSE_WAIT")
	both := c.send(cl, "FA", 0).note("client's FIN also acks the server's FIN: client → LAST_ACK; " +
		"server FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT")
	c.send(sv, "A", 0).note("final ACK: client → CLOSED")
	c.expect(closed, timeWait, "both ESTABLISHED from packet %d (picked up); the server's FIN (packet %d) "+
		"and the client's FIN-ACK (packet %d) close it with the server in TIME_WAIT.", first, fin, both)
}

func seqWrap(f *file) {
	f.about = `Both sequence spaces wrap past 2^32 during the transfer: client ISN 0xffffff00, server ISN
0xfffffff0. The client's first segment ends exactly at 2^32 (the server acks it with ack number 0)
and its second starts at sequence number 0; the server's first data segment straddles 2^32.
Normal close started by the client.`
	c := f.conn("A", "192.0.2.10:54321", "198.51.100.20:80").isns(0xffffff00, 0xfffffff0)
	cl, sv := c.client, c.server
	c.handshake()
	a := c.data(cl, 255)
	a.note("raw seq 0x%08x, 255 bytes: the last byte is 0xffffffff", a.seq)
	c.send(sv, "A", 0).note("raw ack 0x%08x", cl.sndNxt)
	b := c.data(cl, 300)
	b.note("raw seq 0x%08x (wrapped)", b.seq)
	d := c.data(sv, 1448)
	d.note("raw seq 0x%08x, next 0x%08x: straddles 2^32; raw ack 0x%08x", d.seq, d.end(), d.ackNo)
	c.data(sv, 1448)
	c.data(sv, 600)
	c.send(cl, "A", 0)
	c.wait(25 * ms)
	cl4 := c.closeFrom(cl)
	cl4[0].note("raw seq 0x%08x", cl4[0].seq)
	cl4[2].note("raw seq 0x%08x", cl4[2].seq)
	c.expect(timeWait, closed, "an ordinary connection apart from the wrap; the client closes first.")
}

func fastOpen(f *file) {
	f.about = `TCP Fast Open (RFC 7413). The client's SYN carries the first 100 bytes of its request and a Fast
Open cookie (option 34, 8-byte cookie, followed by two NOPs as Linux pads it). The SYN-ACK
acknowledges the SYN and the data (ack = ISN + 101). As a Linux TFO server does, the server sends the
first response segment right after its SYN-ACK, while still in SYN_RECEIVED. The last response
segment carries the FIN (FIN with data), so the server closes first.`
	c := f.conn("A", "192.0.2.10:41822", "198.51.100.20:80")
	cl, sv := c.client, c.server
	syn := c.send(cl, "S", 100).cookie([]byte{0x8e, 0x1a, 0x3f, 0x62, 0xd4, 0x07, 0xb5, 0x9c})
	syn.note("SYN with 100 bytes of data and a TFO cookie")
	c.send(sv, "SA", 0).note("ack 101: the SYN and its 100 bytes")
	early := c.data(sv, 1448).note("response data sent while the server is still SYN_RECEIVED")
	c.send(cl, "A", 0).note("acks the SYN-ACK and packet %d: server → ESTABLISHED", early)
	c.wait(2 * ms)
	fin := c.send(sv, "FPA", 400).note("the last 400 bytes of the response with FIN: server → FIN_WAIT_1, client → CLOSE_WAIT")
	c.send(cl, "A", 0).note("acks the data and the FIN: server → FIN_WAIT_2")
	c.wait(3 * ms)
	c.send(cl, "FA", 0)
	c.send(sv, "A", 0)
	c.expect(closed, timeWait, "data in the SYN (packet %d) and a FIN with data (packet %d); the server "+
		"closes first and ends in TIME_WAIT.", syn, fin)
}

func vlanQinQ(f *file) {
	f.about = `Two short connections on tagged Ethernet. A (IPv4) has one 802.1Q tag, VLAN 100. B (IPv6) is
double-tagged (QinQ): an 802.1ad service tag (TPID 0x88a8, VLAN 200) around an 802.1Q customer tag
(TPID 0x8100, VLAN 300). A is closed by its client, B by its server.`
	a := f.conn("A", "192.0.2.10:52000", "198.51.100.20:80")
	a.link, a.vlan = linkDot1Q, 100
	a.handshake()
	a.exchange(120, 600)
	a.wait(20 * ms)
	a.closeFrom(a.client)
	a.expect(timeWait, closed, "802.1Q VLAN 100; client-first close.")

	b := f.conn("B", "[2001:db8:1::10]:52001", "[2001:db8:2::20]:80")
	b.link, b.svlan, b.vlan = linkQinQ, 200, 300
	b.client.mac, b.server.mac = mac(3), mac(4)
	b.at(500 * ms)
	b.handshake()
	b.exchange(120, 600)
	b.wait(20 * ms)
	b.closeFrom(b.server)
	b.expect(closed, timeWait, "QinQ S-VLAN 200 / C-VLAN 300, IPv6; server-first close.")
}

func rawIP(f *file) {
	f.linkType = layers.LinkTypeRaw
	f.about = `LINKTYPE_RAW (101): packets start with the IP header, as on a tunnel interface (a WireGuard-like
MTU of 1420, so MSS 1380 over IPv4 and 1360 over IPv6; 30 ms RTT). One short IPv4 connection (A)
and one IPv6 connection (B), both closed by the client.`
	a := f.conn("A", "192.0.2.10:50814", "203.0.113.5:22")
	a.client.mss, a.server.mss = 1380, 1380
	a.halfRTT = 15 * ms
	a.handshake()
	a.exchange(40, 1500)
	a.wait(50 * ms)
	a.closeFrom(a.client)
	a.expect(timeWait, closed, "IPv4 in raw IP; client-first close.")

	b := f.conn("B", "[2001:db8:1::10]:50816", "[2001:db8:3::5]:443")
	b.client.mss, b.server.mss = 1360, 1360
	b.halfRTT = 15 * ms
	b.at(400 * ms)
	b.handshake()
	b.exchange(300, 2000)
	b.wait(50 * ms)
	b.closeFrom(b.client)
	b.expect(timeWait, closed, "IPv6 in raw IP; client-first close.")
}

func bsdLoopback(f *file) {
	f.linkType = layers.LinkTypeNull
	f.about = `LINKTYPE_NULL (0), as tcpdump writes it on a BSD or macOS loopback interface: a 4-byte address
family in host (here little-endian) byte order, 2 for IPv4 and 30 (macOS AF_INET6) for IPv6, then the
IP packet. Traffic between two local addresses of one host (so over lo0: MSS 16344 over IPv4,
16324 over IPv6; round trips of about 80 µs; TTL 64 both ways). One IPv4 connection (A) and one
IPv6 connection (B), both closed by the client.`
	a := f.conn("A", "192.0.2.10:53000", "192.0.2.11:8080")
	a.client.mss, a.server.mss, a.server.ttl = 16344, 16344, 64
	a.halfRTT = 40 * us
	a.handshake()
	a.exchange(90, 4000)
	a.wait(2 * ms)
	a.closeFrom(a.client)
	a.expect(timeWait, closed, "IPv4, family 2; client-first close.")

	b := f.conn("B", "[2001:db8::10]:53001", "[2001:db8::11]:8080")
	b.client.mss, b.server.mss, b.server.ttl = 16324, 16324, 64
	b.halfRTT = 40 * us
	b.at(100 * ms)
	b.handshake()
	b.exchange(90, 4000)
	b.wait(2 * ms)
	b.closeFrom(b.client)
	b.expect(timeWait, closed, "IPv6, family 30; client-first close.")
}

func portReuse(f *file) {
	f.about = `Three connections on one 4-tuple (192.0.2.10:50123 → 198.51.100.20:80). A closes normally, client
first, leaving the client in TIME_WAIT. 5 s later, while that TIME_WAIT still runs, the client opens B
on the same 4-tuple with a higher ISN (A's last sequence number + 65537, as Linux's tcp_tw_reuse
picks it; timestamps keep increasing): a new connection, A is finished. B exchanges data and closes,
client first. 70 s after B's close (past 2·MSL = 60 s, so B's TIME_WAIT has ended) C opens the
4-tuple again, with an ISN that follows the clock rather than B, and closes, client first.`
	const cli, srv = "192.0.2.10:50123", "198.51.100.20:80"
	a := f.conn("A", cli, srv)
	a.handshake()
	a.exchange(150, 1200)
	a.wait(15 * ms)
	aClose := a.closeFrom(a.client)

	b := f.conn("B", cli, srv)
	b.client.tsOff, b.server.tsOff = a.client.tsOff, a.server.tsOff
	b.isns(a.client.sndNxt+65537, f.rng.u32())
	b.at(a.now + 5*sec)
	bSyn := b.send(b.client, "S", 0)
	bSyn.note("same 4-tuple 5 s after A closed, A's client still in TIME_WAIT; ISN = A's last seq + 65537: new connection B")
	a.expect(closed, closed, "the client's TIME_WAIT (from packet %d) ends when B reuses the 4-tuple at "+
		"packet %d, and would have ended at %s s anyway.", aClose[2], bSyn, tm(a.client.twSince+twoMSL))
	b.send(b.server, "SA", 0)
	b.send(b.client, "A", 0)
	b.exchange(150, 1200)
	b.wait(15 * ms)
	bClose := b.closeFrom(b.client)
	b.expect(closed, closed, "client TIME_WAIT from packet %d (%s s) until %s s, before C starts.",
		bClose[2], tm(b.client.twSince), tm(b.client.twSince+twoMSL))

	c := f.conn("C", cli, srv)
	c.client.tsOff, c.server.tsOff = a.client.tsOff, a.server.tsOff
	c.at(b.now + 70*sec)
	c.isns(a.client.isn+uint32(int64(c.now)/64), f.rng.u32()) // ISN clock: 1 per 64 ns
	cSyn := c.send(c.client, "S", 0)
	cSyn.note("same 4-tuple 70 s after B closed (B's TIME_WAIT over): new connection C")
	c.send(c.server, "SA", 0)
	c.send(c.client, "A", 0)
	c.exchange(150, 1200)
	c.wait(15 * ms)
	c.closeFrom(c.client)
	c.expect(timeWait, closed, "opened at packet %d; client-first close, the capture ends within 2·MSL.", cSyn)
}

func keepaliveZeroWindow(f *file) {
	f.about = `Keep-alives and a zero window on one established connection; neither changes any state. The
server reads slowly and has a small receive buffer (window 40 × 128 = 5120 bytes). After a
request/response the connection idles: a Linux-style keep-alive from the client (seq = SND.NXT − 1,
no data) and, 15 s later, a Windows-style one from the server (seq = SND.NXT − 1 with the last byte
already sent), each answered by an ACK. Then the client uploads until the server advertises a zero
window (the right edge of its window never moves back), probes the closed window twice with one
byte beyond it (RFC 9293 §3.8.6.1; the byte is not accepted and the answer repeats ack and window
0), the server opens the window again with a window update, the upload resumes at the probed
sequence number and the client closes.`
	c := f.conn("A", "192.0.2.10:50522", "198.51.100.20:9000")
	cl, sv := c.client, c.server
	sv.synWin, sv.win = 5120, 40
	c.handshake()
	c.exchange(100, 500)
	c.wait(15 * sec)
	ka := c.raw(cl, "A", cl.sndNxt-1, cl.rcvNxt, 0).note("keep-alive probe: seq = SND.NXT − 1, no data")
	c.deliver(ka)
	c.send(sv, "A", 0).note("answer to the keep-alive: a duplicate ACK")
	c.wait(15 * sec)
	ka2 := c.raw(sv, "A", sv.sndNxt-1, sv.rcvNxt, 1).note("keep-alive probe: seq = SND.NXT − 1 and 1 byte already acknowledged")
	c.deliver(ka2)
	c.send(cl, "A", 0).note("answer to the keep-alive")
	c.wait(2 * sec)
	c.data(cl, 1280)
	c.data(cl, 1280)
	sv.win = 20
	c.send(sv, "A", 0).note("window 20 (2560 bytes): the application is not reading")
	c.data(cl, 1280)
	c.data(cl, 1280)
	sv.win = 0
	zw := c.send(sv, "A", 0).note("zero window")
	c.wait(210 * ms)
	p1 := c.raw(cl, "A", cl.sndNxt, cl.rcvNxt, 1).note("zero-window probe: 1 byte at SND.NXT, beyond the window; not accepted")
	c.send(sv, "A", 0).note("ack unchanged, window 0")
	c.wait(420 * ms)
	p2 := c.raw(cl, "A", cl.sndNxt, cl.rcvNxt, 1).note("zero-window probe again (backoff); not accepted")
	c.send(sv, "A", 0).note("ack unchanged, window 0")
	c.wait(600 * ms)
	sv.win = 40
	wu := c.send(sv, "A", 0).note("window update: window 40, ack unchanged")
	c.data(cl, 1280).note("the upload resumes at the probed sequence number")
	c.data(cl, 1280)
	c.send(sv, "A", 0)
	c.wait(10 * ms)
	c.closeFrom(cl)
	c.expect(timeWait, closed, "ESTABLISHED throughout the keep-alives (packets %d, %d), the zero window "+
		"(packet %d), the probes (packets %d, %d) and the window update (packet %d); client-first close.",
		ka, ka2, zw, p1, p2, wu)
}

func synRetransmitRefused(f *file) {
	f.about = `Three connection attempts from 192.0.2.10 to 198.51.100.20. A: the SYN is lost and retransmitted
three times with Linux's backoff (1 s, 2 s, 4 s); the third retransmission is answered and the
connection completes normally. B: port 8443 has no listener; the SYN is refused with a RST-ACK (seq 0,
ack = ISN + 1, as Linux sends it). C: a SYN to port 5432 is never answered (dropped silently);
retransmitted after 1 s, 2 s and 4 s, and the capture ends before the next one, with the client
still in SYN_SENT.`
	a := f.conn("A", "192.0.2.10:47000", "198.51.100.20:80")
	syn := a.emit(a.client, "S", 0).note("SYN, lost")
	a.wait(1 * sec)
	a.resend(syn).note("lost")
	a.wait(2 * sec)
	a.resend(syn).note("lost")
	a.wait(4 * sec)
	r3 := a.resend(syn).note("arrives")
	a.deliver(r3)
	a.send(a.server, "SA", 0).note("the first answer: server → SYN_RECEIVED when packet %d arrived", r3)
	a.send(a.client, "A", 0)
	a.exchange(80, 300)
	a.wait(10 * ms)
	a.closeFrom(a.client)
	a.expect(timeWait, closed, "the SYN and its first two retransmissions never reached the server "+
		"(it stayed LISTEN); the handshake completes with packet %d, then a client-first close.", r3)

	b := f.conn("B", "192.0.2.10:47002", "198.51.100.20:8443")
	b.server.state = closed
	b.isns(f.rng.u32(), 0)
	b.isnNote[1] = "no socket; the RST's seq"
	b.at(8 * sec)
	b.send(b.client, "S", 0)
	rst := b.send(b.server, "RA", 0).note("connection refused: RST-ACK: client → CLOSED")
	b.expect(closed, closed, "refused: nothing listens on port 8443 (RST-ACK, packet %d).", rst)

	c := f.conn("C", "192.0.2.10:47004", "198.51.100.20:5432")
	c.at(9 * sec)
	syn = c.emit(c.client, "S", 0).note("never answered")
	c.wait(1 * sec)
	c.resend(syn)
	c.wait(2 * sec)
	c.resend(syn)
	c.wait(4 * sec)
	last := c.resend(syn).note("last packet of the capture")
	c.expect(synSent, listen, "no SYN is ever acknowledged, so none is taken to have arrived: the server "+
		"endpoint stays as it was before any SYN (LISTEN, nominally: nothing shows whether anything "+
		"listens on port 5432); the client is still SYN_SENT at packet %d.", last)
}

func lostFinalAck(f *file) {
	f.about = `Two connections whose close loses segments after the capture point. A: the client closes first;
the server's FIN is acknowledged by the client (client → TIME_WAIT), but that ACK is lost: the server
retransmits its FIN twice (RTO about 210 ms, then doubled). The client re-ACKs the first
retransmission (lost too, and it restarts its 2·MSL timer); the second retransmission is lost before
reaching the client, so no answer follows. The server is still LAST_ACK at the end. B: the client's
FIN is never acknowledged at all (sent and retransmitted twice): the client stays FIN_WAIT_1 and the
server, which never got it, ESTABLISHED.`
	a := f.conn("A", "192.0.2.10:48000", "198.51.100.20:80")
	a.handshake()
	a.exchange(150, 900)
	a.wait(100 * ms)
	a.send(a.client, "FA", 0)
	a.send(a.server, "A", 0)
	a.wait(5 * ms)
	fin := a.send(a.server, "FA", 0).note("server FIN: server → LAST_ACK, client → TIME_WAIT")
	ack1 := a.emit(a.client, "A", 0).note("ACK of the FIN; lost")
	a.wait(210 * ms)
	r1 := a.resend(fin).note("proves packet %d never arrived: server still LAST_ACK", ack1)
	a.deliver(r1)
	ack2 := a.emit(a.client, "A", 0).note("the client (TIME_WAIT) re-ACKs; lost")
	a.wait(420 * ms)
	r2 := a.resend(fin).note("proves packet %d never arrived; this one is lost before the client, no answer", ack2)
	a.expect(timeWait, lastAck, "the client got the FIN (packet %d, again packet %d) and is in TIME_WAIT; "+
		"the server never got an ACK of its FIN (retransmissions %d and %d) and is in LAST_ACK.", fin, r1, r1, r2)

	b := f.conn("B", "192.0.2.10:48002", "198.51.100.20:80")
	b.at(30 * ms)
	b.handshake()
	b.exchange(150, 900)
	b.wait(120 * ms)
	bfin := b.emit(b.client, "FA", 0).note("client FIN: client → FIN_WAIT_1; lost")
	b.wait(212 * ms)
	b.resend(bfin).note("lost")
	b.wait(424 * ms)
	b.resend(bfin).note("lost; the server never answers")
	b.expect(finWait1, established, "the FIN (packet %d) and its retransmissions are never acknowledged: "+
		"the server never received them.", bfin)
}

func timeWaitExpiry(f *file) {
	f.about = `TIME_WAIT expiring inside the capture. A closes at t = 1 s (client first, so its client enters
TIME_WAIT); the capture goes on with B, an unrelated SSH connection that only exchanges keep-alives
every 15 s, until t = 75 s. 2·MSL = 60 s after A's client entered TIME_WAIT it is CLOSED, well before
the end of the capture.`
	b := f.conn("B", "192.0.2.10:49500", "198.51.100.30:22")
	a := f.conn("A", "192.0.2.10:49510", "198.51.100.20:80")
	f.conns[0], f.conns[1] = a, b

	b.handshake()
	b.data(b.server, 41).note("SSH banner")
	b.data(b.client, 36)
	b.send(b.server, "A", 0)
	var kas []*seg
	for i := 1; i <= 5; i++ {
		b.at(time.Duration(i)*15*sec + 8*ms)
		ka := b.raw(b.client, "A", b.client.sndNxt-1, b.client.rcvNxt, 0).note("keep-alive")
		b.deliver(ka)
		b.send(b.server, "A", 0)
		kas = append(kas, ka)
	}
	b.expect(established, established, "keep-alives only (packets %d, %d, %d, %d, %d).",
		kas[0], kas[1], kas[2], kas[3], kas[4])

	a.at(200 * ms)
	a.handshake()
	a.exchange(130, 700)
	a.at(1 * sec)
	cl := a.closeFrom(a.client)
	cl[0].note("the client closes at t = 1 s")
	cl[2].note("client → TIME_WAIT")
	a.expect(closed, closed, "the client is in TIME_WAIT from packet %d (%s s) until %s s, "+
		"then CLOSED; the capture ends at %s s.", cl[2], tm(a.client.twSince), tm(a.client.twSince+twoMSL),
		tm(b.now))
}

func halfOpenFlood(f *file) {
	f.about = `A SYN flood, captured on the server (pcapng, interface eth0). 200 SYNs from spoofed sources
203.0.113.1 to 203.0.113.200 (random ports and ISNs, no TCP options, window 1024, random TTLs), one per
millisecond, all to 198.51.100.20:80. The server answers each with a SYN-ACK (MSS option only, since
the SYN offered nothing else) and retransmits it once after about 1 s; no source ever answers (the
addresses do not exist). In the middle of the flood (t ≈ 0.1 s) a real client, L, completes a normal
connection to the same port, which the analysis must still get right. All remote traffic arrives
through the gateway 02:00:00:00:00:fe; the server answers a segment of L within about 60 µs, L
answers the server 20 ms (one round trip) later.`
	for i := range 200 {
		port := 1024 + f.rng.intn(64512)
		c := f.conn(fmt.Sprintf("F%d", i+1), fmt.Sprintf("203.0.113.%d:%d", i+1, port), "198.51.100.20:80")
		c.group, c.groupClients = "F1–F200", "203.0.113.1 … 203.0.113.200, random ports"
		c.ts = false
		c.client.bare, c.client.synWin, c.client.mac = true, 1024, mac(0xfe)
		c.client.ttl = uint8(40 + f.rng.intn(200))
		c.server.ttl, c.server.synWin = 64, 64240
		c.at(time.Duration(i) * ms)
		syn := c.send(c.client, "S", 0)
		c.wait(time.Duration(30+f.rng.intn(20)) * us)
		sa := c.emit(c.server, "SA", 0)
		c.wait(sec + time.Duration(f.rng.intn(500))*us)
		rtx := c.resend(sa)
		if i == 0 {
			syn.note("first spoofed SYN")
			sa.note("SYN-ACK: server → SYN_RECEIVED; never acknowledged")
			rtx.note("first SYN-ACK retransmission")
		}
		if i == 199 {
			syn.note("last spoofed SYN")
			rtx.note("last packet of the capture")
		}
		c.expect(synSent, synReceived, "each SYN-ACK and its retransmission go unanswered, so none is "+
			"taken to have arrived: client SYN_SENT, server SYN_RECEIVED for all 200.")
	}

	l := f.conn("L", "192.0.2.10:51000", "198.51.100.20:80")
	l.client.mac, l.client.ttl, l.server.ttl = mac(0xfe), 52, 64
	l.halfRTT, l.serverTurn = 20*ms, 60*us // a 20 ms RTT, seen from the server
	l.at(100*ms + 500*us)
	syn := l.send(l.client, "S", 0).note("real client L")
	l.send(l.server, "SA", 0)
	l.send(l.client, "A", 0)
	l.exchange(120, 3500)
	l.wait(15 * ms)
	l.closeFrom(l.client)
	l.expect(timeWait, closed, "a normal connection from packet %d, interleaved with the flood; client-first close.", syn)
}
