package fsm

import (
	"math"
	"time"
)

// A Machine keeps its times as int64 nanoseconds since its epoch, the Unix
// second of the first time it was given, rather than as time.Time: 8 bytes
// and no pointer for the garbage collector to follow, instead of 24 bytes
// with a *time.Location. The int64 spans 292 years either side of the
// epoch, more than any connection lasts, so the times of a capture come back
// exactly (in UTC); a time further from the epoch (a damaged timestamp)
// saturates, which keeps the order of times but not their value.

// maxEpochSeconds is the largest distance from the epoch, in seconds, whose
// nanoseconds (plus a fraction of a second) still fit in an int64.
const maxEpochSeconds = math.MaxInt64/int64(time.Second) - 1

// since returns t as nanoseconds since the Unix second epoch, saturated.
func since(epoch int64, t time.Time) int64 {
	sec := t.Unix()
	d := sec - epoch
	// Out of range: the subtraction overflowed (the operands have different
	// signs and the result has the sign of epoch), or d is too far.
	if (sec^epoch)&(d^sec) < 0 || uint64(d+maxEpochSeconds) > uint64(2*maxEpochSeconds) {
		return saturated(sec, epoch)
	}
	return d*int64(time.Second) + int64(t.Nanosecond())
}

// saturated is the int64 end on the side of sec from epoch.
func saturated(sec, epoch int64) int64 {
	if sec > epoch {
		return math.MaxInt64
	}
	return math.MinInt64
}

// addNanos returns a+b, saturated to the int64 range.
func addNanos(a int64, b time.Duration) int64 {
	s := a + int64(b)
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// stamp turns t into the machine's nanoseconds, fixing the epoch if this
// is the first time the machine is given.
func (m *Machine) stamp(t time.Time) int64 {
	if !m.hasEpoch {
		m.epoch, m.hasEpoch = t.Unix(), true
	}
	return since(m.epoch, t)
}

// timeOf turns the machine's nanoseconds back into a time, in UTC.
func (m *Machine) timeOf(ns int64) time.Time {
	return time.Unix(m.epoch, ns).UTC()
}
