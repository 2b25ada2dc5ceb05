package capture

import (
	"errors"

	"github.com/gopacket/gopacket/layers"
)

// LiveOptions configures OpenLive. The zero value captures whole packets
// (262144 bytes), not in promiscuous mode, unfiltered, with a 2 MiB ring.
type LiveOptions struct {
	// Snaplen is how many bytes of each packet are kept; 0 or less means
	// 262144, the most any capture keeps.
	Snaplen int
	// Promiscuous also captures frames not addressed to the interface. It
	// is ignored on "any", as by tcpdump.
	Promiscuous bool
	// Filter is a tcpdump filter expression (see CompileFilter), run in
	// the kernel so that packets it rejects are never copied.
	Filter string
	// BufferMiB is the size of the ring the kernel fills, in MiB; 0 or
	// less means 2, tcpdump's default. A bigger ring rides out longer
	// stalls of the reader before the kernel drops packets.
	BufferMiB int
}

// LiveStats are the kernel's counters of a live capture since it opened.
type LiveStats struct {
	// Received is how many packets passed the filter, including those
	// dropped: tcpdump's "packets received by filter".
	Received uint64
	// Dropped is how many of them the kernel dropped because the ring was
	// full: tcpdump's "packets dropped by kernel".
	Dropped uint64
}

// LiveSource is the Source that OpenLive returns.
type LiveSource interface {
	Source
	// Stats reads the kernel's counters. It is safe to call from another
	// goroutine while Next runs, and after Close (it then returns the
	// counters as they were at Close).
	Stats() (LiveStats, error)
	// LinkType is the link type of every packet: Ethernet, raw IP, or
	// Linux cooked (SLL) for "any" and interfaces of other kinds.
	LinkType() layers.LinkType
}

// Errors of OpenLive, to test for with errors.Is. A missing privilege is
// os.ErrPermission.
var (
	// ErrNoInterface means the interface does not exist.
	ErrNoInterface = errors.New("no such interface")
	// ErrLiveUnsupported means live capture is not available on this
	// system (it needs Linux).
	ErrLiveUnsupported = errors.New("live capture needs Linux")
)

// liveError is an OpenLive error with a message of its own, such as
//
//	capture: live capture on "eth0" needs root or CAP_NET_RAW
type liveError struct {
	msg  string
	errs []error // what errors.Is sees: a sentinel, the errno
}

func (e *liveError) Error() string   { return e.msg }
func (e *liveError) Unwrap() []error { return e.errs }
