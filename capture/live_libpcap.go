//go:build libpcap

package capture

// Live capture through libpcap, with gopacket's cgo binding (gopacket/pcap).
// It is the route to live capture where the AF_PACKET source of
// live_linux.go does not exist (macOS, the BSDs; Windows with Npcap, which
// gopacket loads at run time without cgo), and an alternative on Linux.
// Build with -tags libpcap; it needs cgo and libpcap's headers (Debian:
// libpcap-dev).
//
// How it keeps the contract of OpenLive, in the order of OpenLive:
//   - The handle is created inactive, so that snaplen, promiscuous mode,
//     buffer size and the packet buffer timeout are in place before
//     pcap_activate. Timestamps are asked for in nanoseconds.
//   - The filter is compiled by libpcap's own compiler and set with
//     pcap_setfilter, which keeps packets that arrived before it out of the
//     capture.
//   - Next reads with ZeroCopyReadPacketData: the packet stays in libpcap's
//     buffer (on Linux, its TPACKET ring), nothing is allocated.
//   - libpcap promises nothing about using one handle from two threads,
//     so one mutex serialises every call into it: a read, pcap_stats,
//     pcap_close. A read waits for a packet at most bufferTimeout before
//     giving the mutex up, so Stats and Close wait about that long at most,
//     and a Next blocked when Close is called returns io.EOF that soon.
//   - Stats adds up pcap_stats' 32-bit counters in 64 bits.
//
// Where it differs from the AF_PACKET source, on Linux (libpcap 1.10):
//   - A filter selects live what libpcap's kernel program selects, which is
//     not always what the same filter selects from a file: the kernel runs
//     it on a frame whose VLAN tag it has taken off (so "tcp port 80" also
//     takes port 80 on any VLAN, and "not port 80" misses it), and on "any"
//     `len` does not count the 16-byte cooked header. The AF_PACKET source
//     runs such filters again in user space.
//   - An interface that goes down under a capture is not an error: libpcap
//     waits for it to come back. One that disappears is.
//   - On the loopback device, and on "any", Stats' Received counts every
//     loopback packet twice: libpcap skips the outgoing copy in user space,
//     after the kernel counted it (tcpdump's "received by filter" too).
//   - A warning of pcap_activate (such as an unknown hardware type, where
//     libpcap would fall back to cooked capture) fails OpenLive: gopacket
//     takes it for a failure.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// liveSupported says whether OpenLive works on this system.
const liveSupported = true

const (
	defaultBufferMiB = 2
	// maxBufferMiB keeps the buffer size in bytes within the C int that
	// pcap_set_buffer_size takes.
	maxBufferMiB = 1<<11 - 1
	// bufferTimeout is libpcap's packet buffer timeout (pcap_set_timeout):
	// the most a packet waits in the kernel's buffer at a low rate (on
	// Linux the TPACKET_V3 block timeout, as blockTimeout of the AF_PACKET
	// source), and the longest a read holds the handle.
	bufferTimeout = 20 * time.Millisecond
)

// Status codes of pcap_activate (pcap/pcap.h).
const (
	pcapErrorNoSuchDevice      = -5
	pcapErrorPermDenied        = -8
	pcapErrorIfaceNotUp        = -9
	pcapErrorPromiscPermDenied = -11
)

// pcapSource is a capture from one interface through libpcap.
type pcapSource struct {
	iface    string
	linkType layers.LinkType

	closed atomic.Bool
	mu     sync.Mutex   // serialises calls into libpcap
	h      *pcap.Handle // nil once closed (written under mu)
	out    bool         // a packet was handed out and Next not called since (under mu)
	final  bool         // Close read the last counters (under mu)
	num    uint64
	err    error // final error of Next

	packets atomic.Uint64
	bytes   atomic.Int64

	// stats are the sums of pcap_stats' counters, last read at recv and
	// drop (under mu).
	stats      LiveStats
	recv, drop uint32
}

// OpenLive captures packets from a network interface through libpcap: its
// name as libpcap knows it (tcpdump -D lists them), or "any" where libpcap
// has it (Linux: Linux cooked capture). On Linux the interface is looked
// up in the network namespace of the calling thread.
//
// Next blocks until a packet arrives or Close is called (from any
// goroutine), after which it returns io.EOF within about 20 ms. Packets
// come with the kernel's timestamps; Packet.Data points into libpcap's
// buffer and is valid until the next call to Next. Next allocates nothing.
//
// LiveOptions.Filter is compiled by libpcap (as by tcpdump), for the link
// type of the interface. Stats are pcap_stats', whose meaning varies with
// the system (pcap_stats(3PCAP)): on Linux as for the AF_PACKET source,
// except that a loopback packet counts twice; elsewhere Received may also
// count packets the filter rejected.
//
// It fails with an error of one line: without the privilege to capture,
// `capture: live capture on "eth0" needs root or CAP_NET_RAW` on Linux
// (errors.Is os.ErrPermission); for an unknown interface, `capture: no
// interface "foo"` (errors.Is ErrNoInterface); for a bad filter,
// `capture: filter "EXPR": ` and libpcap's message.
func OpenLive(iface string, opt LiveOptions) (LiveSource, error) {
	if iface == "" {
		// pcap_create takes no name to mean "any", where it has one.
		return nil, pcapOpenError(iface, pcapErrorNoSuchDevice, "")
	}
	snaplen := opt.Snaplen
	if snaplen <= 0 || snaplen > maxPacket {
		snaplen = maxPacket
	}
	bufferMiB := opt.BufferMiB
	if bufferMiB <= 0 {
		bufferMiB = defaultBufferMiB
	}
	bufferMiB = min(bufferMiB, maxBufferMiB)

	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("capture: live capture on %q: %s", iface, oneLine(err.Error()))
	}
	defer in.CleanUp() // after Activate succeeds, the handle is no longer in's
	// libpcap refuses promiscuous mode on "any" with a warning, which
	// gopacket takes for a failure; tcpdump ignores it there.
	promisc := opt.Promiscuous && iface != "any"
	for _, step := range []struct {
		what string
		set  func() error
	}{
		{"set the snaplen", func() error { return in.SetSnapLen(snaplen) }},
		{"set promiscuous mode", func() error { return in.SetPromisc(promisc) }},
		{"set the buffer size", func() error { return in.SetBufferSize(bufferMiB << 20) }},
		{"set the buffer timeout", func() error { return in.SetTimeout(bufferTimeout) }},
	} {
		if err := step.set(); err != nil {
			return nil, fmt.Errorf("capture: live capture on %q: %s: %s", iface, step.what, lowerFirst(oneLine(err.Error())))
		}
	}
	h, err := in.Activate()
	if err != nil {
		// gopacket returns pcap_activate's status as the error, with a
		// type of its own, and then libpcap's message is still on the
		// inactive handle. Any other error comes after a successful
		// pcap_activate, with the handle closed.
		status, msg := 0, err.Error()
		if v := reflect.ValueOf(err); v.CanInt() {
			status = int(v.Int())
			if m := in.Error().Error(); m != "" {
				msg = m
			}
		}
		return nil, pcapOpenError(iface, status, msg)
	}
	if strings.TrimSpace(opt.Filter) != "" {
		if err := h.SetBPFFilter(opt.Filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("capture: filter %q: %s", opt.Filter, lowerFirst(oneLine(err.Error())))
		}
	}
	return &pcapSource{iface: iface, h: h, linkType: linkTypeOfDLT(int(h.LinkType()))}, nil
}

// pcapOpenError maps what pcap_activate said, its status and message, to
// OpenLive's errors. A libpcap that answers with the generic PCAP_ERROR is
// recognised by its message.
func pcapOpenError(iface string, status int, msg string) error {
	msg = oneLine(msg)
	low := strings.ToLower(msg)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(low, w) {
				return true
			}
		}
		return false
	}
	cause := errors.New(msg)
	switch {
	case status == pcapErrorPermDenied || status == pcapErrorPromiscPermDenied ||
		has("permission denied", "operation not permitted", "don't have permission"):
		if runtime.GOOS == "linux" {
			return &liveError{msg: fmt.Sprintf("capture: live capture on %q needs root or CAP_NET_RAW", iface), errs: []error{os.ErrPermission, cause}}
		}
		return &liveError{msg: fmt.Sprintf("capture: live capture on %q is not permitted: %s", iface, lowerFirst(msg)), errs: []error{os.ErrPermission, cause}}
	case status == pcapErrorNoSuchDevice || has("no such device", "doesn't exist", "device not configured"):
		return &liveError{msg: fmt.Sprintf("capture: no interface %q", iface), errs: []error{ErrNoInterface, cause}}
	case status == pcapErrorIfaceNotUp || has("not up"):
		return &liveError{msg: fmt.Sprintf("capture: live capture on %q: the interface is down", iface), errs: []error{cause}}
	}
	return &liveError{msg: fmt.Sprintf("capture: live capture on %q: %s", iface, lowerFirst(msg)), errs: []error{cause}}
}

// oneLine keeps a message from libpcap to one line.
func oneLine(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}

// linkTypeOfDLT turns libpcap's DLT_ value into the LINKTYPE_ value files
// carry (https://www.tcpdump.org/linktypes.html). They differ where the
// BSDs gave a DLT_ number different meanings: DLT_RAW is 12, or 14 on
// OpenBSD, where 12 is DLT_LOOP.
func linkTypeOfDLT(dlt int) layers.LinkType {
	openbsd := runtime.GOOS == "openbsd"
	switch {
	case dlt == 12 && openbsd:
		return layers.LinkTypeLoop
	case dlt == 12, dlt == 14 && openbsd:
		return layers.LinkTypeRaw
	}
	return layers.LinkType(dlt)
}

// LinkType returns the link type of every packet.
func (s *pcapSource) LinkType() layers.LinkType { return s.linkType }

// Next fills p with the next packet, waiting for one. It returns io.EOF
// once the source is closed.
func (s *pcapSource) Next(p *Packet) error {
	s.mu.Lock()
	s.out = false // the caller is done with the previous packet
	if s.closed.Load() && s.h != nil {
		s.closeHandle() // Close left it for the packet then in use
	}
	s.mu.Unlock()
	for {
		if s.closed.Load() {
			return io.EOF
		}
		s.mu.Lock()
		if s.err != nil || s.h == nil {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return err
		}
		data, ci, err := s.h.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			s.num++
			*p = Packet{
				Data:     data,
				Time:     ci.Timestamp,
				Length:   max(ci.Length, len(data)),
				LinkType: s.linkType,
				Num:      s.num,
			}
			s.packets.Add(1)
			s.bytes.Add(int64(len(data)))
			s.out = true
			s.mu.Unlock()
			return nil
		case err == pcap.NextErrorTimeoutExpired:
			// No packet within bufferTimeout: let Close and Stats in.
		case err == io.EOF:
			// pcap_breakloop; only Close calls it.
			s.mu.Unlock()
			return io.EOF
		default:
			msg := err.Error()
			if err == pcap.NextErrorReadError {
				msg = s.h.Error().Error()
			}
			s.err = fmt.Errorf("capture: live capture on %q: %s", s.iface, lowerFirst(oneLine(msg)))
		}
		s.mu.Unlock()
	}
}

// Close stops the capture. A Next blocked in another goroutine returns
// io.EOF; so do later calls. Close may be called from another goroutine
// while the packet loop is busy with the packet Next returned last: that
// packet's data (libpcap's buffer) stays valid until Next is called again,
// or Close is called a second time.
func (s *pcapSource) Close() error {
	again := s.closed.Swap(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return nil
	}
	if !again {
		s.readStats()
		s.final = true
	}
	if again || !s.out {
		s.closeHandle()
	}
	return nil
}

func (s *pcapSource) closeHandle() {
	s.h.Close()
	s.h = nil
	s.out = false
}

// Stats reads libpcap's counters.
func (s *pcapSource) Stats() (LiveStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil || s.final {
		return s.stats, nil
	}
	if err := s.readStats(); err != nil {
		return s.stats, fmt.Errorf("capture: live capture on %q: read the kernel's counters: %s", s.iface, lowerFirst(oneLine(err.Error())))
	}
	return s.stats, nil
}

// readStats adds what pcap_stats counted since the last call. Its counters
// are unsigned 32-bit numbers that wrap; the differences stay right as long
// as they are read every 2^32 packets.
func (s *pcapSource) readStats() error {
	st, err := s.h.Stats()
	if err != nil {
		return err
	}
	recv, drop := uint32(st.PacketsReceived), uint32(st.PacketsDropped)
	s.stats.Received += uint64(recv - s.recv)
	s.stats.Dropped += uint64(drop - s.drop)
	s.recv, s.drop = recv, drop
	return nil
}

// Progress reports the packets and bytes handed out; Total is 0.
func (s *pcapSource) Progress() Progress {
	return Progress{Bytes: s.bytes.Load(), Packets: s.packets.Load()}
}
