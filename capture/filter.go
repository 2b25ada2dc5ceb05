package capture

// Capture filters: tcpdump's expression language compiled to classic BPF.
//
// The compiler is ours. We looked for a pure-Go one and evaluated the one
// there is, github.com/packetcap/go-pcap/filter (v0.0.0-20240528124601,
// no release since), against tcpdump 4.99.3 / libpcap 1.10.3: for each
// expression and each sample capture in pcaps/ (Ethernet, 802.1Q and QinQ,
// Linux SLL and SLL2, raw IP, BSD loopback; IPv4 and IPv6), do the packets
// its program accepts equal those `tcpdump -r FILE EXPR` selects?
//
//	expression                                 go-pcap/filter                      this compiler
//	-----------------------------------------  ----------------------------------  -------------
//	tcp                                        Ethernet only (wrong on SLL, SLL2,  same as tcpdump
//	                                           raw IP, loopback)
//	port 80, tcp port 80                       wrong on SLL, SLL2                  same
//	host 192.0.2.1, host 2001:db8::1           wrong on SLL or SLL2                same
//	src host 192.0.2.1 and dst port 80         wrong on SLL2                       same
//	net 192.0.2.0/24                           wrong, on Ethernet too              same
//	not port 22                                wrong on raw IP                     same
//	tcp[tcpflags] & tcp-syn != 0, tcp[13] = 2  wrong, on Ethernet too              same
//	ip, ip6, ip6 and tcp                       invalid program (jumps out of it)   same
//	vlan, vlan 100 and tcp                     syntax error; wrong                 same (Ethernet; refused
//	                                                                               elsewhere, as by tcpdump)
//	portrange 80-90                            wrong on every link type            same
//	tcp and (port 80 or port 8080)
//	  and not host 192.0.2.2                   wrong on every link type            same
//	port 80 or 443 (implied qualifier)         wrong on SLL, SLL2, raw IP          same
//	len > 100, greater 100                     syntax error                        same
//	udp                                        same                                same
//
// go-pcap/filter assumes Ethernet offsets, has no link type parameter, and
// its 8-bit skips overflow in longer programs, so it is not a dependency.
// libpcap itself, through cgo, is the reference, not an option for the
// default build.
//
// filter_test.go holds this compiler to tcpdump: about 120 expressions
// (every form below) on every sample capture, and on synthetic captures of
// each link type with UDP, ICMP, ARP, IP fragments, IPv4 options, IPv6
// extension headers, VLAN and QinQ tags, and frames cut short; any
// difference on a whole frame fails it.
//
// Supported, with libpcap's meaning, quirks included (`and` and `or` have
// equal precedence and group left to right; a bare value takes the
// qualifiers of the primitive before it, as in `port 80 or 443`; `vlan`
// moves the offsets of everything after it by 4 bytes; `tcp[...]` reads
// IPv4 only; IPv6 ports are read right after the fixed header):
//
//   - ip, ip6, arp, rarp, tcp, udp, sctp, icmp, icmp6, igmp
//   - [ip|ip6|arp|rarp] [src|dst|src or dst|src and dst] host ADDR, for IPv4
//     and IPv6 literals
//   - ... net 10, net 10.1, net 192.0.2.0/24, net 192.0.2.0 mask
//     255.255.255.0, net 2001:db8::/32
//   - [tcp|udp|sctp] [src|dst|...] port N, portrange N-M
//   - ip proto N, ip6 proto N, proto N, ether proto N (a number, or \tcp,
//     \udp, \icmp ... after proto and \ip, \ip6, \arp after ether proto)
//   - vlan, vlan N (Ethernet); inbound, outbound (Linux SLL and SLL2)
//   - greater N, less N, and comparisons (= == != < <= > >=) of arithmetic
//     (+ - * / % & | ^ << >>, unary -) over numbers, len, the named constants
//     (tcpflags, tcp-syn ..., icmptype, icmp-echo ..., icmp6type,
//     icmp6-echo ...) and loads proto[expr] or proto[expr:1|2|4] of ether,
//     link, ip, ip6, arp, rarp, tcp, udp, sctp, icmp, icmp6, igmp
//   - not, !, and, &&, or, ||, parentheses
//
// Refused, each with an error that says so: host and port names (nothing is
// resolved: give addresses and numbers), partial host addresses, ether
// host/src/dst, broadcast, multicast, gateway, protochain, mpls, pppoes,
// geneve, llc, the protocols of other worlds (decnet, iso, atalk, 802.11,
// pflog ...), and, as tcpdump refuses it, an expression that rejects every
// packet of the link type (ip6 on an IPv4-only link, vlan off Ethernet).
//
// Link types: Ethernet (1), Linux SLL (113) and SLL2 (276), raw IP (101, and
// DLT_RAW 12 and 14), IPv4 (228), IPv6 (229), BSD loopback NULL (0) and LOOP
// (108). For NULL, whose address family is in the byte order of the host
// that wrote the file, the program accepts both orders (libpcap knows the
// file's order and checks that one).
//
// One difference remains, on frames the snaplen cut inside the headers an
// expression reads. A load past the captured bytes rejects the frame, in
// tcpdump as here, so the answer depends on the order of the loads, and
// tcpdump's optimizer reorders them: for `host A or B` it compares the
// source address with A and B before loading the destination address, so
// it accepts a frame from B cut before the destination, which this
// compiler rejects. (The test logs such frames: 30 of 3978 comparisons,
// from `host A or B` and `port 80 or 443`.) Whole frames, and every frame a
// live capture filters (the kernel filters before it cuts), are not
// affected.
//
// Live capture (live_linux.go) runs the same program in the kernel, so a
// filter selects the same packets live as on a file; see there for the two
// cases that need help from user space.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Filter is a compiled capture filter for one link type.
type Filter struct {
	expr     string
	linkType layers.LinkType
	prog     []bpf.RawInstruction
	vlan     bool // the expression uses vlan, whose offsets depend on the tags in the frame
	usesLen  bool // the program reads the packet length
}

// maxProgram is the longest program the Linux kernel accepts (BPF_MAXINSNS).
const maxProgram = 4096

// CompileFilter compiles a tcpdump filter expression for packets of link
// type lt. Accepted packets are cut to snaplen bytes by the kernel (snaplen 0
// or less means the largest, 262144). An empty expression accepts every
// packet. The error is one line: capture: filter "EXPR": what is wrong.
func CompileFilter(expr string, lt layers.LinkType, snaplen int) (*Filter, error) {
	if snaplen <= 0 || snaplen > maxPacket {
		snaplen = maxPacket
	}
	f := &Filter{expr: expr, linkType: lt}
	fail := func(err error) (*Filter, error) {
		return nil, fmt.Errorf("capture: filter %q: %w", expr, err)
	}
	link, err := linkLayerOf(lt)
	if err != nil {
		return fail(err)
	}
	root := constNode(true)
	if strings.TrimSpace(expr) != "" {
		toks, err := scanFilter(expr)
		if err != nil {
			return fail(err)
		}
		p := &filterParser{toks: toks, link: link, base: link, last: filterQual{ok: true}}
		root, err = p.parse()
		if err != nil {
			return fail(err)
		}
		f.vlan, f.usesLen = p.vlan, p.usesLen
		if root.op == opFalse {
			// tcpdump refuses these too, rather than capture nothing.
			return fail(fmt.Errorf("rejects every packet of %s", linkTypeName(lt)))
		}
	}
	f.prog = generateBPF(root, uint32(snaplen))
	if len(f.prog) > maxProgram {
		return fail(fmt.Errorf("compiles to %d BPF instructions, more than the kernel's limit of %d", len(f.prog), maxProgram))
	}
	return f, nil
}

// String returns the expression the filter was compiled from.
func (f *Filter) String() string { return f.expr }

// LinkType returns the link type the filter was compiled for. A filter
// matches only packets of that link type.
func (f *Filter) LinkType() layers.LinkType { return f.linkType }

// BPF returns the compiled program (a copy), as it runs on packets of the
// filter's link type. Attach it to a socket that delivers such packets.
func (f *Filter) BPF() []bpf.RawInstruction {
	return append([]bpf.RawInstruction(nil), f.prog...)
}

// Match runs the filter on a packet of the filter's link type and reports
// whether it accepts it. len(data) stands for the packet's length on the
// wire; use MatchLength when the snaplen cut the packet. It does not
// allocate.
func (f *Filter) Match(data []byte) bool {
	return runBPF(f.prog, data, len(data)) != 0
}

// MatchLength is Match for a packet that was length bytes long on the wire,
// of which data was captured: `len`, `greater` and `less` compare length.
func (f *Filter) MatchLength(data []byte, length int) bool {
	return runBPF(f.prog, data, length) != 0
}

// linkKind is how a link type carries the network-layer protocol.
type linkKind uint8

const (
	linkEther linkKind = iota // an EtherType at a fixed offset (Ethernet, SLL, SLL2)
	linkRaw                   // no header; the IP version nibble says
	linkIPv4                  // IPv4 only
	linkIPv6                  // IPv6 only
	linkNull                  // 4-byte address family in the writer's byte order
	linkLoop                  // 4-byte address family in network byte order
)

// linkLayer says where things are in a frame. libpcap calls the offsets
// off_linktype and off_linkpl; vlan moves both.
type linkLayer struct {
	lt        layers.LinkType
	kind      linkKind
	typeOff   uint32 // the EtherType, for linkEther
	pl        uint32 // the network-layer header
	pktType   int    // offset of the Linux packet type, -1 if none
	pktTypeSz uint16 // its size (szH for SLL, szB for SLL2)
}

func linkLayerOf(lt layers.LinkType) (linkLayer, error) {
	l := linkLayer{lt: lt, pktType: -1}
	switch lt {
	case layers.LinkTypeEthernet:
		l.typeOff, l.pl = 12, 14
	case layers.LinkTypeLinuxSLL:
		l.typeOff, l.pl, l.pktType, l.pktTypeSz = 14, 16, 0, szH
	case layers.LinkTypeLinuxSLL2:
		l.typeOff, l.pl, l.pktType, l.pktTypeSz = 0, 20, 10, szB
	case layers.LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD:
		l.kind = linkRaw
	case layers.LinkTypeIPv4:
		l.kind = linkIPv4
	case layers.LinkTypeIPv6:
		l.kind = linkIPv6
	case layers.LinkTypeNull:
		l.kind, l.pl = linkNull, 4
	case layers.LinkTypeLoop:
		l.kind, l.pl = linkLoop, 4
	default:
		return l, fmt.Errorf("%s is not supported", linkTypeName(lt))
	}
	return l, nil
}

// linkTypeName names a link type by number, and by name where gopacket
// knows one: "link type 1 (Ethernet)".
func linkTypeName(lt layers.LinkType) string {
	if name := lt.String(); !strings.HasPrefix(name, "Unknown") {
		return fmt.Sprintf("link type %d (%s)", int(lt), name)
	}
	return fmt.Sprintf("link type %d", int(lt))
}

// Classic BPF encoding (linux/filter.h, bpf(4)).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW = 0x00
	szH = 0x08
	szB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80

	scratchSlots = 16 // BPF_MEMWORDS
)

func bpfIns(op uint16, k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: op, K: k} }

// EtherTypes and IP protocols the primitives name.
const (
	etherTypeARP  = 0x0806
	etherTypeRARP = 0x8035

	ipProtoICMP   = 1
	ipProtoIGMP   = 2
	ipProtoTCP    = 6
	ipProtoUDP    = 17
	ipProtoFrag   = 44
	ipProtoICMPv6 = 58
	ipProtoSCTP   = 132
)

// BSD address families libpcap checks for IPv6 on loopback links: NetBSD,
// OpenBSD and BSD/OS; FreeBSD; Darwin. (Not Linux's 10: neither does libpcap.)
var afINET6s = []uint32{afINET6BSD, afINET6FBSD, afINET6Apple}

// filterNode is a boolean expression over the packet: constants, and, or, not,
// and tests. A test runs its statements, which leave a value in A (and
// maybe X), then a conditional jump.
type filterNode struct {
	op    nodeOp
	a, b  *filterNode
	stmts []bpf.RawInstruction
	jump  uint16 // clsJMP | jmpXXX | srcK or srcX
	k     uint32
}

type nodeOp uint8

const (
	opFalse nodeOp = iota
	opTrue
	opAnd
	opOr
	opNot
	opTest
)

func constNode(v bool) *filterNode {
	if v {
		return &filterNode{op: opTrue}
	}
	return &filterNode{op: opFalse}
}

// and returns a and b, evaluated in that order. Constants fold away where
// that cannot change the result: a load that would fault (read past the
// captured bytes) rejects the packet, so a and false is false whatever a
// does, but a or true is not simply true.
func allOf(a, b *filterNode) *filterNode {
	switch {
	case a.op == opFalse, b.op == opTrue:
		return a
	case a.op == opTrue, b.op == opFalse:
		return b
	}
	return &filterNode{op: opAnd, a: a, b: b}
}

func anyOf(a, b *filterNode) *filterNode {
	switch {
	case a.op == opTrue, b.op == opFalse:
		return a
	case a.op == opFalse:
		return b
	}
	return &filterNode{op: opOr, a: a, b: b}
}

func negate(a *filterNode) *filterNode {
	switch a.op {
	case opTrue:
		return constNode(false)
	case opFalse:
		return constNode(true)
	}
	return &filterNode{op: opNot, a: a}
}

func newTest(jump uint16, k uint32, stmts ...bpf.RawInstruction) *filterNode {
	return &filterNode{op: opTest, stmts: stmts, jump: jump, k: k}
}

// cmp tests the size-byte value at off: (value & mask) op v. A zero mask
// compares nothing, and loads nothing (libpcap's optimizer drops it too).
func fieldCmp(off uint32, size uint16, jump uint16, v, mask uint32) *filterNode {
	if mask == 0 {
		return constNode(v == 0 || jump != clsJMP|jmpJEQ|srcK)
	}
	stmts := []bpf.RawInstruction{bpfIns(clsLD|size|modeABS, off)}
	if full := sizeMask(size); mask&full != full {
		stmts = append(stmts, bpfIns(clsALU|aluAND|srcK, mask))
	}
	return newTest(jump, v, stmts...)
}

func sizeMask(size uint16) uint32 {
	switch size {
	case szB:
		return 0xff
	case szH:
		return 0xffff
	}
	return 0xffffffff
}

func fieldEq(off uint32, size uint16, v uint32) *filterNode {
	return fieldCmp(off, size, clsJMP|jmpJEQ|srcK, v, sizeMask(size))
}

// generate lays out the program: the root's code, then "accept" and
// "reject". It is built backwards, from the last instruction, so that every
// jump's target is already placed; a target more than 255 instructions away
// is reached through an unconditional jump placed right after the test.
func generateBPF(root *filterNode, snaplen uint32) []bpf.RawInstruction {
	var e emitter
	reject := e.put(bpfIns(clsRET|retK, 0))
	accept := e.put(bpfIns(clsRET|retK, snaplen))
	entry := e.gen(root, accept, reject)
	if entry != len(e.rev)-1 {
		e.put(bpfIns(clsJMP|jmpJA, uint32(len(e.rev)-entry-1)))
	}
	prog := make([]bpf.RawInstruction, len(e.rev))
	for i, in := range e.rev {
		prog[len(prog)-1-i] = in
	}
	return prog
}

// emitter holds a program in reverse: position 0 is the last instruction.
// The forward distance from position p to a target t < p is p-t-1.
type emitter struct {
	rev []bpf.RawInstruction
}

func (e *emitter) put(in bpf.RawInstruction) int {
	e.rev = append(e.rev, in)
	return len(e.rev) - 1
}

// gen emits n so that it continues at t when true and at f when false, and
// returns the position of its first instruction.
func (e *emitter) gen(n *filterNode, t, f int) int {
	switch n.op {
	case opTrue:
		return t
	case opFalse:
		return f
	case opNot:
		return e.gen(n.a, f, t)
	case opAnd:
		return e.gen(n.a, e.gen(n.b, t, f), f)
	case opOr:
		return e.gen(n.a, t, e.gen(n.b, t, f))
	}
	p := len(e.rev)
	if p-t-1 > 255 {
		e.put(bpfIns(clsJMP|jmpJA, uint32(p-t-1)))
		t, p = p, p+1
	}
	if p-f-1 > 255 {
		e.put(bpfIns(clsJMP|jmpJA, uint32(p-f-1)))
		f, p = p, p+1
	}
	e.put(bpf.RawInstruction{Op: n.jump, Jt: uint8(p - t - 1), Jf: uint8(p - f - 1), K: n.k})
	for i := len(n.stmts) - 1; i >= 0; i-- {
		e.put(n.stmts[i])
	}
	return len(e.rev) - 1
}

// run interprets a classic BPF program the way the kernel and libpcap do:
// a load past the captured bytes, a division by zero or a jump out of the
// program rejects the packet. length is the packet's length on the wire,
// which `len` loads. It returns the number of bytes to keep, 0 to reject.
func runBPF(prog []bpf.RawInstruction, data []byte, length int) uint32 {
	var a, x uint32
	var mem [scratchSlots]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		k := in.K
		switch in.Op & 0x07 {
		case clsLD, clsLDX:
			var v uint32
			switch in.Op & 0xe0 {
			case modeIMM:
				v = k
			case modeLEN:
				v = uint32(length)
			case modeMEM:
				if k >= scratchSlots {
					return 0
				}
				v = mem[k]
			case modeABS, modeIND, modeMSH:
				off := uint64(k)
				if in.Op&0xe0 == modeIND {
					off += uint64(x)
				}
				size := uint64(4)
				switch in.Op & 0x18 {
				case szH:
					size = 2
				case szB:
					size = 1
				}
				if off+size > uint64(len(data)) {
					return 0
				}
				switch size {
				case 4:
					v = binary.BigEndian.Uint32(data[off:])
				case 2:
					v = uint32(binary.BigEndian.Uint16(data[off:]))
				default:
					v = uint32(data[off])
				}
				if in.Op&0xe0 == modeMSH {
					v = 4 * (v & 0xf)
				}
			default:
				return 0
			}
			if in.Op&0x07 == clsLD {
				a = v
			} else {
				x = v
			}
		case clsST, clsSTX:
			if k >= scratchSlots {
				return 0
			}
			if in.Op&0x07 == clsST {
				mem[k] = a
			} else {
				mem[k] = x
			}
		case clsALU:
			v := k
			if in.Op&srcX != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case aluADD:
				a += v
			case aluSUB:
				a -= v
			case aluMUL:
				a *= v
			case aluDIV:
				if v == 0 {
					return 0
				}
				a /= v
			case aluMOD:
				if v == 0 {
					return 0
				}
				a %= v
			case aluOR:
				a |= v
			case aluAND:
				a &= v
			case aluXOR:
				a ^= v
			case aluLSH:
				a <<= v & 31
			case aluRSH:
				a >>= v & 31
			case aluNEG:
				a = -a
			default:
				return 0
			}
		case clsJMP:
			if in.Op&0xf0 == jmpJA {
				pc += int(k)
				continue
			}
			v := k
			if in.Op&srcX != 0 {
				v = x
			}
			var ok bool
			switch in.Op & 0xf0 {
			case jmpJEQ:
				ok = a == v
			case jmpJGT:
				ok = a > v
			case jmpJGE:
				ok = a >= v
			case jmpJSET:
				ok = a&v != 0
			default:
				return 0
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case clsRET:
			if in.Op&0x18 == retA {
				return a
			}
			return k
		case clsMISC:
			if in.Op&0xf8 == miscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0
}

// Scanning.

type tokKind uint8

const (
	tokEOF   tokKind = iota
	tokWord          // keywords, numbers, IPv4 addresses, port ranges, names
	tokAddr6         // an IPv6 address
	tokPunct         // ( ) [ ] : / ! and the operators
)

type filterToken struct {
	kind tokKind
	text string
	pos  int
}

func scanFilter(s string) ([]filterToken, error) {
	var toks []filterToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isHex(c) || c == ':':
			// An IPv6 address, if the run of hex digits, colons and dots is one.
			j := i
			for j < len(s) && (isHex(s[j]) || s[j] == ':' || s[j] == '.') {
				j++
			}
			if run := s[i:j]; strings.Contains(run, ":") {
				if a, err := netip.ParseAddr(run); err == nil && a.Is6() {
					toks = append(toks, filterToken{tokAddr6, run, i})
					i = j
					continue
				}
			}
		}
		if isWord(c) && c != '-' && c != '.' || c == '\\' {
			j := i + 1
			for j < len(s) && isWord(s[j]) {
				j++
			}
			toks = append(toks, filterToken{tokWord, s[i:j], i})
			i = j
			continue
		}
		for _, op := range []string{"&&", "||", "<<", ">>", "<=", ">=", "==", "!=", "(", ")", "[", "]", ":", "/", "!",
			"&", "|", "^", "+", "-", "*", "%", "<", ">", "="} {
			if strings.HasPrefix(s[i:], op) {
				toks = append(toks, filterToken{tokPunct, op, i})
				i += len(op)
				goto next
			}
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", string(c), i)
	next:
	}
	return append(toks, filterToken{kind: tokEOF, pos: len(s)}), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isWord(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '.' || c == '-'
}

// parseNumber reads a number the way libpcap does: 0x hex, a leading 0
// octal, otherwise decimal, at most 32 bits.
func parseNumber(s string) (uint32, bool) {
	base, digits := uint64(10), s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return uint32(v), true
}

// Parsing.

// filterQual is the qualifiers of a primitive: [proto] [dir] [type]. The next bare
// value (as in `port 80 or 443`) reuses the last primitive's; ok is false
// after a term that has none, such as `tcp` or a relation.
type filterQual struct {
	ok    bool
	proto string // "", "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "ether"
	dir   qualDir
	typ   string // "", "host", "net", "port", "portrange", "proto"
}

type qualDir uint8

const (
	dirDefault qualDir = iota
	dirSrc
	dirDst
	dirOr
	dirAnd
)

type filterParser struct {
	toks    []filterToken
	pos     int
	link    linkLayer // offsets now: vlan moves them for what follows
	base    linkLayer // offsets of the link type itself
	last    filterQual
	vlan    bool
	usesLen bool
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func (p *filterParser) peek() filterToken { return p.toks[p.pos] }
func (p *filterParser) peekAt(n int) filterToken {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *filterParser) next() filterToken {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *filterParser) is(text string) bool {
	t := p.peek()
	return t.kind != tokEOF && t.kind != tokAddr6 && t.text == text
}

func (p *filterParser) accept(text string) bool {
	if p.is(text) {
		p.next()
		return true
	}
	return false
}

func (p *filterParser) errorf(format string, args ...any) error {
	return &syntaxError{fmt.Sprintf(format, args...)}
}

// describe names the filterToken for an error message.
func tokenText(t filterToken) string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *filterParser) parse() (*filterNode, error) {
	n, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf("unexpected %s at offset %d", tokenText(t), t.pos)
	}
	return n, nil
}

// parseExpr: terms joined by and/or, equal precedence, left to right.
func (p *filterParser) parseExpr() (*filterNode, error) {
	n, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		var join func(a, b *filterNode) *filterNode
		switch {
		case p.is("and") || p.is("&&"):
			join = allOf
		case p.is("or") || p.is("||"):
			join = anyOf
		default:
			return n, nil
		}
		p.next()
		m, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		n = join(n, m)
	}
}

func (p *filterParser) parseTerm() (*filterNode, error) {
	t := p.peek()
	switch {
	case t.kind == tokEOF:
		return nil, p.errorf("expression ends where a primitive was expected")
	case p.is("not") || p.is("!"):
		p.next()
		n, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return negate(n), nil
	case p.is("("):
		// Either a parenthesised expression or the start of arithmetic,
		// as in (tcp[12] >> 4) * 4 > 20: try the relation first.
		if n, ok := p.tryRelation(); ok {
			return n, nil
		}
		p.next()
		n, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, p.errorf("missing \")\" at offset %d", p.peek().pos)
		}
		return n, nil
	case p.startsArith():
		return p.parseRelation()
	case t.kind == tokWord && startsNumber(t.text):
		// A bare number: the value of an implied qualifier (port 80 or 443),
		// or arithmetic (0x10 = 16).
		if n, ok := p.tryRelation(); ok {
			return n, nil
		}
	}
	return p.parsePrimitive()
}

func startsNumber(s string) bool { return s != "" && '0' <= s[0] && s[0] <= '9' }

// startsArith reports whether the next tokens can only be arithmetic: len,
// a named constant, a unary minus or a load such as tcp[13].
func (p *filterParser) startsArith() bool {
	t := p.peek()
	if t.kind == tokPunct {
		return t.text == "-"
	}
	if t.kind != tokWord {
		return false
	}
	if t.text == "len" {
		return true
	}
	if _, ok := arithConstants[t.text]; ok {
		return true
	}
	_, isLoad := loadProtos[t.text]
	return isLoad && p.peekAt(1).kind == tokPunct && p.peekAt(1).text == "["
}

// tryRelation parses a relation if one starts here, and otherwise leaves
// the filterParser where it was.
func (p *filterParser) tryRelation() (*filterNode, bool) {
	save, saveLast, saveLen := p.pos, p.last, p.usesLen
	n, err := p.parseRelation()
	if err != nil {
		p.pos, p.last, p.usesLen = save, saveLast, saveLen
		return nil, false
	}
	return n, true
}

// Primitives.

var protoQualifiers = map[string]bool{
	"ether": true, "ip": true, "ip6": true, "arp": true, "rarp": true,
	"tcp": true, "udp": true, "sctp": true,
}

// protoAbbrevs are the protocols that are primitives on their own.
var protoAbbrevs = map[string]bool{
	"ip": true, "ip6": true, "arp": true, "rarp": true, "tcp": true, "udp": true,
	"sctp": true, "icmp": true, "icmp6": true, "igmp": true,
}

var typeWords = map[string]bool{"host": true, "net": true, "port": true, "portrange": true, "proto": true}

// unsupported are words of tcpdump's language this compiler refuses, with
// the reason.
var unsupported = map[string]string{
	"gateway":    "needs host name resolution",
	"broadcast":  "is not supported",
	"multicast":  "is not supported",
	"protochain": "is not supported",
	"mpls":       "is not supported",
	"pppoed":     "is not supported",
	"pppoes":     "is not supported",
	"geneve":     "is not supported",
	"llc":        "is not supported",
	"iso":        "is not supported",
	"esis":       "is not supported",
	"isis":       "is not supported",
	"clnp":       "is not supported",
	"stp":        "is not supported",
	"ipx":        "is not supported",
	"netbeui":    "is not supported",
	"decnet":     "is not supported",
	"lat":        "is not supported",
	"mopdl":      "is not supported",
	"moprc":      "is not supported",
	"atalk":      "is not supported",
	"aarp":       "is not supported",
	"wlan":       "is not supported",
	"type":       "is not supported",
	"subtype":    "is not supported",
	"dir":        "is not supported",
	"fddi":       "is not supported",
	"tr":         "is not supported",
	"ppp":        "is not supported",
	"slip":       "is not supported",
	"pim":        "is not supported",
	"vrrp":       "is not supported",
	"carp":       "is not supported",
	"igrp":       "is not supported",
	"ah":         "is not supported",
	"esp":        "is not supported",
	"radio":      "is not supported",
	"ifname":     "is not supported",
	"on":         "is not supported",
	"rnr":        "is not supported",
	"rulenum":    "is not supported",
	"reason":     "is not supported",
	"rset":       "is not supported",
	"ruleset":    "is not supported",
	"srnr":       "is not supported",
	"subrulenum": "is not supported",
	"action":     "is not supported",
	"hdpc":       "is not supported",
	"ra":         "is not supported",
	"ta":         "is not supported",
	"addr1":      "is not supported",
	"addr2":      "is not supported",
	"addr3":      "is not supported",
	"addr4":      "is not supported",
	"link":       "is supported only in loads such as link[0]",
}

func (p *filterParser) parsePrimitive() (*filterNode, error) {
	t := p.peek()
	if t.kind == tokWord {
		if why, ok := unsupported[t.text]; ok {
			return nil, p.errorf("%q %s", t.text, why)
		}
		switch t.text {
		case "vlan":
			return p.parseVLAN()
		case "greater", "less":
			p.next()
			v, err := p.number("a length")
			if err != nil {
				return nil, err
			}
			p.last, p.usesLen = filterQual{}, true
			ld := bpfIns(clsLD|szW|modeLEN, 0)
			if t.text == "greater" {
				return newTest(clsJMP|jmpJGE|srcK, v, ld), nil
			}
			return negate(newTest(clsJMP|jmpJGT|srcK, v, ld)), nil
		case "inbound", "outbound":
			p.next()
			p.last = filterQual{}
			if p.link.pktType < 0 {
				return nil, p.errorf("%s needs a Linux cooked capture (SLL or SLL2), not %s", t.text, linkTypeName(p.link.lt))
			}
			out := fieldEq(uint32(p.link.pktType), p.link.pktTypeSz, 4) // PACKET_OUTGOING
			if t.text == "inbound" {
				return negate(out), nil
			}
			return out, nil
		}
	}

	q := filterQual{ok: true}
	given := false
	if t.kind == tokWord && protoQualifiers[t.text] || t.kind == tokWord && protoAbbrevs[t.text] {
		nt := p.peekAt(1)
		nextIsQual := nt.kind == tokWord && (nt.text == "src" || nt.text == "dst" || typeWords[nt.text])
		if !nextIsQual {
			if !protoAbbrevs[t.text] {
				return nil, p.errorf("%q needs a qualifier after it, such as proto", t.text)
			}
			p.next()
			p.last = filterQual{}
			return p.protoAbbrev(t.text), nil
		}
		if !protoQualifiers[t.text] {
			return nil, p.errorf("%q cannot qualify %s", t.text, tokenText(nt))
		}
		q.proto, given = p.next().text, true
	}
	if p.is("src") || p.is("dst") {
		first := p.next().text
		q.dir = map[string]qualDir{"src": dirSrc, "dst": dirDst}[first]
		other := map[string]string{"src": "dst", "dst": "src"}[first]
		if (p.is("or") || p.is("and")) && p.peekAt(1).kind == tokWord && p.peekAt(1).text == other {
			q.dir = map[string]qualDir{"or": dirOr, "and": dirAnd}[p.next().text]
			p.next()
		}
		given = true
	}
	if p.peek().kind == tokWord && typeWords[p.peek().text] {
		q.typ, given = p.next().text, true
	}
	if !given {
		// A bare value takes the qualifiers of the primitive before it.
		if t.kind == tokWord && !startsNumber(t.text) && !strings.HasPrefix(t.text, "\\") {
			if _, err := parseDotted(t.text); err != nil {
				return nil, p.errorf("unknown word %q", t.text)
			}
		}
		if t.kind != tokWord && t.kind != tokAddr6 {
			return nil, p.errorf("unexpected %s at offset %d", tokenText(t), t.pos)
		}
		if !p.last.ok {
			return nil, p.errorf("%s at offset %d has no qualifier to take (such as host or port)", tokenText(t), t.pos)
		}
		q = p.last
	}
	n, err := p.qualified(q)
	if err != nil {
		return nil, err
	}
	p.last = q
	return n, nil
}

// qualified parses the value after qualifiers and builds the primitive.
func (p *filterParser) qualified(q filterQual) (*filterNode, error) {
	if q.proto == "ether" && q.typ != "proto" {
		return nil, p.errorf("ether %s is not supported (only ether proto)", orDefault(q.typ, "host"))
	}
	switch q.typ {
	case "port", "portrange":
		return p.port(q)
	case "proto":
		return p.proto(q)
	case "host", "net", "":
		return p.hostOrNet(q)
	}
	return nil, p.errorf("unknown qualifier %q", q.typ)
}

// protoAbbrev is a protocol on its own: tcp, ip6, arp ...
func (p *filterParser) protoAbbrev(name string) *filterNode {
	switch name {
	case "ip":
		return p.linkType(etherTypeIPv4)
	case "ip6":
		return p.linkType(etherTypeIPv6)
	case "arp":
		return p.linkType(etherTypeARP)
	case "rarp":
		return p.linkType(etherTypeRARP)
	case "tcp":
		return p.ipProto(ipProtoTCP, "")
	case "udp":
		return p.ipProto(ipProtoUDP, "")
	case "sctp":
		return p.ipProto(ipProtoSCTP, "")
	case "icmp":
		return p.ipProto(ipProtoICMP, "ip")
	case "igmp":
		return p.ipProto(ipProtoIGMP, "ip")
	case "icmp6":
		return p.ipProto(ipProtoICMPv6, "ip6")
	}
	return constNode(false)
}

// linkType tests the network-layer protocol, given as an EtherType
// (libpcap's gen_linktype).
func (p *filterParser) linkType(etherType uint32) *filterNode {
	l := p.link
	switch l.kind {
	case linkEther:
		return fieldEq(l.typeOff, szH, etherType)
	case linkRaw:
		switch etherType {
		case etherTypeIPv4:
			return fieldCmp(0, szB, clsJMP|jmpJEQ|srcK, 0x40, 0xf0)
		case etherTypeIPv6:
			return fieldCmp(0, szB, clsJMP|jmpJEQ|srcK, 0x60, 0xf0)
		}
	case linkIPv4:
		return constNode(etherType == etherTypeIPv4)
	case linkIPv6:
		return constNode(etherType == etherTypeIPv6)
	case linkNull, linkLoop:
		var afs []uint32
		switch etherType {
		case etherTypeIPv4:
			afs = []uint32{afINET}
		case etherTypeIPv6:
			afs = afINET6s
		}
		n := constNode(false)
		for _, af := range afs {
			if l.kind == linkNull {
				// In the byte order of the host that wrote the file:
				// little endian first, the usual case.
				n = anyOf(n, fieldEq(0, szW, af<<24|af>>24))
			}
			n = anyOf(n, fieldEq(0, szW, af))
		}
		return n
	}
	return constNode(false)
}

// ipProto is libpcap's gen_proto: the IPv4 protocol field, and for IPv6 the
// next header, or the one after a fragment header. family "" is both.
func (p *filterParser) ipProto(proto uint32, family string) *filterNode {
	pl := p.link.pl
	v4 := allOf(p.linkType(etherTypeIPv4), fieldEq(pl+9, szB, proto))
	v6 := allOf(p.linkType(etherTypeIPv6),
		anyOf(fieldEq(pl+6, szB, proto), allOf(fieldEq(pl+6, szB, ipProtoFrag), fieldEq(pl+40, szB, proto))))
	switch family {
	case "ip":
		return v4
	case "ip6":
		return v6
	}
	return anyOf(v4, v6)
}

// notFragment is true for an IPv4 packet that is a first fragment or none
// (libpcap's gen_ipfrag).
func (p *filterParser) notFragment() *filterNode {
	return negate(fieldCmp(p.link.pl+6, szH, clsJMP|jmpJSET|srcK, 0x1fff, 0xffff))
}

func (p *filterParser) parseVLAN() (*filterNode, error) {
	p.next()
	p.last = filterQual{}
	if p.base.lt != layers.LinkTypeEthernet {
		return nil, p.errorf("vlan needs Ethernet, not %s", linkTypeName(p.base.lt))
	}
	l := p.link
	n := anyOf(anyOf(fieldEq(l.typeOff, szH, etherTypeVLAN), fieldEq(l.typeOff, szH, etherTypeQinQ)), fieldEq(l.typeOff, szH, etherTypeQinQv1))
	if t := p.peek(); t.kind == tokWord && startsNumber(t.text) {
		id, err := p.number("a VLAN ID")
		if err != nil {
			return nil, err
		}
		if id > 4095 {
			return nil, p.errorf("VLAN ID %d is greater than 4095", id)
		}
		n = allOf(n, fieldCmp(l.pl, szH, clsJMP|jmpJEQ|srcK, id, 0x0fff))
	}
	p.link.typeOff += 4
	p.link.pl += 4
	p.vlan = true
	return n, nil
}

func (p *filterParser) number(what string) (uint32, error) {
	t := p.next()
	if t.kind == tokWord {
		if v, ok := parseNumber(t.text); ok {
			return v, nil
		}
	}
	return 0, p.errorf("%s must be a number, not %s", what, tokenText(t))
}

func (p *filterParser) port(q filterQual) (*filterNode, error) {
	var proto uint32
	switch q.proto {
	case "tcp":
		proto = ipProtoTCP
	case "udp":
		proto = ipProtoUDP
	case "sctp":
		proto = ipProtoSCTP
	case "":
	default:
		return nil, p.errorf("%q cannot qualify %s", q.proto, q.typ)
	}
	t := p.next()
	if t.kind != tokWord {
		return nil, p.errorf("%s needs a number, not %s", q.typ, tokenText(t))
	}
	var lo, hi uint32
	if q.typ == "portrange" {
		a, b, ok := strings.Cut(t.text, "-")
		var okA, okB bool
		lo, okA = parseNumber(a)
		hi, okB = parseNumber(b)
		if !ok || !okA || !okB {
			return nil, p.errorf("portrange needs two port numbers such as 8000-8080, not %q (names are not resolved)", t.text)
		}
		if lo > hi {
			lo, hi = hi, lo
		}
	} else {
		v, ok := parseNumber(t.text)
		if !ok {
			return nil, p.errorf("port needs a number, not %q (service names are not resolved)", t.text)
		}
		lo, hi = v, v
	}
	if hi > 65535 {
		return nil, p.errorf("port %d is greater than 65535", hi)
	}
	pl := p.link.pl
	// One port field of a transport header (at trans+off), in range.
	atom := func(load func(off uint32) bpf.RawInstruction, msh bool, off uint32) *filterNode {
		one := func(jump uint16, v uint32) *filterNode {
			n := newTest(jump, v, load(off))
			if msh {
				n.stmts = append([]bpf.RawInstruction{bpfIns(clsLDX|szB|modeMSH, pl)}, n.stmts...)
			}
			return n
		}
		if q.typ == "port" {
			return one(clsJMP|jmpJEQ|srcK, lo)
		}
		return allOf(one(clsJMP|jmpJGE|srcK, lo), negate(one(clsJMP|jmpJGT|srcK, hi)))
	}
	ports := func(load func(off uint32) bpf.RawInstruction, msh bool) *filterNode {
		switch q.dir {
		case dirSrc:
			return atom(load, msh, 0)
		case dirDst:
			return atom(load, msh, 2)
		case dirAnd:
			return allOf(atom(load, msh, 0), atom(load, msh, 2))
		}
		return anyOf(atom(load, msh, 0), atom(load, msh, 2))
	}
	load4 := func(off uint32) bpf.RawInstruction { return bpfIns(clsLD|szH|modeIND, pl+off) }
	load6 := func(off uint32) bpf.RawInstruction { return bpfIns(clsLD|szH|modeABS, pl+40+off) }
	protos := []uint32{ipProtoTCP, ipProtoUDP, ipProtoSCTP}
	if proto != 0 {
		protos = []uint32{proto}
	}
	var v4, v6 *filterNode
	for i, pr := range protos {
		op4 := allOf(allOf(fieldEq(pl+9, szB, pr), p.notFragment()), ports(load4, true))
		op6 := allOf(fieldEq(pl+6, szB, pr), ports(load6, false))
		if i == 0 {
			v4, v6 = op4, op6
		} else {
			v4, v6 = anyOf(v4, op4), anyOf(v6, op6)
		}
	}
	v4 = allOf(p.linkType(etherTypeIPv4), v4)
	v6 = allOf(p.linkType(etherTypeIPv6), v6)
	if proto != 0 {
		// libpcap: gen_port, then gen_port6 for tcp/udp/sctp port.
		return anyOf(v4, v6), nil
	}
	return anyOf(v6, v4), nil
}

// protoNames are the names `proto` and `ether proto` take after a backslash
// (tcp is a keyword, so `ip proto \tcp`), or bare where not a keyword.
var ipProtoNames = map[string]uint32{
	"icmp": ipProtoICMP, "igmp": ipProtoIGMP, "tcp": ipProtoTCP, "udp": ipProtoUDP,
	"icmp6": ipProtoICMPv6, "ipv6-icmp": ipProtoICMPv6, "sctp": ipProtoSCTP,
}

var etherProtoNames = map[string]uint32{
	"ip": etherTypeIPv4, "ip6": etherTypeIPv6, "arp": etherTypeARP, "rarp": etherTypeRARP,
}

func (p *filterParser) proto(q filterQual) (*filterNode, error) {
	if q.dir != dirDefault {
		return nil, p.errorf("proto takes no src or dst")
	}
	t := p.next()
	names := ipProtoNames
	if q.proto == "ether" {
		names = etherProtoNames
	}
	v, ok := parseNumber(t.text)
	if !ok || t.kind != tokWord {
		v, ok = names[strings.TrimPrefix(t.text, "\\")]
	}
	if !ok || t.kind != tokWord {
		return nil, p.errorf("proto needs a number or a known name, not %s", tokenText(t))
	}
	switch q.proto {
	case "ether":
		if v <= 1500 {
			return nil, p.errorf("ether proto %d is an 802.3 length, not an EtherType (not supported)", v)
		}
		return p.linkType(v), nil
	case "ip", "ip6", "":
		if v > 255 {
			return nil, p.errorf("IP protocol %d is greater than 255", v)
		}
		return p.ipProto(v, q.proto), nil
	}
	return nil, p.errorf("%q cannot qualify proto", q.proto)
}

// hostOrNet parses an address or network and tests the IP (and ARP) address
// fields.
func (p *filterParser) hostOrNet(q filterQual) (*filterNode, error) {
	t := p.next()
	switch t.kind {
	case tokAddr6:
		return p.host6(q, t)
	case tokWord:
	default:
		return nil, p.errorf("%s needs an address, not %s", orDefault(q.typ, "host"), tokenText(t))
	}
	if q.proto == "ip6" || q.proto == "ether" {
		return nil, p.errorf("%q cannot qualify the IPv4 address %q", q.proto, t.text)
	}
	addr, parts := uint32(0), 0
	if a, err := parseDotted(t.text); err == nil {
		addr, parts = a.v, a.parts
	} else if v, ok := parseNumber(t.text); ok && q.typ == "net" {
		addr, parts = v, 1
	} else {
		if startsNumber(t.text) {
			return nil, p.errorf("bad address %q", t.text)
		}
		return nil, p.errorf("%q is not an address (host names are not resolved)", t.text)
	}
	var mask uint32
	isNet := q.typ == "net"
	if q.typ == "host" && (p.is("/") || p.is("mask")) {
		return nil, p.errorf("host takes no mask; use net")
	}
	switch {
	case p.is("/"):
		p.next()
		bits, err := p.number("a prefix length")
		if err != nil {
			return nil, err
		}
		if bits > 32 {
			return nil, p.errorf("prefix length %d is greater than 32", bits)
		}
		if parts != 4 {
			addr <<= 8 * uint32(4-parts) // 10/8 is 10.0.0.0/8
		}
		mask, isNet = ^uint32(0)<<(32-bits), true
		if bits == 0 {
			mask = 0
		}
	case p.is("mask"):
		p.next()
		mt := p.next()
		m, err := parseDotted(mt.text)
		if err != nil || m.parts != 4 || mt.kind != tokWord {
			return nil, p.errorf("mask needs a dotted IPv4 mask, not %s", tokenText(mt))
		}
		if parts != 4 {
			addr <<= 8 * uint32(4-parts)
		}
		mask, isNet = m.v, true
	case isNet:
		// A partial network number: 10 is 10.0.0.0/8, 10.1 is 10.1.0.0/16.
		mask = ^uint32(0) << (32 - 8*uint32(parts))
		addr <<= 8 * uint32(4-parts)
	default:
		if parts != 4 {
			return nil, p.errorf("host needs a whole address, not %q", t.text)
		}
		mask = ^uint32(0)
	}
	if isNet && addr&^mask != 0 {
		return nil, p.errorf("non-network bits set in %q", t.text)
	}
	// IPv4, then ARP and RARP (sender and target protocol addresses),
	// unless a protocol was named.
	field := func(etherType, src, dst uint32) *filterNode {
		one := func(off uint32) *filterNode {
			return allOf(p.linkType(etherType), fieldCmp(p.link.pl+off, szW, clsJMP|jmpJEQ|srcK, addr, mask))
		}
		switch q.dir {
		case dirSrc:
			return one(src)
		case dirDst:
			return one(dst)
		case dirAnd:
			return allOf(one(src), one(dst))
		}
		return anyOf(one(src), one(dst))
	}
	switch q.proto {
	case "ip":
		return field(etherTypeIPv4, 12, 16), nil
	case "arp":
		return field(etherTypeARP, 14, 24), nil
	case "rarp":
		return field(etherTypeRARP, 14, 24), nil
	case "":
		return anyOf(anyOf(field(etherTypeIPv4, 12, 16), field(etherTypeARP, 14, 24)), field(etherTypeRARP, 14, 24)), nil
	}
	return nil, p.errorf("%q cannot qualify %s", q.proto, orDefault(q.typ, "host"))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (p *filterParser) host6(q filterQual, t filterToken) (*filterNode, error) {
	if q.proto != "" && q.proto != "ip6" {
		return nil, p.errorf("%q cannot qualify the IPv6 address %q", q.proto, t.text)
	}
	addr := netip.MustParseAddr(t.text)
	bits := 128
	if q.typ == "host" && p.is("/") {
		return nil, p.errorf("host takes no prefix length; use net")
	}
	if p.is("/") {
		p.next()
		b, err := p.number("a prefix length")
		if err != nil {
			return nil, err
		}
		if b > 128 {
			return nil, p.errorf("prefix length %d is greater than 128", b)
		}
		bits = int(b)
	} else if q.typ == "net" && p.is("mask") {
		return nil, p.errorf("IPv6 networks take a prefix length, not a mask")
	}
	pfx := netip.PrefixFrom(addr, bits)
	if pfx.Masked().Addr() != addr {
		return nil, p.errorf("non-network bits set in \"%s/%d\"", t.text, bits)
	}
	a := addr.As16()
	one := func(off uint32) *filterNode {
		n := p.linkType(etherTypeIPv6)
		for w := 0; w < 4; w++ {
			left := bits - 32*w
			var mask uint32
			switch {
			case left >= 32:
				mask = ^uint32(0)
			case left > 0:
				mask = ^uint32(0) << (32 - left)
			}
			n = allOf(n, fieldCmp(p.link.pl+off+uint32(4*w), szW, clsJMP|jmpJEQ|srcK, binary.BigEndian.Uint32(a[4*w:]), mask))
		}
		return n
	}
	switch q.dir {
	case dirSrc:
		return one(8), nil
	case dirDst:
		return one(24), nil
	case dirAnd:
		return allOf(one(8), one(24)), nil
	}
	return anyOf(one(8), one(24)), nil
}

type dottedIPv4 struct {
	v     uint32 // the parts given, right-aligned: 10.1 is 0x0a01
	parts int
}

// parseDotted reads a dotted IPv4 address of 1 to 4 decimal parts.
func parseDotted(s string) (dottedIPv4, error) {
	var a dottedIPv4
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 3 || a.parts == 4 {
			return a, errors.New("bad address")
		}
		v := 0
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return a, errors.New("bad address")
			}
			v = v*10 + int(part[i]-'0')
		}
		if v > 255 {
			return a, errors.New("bad address")
		}
		a.v = a.v<<8 | uint32(v)
		a.parts++
	}
	if a.parts < 2 && !strings.Contains(s, ".") {
		return a, errors.New("not dotted")
	}
	return a, nil
}

// Relations and arithmetic.

// loadProtos are the protocols whose headers proto[expr:size] reads.
var loadProtos = map[string]bool{
	"ether": true, "link": true, "ip": true, "ip6": true, "arp": true, "rarp": true,
	"tcp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true, "igmp": true,
}

// arithConstants are libpcap's named offsets and values.
var arithConstants = map[string]uint32{
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
	"icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133, "icmp6-routeradvert": 134,
	"icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
	"icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
	"icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
	"icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146,
	"icmp6-mobileprefixadvert": 147, "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,
}

// arith is an arithmetic expression: a constant, len, a load, or an
// operation.
type arith struct {
	kind  arithKind
	k     uint32
	alu   uint16 // arithBin: aluADD ...
	l, r  *arith
	base  uint32 // arithLoad: where the header starts
	msh   int64  // arithLoad: >= 0: add the IPv4 header length found at this offset
	size  uint16 // arithLoad
	index *arith // arithLoad
}

type arithKind uint8

const (
	arithConst arithKind = iota
	arithLen
	arithLoad
	arithBin
	arithNeg
)

// relOps maps a relation to a jump and whether its outcome is inverted.
var relOps = map[string]struct {
	jump   uint16
	invert bool
}{
	"=": {jmpJEQ, false}, "==": {jmpJEQ, false}, "!=": {jmpJEQ, true},
	">": {jmpJGT, false}, ">=": {jmpJGE, false}, "<": {jmpJGE, true}, "<=": {jmpJGT, true},
}

// parseRelation parses arith relop arith. The protocol checks of its loads
// come first, in order, as in libpcap's gen_relation.
func (p *filterParser) parseRelation() (*filterNode, error) {
	var guards []*filterNode
	a0, err := p.parseArith(&guards, 0)
	if err != nil {
		return nil, err
	}
	t := p.peek()
	rel, ok := relOps[t.text]
	if t.kind != tokPunct || !ok {
		return nil, p.errorf("expected a comparison after the arithmetic, found %s", tokenText(t))
	}
	p.next()
	a1, err := p.parseArith(&guards, 0)
	if err != nil {
		return nil, err
	}
	var stmts []bpf.RawInstruction
	jump := uint16(clsJMP | rel.jump | srcK)
	var k uint32
	if a1.kind == arithConst {
		if stmts, err = p.eval(a0, 0, stmts); err != nil {
			return nil, err
		}
		k = a1.k
	} else {
		if stmts, err = p.eval(a1, 0, stmts); err != nil {
			return nil, err
		}
		stmts = append(stmts, bpfIns(clsST, 0))
		if stmts, err = p.eval(a0, 1, stmts); err != nil {
			return nil, err
		}
		stmts = append(stmts, bpfIns(clsLDX|szW|modeMEM, 0))
		jump = clsJMP | rel.jump | srcX
	}
	n := newTest(jump, k, stmts...)
	if rel.invert {
		n = negate(n)
	}
	for i := len(guards) - 1; i >= 0; i-- {
		n = allOf(guards[i], n)
	}
	p.last = filterQual{}
	return n, nil
}

// Binary operators by precedence, lowest first, as in libpcap's grammar.
var arithLevels = [][]string{{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}}

var aluOps = map[string]uint16{
	"|": aluOR, "^": aluXOR, "&": aluAND, "<<": aluLSH, ">>": aluRSH,
	"+": aluADD, "-": aluSUB, "*": aluMUL, "/": aluDIV, "%": aluMOD,
}

func (p *filterParser) parseArith(guards *[]*filterNode, level int) (*arith, error) {
	if level == len(arithLevels) {
		return p.parseUnary(guards)
	}
	l, err := p.parseArith(guards, level+1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		found := false
		for _, op := range arithLevels[level] {
			if t.kind == tokPunct && t.text == op {
				found = true
			}
		}
		if !found {
			return l, nil
		}
		p.next()
		r, err := p.parseArith(guards, level+1)
		if err != nil {
			return nil, err
		}
		alu := aluOps[t.text]
		if r.kind == arithConst {
			switch {
			case (alu == aluDIV || alu == aluMOD) && r.k == 0:
				return nil, p.errorf("division by zero")
			case (alu == aluLSH || alu == aluRSH) && r.k > 31:
				return nil, p.errorf("shift by %d, more than 31 bits", r.k)
			}
		}
		l = &arith{kind: arithBin, alu: alu, l: l, r: r}
	}
}

func (p *filterParser) parseUnary(guards *[]*filterNode) (*arith, error) {
	t := p.next()
	switch {
	case t.kind == tokPunct && t.text == "-":
		a, err := p.parseUnary(guards)
		if err != nil {
			return nil, err
		}
		return &arith{kind: arithNeg, l: a}, nil
	case t.kind == tokPunct && t.text == "(":
		a, err := p.parseArith(guards, 0)
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, p.errorf("missing \")\" at offset %d", p.peek().pos)
		}
		return a, nil
	case t.kind != tokWord:
		return nil, p.errorf("unexpected %s in arithmetic", tokenText(t))
	case t.text == "len":
		p.usesLen = true
		return &arith{kind: arithLen}, nil
	}
	if v, ok := arithConstants[t.text]; ok {
		return &arith{kind: arithConst, k: v}, nil
	}
	if v, ok := parseNumber(t.text); ok {
		return &arith{kind: arithConst, k: v}, nil
	}
	if loadProtos[t.text] && p.accept("[") {
		return p.parseLoad(t.text, guards)
	}
	return nil, p.errorf("unexpected %s in arithmetic", tokenText(t))
}

// parseLoad parses the rest of proto[index] or proto[index:size], adding
// the protocol checks libpcap's gen_load makes to guards.
func (p *filterParser) parseLoad(proto string, guards *[]*filterNode) (*arith, error) {
	var inner []*filterNode
	index, err := p.parseArith(&inner, 0)
	if err != nil {
		return nil, err
	}
	size := uint16(szB)
	if p.accept(":") {
		t := p.next()
		switch t.text {
		case "1":
		case "2":
			size = szH
		case "4":
			size = szW
		default:
			return nil, p.errorf("data size must be 1, 2 or 4, not %s", tokenText(t))
		}
	}
	if !p.accept("]") {
		return nil, p.errorf("missing \"]\" at offset %d", p.peek().pos)
	}
	pl := p.link.pl
	a := &arith{kind: arithLoad, size: size, index: index, msh: -1, base: pl}
	var guard *filterNode
	switch proto {
	case "ether", "link":
		a.base, guard = 0, constNode(true)
	case "ip":
		guard = p.linkType(etherTypeIPv4)
	case "ip6":
		guard = p.linkType(etherTypeIPv6)
	case "arp":
		guard = p.linkType(etherTypeARP)
	case "rarp":
		guard = p.linkType(etherTypeRARP)
	case "icmp6":
		a.base += 40
		guard = allOf(p.linkType(etherTypeIPv6), fieldEq(pl+6, szB, ipProtoICMPv6))
	default: // tcp, udp, sctp, icmp, igmp: after the IPv4 header
		a.msh = int64(pl)
		guard = allOf(p.linkType(etherTypeIPv4), allOf(p.protoAbbrev(proto), p.notFragment()))
	}
	*guards = append(*guards, guard)
	*guards = append(*guards, inner...)
	return a, nil
}

// eval appends the instructions that leave a's value in A, using scratch
// memory from slot depth on.
func (p *filterParser) eval(a *arith, depth uint32, out []bpf.RawInstruction) ([]bpf.RawInstruction, error) {
	if depth >= scratchSlots {
		return nil, p.errorf("arithmetic nested too deeply")
	}
	var err error
	switch a.kind {
	case arithConst:
		return append(out, bpfIns(clsLD|szW|modeIMM, a.k)), nil
	case arithLen:
		return append(out, bpfIns(clsLD|szW|modeLEN, 0)), nil
	case arithNeg:
		if out, err = p.eval(a.l, depth, out); err != nil {
			return nil, err
		}
		return append(out, bpfIns(clsALU|aluNEG, 0)), nil
	case arithBin:
		if a.r.kind == arithConst {
			if out, err = p.eval(a.l, depth, out); err != nil {
				return nil, err
			}
			return append(out, bpfIns(clsALU|a.alu|srcK, a.r.k)), nil
		}
		if out, err = p.eval(a.r, depth, out); err != nil {
			return nil, err
		}
		out = append(out, bpfIns(clsST, depth))
		if out, err = p.eval(a.l, depth+1, out); err != nil {
			return nil, err
		}
		out = append(out, bpfIns(clsLDX|szW|modeMEM, depth), bpfIns(clsALU|a.alu|srcX, 0))
		return out, nil
	}
	// A load.
	if a.index.kind == arithConst {
		off := uint64(a.base) + uint64(a.index.k)
		if off > 0xffffffff {
			return nil, p.errorf("offset %d is too large", off)
		}
		if a.msh < 0 {
			return append(out, bpfIns(clsLD|a.size|modeABS, uint32(off))), nil
		}
		return append(out, bpfIns(clsLDX|szB|modeMSH, uint32(a.msh)), bpfIns(clsLD|a.size|modeIND, uint32(off))), nil
	}
	if out, err = p.eval(a.index, depth, out); err != nil {
		return nil, err
	}
	if a.msh >= 0 {
		out = append(out,
			bpfIns(clsST, depth),
			bpfIns(clsLDX|szB|modeMSH, uint32(a.msh)),
			bpfIns(clsLD|szW|modeMEM, depth),
			bpfIns(clsALU|aluADD|srcX, 0))
	}
	return append(out, bpfIns(clsMISC|miscTAX, 0), bpfIns(clsLD|a.size|modeIND, a.base)), nil
}
