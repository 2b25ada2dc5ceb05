package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcTarget returns the collector's target percentage.
func gcTarget() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestPace: nothing is paced when GOGC or GOMEMLIMIT is set; the floor is
// dropped by the first collection that finds more live heap than the
// limit besides it (here 16 MiB above what the other tests of the package
// hold).
func TestPace(t *testing.T) {
	defer debug.SetGCPercent(gcTarget())
	defer floor.Store(nil)
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			floor.Store(nil)
			debug.SetGCPercent(77)
			setPace()
			if floor.Load() != nil {
				t.Errorf("%s is set, and a floor was allocated", env)
			}
			if p := gcTarget(); p != 77 {
				t.Errorf("%s is set, and the target was changed from 77 to %d", env, p)
			}
		})
	}
	runtime.GC()
	b := make([]byte, gcFloor)
	floor.Store(&b)
	live, _ := heap()
	watch(pace{until: live + 16<<20})
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if floor.Load() == nil {
		t.Fatal("the floor was dropped with little live heap besides it")
	}
	table := make([][]byte, 0, 64)
	for range 48 {
		table = append(table, make([]byte, 1<<20))
	}
	for deadline := time.Now().Add(10 * time.Second); floor.Load() != nil; {
		if time.Now().After(deadline) {
			t.Fatal("the floor is still there with 48 MiB more live besides it")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(table)
}

// TestPaceGrowth: the target stays growPercent while at least half of what
// was allocated between two collections stays live, and is gcPercent for
// good from the first collection where it does not.
func TestPaceGrowth(t *testing.T) {
	defer debug.SetGCPercent(gcTarget())
	floor.Store(nil)
	debug.SetGCPercent(growPercent)
	const mb = 1 << 20
	p := pace{growing: true}
	for i, c := range []struct {
		live, allocs uint64
		growing      bool
	}{
		{10 * mb, 12 * mb, true},  // the first: nothing to compare with
		{20 * mb, 22 * mb, true},  // all of it live
		{30 * mb, 42 * mb, true},  // half of it live
		{39 * mb, 62 * mb, false}, // less than half
		{80 * mb, 103 * mb, false},
	} {
		var more bool
		p, more = p.after(c.live, c.allocs)
		want := gcPercent
		if c.growing {
			want = growPercent
		}
		if p.growing != c.growing || more != c.growing || gcTarget() != want {
			t.Errorf("collection %d (live %d MiB, %d MiB allocated): growing %v, watch more %v, target %d; want %v, %v, %d",
				i+1, c.live/mb, c.allocs/mb, p.growing, more, gcTarget(), c.growing, c.growing, want)
		}
	}
}
