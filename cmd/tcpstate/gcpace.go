package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The collector is paced by what the connection table does, unless GOGC or
// GOMEMLIMIT is set (the user's settings rule): a target of growPercent
// while the table can only grow (with quietHeadroom for the commands that
// make next to no garbage meanwhile), then gcPercent (see main.go), and a
// floor while the table is small.

// growPercent is the collector's target while the capture's clock has not
// yet passed TIME_WAIT (2·MSL) from its first packet. Until then no
// connection that closed has left the table (only reset, refused, evicted
// and replaced ones can have), so nearly everything allocated stays live,
// and a collection frees little and marks the whole table again: at
// gcPercent a table growing to 90 MiB is marked about eight times. From
// that point of capture time on (settle), the table holds about steady and
// gcPercent keeps the peak near what the connections need. The point is
// the same in every run: a target that followed what the collections found
// (the live heap growing or not) made a steady capture's peak depend on
// when they ran, up to 10% higher in one run of four.
const growPercent = 50

// pace says whether tcpstate sets the collector's target (setPace) and
// whether it has settled to gcPercent.
var pace struct {
	sync.Mutex
	on, settled bool
	quiet       bool // growQuietly's watch is on
}

// settle sets the collector's target to gcPercent, once, if tcpstate sets
// it: the capture's clock has passed TIME_WAIT from its first packet.
func settle() {
	pace.Lock()
	defer pace.Unlock()
	if pace.on && !pace.settled {
		pace.settled = true
		debug.SetGCPercent(gcPercent)
	}
}

// quietHeadroom is how far the heap may grow past what the last collection
// found live, until settle, for a command that makes next to no garbage
// while the table grows (growQuietly); growPercent of the live heap when
// that is more. Everything allocated then stays live, nearly: a
// collection only marks the table again, and a target of a share of a
// small live heap runs one every few MiB. On a 1M-packet capture of 90k
// connections, conns then collects once after the floor's, not four
// times: CPU 411 -> 376 ms, peaks as before (88-89 MiB there; 66-68 and
// 78 MiB on the steady 1M- and 10M-packet captures; 355-377 MiB on the
// SYN flood, where the live heap is large and growPercent rules).
const quietHeadroom = 64 << 20

// growQuietly says the command makes next to no garbage while the table
// grows (conns' text table, netstat: connections that leave are reused,
// rows are made without garbage): from the next collection until settle,
// the target leaves quietHeadroom above the live heap. Other commands'
// garbage (an event stream, JSON rows) would fill that headroom, and raise
// their peak by as much.
func growQuietly() {
	pace.Lock()
	defer pace.Unlock()
	if !pace.on || pace.settled || pace.quiet {
		return
	}
	pace.quiet = true
	watchQuiet()
}

// watchQuiet sets the target after the next collection, and again after
// every one until settle.
func watchQuiet() {
	afterCollection(func() {
		pace.Lock()
		defer pace.Unlock()
		if pace.settled || !pace.on {
			pace.quiet = false
			return
		}
		live := max(liveHeap(), 1)
		debug.SetGCPercent(max(growPercent, int(min(quietHeadroom*100/live, 1<<20))))
		watchQuiet()
	})
}

// gcFloor is heap allocated once and never written, which the collector
// counts as live while the table is small: the heap may then grow by a
// half or a quarter of (table + gcFloor) between collections, where a
// table growing from nothing would be collected every few MiB, each
// collection marking the whole table again. Never written, it is given no
// memory by the kernel: resident memory does not change.
//
// Once a collection finds more live heap than floorUntil besides it, the
// floor is let go: from there a quarter of the table is headroom enough,
// and a floor kept would let a long capture's heap grow 8 MiB further than
// a short one's before the collector ran (the peak of a 30-minute steady
// capture against its first 3 minutes).
const gcFloor = 32 << 20

// floorUntil is the live heap, the floor aside, past which it is dropped.
// (On a 1M-packet capture of 90k connections, whose table grows to 92 MiB,
// dropping it there keeps nearly all of the gain: 0.31 s against 0.30 s
// kept to the end and 0.33 s without; on a 30-minute steady capture the
// netstat peak is 74 MiB, as without, against 84 MiB kept.)
const floorUntil = 32 << 20

// floor holds the gcFloor allocation until it is dropped.
var floor atomic.Pointer[[]byte]

// setPace sets the target to growPercent and allocates the floor, unless
// GOGC or GOMEMLIMIT is set, and watches the live heap after every
// collection.
func setPace() {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if gogc || limit {
		return
	}
	pace.Lock()
	pace.on, pace.settled = true, false
	debug.SetGCPercent(growPercent)
	pace.Unlock()
	b := make([]byte, gcFloor)
	floor.Store(&b)
	watchFloor(floorUntil)
}

// watchFloor runs, after the next collection, a check of the live heap
// that drops the floor past until or watches again.
func watchFloor(until uint64) {
	afterCollection(func() {
		if liveHeap() > gcFloor+until {
			floor.Store(nil)
			// The target of the cycle under way counted the floor: a
			// collection now sets it from the table alone.
			runtime.GC()
			return
		}
		watchFloor(until)
	})
}

// afterCollection runs f once the next collection has run. The sentinel is
// an object nothing refers to, so that collection frees it and runs its
// cleanup, f.
func afterCollection(f func()) {
	runtime.AddCleanup(new([32]byte), func(f func()) { f() }, f)
}

// liveHeap returns the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
