package main

import (
	"bytes"
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

// TestPace: with GOGC or GOMEMLIMIT set, nothing is paced; otherwise the
// target is growPercent until settle, then gcPercent for good.
func TestPace(t *testing.T) {
	defer debug.SetGCPercent(gcTarget())
	defer func() {
		floor.Store(nil)
		pace.on, pace.settled = false, false
	}()
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			floor.Store(nil)
			debug.SetGCPercent(77)
			setPace()
			settle()
			if floor.Load() != nil {
				t.Errorf("%s is set, and a floor was allocated", env)
			}
			if p := gcTarget(); p != 77 {
				t.Errorf("%s is set, and the target was changed from 77 to %d", env, p)
			}
		})
	}
	setPace()
	if p := gcTarget(); p != growPercent {
		t.Errorf("target %d before settle, want %d", p, growPercent)
	}
	settle()
	if p := gcTarget(); p != gcPercent {
		t.Errorf("target %d after settle, want %d", p, gcPercent)
	}
	debug.SetGCPercent(77)
	settle()
	if p := gcTarget(); p != 77 {
		t.Errorf("a second settle changed the target to %d", p)
	}
}

// TestSettleOnCaptureTime: the analysis settles the target once the
// capture's clock has passed TIME_WAIT from its first packet, and not
// before (time-wait-expiry.pcap spans 75 s).
func TestSettleOnCaptureTime(t *testing.T) {
	defer debug.SetGCPercent(gcTarget())
	defer func() { pace.on, pace.settled = false, false }()
	for _, c := range []struct {
		timeWait string
		want     int
	}{{"120s", growPercent}, {"10s", gcPercent}} {
		pace.Lock()
		pace.on, pace.settled = true, false
		pace.Unlock()
		debug.SetGCPercent(growPercent)
		var out, errb bytes.Buffer
		if err := run([]string{"conns", "-q", "--time-wait", c.timeWait, "-r", "../../pcaps/time-wait-expiry.pcap"}, nil, &out, &errb); err != 0 {
			t.Fatalf("--time-wait %s: exit %d: %s", c.timeWait, err, errb.String())
		}
		if p := gcTarget(); p != c.want {
			t.Errorf("--time-wait %s: target %d after the capture, want %d", c.timeWait, p, c.want)
		}
	}
}

// TestFloor: the floor is dropped by the first collection that finds more
// live heap than the limit besides it (here 16 MiB above what the other
// tests of the package hold).
func TestFloor(t *testing.T) {
	defer floor.Store(nil)
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

// TestGrowQuietly: after a collection, conns' text table and netstat
// leave quietHeadroom above the live heap (far more than growPercent of
// a test's small heap) until settle; conns --json and events keep
// growPercent; after settle the target stays gcPercent and the watch
// stops.
func TestGrowQuietly(t *testing.T) {
	defer debug.SetGCPercent(gcTarget())
	defer func() {
		pace.Lock()
		pace.on, pace.settled = false, false
		pace.Unlock()
	}()
	// afterGC collects and gives the cleanups that follow time to run.
	afterGC := func() {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct {
		args  []string
		quiet bool
	}{
		{[]string{"conns"}, true},
		{[]string{"netstat"}, true},
		{[]string{"conns", "--json"}, false},
		{[]string{"events"}, false},
	} {
		pace.Lock()
		pace.on, pace.settled = true, false
		pace.Unlock()
		debug.SetGCPercent(growPercent)
		// A TIME_WAIT longer than the capture: it never settles by itself.
		args := append(c.args, "-q", "--time-wait", "1h", "-r", sample("kernel-states.pcap"))
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		afterGC()
		got := gcTarget()
		switch {
		case c.quiet && got < 2*growPercent:
			t.Errorf("%v: target %d after a collection, want the headroom's (well over %d)", c.args, got, growPercent)
		case !c.quiet && got != growPercent:
			t.Errorf("%v: target %d after a collection, want %d", c.args, got, growPercent)
		}
		settle()
		afterGC()
		if got := gcTarget(); got != gcPercent {
			t.Errorf("%v: target %d after settle and a collection, want %d", c.args, got, gcPercent)
		}
		pace.Lock()
		watching := pace.quiet
		pace.Unlock()
		if watching {
			t.Errorf("%v: still watching the collections after settle", c.args)
		}
	}
}
