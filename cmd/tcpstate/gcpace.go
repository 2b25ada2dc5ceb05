package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The collector is paced by what the connection table does, unless GOGC or
// GOMEMLIMIT is set (the user's settings rule). After every collection the
// target is worked out again from what it found live (retarget): the heap
// may grow by growPercent while the table can only grow (with
// quietHeadroom for the commands that make next to no garbage meanwhile),
// by gcPercent (see main.go) once it holds steady, and while the table is
// small the headroom counts a floor as if it were live.

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

// pace is what retarget works the target out from.
var pace struct {
	sync.Mutex
	on       bool // tcpstate sets the target (setPace)
	settled  bool // the capture's clock has passed TIME_WAIT (settle)
	quiet    bool // the command makes next to no garbage (growQuietly)
	floor    bool // gcFloor still counts
	watching bool // retarget runs after every collection
	// floorUntil is the live heap past which the floor no longer counts.
	floorUntil uint64
	// live and scan are the figures retarget last worked from, and
	// retargets counts its runs (for tests).
	live, scan uint64
	retargets  int
}

// settle sets the collector's target to gcPercent, once, if tcpstate sets
// it: the capture's clock has passed TIME_WAIT from its first packet.
func settle() {
	pace.Lock()
	defer pace.Unlock()
	if pace.on && !pace.settled {
		pace.settled = true
		retarget()
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
// their peak by as much. (Not at once: the first collection would then
// come only after 64 MiB, and find most of it live.)
func growQuietly() {
	pace.Lock()
	defer pace.Unlock()
	if !pace.on || pace.settled || pace.quiet {
		return
	}
	pace.quiet = true
	watch()
}

// gcFloor is heap the headroom counts as live while the table is small
// and growing (the floor): the heap may then grow by half of
// (table + gcFloor) between collections, where a table growing from
// nothing would be collected every few MiB, each collection marking the
// whole table again. It is only counted, never allocated: a real
// allocation of it, never written, did the same, but the collection it
// set off at once cost every run 1.2-1.7 ms before the capture was opened
// (half of a small capture's run), marking the globals.
//
// Once a collection finds more live heap than floorUntil, or at settle,
// the floor no longer counts: from there a fifth of the table is
// headroom enough, and a floor kept would let a long capture's heap grow
// further than a short one's before the collector ran. (A 30-minute
// steady capture whose table holds 26-29 MiB peaked 10 MiB above its
// first 3 minutes with the floor kept after settle, 58 MiB against 48 in
// netstat, 1.21x; 54 against 48 without it, with 9 collections instead of
// 4 over the 30 minutes.)
const gcFloor = 32 << 20

// floorUntil is the live heap past which the floor no longer counts.
// (On a 1M-packet capture of 90k connections, whose table grows to 92 MiB,
// dropping it there keeps nearly all of the gain: 0.31 s against 0.30 s
// kept to the end and 0.33 s without; on a 30-minute steady capture the
// netstat peak is 74 MiB, as without, against 84 MiB kept.)
const floorUntil = 32 << 20

// setPace has tcpstate set the collector's target, unless GOGC or
// GOMEMLIMIT is set: the floor counts, the first collection comes when
// the heap has grown by growPercent of it, and retarget runs after every
// collection.
func setPace() {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if gogc || limit {
		return
	}
	pace.Lock()
	defer pace.Unlock()
	pace.on, pace.settled, pace.quiet = true, false, false
	pace.floor, pace.floorUntil = true, floorUntil
	retarget()
	watch()
}

// watch runs retarget after the next collection, and again after every
// one while the target may change: until settle, and while the floor
// counts. pace is locked.
func watch() {
	if pace.watching {
		return
	}
	pace.watching = true
	afterCollection(func() {
		pace.Lock()
		defer pace.Unlock()
		pace.watching = false
		if !pace.on {
			return
		}
		retarget()
		if !pace.settled || pace.floor {
			watch()
		}
	})
}

// retarget sets the collector's target from the heap the last collection
// found live: growPercent of what the collector scans (the live heap, the
// globals and the goroutine stacks, as the runtime counts them) and of the
// floor while it counts, gcPercent (without the floor) after settle; for a quiet command before
// settle, at least quietHeadroom as a percentage of the live heap and the
// floor, as GOGC would set it. The runtime takes a target as a
// percentage of what it scans, and never less than 4 MiB times that
// percentage over 100: the percentage set is worked out from those. pace
// is locked.
func retarget() {
	live, scan := heapScan()
	pace.live, pace.scan = live, scan
	pace.retargets++
	if pace.floor && (live > pace.floorUntil || pace.settled) {
		pace.floor = false
	}
	var floor uint64
	if pace.floor {
		floor = gcFloor
	}
	percent := uint64(growPercent)
	if pace.settled {
		percent = gcPercent
	}
	if pace.quiet && !pace.settled {
		// quietHeadroom as a percentage of the live heap (the floor
		// counted), the share the runtime then gives of all it scans.
		percent = max(percent, quietHeadroom*100/max(live+floor, 1))
	}
	debug.SetGCPercent(targetFor(live, scan, (scan+floor)*percent/100))
}

// targetFor returns the percentage that lets the heap grow by room past
// live, given what the collector scans: room is that percentage of scan,
// and the runtime's minimum of 4 MiB times the percentage over 100 must
// not be above live + room.
func targetFor(live, scan, room uint64) int {
	p := room * 100 / max(scan, 1)
	p = min(p, (live+room)*100/minHeap, 1<<20)
	return int(max(p, 1))
}

// minHeap is the runtime's smallest heap goal at a target of 100.
const minHeap = 4 << 20

// afterCollection runs f once the next collection has run. The sentinel is
// an object nothing refers to, so that collection frees it and runs its
// cleanup, f.
func afterCollection(f func()) {
	runtime.AddCleanup(new([32]byte), func(f func()) { f() }, f)
}

// heapScan returns the heap the last collection found live, and that with
// the globals and the goroutine stacks: what the collector scans, which
// the runtime's target is a percentage of.
func heapScan() (live, scan uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/globals:bytes"}, {Name: "/gc/scan/stack:bytes"}}
	metrics.Read(s)
	var v [3]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return v[0], v[0] + v[1] + v[2]
}
