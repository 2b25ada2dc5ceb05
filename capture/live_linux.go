//go:build linux && !libpcap

package capture

// Live capture with an AF_PACKET socket and a TPACKET_V3 ring, the way
// libpcap does it on Linux, in pure Go with golang.org/x/sys/unix.
//
// Not gopacket/afpacket, although it is pure Go too: it does not hand out a
// packet's sockaddr_ll, so "any" could not be a real Linux cooked capture
// (packet type, hardware type and address, protocol); its Close unmaps the
// ring while a reader blocked in another goroutine may still be reading it;
// it allocates for every VLAN tag it puts back; and it prints to standard
// output when mapping the ring fails. What this package needs of it is
// about the size of this file.
//
// How it works, in the order of OpenLive:
//   - The socket is created with protocol 0, so that nothing arrives before
//     the ring and the filter are in place; bind with ETH_P_ALL starts it.
//   - An Ethernet interface (and loopback) is captured raw, with its
//     Ethernet header; one without a link-layer header (tun, WireGuard) as
//     raw IP; "any" and every other kind cooked (SOCK_DGRAM), with a Linux
//     SLL header built from the packet's sockaddr_ll, byte for byte as
//     libpcap builds it.
//   - The filter is compiled for that link type and attached to the socket,
//     with the snaplen as its accept value. On a cooked socket the kernel
//     runs it from the network-layer header, so loads move back 16 bytes
//     and the SLL protocol and packet type become the kernel's ancillary
//     loads (libpcap's fix_program); a program that reads other SLL fields,
//     or len, cannot move and runs in user space instead.
//   - VLAN: the kernel takes the outer tag off a received frame before any
//     packet socket sees it, and Next puts it back, as libpcap does. So that
//     a filter selects what it selects on a file, the kernel program lets
//     every frame whose tag was taken off through, and Next runs the filter
//     on it with its tag back.
//   - Loopback: a packet the loopback device sends comes back to it as
//     received; the outgoing copy is dropped (in the kernel program, and in
//     Next), as libpcap does, so each packet is seen once.
//   - Next walks the ring's blocks as the kernel retires them (when full, or
//     blockTimeout after their first packet), hands out packets in place,
//     writes SLL headers and VLAN tags into the headroom in front of the
//     data, and gives a block back to the kernel when the next call moves
//     past it. It waits in poll(2) on the socket and an eventfd; Close
//     writes the eventfd, so a blocked Next returns io.EOF at once, and only
//     then is the ring unmapped.
//   - Stats reads PACKET_STATISTICS, which resets on every read, and keeps
//     the sums.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// liveSupported says whether OpenLive works on this system.
const liveSupported = true

const (
	defaultBufferMiB = 2
	maxBufferMiB     = 1 << 12
	// blockTimeout is how long the kernel keeps a block that has packets
	// before handing it over unfilled: the most a packet waits at a low rate.
	blockTimeout = 20 * time.Millisecond
	// frameSize is tp_frame_size. TPACKET_V3 packs packets into blocks and
	// uses it only to size the request; libpcap uses about this.
	frameSize = 2048

	sllHeaderLen = 16 // LINKTYPE_LINUX_SLL
	vlanTagLen   = 4

	// tpacket3HdrLen is where the sockaddr_ll sits after a packet's
	// tpacket3_hdr: TPACKET_ALIGN(sizeof(struct tpacket3_hdr)).
	tpacket3HdrLen = 48
	// tpacketHeadroom is the kernel's TPACKET3_HDRLEN: the header and the
	// sockaddr_ll, which the data follows with some room to spare.
	tpacketHeadroom = tpacket3HdrLen + unix.SizeofSockaddrLinklayer
	// The block header: struct tpacket_block_desc, then struct
	// tpacket_hdr_v1 at offset 8.
	blockStatusOff = 8
	blockNumPkts   = 12
	blockFirstPkt  = 16

	// Ancillary loads of the kernel's BPF (linux/filter.h SKF_AD_*).
	skfAdOff      = 0xfffff000
	skfAdProtocol = 0
	skfAdPktType  = 4
	skfAdIfIndex  = 8
	// SKF_AD_VLAN_TAG_PRESENT
	skfAdVLANTagPresent = 48
)

// liveSource is a capture from one interface (or "any").
type liveSource struct {
	iface    string
	linkType layers.LinkType
	cooked   bool
	snaplen  int
	loIndex  int // ifindex of the loopback device, whose outgoing copies are skipped; -1 if none

	// userFilter, if set, runs in user space on every packet (the kernel
	// could not run it); vlanFilter on frames whose VLAN tag was put back
	// (the kernel ran it on the frame without its tag).
	userFilter, vlanFilter *Filter

	efd       int // eventfd that Close writes to wake Next
	ring      []byte
	blockSize int
	numBlocks int

	mu     sync.Mutex // held by Next; Close takes it to know Next is out
	closed atomic.Bool
	fd     int // the socket; -1 once closed (written under mu and statsMu)
	block  int // the block Next reads, or waits for
	inUse  bool
	out    bool   // a packet was handed out and Next not called since
	left   uint32 // packets of the block not handed out yet
	pkt    int    // offset in ring of the next packet of the block
	num    uint64
	err    error  // final error of Next
	buf    []byte // for a packet whose headroom is too small (never seen)

	pollFds [2]unix.PollFd

	packets atomic.Uint64
	bytes   atomic.Int64

	statsMu sync.Mutex
	stats   LiveStats
}

// OpenLive captures packets from a network interface: its name, or "any"
// for every interface (as Linux cooked capture, link type SLL). The
// interface is looked up in the network namespace of the calling thread.
//
// Next blocks until a packet arrives or Close is called (from any
// goroutine), after which it returns io.EOF. Packets come in the order the
// kernel delivers them, with the kernel's timestamps (two packets that two
// CPUs took in at the same moment can come a little out of the order of
// their timestamps, as in tcpdump's captures). Packet.Data points into the
// ring shared with the kernel and is valid until the next call to Next. Next
// allocates nothing.
//
// It fails with an error of one line: without the privilege to capture,
// `capture: live capture on "eth0" needs root or CAP_NET_RAW` (errors.Is
// os.ErrPermission); for an unknown interface, `capture: no interface
// "foo"` (errors.Is ErrNoInterface); for a bad filter, CompileFilter's
// error.
func OpenLive(iface string, opt LiveOptions) (LiveSource, error) {
	s := &liveSource{iface: iface, fd: -1, efd: -1, loIndex: -1, linkType: layers.LinkTypeEthernet}
	if err := s.open(opt); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

func (s *liveSource) open(opt LiveOptions) error {
	s.snaplen = opt.Snaplen
	if s.snaplen <= 0 || s.snaplen > maxPacket {
		s.snaplen = maxPacket
	}
	all := s.iface == "any"
	if s.iface == "" || len(s.iface) >= unix.IFNAMSIZ {
		return s.fail("look up the interface", unix.ENODEV)
	}

	// A raw socket first: its creation tells whether we may capture, and
	// it answers the interface questions.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return s.fail("create socket", err)
	}
	s.fd = fd
	ifindex := 0
	if !all {
		if ifindex, err = s.ifreq(unix.SIOCGIFINDEX, s.iface); err != nil {
			return s.fail("look up the interface", err)
		}
		hatype, err := s.ifreq(unix.SIOCGIFHWADDR, s.iface)
		if err != nil {
			return s.fail("read the hardware type", err)
		}
		switch hatype {
		case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
			s.linkType = layers.LinkTypeEthernet
		case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP:
			s.linkType = layers.LinkTypeRaw
		default:
			s.cooked = true
		}
		if hatype == unix.ARPHRD_LOOPBACK {
			s.loIndex = ifindex
		}
	} else {
		s.cooked = true
		if lo, err := s.ifreq(unix.SIOCGIFINDEX, "lo"); err == nil {
			s.loIndex = lo
		}
	}
	if s.cooked {
		s.linkType = layers.LinkTypeLinuxSLL
		unix.Close(s.fd)
		s.fd = -1
		if s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return s.fail("create socket", err)
		}
	}

	// The filter, before any packet can arrive.
	prog, err := s.kernelProgram(opt.Filter)
	if err != nil {
		return err
	}
	if err := s.setupRing(opt.BufferMiB); err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	if err := unix.SetsockoptSockFprog(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return s.fail("attach the filter", err)
	}
	if opt.Promiscuous && !all {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return s.fail("enter promiscuous mode", err)
		}
	}
	if s.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return s.fail("create eventfd", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(s.fd, sa); err != nil {
		return s.fail("bind", err)
	}
	// Binding to an interface that is down succeeds and leaves ENETDOWN
	// pending on the socket.
	if errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && errno == int(unix.ENETDOWN) {
		return fmt.Errorf("capture: live capture on %q: the interface is down", s.iface)
	}
	return nil
}

// ifreq asks the socket about an interface: its index (SIOCGIFINDEX) or
// hardware type (SIOCGIFHWADDR).
func (s *liveSource) ifreq(req uint, name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, unix.ENODEV
	}
	if err := unix.IoctlIfreq(s.fd, req, ifr); err != nil {
		return 0, err
	}
	if req == unix.SIOCGIFINDEX {
		return int(ifr.Uint32()), nil
	}
	return int(ifr.Uint16()), nil // the sa_family of ifr_hwaddr
}

func (s *liveSource) setupRing(bufferMiB int) error {
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return s.fail("select TPACKET_V3", err)
	}
	if bufferMiB <= 0 {
		bufferMiB = defaultBufferMiB
	}
	bufferMiB = min(bufferMiB, maxBufferMiB)
	// A block must hold the largest packet with its headers.
	s.blockSize = max(unix.Getpagesize(), 64<<10)
	for s.blockSize < s.snaplen+512 {
		s.blockSize <<= 1
	}
	s.numBlocks = max(bufferMiB<<20/s.blockSize, 2)
	req := unix.TpacketReq3{
		Block_size:     uint32(s.blockSize),
		Block_nr:       uint32(s.numBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(s.blockSize / frameSize * s.numBlocks),
		Retire_blk_tov: uint32(blockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return s.fail("set up the ring", err)
	}
	ring, err := unix.Mmap(s.fd, 0, s.blockSize*s.numBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return s.fail("map the ring", err)
	}
	s.ring = ring
	return nil
}

// kernelProgram compiles the filter and decides what runs where. The
// program's accept value is the snaplen, which the kernel applies.
func (s *liveSource) kernelProgram(expr string) ([]bpf.RawInstruction, error) {
	f, err := CompileFilter(expr, s.linkType, s.snaplen)
	if err != nil {
		return nil, err
	}
	prog, accept := f.BPF(), uint32(s.snaplen)
	if s.cooked {
		accept = uint32(max(s.snaplen-sllHeaderLen, 1))
		cooked, ok := cookedProgram(prog, accept)
		if !ok {
			s.userFilter, cooked = f, acceptAll(accept)
		}
		prog = cooked
	}
	if expr != "" && s.userFilter == nil && s.linkType != layers.LinkTypeRaw {
		// The kernel runs the filter on frames without the VLAN tag it
		// took off; they get it back in Next. It lets them all through,
		// and Next runs the filter on them with their tag, as on a file.
		s.vlanFilter = f
		prog = append(passTagged(accept), prog...)
	}
	if s.loIndex >= 0 {
		prog = append(skipLoopbackCopies(s.loIndex, s.iface == "any"), prog...)
	}
	if len(prog) > maxProgram {
		return nil, fmt.Errorf("capture: filter %q: compiles to %d BPF instructions, more than the kernel's limit of %d", expr, len(prog), maxProgram)
	}
	return prog, nil
}

func acceptAll(snaplen uint32) []bpf.RawInstruction {
	return []bpf.RawInstruction{bpfIns(clsRET|retK, snaplen)}
}

// passTagged is a prologue that accepts every frame whose VLAN tag the
// kernel has taken off.
func passTagged(snaplen uint32) []bpf.RawInstruction {
	return []bpf.RawInstruction{
		bpfIns(clsLD|szW|modeABS, skfAdOff+skfAdVLANTagPresent),
		{Op: clsJMP | jmpJEQ | srcK, Jt: 1, Jf: 0, K: 0},
		bpfIns(clsRET|retK, snaplen),
	}
}

// skipLoopbackCopies is a prologue that rejects what the loopback device
// sends: every such packet comes back to it as received, and libpcap
// shows it once. Without all, the socket is bound to the loopback device.
func skipLoopbackCopies(loIndex int, all bool) []bpf.RawInstruction {
	p := []bpf.RawInstruction{
		bpfIns(clsLD|szW|modeABS, skfAdOff+skfAdPktType),
		{Op: clsJMP | jmpJEQ | srcK, Jt: 0, Jf: 1, K: packetOutgoing},
		bpfIns(clsRET|retK, 0),
	}
	if all {
		p = append([]bpf.RawInstruction{
			bpfIns(clsLD|szW|modeABS, skfAdOff+skfAdIfIndex),
			{Op: clsJMP | jmpJEQ | srcK, Jt: 0, Jf: 3, K: uint32(loIndex)},
		}, p...)
	}
	return p
}

const packetOutgoing = 4 // PACKET_OUTGOING, LINUX_SLL_OUTGOING

// cookedProgram moves a program compiled for LINKTYPE_LINUX_SLL to a cooked
// socket, whose filter sees the packet from its network-layer header: loads
// past the 16-byte SLL header move back 16 bytes, and the SLL fields the
// kernel knows become ancillary loads (as libpcap's fix_program does). It
// fails for any other load of the header, and for `len`, which would count
// the header.
func cookedProgram(prog []bpf.RawInstruction, snaplen uint32) ([]bpf.RawInstruction, bool) {
	out := make([]bpf.RawInstruction, len(prog))
	for i, in := range prog {
		class, mode := in.Op&0x07, in.Op&0xe0
		switch {
		case class == clsRET && in.Op&0x18 == retK:
			if in.K != 0 {
				in.K = snaplen
			}
		case class == clsRET:
			return nil, false // ret a: not emitted by the compiler
		case (class == clsLD || class == clsLDX) && mode == modeLEN:
			return nil, false
		case (class == clsLD || class == clsLDX) && (mode == modeABS || mode == modeIND || mode == modeMSH):
			switch {
			case in.K >= sllHeaderLen:
				in.K -= sllHeaderLen
			case mode == modeABS && class == clsLD && in.Op&0x18 == szH && in.K == 14:
				in = bpfIns(clsLD|szW|modeABS, skfAdOff+skfAdProtocol)
			case mode == modeABS && class == clsLD && in.Op&0x18 == szH && in.K == 0:
				in = bpfIns(clsLD|szW|modeABS, skfAdOff+skfAdPktType)
			default:
				return nil, false
			}
		}
		out[i] = in
	}
	return out, true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// fail turns err into OpenLive's error; OpenLive releases what was set up.
func (s *liveSource) fail(what string, err error) error {
	return liveOpenError(s.iface, what, err)
}

// liveOpenError maps the errors of setting up a capture to their messages.
func liveOpenError(iface, what string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return &liveError{msg: fmt.Sprintf("capture: live capture on %q needs root or CAP_NET_RAW", iface), errs: []error{err}}
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return &liveError{msg: fmt.Sprintf("capture: no interface %q", iface), errs: []error{ErrNoInterface, err}}
	case errors.Is(err, unix.EAFNOSUPPORT):
		return &liveError{msg: fmt.Sprintf("capture: live capture on %q: this kernel has no AF_PACKET sockets", iface), errs: []error{ErrLiveUnsupported, err}}
	}
	return fmt.Errorf("capture: live capture on %q: %s: %w", iface, what, err)
}

// release frees what open got before it failed.
func (s *liveSource) release() {
	s.unmap()
	s.closeFDs()
}

// unmap gives the ring back.
func (s *liveSource) unmap() {
	if s.ring != nil {
		unix.Munmap(s.ring)
		s.ring = nil
	}
}

// closeFDs closes the socket and the eventfd. The ring stays mapped until
// unmap: the mapping holds its own reference to the socket's memory.
func (s *liveSource) closeFDs() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
	if s.efd >= 0 {
		unix.Close(s.efd)
		s.efd = -1
	}
}

// LinkType returns the link type of every packet.
func (s *liveSource) LinkType() layers.LinkType { return s.linkType }

// Next fills p with the next packet, waiting for one. It returns io.EOF
// once the source is closed.
func (s *liveSource) Next(p *Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = false // the caller is done with the previous packet
	for {
		if s.closed.Load() {
			s.unmap() // if Close left it for the packet then in use
			return io.EOF
		}
		if s.err != nil {
			return s.err
		}
		if s.left == 0 {
			if s.inUse {
				// Every packet of the block was handed out, the last one
				// by the previous call: the block goes back to the kernel.
				atomic.StoreUint32(s.blockWord(blockStatusOff), unix.TP_STATUS_KERNEL)
				s.inUse = false
				s.block = (s.block + 1) % s.numBlocks
			}
			if atomic.LoadUint32(s.blockWord(blockStatusOff))&unix.TP_STATUS_USER == 0 {
				if err := s.wait(); err != nil {
					s.err = err
				}
				continue
			}
			s.inUse = true
			s.left = *s.blockWord(blockNumPkts)
			s.pkt = s.block*s.blockSize + int(*s.blockWord(blockFirstPkt))
			continue
		}
		if s.nextPacket(p) {
			s.out = true
			return nil
		}
	}
}

func (s *liveSource) blockWord(off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[s.block*s.blockSize+off]))
}

// wait blocks until the kernel hands over a block or Close is called.
func (s *liveSource) wait() error {
	fds := s.pollFds[:]
	fds[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
	fds[1] = unix.PollFd{Fd: int32(s.efd), Events: unix.POLLIN}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("capture: live capture on %q: poll: %w", s.iface, err)
		}
		break
	}
	if fds[1].Revents != 0 {
		return nil // closed: Next says io.EOF
	}
	if fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
		errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && errno == int(unix.ENETDOWN) {
			return fmt.Errorf("capture: live capture on %q: the interface went down", s.iface)
		}
		if err == nil && errno != 0 {
			return fmt.Errorf("capture: live capture on %q: %w", s.iface, unix.Errno(errno))
		}
	}
	return nil
}

// nextPacket takes the next packet of the current block. It returns false
// for a packet that is skipped (a loopback copy, or rejected by the filter
// in user space).
func (s *liveSource) nextPacket(p *Packet) bool {
	off := s.pkt
	hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&s.ring[off]))
	sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&s.ring[off+tpacket3HdrLen]))
	s.left--
	s.pkt += int(hdr.Next_offset)
	blockEnd := (s.block + 1) * s.blockSize
	start, end := off+int(hdr.Mac), off+int(hdr.Mac)+int(hdr.Snaplen)
	if end > blockEnd || start < off+tpacketHeadroom {
		s.left = 0 // a corrupt block; never seen, but never read out of it
		return false
	}
	if s.loIndex >= 0 && int(sll.Ifindex) == s.loIndex && sll.Pkttype == packetOutgoing {
		return false
	}
	data, length := s.ring[start:end], int(hdr.Len)
	// A VLAN tag the kernel took off the frame (VLAN offload) goes back in,
	// as libpcap puts it: after the MAC addresses, or in a cooked header
	// in place of the protocol, which follows the tag.
	vlan := hdr.Status&unix.TP_STATUS_VLAN_VALID != 0 || hdr.Hv1.Vlan_tci != 0
	var tag [vlanTagLen]byte
	if vlan {
		tpid := uint16(etherTypeVLAN)
		if hdr.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = hdr.Hv1.Vlan_tpid
		}
		binary.BigEndian.PutUint16(tag[0:], tpid)
		binary.BigEndian.PutUint16(tag[2:], uint16(hdr.Hv1.Vlan_tci))
	}
	retagged := false
	switch {
	case s.cooked:
		var h [sllHeaderLen + vlanTagLen]byte
		binary.BigEndian.PutUint16(h[0:], uint16(sll.Pkttype))
		binary.BigEndian.PutUint16(h[2:], sll.Hatype)
		binary.BigEndian.PutUint16(h[4:], uint16(sll.Halen))
		copy(h[6:6+min(int(sll.Halen), 8)], sll.Addr[:])
		n := 14
		if vlan {
			n += copy(h[n:], tag[:])
			retagged = true
		}
		proto := (*[2]byte)(unsafe.Pointer(&sll.Protocol)) // network byte order
		n += copy(h[n:], proto[:])
		data = s.prepend(off, start, end, h[:n], 0)
		length += n
	case vlan && s.linkType == layers.LinkTypeEthernet && len(data) >= 12:
		data = s.prepend(off, start, end, tag[:], 12)
		length += vlanTagLen
		retagged = true
	}
	if len(data) > s.snaplen {
		data = data[:s.snaplen]
	}
	if s.userFilter != nil && !s.userFilter.MatchLength(data, length) {
		return false
	}
	if retagged && s.vlanFilter != nil && !s.vlanFilter.MatchLength(data, length) {
		return false
	}
	s.num++
	s.packets.Add(1)
	s.bytes.Add(int64(len(data)))
	*p = Packet{
		Data:     data,
		Time:     time.Unix(int64(hdr.Sec), int64(hdr.Nsec)),
		Length:   length,
		LinkType: s.linkType,
		Num:      s.num,
	}
	return true
}

// prepend inserts ins at offset at of the packet in ring[start:end]: in the
// headroom in front of it, moving its first at bytes back, when that room
// lies past the packet's tpacket3_hdr and sockaddr_ll (off is where they
// start), or else in a buffer of its own.
func (s *liveSource) prepend(off, start, end int, ins []byte, at int) []byte {
	n := len(ins)
	if start-n >= off+tpacketHeadroom {
		copy(s.ring[start-n:], s.ring[start:start+at])
		copy(s.ring[start-n+at:], ins)
		return s.ring[start-n : end]
	}
	s.buf = append(append(append(s.buf[:0], s.ring[start:start+at]...), ins...), s.ring[start+at:end]...)
	return s.buf
}

// Close stops the capture. A Next blocked in another goroutine returns
// io.EOF; so do later calls. Close may be called from another goroutine
// while the packet loop is busy with the packet Next returned last: that
// packet's data stays valid (the ring stays mapped) until Next is called
// again, or Close is called a second time.
func (s *liveSource) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.out = false
		s.unmap()
		return nil
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(s.efd, one[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.readStats()
	s.closeFDs()
	if !s.out {
		s.unmap()
	}
	return nil
}

// Stats reads the kernel's counters.
func (s *liveSource) Stats() (LiveStats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.fd < 0 {
		return s.stats, nil
	}
	if err := s.readStats(); err != nil {
		return s.stats, fmt.Errorf("capture: live capture on %q: read the kernel's counters: %w", s.iface, err)
	}
	return s.stats, nil
}

func (s *liveSource) readStats() error {
	st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return err
	}
	// The kernel counts dropped packets in tp_packets too.
	s.stats.Received += uint64(st.Packets)
	s.stats.Dropped += uint64(st.Drops)
	return nil
}

// Progress reports the packets and bytes handed out; Total is 0.
func (s *liveSource) Progress() Progress {
	return Progress{Bytes: s.bytes.Load(), Packets: s.packets.Load()}
}
