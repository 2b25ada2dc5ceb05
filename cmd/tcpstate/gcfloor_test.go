package main

import (
	"runtime"
	"testing"
	"time"
)

// TestFloor: the floor is set unless GOGC or GOMEMLIMIT is, and dropped by
// the first collection that finds more live heap than the limit besides
// it (here 16 MiB above what the other tests of the package hold).
func TestFloor(t *testing.T) {
	defer floor.Store(nil)
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			floor.Store(nil)
			setFloor()
			if floor.Load() != nil {
				t.Fatalf("%s is set, and a floor was allocated", env)
			}
		})
	}
	runtime.GC()
	b := make([]byte, gcFloor)
	floor.Store(&b)
	watchFloor(liveHeap() + 16<<20)
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
