package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gcTarget returns the collector's target percentage.
func gcTarget() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// heapGoal returns the heap size at which the collector runs next.
func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// goalNow returns the heap goal with the live heap and what the collector
// scans that retarget worked it out from, once no collection has run since
// (one that did would count its own live heap with the percentage worked
// out from the one before).
func goalNow(t *testing.T) (goal, live, scan uint64) {
	t.Helper()
	for range 10 {
		pace.Lock()
		l, sc := pace.live, pace.scan
		pace.Unlock()
		goal = heapGoal()
		if live, scan = heapScan(); live == l && scan == sc {
			return goal, live, scan
		}
		collect(t)
	}
	t.Fatal("collections keep running before the heap goal can be read")
	return
}

// checkGoal fails t unless the heap goal is the live heap plus percent of
// what the collector scans (and of the floor, when it counts), give or
// take what the percentage's rounding loses.
func checkGoal(t *testing.T, what string, percent uint64, floor bool) {
	t.Helper()
	got, live, scan := goalNow(t)
	counted := scan
	if floor {
		counted += gcFloor
	}
	want := live + counted*percent/100
	if slack := scan/100 + 1<<10; got+slack < want || got > want+slack {
		t.Errorf("%s: heap goal %.1f MiB, want %.1f MiB (live %.1f MiB, %d%% of %.1f MiB)", what,
			mib(got), mib(want), mib(live), percent, mib(counted))
	}
}

// floorCounts reports whether the floor still counts.
func floorCounts() bool {
	pace.Lock()
	defer pace.Unlock()
	return pace.floor
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// collect runs a collection and waits for retarget to run after it.
func collect(t *testing.T) {
	t.Helper()
	pace.Lock()
	n := pace.retargets
	pace.Unlock()
	runtime.GC()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		pace.Lock()
		ran := pace.retargets != n
		pace.Unlock()
		if ran {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no retarget after a collection")
		}
	}
}

// startPace resets the pacing as setPace leaves it, with the floor
// counting up to until, after a collection (the live heap of an earlier
// test's would drop the floor); the returned function ends it.
func startPace(until uint64) func() {
	runtime.GC()
	saved := gcTarget()
	pace.Lock()
	pace.on, pace.settled, pace.quiet = true, false, false
	pace.floor, pace.floorUntil = true, until
	retarget()
	watch()
	pace.Unlock()
	return func() {
		pace.Lock()
		pace.on = false
		pace.Unlock()
		debug.SetGCPercent(saved)
	}
}

// TestPace: with GOGC or GOMEMLIMIT set, nothing is paced; otherwise the
// heap may grow by growPercent of what the collector scans and of the
// floor until settle, then by gcPercent, and a second settle changes
// nothing.
func TestPace(t *testing.T) {
	defer debug.SetGCPercent(gcTarget())
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			debug.SetGCPercent(77)
			setPace()
			settle()
			pace.Lock()
			on := pace.on
			pace.Unlock()
			if on {
				t.Errorf("%s is set, and tcpstate paces the collector", env)
			}
			if p := gcTarget(); p != 77 {
				t.Errorf("%s is set, and the target was changed from 77 to %d", env, p)
			}
		})
	}
	runtime.GC()
	setPace()
	defer func() {
		pace.Lock()
		pace.on = false
		pace.Unlock()
	}()
	// From the start: the first collection waits for the floor's share.
	pace.Lock()
	want := targetFor(pace.live, pace.scan, (pace.scan+gcFloor)*growPercent/100)
	pace.Unlock()
	if p := gcTarget(); p != want {
		t.Errorf("target %d after setPace, want %d", p, want)
	}
	checkGoal(t, "before settle", growPercent, true)
	collect(t)
	checkGoal(t, "after a collection", growPercent, true)
	settle()
	checkGoal(t, "after settle", gcPercent, false)
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
	for _, c := range []struct {
		timeWait string
		want     bool
	}{{"120s", false}, {"10s", true}} {
		stop := startPace(floorUntil)
		var out, errb bytes.Buffer
		if err := run([]string{"conns", "-q", "--time-wait", c.timeWait, "-r", "../../pcaps/time-wait-expiry.pcap"}, nil, &out, &errb); err != 0 {
			t.Fatalf("--time-wait %s: exit %d: %s", c.timeWait, err, errb.String())
		}
		pace.Lock()
		settled := pace.settled
		pace.Unlock()
		if settled != c.want {
			t.Errorf("--time-wait %s: settled %v after the capture, want %v", c.timeWait, settled, c.want)
		}
		stop()
	}
}

// TestFloor: the floor counts until a collection finds more live heap than
// floorUntil (here 16 MiB above what the other tests of the package hold),
// and no longer after that.
func TestFloor(t *testing.T) {
	runtime.GC()
	live, _ := heapScan()
	stop := startPace(live + 16<<20)
	defer stop()
	collect(t)
	if !floorCounts() {
		t.Fatal("the floor stopped counting with little live heap")
	}
	checkGoal(t, "little live heap", growPercent, true)
	table := make([][]byte, 0, 64)
	for range 48 {
		table = append(table, make([]byte, 1<<20))
	}
	collect(t)
	if floorCounts() {
		t.Fatal("the floor still counts with 48 MiB more live")
	}
	checkGoal(t, "48 MiB more live", growPercent, false)
	runtime.KeepAlive(table)
}

// TestGrowQuietly: after a collection, conns' text table and netstat
// leave quietHeadroom above the live heap (far more than growPercent of
// a test's small heap) until settle; conns --json and events keep
// growPercent; after settle it is gcPercent for every command.
func TestGrowQuietly(t *testing.T) {
	for _, c := range []struct {
		args  []string
		quiet bool
	}{
		{[]string{"conns"}, true},
		{[]string{"netstat"}, true},
		{[]string{"conns", "--json"}, false},
		{[]string{"events"}, false},
	} {
		stop := startPace(floorUntil)
		// A TIME_WAIT longer than the capture: it never settles by itself.
		args := append(c.args, "-q", "--time-wait", "1h", "-r", sample("kernel-states.pcap"))
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		collect(t)
		if got, live, _ := goalNow(t); c.quiet && got < live+quietHeadroom {
			t.Errorf("%v: heap goal %.1f MiB after a collection, want at least %.1f MiB above the live %.1f MiB", c.args, mib(got), mib(quietHeadroom), mib(live))
		} else if !c.quiet {
			checkGoal(t, c.args[len(c.args)-1], growPercent, true)
		}
		settle()
		collect(t)
		checkGoal(t, c.args[len(c.args)-1]+" after settle", gcPercent, false)
		stop()
	}
}
