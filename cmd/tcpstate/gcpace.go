package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The collector is paced by what the connection table does, unless GOGC or
// GOMEMLIMIT is set (the user's settings rule).
//
// While the table fills, nearly all that is allocated stays live: a
// collection frees little and marks the whole table again. At gcPercent a
// table growing to 90 MiB is marked about eight times; at growPercent about
// four. So the target is growPercent from the start, and gcPercent for good
// from the first collection that finds less than half of what was
// allocated since the one before still live: the table holds about steady,
// what is allocated now is mostly garbage, and gcPercent keeps the peak
// near what the connections need. (Going back to growPercent when the
// table grows again was tried: a 30-minute steady capture, whose table
// drifts up now and then, peaked 10-15% higher than its first 3 minutes.)
//
// gcFloor is heap allocated once and never written, which the collector
// counts as live while the table is small, so that a small table is not
// collected every few MiB. Never written, it is given no memory by the
// kernel: resident memory does not change. Once a collection finds more
// live heap than floorUntil besides it, the floor is let go: from there a
// quarter of the table is headroom enough, and a floor kept would let a
// long capture's heap grow 8 MiB further than a short one's before the
// collector ran.
const (
	growPercent = 50
	gcFloor     = 32 << 20
	floorUntil  = 32 << 20
)

// floor holds the gcFloor allocation until it is dropped.
var floor atomic.Pointer[[]byte]

// setPace allocates the floor, sets the growing table's target, and
// watches the live heap after every collection.
func setPace() {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if gogc || limit {
		return
	}
	b := make([]byte, gcFloor)
	floor.Store(&b)
	debug.SetGCPercent(growPercent)
	watch(pace{until: floorUntil, growing: true})
}

// pace is what the watch of the collections knows.
type pace struct {
	until   uint64 // live heap besides the floor past which it is dropped
	last    uint64 // live heap, the floor aside, at the last collection
	allocs  uint64 // bytes allocated before the last collection
	growing bool   // the target is still growPercent
}

// watch runs p.after after the next collection, which arms the next watch
// unless there is nothing left to do. The sentinel is an object nothing
// refers to, so the next collection frees it and runs its cleanup; each
// watch is armed by the one before, so they run one at a time.
func watch(p pace) {
	sentinel := new([32]byte)
	runtime.AddCleanup(sentinel, func(struct{}) {
		if p, more := p.after(heap()); more {
			watch(p)
		}
	}, struct{}{})
}

// after takes a collection that found live bytes live, with allocs bytes
// allocated since the program began, and reports what to watch from there
// and whether to go on.
func (p pace) after(live, allocs uint64) (pace, bool) {
	if floor.Load() != nil {
		live -= min(live, gcFloor)
		if live > p.until {
			floor.Store(nil)
			// The target of the cycle under way counted the floor: a
			// collection now sets it from the table alone (and arms no
			// watch: the next is armed after it).
			runtime.GC()
			live, allocs = heap()
		}
	}
	if p.growing && p.last != 0 && 2*(live-min(live, p.last)) < allocs-p.allocs {
		p.growing = false
		debug.SetGCPercent(gcPercent)
	}
	p.last, p.allocs = live, allocs
	return p, p.growing || floor.Load() != nil
}

// heap returns the heap the last collection found live, and the bytes
// allocated since the program began.
func heap() (live, allocs uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0, 0
	}
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}
